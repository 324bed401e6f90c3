/* VM specs and what each VMM is given, against golden files; drive and
 * option errors. Pure: nothing runs, no file is read unless a drive's kind
 * must be told from its bytes. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "plan.h"
#include "vm.h"
#include "vm_backend.h"
#include "vm_disk.h"
#include "vm_disk.h"

/* Drive files live in a temp dir of the test's own (the drive directory its
 * specs are given); what the goldens show of it is DRIVES_SHOWN. */
static char DRIVES[64];
#define DRIVES_SHOWN "/var/lib/playnet"

/* A machine with two interfaces and every kind of drive, kinds given;
 * DRIVES_SHOWN stands for the drive dir. */
static const char two_if_text[] =
	"kind: playground\n"
	"playground:\n"
	"  networks:\n"
	"    - name: net-1\n"
	"      subnet: 192.168.178.0/24\n"
	"      private: true\n"
	"    - name: local\n"
	"      subnet: 172.16.0.0/24\n"
	"  machines:\n"
	"    - name: router\n"
	"      resources: { cpuCount: 2, ramSize: 1G }\n"
	"      drives:\n"
	"        - source: /var/lib/playnet/vmlinux\n"
	"          kind: kernel\n"
	"        - source: /var/lib/playnet/rootfs.ext4\n"
	"          kind: disk\n"
	"          mount: /\n"
	"      network:\n"
	"        interfaces:\n"
	"          - network: net-1\n"
	"            address: 192.168.178.2\n"
	"          - network: local\n";

/* text with every DRIVES_SHOWN made DRIVES, or DRIVES made DRIVES_SHOWN */
static char *swap_dir(const char *text, bool to_real)
{
	const char *from = to_real ? DRIVES_SHOWN : DRIVES, *to = to_real ? DRIVES : DRIVES_SHOWN;
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out = calloc(1, strlen(text) * (tl > fl ? tl : fl) + 1);
	for (const char *p = text; *p;) {
		if (strncmp(p, from, fl) == 0) {
			memcpy(out + n, to, tl);
			n += tl;
			p += fl;
		} else {
			out[n++] = *p++;
		}
	}
	return out;
}

static char *two_if;

static int make_drives(void **state)
{
	(void)state;
	snprintf(DRIVES, sizeof(DRIVES), "/tmp/playnet-drives.XXXXXX");
	if (!mkdtemp(DRIVES))
		return -1;
	char path[128];
	static const char *const files[] = { "vmlinux", "rootfs.ext4" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", DRIVES, files[i]);
		FILE *f = fopen(path, "w");
		if (!f)
			return -1;
		fclose(f);
	}
	two_if = swap_dir(two_if_text, true);
	return 0;
}

static int remove_drives(void **state)
{
	(void)state;
	char path[128];
	static const char *const files[] = { "vmlinux", "rootfs.ext4", "a,b.img" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", DRIVES, files[i]);
		unlink(path);
	}
	free(two_if);
	return rmdir(DRIVES);
}

static char *read_all(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", SRCDIR, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
	(void)n;
	fclose(f);
	return buf;
}

static void plan_of(const char *yaml, struct plan *p)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct manifest m;
	struct diag d;
	int r = parse_with(yaml, &lim, &m, &d);
	if (r)
		dump_diag(&d);
	assert_int_equal(r, 0);
	assert_int_equal(plan_build(&m, "golden", p, &d), 0);
	manifest_free(&m);
	diag_free(&d);
}

static void spec_of(const struct plan *p, enum vm_backend b, struct vm_spec *s)
{
	struct vm_options o = { .backend = b, .guest_dir = "/usr/share/playnet/guest",
				.drive_dirs = DRIVES };
	o.append[o.n_append++] = "router=pn_forward=1";
	o.append[o.n_append++] = "other=ignored";
	struct diag d;
	diag_init(&d, "t");
	int r = vm_spec_build("/run/playnet", p, 0, &o, s, &d);
	if (r)
		dump_diag(&d);
	assert_int_equal(r, 0);
	diag_free(&d);
}

