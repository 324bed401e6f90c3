#define _GNU_SOURCE
#include "api_machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "plan_json.h"

bool api_valid_iface(const char *s)
{
	if (strncmp(s, "eth", 3) != 0)
		return false;
	size_t n = strspn(s + 3, "0123456789");
	return n >= 1 && n <= 3 && s[3 + n] == '\0' && (n == 1 || s[3] != '0');
}

static int refuse(struct api_response *r, int status, const char *code, const char *msg)
{
	api_error(r, status, code, msg, 0, 0);
	return -1;
}

static int read_impair(const char *method, const char *body, size_t len,
		       struct api_machine_op *op, struct api_response *r)
{
	op->verb = API_MACHINE_IMPAIR;
	if (strcmp(method, "DELETE") == 0)
		return 0;
	if (strcmp(method, "PUT") != 0) {
		refuse(r, 405, "method_not_allowed", "PUT or DELETE an impairment");
		r->allow = "PUT, DELETE";
		return -1;
	}
	if (len == 0 || memchr(body, '\0', len))
		return refuse(r, 400, "empty_body",
			      "PUT an impair mapping, such as {\"delay\": \"50ms\", \"loss\": \"1%\"}");
	struct diag d;
	diag_init(&d, "impair");
	int e = manifest_parse_impair(body, len, &op->impair, &d);
	if (e == -ENOMEM) {
		api_error(r, 500, "memory", "out of memory", 0, 0);
	} else if (e < 0) {
		const struct diag_entry *x = d.count ? &d.entries[0] : NULL;
		api_error(r, 422, "invalid_impair", x ? x->message : "not an impair mapping",
			  x ? x->line : 0, x ? x->column : 0);
	}
	diag_free(&d);
	return e < 0 ? -1 : 0;
}

static int read_link(const char *method, const char *body, size_t len,
		     struct api_machine_op *op, struct api_response *r)
{
	op->verb = API_MACHINE_LINK;
	if (strcmp(method, "PUT") != 0) {
		api_error(r, 405, "method_not_allowed", "PUT a link's state", 0, 0);
		r->allow = "PUT";
		return -1;
	}
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	bool whole = tok && json_tokener_get_error(tok) == json_tokener_success &&
		     json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	struct json_object *state = NULL;
	const char *s = whole && json_object_is_type(o, json_type_object) &&
					json_object_object_length(o) == 1 &&
					json_object_object_get_ex(o, "state", &state) &&
					json_object_is_type(state, json_type_string)
				? json_object_get_string(state)
				: "";
	op->up = strcmp(s, "up") == 0;
	bool ok = op->up || strcmp(s, "down") == 0;
	json_object_put(o);
	if (!ok)
		return refuse(r, 422, "invalid_link", "PUT {\"state\": \"up\"} or {\"state\": \"down\"}");
	return 0;
}

static int read_forward(const char *body, size_t len, struct api_machine_op *op,
			struct api_response *r)
{
	op->verb = API_MACHINE_FORWARD;
	if (len == 0 || memchr(body, '\0', len))
		return refuse(r, 400, "empty_body",
			      "POST a forward, such as {\"port\": 80, \"hostPort\": 8080}");
	struct diag d;
	diag_init(&d, "forward");
	int e = manifest_parse_forward(body, len, &op->forward, &d);
	if (e == -ENOMEM) {
		api_error(r, 500, "memory", "out of memory", 0, 0);
	} else if (e < 0) {
		const struct diag_entry *x = d.count ? &d.entries[0] : NULL;
		api_error(r, 422, "invalid_forward", x ? x->message : "not a forward",
			  x ? x->line : 0, x ? x->column : 0);
	}
	diag_free(&d);
	return e < 0 ? -1 : 0;
}

/* "tcp/8080" or "udp/53" into fw's protocol and host port. */
static bool host_port_of(const char *s, struct manifest_forward *fw)
{
	char proto[4];
	if (strlen(s) < 4 || s[3] != '/')
		return false;
	memcpy(proto, s, 3);
	proto[3] = '\0';
	if (manifest_proto_parse(proto, &fw->proto) < 0)
		return false;
	size_t n = strspn(s + 4, "0123456789");
	if (n == 0 || n > 5 || s[4 + n] != '\0' || s[4] == '0')
		return false;
	unsigned long v = strtoul(s + 4, NULL, 10);
	fw->host_port = (uint16_t)v;
	return v <= 65535;
}

