#define _GNU_SOURCE
#include "guard_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"
#include "manifest.h"
#include "util.h"

static int prefix_push(struct guard_prefix **v, size_t *n, uint32_t net, uint8_t p)
{
	struct guard_prefix *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (struct guard_prefix){ net, p };
	return 0;
}

static int parse_line(char *line, int lineno, struct guard_config *c, struct diag *d)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *save = NULL, *verb = strtok_r(line, " \t\r", &save);
	if (!verb)
		return 0;
	char *cidr = strtok_r(NULL, " \t\r", &save);
	char *extra = cidr ? strtok_r(NULL, " \t\r", &save) : NULL;
	bool deny = strcmp(verb, "deny") == 0;
	if (!deny && strcmp(verb, "allow") != 0) {
		diag_add(d, lineno, 1, "expected 'deny CIDR' or 'allow CIDR', got '%s'", verb);
		return 0;
	}
	uint32_t net;
	uint8_t p;
	if (!cidr || extra || !ipam_parse_cidr(cidr, &net, &p)) {
		diag_add(d, lineno, (int)(verb - line) + 1,
			 "%s: expected one IPv4 CIDR such as 10.1.2.0/24", verb);
		return 0;
	}
	if (net & ~ipam_mask(p)) {
		diag_add(d, lineno, (int)(cidr - line) + 1, "'%s' has host bits set", cidr);
		return 0;
	}
	return deny ? prefix_push(&c->deny, &c->n_deny, net, p)
		    : prefix_push(&c->allow, &c->n_allow, net, p);
}

int guard_config_parse(const char *text, struct guard_config *c, struct diag *d)
{
	memset(c, 0, sizeof(*c));
	cleanup_free char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	int lineno = 0;
	char *save = NULL;
	/* strtok_r would skip empty lines and lose the line count. */
	for (char *line = copy; line; line = save) {
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		int e = parse_line(line, ++lineno, c, d);
		if (e < 0) {
			guard_config_free(c);
			return e;
		}
	}
	if (diag_failed(d)) {
		guard_config_free(c);
		return -EINVAL;
	}
	return 0;
}

int guard_config_load(const char *path, struct guard_config *c, struct diag *d)
{
	memset(c, 0, sizeof(*c));
	cleanup_free char *buf = NULL;
	size_t len;
	int e = manifest_read_file(path, &buf, &len, d);
	return e < 0 ? e : guard_config_parse(buf, c, d);
}

void guard_config_free(struct guard_config *c)
{
	free(c->deny);
	free(c->allow);
	memset(c, 0, sizeof(*c));
}
