/*
 * A VM machine of a playground as its VMM is to be given it: kernel,
 * initramfs, disks, CPUs, memory, kernel command line, taps with their MACs,
 * and the files it keeps in the state dir (console socket and log, control
 * socket, status). Built from the plan alone, so the same playground gives
 * the same VM; vm_backend.h turns it into a command line or config file and
 * vm_run.h runs it.
 */
#ifndef PLAYNET_VM_H
#define PLAYNET_VM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/un.h>

#include "diag.h"
#include "plan.h"

#define VM_SOCK_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define VM_CMDLINE_MAX 2048 /* x86's COMMAND_LINE_SIZE */
#define VM_DEFAULT_CPUS 1
#define VM_DEFAULT_MEM_MIB 256
#define VM_APPEND_MAX 64

enum vm_backend { VM_QEMU, VM_FIRECRACKER, VM_CLOUD_HYPERVISOR };
enum vm_accel { VM_ACCEL_AUTO, VM_ACCEL_KVM, VM_ACCEL_TCG };

struct vm_options {
	enum vm_backend backend;
	enum vm_accel accel;
	const char *guest_dir; /* the default guest: vmlinuz and initrd.img */
	/* Where a manifest's drive sources may be: directories, ':' between
	 * them (a manifest comes from any API client; its drives are host
	 * files a guest reads, or writes). */
	const char *drive_dirs;
	bool drive_devices;    /* block and character devices allowed there */
	const char *vmm;       /* the VMM's program; NULL: the backend's usual name */
	const char *image_dir; /* the image cache (image.h) */
	FILE *progress;        /* where image builds and pulls are told; NULL: nowhere */
	const char *append[VM_APPEND_MAX]; /* "MACHINE=WORDS": more kernel command line */
	size_t n_append;
	char guest_buf[PATH_MAX];
};

#define VM_DRIVE_DIRS_DEFAULT "/var/lib/playnet"
#define VM_MAX_DISKS 16

/* Defaults from the environment: PLAYNET_VM_BACKEND, PLAYNET_VM_ACCEL,
 * PLAYNET_VM_VMM, PLAYNET_DRIVE_DIRS (else VM_DRIVE_DIRS_DEFAULT),
 * PLAYNET_IMAGE_DIR (else IMAGE_DIR_DEFAULT),
 * PLAYNET_DRIVE_DEVICES=1 and PLAYNET_GUEST_DIR (else build/guest beside
 * the program: ../guest from its directory). -EINVAL with d for a bad
 * value. */
int vm_options_init(struct vm_options *o, struct diag *d);

/* One command-line option: --backend, --accel, --guest, --vmm,
 * --drive-dirs, --image-dir or --append (value kept by pointer). 0 when taken, -ENOENT when opt is none
 * of these, -EINVAL with d for a bad value. */
int vm_options_set(struct vm_options *o, const char *opt, const char *value, struct diag *d);

struct vm_paths {
	char dir[PATH_MAX];          /* STATE/vm/P */
	char console[VM_SOCK_MAX];   /* serial console, a unix socket */
	char api[VM_SOCK_MAX];       /* QMP, or the VMM's HTTP API */
	char agent[VM_SOCK_MAX];     /* streams to the agent (vm_agent.h) */
	char vport[VM_SOCK_MAX];     /* QEMU: the agent's virtio-serial port */
	char log[PATH_MAX];          /* everything the serial console printed */
	char vmm_log[PATH_MAX];      /* the VMM's own stdout and stderr */
	char status[PATH_MAX];       /* STATE/vm/P/M.status */
	char config[PATH_MAX];       /* Firecracker's config file */
	char config_disk[PATH_MAX];  /* STATE/vm/P/M.config.tar (vm_config.h) */
	char host_key[PATH_MAX];     /* STATE/vm/P/M.hostkey, its SSH host key */
	char known_hosts[PATH_MAX];  /* STATE/vm/P/known_hosts */
	char ssh_key[PATH_MAX];      /* STATE/ssh/id_ed25519, the client's */
	char login[PATH_MAX];        /* STATE/vm/P/M.login: whom ssh logs in as */
};

/* A disk of a VM: its own file, which the VM writes, made at its first
 * start (vm_disk.h) and removed with the playground's VM files. A clone
 * of a base (a local disk image, or a catalog or oci:// image from the
 * cache) is a qcow2 overlay on it under QEMU, a copy (reflinked where the
 * file system can) under Firecracker and Cloud Hypervisor; a blank disk
 * is a sparse file, formatted when it has a file system. The guest finds
 * disk i by its serial pnI, else as the i-th virtio disk. */
