/*
 * netd's HTTP front end: a process of its own, started by the parent
 * (http.c) as `netd --frontend ...` on the listening socket the parent made.
 * It runs libmicrohttpd, the one parser of what clients send over HTTP, as
 * nobody with no capabilities, no_new_privs and a seccomp filter; it checks
 * each peer's credentials, and hands the parent each request over a
 * socketpair (channel.h) and the parent's answer back.
 */
#ifndef PLAYNET_FRONTEND_H
#define PLAYNET_FRONTEND_H

#define FRONTEND_FLAG "--frontend"

/* argv: netd --frontend LISTEN_FD CHANNEL_FD OWNER_UID ADMIN_GID READ_GID
 * VERBOSE (READ_GID -1: none). Returns only on bad arguments. */
int frontend_main(int argc, char **argv);

#endif
