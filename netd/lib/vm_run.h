/*
 * Runs the VMs of a playground: each VMM inside the playground's namespace
 * under a small supervisor that records how it ended, stopped gracefully
 * (QMP system_powerdown, or the VMM's API) and then by force.
 */
#ifndef PLAYNET_VM_RUN_H
#define PLAYNET_VM_RUN_H

#include <stdio.h>

#include "diag.h"
#include "plan.h"
#include "vm.h"

/* Starts every VM machine of p not already running (only those named in
 * only[], when n_only > 0). Everything is checked before anything starts;
 * when one VM fails to start, those this call started are stopped again.
 * Says one line per VM on out (NULL: nothing). The number started. */
int vm_start(const char *state_dir, const struct plan *p, const struct vm_options *o,
	     const char *const *only, size_t n_only, FILE *out, struct diag *d);

/* What vm_start checks before it starts anything, for a playground that is
 * not up yet: drives, the default guest, the VMM's program. */
int vm_check(const char *state_dir, const struct plan *p, const struct vm_options *o,
	     struct diag *d);

/* Stops the playground's running VMs: the power button, up to grace_ms for
 * the guests to power off, then SIGTERM and SIGKILL. The number stopped. */
int vm_stop(const char *state_dir, const char *playground, unsigned grace_ms, FILE *out);

/* Tells machine's guest that its interface iface (eth<iface>) has lost or
 * found its carrier: QEMU's set_link. 0 when it is not running (vm_start
 * tells it) or runs under a VMM that has no such call (Firecracker, Cloud
 * Hypervisor: the tap alone goes down). */
int vm_link(const char *state_dir, const char *pg, const char *machine, size_t iface, bool up);

/* Restarts machine: its VMM stopped at once (the power cord, not the
 * button) and started again on the same taps, which keep their MACs,
 * addresses, impairments and links; the VM's disk stays. */
int vm_restart(const char *state_dir, const struct plan *p, const struct vm_options *o,
	       const char *machine, FILE *out, struct diag *d);

/* Stops what still runs at once and removes STATE/vm/P. */
int vm_remove(const char *state_dir, const char *playground);

/* Calls fn for each VM with a status file, in name order. */
int vm_each(const char *state_dir, const char *playground,
	    int (*fn)(const char *machine, const struct vm_status *st, void *arg), void *arg);

/* KVM if a short test boot of kernel under KVM gets as far as the kernel's
 * panic for lack of an init; else TCG. Remembered per kernel in the state
 * dir. */
enum vm_accel vm_accel_detect(const char *state_dir, const char *qemu, const char *kernel);

/* The spec's accelerator made definite: detected when auto, with what a
 * TCG guest must be told. */
int vm_resolve_accel(const char *state_dir, const char *vmm, struct vm_spec *s);

#endif
