/*
 * What netd's helper processes (the HTTP front end, the DHCP engine) give
 * up before they read a byte from outside: every capability, the bounding
 * set with them, their user (nobody), and the right to gain any back
 * (no_new_privs). Each then loads a seccomp filter of its own.
 */
#ifndef PLAYNET_PRIVDROP_H
#define PLAYNET_PRIVDROP_H

#define PRIVDROP_UID 65534 /* nobody */
#define PRIVDROP_GID 65534 /* nogroup */

/* 0, or -errno for the step that failed. Only system calls: safe in the
 * child of a fork from a process with threads. */
int privdrop_to_nobody(void);

#endif
