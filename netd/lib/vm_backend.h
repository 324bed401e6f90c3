/*
 * What each VMM is given for a VM spec: QEMU's and Cloud Hypervisor's
 * command lines, Firecracker's command line and config file. Pure: no file
 * is read or written, so tests compare them with golden files.
 */
#ifndef PLAYNET_VM_BACKEND_H
#define PLAYNET_VM_BACKEND_H

#include "vm.h"

/* The guest's vsock address under Firecracker and Cloud Hypervisor (each
 * VM's vsock is its own device: the same number in every VM). */
#define VM_GUEST_CID 3

/* A NULL-terminated argv whose strings it owns. */
struct vm_argv {
	char **v;
	size_t n, cap;
};

/* The VMM's program: vmm, or the backend's usual name. */
const char *vm_backend_program(enum vm_backend b, const char *vmm);

/* The VMM's command line; vmm is the program (argv[0]), NULL for the
 * backend's usual name. -ENOMEM, or -EINVAL for an unresolved accel. */
int vm_backend_argv(const struct vm_spec *s, const char *vmm, struct vm_argv *a);
void vm_argv_free(struct vm_argv *a);

/* Firecracker's --config-file, as text (the caller frees it). */
int vm_backend_firecracker_config(const struct vm_spec *s, char **out);

#endif
