/*
 * A VM's own disk files (struct vm_disk): made at its first start, kept
 * across restarts, removed with the playground's VM files. No VM writes
 * a base: QEMU gets a qcow2 overlay on it (qemu-img), the other VMMs a
 * copy, reflinked where the file system can, else sparse. A blank disk is
 * a sparse file, formatted (mkfs.ext4, mkfs.xfs) once when it has a file
 * system.
 */
#ifndef PLAYNET_VM_DISK_H
#define PLAYNET_VM_DISK_H

#include <stddef.h>

#include "vm.h"

/* The program that makes dk's file (qemu-img, mkfs.ext4, mkfs.xfs; NULL
 * when it takes none), and in package the Debian package it comes in. */
const char *vm_disk_tool(const struct vm_disk *dk, const char **package);

/* Makes disk dk unless its file is there already; 0 or -errno with why. */
int vm_disk_make(const struct vm_disk *dk, char *why, size_t why_len);

/* Copies src to dst (new), reflinked where the file system can, else
 * only its data (holes stay holes); then grows it to size if larger. */
int vm_disk_copy(const char *src, const char *dst, unsigned long long size);

#endif
