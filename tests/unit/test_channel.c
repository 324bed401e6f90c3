/* The frames between netd's front end and its parent, as the parent reads
 * them: what the front end sends arrives as sent, and a frame a hostile
 * front end could make instead is refused before anything acts on it. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_machine.h"
#include "channel.h"

static int sv[2];

static int setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static int teardown(void **state)
{
	(void)state;
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
	return 0;
}

static void t_round_trip(void **state)
{
	(void)state;
	const struct channel_request sent[] = {
		{ .op = CHANNEL_HEALTH, .name = "" },
		{ .op = CHANNEL_LIST, .text = true, .name = "" },
		{ .op = CHANNEL_GET, .name = "lab-1" },
		{ .op = CHANNEL_STATS, .text = true, .name = "lab-1" },
		{ .op = CHANNEL_DELETE, .name = "x" },
		{ .op = CHANNEL_METRICS, .name = "" },
		{ .op = CHANNEL_PUT, .name = "lab", .manifest = "kind: playground\n",
		  .manifest_len = 17, .plan = "{\"version\":1}", .plan_len = 13 },
		{ .op = CHANNEL_PUT, .name = "lab", .manifest = "kind: x\n", .manifest_len = 8,
		  .plan = "{\"error\":{}}", .plan_len = 12, .refused = true },
	};
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		struct channel_request got;
		assert_int_equal(channel_send_request(sv[0], &sent[i]), 0);
		assert_int_equal(channel_recv_request(sv[1], &got), 0);
		assert_int_equal(got.op, sent[i].op);
		assert_int_equal(got.text, sent[i].text);
		assert_int_equal(got.refused, sent[i].refused);
		assert_string_equal(got.name, sent[i].name);
		assert_int_equal(got.manifest_len, sent[i].manifest_len);
		assert_int_equal(got.plan_len, sent[i].plan_len);
		if (sent[i].manifest_len)
			assert_string_equal(got.manifest, sent[i].manifest);
		if (sent[i].plan_len)
			assert_string_equal(got.plan, sent[i].plan);
		channel_request_free(&got);
	}
}

/* A frame written by hand: its length (or TOTAL when not 0), a header of
 * three lengths and flags, and the three strings. */
static void raw(uint32_t total, uint32_t flags, const char *s1, size_t l1, const char *s2,
		size_t l2, const char *s3, size_t l3)
{
	uint32_t head[4] = { (uint32_t)l1, (uint32_t)l2, (uint32_t)l3, flags };
	uint32_t len = total ? total : (uint32_t)(sizeof(head) + l1 + l2 + l3);
	assert_int_equal(write(sv[0], &len, 4), 4);
	assert_int_equal(write(sv[0], head, sizeof(head)), (ssize_t)sizeof(head));
	if (l1)
		assert_int_equal(write(sv[0], s1, l1), (ssize_t)l1);
	if (l2)
		assert_int_equal(write(sv[0], s2, l2), (ssize_t)l2);
	if (l3)
		assert_int_equal(write(sv[0], s3, l3), (ssize_t)l3);
}

static void refused(uint32_t flags, const char *name, size_t nl, const char *m, size_t ml,
		    const char *p, size_t pl)
{
	struct channel_request got;
	raw(0, flags, name, nl, m, ml, p, pl);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPROTO);
	assert_null(got.buf);
}

#define S(x) x, sizeof(x) - 1
#define NONE "", 0

static void t_hostile_frames(void **state)
{
	(void)state;
	const uint32_t put = CHANNEL_PUT, get = CHANNEL_GET;
	refused(0, NONE, NONE, NONE);                         /* no op */
	refused(CHANNEL_METRICS + 1, NONE, NONE, NONE);       /* an op it does not know */
	refused(get | 1u << 10, S("lab"), NONE, NONE);        /* a flag it does not know */
	refused(get, S("Lab"), NONE, NONE);                   /* not a playground name */
	refused(get, NONE, NONE, NONE);                       /* a name missing */
	refused(get, S("../x"), NONE, NONE);
	refused(get, "la\0b", 4, NONE, NONE);                 /* a NUL in the name */
	refused(CHANNEL_LIST, S("lab"), NONE, NONE);          /* a name where none goes */
	refused(get, S("lab"), S("kind: x"), NONE);           /* a body where none goes */
	refused(CHANNEL_DELETE | 1u << 9, S("lab"), NONE, NONE); /* "refused" on a delete */
	refused(put, S("lab"), S("kind: x"), NONE);           /* a PUT without its plan */
	refused(put, S("lab"), NONE, S("{}"));                /* ... or its manifest */
	refused(put, S("lab"), "kind\0: x", 8, S("{}"));      /* a NUL in the manifest */
	refused(put, S("lab"), S("kind: x"), "{}\0", 3);      /* ... or in the plan */
}