static char *argv_text(const struct vm_spec *s)
{
	struct vm_argv a;
	assert_int_equal(vm_backend_argv(s, NULL, &a), 0);
	size_t len = 1;
	for (size_t i = 0; i < a.n; i++)
		len += strlen(a.v[i]) + 1;
	char *out = calloc(1, len);
	for (size_t i = 0; i < a.n; i++) {
		strcat(out, a.v[i]);
		strcat(out, "\n");
	}
	vm_argv_free(&a);
	return out;
}

static void assert_golden(const char *real, const char *rel)
{
	char *got = swap_dir(real, false);
	char *want = read_all(rel);
	assert_non_null(want);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "got:\n%s\nwant (%s):\n%s\n", got, rel, want);
	assert_string_equal(got, want);
	free(want);
	free(got);
}

static void t_firecracker_golden(void **state)
{
	(void)state;
	struct plan p;
	plan_of(two_if, &p);
	struct vm_spec s;
	spec_of(&p, VM_FIRECRACKER, &s);
	char *cfg;
	assert_int_equal(vm_backend_firecracker_config(&s, &cfg), 0);
	assert_golden(cfg, "tests/unit/golden/firecracker.json");
	free(cfg);
	char *args = argv_text(&s);
	assert_golden(args, "tests/unit/golden/firecracker.args");
	free(args);
	vm_spec_free(&s);
	plan_free(&p);
}

static void t_cloud_hypervisor_golden(void **state)
{
	(void)state;
	struct plan p;
	plan_of(two_if, &p);
	struct vm_spec s;
	spec_of(&p, VM_CLOUD_HYPERVISOR, &s);
	char *args = argv_text(&s);
	assert_golden(args, "tests/unit/golden/cloud-hypervisor.args");
	free(args);
	vm_spec_free(&s);
	plan_free(&p);
}

/* QEMU needs its accelerator first; under TCG the guest is told the TSC. */
static void t_qemu_golden(void **state)
{
	(void)state;
	struct plan p;
	plan_of(two_if, &p);
	struct vm_spec s;
	spec_of(&p, VM_QEMU, &s);
	struct vm_argv a;
	assert_int_equal(vm_backend_argv(&s, NULL, &a), -EINVAL);
	assert_int_equal(vm_spec_set_accel(&s, VM_ACCEL_TCG, 2596132), 0);
	char *args = argv_text(&s);
	assert_golden(args, "tests/unit/golden/qemu-tcg.args");
	free(args);
	assert_int_equal(vm_spec_set_accel(&s, VM_ACCEL_KVM, 0), 0);
	args = argv_text(&s);
	assert_non_null(strstr(args, "-accel\nkvm\n-cpu\nhost\n"));
	assert_null(strstr(args, "tsc_early_khz"));
	free(args);
	vm_spec_free(&s);
	plan_free(&p);
}

/* No drives: the default guest's kernel and initramfs, no root=. */
static void t_default_guest(void **state)
{
	(void)state;
	struct plan p;
	plan_of("kind: playground\nplayground:\n  machines:\n    - name: vm-1\n", &p);
	struct vm_options o = { .backend = VM_QEMU, .guest_dir = "/g" };
	struct vm_spec s;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(vm_spec_build("/run/playnet", &p, 0, &o, &s, &d), 0);
	assert_true(s.default_guest);
	assert_string_equal(s.kernel, "/g/vmlinuz");
	assert_string_equal(s.initrd, "/g/initrd.img");
	assert_int_equal(s.cpus, VM_DEFAULT_CPUS);
	assert_int_equal(s.mem_mib, VM_DEFAULT_MEM_MIB);
	assert_string_equal(s.cmdline, "console=ttyS0 quiet pn_hostname=vm-1");
	assert_string_equal(s.paths.console, "/run/playnet/vm/golden/vm-1.console");
	vm_spec_free(&s);
	diag_free(&d);
	plan_free(&p);
}

