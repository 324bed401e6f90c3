/* playnet image ls | build NAME | rm NAME: the image cache (image.h). */
#define _GNU_SOURCE
#include "playnet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image.h"

/* The cache and the guest from the environment, then --image-dir and
 * --guest after the command's words. */
static int image_options(int argc, char **argv, int words, struct vm_options *vo,
			 bool *force)
{
	struct diag d;
	diag_init(&d, "playnet");
	int e = vm_options_init(vo, &d);
	for (int i = words; !e && i < argc; i++) {
		if (force && strcmp(argv[i], "--force") == 0) {
			*force = true;
			continue;
		}
		if ((strcmp(argv[i], "--image-dir") && strcmp(argv[i], "--guest")) || i + 1 == argc) {
			diag_free(&d);
			return usage_error("image: unknown option '%s' (--image-dir DIR, --guest DIR%s)",
					   argv[i], force ? ", --force" : "");
		}
		e = vm_options_set(vo, argv[i], argv[i + 1], &d);
		i++;
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return e ? EXIT_USAGE : EXIT_OK;
}

int cmd_image(const struct options *o, int argc, char **argv)
{
	(void)o;
	const char *verb = argc > 1 ? argv[1] : "";
	bool ls = strcmp(verb, "ls") == 0;
	if (!ls && strcmp(verb, "build") && strcmp(verb, "rm"))
		return usage_error("image takes ls, build NAME or rm NAME");
	if (!ls && (argc < 3 || argv[2][0] == '-'))
		return usage_error("image %s takes an image's name (playnet image ls lists them)", verb);
	struct vm_options vo;
	bool force = false;
	int rc = image_options(argc, argv, ls ? 2 : 3, &vo,
			       strcmp(verb, "build") == 0 ? &force : NULL);
	if (rc)
		return rc;
	struct image_options io = { .dir = vo.image_dir, .guest_dir = vo.guest_dir,
				    .progress = stderr };
	if (ls)
		return image_list(&io, stdout) < 0 ? EXIT_SYSTEM : EXIT_OK;
	char why[IMAGE_WHY_MAX];
	int e;
	if (strcmp(verb, "build") == 0) {
		e = image_build(&io, argv[2], force, why, sizeof(why));
	} else {
		size_t n = 0;
		e = image_remove(&io, argv[2], &n, why, sizeof(why));
		if (!e)
			fprintf(stderr, "image %s: %s\n", argv[2],
				n ? "removed from the cache" : "not in the cache");
	}
	if (e == 0)
		return EXIT_OK;
	fprintf(stderr, "playnet: image %s: %s\n", argv[2], why);
	return e == -EINVAL ? EXIT_USER : EXIT_SYSTEM;
}
