#define _GNU_SOURCE
#include "capture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "naming.h"
#include "netns.h"
#include "util.h"

/* Room for what arrives while the front end writes the stream out. */
#define CAPTURE_RCVBUF (4 << 20)

/* Not const: struct sock_fprog points at what it runs without const. */
static struct sock_filter take_nothing[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
static const struct sock_fprog take_nothing_prog = { .len = 1, .filter = take_nothing };

int capture_socket(int nsfd, const char *dev, bool promisc)
{
	if (strlen(dev) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	/* Protocol 0 until bound: nothing is queued before the filter is on. */
	cleanup_close int fd = netns_socket(nsfd, AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return fd;
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, dev);
	const int on = 1, rcvbuf = CAPTURE_RCVBUF;
	/* The socket's own namespace resolves the name. */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &take_nothing_prog,
		       sizeof(take_nothing_prog)) < 0 ||
	    ioctl(fd, SIOCGIFINDEX, &ifr) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		return -errno;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = ifr.ifr_ifindex };
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	struct packet_mreq mr = { .mr_ifindex = ifr.ifr_ifindex, .mr_type = PACKET_MR_PROMISC };
	if (promisc && setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return -errno;
	int out = fd;
	fd = -1;
	return out;
}

struct capture_entry {
	char name[NAMING_PLAYGROUND_MAX + 1];
	int sock; /* our copy of the front end's socket */
	int ctl;  /* the pipe's write end; the front end reads the other */
};

struct capture_set {
	struct capture_entry e[CAPTURE_MAX];
	size_t n;
};

struct capture_set *capture_set_new(void)
{
	return calloc(1, sizeof(struct capture_set));
}

static void drop(struct capture_set *set, size_t i)
{
	close(set->e[i].sock);
	close(set->e[i].ctl);
	set->e[i] = set->e[--set->n];
}

/* Captures whose front end closed its end (the client went): forgotten. */
static void sweep(struct capture_set *set)
{
	for (size_t i = 0; i < set->n;) {
		struct pollfd p = { .fd = set->e[i].ctl, .events = 0 };
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)))
			drop(set, i);
		else
			i++;
	}
}

void capture_set_free(struct capture_set *set)
{
	if (!set)
		return;
	while (set->n)
		drop(set, 0);
	free(set);
}

int capture_set_add(struct capture_set *set, const char *name, int sock, int *ctl)
{
	sweep(set);
	if (set->n == CAPTURE_MAX)
		return -EBUSY;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	int copy = fcntl(sock, F_DUPFD_CLOEXEC, 0);
	if (copy < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	struct capture_entry *e = &set->e[set->n++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->sock = copy;
	e->ctl = p[1];
	*ctl = p[0];
	return 0;
}

void capture_set_end(struct capture_set *set, const char *name)
{
	if (!set)
		return;
	const int on = 1;
	for (size_t i = 0; i < set->n;) {
		if (strcmp(set->e[i].name, name) != 0) {
			i++;
			continue;
		}
		/* Locked: a front end cannot take the namespace's next
		 * playground's frames through a socket it still holds. */
		if (setsockopt(set->e[i].sock, SOL_SOCKET, SO_ATTACH_FILTER, &take_nothing_prog,
			       sizeof(take_nothing_prog)) < 0 ||
		    setsockopt(set->e[i].sock, SOL_SOCKET, SO_LOCK_FILTER, &on, sizeof(on)) < 0)
			log_errno(LOG_LVL_WARN, errno, "playground %s: stop a capture", name);
		drop(set, i);
	}
	sweep(set);
}

size_t capture_set_count(struct capture_set *set)
{
	if (!set)
		return 0;
	sweep(set);
	return set->n;
}
