#define _GNU_SOURCE
#include "state.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static const char *const phase_names[] = {
	[STATE_CREATING] = "creating",
	[STATE_READY] = "ready",
	[STATE_DELETING] = "deleting",
};

const char *state_phase_name(enum state_phase p)
{
	return p <= STATE_DELETING ? phase_names[p] : "unknown";
}

/* A dir that someone else owns or may write to could hold links planted
 * to make us write elsewhere: refused (-EPERM), and said why in the log. */
static int dir_trusted(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		log_err("state dir %s is not a directory", dir);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != getegid())) {
		log_err("state dir %s is owned by uid %u with mode %04o: it must be ours and writable by no one else",
			dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int state_dir_init(const char *dir)
{
	int e = mkdir_p(dir, 0750);
	if (e < 0 || (e = dir_trusted(dir)) < 0)
		return e;
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/transit", dir);
	if (mkdir(sub, 0750) < 0 && errno != EEXIST)
		return -errno;
	return dir_trusted(sub);
}

static int state_flock(const char *dir, int how)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	return fd;
}

int state_lock(const char *dir)
{
	return state_flock(dir, LOCK_EX);
}

int state_trylock(const char *dir)
{
	return state_flock(dir, LOCK_EX | LOCK_NB);
}

static int state_path(const char *dir, const char *name, char *buf, size_t len)
{
	if (!naming_valid_playground(name))
		return -EINVAL;
	return snprintf(buf, len, "%s/%s.json", dir, name) >= (int)len ? -ENAMETOOLONG : 0;
}

static int fsync_dir(const char *dir)
{
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/* temp file, fsync, rename, fsync of the dir: the file is old or new,
 * never half written, even across a power cut. */
static int write_atomic(const char *dir, const char *path, const char *data,
			size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			unlink(tmp);
			return e;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		int e = -errno;
		unlink(tmp);
		return e;
	}
	return fsync_dir(dir);
}

/* The transit /31 as "A.B.C.D/31", its host end in host byte order. */
static bool transit_format(uint32_t host, char *out, size_t len)
{
	struct in_addr a = { htonl(host) };
	char s[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, s, sizeof(s)) &&
	       (size_t)snprintf(out, len, "%s/31", s) < len;
}

static bool transit_parse(const char *text, uint32_t *host)
{
	char s[INET_ADDRSTRLEN + 3];
	size_t n = strlen(text);
	struct in_addr a;
	if (n < 4 || n >= sizeof(s) || strcmp(text + n - 3, "/31") != 0)
		return false;
	memcpy(s, text, n - 3);
	s[n - 3] = '\0';
	if (inet_pton(AF_INET, s, &a) != 1 || (ntohl(a.s_addr) & 1))
		return false;
	*host = ntohl(a.s_addr);
	return true;
}

int state_write(const char *dir, const struct state_record *r)
{
	char path[PATH_MAX];
	int e = state_path(dir, r->name, path, sizeof(path));
	if (e < 0)
		return e;
	struct json_object *o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "phase", json_object_new_string(state_phase_name(r->phase)));
	json_object_object_add(o, "hostNetns", json_object_new_string(r->host_netns));
	json_object_object_add(o, "transitIndex", json_object_new_int64(r->transit_index));
	char transit[INET_ADDRSTRLEN + 3];
	if (r->transit && transit_format(r->transit, transit, sizeof(transit)))
		json_object_object_add(o, "transit", json_object_new_string(transit));
	json_object_object_add(o, "created", json_object_new_int64(r->created));
	json_object_object_add(o, "manifest", json_object_new_string(r->manifest ? r->manifest : ""));
	if (r->plan)
		json_object_object_add(o, "plan", json_object_get(r->plan));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	e = s ? write_atomic(dir, path, s, strlen(s)) : -ENOMEM;
	json_object_put(o);
	return e;
}

static int json_get_str(struct json_object *o, const char *key, const char **out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	*out = json_object_get_string(v);
	return 0;
}

static int json_get_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	*out = json_object_get_int64(v);
	return 0;
}