static int spec_error_with(const char *yaml, const char *state_dir, struct vm_options o,
			   const char *want)
{
	struct plan p;
	char *real = swap_dir(yaml, true);
	plan_of(real, &p);
	free(real);
	struct vm_spec s;
	struct diag d;
	diag_init(&d, "t");
	int r = vm_spec_build(state_dir, &p, 0, &o, &s, &d);
	if (r == 0)
		vm_spec_free(&s);
	if (!d.count || !strstr(d.entries[0].message, want))
		dump_diag(&d);
	assert_true(d.count && strstr(d.entries[0].message, want));
	diag_free(&d);
	plan_free(&p);
	return r;
}

/* DRIVES_SHOWN in yaml stands for the test's drive dir. */
static int spec_error(const char *yaml, const char *state_dir, const char *want)
{
	struct vm_options o = { .backend = VM_QEMU, .guest_dir = "/g", .drive_dirs = DRIVES };
	return spec_error_with(yaml, state_dir, o, want);
}

static void t_drive_errors(void **state)
{
	(void)state;
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - source: ftp://ghcr.io/x/ubuntu\n",
				    "/run/playnet", "expected an absolute path, a catalog image (debian-12) or oci://"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: ubuntu-24-04, mount: / }\n",
				    "/run/playnet", "no image 'ubuntu-24-04' in the catalog (it has debian-12; `playnet image build NAME`"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: 'oci://ghcr.io/Iximiuz/x', mount: / }\n",
				    "/run/playnet", "'Iximiuz/x' is not a repository name"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: 'oci://127.0.0.1:5000/x@sha256:00', mount: / }\n",
				    "/run/playnet", "'sha256:00' is not a digest"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: 'oci://ghcr.io', mount: / }\n",
				    "/run/playnet", "expected oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: debian-12, mount: /data }\n",
				    "/run/playnet", "an image is the machine's root: mount it at /, not /data"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: debian-12, mount: / }\n"
				    "        - { source: 'oci://127.0.0.1:5000/x:1', mount: / }\n",
				    "/run/playnet", "a second root (drives[0] is the root)"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { size: 1G, mount: /data }\n"
				    "        - { size: 1G, mount: /data, filesystem: ext4 }\n",
				    "/run/playnet", "drives[0] is mounted at /data too"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { size: 100MiB, mount: /data, filesystem: xfs }\n",
				    "/run/playnet", "an xfs file system needs at least 300MiB"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: " DRIVES_SHOWN "/vmlinux, kind: kernel, size: 1G }\n",
				    "/run/playnet", "a kernel is not a disk"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: " DRIVES_SHOWN "/vmlinux, kind: kernel }\n"
				    "        - { source: debian-12, mount: / }\n",
				    "/run/playnet", "an image boots with the default guest's kernel"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: " DRIVES_SHOWN "/vmlinux, kind: kernel }\n"
				    "        - { source: " DRIVES_SHOWN "/rootfs.ext4, kind: kernel }\n",
				    "/run/playnet", "a second kernel"),
			 -EINVAL);
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - source: /nonexistent/playnet-drive\n",
				    "/run/playnet", "cannot read"),
			 -EINVAL);
	char longdir[200];
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	assert_int_equal(spec_error("kind: playground\nplayground:\n  machines:\n    - name: a\n",
				    longdir, "unix socket path"),
			 -EINVAL);
}

static const char one_drive[] = "kind: playground\nplayground:\n  machines:\n    - name: a\n"
				"      drives:\n        - { source: '%s', kind: disk }\n";

static int drive_error(const char *source, struct vm_options o, const char *want)
{
	char yaml[512];
	snprintf(yaml, sizeof(yaml), one_drive, source);
	return spec_error_with(yaml, "/run/playnet", o, want);
}

