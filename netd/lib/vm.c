/* A VM's spec from the plan, its files in the state dir, its status file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "util.h"
#include "vm.h"

static const char *const backend_names[] = {
	[VM_QEMU] = "qemu",
	[VM_FIRECRACKER] = "firecracker",
	[VM_CLOUD_HYPERVISOR] = "cloud-hypervisor",
};
static const char *const accel_names[] = {
	[VM_ACCEL_AUTO] = "auto",
	[VM_ACCEL_KVM] = "kvm",
	[VM_ACCEL_TCG] = "tcg",
};
static const char *const state_names[] = {
	[VM_RUNNING] = "running",
	[VM_STOPPED] = "stopped",
	[VM_CRASHED] = "crashed",
};

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *vm_backend_name(enum vm_backend b)
{
	return backend_names[b];
}

bool vm_backend_parse(const char *s, enum vm_backend *b)
{
	int i = name_index(backend_names, ARRAY_SIZE(backend_names), s);
	if (i < 0)
		return false;
	*b = (enum vm_backend)i;
	return true;
}

const char *vm_accel_name(enum vm_accel a)
{
	return accel_names[a];
}

bool vm_accel_parse(const char *s, enum vm_accel *a)
{
	int i = name_index(accel_names, ARRAY_SIZE(accel_names), s);
	if (i < 0)
		return false;
	*a = (enum vm_accel)i;
	return true;
}

const char *vm_state_name(enum vm_state s)
{
	return state_names[s];
}

static bool pathf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

int vm_options_set(struct vm_options *o, const char *opt, const char *value, struct diag *d)
{
	if (strcmp(opt, "--backend") == 0) {
		if (vm_backend_parse(value, &o->backend))
			return 0;
		diag_add(d, 0, 0, "--backend: expected qemu, firecracker or cloud-hypervisor, got '%s'", value);
		return -EINVAL;
	}
	if (strcmp(opt, "--accel") == 0) {
		if (vm_accel_parse(value, &o->accel))
			return 0;
		diag_add(d, 0, 0, "--accel: expected auto, kvm or tcg, got '%s'", value);
		return -EINVAL;
	}
	if (strcmp(opt, "--guest") == 0) {
		o->guest_dir = value;
		return 0;
	}
	if (strcmp(opt, "--vmm") == 0) {
		o->vmm = value;
		return 0;
	}
	if (strcmp(opt, "--drive-dirs") == 0) {
		o->drive_dirs = value;
		return 0;
	}
	if (strcmp(opt, "--image-dir") == 0) {
		o->image_dir = value;
		return 0;
	}
	if (strcmp(opt, "--append") != 0)
		return -ENOENT;
	const char *eq = strchr(value, '=');
	if (!eq || eq == value) {
		diag_add(d, 0, 0, "--append: expected MACHINE=WORDS, got '%s'", value);
		return -EINVAL;
	}
	if (o->n_append == VM_APPEND_MAX) {
		diag_add(d, 0, 0, "--append: at most %d", VM_APPEND_MAX);
		return -EINVAL;
	}
	o->append[o->n_append++] = value;
	return 0;
}

int vm_options_init(struct vm_options *o, struct diag *d)
{
	memset(o, 0, sizeof(*o));
	const char *v;
	int e = 0;
	if ((v = getenv("PLAYNET_VM_BACKEND")) && *v)
		e = vm_options_set(o, "--backend", v, d);
	if (!e && (v = getenv("PLAYNET_VM_ACCEL")) && *v)
		e = vm_options_set(o, "--accel", v, d);
	if ((v = getenv("PLAYNET_VM_VMM")) && *v)
		o->vmm = v;
	o->drive_dirs = VM_DRIVE_DIRS_DEFAULT;
	if ((v = getenv("PLAYNET_DRIVE_DIRS")) && *v)
		o->drive_dirs = v;
	o->image_dir = IMAGE_DIR_DEFAULT;
	o->progress = stderr;
	if ((v = getenv("PLAYNET_IMAGE_DIR")) && *v)
		o->image_dir = v;
	if ((v = getenv("PLAYNET_DRIVE_DEVICES")) && *v) {
		if (strcmp(v, "0") && strcmp(v, "1")) {
			diag_add(d, 0, 0, "PLAYNET_DRIVE_DEVICES: expected 0 or 1, got '%s'", v);
			e = -EINVAL;
		}
		o->drive_devices = strcmp(v, "1") == 0;
	}
	if ((v = getenv("PLAYNET_GUEST_DIR")) && *v) {
		o->guest_dir = v;
		return e;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (pathf(o->guest_buf, sizeof(o->guest_buf), "%s/../guest", exe))
				o->guest_dir = o->guest_buf;
		}
	}
	return e;
}

int vm_dir(const char *state_dir, const char *playground, char out[PATH_MAX])
{
	int n = snprintf(out, PATH_MAX, "%s/vm/%s", state_dir, playground);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

int vm_paths_for(const char *state_dir, const char *pg, const char *m,
		 struct vm_paths *pa, struct diag *d)
{
	if (vm_dir(state_dir, pg, pa->dir) < 0) {
		diag_add(d, 0, 0, "state dir path too long: %s", state_dir);
		return -EINVAL;
	}
	/* Sockets have a short limit of their own, checked apart. */
	if (!pathf(pa->console, sizeof(pa->console), "%s/%s.console", pa->dir, m) ||
	    !pathf(pa->api, sizeof(pa->api), "%s/%s.api", pa->dir, m) ||
	    !pathf(pa->agent, sizeof(pa->agent), "%s/%s.agent", pa->dir, m) ||
	    !pathf(pa->vport, sizeof(pa->vport), "%s/%s.vport", pa->dir, m)) {
		diag_add(d, 0, 0,
			 "machine %s: its console socket %s/%s.console would be longer than a unix socket path may be (%zu bytes): use a shorter --state-dir",
			 m, pa->dir, m, VM_SOCK_MAX - 1);
		return -EINVAL;
	}
	if (!pathf(pa->log, sizeof(pa->log), "%s/%s.log", pa->dir, m) ||
	    !pathf(pa->vmm_log, sizeof(pa->vmm_log), "%s/%s.vmm.log", pa->dir, m) ||
	    !pathf(pa->status, sizeof(pa->status), "%s/%s.status", pa->dir, m) ||
	    !pathf(pa->config, sizeof(pa->config), "%s/%s.firecracker.json", pa->dir, m) ||
	    !pathf(pa->config_disk, sizeof(pa->config_disk), "%s/%s.config.tar", pa->dir, m) ||
	    !pathf(pa->host_key, sizeof(pa->host_key), "%s/%s.hostkey", pa->dir, m) ||
	    !pathf(pa->known_hosts, sizeof(pa->known_hosts), "%s/known_hosts", pa->dir) ||
	    !pathf(pa->ssh_key, sizeof(pa->ssh_key), "%s/ssh/id_ed25519", state_dir) ||
	    !pathf(pa->login, sizeof(pa->login), "%s/%s.login", pa->dir, m)) {
		diag_add(d, 0, 0, "state dir path too long: %s", state_dir);
		return -EINVAL;
	}
	return 0;
}

