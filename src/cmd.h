/* What main() and the commands share: the verb table's entry, and one
 * option parser for every verb.
 *
 * A command describes its flags in a table of struct cmd_option; the
 * parser fills the variables they point to, rejects what is not in the
 * table with one usage error ("unknown option '-x'"), and answers -h/--help
 * (the usage text is printed from the same table) and -V/--version for
 * every verb alike.  Commands never print errors: they return them. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

struct smith_error;
struct unpack_limits;

struct command {
        const char *name;    /* "build", "upload", ... */
        const char *usage;   /* "smith upload -r URL [flags]" */
        const char *summary; /* one line for `smith --help` */
        const char *details; /* printed before the flags (may be NULL) */
        const char *footer;  /* printed after the flags (may be NULL) */
        const struct cmd_option *options;
        /* argv[0] is the verb; the options are parsed by the time run()
         * is called only if it asked for it (cmd_parse()). */
        int (*run)(const struct command *cmd, int argc, char **argv, struct smith_error **err);
};

enum cmd_option_kind {
        CMD_FLAG,   /* bool *dest set to true */
        CMD_STRING, /* const char **dest set to the value */
        CMD_LIST,   /* char ***dest, a strv: every value given, each split at ',' (the caller frees it) */
};

struct cmd_option {
        const char *name; /* long name, without "--" */
        int short_name;   /* 'r', or 0 for none */
        enum cmd_option_kind kind;
        void *dest;
        const char *help; /* "where to upload (required)" */
        const char *arg;  /* the value's name in --help, "string" when NULL */
};

/* Parses argv (argv[0] is the verb) against cmd->options plus -h/--help
 * and -V/--version.  Returns 0 when the command should run, 1 when help or
 * the version was printed (the command returns 0), -1 with a usage error
 * (exit 2).  Operands are refused unless ret_operands is given: then it
 * gets the index of the first. */
int cmd_parse(const struct command *cmd, int argc, char **argv, int *ret_operands, struct smith_error **err);
/* cmd_parse() for a verb that takes min to max operands, none of them
 * empty; what names the first in the error when none is given ("no image
 * given").  *ret_first gets the index of the first. */
int cmd_parse_operands(const struct command *cmd, int argc, char **argv, int min, int max, const char *what,
                       int *ret_first, struct smith_error **err);

/* A usage error (exit code 2) for cmd, pointing at its --help.  Returns -1. */
int cmd_usage_error(const struct command *cmd, struct smith_error **err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* What upload and download take alike. */
struct transfer_opts {
        const char *remote, *image, *ca_file, *platform;
        bool docker, insecure, verbose;
        const char *timeout;     /* --timeout, or NULL */
        const char *compression; /* upload --compression, or NULL */
        bool zstd;               /* its parse */
        int level;
};

/* Parses argv for upload or download into *o (image defaults to
 * "image.tar.gz"), checks what both need (-r, a file name) and turns on
 * -v.  Returns what cmd_parse() does. */
int cmd_parse_transfer(const struct command *cmd, struct transfer_opts *o, int argc, char **argv,
                       struct smith_error **err);
struct registry_opts;
/* The registry client's options for o. */
void cmd_registry_opts(const struct transfer_opts *o, struct registry_opts *ret);

void cmd_print_usage(const struct command *cmd, FILE *f);
void cmd_print_version(void);

extern const struct command cmd_build, cmd_upload, cmd_download, cmd_inspect, cmd_lock, cmd_sbom;

/* A size: a positive number of bytes with an optional K, M, G or T suffix
 * (powers of 1024), at most 2^63 - 1 bytes.  Returns 0 or -EINVAL. */
int cmd_parse_size(const char *s, uint64_t *ret);

/* Sets l's fields from SMITH_MAX_UNPACKED and SMITH_MAX_ENTRY where they
 * are set and not empty; a bad value is a usage error naming the variable. */
int cmd_limits_from_env(struct unpack_limits *l, struct smith_error **err);

/* --timeout SECONDS (NULL: not given): the deadline of every download with
 * its retries (http_set_timeout()); a usage error when not a number of
 * seconds. */
#define CMD_TIMEOUT_OPTION(var)                                                                                        \
        {                                                                                                              \
                "timeout", 0, CMD_STRING, &(var), "deadline of one download with its retries (default 3600; 0: none)", \
                        "seconds"                                                                                      \
        }
int cmd_timeout_apply(const struct command *cmd, const char *value, struct smith_error **err);

/* --compression gzip|zstd[:LEVEL]: *ret_zstd, and the level (-1: the
 * compressor's default); a usage error naming the flag otherwise. */
int cmd_parse_compression(const struct command *cmd, const char *value, bool *ret_zstd, int *ret_level,
                          struct smith_error **err);
