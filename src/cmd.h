/* The commands main() dispatches to; each parses its own options. */
#pragma once

#include <stdint.h>

struct smith_error;
struct unpack_limits;

int cmd_build(int argc, char **argv, struct smith_error **err);
int cmd_upload(int argc, char **argv, struct smith_error **err);
int cmd_download(int argc, char **argv, struct smith_error **err);

/* A usage error (exit code 2) for command cmd (NULL: the build), pointing
 * at its --help.  Returns -1. */
int cmd_usage_error(const char *cmd, struct smith_error **err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* A size: a positive number of bytes with an optional K, M, G or T suffix
 * (powers of 1024), at most 2^63 - 1 bytes.  Returns 0 or -EINVAL. */
int cmd_parse_size(const char *s, uint64_t *ret);

/* Sets l's fields from SMITH_MAX_UNPACKED and SMITH_MAX_ENTRY where they
 * are set and not empty; a bad value is a usage error naming the variable. */
int cmd_limits_from_env(struct unpack_limits *l, struct smith_error **err);
