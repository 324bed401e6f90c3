/*
 * The playground manifest (DESIGN.md section 1): labctl's format plus
 * playnet's extensions, read with libyaml into plain structs. Reading checks
 * every field on its own and the references between them; addresses are
 * checked and allocated by ipam.
 */
#ifndef PLAYNET_MANIFEST_H
#define PLAYNET_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"

#define MANIFEST_NAME_MAX 32      /* network names */
#define MANIFEST_HOSTNAME_MAX 63  /* machine names */
#define MANIFEST_MAX_BYTES (1024 * 1024)
#define MANIFEST_MAX_DNS 4
#define MANIFEST_MAX_DRIVES 16    /* per machine */
#define MANIFEST_SOURCE_MAX 4095  /* a drive's source */
#define MANIFEST_RAM_MIN (16ull << 20)
#define MANIFEST_RAM_MAX (4ull << 40)

struct manifest_limits {
	size_t max_machines;
	size_t max_networks;
	size_t max_interfaces; /* per machine */
};

#define MANIFEST_LIMITS_DEFAULT { .max_machines = 16, .max_networks = 8, .max_interfaces = 8 }

struct manifest_pos {
	int line;
	int column;
};

struct manifest_network {
	char name[MANIFEST_NAME_MAX + 1];
	struct manifest_pos pos;
	uint32_t subnet; /* host byte order, host bits zero */
	uint8_t prefix;
	bool private_net;
	bool vlans;      /* machines may send frames with one VLAN tag */
	bool has_gateway;
	uint32_t gateway;
	struct manifest_pos gateway_pos;
	unsigned mtu; /* 0: default */
	uint32_t dns[MANIFEST_MAX_DNS];
	size_t n_dns;
	bool implicit; /* the default "local" network, not written in the file */
	bool valid;    /* subnet parsed; ipam skips networks that did not */
};

struct manifest_impair {
	bool set;
	uint32_t delay_us;
	uint32_t jitter_us;
	uint32_t loss_ppm;   /* parts per million */
	uint64_t rate_bps;   /* bits per second, 0: unlimited */
	uint32_t duplicate_ppm;
	uint32_t reorder_ppm; /* sent at once, ahead of the delayed rest */
	uint32_t corrupt_ppm; /* one bit flipped */
};

/* The keys of an interface's impair mapping, as the manifest and
 * `playnet impair` spell them. */
#define MANIFEST_IMPAIR_KEYS 7
extern const char *const manifest_impair_keys[MANIFEST_IMPAIR_KEYS];

struct manifest_guard {
	bool ip_source;   /* drop IPv4/ARP with a sender address not assigned */
	bool dhcp_server; /* drop DHCP server replies sent by the machine */
};

struct manifest_interface {
	struct manifest_pos pos;
	char network[MANIFEST_NAME_MAX + 1];
	struct manifest_pos network_pos;
	size_t network_index; /* resolved; SIZE_MAX when the network is unknown */
	bool has_address; /* given in the file */
	uint8_t address_prefix; /* "A.B.C.D/N" gave N, which must be its network's; 0: none */
	uint32_t address;  /* given or allocated by ipam */
	struct manifest_pos address_pos;
	bool has_mac;
	uint8_t mac[6];
	struct manifest_pos mac_pos;
	struct manifest_guard guard;
	struct manifest_impair impair;
};

/* A port of the host's own addresses sent on to a port of a machine
 * (playnet's extension: forwards on a machine). */
#define MANIFEST_MAX_FORWARDS 16 /* per machine */
struct manifest_forward {
	uint8_t proto;      /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;      /* the machine's */
	uint16_t host_port; /* the host's */
	uint32_t host_addr; /* host byte order; 0: every local address */
	struct manifest_pos pos;
};

/* "tcp" or "udp"; and back (-EINVAL for anything else). */
const char *manifest_proto_name(uint8_t proto);
int manifest_proto_parse(const char *s, uint8_t *proto);
/* A hostAddress the kernel forwards: not 0.0.0.0, 127.0.0.0/8, multicast
 * or broadcast (host byte order). */
