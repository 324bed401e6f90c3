/*
 * capture: a network's or an interface's frames, as the pcap stream netd
 * sends, into a file or down a pipe (tshark -r -, wireshark -k -i -).
 */
#define _GNU_SOURCE
#include "playnet.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_machine.h"
#include "naming.h"
#include "pcapio.h"
#include "util.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct capture_out {
	FILE *f;
	int error;        /* errno of a failed write */
	char packets[24], dropped[24], end[16];
};

static bool out_data(const void *buf, size_t len, void *arg)
{
	struct capture_out *c = arg;
	/* Flushed at once: a reader on a pipe sees each frame as it comes. */
	if (fwrite(buf, 1, len, c->f) != len || fflush(c->f) != 0) {
		c->error = errno;
		return false;
	}
	return true;
}

static void out_trailer(const char *name, const char *value, void *arg)
{
	struct capture_out *c = arg;
	if (strcasecmp(name, "Playnet-Packets") == 0)
		snprintf(c->packets, sizeof(c->packets), "%s", value);
	else if (strcasecmp(name, "Playnet-Dropped") == 0)
		snprintf(c->dropped, sizeof(c->dropped), "%s", value);
	else if (strcasecmp(name, "Playnet-End") == 0)
		snprintf(c->end, sizeof(c->end), "%s", value);
}

static bool out_stop(void *arg)
{
	(void)arg;
	return interrupted;
}

/* The API path of TARGET (a network, or MACHINE/ethN); an exit code once
 * said why it is not one. */
static int capture_path(const char *pg, const char *target, char *path, size_t len)
{
	if (!naming_valid_playground(pg))
		return bad_name("capture", pg);
	if (!api_valid_capture_target(target))
		return usage_error("capture: expected a network or MACHINE/ethN, such as net-1 or "
				   "router/eth0, not '%s'",
				   target);
	const char *slash = strchr(target, '/');
	if (slash)
		snprintf(path, len, "/v1/playgrounds/%s/machines/%.*s/interfaces/%s/capture", pg,
			 (int)(slash - target), target, slash + 1);
	else
		snprintf(path, len, "/v1/playgrounds/%s/networks/%s/capture", pg, target);
	return EXIT_OK;
}

/* The filter's words as one expression, escaped for a query. */
static char *filter_query(int argc, char **argv)
{
	char expr[PCAPIO_FILTER_MAX + 1] = "";
	size_t at = 0;
	for (int i = 0; i < argc; i++) {
		int n = snprintf(expr + at, sizeof(expr) - at, "%s%s", i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(expr) - at)
			return NULL;
		at += (size_t)n;
	}
	return curl_easy_escape(NULL, expr, (int)at);
}

static int capture_usage(void)
{
	return usage_error("capture takes P and a network or MACHINE/ethN, then [-w FILE] "
			   "[-c COUNT] [FILTER...]");
}

int cmd_capture(const struct options *o, int argc, char **argv)
{
	if (argc < 3)
		return capture_usage();
	const char *file = NULL, *count = NULL;
	int i = 3;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-w") == 0)
			file = argv[i + 1];
		else if (strcmp(argv[i], "-c") == 0)
			count = argv[i + 1];
		else
			return capture_usage();
	}
	if (i < argc && (strcmp(argv[i], "-w") == 0 || strcmp(argv[i], "-c") == 0))
		return usage_error("capture: %s needs a value", argv[i]);
	uint64_t n;
	if (count && !api_capture_count(count, &n))
		return usage_error("capture: -c takes a number of frames from 1 to %d, not '%s'",
				   API_CAPTURE_COUNT_MAX, count);
	char path[512];
	int rc = capture_path(argv[1], argv[2], path, sizeof(path));
	if (rc)
		return rc;
	bool to_stdout = !file || strcmp(file, "-") == 0;
	if (to_stdout && isatty(STDOUT_FILENO))
		return usage_error("capture: will not write pcap to a terminal: give -w FILE, or "
				   "pipe it (| tshark -r -)");
	cleanup_free char *query = filter_query(argc - i, argv + i);
	if (!query)
		return usage_error("capture: the filter is longer than %d characters",
				   PCAPIO_FILTER_MAX);
	char url[sizeof(path) + 3 * PCAPIO_FILTER_MAX + 64];
	snprintf(url, sizeof(url), "%s?filter=%s%s%s", path, query, count ? "&count=" : "",
		 count ? count : "");
	curl_free(steal_ptr(query));
	struct capture_out c = { .f = to_stdout ? stdout : fopen(file, "wb") };
	if (!c.f) {
		fprintf(stderr, "playnet: capture: %s: %s\n", file, strerror(errno));
		return EXIT_USER;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char what[128];
	snprintf(what, sizeof(what), "capture %s %s", argv[1], argv[2]);
	const struct client_stream s = { out_data, out_trailer, out_stop, &c };
	rc = stream_netd(o, what, url, &s);
	if (!to_stdout && fclose(c.f) != 0 && !c.error)
		c.error = errno;
	if (c.error) {
		fprintf(stderr, "playnet: %s: write %s: %s\n", what, to_stdout ? "stdout" : file,
			strerror(c.error));
		return EXIT_SYSTEM;
	}
	if (rc)
		return rc;
	if (*c.end)
		fprintf(stderr, "%s: %s frames captured, %s dropped by the kernel%s\n", what,
			*c.packets ? c.packets : "?", *c.dropped ? c.dropped : "?",
			strcmp(c.end, "deleted") == 0 ? " (the playground was deleted)" : "");
	if (strcmp(c.end, "error") == 0) {
		fprintf(stderr, "playnet: %s: netd could not go on reading (see its log)\n", what);
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}
