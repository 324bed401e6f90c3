/* Command lines and config files of the three VMMs, from a VM spec. */
#define _GNU_SOURCE
#include <limits.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "mac.h"
#include "util.h"
#include "vm_backend.h"

static int __attribute__((format(printf, 2, 3))) add(struct vm_argv *a, const char *fmt, ...)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	a->v[++a->n] = NULL;
	return 0;
}

void vm_argv_free(struct vm_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* QEMU's microvm: no firmware, no PCI, virtio-mmio devices, the kernel
 * loaded directly; the console a socket that logs to a file whether or not
 * anyone is attached, and QMP for a graceful stop. */
/* s with every ',' doubled, as QEMU's option parser wants it. */
static bool qemu_escape(const char *s, char *out, size_t len)
{
	size_t n = 0;
	for (; *s; s++) {
		if (n + 3 > len)
			return false;
		if (*s == ',')
			out[n++] = ',';
		out[n++] = *s;
	}
	out[n] = '\0';
	return true;
}

static int qemu_argv(const struct vm_spec *s, struct vm_argv *a)
{
	const struct vm_paths *pa = &s->paths;
	int e = 0;
	e |= add(a, "-name");
	e |= add(a, "%s,process=pn-%s", s->machine, s->machine);
	if (s->accel == VM_ACCEL_KVM) {
		e |= add(a, "-accel");
		e |= add(a, "kvm");
		e |= add(a, "-cpu");
		e |= add(a, "host");
	} else {
		e |= add(a, "-accel");
		e |= add(a, "tcg");
	}
	e |= add(a, "-M");
	e |= add(a, "microvm");
	e |= add(a, "-smp");
	e |= add(a, "%u", s->cpus);
	e |= add(a, "-m");
	e |= add(a, "%llu", (unsigned long long)s->mem_mib);
	/* Not -nodefaults: microvm then loses the timers the kernel calibrates
	 * against and hangs at boot. */
	e |= add(a, "-no-user-config");
	e |= add(a, "-display");
	e |= add(a, "none");
	e |= add(a, "-monitor");
	e |= add(a, "none");
	e |= add(a, "-net");
	e |= add(a, "none");
	e |= add(a, "-no-reboot");
	e |= add(a, "-kernel");
	e |= add(a, "%s", s->kernel);
	if (s->initrd) {
		e |= add(a, "-initrd");
		e |= add(a, "%s", s->initrd);
	}
	e |= add(a, "-append");
	e |= add(a, "%s", s->cmdline);
	e |= add(a, "-chardev");
	e |= add(a, "socket,id=console,path=%s,server=on,wait=off,logfile=%s,logappend=on",
		 pa->console, pa->log);
	e |= add(a, "-serial");
	e |= add(a, "chardev:console");
	e |= add(a, "-qmp");
	e |= add(a, "unix:%s,server=on,wait=off", pa->api);
	if (s->default_initrd) {
		/* The agent's port; the supervisor carries streams over it. */
		e |= add(a, "-device");
		e |= add(a, "virtio-serial-device");
		e |= add(a, "-chardev");
		e |= add(a, "socket,id=agent,path=%s,server=on,wait=off", pa->vport);
		e |= add(a, "-device");
		e |= add(a, "virtserialport,chardev=agent,name=" AGENT_SERIAL_NAME);
	}
	for (size_t i = 0; i < s->m->n_interfaces; i++) {
		const struct plan_interface *ifc = &s->m->interfaces[i];
		char mac[MAC_STRLEN];
		mac_format(ifc->mac, mac);
		e |= add(a, "-netdev");
		e |= add(a, "tap,id=n%zu,ifname=%s,script=no,downscript=no", i, ifc->device);
		e |= add(a, "-device");
		e |= add(a, "virtio-net-device,netdev=n%zu,mac=%s", i, mac);
	}
	for (size_t i = 0; i < s->n_disks; i++) {
		/* QEMU reads ',,' in an option's value as one ',': nothing in a
		 * path can add an option. The file is the VM's own: an overlay
		 * whose base QEMU opens read-only, or a blank disk. */
		char file[2 * PATH_MAX];
		if (!qemu_escape(s->disks[i].path, file, sizeof(file)))
			return -ENAMETOOLONG;
		e |= add(a, "-drive");
		e |= add(a, "id=d%zu,file=%s,format=%s,if=none", i, file,
			 s->disks[i].qcow2 ? "qcow2" : "raw");
		e |= add(a, "-device");
		e |= add(a, "virtio-blk-device,drive=d%zu,serial=pn%zu", i, i);
	}
	if (s->default_initrd) {
		char file[2 * PATH_MAX];
		if (!qemu_escape(s->paths.config_disk, file, sizeof(file)))
			return -ENAMETOOLONG;
		e |= add(a, "-drive");
		e |= add(a, "id=config,file=%s,format=raw,if=none,readonly=on", file);
		e |= add(a, "-device");
		e |= add(a, "virtio-blk-device,drive=config,serial=pncfg");
	}
	return e ? -ENOMEM : 0;
}

/* Firecracker takes everything in its config file. */
static int firecracker_argv(const struct vm_spec *s, struct vm_argv *a)
{
	int e = 0;
	e |= add(a, "--api-sock");
	e |= add(a, "%s", s->paths.api);
	e |= add(a, "--config-file");
	e |= add(a, "%s", s->paths.config);
	e |= add(a, "--id");
	e |= add(a, "%s", s->machine);
	return e ? -ENOMEM : 0;
}

static int cloud_hypervisor_argv(const struct vm_spec *s, struct vm_argv *a)
{
	int e = 0;
	e |= add(a, "--api-socket");
	e |= add(a, "path=%s", s->paths.api);
	e |= add(a, "--kernel");
	e |= add(a, "%s", s->kernel);
	if (s->initrd) {
		e |= add(a, "--initramfs");
		e |= add(a, "%s", s->initrd);
	}
	e |= add(a, "--cmdline");
	e |= add(a, "%s", s->cmdline);
	e |= add(a, "--cpus");
	e |= add(a, "boot=%u", s->cpus);
	e |= add(a, "--memory");
	e |= add(a, "size=%lluM", (unsigned long long)s->mem_mib);
	for (size_t i = 0; i < s->n_disks; i++) {
		e |= add(a, "--disk");
		e |= add(a, "path=%s", s->disks[i].path);
	}
	if (s->default_initrd) {
		e |= add(a, "--disk");
		e |= add(a, "path=%s,readonly=on", s->paths.config_disk);
	}
	for (size_t i = 0; i < s->m->n_interfaces; i++) {
		const struct plan_interface *ifc = &s->m->interfaces[i];
		char mac[MAC_STRLEN];
		mac_format(ifc->mac, mac);
		e |= add(a, "--net");
		e |= add(a, "tap=%s,mac=%s", ifc->device, mac);
	}
	if (s->default_initrd) {
		e |= add(a, "--vsock");
		e |= add(a, "cid=%u,socket=%s", VM_GUEST_CID, s->paths.agent);
	}
	e |= add(a, "--serial");
	e |= add(a, "socket=%s", s->paths.console);
	e |= add(a, "--console");
	e |= add(a, "off");
	return e ? -ENOMEM : 0;
}

static const char *const vmm_names[] = {
	[VM_QEMU] = "qemu-system-x86_64",
	[VM_FIRECRACKER] = "firecracker",
	[VM_CLOUD_HYPERVISOR] = "cloud-hypervisor",
};

const char *vm_backend_program(enum vm_backend b, const char *vmm)
{
	return vmm ? vmm : vmm_names[b];
}

int vm_backend_argv(const struct vm_spec *s, const char *vmm, struct vm_argv *a)
{
	memset(a, 0, sizeof(*a));
	if (s->backend == VM_QEMU && s->accel == VM_ACCEL_AUTO)
		return -EINVAL;
	int e = add(a, "%s", vm_backend_program(s->backend, vmm));
	if (!e)
		e = s->backend == VM_QEMU	 ? qemu_argv(s, a) :
		    s->backend == VM_FIRECRACKER ? firecracker_argv(s, a) :
						   cloud_hypervisor_argv(s, a);
	if (e)
		vm_argv_free(a);
	return e;
}

static struct json_object *fc_drives(const struct vm_spec *s)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr && i < s->n_disks; i++) {
		struct json_object *d = json_object_new_object();
		char id[32];
		snprintf(id, sizeof(id), i ? "disk%zu" : "rootfs", i);
		json_object_object_add(d, "drive_id", json_object_new_string(id));
		json_object_object_add(d, "path_on_host", json_object_new_string(s->disks[i].path));
		json_object_object_add(d, "is_root_device", json_object_new_boolean(i == 0 && !s->initrd));
		json_object_object_add(d, "is_read_only", json_object_new_boolean(false));
		json_object_array_add(arr, d);
	}
	if (arr && s->default_initrd) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "drive_id", json_object_new_string("config"));
		json_object_object_add(d, "path_on_host", json_object_new_string(s->paths.config_disk));
		json_object_object_add(d, "is_root_device", json_object_new_boolean(false));
		json_object_object_add(d, "is_read_only", json_object_new_boolean(true));
		json_object_array_add(arr, d);
	}
	return arr;
}