int state_read(const char *dir, const char *name, struct state_record *r)
{
	memset(r, 0, sizeof(*r));
	char path[PATH_MAX];
	int e = state_path(dir, name, path, sizeof(path));
	if (e < 0)
		return e;
	if (access(path, F_OK) < 0)
		return -errno;
	struct json_object *o = json_object_from_file(path);
	if (!o)
		return -EINVAL;
	const char *n, *phase, *host, *manifest;
	int64_t idx, created;
	e = -EINVAL;
	if (json_get_str(o, "name", &n) || json_get_str(o, "phase", &phase) ||
	    json_get_str(o, "hostNetns", &host) || json_get_str(o, "manifest", &manifest) ||
	    json_get_int(o, "transitIndex", &idx) || json_get_int(o, "created", &created) ||
	    strcmp(n, name) != 0 || strlen(host) >= sizeof(r->host_netns))
		goto out;
	r->phase = (enum state_phase)-1;
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++)
		if (strcmp(phase, phase_names[i]) == 0)
			r->phase = (enum state_phase)i;
	if ((int)r->phase < 0)
		goto out;
	strcpy(r->name, n);
	strcpy(r->host_netns, host);
	r->transit_index = (long)idx;
	const char *transit;
	if (json_get_str(o, "transit", &transit) == 0 && !transit_parse(transit, &r->transit))
		goto out;
	r->created = created;
	r->manifest = strdup(manifest);
	e = r->manifest ? 0 : -ENOMEM;
	struct json_object *plan;
	if (e == 0 && json_object_object_get_ex(o, "plan", &plan))
		r->plan = json_object_get(plan);
out:
	json_object_put(o);
	return e;
}

int state_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int e = state_path(dir, name, path, sizeof(path));
	if (e < 0)
		return e;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return fsync_dir(dir);
}

void state_record_free(struct state_record *r)
{
	free(r->manifest);
	r->manifest = NULL;
	json_object_put(r->plan);
	r->plan = NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *dir, int (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		char name[NAMING_PLAYGROUND_MAX + 1];
		if (len - 5 > NAMING_PLAYGROUND_MAX)
			continue;
		memcpy(name, e->d_name, len - 5);
		name[len - 5] = '\0';
		if (!naming_valid_playground(name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(name))) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r == 0 && n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = fn(names[i], arg);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* The file that records transit allocation index. */
static int transit_file(const char *dir, long index, char *buf, size_t len)
{
	return snprintf(buf, len, "%s/transit/%ld", dir, index) >= (int)len ? -ENAMETOOLONG : 0;
}

int state_transit_alloc(const char *dir, const char *name, long max, long from, long *index)
{
	if (from < 0 || from >= max)
		from = 0;
	for (long tried = 0; tried < max; tried++) {
		long i = (from + tried) % max;
		char path[PATH_MAX];
		if (transit_file(dir, i, path, sizeof(path)) < 0)
			return -ENAMETOOLONG;
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		ssize_t n = write(fd, name, strlen(name));
		int e = n < 0 ? -errno : 0;
		if (fsync(fd) < 0 && e == 0)
			e = -errno;
		close(fd);
		if (e < 0) {
			unlink(path);
			return e;
		}
		*index = i;
		return 0;
	}
	return -EADDRNOTAVAIL; /* not ENOSPC: that is a full filesystem */
}

int state_transit_free(const char *dir, long index)
{
	if (index < 0)
		return 0;
	char path[PATH_MAX];
	if (transit_file(dir, index, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int state_transit_give(const char *dir, long index, const char *name)
{
	char sub[PATH_MAX], path[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/transit", dir);
	if (transit_file(dir, index, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (access(path, F_OK) < 0)
		return -errno;
	return write_atomic(sub, path, name, strlen(name));
}

int state_transit_each(const char *dir, int (*fn)(long index, const char *name, void *arg),
		       void *arg)
{
	char sub[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/transit", dir);
	DIR *d = opendir(sub);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	int r = 0;
	while (r == 0 && (de = readdir(d))) {
		char *end;
		long index = strtol(de->d_name, &end, 10);
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end)
			continue;
		char name[NAMING_PLAYGROUND_MAX + 1] = "";
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, name, sizeof(name) - 1);
			name[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		r = fn(index, name, arg);
	}
	closedir(d);
	return r;
}