/* Tells a kernel, an initramfs and a disk image apart by their first bytes:
 * a bzImage has "HdrS" at 0x202, a vmlinux is ELF, an initramfs is a cpio
 * archive, raw or compressed. Anything else is a disk. */
static enum manifest_drive_kind sniff(const unsigned char *b, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
	} initrd[] = {
		{ "\x1f\x8b", 2 },              /* gzip */
		{ "\x28\xb5\x2f\xfd", 4 },      /* zstd */
		{ "\xfd" "7zXZ", 5 },           /* xz */
		{ "\x02\x21\x4c\x18", 4 },      /* lz4 */
		{ "\x5d\x00\x00", 3 },          /* lzma */
		{ "070701", 6 },                /* cpio newc */
		{ "070702", 6 },
		{ "BZh", 3 },
	};
	if (n >= 0x206 && memcmp(b + 0x202, "HdrS", 4) == 0)
		return MANIFEST_DRIVE_KERNEL;
	if (n >= 4 && memcmp(b, "\x7f" "ELF", 4) == 0)
		return MANIFEST_DRIVE_KERNEL;
	for (size_t i = 0; i < ARRAY_SIZE(initrd); i++)
		if (n >= initrd[i].len && memcmp(b, initrd[i].magic, initrd[i].len) == 0)
			return MANIFEST_DRIVE_INITRD;
	return MANIFEST_DRIVE_DISK;
}