static struct json_object *fc_interfaces(const struct vm_spec *s)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr && i < s->m->n_interfaces; i++) {
		const struct plan_interface *ifc = &s->m->interfaces[i];
		char mac[MAC_STRLEN];
		mac_format(ifc->mac, mac);
		struct json_object *n = json_object_new_object();
		json_object_object_add(n, "iface_id", json_object_new_string(ifc->name));
		json_object_object_add(n, "guest_mac", json_object_new_string(mac));
		json_object_object_add(n, "host_dev_name", json_object_new_string(ifc->device));
		json_object_array_add(arr, n);
	}
	return arr;
}

int vm_backend_firecracker_config(const struct vm_spec *s, char **out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *boot = json_object_new_object();
	struct json_object *mc = json_object_new_object();
	if (!o || !boot || !mc) {
		json_object_put(o);
		json_object_put(boot);
		json_object_put(mc);
		return -ENOMEM;
	}
	json_object_object_add(boot, "kernel_image_path", json_object_new_string(s->kernel));
	json_object_object_add(boot, "boot_args", json_object_new_string(s->cmdline));
	if (s->initrd)
		json_object_object_add(boot, "initrd_path", json_object_new_string(s->initrd));
	json_object_object_add(o, "boot-source", boot);
	json_object_object_add(o, "drives", fc_drives(s));
	json_object_object_add(mc, "vcpu_count", json_object_new_int((int)s->cpus));
	json_object_object_add(mc, "mem_size_mib", json_object_new_int64((int64_t)s->mem_mib));
	json_object_object_add(o, "machine-config", mc);
	json_object_object_add(o, "network-interfaces", fc_interfaces(s));
	if (s->default_initrd) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "guest_cid", json_object_new_int(VM_GUEST_CID));
		json_object_object_add(v, "uds_path", json_object_new_string(s->paths.agent));
		json_object_object_add(o, "vsock", v);
	}
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	int e = 0;
	if (!text || asprintf(out, "%s\n", text) < 0)
		e = -ENOMEM;
	json_object_put(o);
	return e;
}