/* A manifest's drives: only files in the drive directories, named as they
 * are, devices only when allowed; nothing in a path reaches QEMU's options. */
static void t_drive_confined(void **state)
{
	(void)state;
	struct vm_options o = { .backend = VM_QEMU, .guest_dir = "/g", .drive_dirs = DRIVES };
	assert_int_equal(drive_error("/etc/passwd", o, "outside the drive directories"), -EPERM);
	assert_int_equal(drive_error(DRIVES_SHOWN "/./vmlinux", o, "without links"),
			 -EPERM);
	assert_int_equal(drive_error("vmlinux", o, "a file is named by its absolute path"), -EINVAL);
	assert_int_equal(drive_error("./vmlinux", o, "absolute path"), -EPERM);
	assert_int_equal(drive_error(DRIVES_SHOWN "/none", o, "No such file"), -EPERM);
	o.drive_dirs = "/dev";
	assert_int_equal(drive_error("/dev/null", o, "is a device"), -EPERM);
	o.drive_dirs = "/nonexistent:" DRIVES_SHOWN;
	assert_int_equal(drive_error("/etc/shadow", o, "outside the drive directories"), -EPERM);

	/* a comma: doubled for QEMU (in the VM's own disk, in the state dir),
	 * refused for Cloud Hypervisor */
	char path[128], yaml[512];
	snprintf(path, sizeof(path), "%s/a,b.img", DRIVES);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), one_drive, path);
	struct plan p;
	plan_of(yaml, &p);
	o.drive_dirs = DRIVES;
	struct vm_spec s;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(vm_spec_build("/run/a,b", &p, 0, &o, &s, &d), 0);
	assert_string_equal(s.disks[0].base, path);
	assert_int_equal(vm_spec_set_accel(&s, VM_ACCEL_TCG, 2596132), 0);
	char *args = argv_text(&s);
	char want[256];
	snprintf(want, sizeof(want), "\nid=d0,file=/run/a,,b/vm/golden/a.d0.qcow2,format=qcow2,if=none\n");
	if (!strstr(args, want))
		fprintf(stderr, "%s", args);
	assert_non_null(strstr(args, want));
	free(args);
	vm_spec_free(&s);
	plan_free(&p);
	diag_free(&d);
	o.backend = VM_CLOUD_HYPERVISOR;
	assert_int_equal(drive_error(path, o, "takes no ','"), -EINVAL);
}

/* A drive's kind, when not given, from its first bytes. */
static void t_drive_sniff(void **state)
{
	(void)state;
	char kpath[] = "/tmp/playnet-vm-k.XXXXXX", ipath[] = "/tmp/playnet-vm-i.XXXXXX";
	int kf = mkstemp(kpath), inf = mkstemp(ipath);
	assert_true(kf >= 0 && inf >= 0);
	unsigned char bz[0x300] = { 0 };
	memcpy(bz + 0x202, "HdrS", 4);
	assert_int_equal(write(kf, bz, sizeof(bz)), sizeof(bz));
	assert_int_equal(write(inf, "\x1f\x8b\x08\x00", 4), 4);
	close(kf);
	close(inf);
	char yaml[512];
	snprintf(yaml, sizeof(yaml),
		 "kind: playground\nplayground:\n  machines:\n    - name: a\n      drives:\n"
		 "        - source: %s\n        - source: %s\n        - source: /dev/null\n",
		 ipath, kpath);
	struct plan p;
	plan_of(yaml, &p);
	struct vm_options o = { .backend = VM_QEMU, .guest_dir = "/g", .drive_dirs = "/tmp:/dev",
				.drive_devices = true };
	struct vm_spec s;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(vm_spec_build("/run/playnet", &p, 0, &o, &s, &d), 0);
	assert_string_equal(s.kernel, kpath);
	assert_string_equal(s.initrd, ipath);
	assert_int_equal(s.n_disks, 1);
	assert_string_equal(s.disks[0].base, "/dev/null");
	assert_false(s.default_guest);
	vm_spec_free(&s);
	diag_free(&d);
	plan_free(&p);
	unlink(kpath);
	unlink(ipath);
}