struct vm_disk {
	const struct manifest_drive *drive;
	size_t drive_index;
	bool blank;
	bool image;            /* base is a catalog or oci:// image */
	bool qcow2;            /* path is an overlay on base */
	char base[PATH_MAX];   /* the clone's base; images' once resolved */
	char path[PATH_MAX];   /* STATE/vm/P/M.dI.qcow2 or .raw */
};

struct vm_spec {
	char playground[NAMING_PLAYGROUND_MAX + 1];
	char machine[MANIFEST_HOSTNAME_MAX + 1];
	char netns[NAMING_NETNS_MAX];
	enum vm_backend backend;
	enum vm_accel accel;  /* AUTO until vm_run resolves it */
	unsigned cpus;
	uint64_t mem_mib;
	const char *kernel;   /* into the plan's drives or guest below */
	const char *initrd;   /* NULL: none */
	struct vm_disk *disks;
	size_t n_disks;
	int root_disk;        /* index in disks of the root (mount: /), -1: none */
	bool default_guest;
	bool default_initrd;  /* the guest's init: it mounts and grows disks,
			       * and starts the agent (agent_proto.h) */
	const char *extra;    /* the user's words for the command line */
	unsigned tsc_khz;     /* told to a TCG guest, 0: not */
	char cmdline[VM_CMDLINE_MAX];
	const struct plan_machine *m;
	struct vm_paths paths;
	char guest_kernel[PATH_MAX];
	char guest_initrd[PATH_MAX];
};

/* The spec of machine index mi of p. Drives of kind auto are told apart by
 * their first bytes (so the files are read); -EINVAL with d for what cannot
 * be booted (an unknown image, two kernels, a missing file, a mount the
 * guest cannot make, a command line too long, a path too long for a
 * socket). Images are named, not fetched: vm_spec_images does that. */
int vm_spec_build(const char *state_dir, const struct plan *p, size_t mi,
		  const struct vm_options *o, struct vm_spec *s, struct diag *d);
void vm_spec_free(struct vm_spec *s);

/* Builds or pulls the spec's catalog and oci:// images (progress to
 * o->progress) and checks each clone's size against its base. */
int vm_spec_images(struct vm_spec *s, const struct vm_options *o, struct diag *d);

/* Resolves the accelerator. Under TCG the guest is told the TSC's
 * frequency (tsc_khz, 0 for none): on a busy host its own calibration
 * against the emulated PIT fails and the kernel hangs at boot. */
int vm_spec_set_accel(struct vm_spec *s, enum vm_accel accel, unsigned tsc_khz);

/* The files of machine m of playground pg; -EINVAL with d when a path
 * would be too long (a socket's is short). */
int vm_paths_for(const char *state_dir, const char *pg, const char *m,
		 struct vm_paths *pa, struct diag *d);

/* STATE/vm/P: where a playground's VMs keep their files. */
int vm_dir(const char *state_dir, const char *playground, char out[PATH_MAX]);

const char *vm_backend_name(enum vm_backend b);
bool vm_backend_parse(const char *s, enum vm_backend *b);
const char *vm_accel_name(enum vm_accel a);
bool vm_accel_parse(const char *s, enum vm_accel *a);

/* What a VM is doing, as its status file and the kernel tell it. */
/* A stop asked for is a marker file beside the status (M.status.stop), not
 * a state: the supervisor alone writes the status while the VMM runs. */
enum vm_state { VM_RUNNING, VM_STOPPED, VM_CRASHED };

struct vm_status {
	enum vm_state state;
	enum vm_backend backend;
	enum vm_accel accel;
	pid_t pid;                 /* the VMM */
	unsigned long long start;  /* its start time, against pid reuse */
	pid_t supervisor;
	char reason[128];          /* how it ended: "exit status 1", "killed by signal 9" */
};

const char *vm_state_name(enum vm_state s);

/* The VMM may still be there (also while a stop is under way). */
static inline bool vm_state_live(enum vm_state s)
{
	return s == VM_RUNNING;
}

/* Writes the status file atomically. */
int vm_status_write(const char *path, const struct vm_status *st);
/* Reads it; a running VM whose process is gone reads as crashed.
 * -ENOENT when there is none. */
int vm_status_read(const char *path, struct vm_status *st);

/* The process's start time (field 22 of /proc/PID/stat), 0 when gone. */
unsigned long long vm_proc_start(pid_t pid);

#endif