bool manifest_forward_addr_ok(uint32_t addr);
/* Two forwards take the same host port: one protocol and port, and
 * addresses that meet (0 meets every one). */
bool manifest_forwards_clash(const struct manifest_forward *a, const struct manifest_forward *b);

enum manifest_runtime { MANIFEST_RUNTIME_VM, MANIFEST_RUNTIME_NETNS };

/* What a drive holds; AUTO is told from the file's first bytes by vmlaunch. */
enum manifest_drive_kind {
	MANIFEST_DRIVE_AUTO,
	MANIFEST_DRIVE_KERNEL,
	MANIFEST_DRIVE_INITRD,
	MANIFEST_DRIVE_DISK,
};

enum manifest_fs { MANIFEST_FS_NONE, MANIFEST_FS_EXT4, MANIFEST_FS_XFS };

#define MANIFEST_MOUNT_MAX 255
#define MANIFEST_DRIVE_SIZE_MIN (1ULL << 20)
#define MANIFEST_DRIVE_SIZE_MAX (16ULL << 40)

/* One entry of a machine's drives, as labctl writes them: a source (a
 * local file, a catalog image such as debian-12, or oci://REF) or none (a
 * blank disk of size), where the guest mounts it, its size (a root grows
 * to it), the file system a blank disk gets; and playnet's optional kind. */
struct manifest_drive {
	char *source;          /* NULL: a blank disk */
	enum manifest_drive_kind kind;
	char mount[MANIFEST_MOUNT_MAX + 1]; /* "": not mounted */
	uint64_t size;         /* bytes, 0: none given */
	enum manifest_fs filesystem;
	struct manifest_pos pos, source_pos, mount_pos, size_pos;
};

const char *manifest_fs_name(enum manifest_fs f);
/* "none", "ext4" or "xfs"; -EINVAL for anything else. */
int manifest_fs_parse(const char *s, enum manifest_fs *f);

#define MANIFEST_USER_MAX 32

struct manifest_machine {
	char name[MANIFEST_HOSTNAME_MAX + 1];
	struct manifest_pos pos;
	/* labctl's users: the one with default: true, whom ssh logs in as
	 * ("": root). */
	char default_user[MANIFEST_USER_MAX + 1];
	enum manifest_runtime runtime;
	unsigned cpu_count;    /* 0: backend default */
	uint64_t ram_bytes;    /* 0: backend default */
	struct manifest_drive *drives;
	size_t n_drives;
	struct manifest_interface *interfaces;
	size_t n_interfaces;
	struct manifest_forward forwards[MANIFEST_MAX_FORWARDS];
	size_t n_forwards;
	struct manifest_pos forwards_pos;
};

/* A task of labctl's playground.initTasks, or of playground.tasks as
 * iximiuz challenges write them: a script run in a machine as a user.
 * init: run once the machines are up (every initTasks entry, unless it
 * says init: false); else a check, run by 'playnet check'. */
#define MANIFEST_TASK_NAME_MAX 63
#define MANIFEST_MAX_TASKS 64
#define MANIFEST_TASK_TIMEOUT_DEFAULT 300
#define MANIFEST_TASK_TIMEOUT_MAX 86400

struct manifest_task {
	char name[MANIFEST_TASK_NAME_MAX + 1];
	size_t machine;        /* index in machines */
	char user[MANIFEST_USER_MAX + 1];
	char *run;
	size_t *needs;         /* indices in tasks */
	size_t n_needs;
	unsigned timeout_s;
	bool init;
	struct manifest_pos pos;
};

struct manifest {
	char *title;
	char *name; /* the top-level name: labctl's, a playground name; NULL: none */
	struct manifest_pos name_pos;
	struct manifest_network *networks;
	size_t n_networks;
	struct manifest_machine *machines;
	size_t n_machines;
	struct manifest_task *tasks; /* in the order they are written */
	size_t n_tasks;
};