/* An image root grown to its size and two blank drives: the words the
 * guest's init acts on, and each VMM's own files for the disks. */
static void t_image_and_blank_drives(void **state)
{
	(void)state;
	struct plan p;
	plan_of("kind: playground\nplayground:\n  machines:\n    - name: a\n      drives:\n"
		"        - { size: 1G, mount: /data }\n"
		"        - { source: debian-12, mount: /, size: 2GiB }\n"
		"        - { size: 512MiB, mount: /logs, filesystem: xfs }\n"
		"        - { size: 64M }\n",
		&p);
	struct vm_options o = { .backend = VM_QEMU, .guest_dir = "/g", .drive_dirs = DRIVES };
	struct vm_spec s;
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(vm_spec_build("/run/playnet", &p, 0, &o, &s, &d), 0);
	assert_int_equal(s.n_disks, 4);
	assert_int_equal(s.root_disk, 0);
	assert_true(s.disks[0].image && s.disks[0].qcow2 && !s.disks[0].blank);
	assert_string_equal(s.disks[0].path, "/run/playnet/vm/golden/a.d0.qcow2");
	assert_true(s.disks[1].blank && !s.disks[1].qcow2);
	assert_string_equal(s.disks[1].path, "/run/playnet/vm/golden/a.d1.raw");
	assert_string_equal(s.disks[3].path, "/run/playnet/vm/golden/a.d3.raw");
	if (!strstr(s.cmdline, " pn_root=pn0 net.ifnames=0 pn_grow=1 pn_mounts=pn1:/data:ext4,pn2:/logs:xfs"))
		fprintf(stderr, "%s\n", s.cmdline);
	assert_non_null(strstr(s.cmdline, " pn_root=pn0 net.ifnames=0 pn_grow=1 pn_mounts=pn1:/data:ext4,pn2:/logs:xfs"));
	assert_null(strstr(s.cmdline, "root=/dev/vda"));
	/* The guest's init: the agent's port and the VM's config disk, last. */
	assert_true(s.default_initrd);
	assert_int_equal(vm_spec_set_accel(&s, VM_ACCEL_TCG, 0), 0);
	char *args = argv_text(&s);
	assert_non_null(strstr(args, "\nvirtio-serial-device\n-chardev\n"
				     "socket,id=agent,path=/run/playnet/vm/golden/a.vport,server=on,wait=off\n"
				     "-device\nvirtserialport,chardev=agent,name=org.playnet.agent\n"));
	assert_non_null(strstr(args, "\nid=config,file=/run/playnet/vm/golden/a.config.tar,format=raw,if=none,readonly=on\n"
				     "-device\nvirtio-blk-device,drive=config,serial=pncfg\n"));
	free(args);
	vm_spec_free(&s);
	o.backend = VM_CLOUD_HYPERVISOR;
	assert_int_equal(vm_spec_build("/run/playnet", &p, 0, &o, &s, &d), 0);
	args = argv_text(&s);
	assert_non_null(strstr(args, "\n--disk\npath=/run/playnet/vm/golden/a.config.tar,readonly=on\n"));
	assert_non_null(strstr(args, "\n--vsock\ncid=3,socket=/run/playnet/vm/golden/a.agent\n"));
	free(args);
	vm_spec_free(&s);
	o.backend = VM_FIRECRACKER;
	assert_int_equal(vm_spec_build("/run/playnet", &p, 0, &o, &s, &d), 0);
	assert_false(s.disks[0].qcow2);
	assert_string_equal(s.disks[0].path, "/run/playnet/vm/golden/a.d0.raw");
	char *cfg = NULL;
	assert_int_equal(vm_backend_firecracker_config(&s, &cfg), 0);
	assert_non_null(strstr(cfg, "\"path_on_host\": \"/run/playnet/vm/golden/a.d0.raw\",\n"
				    "      \"is_root_device\": false,\n      \"is_read_only\": false"));
	assert_non_null(strstr(cfg, "\"drive_id\": \"config\",\n      \"path_on_host\": \"/run/playnet/vm/golden/a.config.tar\",\n"
				    "      \"is_root_device\": false,\n      \"is_read_only\": true"));
	assert_non_null(strstr(cfg, "\"vsock\": {\n    \"guest_cid\": 3,\n    \"uds_path\": \"/run/playnet/vm/golden/a.agent\"\n  }"));
	free(cfg);
	vm_spec_free(&s);
	diag_free(&d);
	plan_free(&p);
}