/* Whether path lies in one of dirs (':' between them), each taken as
 * its real path. */
static bool under_dirs(const char *path, const char *dirs)
{
	while (dirs && *dirs) {
		size_t n = strcspn(dirs, ":");
		char dir[PATH_MAX], real[PATH_MAX];
		if (n < sizeof(dir)) {
			memcpy(dir, dirs, n);
			dir[n] = '\0';
			size_t rn;
			if (realpath(dir, real) && (rn = strlen(real)) > 0 &&
			    strncmp(path, real, rn) == 0 &&
			    (path[rn] == '/' || (rn == 1 && real[0] == '/')))
				return true;
		}
		dirs += n + (dirs[n] == ':');
	}
	return false;
}

/* A manifest's drive is a host file that its guest reads or writes: it
 * must be where the operator keeps them, named as it is (no link, no
 * '..', so that what is checked is what the VMM opens), and a device only
 * where the operator allows them. */
static int drive_confined(const struct manifest_drive *dr, const char *machine, size_t idx,
			  const struct vm_options *o, struct diag *d)
{
	char real[PATH_MAX];
	struct stat st;
	const char *why = NULL;
	if (dr->source[0] != '/')
		why = "give an absolute path";
	else if (!realpath(dr->source, real) || stat(real, &st) < 0)
		why = strerror(errno);
	else if (strcmp(real, dr->source) != 0)
		why = "name it as it is, without links or '..'";
	else if (!under_dirs(real, o->drive_dirs))
		why = "it is outside the drive directories";
	else if ((S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) && !o->drive_devices)
		why = "it is a device, and PLAYNET_DRIVE_DEVICES=1 is not set";
	else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
		why = "it is not a file";
	if (!why)
		return 0;
	diag_add(d, dr->source_pos.line, dr->source_pos.column,
		 "machine %s: drives[%zu].source '%s': %s (drive directories: %s)", machine, idx,
		 dr->source, why, o->drive_dirs ? o->drive_dirs : "none");
	return -EPERM;
}

static int drive_kind(const struct manifest_drive *dr, const char *machine,
		      size_t idx, enum manifest_drive_kind *kind, struct diag *d)
{
	*kind = dr->kind;
	if (*kind != MANIFEST_DRIVE_AUTO)
		return 0;
	cleanup_close int fd = open(dr->source, O_RDONLY | O_CLOEXEC);
	unsigned char head[0x206];
	ssize_t n = fd < 0 ? -1 : read(fd, head, sizeof(head));
	if (n < 0) {
		diag_add(d, dr->source_pos.line, dr->source_pos.column,
			 "machine %s: drives[%zu].source '%s': cannot read: %s",
			 machine, idx, dr->source, strerror(errno));
		return -EINVAL;
	}
	*kind = sniff(head, (size_t)n);
	return 0;
}

static int drive_err(const struct manifest_drive *dr, struct manifest_pos pos, const char *machine,
		     size_t idx, struct diag *d, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int drive_err(const struct manifest_drive *dr, struct manifest_pos pos, const char *machine,
		     size_t idx, struct diag *d, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!pos.line)
		pos = dr->pos;
	diag_add(d, pos.line, pos.column, "machine %s: drives[%zu]%s%s%s: %s", machine, idx,
		 dr->source ? ".source '" : "", dr->source ? dr->source : "",
		 dr->source ? "'" : "", msg);
	return -EINVAL;
}

