/* The image catalog and the oci:// cache: builds, pulls, lists, removes. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "tool.h"
#include "util.h"

/* Bumped when what a build does changes, so cached images are rebuilt. */
#define RECIPE_VERSION "1"

struct image_file {
	const char *path;
	const char *text;
};

struct catalog_entry {
	const char *name;
	const char *suite;
	const char *packages; /* mmdebstrap's --include */
	const char *hooks[4]; /* mmdebstrap's --customize-hook, run in order */
	struct image_file files[6];
};

/* Every interface asks netd's DHCP for its address (net.ifnames=0 names
 * them eth*), and systemd-resolved takes the DNS servers it is given; the
 * serial console logs root in, as the toolkit guest's shell does; no
 * fstab: the guest's init mounts what the manifest says. */
static const struct catalog_entry catalog[] = {
	{
		.name = "debian-12",
		.suite = "bookworm",
		.packages = "systemd,systemd-sysv,systemd-resolved,udev,dbus,libpam-systemd,kmod,"
			    "openssh-server,iproute2,nftables,iptables,tcpdump,"
			    "iputils-ping,traceroute,dnsutils,curl,ethtool,less,"
			    "vim-tiny,e2fsprogs,xfsprogs,procps,frr,bird2",
		.hooks = { "chroot \"$1\" systemctl enable systemd-networkd",
			   "rm -f \"$1\"/etc/hostname" },
		.files = {
			{ "/etc/systemd/network/20-playnet.network",
			  "[Match]\nName=eth*\n\n[Network]\nDHCP=ipv4\n" },
			{ "/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf",
			  "[Service]\nExecStart=\n"
			  "ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM\n" },
			{ "/etc/fstab", "# playnet's guest init mounts the drives of the manifest.\n" },
			/* A serial console shows the bracketed-paste switches as
			 * noise around every command. */
			{ "/root/.inputrc", "$include /etc/inputrc\nset enable-bracketed-paste off\n" },
		},
	},
};

const char *image_catalog_names(void)
{
	static char names[256];
	if (!names[0])
		for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 i ? ", " : "", catalog[i].name);
	return names;
}

static const struct catalog_entry *catalog_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++)
		if (strcmp(catalog[i].name, name) == 0)
			return &catalog[i];
	return NULL;
}

static int fail(char *why, size_t len, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t len, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return e;
}

enum image_source image_source_of(const char *s)
{
	if (strncmp(s, "oci://", 6) == 0)
		return IMAGE_SOURCE_OCI;
	if (strstr(s, "://"))
		return IMAGE_SOURCE_OTHER;
	return strchr(s, '/') ? IMAGE_SOURCE_FILE : IMAGE_SOURCE_CATALOG;
}

/* --- oci:// references ---------------------------------------------------- */

static bool all_of(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

/* A repository: components of lower-case letters and digits joined by
 * '.', '_' or '-', with '/' between components (the distribution spec's
 * grammar, a little looser on runs of separators). */
static bool repo_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 255 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (const char *c = s; *c; c++) {
		bool alnum = (*c >= 'a' && *c <= 'z') || isdigit((unsigned char)*c);
		if (!alnum && !strchr("._-/", *c))
			return false;
		if ((*c == '/' && !isalnum((unsigned char)c[1])) ||
		    (c[1] == '/' && !isalnum((unsigned char)*c)))
			return false;
	}
	return true;
}