/* The copy Firecracker and Cloud Hypervisor get of a base: the same bytes,
 * its holes still holes (or shared extents, where the file system
 * reflinks), grown to the size asked for; never over a file that is
 * there. */
static void t_disk_copy(void **state)
{
	(void)state;
	char src[128], dst[128];
	snprintf(src, sizeof(src), "%s/base.raw", DRIVES);
	snprintf(dst, sizeof(dst), "%s/copy.raw", DRIVES);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64 << 20), 0);
	assert_int_equal(pwrite(fd, "head", 4, 0), 4);
	assert_int_equal(pwrite(fd, "middle", 6, 32 << 20), 6);
	close(fd);
	unlink(dst);
	assert_int_equal(vm_disk_copy(src, dst, 128ULL << 20), 0);
	struct stat st;
	assert_int_equal(stat(dst, &st), 0);
	assert_int_equal(st.st_size, 128 << 20);
	assert_true(st.st_blocks * 512 < (1 << 20));
	char buf[8] = { 0 };
	fd = open(dst, O_RDONLY);
	assert_int_equal(pread(fd, buf, 4, 0), 4);
	assert_memory_equal(buf, "head", 4);
	assert_int_equal(pread(fd, buf, 6, 32 << 20), 6);
	assert_memory_equal(buf, "middle", 6);
	assert_int_equal(pread(fd, buf, 4, 100 << 20), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	close(fd);
	assert_int_equal(vm_disk_copy(src, dst, 0), -EEXIST);
	unlink(dst);
	unlink(src);
}

