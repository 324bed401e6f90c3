/*
 * The fabric itself: open and close, errors, the steps the test hooks
 * count, the owner tag, the guards' maps, the host's addresses.
 */
#define _GNU_SOURCE
#include "fabric_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostaddr.h"
#include "link.h"
#include "log.h"
#include "netns.h"
#include "nspool.h"
#include "util.h"

/* Counts the steps of a create or delete; a test hook kills the process at
 * the one it names, as a crash would. */
void fab_point(struct fabric *f)
{
	if (++f->step == f->kill_step) {
		log_warn("killed at step %d by %s", f->step, FABRIC_KILL_STEP_ENV);
		kill(getpid(), SIGKILL);
	}
}

/* A step of a create; the other test hook fails the one it names. */
int fab_step(struct fabric *f, const char *what, struct pn_error *err)
{
	fab_point(f);
	if (f->fail_step != f->step)
		return 0;
	return pn_failx(err, -ECANCELED, "%s: failure injected at step %d", what, f->step);
}


/* A test hook's step number; 0 (none) when unset. */
static int env_step(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? atoi(v) : 0;
}

static int open_fabric(struct fabric *f, const struct fabric_opts *o, struct pn_error *err)
{
	f->o = *o;
	f->host_nsfd = -1;
	f->host_proc = -1;
	f->opened = (int64_t)time(NULL);
	f->fail_step = env_step(FABRIC_FAIL_STEP_ENV);
	f->kill_step = env_step(FABRIC_KILL_STEP_ENV);
	int e = state_dir_init(o->state_dir);
	if (e < 0)
		return pn_fail(err, e, "state dir %s", o->state_dir);
	char real[PATH_MAX];
	if (!realpath(o->state_dir, real))
		return pn_fail(err, -errno, "state dir %s", o->state_dir);
	snprintf(f->owner, sizeof(f->owner), "%08x", naming_hash32(real));
	if (o->host_netns && *o->host_netns) {
		f->host_nsfd = netns_open(o->host_netns);
		if (f->host_nsfd < 0)
			return pn_fail(err, f->host_nsfd, "host netns '%s'", o->host_netns);
	} else {
		f->host_nsfd = netns_open_current();
		if (f->host_nsfd < 0)
			return pn_fail(err, f->host_nsfd, "current netns");
	}
	e = netns_cookie(f->host_nsfd, &f->host_cookie);
	if (e < 0)
		return pn_fail(err, e, "cookie of the host netns");
	if (o->netns_spares && (e = nspool_start(&f->spares, o->netns_spares, fab_prep_spare)) < 0)
		return pn_fail(err, e, "start making spare namespaces");
	return 0;
}

int fabric_open(struct fabric **out, const struct fabric_opts *o, struct pn_error *err)
{
	*out = NULL;
	struct fabric *f = calloc(1, sizeof(*f));
	if (!f)
		return pn_fail(err, -ENOMEM, "open the fabric");
	int e = open_fabric(f, o, err);
	if (e < 0) {
		fabric_close(f);
		return e;
	}
	*out = f;
	return 0;
}

const struct fabric_opts *fabric_options(const struct fabric *f)
{
	return &f->o;
}

int fabric_host_nsfd(const struct fabric *f)
{
	return f->host_nsfd;
}

int64_t fabric_opened_at(const struct fabric *f)
{
	return f->opened;
}

void fabric_owner_alias(const struct fabric *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, FABRIC_ALIAS_PREFIX "%s %s", name, f->owner);
}

bool fabric_owns(const struct fabric *f, const char *alias, char *name, size_t len)
{
	size_t plen = strlen(FABRIC_ALIAS_PREFIX);
	if (strncmp(alias, FABRIC_ALIAS_PREFIX, plen) != 0)
		return false;
	const char *n = alias + plen, *sp = strchr(n, ' ');
	if (!sp || strcmp(sp + 1, f->owner) != 0 || (size_t)(sp - n) >= len)
		return false;
	snprintf(name, len, "%.*s", (int)(sp - n), n);
	return naming_valid_playground(name);
}

