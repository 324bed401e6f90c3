/*
 * POST /v1/playgrounds/P/machines/M/exec: run one command in a machine,
 * without a shell, for an orchestrator or a grader. Pure: the request's
 * JSON read and checked, the agent's exec frames (agent_proto.h) read as
 * they come, the answer's JSON built. The front end drives these over the
 * stream netd's parent opens to the machine (its VM's agent, or a command
 * server in its netns).
 *
 * Request:  {"command": ["sh", "-c", "ip route"], "timeout_seconds": 60,
 *            "user": "root", "stdin": "..."}   (only command is required)
 * Answer:   {"exit_status": 0, "signal": null, "timed_out": false,
 *            "stdout": "...", "stderr": "...", "truncated": false}
 *           (output that is not UTF-8 comes as stdout_base64/stderr_base64)
 */
#ifndef PLAYNET_API_EXEC_H
#define PLAYNET_API_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

#define API_EXEC_TIMEOUT_DEFAULT 60
#define API_EXEC_TIMEOUT_MAX 3600
#define API_EXEC_ARGS_MAX 1024
#define API_EXEC_OUTPUT_MAX (1024 * 1024) /* of stdout, and of stderr */

struct api_exec {
	char **argv;        /* NULL-terminated */
	size_t argc;
	unsigned timeout_s;
	char user[33];
	char *stdin_data;   /* NULL: none */
	size_t stdin_len;
};

/* The body read and checked: 0, or -EINVAL with a 400 answer in r. */
int api_exec_parse(const char *body, size_t len, struct api_exec *x, struct api_response *r);
void api_exec_free(struct api_exec *x);

/* What the machine is sent: the request frame and stdin's frames, in
 * *out (malloc'd). */
int api_exec_wire(const struct api_exec *x, uint8_t **out, size_t *len);

/* The agent's frames as they come. */
struct api_exec_result {
	uint8_t head[8];
	size_t head_len;   /* of a frame's header so far */
	uint32_t type, want; /* the frame under way: its type and bytes left */
	char *out, *err;
	size_t n_out, n_err;
	bool truncated;
	char end[128];     /* the AGENT_EXIT text */
	size_t n_end;
	bool done, broken;
};

/* Takes len bytes; true once the command's end came (or the stream is
 * broken: not frames). */
bool api_exec_feed(struct api_exec_result *x, const uint8_t *p, size_t len);

/* The answer: 200 with the result, 422 when the agent could not run it,
 * 502 when the stream ended without an end. */
void api_exec_answer(const struct api_exec_result *x, struct api_response *r);
void api_exec_result_free(struct api_exec_result *x);

#endif
