/*
 * The state dir (DESIGN.md section 5): one JSON file per playground, written
 * atomically, recording intent before the fabric acts; transit allocations
 * as one file per index, made with O_EXCL so that no index is handed out
 * twice; a lock file that lets one writer in.
 */
#ifndef PLAYNET_STATE_H
#define PLAYNET_STATE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "naming.h"

enum state_phase { STATE_CREATING, STATE_READY, STATE_DELETING };

struct state_record {
	char name[NAMING_PLAYGROUND_MAX + 1];
	enum state_phase phase;
	char host_netns[NAMING_NETNS_MAX]; /* "" for the netns netd started in */
	long transit_index;                /* -1: none */
	/* The /31's host end (the inside end is the next address), as it was
	 * allocated: show stays right after netd restarts with another
	 * --transit-pool. 0 in a record of a netd from before it was kept. */
	uint32_t transit;
	int64_t created;                   /* unix time */
	char *manifest;                    /* the manifest as given */
	/* Its plan as plan_wire wrote it (owned); NULL in a record of a netd
	 * from before plans were recorded. */
	struct json_object *plan;
};

/* Creates the dir (and its transit/ subdir) if needed. */
int state_dir_init(const char *dir);
/* Takes the writer lock (blocking); returns the fd that holds it. */
int state_lock(const char *dir);
/* The same without waiting: -EWOULDBLOCK when someone holds it. */
int state_trylock(const char *dir);

int state_write(const char *dir, const struct state_record *r);
/* -ENOENT when there is no such playground; -EINVAL for a corrupt file. */
int state_read(const char *dir, const char *name, struct state_record *r);
int state_remove(const char *dir, const char *name);
void state_record_free(struct state_record *r);

/* Calls fn for each playground name with a state file, sorted. */
int state_list(const char *dir, int (*fn)(const char *name, void *arg), void *arg);

/* The first free index below max at or after from, wrapping round, recorded
 * for name; -EADDRNOTAVAIL when none (-ENOSPC: the filesystem is full). Starting where the last one was found keeps
 * a daemon with a thousand allocations from probing them all each time. */
int state_transit_alloc(const char *dir, const char *name, long max, long from,
			long *index);
int state_transit_free(const char *dir, long index);
/* Records an allocation as name's from now on (a playground that takes
 * over another's namespace, uplink and all); -ENOENT when it is free. */
int state_transit_give(const char *dir, long index, const char *name);
/* Calls fn(index, name, arg) for each allocation; name is "" if unreadable. */
int state_transit_each(const char *dir, int (*fn)(long index, const char *name, void *arg),
		       void *arg);

const char *state_phase_name(enum state_phase p);

#endif