void fabric_opts_of(const struct cliopt_fabric *c, char *pin_dir, size_t len,
		    struct fabric_opts *out)
{
	const char *state_dir = c->text[CLIOPT_STATE_DIR];
	fabric_pin_dir(state_dir, c->text[CLIOPT_BPF_DIR], pin_dir, len);
	*out = (struct fabric_opts){
		.state_dir = state_dir,
		.host_netns = c->text[CLIOPT_HOST_NETNS],
		.tap_uid = c->tap_uid,
		.tap_gid = c->tap_gid,
		.pool = c->pool,
		.pool_prefix = c->pool_prefix,
		.pin_dir = pin_dir,
		.uplink_rate = c->uplink_rate,
	};
}

void fabric_pin_dir(const char *state_dir, const char *given, char *out, size_t len)
{
	if (given)
		snprintf(out, len, "%s", given);
	else if (strcmp(state_dir, CLIOPT_STATE_DIR_DEFAULT) == 0)
		snprintf(out, len, "%s/playnet", GUARD_PIN_ROOT);
	else
		snprintf(out, len, "%s/playnet-%08x", GUARD_PIN_ROOT,
			 naming_hash32(state_dir));
}

int fabric_guard(struct fabric *f, struct guard **out, struct pn_error *err)
{
	if (!f->guard) {
		int e = guard_open(f->o.pin_dir, &f->guard, err);
		if (e < 0) {
			pn_wrap(err, "BPF guards");
			return e;
		}
		/* New maps: the deny list and the host's addresses in it
		 * start again. */
		hostaddr_close(f->hostaddr);
		f->hostaddr = NULL;
	}
	*out = f->guard;
	return 0;
}

void fabric_close(struct fabric *f)
{
	if (!f)
		return;
	nspool_stop(f->spares);
	f->spares = NULL;
	fab_unhold_all(f);
	guard_close(f->guard);
	f->guard = NULL;
	hostaddr_close(f->hostaddr);
	f->hostaddr = NULL;
	if (f->host_nsfd >= 0)
		close(f->host_nsfd);
	f->host_nsfd = -1;
	if (f->host_proc >= 0)
		close(f->host_proc);
	free(f);
}

void fabric_transit_addrs(const struct fabric *f, const struct state_record *rec,
			  uint32_t *host, uint32_t *inside)
{
	*host = rec->transit ? rec->transit : f->o.pool + 2 * (uint32_t)rec->transit_index;
	*inside = *host + 1;
}



/* Whether alias, on a link of what would be NAME's, says this fabric made
 * it for NAME. */
bool fab_alias_is_ours(const struct fabric *f, const char *alias, const char *name)
{
	char owner[NAMING_PLAYGROUND_MAX + 1];
	return fabric_owns(f, alias, owner, sizeof(owner)) && strcmp(owner, name) == 0;
}

bool fabric_netns_owns(const struct fabric *f, int nsfd, char *name, size_t len)
{
	struct nl_sock *sk = NULL;
	if (nsfd < 0 || link_sock_open(nsfd, &sk) < 0)
		return false;
	char alias[256];
	int e = link_alias(sk, "lo", alias, sizeof(alias));
	link_sock_close(sk);
	return e == 0 && fabric_owns(f, alias, name, len);
}

/* Whether the namespace's lo carries this fabric's tag for NAME. */
bool fab_netns_is_ours(const struct fabric *f, int nsfd, const char *name)
{
	char owner[NAMING_PLAYGROUND_MAX + 1];
	return fabric_netns_owns(f, nsfd, owner, sizeof(owner)) && strcmp(owner, name) == 0;
}

void fabric_fail_at(struct fabric *f, int step)
{
	f->fail_step = step;
}

void fabric_begin(struct fabric *f)
{
	f->step = 0;
}

int fabric_step(struct fabric *f, const char *what, struct pn_error *err)
{
	return fab_step(f, what, err);
}

void fabric_point(struct fabric *f)
{
	fab_point(f);
}

long fabric_transit_hint(const struct fabric *f)
{
	return f->transit_next;
}

void fabric_transit_taken(struct fabric *f, long index)
{
	f->transit_next = index + 1;
}

long fabric_pool_size(const struct fabric *f)
{
	return 1L << (31 - f->o.pool_prefix);
}
