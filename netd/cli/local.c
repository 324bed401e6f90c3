#define _GNU_SOURCE
#include "local.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "api.h"
#include "backend.h"
#include "state.h"
#include "util.h"

/* The writer's lock; refused while netd holds it. */
static int lock_state(const char *dir, struct pn_error *err)
{
	int e = state_dir_init(dir);
	int fd = e < 0 ? e : state_trylock(dir);
	if (fd == -EWOULDBLOCK)
		return pn_failx(err, fd, "state dir %s is in use by netd: drop --direct", dir);
	if (fd < 0)
		return pn_fail(err, fd, "state dir %s", dir);
	return fd;
}

int local_call(const struct local *l, const char *method, const char *path, const char *body,
	       size_t len, bool text, struct client_response *r, struct pn_error *err)
{
	*r = (struct client_response){ 0 };
	cleanup_close int lock = -1;
	if (strcmp(method, "GET") != 0 && (lock = lock_state(l->fabric->state_dir, err)) < 0)
		return lock;
	struct fabric *f;
	int e = fabric_open(&f, l->fabric, err);
	if (e < 0)
		return e;
	struct backend b = { .fabric = f, .state_dir = l->fabric->state_dir,
			     .pin_dir = l->fabric->pin_dir, .limits = l->limits };
	const struct api_backend api = backend_api(&b);
	struct api_response ar = { 0 };
	api_handle(&api, method, path, body ? body : "", len, text, &ar);
	r->status = ar.status;
	r->body = ar.body; /* NUL-terminated, as every api_* answer is */
	r->len = ar.len;
	backend_free(&b);
	fabric_close(f);
	return 0;
}
