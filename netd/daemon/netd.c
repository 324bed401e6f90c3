/*
 * netd: the fabric's daemon. The parent, which alone holds privileges, runs
 * one epoll loop (signalfd for signals, the HTTP front end's channel, the
 * DHCP packet sockets, the watch on the host's addresses) and holds the
 * lock on the state dir for as long as it runs; the HTTP front end
 * (frontend.c) and the DHCP engine (engine.c) are processes of their own
 * that hold nothing. `netd --frontend ...` is the front end's own start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cliopt.h"
#include "closer.h"
#include "dhcpd.h"
#include "dnsd.h"
#include "fabric.h"
#include "guard_config.h"
#include "frontend.h"
#include "http.h"
#include "log.h"
#include "service.h"
#include "state.h"
#include "util.h"

struct netd_options {
	const char *state_dir;
	const char *socket;
	const char *config;
	const char *socket_group;
	const char *read_group;
	struct fabric_opts fabric; /* what the options say of the fabric */
	char pin_dir[256];
	struct manifest_limits limits;
	bool no_takeover;
	uint32_t dns_upstreams[DNSD_MAX_UPSTREAMS];
	size_t n_dns_upstreams;
	bool check;
	bool verbose;
};

static const char usage_text[] =
	"usage: netd [options]\n"
	"  --state-dir DIR        PLAYNET_STATE_DIR   (default /run/playnet)\n"
	"  --socket PATH          PLAYNET_SOCKET      (default /run/playnet/netd.sock)\n"
	"  --socket-group GROUP   group of the socket (mode 0660): its members may do all\n"
	"  --read-group GROUP     its members may only read (GET); the socket is then 0666\n"
	"  --host-netns NAME      PLAYNET_HOST_NETNS  (default: netd's own netns)\n"
	"  --tap-owner UID[:GID]  PLAYNET_TAP_OWNER\n"
	"  --transit-pool CIDR    PLAYNET_TRANSIT_POOL (default " FABRIC_POOL_DEFAULT ")\n"
	"  --uplink-rate RATE     PLAYNET_UPLINK_RATE\n"
	"  --guard-config FILE    PLAYNET_GUARD_CONFIG: 'deny CIDR' / 'allow CIDR' lines\n"
	"                         (--config is its old name)\n"
	"  --bpf-dir DIR          PLAYNET_BPF_DIR\n"
	"  --max-machines N, --max-networks N, --max-interfaces N\n"
	"  --no-takeover          PLAYNET_NO_TAKEOVER=1: every create builds its namespace,\n"
	"                         none takes over a deleted playground's\n"
	"  --dns-upstream ADDR[,ADDR...] | none\n"
	"                         PLAYNET_DNS_UPSTREAM: where guests' DNS queries for\n"
	"                         other names go (default: the host netns's resolv.conf)\n"
	"  -n, --check            check the options and the config file, then exit\n"
	"  -v, --verbose          log every request\n";

static int bad_option(const char *what, const char *value)
{
	fprintf(stderr, "netd: %s: invalid value '%s'\n%s", what, value, usage_text);
	return 2;
}

/* The resolvers guests' other names go to: given ("none": none), or those
 * of the host netns's resolv.conf (a named one's, as ip netns exec sees
 * it, when it has its own). */
static int dns_upstreams(const char *given, const char *host_netns, struct netd_options *o)
{
	o->n_dns_upstreams = 0;
	if (!given) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/etc/netns/%s/resolv.conf", host_netns ? host_netns : "");
		if (!host_netns || !*host_netns || access(path, R_OK) < 0)
			snprintf(path, sizeof(path), "/etc/resolv.conf");
		o->n_dns_upstreams = dnsd_resolv_conf(path, o->dns_upstreams, DNSD_MAX_UPSTREAMS);
		return 0;
	}
	if (strcmp(given, "none") == 0)
		return 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", given);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct in_addr a;
		if (o->n_dns_upstreams == DNSD_MAX_UPSTREAMS || inet_pton(AF_INET, t, &a) != 1)
			return -EINVAL;
		o->dns_upstreams[o->n_dns_upstreams++] = ntohl(a.s_addr);
	}
	return o->n_dns_upstreams ? 0 : -EINVAL;
}

