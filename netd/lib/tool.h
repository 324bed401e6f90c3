/*
 * Runs the field's own tools (mmdebstrap, skopeo, umoci, mkfs.ext4,
 * qemu-img, tar) as child processes: stdin from /dev/null, stdout and
 * stderr into a log file, so that a failure can say what the tool said.
 */
#ifndef PLAYNET_TOOL_H
#define PLAYNET_TOOL_H

#include <stddef.h>

/* Runs argv (argv[0] looked up in PATH) and waits. Output is appended to
 * log (NULL: discarded). 0 when it exited 0; -ENOENT when it is not
 * installed; else -EIO, with why (if not NULL, why_len bytes) saying how it
 * ended and the last line it wrote. */
int tool_run(char *const argv[], const char *log, char *why, size_t why_len);

/* Like tool_run, its standard output into the file out_path. */
int tool_run_stdout(char *const argv[], const char *out_path, char *why, size_t why_len);

/* Like tool_run, its standard output (trailing newline cut) in out. */
int tool_output(char *const argv[], char *out, size_t out_len, char *why, size_t why_len);

/* Whether prog is an executable in PATH. */
int tool_present(const char *prog);

#endif
