/*
 * The resolved topology of one playground: everything the fabric builds and
 * everything a VMM needs, derived from a checked manifest and the
 * playground's name alone, so the same inputs give the same plan.
 */
#ifndef PLAYNET_PLAN_H
#define PLAYNET_PLAN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "manifest.h"
#include "naming.h"

#define PLAN_DEFAULT_MTU 1500

struct plan_network {
	char name[MANIFEST_NAME_MAX + 1];
	char bridge[IFNAMSIZ];
	uint32_t subnet;
	uint8_t prefix;
	bool private_net;
	bool vlans;       /* machines may send frames with one VLAN tag */
	bool has_gateway; /* non-private networks */
	uint32_t gateway;
	unsigned mtu;
	uint32_t dns[MANIFEST_MAX_DNS];
	size_t n_dns;
};

enum plan_port_kind { PLAN_PORT_TAP, PLAN_PORT_VETH };

struct plan_interface {
	char name[IFNAMSIZ];   /* inside the machine: eth0, eth1, ... */
	size_t network;        /* index into plan.networks */
	enum plan_port_kind kind;
	char device[IFNAMSIZ]; /* the tap, or the veth end in the bridge */
	uint8_t mac[6];
	uint32_t address;
	uint8_t prefix;
	struct manifest_guard guard;
	bool vlans; /* its network's: one VLAN tag allowed */
	struct manifest_impair impair; /* changed by `playnet impair` */
	bool link_down; /* taken down by `playnet link` */
};

struct plan_machine {
	char name[MANIFEST_HOSTNAME_MAX + 1];
	enum manifest_runtime runtime;
	char netns[NAMING_NETNS_MAX]; /* netns machines only */
	bool has_default_gateway;     /* first non-private network's gateway */
	uint32_t default_gateway;
	unsigned cpu_count;
	uint64_t ram_bytes;
	char user[MANIFEST_USER_MAX + 1]; /* ssh's: the manifest's default user, "" root */
	struct manifest_drive *drives; /* for vmlaunch; sources are copies */
	size_t n_drives;
	struct plan_interface *interfaces;
	size_t n_interfaces;
	struct manifest_forward forwards[MANIFEST_MAX_FORWARDS]; /* pos unused */
	size_t n_forwards;
};

struct plan {
	char name[NAMING_PLAYGROUND_MAX + 1];
	char *title;
	char netns[NAMING_NETNS_MAX];
	char uplink_host[IFNAMSIZ];
	struct plan_network *networks;
	size_t n_networks;
	struct plan_machine *machines;
	size_t n_machines;
};

/* Builds the plan of a checked manifest. -EINVAL (with d) for a bad name. */
int plan_build(const struct manifest *m, const char *name, struct plan *p,
	       struct diag *d);
void plan_free(struct plan *p);

/* The interface a forward to mc reaches it on: its first on a
 * non-private network; NULL: none. */
const struct plan_interface *plan_forward_interface(const struct plan *p,
						    const struct plan_machine *mc);
/* The forward of p that takes fw's host port (manifest_forwards_clash),
 * and in *machine the index of its machine; NULL: none. */
const struct manifest_forward *plan_find_forward(const struct plan *p,
						 const struct manifest_forward *fw, size_t *machine);
/* How many forwards p's machines have. */
size_t plan_n_forwards(const struct plan *p);

/* Fills in what follows from the rest (names of namespaces, bridges,
 * ports and interfaces; prefixes, VLAN flags, default gateways): a plan
 * that came from elsewhere (plan_wire) is named as the planner names it. */
void plan_derive(struct plan *p);

/* Checks and plans a manifest held in memory under name: every problem in
 * d (manifest_parse, plan_build). */
int plan_parse(const char *buf, size_t len, const char *name,
	       const struct manifest_limits *lim, struct plan *p, struct diag *d);

/* Reads, checks and plans a manifest file under name: every problem in d.
 * text: NULL, or where the file's text goes (NUL-terminated, the caller's
 * to free), to keep beside the playground. */
int plan_load_file(const char *file, const char *name, const struct manifest_limits *lim,
		   struct plan *p, char **text, struct diag *d);
/* The same under the manifest's own top-level name:, else fallback, as
 * labctl names a playground. -EDESTADDRREQ: neither (fallback NULL). */
int plan_load_file_default(const char *file, const char *fallback,
			   const struct manifest_limits *lim, struct plan *p, char **text,
			   struct diag *d);

const char *plan_runtime_name(enum manifest_runtime r);

#endif