static int parse_options(int argc, char **argv, struct netd_options *o)
{
	enum { O_GROUP = 256, O_NOTAKE, O_RGROUP, O_DNS };
	static const struct option own[] = {
		{ "dns-upstream", required_argument, NULL, O_DNS },
		{ "socket-group", required_argument, NULL, O_GROUP },
		{ "read-group", required_argument, NULL, O_RGROUP },
		{ "no-takeover", no_argument, NULL, O_NOTAKE },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct option longopts[32];
	if (!cliopt_fabric_longopts(own, longopts, ARRAY_SIZE(longopts)))
		abort();
	*o = (struct netd_options){ 0 };
	struct cliopt_fabric fo;
	cliopt_fabric_init(&fo);
	const char *no_takeover = cliopt_env("PLAYNET_NO_TAKEOVER", "0");
	if (strcmp(no_takeover, "0") != 0 && strcmp(no_takeover, "1") != 0)
		return bad_option("PLAYNET_NO_TAKEOVER (0 or 1)", no_takeover);
	o->no_takeover = no_takeover[0] == '1';
	const char *dns = getenv("PLAYNET_DNS_UPSTREAM");
	int ch;
	while ((ch = getopt_long(argc, argv, "nvh", longopts, NULL)) != -1) {
		if (cliopt_fabric_set(&fo, ch, optarg))
			continue;
		switch (ch) {
		case O_GROUP: o->socket_group = optarg; break;
		case O_RGROUP: o->read_group = optarg; break;
		case O_NOTAKE: o->no_takeover = true; break;
		case O_DNS: dns = optarg; break;
		case 'n': o->check = true; break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: fputs(usage_text, stderr); return 2;
		}
	}
	if (optind != argc)
		return bad_option("argument", argv[optind]);
	struct pn_error err = PN_ERROR_INIT;
	if (cliopt_fabric_finish(&fo, &err) < 0) {
		fprintf(stderr, "netd: %s\n%s", err.msg, usage_text);
		return 2;
	}
	if (dns_upstreams(dns, fo.text[CLIOPT_HOST_NETNS], o) < 0)
		return bad_option("--dns-upstream (addresses, comma-separated, or none)", dns);
	o->state_dir = fo.text[CLIOPT_STATE_DIR];
	o->socket = fo.text[CLIOPT_SOCKET];
	o->config = fo.text[CLIOPT_GUARD_CONFIG];
	o->limits = fo.limits;
	fabric_opts_of(&fo, o->pin_dir, sizeof(o->pin_dir), &o->fabric);
	return 0;
}

static int load_config(const struct netd_options *o, struct guard_config *gc)
{
	memset(gc, 0, sizeof(*gc));
	if (!o->config)
		return 0;
	struct diag d;
	diag_init(&d, o->config);
	int e = guard_config_load(o->config, gc, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	return e;
}

static gid_t socket_gid(const char *group)
{
	if (!group)
		return (gid_t)-1;
	struct group *g = getgrnam(group);
	return g ? g->gr_gid : (gid_t)-2;
}

/* Whether the netd named in the state dir's pid file is exiting: killed,
 * it still holds the lock while it closes its packet sockets, each after a
 * grace period (tens of ms apiece, seconds with many bridges). */
static bool holder_exiting(const char *state_dir)
{
	char path[PATH_MAX], buf[512];
	snprintf(path, sizeof(path), "%s/netd.pid", state_dir);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	cleanup_close int sfd = open(path, O_RDONLY | O_CLOEXEC);
	n = sfd < 0 ? -1 : read(sfd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* pid (comm) state ppid pgrp session tty_nr tpgid flags: comm may
	 * hold spaces, so count from its closing parenthesis. */
	const char *p = strrchr(buf, ')');
	unsigned long flags = 0;
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & 0x4; /* PF_EXITING */
}

#define LOCK_WAIT_MS 10000

/* The state dir's lock: refused at once while another netd or playnet
 * works there, waited for while its holder is exiting. */
static int lock_state_dir(const char *state_dir)
{
	int lock = state_trylock(state_dir);
	for (int waited = 0; lock == -EWOULDBLOCK && waited < LOCK_WAIT_MS; waited += 20) {
		if (!holder_exiting(state_dir))
			break;
		if (waited == 0)
			log_info("state dir %s: waiting for the netd before to exit", state_dir);
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
		lock = state_trylock(state_dir);
	}
	return lock;
}

/* Tokens for the fixed fds in the epoll set; anything else is a DHCP server. */
static char tok_signal, tok_http, tok_hostaddr, tok_dns;

struct loop {
	int ep, sfd;
};

static void loop_close(struct loop *l)
{
	int fds[] = { l->ep, l->sfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static int loop_watch(struct loop *l, int fd, void *token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = token };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int loop_open(struct loop *l)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->sfd < 0 || l->ep < 0 || loop_watch(l, l->sfd, &tok_signal) < 0) {
		log_errno(LOG_LVL_ERR, errno, "event loop");
		return -1;
	}
	return 0;
}

/* True when a signal asks netd to stop. */
static bool loop_signalled(struct loop *l)
{
	struct signalfd_siginfo si;
	while (read(l->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		log_info("signal %u: stopping", si.ssi_signo);
		return true;
	}
	return false;
}

/* How long requests coming in one after another may hold up the deletes. */
#define REAP_YIELD_MS 100

/* The watch on the host's addresses exists from the first create on, and
 * is made anew when the guards' maps are: an fd closed leaves the epoll set
 * by itself, so adding the current one whenever it is not there is enough
 * (EEXIST: it is). */
static void watch_host_addresses(struct loop *l, struct fabric *f)
{
	int fd = fabric_hostaddr_fd(f);
	if (fd >= 0 && loop_watch(l, fd, &tok_hostaddr) < 0 && errno != EEXIST)
		log_errno(LOG_LVL_WARN, errno, "watch the host netns's addresses");
}

/* The loop: returns when SIGINT or SIGTERM arrives. */
static int run_loop(struct loop *l, struct http *h, struct service *svc)
{
	int reap_ms = -1; /* deletes under way look again after this long */
	double reaped = 0;
	for (;;) {
		/* The front end's channel: made anew with each front end. */
		if (loop_watch(l, http_epoll_fd(h), &tok_http) < 0 && errno != EEXIST) {
			log_errno(LOG_LVL_ERR, errno, "epoll");
			return -1;
		}
		struct epoll_event evs[32];
		int dns_ms = dnsd_timeout_ms(svc->dnsd);
		int wait_ms = reap_ms < 0 || (dns_ms >= 0 && dns_ms < reap_ms) ? dns_ms : reap_ms;
		int n = epoll_wait(l->ep, evs, ARRAY_SIZE(evs), wait_ms);
		if (n < 0 && errno != EINTR) {
			log_errno(LOG_LVL_ERR, errno, "epoll_wait");
			return -1;
		}
		bool dns = dns_ms == 0 || (n == 0 && dns_ms > 0); /* relays that waited too long */
		for (int i = 0; i < n; i++) {
			void *tok = evs[i].data.ptr;
			if (tok == &tok_signal && loop_signalled(l))
				return 0;
			dns |= tok == &tok_dns;
			if (tok == &tok_hostaddr) {
				struct pn_error err = PN_ERROR_INIT;
				if (fabric_hostaddr_update(svc->backend.fabric, &err) < 0)
					log_warn("%s", err.msg);
			} else if (tok != &tok_signal && tok != &tok_http && tok != &tok_dns) {
				dhcpd_event(svc->dhcpd, tok);
			}
		}
		if (dns)
			dnsd_run(svc->dnsd);
		http_run(h);
		watch_host_addresses(l, svc->backend.fabric);
		/* A step of a delete can hold the rtnl lock for tens of ms:
		 * requests go first, and the deletes go on when a wait finds
		 * nothing to do, or after REAP_YIELD_MS of giving way. */
		double now = now_seconds();
		if (reap_ms < 0 || n == 0 || now - reaped >= REAP_YIELD_MS / 1e3) {
			reap_ms = service_reap(svc);
			reaped = now;
		} else {
			reap_ms = 0;
		}
	}
}

/* A packet socket per bridge: a thousand playgrounds need more than the
 * usual 1024 descriptors. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Namespaces made ahead of the creates that will use them: two cover one
 * create after another, which is as fast as requests come to one thread. */
#define NETD_NETNS_SPARES 2

/* With the state dir locked: the fabric, recovery, then the API until a
 * signal. Returns the exit code. */
static int serve(const struct netd_options *o, const struct guard_config *gc,
		 const struct http_access *acc)
{
	struct fabric_opts fo = o->fabric;
	fo.guard_config = gc;
	fo.netns_spares = NETD_NETNS_SPARES;
	fo.close_later = closer_close;
	struct pn_error err = PN_ERROR_INIT;
	struct fabric *f;
	int e = fabric_open(&f, &fo, &err);
	if (e < 0) {
		log_err("%s", err.msg);
		return e == -ENOENT ? 1 : 3;
	}
	struct loop l = { -1, -1 };
	struct dhcpd *dhcp = NULL;
	struct service svc = {
		.backend = { .fabric = f, .state_dir = o->state_dir, .pin_dir = o->pin_dir,
			     .limits = o->limits, .guard_config = o->config },
		.no_takeover = o->no_takeover,
	};
	struct http *h = NULL;
	int rc = 3;
	if (loop_open(&l) < 0 || dhcpd_new(l.ep, &dhcp) < 0 || closer_start() < 0)
		goto out;
	svc.dhcpd = dhcp;
	if ((e = dnsd_new(fabric_host_nsfd(f), o->dns_upstreams, o->n_dns_upstreams, &svc.dnsd)) < 0 ||
	    loop_watch(&l, dnsd_fd(svc.dnsd), &tok_dns) < 0) {
		log_errno(LOG_LVL_ERR, e < 0 ? -e : errno, "start the DNS servers");
		goto out;
	}
	if (o->n_dns_upstreams)
		log_info("DNS: names other than the playgrounds' are relayed to %zu resolvers", o->n_dns_upstreams);
	else
		log_info("DNS: no resolver to relay to: names other than the playgrounds' get SERVFAIL");
	if (service_recover(&svc) < 0)
		goto out;
	const struct api_backend b = service_backend(&svc);
	if (http_start(o->socket, acc, &b, &h, &err) < 0) {
		log_err("%s", err.msg);
		goto out;
	}
	log_info("listening on %s, state in %s, host netns %s", o->socket, o->state_dir,
		 o->fabric.host_netns ? o->fabric.host_netns : "(own)");
	rc = run_loop(&l, h, &svc) < 0 ? 3 : 0;
	service_reap_all(&svc);
out:
	service_free(&svc);
	http_stop(h);
	dhcpd_free(dhcp);
	dnsd_free(svc.dnsd);
	closer_stop();
	loop_close(&l);
	fabric_close(f);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], FRONTEND_FLAG) == 0)
		return frontend_main(argc, argv);
	log_init("netd", LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	struct netd_options o;
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc;
	if (o.verbose)
		log_set_level(LOG_LVL_DEBUG);
	struct guard_config gc;
	if (load_config(&o, &gc) < 0)
		return 1;
	struct http_access acc = { socket_gid(o.socket_group), socket_gid(o.read_group),
				   o.verbose };
	if (acc.admin_gid == (gid_t)-2 || acc.read_gid == (gid_t)-2) {
		fprintf(stderr, "netd: --%s: no group named '%s'\n",
			acc.admin_gid == (gid_t)-2 ? "socket-group" : "read-group",
			acc.admin_gid == (gid_t)-2 ? o.socket_group : o.read_group);
		guard_config_free(&gc);
		return 1;
	}
	if (o.check) {
		fprintf(stderr, "netd: configuration OK\n");
		guard_config_free(&gc);
		return 0;
	}

	int e = state_dir_init(o.state_dir);
	cleanup_close int lock = e < 0 ? e : lock_state_dir(o.state_dir);
	if (lock < 0) {
		if (lock == -EWOULDBLOCK)
			log_err("state dir %s is in use by another netd or playnet", o.state_dir);
		else
			log_errno(LOG_LVL_ERR, -lock, "state dir %s", o.state_dir);
		guard_config_free(&gc);
		return 1;
	}
	/* Who holds the lock, for people and for tests that stop it. */
	char pidfile[PATH_MAX];
	snprintf(pidfile, sizeof(pidfile), "%s/netd.pid", o.state_dir);
	int pfd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pfd >= 0) {
		dprintf(pfd, "%d\n", (int)getpid());
		close(pfd);
	}
	rc = serve(&o, &gc, &acc);
	unlink(pidfile);
	guard_config_free(&gc);
	return rc;
}
