#include "cliopt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "util.h"

static bool cliopt_id(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || !isdigit((unsigned char)s[0]) || v > 0x7fffffff)
		return false;
	*out = v;
	return true;
}

bool cliopt_tap_owner(const char *s, long *uid, long *gid)
{
	char buf[64];
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return false;
	char *colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	*gid = -1;
	return cliopt_id(buf, uid) && (!colon || cliopt_id(colon, gid));
}

bool cliopt_pool(const char *s, uint32_t *net, uint8_t *prefix)
{
	return ipam_parse_cidr(s, net, prefix) && *prefix <= 31 && !(*net & ~ipam_mask(*prefix));
}

bool cliopt_limit(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || !isdigit((unsigned char)s[0]) || v < 1 || v > 4096)
		return false;
	*out = v;
	return true;
}

const char *cliopt_env(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

#define KEY_OPTION(k, name) [k] = { name, required_argument, NULL, CLIOPT_OPT + (k) }

/* In key order: a key's name is its option's. */
const struct option cliopt_fabric_options[] = {
	KEY_OPTION(CLIOPT_STATE_DIR, "state-dir"),
	KEY_OPTION(CLIOPT_SOCKET, "socket"),
	KEY_OPTION(CLIOPT_HOST_NETNS, "host-netns"),
	KEY_OPTION(CLIOPT_TAP_OWNER, "tap-owner"),
	KEY_OPTION(CLIOPT_POOL, "transit-pool"),
	KEY_OPTION(CLIOPT_RATE, "uplink-rate"),
	KEY_OPTION(CLIOPT_GUARD_CONFIG, "guard-config"),
	KEY_OPTION(CLIOPT_BPF_DIR, "bpf-dir"),
	KEY_OPTION(CLIOPT_MAX_MACHINES, "max-machines"),
	KEY_OPTION(CLIOPT_MAX_NETWORKS, "max-networks"),
	KEY_OPTION(CLIOPT_MAX_INTERFACES, "max-interfaces"),
	{ "config", required_argument, NULL, CLIOPT_OPT + CLIOPT_GUARD_CONFIG },
	{ 0 },
};

static const struct {
	const char *env;
	const char *fallback;
} keys[CLIOPT_KEYS] = {
	[CLIOPT_STATE_DIR] = { "PLAYNET_STATE_DIR", CLIOPT_STATE_DIR_DEFAULT },
	[CLIOPT_SOCKET] = { "PLAYNET_SOCKET", CLIOPT_SOCKET_DEFAULT },
	[CLIOPT_HOST_NETNS] = { "PLAYNET_HOST_NETNS", NULL },
	[CLIOPT_TAP_OWNER] = { "PLAYNET_TAP_OWNER", NULL },
	[CLIOPT_POOL] = { "PLAYNET_TRANSIT_POOL", CLIOPT_POOL_DEFAULT },
	[CLIOPT_RATE] = { "PLAYNET_UPLINK_RATE", NULL },
	[CLIOPT_GUARD_CONFIG] = { "PLAYNET_GUARD_CONFIG", NULL },
	[CLIOPT_BPF_DIR] = { "PLAYNET_BPF_DIR", NULL },
	[CLIOPT_MAX_MACHINES] = { "PLAYNET_MAX_MACHINES", NULL },
	[CLIOPT_MAX_NETWORKS] = { "PLAYNET_MAX_NETWORKS", NULL },
	[CLIOPT_MAX_INTERFACES] = { "PLAYNET_MAX_INTERFACES", NULL },
};

bool cliopt_fabric_longopts(const struct option *own, struct option *out, size_t cap)
{
	size_t n = 0;
	for (const struct option *o = own; o->name; o++)
		if (n < cap)
			out[n++] = *o;
	for (const struct option *o = cliopt_fabric_options; o->name; o++)
		if (n < cap)
			out[n++] = *o;
	if (n >= cap)
		return false;
	out[n] = (struct option){ 0 };
	return true;
}

const char *cliopt_fabric_name(enum cliopt_key k)
{
	return cliopt_fabric_options[k].name;
}

void cliopt_fabric_init(struct cliopt_fabric *f)
{
	*f = (struct cliopt_fabric){ .tap_uid = -1, .tap_gid = -1,
				     .limits = MANIFEST_LIMITS_DEFAULT };
	for (size_t k = 0; k < CLIOPT_KEYS; k++) {
		const char *v = cliopt_env(keys[k].env, NULL);
		f->text[k] = v ? v : keys[k].fallback;
		if (v)
			f->given |= 1u << k;
	}
}

bool cliopt_fabric_set(struct cliopt_fabric *f, int opt, const char *value)
{
	if (opt < CLIOPT_OPT || opt >= CLIOPT_OPT + CLIOPT_KEYS)
		return false;
	f->text[opt - CLIOPT_OPT] = value;
	f->given |= 1u << (opt - CLIOPT_OPT);
	return true;
}

/* Where a bad value came from, for the message. */
static const char *origin(const struct cliopt_fabric *f, enum cliopt_key k, char *buf, size_t len)
{
	const char *env = getenv(keys[k].env);
	if (env && f->text[k] == env)
		return keys[k].env;
	snprintf(buf, len, "--%s", cliopt_fabric_name(k));
	return buf;
}

int cliopt_fabric_finish(struct cliopt_fabric *f, struct pn_error *err)
{
	char o[48];
	const char *t;
	if ((t = f->text[CLIOPT_TAP_OWNER]) && !cliopt_tap_owner(t, &f->tap_uid, &f->tap_gid))
		return pn_failx(err, -EINVAL, "%s: expected UID or UID:GID (numbers), got '%s'",
				origin(f, CLIOPT_TAP_OWNER, o, sizeof(o)), t);
	if (!cliopt_pool(t = f->text[CLIOPT_POOL], &f->pool, &f->pool_prefix))
		return pn_failx(err, -EINVAL,
				"%s: expected an IPv4 CIDR of /31 or larger with no host bits, got '%s'",
				origin(f, CLIOPT_POOL, o, sizeof(o)), t);
	if ((t = f->text[CLIOPT_RATE]) && !manifest_parse_rate(t, &f->uplink_rate))
		return pn_failx(err, -EINVAL,
				"%s: expected a rate from 8kbit to 1000gbit such as 100mbit, got '%s'",
				origin(f, CLIOPT_RATE, o, sizeof(o)), t);
	size_t *limit[] = { &f->limits.max_machines, &f->limits.max_networks,
			    &f->limits.max_interfaces };
	for (size_t i = 0; i < ARRAY_SIZE(limit); i++) {
		enum cliopt_key k = CLIOPT_MAX_MACHINES + i;
		if ((t = f->text[k]) && !cliopt_limit(t, limit[i]))
			return pn_failx(err, -EINVAL, "%s: expected a number from 1 to 4096, got '%s'",
					origin(f, k, o, sizeof(o)), t);
	}
	return 0;
}

size_t cliopt_fabric_argv(const struct cliopt_fabric *f, const char **argv, size_t max)
{
	static char names[CLIOPT_KEYS][32];
	size_t n = 0;
	for (size_t k = 0; k < CLIOPT_KEYS && n + 2 <= max; k++) {
		if (!f->text[k])
			continue;
		snprintf(names[k], sizeof(names[k]), "--%s", cliopt_fabric_name(k));
		argv[n++] = names[k];
		argv[n++] = f->text[k];
	}
	return n;
}
