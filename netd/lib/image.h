/*
 * Root file systems for VMs, each a read-only ext4 base image in a cache
 * that VMs clone (vm_disk.h), never write:
 * - the catalog: images built from Debian packages with mmdebstrap
 *   (debian-12), cached by a key of their recipe and of the kernel whose
 *   modules they carry, rebuilt when either changes;
 * - oci://REGISTRY/REPO[:TAG][@sha256:DIGEST]: pulled with skopeo,
 *   unpacked with umoci, cached by the manifest's digest.
 * Both carry the modules of the default guest's kernel (its modules.tar),
 * which they boot with. A build happens in a temporary directory of the
 * cache and is renamed into place whole: the cache never holds half an
 * image.
 */
#ifndef PLAYNET_IMAGE_H
#define PLAYNET_IMAGE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IMAGE_DIR_DEFAULT "/var/lib/playnet/images"
#define IMAGE_WHY_MAX 1024

struct image_options {
	const char *dir;       /* the cache */
	const char *guest_dir; /* the kernel's: modules.tar and key */
	FILE *progress;        /* where each step of a build is told; NULL: nowhere */
};

enum image_source {
	IMAGE_SOURCE_FILE,    /* a path */
	IMAGE_SOURCE_CATALOG, /* a name: debian-12 */
	IMAGE_SOURCE_OCI,     /* oci://... */
	IMAGE_SOURCE_OTHER,   /* another scheme:// */
};

enum image_source image_source_of(const char *source);

/* Whether source, a catalog name or an oci:// reference, can be had:
 * a known name, a well-formed reference. Nothing is read or fetched.
 * 0, or -EINVAL with why. */
int image_check(const char *source, char *why, size_t why_len);

/* The base image of source (a catalog name or an oci:// reference),
 * built or pulled first unless it is in the cache. 0 with path, or a
 * negative errno with why. */
int image_get(const struct image_options *o, const char *source, char path[PATH_MAX],
	      char *why, size_t why_len);

/* Builds catalog image name, or pulls an oci:// reference (again, if
 * force); 0 or -errno with why. */
int image_build(const struct image_options *o, const char *name, bool force, char *why,
		size_t why_len);

/* Lists the catalog (built or not) and the pulled images. */
int image_list(const struct image_options *o, FILE *out);

/* Removes the cached images of a catalog name, an oci:// reference or a
 * digest (sha256:...); 0 with *removed how many, -errno with why. */
int image_remove(const struct image_options *o, const char *name, size_t *removed,
		 char *why, size_t why_len);

/* The catalog's names, ", " between them. */
const char *image_catalog_names(void);

/* Parsed oci://REGISTRY/REPO[:TAG][@sha256:HEX]. */
struct image_oci_ref {
	char registry[256];
	char repo[256];
	char tag[129];     /* "latest" when neither tag nor digest is given */
	char digest[72];   /* "sha256:HEX" or "" */
};

int image_oci_parse(const char *source, struct image_oci_ref *r, char *why, size_t why_len);

#endif
