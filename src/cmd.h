/* The commands main() dispatches to; each parses its own options. */
#pragma once

struct smith_error;

int cmd_build(int argc, char **argv, struct smith_error **err);
int cmd_upload(int argc, char **argv, struct smith_error **err);
int cmd_download(int argc, char **argv, struct smith_error **err);

/* A usage error (exit code 2) for command cmd (NULL: the build), pointing
 * at its --help.  Returns -1. */
int cmd_usage_error(const char *cmd, struct smith_error **err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