/* forwards (POST), forwards/PROTO/PORT (DELETE) */
static int route_forwards(const char *method, const char *rest, const char *body, size_t len,
			  struct api_machine_op *op, struct api_response *r)
{
	if (strcmp(rest, "forwards") == 0) {
		if (strcmp(method, "POST") == 0)
			return read_forward(body, len, op, r);
		refuse(r, 405, "method_not_allowed", "POST a forward (GET the playground to list them)");
		r->allow = "POST";
		return -1;
	}
	if (!host_port_of(rest + 9, &op->forward))
		return refuse(r, 404, "not_found",
			      "no such resource (a forward is .../forwards/tcp/PORT or /udp/PORT)");
	op->verb = API_MACHINE_UNFORWARD;
	if (strcmp(method, "DELETE") == 0)
		return 0;
	refuse(r, 405, "method_not_allowed", "DELETE a forward");
	r->allow = "DELETE";
	return -1;
}

int api_machine_route(const char *method, const char *rest, const char *body, size_t len,
		      struct api_machine_op *op, struct api_response *r)
{
	memset(op, 0, sizeof(*op));
	if (strcmp(rest, "forwards") == 0 || strncmp(rest, "forwards/", 9) == 0)
		return route_forwards(method, rest, body, len, op, r);
	const char *what;
	if (strncmp(rest, "interfaces/", 11) != 0 || !(what = strchr(rest + 11, '/')))
		return refuse(r, 404, "not_found",
			      "no such resource (a machine has /exec, /forwards and /interfaces/I/impair, /link or /capture)");
	size_t n = (size_t)(what - (rest + 11));
	if (n >= sizeof(op->iface))
		return refuse(r, 400, "invalid_interface", "an interface is eth0, eth1, ...");
	memcpy(op->iface, rest + 11, n);
	op->iface[n] = '\0';
	if (!api_valid_iface(op->iface))
		return refuse(r, 400, "invalid_interface", "an interface is eth0, eth1, ...");
	if (strcmp(what + 1, "impair") == 0)
		return read_impair(method, body, len, op, r);
	if (strcmp(what + 1, "link") == 0)
		return read_link(method, body, len, op, r);
	if (strcmp(what + 1, "capture") == 0) {
		op->verb = API_MACHINE_CAPTURE;
		if (strcmp(method, "GET") == 0)
			return 0;
		refuse(r, 405, "method_not_allowed", "GET a capture");
		r->allow = "GET";
		return -1;
	}
	return refuse(r, 404, "not_found",
		      "no such resource (an interface has /impair, /link and /capture)");
}

