/* libFuzzer target: the manifest reader and the plan built from it. Any
 * input must give either a plan or errors, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "manifest.h"
#include "plan.h"
#include "plan_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct manifest_limits lim = MANIFEST_LIMITS_DEFAULT;
	struct manifest m;
	struct diag d;
	diag_init(&d, "fuzz");
	if (manifest_parse((const char *)data, size, &lim, &m, &d) == 0) {
		struct plan p;
		if (plan_build(&m, "fuzz", &p, &d) == 0) {
			struct json_object *j = plan_to_json(&p);
			json_object_put(j);
			plan_free(&p);
		}
		manifest_free(&m);
	}
	diag_free(&d);
	return 0;
}