/* A kernel or an initramfs goes to its slot, once. */
static int take_boot_file(struct vm_spec *s, const struct manifest_drive *dr, size_t i,
			  enum manifest_drive_kind k, struct diag *d)
{
	const char **slot = k == MANIFEST_DRIVE_KERNEL ? &s->kernel : &s->initrd;
	if (dr->mount[0] || dr->size)
		return drive_err(dr, dr->mount[0] ? dr->mount_pos : dr->size_pos, s->machine, i, d,
				 "a %s is not a disk: it has no mount or size",
				 manifest_drive_kind_name(k));
	if (*slot)
		return drive_err(dr, dr->source_pos, s->machine, i, d, "a second %s (the first is '%s')",
				 manifest_drive_kind_name(k), *slot);
	*slot = dr->source;
	return 0;
}

/* A local file: a kernel, an initramfs or a disk image, where the
 * operator keeps them. */
static int take_file(struct vm_spec *s, const struct manifest_drive *dr, size_t i,
		     const struct vm_options *o, struct vm_disk *dk, bool *is_disk, struct diag *d)
{
	enum manifest_drive_kind k;
	int e = drive_kind(dr, s->machine, i, &k, d);
	if (!e)
		e = drive_confined(dr, s->machine, i, o, d);
	if (!e && s->backend == VM_CLOUD_HYPERVISOR && strchr(dr->source, ','))
		e = drive_err(dr, dr->source_pos, s->machine, i, d,
			      "Cloud Hypervisor takes no ',' in a path");
	if (e)
		return e;
	*is_disk = k == MANIFEST_DRIVE_DISK;
	if (!*is_disk)
		return take_boot_file(s, dr, i, k, d);
	snprintf(dk->base, sizeof(dk->base), "%s", dr->source);
	return 0;
}

static int take_drive(struct vm_spec *s, size_t i, const struct vm_options *o, struct diag *d)
{
	const struct manifest_drive *dr = &s->m->drives[i];
	struct vm_disk *dk = &s->disks[s->n_disks];
	char why[IMAGE_WHY_MAX];
	bool is_disk = true;
	memset(dk, 0, sizeof(*dk));
	dk->drive = dr;
	dk->drive_index = i;
	if (!dr->source) {
		dk->blank = true;
		if (dr->filesystem == MANIFEST_FS_XFS && dr->size < (300ULL << 20))
			return drive_err(dr, dr->size_pos, s->machine, i, d,
					 "an xfs file system needs at least 300MiB");
	} else {
		switch (image_source_of(dr->source)) {
		case IMAGE_SOURCE_FILE: {
			int e = take_file(s, dr, i, o, dk, &is_disk, d);
			if (e || !is_disk)
				return e;
			break;
		}
		case IMAGE_SOURCE_CATALOG:
		case IMAGE_SOURCE_OCI:
			if (image_check(dr->source, why, sizeof(why)) < 0)
				return drive_err(dr, dr->source_pos, s->machine, i, d, "%s", why);
			if (dr->mount[0] && strcmp(dr->mount, "/") != 0)
				return drive_err(dr, dr->mount_pos, s->machine, i, d,
						 "an image is the machine's root: mount it at /, not %s",
						 dr->mount);
			dk->image = true;
			break;
		case IMAGE_SOURCE_OTHER:
			return drive_err(dr, dr->source_pos, s->machine, i, d,
					 "expected an absolute path, a catalog image (%s) or oci://REGISTRY/REPOSITORY[:TAG]",
					 image_catalog_names());
		}
	}
	if (s->n_disks == VM_MAX_DISKS)
		return drive_err(dr, dr->pos, s->machine, i, d, "at most %d disks", VM_MAX_DISKS);
	if (dk->image || strcmp(dr->mount, "/") == 0) {
		if (s->root_disk >= 0)
			return drive_err(dr, dr->mount[0] ? dr->mount_pos : dr->source_pos, s->machine, i, d,
					 "a second root (drives[%zu] is the root)",
					 s->disks[s->root_disk].drive_index);
		s->root_disk = (int)s->n_disks;
	}
	for (size_t j = 0; dr->mount[0] && j < s->n_disks; j++)
		if (strcmp(s->disks[j].drive->mount, dr->mount) == 0)
			return drive_err(dr, dr->mount_pos, s->machine, i, d, "drives[%zu] is mounted at %s too",
					 s->disks[j].drive_index, dr->mount);
	dk->qcow2 = !dk->blank && s->backend == VM_QEMU;
	s->n_disks++;
	return 0;
}

