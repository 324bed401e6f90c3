/* libFuzzer target: the reader of plans (plan_wire), which netd's root
 * parent runs on what its front end sends and on its own records. Any
 * input: no crash, no leak; a plan it takes is one it takes again, read
 * back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct plan p;
	struct pn_error err = PN_ERROR_INIT;
	if (plan_wire_parse(text, size, "fuzz", &lim, &p, &err) == 0) {
		size_t len, len2;
		char *once = plan_wire_text(&p, &len);
		struct plan q;
		if (!once || plan_wire_parse(once, len, "fuzz", &lim, &q, &err) < 0)
			__builtin_trap();
		char *twice = plan_wire_text(&q, &len2);
		if (!twice || strcmp(once, twice) != 0)
			__builtin_trap();
		free(once);
		free(twice);
		plan_free(&q);
		plan_free(&p);
	}
	free(text);
	return 0;
}
