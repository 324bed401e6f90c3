#include "cliopt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipam.h"

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