int image_oci_parse(const char *source, struct image_oci_ref *r, char *why, size_t why_len)
{
	memset(r, 0, sizeof(*r));
	const char *s = source + 6;
	const char *at = strchr(s, '@');
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || (at && at < slash))
		return fail(why, why_len, -EINVAL,
			    "expected oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST], got '%s'", source);
	size_t rn = (size_t)(slash - s);
	if (rn >= sizeof(r->registry) || !all_of(s, rn, ".-:[]"))
		return fail(why, why_len, -EINVAL, "'%.*s' is not a registry host[:port]", (int)rn, s);
	memcpy(r->registry, s, rn);
	const char *name = slash + 1;
	size_t nn = at ? (size_t)(at - name) : strlen(name);
	char repo[512];
	if (nn >= sizeof(repo))
		return fail(why, why_len, -EINVAL, "the repository name is too long");
	memcpy(repo, name, nn);
	repo[nn] = '\0';
	char *colon = strrchr(repo, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		const char *tag = colon + 1;
		if (!*tag || strlen(tag) > 128 || !all_of(tag, strlen(tag), "._-") || tag[0] == '.' ||
		    tag[0] == '-')
			return fail(why, why_len, -EINVAL,
				    "'%s' is not a tag (letters, digits, '.', '_', '-', at most 128)", tag);
		strcpy(r->tag, tag);
	}
	if (!repo_ok(repo))
		return fail(why, why_len, -EINVAL,
			    "'%s' is not a repository name (lower-case letters and digits, '.', '_', '-', '/' between)",
			    repo);
	strcpy(r->repo, repo);
	if (at) {
		const char *dg = at + 1;
		if (strncmp(dg, "sha256:", 7) != 0 || strlen(dg) != 71 ||
		    strspn(dg + 7, "0123456789abcdef") != 64)
			return fail(why, why_len, -EINVAL,
				    "'%s' is not a digest (sha256: and 64 lower-case hex digits)", dg);
		strcpy(r->digest, dg);
	}
	if (!r->tag[0] && !r->digest[0])
		strcpy(r->tag, "latest");
	return 0;
}

int image_check(const char *source, char *why, size_t why_len)
{
	struct image_oci_ref ref;
	switch (image_source_of(source)) {
	case IMAGE_SOURCE_OCI:
		return image_oci_parse(source, &ref, why, why_len);
	case IMAGE_SOURCE_CATALOG:
		if (catalog_find(source))
			return 0;
		return fail(why, why_len, -EINVAL,
			    "no image '%s' in the catalog (it has %s; `playnet image build NAME` builds one, `playnet image ls` lists them), and a file is named by its absolute path",
			    source, image_catalog_names());
	default:
		return fail(why, why_len, -EINVAL, "'%s' is not an image", source);
	}
}

/* --- files ------------------------------------------------------------------ */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static uint64_t du_total;
static int du_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	du_total += (uint64_t)st->st_blocks * 512 + 4096; /* and an inode's share */
	return 0;
}

static uint64_t du(const char *path)
{
	du_total = 0;
	nftw(path, du_one, 32, FTW_PHYS | FTW_MOUNT);
	return du_total;
}

static int write_text(const char *root, const char *rel, const char *text)
{
	char path[PATH_MAX], dir[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s%s", root, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	int e = mkdir_p(dir, 0755);
	if (e)
		return e;
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	size_t n = strlen(text);
	if (fd < 0)
		return -errno;
	return write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
}

/* path (absolute, inside the image) with '.', '..' and '//' resolved as
 * the guest resolves them: '..' of / is /. */
static void normalize(char *path)
{
	char out[PATH_MAX] = "";
	size_t n = 0;
	for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			while (n > 0 && out[--n] != '/')
				;
			out[n] = '\0';
			continue;
		}
		n += (size_t)snprintf(out + n, sizeof(out) - n, "/%s", c);
		if (n >= sizeof(out))
			n = sizeof(out) - 1;
	}
	strcpy(path, n ? out : "/");
}

/* Whether root's /sbin/init leads to an executable inside root, its links
 * read as the guest will read them (an absolute target is root's). */
static bool has_init(const char *root)
{
	char rel[PATH_MAX] = "/sbin/init";
	for (int hops = 0; hops < 16; hops++) {
		char path[2 * PATH_MAX], target[PATH_MAX];
		snprintf(path, sizeof(path), "%s%s", root, rel);
		struct stat st;
		if (lstat(path, &st) < 0)
			return false;
		if (!S_ISLNK(st.st_mode))
			return S_ISREG(st.st_mode) && (st.st_mode & 0111);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			return false;
		target[n] = '\0';
		if (target[0] != '/') {
			*strrchr(rel, '/') = '\0';
			char next[PATH_MAX];
			if (snprintf(next, sizeof(next), "%s/%s", rel, target) >= (int)sizeof(next))
				return false;
			strcpy(target, next);
		}
		normalize(target);
		strcpy(rel, target);
	}
	return false;
}

