/* A VM's config disk and its SSH keys (ssh-keygen makes them; tar packs
 * the disk, which busybox's tar unpacks in the guest). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"
#include "vm_config.h"

void vm_config_alias(const char *pg, const char *m, char *out, size_t len)
{
	snprintf(out, len, "%s.%s", m, pg);
}

static int read_small(const char *path, char *buf, size_t len)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *path, const char *text, mode_t mode)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	return write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
}

/* An ed25519 key pair at path (and path.pub) unless there is one. */
static int keygen(const char *path, const char *comment, char *why, size_t why_len)
{
	if (access(path, F_OK) == 0)
		return 0;
	char c[128], file[PATH_MAX];
	snprintf(c, sizeof(c), "%s", comment);
	snprintf(file, sizeof(file), "%s", path);
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", c, "-f", file, NULL };
	int e = tool_run(argv, NULL, why, why_len);
	if (e == -ENOENT)
		snprintf(why, why_len, "ssh-keygen is missing: install openssh-client");
	return e;
}

int vm_config_client_key(const char *ssh_key, char *why, size_t why_len)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", ssh_key);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int e = mkdir_p(dir, 0700);
	if (e < 0) {
		snprintf(why, why_len, "cannot make %s: %s", dir, strerror(-e));
		return e;
	}
	return keygen(ssh_key, "playnet", why, why_len);
}

/* known_hosts with the VM's line "ALIAS TYPE KEY" in place of any older. */
static int record_host_key(const struct vm_spec *s, const char *alias, char *why,
			   size_t why_len)
{
	char pub_path[PATH_MAX + 8], pub[1024], type[64], key[800];
	snprintf(pub_path, sizeof(pub_path), "%s.pub", s->paths.host_key);
	if (read_small(pub_path, pub, sizeof(pub)) < 0 ||
	    sscanf(pub, "%63s %799s", type, key) != 2) {
		snprintf(why, why_len, "cannot read the host key %s", pub_path);
		return -EIO;
	}
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", s->paths.known_hosts);
	cleanup_fclose FILE *out = fopen(tmp, "we");
	if (!out) {
		snprintf(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
		return -errno;
	}
	size_t alen = strlen(alias);
	cleanup_fclose FILE *in = fopen(s->paths.known_hosts, "re");
	char line[2048];
	while (in && fgets(line, sizeof(line), in))
		if (strncmp(line, alias, alen) != 0 || line[alen] != ' ')
			fputs(line, out);
	fprintf(out, "%s %s %s\n", alias, type, key);
	if (fflush(out) != 0 || rename(tmp, s->paths.known_hosts) < 0) {
		snprintf(why, why_len, "cannot write %s: %s", s->paths.known_hosts, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The files of the config disk, in dir. */
static int stage(const struct vm_spec *s, const char *dir, char *why, size_t why_len)
{
	char pub[1024], key[4096], pubkey[1024], path[PATH_MAX + 32], src[PATH_MAX + 8];
	snprintf(src, sizeof(src), "%s.pub", s->paths.ssh_key);
	int e = read_small(src, pub, sizeof(pub));
	if (!e)
		e = read_small(s->paths.host_key, key, sizeof(key));
	snprintf(src, sizeof(src), "%s.pub", s->paths.host_key);
	if (!e)
		e = read_small(src, pubkey, sizeof(pubkey));
	if (e < 0) {
		snprintf(why, why_len, "cannot read the SSH keys: %s", strerror(-e));
		return e;
	}
	char user[MANIFEST_USER_MAX + 2];
	snprintf(user, sizeof(user), "%s\n", s->m->user[0] ? s->m->user : "root");
	struct {
		const char *name, *text;
		mode_t mode;
	} files[] = {
		{ "authorized_keys", pub, 0600 },
		{ "ssh_host_ed25519_key", key, 0600 },
		{ "ssh_host_ed25519_key.pub", pubkey, 0644 },
		{ "user", user, 0644 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if ((e = write_small(path, files[i].text, files[i].mode)) < 0) {
			snprintf(why, why_len, "cannot write %s: %s", path, strerror(-e));
			return e;
		}
	}
	return 0;
}

static void unstage(const char *dir)
{
	static const char *const names[] = { "authorized_keys", "ssh_host_ed25519_key",
					     "ssh_host_ed25519_key.pub", "user" };
	char path[PATH_MAX + 32];
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int vm_config_make(const struct vm_spec *s, char *why, size_t why_len)
{
	char alias[VM_CONFIG_ALIAS_MAX];
	vm_config_alias(s->playground, s->machine, alias, sizeof(alias));
	int e = vm_config_client_key(s->paths.ssh_key, why, why_len);
	if (!e)
		e = keygen(s->paths.host_key, alias, why, why_len);
	if (!e)
		e = record_host_key(s, alias, why, why_len);
	if (!e && (e = write_small(s->paths.login, s->m->user[0] ? s->m->user : "root", 0644)) < 0)
		snprintf(why, why_len, "cannot write %s: %s", s->paths.login, strerror(-e));
	if (e < 0)
		return e;
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s.d", s->paths.config_disk);
	unstage(dir);
	if (mkdir(dir, 0700) < 0) {
		snprintf(why, why_len, "cannot make %s: %s", dir, strerror(errno));
		return -errno;
	}
	e = stage(s, dir, why, why_len);
	if (!e) {
		char disk[PATH_MAX];
		snprintf(disk, sizeof(disk), "%s", s->paths.config_disk);
		char *argv[] = { "tar", "--owner=0", "--group=0", "--numeric-owner", "-C", dir,
				 "-cf", disk, ".", NULL };
		e = tool_run(argv, NULL, why, why_len);
	}
	unstage(dir);
	return e;
}