/* The root goes first, so that the guest (and a kernel booting it without
 * an initramfs) finds it as the first disk. */
static void root_first(struct vm_spec *s)
{
	if (s->root_disk <= 0)
		return;
	struct vm_disk root = s->disks[s->root_disk];
	memmove(&s->disks[1], &s->disks[0], (size_t)s->root_disk * sizeof(*s->disks));
	s->disks[0] = root;
	s->root_disk = 0;
}

static int take_drives(struct vm_spec *s, const struct vm_options *o, struct diag *d)
{
	const struct plan_machine *m = s->m;
	s->root_disk = -1;
	s->disks = calloc(m->n_drives ? m->n_drives : 1, sizeof(*s->disks));
	if (!s->disks)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_drives; i++) {
		int e = take_drive(s, i, o, d);
		if (e < 0)
			return e;
	}
	root_first(s);
	for (size_t i = 0; i < s->n_disks; i++)
		if (!pathf(s->disks[i].path, sizeof(s->disks[i].path), "%s/%s.d%zu.%s", s->paths.dir,
			   s->machine, i, s->disks[i].qcow2 ? "qcow2" : "raw")) {
			diag_add(d, 0, 0, "state dir path too long: %s", s->paths.dir);
			return -EINVAL;
		}
	return 0;
}

/* Why disk i cannot be what the manifest asks for, or NULL: an image, a
 * mount or a size is the default guest's init's work (and the images
 * carry its kernel's modules). */
static const char *guest_init_problem(const struct vm_spec *s, size_t i)
{
	const struct vm_disk *dk = &s->disks[i];
	const struct manifest_drive *dr = dk->drive;
	bool root = (int)i == s->root_disk;
	if (dk->image && !s->default_guest)
		return "an image boots with the default guest's kernel: drop the kernel drive";
	if (s->default_initrd)
		return NULL;
	if (dr->mount[0] && !root)
		return "the default guest's initramfs mounts drives: drop the initrd drive, or the mount";
	if (root && dr->size)
		return "the default guest's initramfs grows the root: drop the initrd drive, or the size";
	if (root && s->initrd)
		return "the default guest's initramfs boots a root drive: drop the initrd drive";
	return NULL;
}

static int check_guest_init(const struct vm_spec *s, struct diag *d)
{
	for (size_t i = 0; i < s->n_disks; i++) {
		const char *why = guest_init_problem(s, i);
		const struct vm_disk *dk = &s->disks[i];
		if (why)
			return drive_err(dk->drive, dk->drive->source_pos, s->machine, dk->drive_index, d,
					 "%s", why);
	}
	return 0;
}

int vm_spec_images(struct vm_spec *s, const struct vm_options *o, struct diag *d)
{
	struct image_options io = { .dir = o->image_dir, .guest_dir = o->guest_dir,
				    .progress = o->progress };
	for (size_t i = 0; i < s->n_disks; i++) {
		struct vm_disk *dk = &s->disks[i];
		const struct manifest_drive *dr = dk->drive;
		char why[IMAGE_WHY_MAX];
		if (dk->image && image_get(&io, dr->source, dk->base, why, sizeof(why)) < 0)
			return drive_err(dr, dr->source_pos, s->machine, dk->drive_index, d, "%s", why);
		struct stat st;
		if (dk->blank || !dr->size || stat(dk->base, &st) < 0 || (uint64_t)st.st_size <= dr->size)
			continue;
		return drive_err(dr, dr->size_pos, s->machine, dk->drive_index, d,
				 "size %lluMiB is smaller than the image (%lluMiB)",
				 (unsigned long long)(dr->size >> 20),
				 (unsigned long long)(((uint64_t)st.st_size + (1 << 20) - 1) >> 20));
	}
	return 0;
}

/* No kernel among the drives: the default guest's, with its initramfs
 * unless the manifest brings one. */