/* An impair or link: the machine and the action (api_machine_op_format's
 * line) arrive as sent; a frame that is not one is refused. */
static void t_machine(void **state)
{
	(void)state;
	const struct channel_request rq = { .op = CHANNEL_MACHINE, .name = "lab-1",
					    .machine = "router", .action = "link eth0 down" };
	struct channel_request got;
	assert_int_equal(channel_send_request(sv[0], &rq), 0);
	assert_int_equal(channel_recv_request(sv[1], &got), 0);
	assert_int_equal(got.op, CHANNEL_MACHINE);
	assert_string_equal(got.name, "lab-1");
	assert_string_equal(got.machine, "router");
	assert_string_equal(got.action, "link eth0 down");
	assert_int_equal(got.plan_len, 0);
	channel_request_free(&got);
	const uint32_t op = CHANNEL_MACHINE;
	char long_action[API_MACHINE_OP_MAX + 1];
	memset(long_action, 'x', sizeof(long_action));
	refused(op, S("lab"), S("router"), NONE);                     /* no action */
	refused(op, S("lab"), NONE, S("link eth0 up"));               /* no machine */
	refused(op, S("lab"), S("-router"), S("link eth0 up"));       /* not a hostname */
	refused(op, S("lab"), S("router"), "link\0eth0", 9);         /* a NUL in the action */
	refused(op, S("lab"), S("router"), long_action, sizeof(long_action));
	refused(op | 1u << 9, S("lab"), S("router"), S("link eth0 up")); /* "refused" */
	refused(CHANNEL_CAPTURE + 1, S("lab"), S("router"), S("link eth0 up"));
}

/* A capture: its target arrives as sent; anything that is not a network
 * or MACHINE/ethN, or carries more, is refused. */
static void t_capture(void **state)
{
	(void)state;
	const char *const targets[] = { "net-1", "router/eth3" };
	for (size_t i = 0; i < 2; i++) {
		const struct channel_request rq = { .op = CHANNEL_CAPTURE, .name = "lab",
						    .machine = targets[i] };
		struct channel_request got;
		assert_int_equal(channel_send_request(sv[0], &rq), 0);
		assert_int_equal(channel_recv_request(sv[1], &got), 0);
		assert_int_equal(got.op, CHANNEL_CAPTURE);
		assert_string_equal(got.machine, targets[i]);
		assert_string_equal(got.action, "");
		channel_request_free(&got);
	}
	const uint32_t op = CHANNEL_CAPTURE;
	refused(op, S("lab"), NONE, NONE);                     /* no target */
	refused(op, S("lab"), S("../eth0"), NONE);
	refused(op, S("lab"), S("router/eth0/x"), NONE);
	refused(op, S("lab"), S("router/wlan0"), NONE);
	refused(op, S("lab"), S("net-1"), S("icmp"));          /* a filter: never the parent's */
	refused(op, NONE, S("net-1"), NONE);                   /* no playground */
}

static void t_bad_lengths(void **state)
{
	(void)state;
	struct channel_request got;
	/* the lengths inside do not add up to the frame's */
	raw(16 + 3 + 4, CHANNEL_GET, S("lab"), NONE, NONE);
	assert_int_equal(write(sv[0], "abcd", 4), 4);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPROTO);
	/* larger than any frame may be: refused before it is read */
	uint32_t huge = CHANNEL_MAX_FRAME + 1;
	assert_int_equal(write(sv[0], &huge, 4), 4);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPROTO);
	/* shorter than a header */
	uint32_t tiny = 3;
	assert_int_equal(write(sv[0], &tiny, 4), 4);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPROTO);
	/* a front end gone halfway through a frame */
	raw(100, CHANNEL_GET, S("lab"), NONE, NONE);
	close(sv[0]);
	sv[0] = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPIPE);
}

/* Waiting for an answer takes nothing from it, and ends on an answer that
 * is there, on an end that is closed, and after its time when neither. */
static void t_await(void **state)
{
	(void)state;
	const struct channel_request rq = { .op = CHANNEL_GET, .name = "lab-1" };
	struct channel_request got;

	channel_await(sv[1], 1000); /* nothing: returns after its time */
	assert_int_equal(channel_send_request(sv[0], &rq), 0);
	channel_await(sv[1], 1000000);
	assert_int_equal(channel_recv_request(sv[1], &got), 0);
	assert_string_equal(got.name, "lab-1");
	channel_request_free(&got);

	close(sv[0]);
	sv[0] = -1;
	channel_await(sv[1], 1000000);
	assert_int_equal(channel_recv_request(sv[1], &got), -EPIPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hostile_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(t_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(t_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(t_await, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
