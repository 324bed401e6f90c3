#include "ipam.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ipam_parse_addr(const char *s, uint32_t *addr)
{
	uint32_t a = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0 && *s++ != '.')
			return false;
		if (!isdigit((unsigned char)*s))
			return false;
		/* No leading zeros: "010" means octal to inet_aton. */
		if (s[0] == '0' && isdigit((unsigned char)s[1]))
			return false;
		unsigned v = 0;
		int digits = 0;
		while (isdigit((unsigned char)*s) && digits < 4) {
			v = v * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (v > 255 || digits > 3)
			return false;
		a = a << 8 | v;
	}
	if (*s)
		return false;
	*addr = a;
	return true;
}

bool ipam_parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash - s >= IPAM_ADDR_STRLEN)
		return false;
	char a[IPAM_ADDR_STRLEN];
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = '\0';
	const char *p = slash + 1;
	if (!isdigit((unsigned char)p[0]) || (p[0] == '0' && p[1]) ||
	    (p[1] && (!isdigit((unsigned char)p[1]) || p[2])))
		return false;
	unsigned v = (unsigned)atoi(p);
	if (v > 32 || !ipam_parse_addr(a, addr))
		return false;
	*prefix = (uint8_t)v;
	return true;
}

void ipam_format_addr(uint32_t a, char buf[IPAM_ADDR_STRLEN])
{
	snprintf(buf, IPAM_ADDR_STRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

void ipam_format_cidr(uint32_t a, uint8_t prefix, char buf[IPAM_CIDR_STRLEN])
{
	snprintf(buf, IPAM_CIDR_STRLEN, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255, prefix & 63u);
}
