/* A VM's disk files: overlays, copies and blank disks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"
#include "vm_disk.h"

/* The data of in, extent by extent: holes are skipped, so that a sparse
 * base stays sparse in its copy. */
static int copy_data(int in, int out, off_t size)
{
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		off_t from = data, to = data;
		while (from < hole) {
			ssize_t n = copy_file_range(in, &from, out, &to, (size_t)(hole - from), 0);
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
		}
		pos = hole;
	}
	return 0;
}

int vm_disk_copy(const char *src, const char *dst, unsigned long long size)
{
	cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		return -errno;
	cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return -errno;
	int e = 0;
	if (ioctl(out, FICLONE, in) < 0) {
		if (ftruncate(out, st.st_size) < 0)
			e = -errno;
		if (!e)
			e = copy_data(in, out, st.st_size);
	}
	if (!e && size > (unsigned long long)st.st_size && ftruncate(out, (off_t)size) < 0)
		e = -errno;
	if (!e && fsync(out) < 0)
		e = -errno;
	if (e)
		unlink(dst);
	return e;
}

const char *vm_disk_tool(const struct vm_disk *dk, const char **package)
{
	if (dk->qcow2) {
		*package = "qemu-utils";
		return "qemu-img";
	}
	if (dk->blank && dk->drive->filesystem == MANIFEST_FS_EXT4) {
		*package = "e2fsprogs";
		return "mkfs.ext4";
	}
	if (dk->blank && dk->drive->filesystem == MANIFEST_FS_XFS) {
		*package = "xfsprogs";
		return "mkfs.xfs";
	}
	*package = NULL;
	return NULL;
}

static int make_blank(const struct vm_disk *dk, const char *tmp, char *why, size_t why_len)
{
	cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)dk->drive->size) < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", tmp, strerror(e));
		return -e;
	}
	const char *package, *mkfs = vm_disk_tool(dk, &package);
	if (!mkfs)
		return 0; /* a raw disk */
	char prog[16], file[PATH_MAX + 8];
	snprintf(prog, sizeof(prog), "%s", mkfs);
	snprintf(file, sizeof(file), "%s", tmp);
	/* Both take -q; "force" is -F to mkfs.ext4, -f to mkfs.xfs. */
	char *argv[] = { prog, "-q", dk->drive->filesystem == MANIFEST_FS_XFS ? "-f" : "-F", file, NULL };
	return tool_run(argv, NULL, why, why_len);
}

static int make_overlay(const struct vm_disk *dk, const char *tmp, char *why, size_t why_len)
{
	char base[PATH_MAX], file[PATH_MAX + 8], size[32];
	struct stat st;
	if (stat(dk->base, &st) < 0) {
		int e = errno;
		snprintf(why, why_len, "%s: %s", dk->base, strerror(e));
		return -e;
	}
	unsigned long long bytes = dk->drive->size > (unsigned long long)st.st_size ?
					   dk->drive->size : (unsigned long long)st.st_size;
	snprintf(base, sizeof(base), "%s", dk->base);
	snprintf(file, sizeof(file), "%s", tmp);
	snprintf(size, sizeof(size), "%llu", bytes);
	char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw",
			 file, size, NULL };
	return tool_run(argv, NULL, why, why_len);
}

int vm_disk_make(const struct vm_disk *dk, char *why, size_t why_len)
{
	if (access(dk->path, F_OK) == 0)
		return 0;
	/* Made beside its name and renamed: a crash leaves no half disk that
	 * a restart would take for a made one. */
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.new", dk->path);
	unlink(tmp);
	int e;
	if (dk->blank)
		e = make_blank(dk, tmp, why, why_len);
	else if (dk->qcow2)
		e = make_overlay(dk, tmp, why, why_len);
	else if ((e = vm_disk_copy(dk->base, tmp, dk->drive->size)) < 0)
		snprintf(why, why_len, "copying %s: %s", dk->base, strerror(-e));
	if (!e && rename(tmp, dk->path) < 0) {
		e = -errno;
		snprintf(why, why_len, "%s: %s", dk->path, strerror(-e));
	}
	if (e)
		unlink(tmp);
	return e;
}