static int take_default_guest(struct vm_spec *s, const struct vm_options *o,
			      struct diag *d)
{
	if (s->kernel)
		return 0;
	if (!o->guest_dir) {
		diag_add(d, 0, 0, "machine %s has no kernel among its drives and no default guest is known",
			 s->machine);
		return -EINVAL;
	}
	if (!pathf(s->guest_kernel, sizeof(s->guest_kernel), "%s/vmlinuz", o->guest_dir) ||
	    !pathf(s->guest_initrd, sizeof(s->guest_initrd), "%s/initrd.img", o->guest_dir)) {
		diag_add(d, 0, 0, "guest dir path too long: %s", o->guest_dir);
		return -EINVAL;
	}
	s->default_guest = true;
	s->kernel = s->guest_kernel;
	if (!s->initrd) {
		s->initrd = s->guest_initrd;
		s->default_initrd = true;
	}
	return 0;
}

static const char *append_for(const struct vm_options *o, const char *machine)
{
	size_t n = strlen(machine);
	const char *found = NULL;
	for (size_t i = 0; i < o->n_append; i++)
		if (strncmp(o->append[i], machine, n) == 0 && o->append[i][n] == '=')
			found = o->append[i] + n + 1;
	return found;
}

/* What the guest's init does with the disks: boot the root (pn_root, its
 * interfaces named eth* as the toolkit guest's are), grow it to its size
 * (pn_grow), mount the others (pn_mounts=SERIAL:PATH:FS,...). */
static bool disk_words(const struct vm_spec *s, char *out, size_t len)
{
	size_t n = 0;
	out[0] = '\0';
	if (!s->default_initrd)
		return true;
	if (s->root_disk >= 0)
		n += (size_t)snprintf(out + n, len - n, " pn_root=pn%d net.ifnames=0%s", s->root_disk,
				      s->disks[s->root_disk].drive->size ? " pn_grow=1" : "");
	const char *sep = " pn_mounts=";
	for (size_t i = 0; i < s->n_disks && n < len; i++) {
		const struct manifest_drive *dr = s->disks[i].drive;
		if (!dr->mount[0] || (int)i == s->root_disk)
			continue;
		n += (size_t)snprintf(out + n, len - n, "%spn%zu:%s:%s", sep, i, dr->mount,
				      s->disks[i].blank ? manifest_fs_name(dr->filesystem) : "auto");
		sep = ",";
	}
	return n < len;
}

/* The serial console first, the machine's name for the guest's init, root
 * on the first disk when there is no initramfs to find it, the disks for
 * the guest's init, the TSC's frequency under TCG, then the user's words,
 * which come last so they win. */
static int build_cmdline(struct vm_spec *s, struct diag *d)
{
	const char *fc = s->backend == VM_FIRECRACKER ? " reboot=k panic=1 pci=off" : "";
	/* The root, or a first disk that is not blank when none is named. */
	bool first_is_root = s->root_disk == 0 || (s->root_disk < 0 && s->n_disks && !s->disks[0].blank);
	const char *root = first_is_root && !s->initrd ? " root=/dev/vda rw" : "";
	char tsc[40] = "", disks[VM_CMDLINE_MAX];
	if (s->backend == VM_QEMU && s->accel == VM_ACCEL_TCG && s->tsc_khz)
		snprintf(tsc, sizeof(tsc), " tsc_early_khz=%u", s->tsc_khz);
	if (!disk_words(s, disks, sizeof(disks)) ||
	    !pathf(s->cmdline, sizeof(s->cmdline), "console=ttyS0 quiet%s%s pn_hostname=%s%s%s%s%s",
		   fc, root, s->machine, disks, tsc, s->extra ? " " : "", s->extra ? s->extra : "")) {
		diag_add(d, 0, 0, "machine %s: the kernel command line would be longer than %d bytes",
			 s->machine, VM_CMDLINE_MAX - 1);
		return -EINVAL;
	}
	return 0;
}

int vm_spec_set_accel(struct vm_spec *s, enum vm_accel accel, unsigned tsc_khz)
{
	s->accel = accel;
	s->tsc_khz = tsc_khz;
	struct diag d = { 0 };
	int e = build_cmdline(s, &d);
	diag_free(&d);
	return e;
}

