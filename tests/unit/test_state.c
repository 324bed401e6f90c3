/* Transit allocations: next-fit from a hint, wrapping, recorded by name. */
#include "testutil.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "state.h"

struct dir {
	char path[64];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/pn-state.XXXXXX");
	if (!mkdtemp(d->path) || state_dir_init(d->path) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	int r = system(cmd);
	free(d);
	return r == 0 ? 0 : -1;
}

static long alloc(const char *dir, long max, long from)
{
	long i = -1;
	int e = state_transit_alloc(dir, "p", max, from, &i);
	return e < 0 ? e : i;
}

static void t_next_fit(void **state)
{
	const char *dir = ((struct dir *)*state)->path;
	assert_int_equal(alloc(dir, 4, 0), 0);
	assert_int_equal(alloc(dir, 4, 1), 1);
	/* The hint is where it starts looking, not what it must get. */
	assert_int_equal(alloc(dir, 4, 1), 2);
	assert_int_equal(state_transit_free(dir, 1), 0);
	/* Past the end it wraps to the hole behind. */
	assert_int_equal(alloc(dir, 4, 3), 3);
	assert_int_equal(alloc(dir, 4, 4), 1);
	assert_int_equal(alloc(dir, 4, 0), -EADDRNOTAVAIL);
	assert_int_equal(alloc(dir, 4, -7), -EADDRNOTAVAIL);
}

static int name_of(long index, const char *name, void *arg)
{
	if (index == 2)
		snprintf(arg, 16, "%s", name);
	return 0;
}

static void t_recorded_by_name(void **state)
{
	const char *dir = ((struct dir *)*state)->path;
	long i = -1;
	assert_int_equal(state_transit_alloc(dir, "lab-a", 8, 2, &i), 0);
	assert_int_equal(i, 2);
	char name[16] = "";
	assert_int_equal(state_transit_each(dir, name_of, name), 0);
	assert_string_equal(name, "lab-a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_next_fit, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(t_recorded_by_name, dir_setup, dir_teardown),
	};
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
