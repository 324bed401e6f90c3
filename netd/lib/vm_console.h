/* A person or a script at a VM's serial console, through its socket. */
#ifndef PLAYNET_VM_CONSOLE_H
#define PLAYNET_VM_CONSOLE_H

/* Relays between the terminal (or pipe) and the console socket at path.
 * On a terminal: raw mode, Ctrl-] leaves. From a pipe: what it gives is
 * sent, and after its end the console's answers are copied for linger_ms
 * more of quiet. -errno when the socket cannot be reached. */
int vm_console_attach(const char *path, unsigned linger_ms);

#endif