int vm_spec_build(const char *state_dir, const struct plan *p, size_t mi,
		  const struct vm_options *o, struct vm_spec *s, struct diag *d)
{
	memset(s, 0, sizeof(*s));
	const struct plan_machine *m = &p->machines[mi];
	s->m = m;
	strcpy(s->playground, p->name);
	strcpy(s->machine, m->name);
	strcpy(s->netns, p->netns);
	s->backend = o->backend;
	s->accel = o->accel;
	s->cpus = m->cpu_count ? m->cpu_count : VM_DEFAULT_CPUS;
	s->mem_mib = m->ram_bytes ? (m->ram_bytes + (1 << 20) - 1) >> 20 : VM_DEFAULT_MEM_MIB;
	int e = vm_paths_for(state_dir, p->name, m->name, &s->paths, d);
	if (!e)
		e = take_drives(s, o, d);
	if (!e)
		e = take_default_guest(s, o, d);
	if (!e)
		e = check_guest_init(s, d);
	s->extra = append_for(o, m->name);
	if (!e)
		e = build_cmdline(s, d);
	if (e < 0)
		vm_spec_free(s);
	return e;
}

void vm_spec_free(struct vm_spec *s)
{
	free(s->disks);
	s->disks = NULL;
	s->n_disks = 0;
}

int vm_status_write(const char *path, const struct vm_status *st)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "state", json_object_new_string(vm_state_name(st->state)));
	json_object_object_add(o, "backend", json_object_new_string(vm_backend_name(st->backend)));
	json_object_object_add(o, "accel", json_object_new_string(vm_accel_name(st->accel)));
	json_object_object_add(o, "pid", json_object_new_int(st->pid));
	json_object_object_add(o, "start", json_object_new_uint64(st->start));
	json_object_object_add(o, "supervisor", json_object_new_int(st->supervisor));
	json_object_object_add(o, "reason", json_object_new_string(st->reason));
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	char tmp[PATH_MAX + 16];
	int e = 0;
	if (!pathf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid())) {
		e = -ENAMETOOLONG;
		goto out;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = -errno;
		goto out;
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		e = -EIO;
	if (close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) < 0)
		e = -errno;
	if (e)
		unlink(tmp);
out:
	json_object_put(o);
	return e;
}

unsigned long long vm_proc_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long start = 0;
	/* state is field 3; starttime field 22, so 19 fields after state. */
	if (sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
		   &start) != 1)
		return 0;
	return start;
}

static const char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t json_int(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int vm_status_read(const char *path, struct vm_status *st)
{
	memset(st, 0, sizeof(*st));
	struct json_object *o = json_object_from_file(path);
	if (!o)
		return access(path, F_OK) < 0 ? -ENOENT : -EINVAL;
	int e = 0;
	int s = name_index(state_names, ARRAY_SIZE(state_names), json_str(o, "state"));
	int b = name_index(backend_names, ARRAY_SIZE(backend_names), json_str(o, "backend"));
	int a = name_index(accel_names, ARRAY_SIZE(accel_names), json_str(o, "accel"));
	const char *reason = json_str(o, "reason");
	if (s < 0 || b < 0 || a < 0) {
		e = -EINVAL;
		goto out;
	}
	st->state = (enum vm_state)s;
	st->backend = (enum vm_backend)b;
	st->accel = (enum vm_accel)a;
	st->pid = (pid_t)json_int(o, "pid");
	st->start = (unsigned long long)json_int(o, "start");
	st->supervisor = (pid_t)json_int(o, "supervisor");
	snprintf(st->reason, sizeof(st->reason), "%s", reason ? reason : "");
	/* Both the VMM and the supervisor that would have said how it
	 * ended are gone (killed, or the machine rebooted). */
	bool live = vm_state_live(st->state);
	if (live && (st->pid <= 0 || vm_proc_start(st->pid) != st->start) &&
	    (st->supervisor <= 0 || kill(st->supervisor, 0) < 0)) {
		st->state = VM_CRASHED;
		snprintf(st->reason, sizeof(st->reason), "the VMM and its supervisor are gone");
	}
out:
	json_object_put(o);
	return e;
}
