/*
 * netd's API under load: PUT and DELETE of a manifest's playgrounds over
 * the unix socket, each client on its own kept-alive connection (libcurl),
 * timed around each request. Prints "create|delete MICROSECONDS" per
 * request, like bench_fabric; a request that fails is reported on stderr
 * and makes the exit status 1.
 *
 * usage: bench_api [-n N] [-c CLIENTS] [-m cycle|up|down] [-p PREFIX]
 *                  [-i MS] SOCKET MANIFEST
 *   -n N        playgrounds per client (default 100)
 *   -c CLIENTS  clients at once, each with its own names (default 1)
 *   -m          cycle: create and delete each in turn; up: create all;
 *               down: delete all (default cycle)
 *   -i MS       pause between two requests of a client (default 0)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct client {
	pthread_t t;
	int id;
	double *us;    /* per request: + create, - delete */
	size_t n_us;
	int failures;
};

static struct {
	const char *socket, *prefix, *mode;
	char *manifest;
	size_t manifest_len;
	int n, pause_ms;
} cfg = { .prefix = "ab", .mode = "cycle", .n = 100 };

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One request; returns its time in microseconds, or -1 on failure. */
static double request(CURL *c, struct client *cl, bool create, int i)
{
	char url[160];
	snprintf(url, sizeof(url), "http://netd/v1/playgrounds/%s%d-%d", cfg.prefix, cl->id, i);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, create ? "PUT" : "DELETE");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, create ? cfg.manifest : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, create ? (long)cfg.manifest_len : 0L);
	double t0 = now_seconds();
	CURLcode r = curl_easy_perform(c);
	double t1 = now_seconds();
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (r == CURLE_OK && status == (create ? 201 : 204))
		return (t1 - t0) * 1e6;
	fprintf(stderr, "bench_api: %s %s: %s, HTTP %ld\n", create ? "PUT" : "DELETE", url,
		curl_easy_strerror(r), status);
	cl->failures++;
	return -1;
}

static void record(struct client *cl, double us, bool create)
{
	if (us >= 0)
		cl->us[cl->n_us++] = create ? us : -us;
	if (cfg.pause_ms)
		usleep((useconds_t)cfg.pause_ms * 1000);
}

static void *run(void *arg)
{
	struct client *cl = arg;
	CURL *c = curl_easy_init();
	if (!c) {
		cl->failures++;
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, cfg.socket);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	bool up = strcmp(cfg.mode, "down") != 0, down = strcmp(cfg.mode, "up") != 0;
	for (int i = 0; i < cfg.n; i++) {
		if (up)
			record(cl, request(c, cl, true, i), true);
		if (down)
			record(cl, request(c, cl, false, i), false);
	}
	curl_easy_cleanup(c);
	return NULL;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	int clients = 1, c;
	while ((c = getopt(argc, argv, "n:c:m:p:i:")) != -1) {
		switch (c) {
		case 'n': cfg.n = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'm': cfg.mode = optarg; break;
		case 'p': cfg.prefix = optarg; break;
		case 'i': cfg.pause_ms = atoi(optarg); break;
		default: goto usage;
		}
	}
	bool known = !strcmp(cfg.mode, "cycle") || !strcmp(cfg.mode, "up") ||
		     !strcmp(cfg.mode, "down");
	if (optind != argc - 2 || cfg.n <= 0 || clients <= 0 || !known)
		goto usage;
	cfg.socket = argv[optind];
	if (!(cfg.manifest = slurp(argv[optind + 1], &cfg.manifest_len))) {
		perror(argv[optind + 1]);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct client *cl = calloc((size_t)clients, sizeof(*cl));
	for (int i = 0; cl && i < clients; i++) {
		cl[i].id = i;
		cl[i].us = calloc(2 * (size_t)cfg.n, sizeof(double));
		if (!cl[i].us || pthread_create(&cl[i].t, NULL, run, &cl[i]) != 0)
			return 1;
	}
	int failures = 0;
	for (int i = 0; cl && i < clients; i++) {
		pthread_join(cl[i].t, NULL);
		for (size_t j = 0; j < cl[i].n_us; j++)
			printf("%s %.0f\n", cl[i].us[j] > 0 ? "create" : "delete",
			       cl[i].us[j] > 0 ? cl[i].us[j] : -cl[i].us[j]);
		failures += cl[i].failures;
		free(cl[i].us);
	}
	free(cl);
	free(cfg.manifest);
	curl_global_cleanup();
	return failures ? 1 : 0;
usage:
	fputs("usage: bench_api [-n N] [-c CLIENTS] [-m cycle|up|down] [-p PREFIX] [-i MS] SOCKET MANIFEST\n",
	      stderr);
	return 2;
}