/*
 * Parses and checks a manifest held in memory. On success returns 0 and fills
 * m; otherwise returns -EINVAL with every problem in d (d->file names the
 * input) and m is left empty, or -ENOMEM.
 */
int manifest_parse(const char *buf, size_t len,
		   const struct manifest_limits *lim, struct manifest *m,
		   struct diag *d);

/* Reads a file (at most MANIFEST_MAX_BYTES) and parses it. -errno when the
 * file cannot be read, with the reason in d. */
int manifest_load(const char *path, const struct manifest_limits *lim,
		  struct manifest *m, struct diag *d);

/* The file's text, NUL-terminated, for keeping next to a playground. */
/* One interface's impair mapping on its own, as the API's impair route
 * takes it (YAML or JSON, the manifest's keys and units). */
int manifest_parse_impair(const char *buf, size_t len, struct manifest_impair *im,
			  struct diag *d);
int manifest_read_file(const char *path, char **buf, size_t *len,
		       struct diag *d);

void manifest_free(struct manifest *m);

/* "kernel", "initrd", "disk" or "auto". */
const char *manifest_drive_kind_name(enum manifest_drive_kind k);
/* The other way round; -EINVAL for none of them. */
int manifest_drive_kind_parse(const char *s, enum manifest_drive_kind *k);

/* What a subnet overlaps that no bridge may hold ("in 127.0.0.0/8
 * (loopback)"), or NULL. */
const char *manifest_subnet_special(uint32_t net, uint8_t prefix);

/* Index of a network by name, or -1. */
ssize_t manifest_find_network(const struct manifest *m, const char *name);

/* "10mbit", "1gbit", "500kbps": bits per second, as impair.rate reads them. */
bool manifest_parse_rate(const char *s, uint64_t *bps);

bool manifest_valid_network_name(const char *s);
/* A user name as useradd takes it: [a-z_][a-z0-9_-]*, at most 32. */
bool manifest_valid_user(const char *s);
bool manifest_valid_hostname(const char *s);

/* The gateway of a non-private network: given, or the first host address. */
uint32_t manifest_gateway(const struct manifest_network *n);

/* playground.initTasks and playground.tasks (manifest_tasks.c), which
 * manifest_parse reads once the machines are: names, machines, needs and
 * cycles checked, each problem at its line and column. -ENOMEM or 0. */
struct ytree_node;
int manifest_read_tasks(struct diag *d, const struct ytree_node *pg, struct manifest *m);
/* The tasks in an order that runs each after what it needs: order[i]
 * indices in m->tasks (m's tasks are checked: no cycle). */
void manifest_task_order(const struct manifest *m, size_t *order);
void manifest_tasks_free(struct manifest *m);

/* forwards (manifest_forward.c): one entry read into fw; a machine's list;
 * and the checks that need the networks (a forward reaches a machine
 * through its playground's uplink: only one on a non-private network),
 * each problem at its line and column. */
struct ytree_node;
void manifest_read_forward(struct diag *d, const struct ytree_node *n, const char *path,
			   struct manifest_forward *fw);
void manifest_read_forwards(struct diag *d, const struct ytree_node *v, const char *path,
			    struct manifest_machine *mc);
void manifest_check_forwards(const struct manifest *m, struct diag *d);
/* Index of the first interface of mc on a non-private network, or -1. */
ssize_t manifest_forward_interface(const struct manifest *m, const struct manifest_machine *mc);
/* One forward on its own, as the API takes it (YAML or JSON, the
 * manifest's keys): 0, or -EINVAL with the problems in d. */
int manifest_parse_forward(const char *buf, size_t len, struct manifest_forward *fw,
			   struct diag *d);

/* The address pass (manifest_addr.c), which manifest_parse runs: each
 * interface's address written into it; -EINVAL with the problems in d. */
int manifest_assign_addresses(struct manifest *m, struct diag *d);

#endif
