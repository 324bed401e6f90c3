/*
 * What a VM is told at boot beyond its kernel command line, without
 * writing into the base it shares with others: a small config disk of its
 * own (a tar archive, read-only, serial pncfg, the last disk) that the
 * toolkit guest's init reads and applies to the machine's root. It holds
 * the playground's SSH public key for root and for the manifest's default
 * user (made in the guest when missing), and the VM's own SSH host key;
 * STATE/vm/P/M.login says whom ssh logs in as.
 *
 * Keys: one client key pair per state dir (STATE/ssh/id_ed25519, made on
 * first use, mode 0600) and one host key per VM (STATE/vm/P/M.hostkey,
 * made at its first start, kept across restarts), recorded in
 * STATE/vm/P/known_hosts under the alias M.P, so ssh never asks to trust
 * a key.
 */
#ifndef PLAYNET_VM_CONFIG_H
#define PLAYNET_VM_CONFIG_H

#include <stddef.h>

#include "vm.h"

/* The state dir's client key pair, made when missing. 0 or -errno with
 * why. */
int vm_config_client_key(const char *ssh_key, char *why, size_t why_len);

/* The host key of s, its known_hosts line and its config disk, made
 * (the disk anew each start). 0 or -errno with why. */
int vm_config_make(const struct vm_spec *s, char *why, size_t why_len);

#define VM_CONFIG_ALIAS_MAX (MANIFEST_HOSTNAME_MAX + NAMING_PLAYGROUND_MAX + 2)

/* "M.P": the name ssh knows VM m of playground pg by. */
void vm_config_alias(const char *pg, const char *m, char *out, size_t len);

#endif