int api_machine_op_format(const struct api_machine_op *op, char *buf, size_t len)
{
	const struct manifest_impair *im = &op->impair;
	int n;
	switch (op->verb) {
	case API_MACHINE_IMPAIR:
		n = snprintf(buf, len,
			     "impair %s %d %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %" PRIu32
			     " %" PRIu32 " %" PRIu32,
			     op->iface, im->set, im->delay_us, im->jitter_us, im->loss_ppm,
			     im->rate_bps, im->duplicate_ppm, im->reorder_ppm, im->corrupt_ppm);
		break;
	case API_MACHINE_LINK:
		n = snprintf(buf, len, "link %s %s", op->iface, op->up ? "up" : "down");
		break;
	case API_MACHINE_FORWARD:
		n = snprintf(buf, len, "forward %s %u %u %" PRIu32,
			     manifest_proto_name(op->forward.proto), op->forward.host_port,
			     op->forward.port, op->forward.host_addr);
		break;
	case API_MACHINE_UNFORWARD:
		n = snprintf(buf, len, "unforward %s %u", manifest_proto_name(op->forward.proto),
			     op->forward.host_port);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int parse_impair(const char *s, struct api_machine_op *op)
{
	struct manifest_impair *im = &op->impair;
	int set, end = 0;
	if (sscanf(s, "impair %15s %d %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNu32
		      " %" SCNu32 " %" SCNu32 "%n",
		   op->iface, &set, &im->delay_us, &im->jitter_us, &im->loss_ppm, &im->rate_bps,
		   &im->duplicate_ppm, &im->reorder_ppm, &im->corrupt_ppm, &end) != 9 ||
	    s[end] != '\0')
		return -EINVAL;
	im->set = set == 1;
	bool share_ok = im->loss_ppm <= 1000000 && im->duplicate_ppm <= 1000000 &&
			im->reorder_ppm <= 1000000 && im->corrupt_ppm <= 1000000;
	if ((set != 0 && set != 1) || !api_valid_iface(op->iface) || !share_ok ||
	    im->delay_us > 60000000 || im->jitter_us > 60000000 ||
	    (im->rate_bps && (im->rate_bps < 8000 || im->rate_bps > 1000000000000ull)))
		return -EINVAL;
	/* format wrote what the route read: so it reads again the same */
	char again[API_MACHINE_OP_MAX];
	op->verb = API_MACHINE_IMPAIR;
	if (api_machine_op_format(op, again, sizeof(again)) < 0 || strcmp(again, s) != 0)
		return -EINVAL;
	return 0;
}

static int parse_forward(const char *s, struct api_machine_op *op)
{
	char proto[4];
	unsigned host_port, port = 0;
	uint32_t addr = 0;
	int end = 0;
	struct manifest_forward *f = &op->forward;
	if (strncmp(s, "forward ", 8) == 0) {
		if (sscanf(s, "forward %3s %u %u %" SCNu32 "%n", proto, &host_port, &port, &addr,
			   &end) != 4)
			return -EINVAL;
		op->verb = API_MACHINE_FORWARD;
	} else if (sscanf(s, "unforward %3s %u%n", proto, &host_port, &end) == 2) {
		op->verb = API_MACHINE_UNFORWARD;
	} else {
		return -EINVAL;
	}
	bool fwd = op->verb == API_MACHINE_FORWARD;
	if (s[end] != '\0' || manifest_proto_parse(proto, &f->proto) < 0 || host_port < 1 ||
	    host_port > 65535 || (fwd && (port < 1 || port > 65535)) ||
	    (addr && !manifest_forward_addr_ok(addr)))
		return -EINVAL;
	f->host_port = (uint16_t)host_port;
	f->port = (uint16_t)port;
	f->host_addr = addr;
	char again[API_MACHINE_OP_MAX];
	return api_machine_op_format(op, again, sizeof(again)) == 0 && strcmp(again, s) == 0
		       ? 0
		       : -EINVAL;
}

int api_machine_op_parse(const char *s, struct api_machine_op *op)
{
	memset(op, 0, sizeof(*op));
	if (strncmp(s, "impair ", 7) == 0)
		return parse_impair(s, op);
	if (strncmp(s, "forward ", 8) == 0 || strncmp(s, "unforward ", 10) == 0)
		return parse_forward(s, op);
	char state[8];
	int end = 0;
	if (sscanf(s, "link %15s %7s%n", op->iface, state, &end) != 2 || s[end] != '\0' ||
	    !api_valid_iface(op->iface) || (strcmp(state, "up") != 0 && strcmp(state, "down") != 0))
		return -EINVAL;
	op->verb = API_MACHINE_LINK;
	op->up = strcmp(state, "up") == 0;
	char again[API_MACHINE_OP_MAX];
	return api_machine_op_format(op, again, sizeof(again)) == 0 && strcmp(again, s) == 0
		       ? 0
		       : -EINVAL;
}

void api_machine_iface_answer(struct api_response *r, const char *machine, const char *iface,
			      const struct manifest_impair *im, bool link_down)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_new_string(machine));
	json_object_object_add(o, "interface", json_object_new_string(iface));
	json_object_object_add(o, "impair", plan_impair_json(im));
	json_object_object_add(o, "link", json_object_new_string(link_down ? "down" : "up"));
	api_json(r, 200, o);
}

void api_machine_forwards_answer(struct api_response *r, int status, const char *machine,
				 const struct plan_machine *mc)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "machine", json_object_new_string(machine));
	json_object_object_add(o, "forwards", plan_forwards_json(mc));
	api_json(r, status, o);
}