static void t_options(void **state)
{
	(void)state;
	struct vm_options o = { 0 };
	struct diag d;
	diag_init(&d, "t");
	assert_int_equal(vm_options_set(&o, "--backend", "firecracker", &d), 0);
	assert_int_equal(o.backend, VM_FIRECRACKER);
	assert_int_equal(vm_options_set(&o, "--accel", "tcg", &d), 0);
	assert_int_equal(o.accel, VM_ACCEL_TCG);
	assert_int_equal(vm_options_set(&o, "--append", "a=b c", &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(vm_options_set(&o, "--backend", "xen", &d), -EINVAL);
	assert_int_equal(vm_options_set(&o, "--accel", "hvf", &d), -EINVAL);
	assert_int_equal(vm_options_set(&o, "--append", "=x", &d), -EINVAL);
	assert_int_equal(vm_options_set(&o, "--append", "nothing", &d), -EINVAL);
	assert_int_equal(vm_options_set(&o, "--frobnicate", "x", &d), -ENOENT);
	assert_int_equal(d.count, 4);
	diag_free(&d);
}

/* The manifest side: drives are a list of mappings with a source. */
static void t_manifest_drives(void **state)
{
	(void)state;
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct manifest m;
	struct diag d;
	assert_int_equal(parse_with("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - source: /k\n          kind: kernal\n",
				    &lim, &m, &d),
			 -EINVAL);
	assert_non_null(strstr(d.entries[0].message, "expected kernel, initrd, disk or auto"));
	assert_int_equal(d.entries[0].line, 7);
	diag_free(&d);
	static const struct {
		const char *drive;
		const char *want;
	} bad[] = {
		{ "{ mount: /data }", "a drive needs a source (a kernel, initramfs, disk image, catalog image or oci://REF), or a size" },
		{ "{ size: 1G, mount: / }", "a blank drive cannot be the root" },
		{ "{ size: 1G, filesystem: ext4 }", "needs a mount point" },
		{ "{ size: 1G, mount: /d, filesystem: btrfs }", "expected ext4 or xfs, got 'btrfs'" },
		{ "{ source: debian-12, filesystem: ext4 }", "filesystem is for a blank drive" },
		{ "{ size: 1 pint, mount: /d }", "a size such as 512MiB, 5G or 10GiB" },
		{ "{ size: 512K, mount: /d }", "at least 1MiB" },
		{ "{ size: 1G, mount: data }", "an absolute path such as /data" },
		{ "{ size: 1G, mount: /a/../b }", "without '//', '.', '..'" },
		{ "{ size: 1G, mount: '/a b' }", "letters, digits and / . _ -" },
		{ "{ size: 1G, mount: /d, readOnly: true }", "unknown key" },
		{ "{ size: 1G, kind: disk }", "a blank drive has no kind" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[256];
		snprintf(yaml, sizeof(yaml),
			 "kind: playground\nplayground:\n  machines:\n    - name: a\n"
			 "      drives:\n        - %s\n", bad[i].drive);
		assert_int_equal(parse_with(yaml, &lim, &m, &d), -EINVAL);
		if (!strstr(d.entries[0].message, bad[i].want))
			dump_diag(&d);
		assert_non_null(strstr(d.entries[0].message, bad[i].want));
		assert_int_equal(d.entries[0].line, 6);
		diag_free(&d);
	}
	/* labctl's spellings of sizes; a blank drive with a mount is ext4 */
	assert_int_equal(parse_with("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives:\n        - { source: debian-12, mount: /, size: 10GiB }\n"
				    "        - { size: 5G, mount: /data }\n"
				    "        - { size: 512MiB, mount: /logs, filesystem: xfs }\n"
				    "        - { size: 1.5G }\n",
				    &lim, &m, &d),
			 0);
	const struct manifest_drive *dr = m.machines[0].drives;
	assert_int_equal(dr[0].size, 10ULL << 30);
	assert_string_equal(dr[0].mount, "/");
	assert_int_equal(dr[1].size, 5ULL << 30);
	assert_int_equal(dr[1].filesystem, MANIFEST_FS_EXT4);
	assert_int_equal(dr[2].size, 512ULL << 20);
	assert_int_equal(dr[2].filesystem, MANIFEST_FS_XFS);
	assert_null(dr[3].source);
	assert_int_equal(dr[3].size, 1536ULL << 20);
	assert_int_equal(dr[3].filesystem, MANIFEST_FS_NONE);
	assert_int_equal(dr[3].mount[0], '\0');
	manifest_free(&m);
	diag_free(&d);
	assert_int_equal(parse_with("kind: playground\nplayground:\n  machines:\n    - name: a\n"
				    "      drives: /k\n",
				    &lim, &m, &d),
			 -EINVAL);
	assert_non_null(strstr(d.entries[0].message, "a list of drives"));
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_firecracker_golden),
		cmocka_unit_test(t_cloud_hypervisor_golden),
		cmocka_unit_test(t_qemu_golden),
		cmocka_unit_test(t_default_guest),
		cmocka_unit_test(t_drive_errors),
		cmocka_unit_test(t_drive_sniff),
		cmocka_unit_test(t_drive_confined),
		cmocka_unit_test(t_options),
		cmocka_unit_test(t_image_and_blank_drives),
		cmocka_unit_test(t_disk_copy),
		cmocka_unit_test(t_manifest_drives),
	};
	return cmocka_run_group_tests(tests, make_drives, remove_drives);
}
