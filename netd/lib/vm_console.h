/* A person or a script at a VM's serial console, through its socket. */
#ifndef PLAYNET_VM_CONSOLE_H
#define PLAYNET_VM_CONSOLE_H

#include "diag.h"

/* Relays between the terminal (or pipe) and the console socket at path.
 * On a terminal: raw mode, Ctrl-] leaves, and how the session ended is
 * said. From a pipe: what it gives is sent, and after its end the
 * console's answers are copied for linger_ms more of quiet. -errno when
 * the socket cannot be reached. */
int vm_console_attach(const char *path, unsigned linger_ms);

/* How long a piped console waits for more answers after its input ends. */
#define VM_CONSOLE_LINGER_MS 1000

/* The console of machine m of playground pg in state_dir, one session at a
 * time: -ENOENT when no VM of that name runs, -EBUSY with d while another
 * session has it, -EINVAL with d for names too long for a socket. */
int vm_console_machine(const char *state_dir, const char *pg, const char *m,
		       struct diag *d);

#endif