static void say(const struct image_options *o, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct image_options *o, const char *name, const char *fmt, ...)
{
	if (!o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(o->progress, "image %s: ", name);
	vfprintf(o->progress, fmt, ap);
	fputc('\n', o->progress);
	fflush(o->progress);
	va_end(ap);
}

/* The kernel's modules into root, then root as a read-only ext4 image at
 * dest (renamed into place whole). A quarter more room than the files
 * take, and 128 MiB for the guest to write before a size grows it. */
static int finish_image(const struct image_options *o, const char *name, const char *tmp,
			const char *root, const char *dest, char *why, size_t why_len)
{
	char modules[PATH_MAX + 16], img[PATH_MAX + 16], log[PATH_MAX + 16], dir[PATH_MAX];
	snprintf(modules, sizeof(modules), "%s/modules.tar", o->guest_dir);
	snprintf(img, sizeof(img), "%s/image.ext4", tmp);
	snprintf(log, sizeof(log), "%s/build.log", tmp);
	snprintf(dir, sizeof(dir), "%s", root);
	/* Through a usr-merged /lib: a link to usr/lib, kept. */
	char *tar[] = { "tar", "--keep-directory-symlink", "-xf", modules, "-C", dir, NULL };
	char said[IMAGE_WHY_MAX];
	int e = tool_run(tar, log, said, sizeof(said));
	if (e)
		return fail(why, why_len, e,
			    "cannot add the kernel's modules from %s (build the guest with scripts/build-guest.sh): %s",
			    modules, said);
	if (!has_init(root))
		return fail(why, why_len, -EINVAL, "the image has no /sbin/init to boot");
	uint64_t size = (du(root) * 5 / 4 + (128ULL << 20) + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
	say(o, name, "making a read-only ext4 image of %" PRIu64 " MiB", size >> 20);
	cleanup_close int fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return fail(why, why_len, -errno, "%s: %s", img, strerror(errno));
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "pn-root", "-d", dir, img, NULL };
	if ((e = tool_run(mkfs, log, why, why_len)))
		return e;
	if (fsync(fd) < 0 || fchmod(fd, 0444) < 0)
		return fail(why, why_len, -errno, "%s: %s", img, strerror(errno));
	if (rename(img, dest) < 0)
		return fail(why, why_len, -errno, "%s: %s", dest, strerror(errno));
	return 0;
}

/* A failed build's log, where the tools said what they did, kept beside
 * the cache for a person, and named in why. */
static void keep_log(const struct image_options *o, const char *name, const char *log,
		     char *why, size_t why_len)
{
	char kept[PATH_MAX + 64];
	snprintf(kept, sizeof(kept), "%s/%s.build.log", o->dir, name);
	size_t n = strlen(why);
	if (rename(log, kept) == 0 && n < why_len)
		snprintf(why + n, why_len - n, " (the build's log: %s)", kept);
}

/* A fresh work dir under the cache, on the same file system as the image
 * it ends in, and removed whatever happens. */
static int work_dir(const struct image_options *o, const char *name, char tmp[PATH_MAX],
		    char *why, size_t why_len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/tmp", o->dir);
	int e = mkdir_p(dir, 0700);
	if (e)
		return fail(why, why_len, e, "cannot make %s: %s", dir, strerror(-e));
	if (snprintf(tmp, PATH_MAX, "%s/%s.XXXXXX", dir, name) >= PATH_MAX || !mkdtemp(tmp))
		return fail(why, why_len, -errno, "cannot make a work dir in %s: %s", dir, strerror(errno));
	return 0;
}

/* --- the catalog -------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static const char *mirror(void)
{
	const char *m = getenv("PLAYNET_DEBIAN_MIRROR");
	return m && *m ? m : "http://deb.debian.org/debian";
}

static const char *security_mirror(void)
{
	const char *m = getenv("PLAYNET_DEBIAN_SECURITY");
	return m && *m ? m : "http://deb.debian.org/debian-security";
}

/* The key of what a build of c would make: its recipe, and the kernel
 * (the guest's key), whose modules it carries. */
static int catalog_key(const struct image_options *o, const struct catalog_entry *c,
		       char key[17], char *why, size_t why_len)
{
	char path[PATH_MAX], guest[128] = "";
	snprintf(path, sizeof(path), "%s/key", o->guest_dir);
	cleanup_fclose FILE *f = fopen(path, "re");
	if (!f || !fgets(guest, sizeof(guest), f))
		return fail(why, why_len, -ENOENT,
			    "the default guest's %s: %s (build it with scripts/build-guest.sh)", path,
			    f ? "empty" : strerror(errno));
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv(h, RECIPE_VERSION);
	h = fnv(h, guest);
	h = fnv(h, c->suite);
	h = fnv(h, c->packages);
	for (size_t i = 0; i < ARRAY_SIZE(c->hooks) && c->hooks[i]; i++)
		h = fnv(h, c->hooks[i]);
	for (size_t i = 0; i < ARRAY_SIZE(c->files) && c->files[i].path; i++) {
		h = fnv(h, c->files[i].path);
		h = fnv(h, c->files[i].text);
	}
	snprintf(key, 17, "%016" PRIx64, h);
	return 0;
}

/* Where c's image of today's key is (or would be): path, and key. */
static int catalog_locate(const struct image_options *o, const struct catalog_entry *c,
			  char key[17], char path[PATH_MAX], char *why, size_t why_len)
{
	int e = catalog_key(o, c, key, why, why_len);
	if (e)
		return e;
	if (snprintf(path, PATH_MAX, "%s/catalog/%s.%s.ext4", o->dir, c->name, key) >= PATH_MAX)
		return fail(why, why_len, -ENAMETOOLONG, "image dir path too long: %s", o->dir);
	return 0;
}

/* Removes every image of name in dir but keep (NULL: all); how many. */
static size_t remove_prefixed(const char *dir, const char *prefix, const char *keep)
{
	DIR *dh = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (dh && (de = readdir(dh)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    (!keep || strcmp(de->d_name, keep) != 0) && unlinkat(dirfd(dh), de->d_name, 0) == 0)
			n++;
	if (dh)
		closedir(dh);
	return n;
}

static int bootstrap(const struct catalog_entry *c, const char *root, const char *log,
		     char *why, size_t why_len)
{
	char include[1024], main_src[512], updates[512], security[512], suite[32], dir[PATH_MAX + 16];
	snprintf(suite, sizeof(suite), "%s", c->suite);
	snprintf(dir, sizeof(dir), "%s", root);
	char *hooks[ARRAY_SIZE(c->hooks)];
	size_t nh = 0;
	snprintf(include, sizeof(include), "--include=%s", c->packages);
	snprintf(main_src, sizeof(main_src), "deb %s %s main", mirror(), c->suite);
	snprintf(updates, sizeof(updates), "deb %s %s-updates main", mirror(), c->suite);
	snprintf(security, sizeof(security), "deb %s %s-security main", security_mirror(), c->suite);
	for (; nh < ARRAY_SIZE(c->hooks) && c->hooks[nh]; nh++)
		if (asprintf(&hooks[nh], "--customize-hook=%s", c->hooks[nh]) < 0)
			break;
	char *argv[16 + ARRAY_SIZE(c->hooks)];
	size_t n = 0;
	argv[n++] = "mmdebstrap";
	argv[n++] = "--mode=root";
	argv[n++] = "--format=directory";
	argv[n++] = "--variant=apt";
	argv[n++] = include;
	for (size_t i = 0; i < nh; i++)
		argv[n++] = hooks[i];
	argv[n++] = suite;
	argv[n++] = dir;
	argv[n++] = main_src;
	argv[n++] = updates;
	argv[n++] = security;
	argv[n] = NULL;
	int e = nh == ARRAY_SIZE(c->hooks) || !c->hooks[nh] ? tool_run(argv, log, why, why_len) : -ENOMEM;
	for (size_t i = 0; i < nh; i++)
		free(hooks[i]);
	for (size_t i = 0; !e && i < ARRAY_SIZE(c->files) && c->files[i].path; i++)
		if ((e = write_text(root, c->files[i].path, c->files[i].text)))
			fail(why, why_len, e, "%s%s: %s", root, c->files[i].path, strerror(-e));
	return e;
}

static int catalog_build(const struct image_options *o, const struct catalog_entry *c,
			 const char *key, const char *dest, char *why, size_t why_len)
{
	char tmp[PATH_MAX], root[PATH_MAX + 8], log[PATH_MAX + 16], dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/catalog", o->dir);
	int e = mkdir_p(dir, 0755);
	if (e)
		return fail(why, why_len, e, "cannot make %s: %s", dir, strerror(-e));
	if ((e = work_dir(o, c->name, tmp, why, why_len)))
		return e;
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(log, sizeof(log), "%s/build.log", tmp);
	double t0 = now_seconds();
	say(o, c->name, "mmdebstrap %s from %s (%s)", c->suite, mirror(), c->packages);
	e = bootstrap(c, root, log, why, why_len);
	if (!e)
		e = finish_image(o, c->name, tmp, root, dest, why, why_len);
	if (e)
		keep_log(o, c->name, log, why, why_len);
	rm_rf(tmp);
	if (e)
		return e;
	char keep[NAME_MAX + 1], prefix[NAME_MAX + 1];
	snprintf(keep, sizeof(keep), "%s.%s.ext4", c->name, key);
	snprintf(prefix, sizeof(prefix), "%s.", c->name);
	remove_prefixed(dir, prefix, keep);
	say(o, c->name, "built in %.0f s: %s", now_seconds() - t0, dest);
	return 0;
}

static int oci_get(const struct image_options *o, const char *source, bool pull,
		   char path[PATH_MAX], char *why, size_t why_len);

int image_build(const struct image_options *o, const char *name, bool force, char *why,
		size_t why_len)
{
	const struct catalog_entry *c = catalog_find(name);
	char key[17], path[PATH_MAX];
	if (!c && image_source_of(name) == IMAGE_SOURCE_OCI) {
		size_t n;
		int e = force ? image_remove(o, name, &n, why, why_len) : 0;
		if (!e && (e = oci_get(o, name, false, path, why, why_len)) == 0)
			say(o, name, "cached: %s", path);
		return e == -ENOENT ? oci_get(o, name, true, path, why, why_len) : e;
	}
	if (!c)
		return image_check(name, why, why_len);
	int e = catalog_locate(o, c, key, path, why, why_len);
	if (e)
		return e;
	if (!force && access(path, R_OK) == 0) {
		say(o, name, "cached: %s", path);
		return 0;
	}
	return catalog_build(o, c, key, path, why, why_len);
}

/* --- oci:// ----------------------------------------------------------------- */

/* skopeo says what went wrong inside a log line: time="..." level=fatal
 * msg="WHAT"; keep WHAT. */
static int skopeo_failed(int e, const char *ref, char *why, size_t why_len)
{
	if (e == -ENOENT)
		return fail(why, why_len, e, "skopeo is not installed: run scripts/install-deps.sh (skopeo)");
	const char *msg = strstr(why, "msg=\"");
	char what[IMAGE_WHY_MAX];
	snprintf(what, sizeof(what), "%s", msg ? msg + 5 : why);
	size_t n = strlen(what);
	if (msg && n && what[n - 1] == '"')
		what[n - 1] = '\0';
	return fail(why, why_len, e, "cannot pull %s: %s", ref, what);
}

/* Loopback registries are spoken to in plain HTTP, as docker does. */
static bool insecure(const struct image_oci_ref *r)
{
	return strncmp(r->registry, "localhost", 9) == 0 || strncmp(r->registry, "127.", 4) == 0 ||
	       strncmp(r->registry, "[::1]", 5) == 0;
}

/* The digest of the manifest ref names: its raw manifest, hashed by
 * skopeo. No blob is fetched (an inspect without --raw fetches the
 * config), so that asking costs the registry one manifest. */
static int oci_digest(const struct image_options *o, const struct image_oci_ref *r,
		      char digest[72], char *why, size_t why_len)
{
	if (r->digest[0]) {
		strcpy(digest, r->digest);
		return 0;
	}
	char ref[700], out[256], tmp[PATH_MAX], file[PATH_MAX + 16];
	snprintf(ref, sizeof(ref), "docker://%s/%s:%s", r->registry, r->repo, r->tag);
	int e = work_dir(o, "manifest", tmp, why, why_len);
	if (e)
		return e;
	snprintf(file, sizeof(file), "%s/manifest.json", tmp);
	char *inspect[] = { "skopeo", "inspect", "--retry-times=0", "--raw",
			    insecure(r) ? "--tls-verify=false" : "--tls-verify=true", ref, NULL };
	char *hash[] = { "skopeo", "manifest-digest", file, NULL };
	if ((e = tool_run_stdout(inspect, file, why, why_len)))
		skopeo_failed(e, ref, why, why_len);
	else
		e = tool_output(hash, out, sizeof(out), why, why_len);
	rm_rf(tmp);
	if (e)
		return e;
	if (strncmp(out, "sha256:", 7) != 0 || strlen(out) != 71)
		return fail(why, why_len, -EIO, "skopeo gave no digest for %s: '%s'", ref, out);
	strcpy(digest, out);
	return 0;
}

static int oci_pull(const struct image_options *o, const struct image_oci_ref *r,
		    const char *digest, const char *source, const char *dest, char *why,
		    size_t why_len)
{
	char tmp[PATH_MAX], layout[PATH_MAX + 32], bundle[PATH_MAX + 16], root[PATH_MAX + 32],
		log[PATH_MAX + 16], ref[700], dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/oci", o->dir);
	int e = mkdir_p(dir, 0755);
	if (e)
		return fail(why, why_len, e, "cannot make %s: %s", dir, strerror(-e));
	if ((e = work_dir(o, "oci", tmp, why, why_len)))
		return e;
	snprintf(layout, sizeof(layout), "oci:%s/layout:image", tmp);
	snprintf(bundle, sizeof(bundle), "%s/bundle", tmp);
	snprintf(root, sizeof(root), "%s/rootfs", bundle);
	snprintf(log, sizeof(log), "%s/build.log", tmp);
	snprintf(ref, sizeof(ref), "docker://%s/%s@%s", r->registry, r->repo, digest);
	double t0 = now_seconds();
	say(o, source, "pulling %s with skopeo", digest);
	char *copy[] = { "skopeo", "copy", "--retry-times=0",
			 insecure(r) ? "--src-tls-verify=false" : "--src-tls-verify=true", ref, layout, NULL };
	char *unpack[] = { "umoci", "unpack", "--image", layout + 4, bundle, NULL };
	if ((e = tool_run(copy, log, why, why_len)))
		skopeo_failed(e, ref, why, why_len);
	if (!e) {
		say(o, source, "unpacking with umoci");
		e = tool_run(unpack, log, why, why_len);
	}
	if (!e)
		e = finish_image(o, source, tmp, root, dest, why, why_len);
	if (e && access(log, F_OK) == 0)
		keep_log(o, "oci", log, why, why_len);
	rm_rf(tmp);
	if (e)
		return e;
	char refpath[PATH_MAX];
	snprintf(refpath, sizeof(refpath), "%.*s.ref", (int)(strlen(dest) - 5), dest);
	cleanup_fclose FILE *f = fopen(refpath, "we");
	if (f)
		fprintf(f, "%s\n", source);
	say(o, source, "pulled in %.0f s: %s", now_seconds() - t0, dest);
	return 0;
}

/* The cached image of source, pulled first if pull (else -ENOENT). */
static int oci_get(const struct image_options *o, const char *source, bool pull,
		   char path[PATH_MAX], char *why, size_t why_len)
{
	struct image_oci_ref r;
	char digest[72];
	int e = image_oci_parse(source, &r, why, why_len);
	if (!e)
		e = oci_digest(o, &r, digest, why, why_len);
	if (e)
		return e;
	if (snprintf(path, PATH_MAX, "%s/oci/sha256-%s.ext4", o->dir, digest + 7) >= PATH_MAX)
		return fail(why, why_len, -ENAMETOOLONG, "image dir path too long: %s", o->dir);
	if (access(path, R_OK) == 0)
		return 0;
	if (!pull)
		return -ENOENT;
	return oci_pull(o, &r, digest, source, path, why, why_len);
}

int image_get(const struct image_options *o, const char *source, char path[PATH_MAX],
	      char *why, size_t why_len)
{
	if (image_source_of(source) == IMAGE_SOURCE_OCI)
		return oci_get(o, source, true, path, why, why_len);
	const struct catalog_entry *c = catalog_find(source);
	if (!c)
		return image_check(source, why, why_len);
	char key[17];
	int e = catalog_locate(o, c, key, path, why, why_len);
	if (e || access(path, R_OK) == 0)
		return e;
	return catalog_build(o, c, key, path, why, why_len);
}

/* --- ls and rm ------------------------------------------------------------------ */

/* The reference an oci:// image was pulled as: its .ref file's line. */
static bool read_ref(const char *dir, const char *name, size_t stem, char *ref, size_t len)
{
	char path[PATH_MAX + NAME_MAX + 2];
	snprintf(path, sizeof(path), "%s/%.*s.ref", dir, (int)stem, name);
	cleanup_fclose FILE *f = fopen(path, "re");
	ref[0] = '\0';
	if (!f || !fgets(ref, (int)len, f))
		return false;
	ref[strcspn(ref, "\n")] = '\0';
	return true;
}

static void list_size(FILE *out, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		fprintf(out, "%6" PRIu64 " MiB  %s\n", (uint64_t)st.st_size >> 20, path);
	else
		fprintf(out, "%10s  not built (playnet image build)\n", "-");
}

int image_list(const struct image_options *o, FILE *out)
{
	fprintf(out, "%-40s %10s  %s\n", "IMAGE", "SIZE", "FILE");
	for (size_t i = 0; i < ARRAY_SIZE(catalog); i++) {
		char key[17], path[PATH_MAX], why[IMAGE_WHY_MAX];
		fprintf(out, "%-40s ", catalog[i].name);
		if (catalog_locate(o, &catalog[i], key, path, why, sizeof(why)) < 0)
			fprintf(out, "%10s  %s\n", "-", why);
		else
			list_size(out, path);
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/oci", o->dir);
	DIR *dh = opendir(dir);
	struct dirent *de;
	while (dh && (de = readdir(dh))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".ext4") != 0)
			continue;
		char path[PATH_MAX + NAME_MAX + 2], ref[700];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fprintf(out, "%-40s ", read_ref(dir, de->d_name, n - 5, ref, sizeof(ref)) ? ref : de->d_name);
		list_size(out, path);
	}
	if (dh)
		closedir(dh);
	return 0;
}

int image_remove(const struct image_options *o, const char *name, size_t *removed, char *why,
		 size_t why_len)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 1];
	*removed = 0;
	if (catalog_find(name)) {
		snprintf(dir, sizeof(dir), "%s/catalog", o->dir);
		snprintf(prefix, sizeof(prefix), "%s.", name);
		*removed = remove_prefixed(dir, prefix, NULL);
		return 0;
	}
	char digest[72] = "";
	if (strncmp(name, "sha256:", 7) == 0 && strlen(name) == 71) {
		strcpy(digest, name);
	} else if (image_source_of(name) == IMAGE_SOURCE_OCI) {
		struct image_oci_ref r;
		int e = image_oci_parse(name, &r, why, why_len);
		if (e)
			return e;
		/* By the reference it was pulled as: no registry needed. */
		snprintf(dir, sizeof(dir), "%s/oci", o->dir);
		DIR *dh = opendir(dir);
		struct dirent *de;
		while (dh && (de = readdir(dh))) {
			size_t n = strlen(de->d_name);
			char ref[700];
			if (n >= 4 && strcmp(de->d_name + n - 4, ".ref") == 0 &&
			    read_ref(dir, de->d_name, n - 4, ref, sizeof(ref)) && strcmp(ref, name) == 0)
				snprintf(digest, sizeof(digest), "sha256:%.64s", de->d_name + 7);
		}
		if (dh)
			closedir(dh);
		if (!digest[0])
			return 0;
	} else {
		return image_check(name, why, why_len);
	}
	snprintf(dir, sizeof(dir), "%s/oci", o->dir);
	snprintf(prefix, sizeof(prefix), "sha256-%s.", digest + 7);
	*removed = remove_prefixed(dir, prefix, NULL) ? 1 : 0;
	return 0;
}
