/*
 * What is said about a created playground, the same for `playnet` and the
 * API: its record and plan, its state against the kernel (show), and its
 * guard counters (stats), as text-ready values and as stable JSON.
 */
#ifndef PLAYNET_REPORT_H
#define PLAYNET_REPORT_H

#include <json-c/json.h>
#include <net/if.h>
#include <stdio.h>

#include "diag.h"
#include "fabric.h"
#include "guard.h"
#include "nft.h"
#include "plan.h"
#include "state.h"

/* "ready", "degraded" (objects missing), or the record's phase. */
const char *report_status(const struct state_record *rec, const struct fabric_report *r);

/* The plan's JSON with status, transit, host netns and what is missing. */
struct json_object *report_show_json(const struct fabric *f, const struct state_record *rec,
				     const struct plan *p, const struct fabric_report *r);

struct report_iface {
	char device[IFNAMSIZ];
	char machine[96];  /* "machine/ethN", "" for the uplink */
	struct guard_counters c;
};

/* What pg-P itself dropped of a network's traffic (nft.h). */
struct report_network {
	char name[MANIFEST_NAME_MAX + 1];
	char bridge[IFNAMSIZ];
	struct nft_drops drops;
};

struct report_stats {
	struct report_iface *ifaces;
	size_t n;
	struct guard_counters total;
	struct report_network *networks;
	size_t n_networks;
};

/* Counters of every guarded interface of the playground. */
int report_stats(const char *pin_dir, const struct state_record *rec, const struct plan *p,
		 struct report_stats *s, struct pn_error *err);
struct json_object *report_stats_json(const char *name, const struct report_stats *s);
void report_stats_free(struct report_stats *s);

/* What playnet prints for show and stats, also served as text/plain. */
void report_show_text(FILE *out, const struct fabric *f, const struct state_record *rec,
		      const struct plan *p, const struct fabric_report *r);
void report_stats_text(FILE *out, const struct report_stats *s);

/* A fabric's settings as /healthz says them (stateDir, hostNetns,
 * transitPool, tapOwner, uplinkRate, bpfDir, guardConfig, maxMachines,
 * maxNetworks, maxInterfaces): netd says its own, and playnet compares
 * with them the same object made of what it was given. */
struct json_object *report_settings_json(const struct fabric_opts *o,
					 const struct manifest_limits *lim,
					 const char *guard_config);

/* The string member KEY of a JSON answer (show, ls, /healthz), or
 * fallback when it is absent or null. */
const char *report_member(struct json_object *o, const char *key, const char *fallback);

/* A playground as ls lists it: name, phase, hostNetns, created (ISO 8601). */
struct json_object *report_list_entry(const struct state_record *rec);
/* The same as a table; nothing when there are none. */
void report_list_text(FILE *out, struct json_object *arr);

/* "src_mac=3 uplink_deny=1", or "0". */
void report_drops_text(const struct guard_counters *c, char *buf, size_t len);

#endif
