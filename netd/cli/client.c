#define _GNU_SOURCE
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cliopt.h"
#include "naming.h"
#include "state.h"
#include "util.h"

#define START_TIMEOUT_MS 10000
#define REQUEST_TIMEOUT_S 600L

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct client_response *r = arg;
	size_t add = size * n;
	char *b = realloc(r->body, r->len + add + 1);
	if (!b)
		return 0; /* curl fails the transfer */
	memcpy(b + r->len, data, add);
	r->body = b;
	r->len += add;
	b[r->len] = '\0';
	return add;
}

/* One request; CURLE_COULDNT_CONNECT when nobody listens. */
static CURLcode request(const struct client *c, const char *method, const char *path,
			const char *body, size_t len, bool text, struct client_response *r)
{
	CURL *h = curl_easy_init();
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	char url[512];
	snprintf(url, sizeof(url), "http://netd%s", path);
	struct curl_slist *hdr = curl_slist_append(NULL, "Expect:");
	hdr = curl_slist_append(hdr, text ? "Accept: text/plain" : "Accept: application/json");
	if (body)
		hdr = curl_slist_append(hdr, "Content-Type: application/yaml");
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	CURLcode e = curl_easy_perform(h);
	if (e == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return e;
}

/* netd beside this binary (build/bin, PREFIX/bin), else on PATH. */
static void netd_path(char *out, size_t len)
{
	const char *env = getenv("PLAYNET_NETD");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, len, "%s/netd", dirname(self));
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, len, "netd");
}

static bool listening(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return false;
	strcpy(a.sun_path, path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
}

/* In a session of its own, so that it outlives this playnet and its
 * terminal; its log appended to client_log_path's file. */
static void exec_netd(const struct client *c, const char *path, const char *log)
{
	setsid();
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	/* exec wants writable strings: copies, in the child that execs. */
	size_t n = 0;
	while (c->netd_argv[n])
		n++;
	char **argv = calloc(n + 1, sizeof(*argv));
	for (size_t i = 0; argv && i < n; i++)
		argv[i] = strdup(i ? c->netd_argv[i] : path);
	if (argv)
		execvp(path, argv);
	fprintf(stderr, "playnet: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Not in the state dir: a guest that makes netd log must not fill the
 * filesystem its records live on (/run, a small tmpfs). PLAYNET_LOG, else
 * /var/log/playnet/netd.log for the default state dir and netd-HASH.log
 * (of the state dir's path) for others. */
int client_log_path(const char *state_dir, char *out, size_t len)
{
	const char *env = getenv("PLAYNET_LOG");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	if (strcmp(state_dir, CLIOPT_STATE_DIR_DEFAULT) == 0)
		snprintf(out, len, "%s/netd.log", CLIENT_LOG_DIR);
	else
		snprintf(out, len, "%s/netd-%08x.log", CLIENT_LOG_DIR, naming_hash32(state_dir));
	return mkdir(CLIENT_LOG_DIR, 0750) < 0 && errno != EEXIST ? -errno : 0;
}

static int start_netd(const struct client *c, struct pn_error *err)
{
	char path[PATH_MAX], log[PATH_MAX];
	netd_path(path, sizeof(path));
	int e = state_dir_init(c->state_dir);
	if (e < 0)
		return pn_fail(err, e, "state dir %s", c->state_dir);
	if ((e = client_log_path(c->state_dir, log, sizeof(log))) < 0)
		return pn_fail(err, e, "netd's log %s", log);
	pid_t pid = fork();
	if (pid < 0)
		return pn_fail(err, -errno, "fork");
	if (pid == 0)
		exec_netd(c, path, log);
	for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		if (listening(c->socket)) {
			fprintf(stderr, "playnet: started netd (pid %d, log %s)\n", (int)pid, log);
			return 0;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			/* Another playnet may have started one meanwhile. */
			if (listening(c->socket))
				return 0;
			return pn_failx(err, -ECHILD, "netd (%s) exited with status %d at start: see %s",
					path, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), log);
		}
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	return pn_failx(err, -ETIMEDOUT, "netd (pid %d) does not listen on %s after %d s: see %s",
			(int)pid, c->socket, START_TIMEOUT_MS / 1000, log);
}

int client_call(const struct client *c, const char *method, const char *path,
		const char *body, size_t len, bool text, struct client_response *r,
		struct pn_error *err)
{
	memset(r, 0, sizeof(*r));
	CURLcode e = request(c, method, path, body, len, text, r);
	if (e == CURLE_COULDNT_CONNECT) {
		int se = start_netd(c, err);
		if (se < 0)
			return se;
		client_response_free(r);
		e = request(c, method, path, body, len, text, r);
	}
	if (e != CURLE_OK) {
		client_response_free(r);
		return pn_failx(err, -EIO, "netd on %s: %s", c->socket, curl_easy_strerror(e));
	}
	return 0;
}

struct stream_ctx {
	CURL *h;
	const struct client_stream *s;
	struct client_response *r;
	bool stopped;
};

static size_t on_stream_data(char *data, size_t size, size_t n, void *arg)
{
	struct stream_ctx *x = arg;
	long status = 0;
	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return on_data(data, size, n, x->r);
	if (x->s->data(data, size * n, x->s->arg))
		return size * n;
	x->stopped = true;
	return 0;
}

static size_t on_stream_header(char *line, size_t size, size_t n, void *arg)
{
	struct stream_ctx *x = arg;
	size_t len = size * n;
	char buf[256];
	if (len >= sizeof(buf) || strncasecmp(line, "Playnet-", 8) != 0 || !x->s->trailer)
		return len;
	memcpy(buf, line, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	char *colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		x->s->trailer(buf, colon + 1 + strspn(colon + 1, " \t"), x->s->arg);
	}
	return len;
}

static int on_stream_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	struct stream_ctx *x = arg;
	if (x->s->stop && x->s->stop(x->s->arg))
		x->stopped = true;
	return x->stopped;
}

static CURLcode stream_request(const struct client *c, const char *path,
			       const struct client_stream *s, struct client_response *r,
			       bool *stopped)
{
	struct stream_ctx x = { .h = curl_easy_init(), .s = s, .r = r };
	if (!x.h)
		return CURLE_OUT_OF_MEMORY;
	char url[2048];
	snprintf(url, sizeof(url), "http://netd%s", path);
	curl_easy_setopt(x.h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(x.h, CURLOPT_URL, url);
	curl_easy_setopt(x.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x.h, CURLOPT_WRITEFUNCTION, on_stream_data);
	curl_easy_setopt(x.h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_HEADERFUNCTION, on_stream_header);
	curl_easy_setopt(x.h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(x.h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x.h, CURLOPT_XFERINFOFUNCTION, on_stream_progress);
	curl_easy_setopt(x.h, CURLOPT_XFERINFODATA, &x);
	CURLcode e = curl_easy_perform(x.h);
	curl_easy_getinfo(x.h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(x.h);
	*stopped = x.stopped;
	return e;
}

int client_stream(const struct client *c, const char *path, const struct client_stream *s,
		  struct client_response *r, struct pn_error *err)
{
	memset(r, 0, sizeof(*r));
	bool stopped = false;
	CURLcode e = stream_request(c, path, s, r, &stopped);
	if (e == CURLE_COULDNT_CONNECT) {
		int se = start_netd(c, err);
		if (se < 0)
			return se;
		client_response_free(r);
		e = stream_request(c, path, s, r, &stopped);
	}
	if (stopped)
		return -ECANCELED;
	if (e != CURLE_OK) {
		client_response_free(r);
		return pn_failx(err, -EIO, "netd on %s: %s", c->socket, curl_easy_strerror(e));
	}
	return 0;
}

void client_response_free(struct client_response *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
