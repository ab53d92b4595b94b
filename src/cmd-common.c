/* What the commands share: one getopt_long() loop over a command's option
 * table, the usage text printed from that table, the version, the usage
 * error, worded the same everywhere ("[<command>: ]<what> (see 'smith
 * [<command> ]--help')"), and the size limits' settings (layer/unpack.h,
 * README "Limits"). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "basic/error.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "net/http.h"
#include "registry/registry.h"
#include "cmd.h"
#include "smith-version.h"
#include "layer/unpack.h"

#define MAX_OPTIONS 32
#define HELP_COLUMN 29

static bool is_build(const struct command *cmd) {
        return cmd == &cmd_build;
}

int cmd_usage_error(const struct command *cmd, struct smith_error **err, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return error_set(err, SMITH_ERR_USAGE, "bad command line (see 'smith --help')");
        if (!cmd || is_build(cmd))
                return error_set(err, SMITH_ERR_USAGE, "%s (see 'smith --help')", what);
        return error_set(err, SMITH_ERR_USAGE, "%s: %s (see 'smith %s --help')", cmd->name, what, cmd->name);
}

void cmd_print_version(void) {
        printf("smith version %s (built from sha %s)\n", SMITH_VERSION, SMITH_SHA);
}

static void print_option(FILE *f, int short_name, const char *name, const char *arg, const char *help) {
        char left[64];
        int n;

        if (short_name)
                n = snprintf(left, sizeof(left), "  -%c, --%s%s%s", short_name, name, arg ? " " : "", arg ? arg : "");
        else
                n = snprintf(left, sizeof(left), "      --%s%s%s", name, arg ? " " : "", arg ? arg : "");
        if (n < HELP_COLUMN - 1)
                fprintf(f, "%-*s%s\n", HELP_COLUMN, left, help);
        else
                fprintf(f, "%s\n%*s%s\n", left, HELP_COLUMN, "", help);
}

void cmd_print_usage(const struct command *cmd, FILE *f) {
        fprintf(f, "smith%s%s - %s\n\nUsage:\n%s", is_build(cmd) ? "" : " ", is_build(cmd) ? "" : cmd->name,
                cmd->summary, cmd->usage);
        if (cmd->details)
                fprintf(f, "\n%s", cmd->details);
        fputs("\nFlags:\n", f);
        for (const struct cmd_option *o = cmd->options; o && o->name; o++)
                print_option(f, o->short_name, o->name, o->kind != CMD_FLAG ? (o->arg ? o->arg : "string") : NULL,
                             o->help);
        print_option(f, 'h', "help", NULL, is_build(cmd) ? "help for smith" : "help for this command");
        print_option(f, 'V', "version", NULL, "show version");
        if (cmd->footer)
                fprintf(f, "\n%s", cmd->footer);
}

int cmd_parse(const struct command *cmd, int argc, char **argv, int *ret_operands, struct smith_error **err) {
        struct option longs[MAX_OPTIONS + 3] = {};
        char shorts[2 * MAX_OPTIONS + 8] = ":hV";
        size_t n = 0, s = strlen(shorts);
        bool help = false, version = false;
        int c, idx;

        for (const struct cmd_option *o = cmd->options; o && o->name; o++, n++) {
                if (n >= MAX_OPTIONS)
                        abort(); /* a table too long for this parser: a bug */
                longs[n] = (struct option){ o->name, o->kind != CMD_FLAG ? required_argument : no_argument, NULL,
                                            o->short_name ? o->short_name : 0x100 + (int) n };
                if (o->short_name) {
                        shorts[s++] = (char) o->short_name;
                        if (o->kind != CMD_FLAG)
                                shorts[s++] = ':';
                }
        }
        longs[n++] = (struct option){ "help", no_argument, NULL, 'h' };
        longs[n++] = (struct option){ "version", no_argument, NULL, 'V' };
        shorts[s] = '\0';

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, shorts, longs, &idx)) >= 0) {
                const struct cmd_option *o = NULL;

                if (c == 'h') {
                        help = true;
                        continue;
                }
                if (c == 'V') {
                        version = true;
                        continue;
                }
                if (c == ':') {
                        if (optopt && optopt < 0x100)
                                return cmd_usage_error(cmd, err, "option '-%c' needs a value", optopt);
                        return cmd_usage_error(cmd, err, "option '%s' needs a value", argv[optind - 1]);
                }
                if (c == '?') {
                        /* a short option names itself; a long one is the whole word */
                        if (optopt)
                                return cmd_usage_error(cmd, err, "unknown option '-%c'", optopt);
                        return cmd_usage_error(cmd, err, "unknown option '%s'", argv[optind - 1]);
                }
                for (const struct cmd_option *p = cmd->options; p && p->name; p++)
                        if (c == (p->short_name ? p->short_name : 0x100 + (int) (p - cmd->options)))
                                o = p;
                if (!o)
                        return cmd_usage_error(cmd, err, "unknown option");
                if (o->kind == CMD_FLAG)
                        *(bool *) o->dest = true;
                else if (o->kind == CMD_LIST) {
                        _cleanup_strv_free_ char **parts = strv_split(optarg, ",", false);
                        for (size_t i = 0; parts && parts[i]; i++)
                                if (strv_extend((char ***) o->dest, parts[i]) < 0)
                                        return error_oom(err);
                        if (!parts)
                                return error_oom(err);
                } else
                        *(const char **) o->dest = optarg;
        }
        if (help) {
                cmd_print_usage(cmd, stdout);
                return 1;
        }
        if (version) {
                cmd_print_version();
                return 1;
        }
        if (ret_operands)
                *ret_operands = optind;
        else if (optind < argc)
                return cmd_usage_error(cmd, err, "unexpected argument '%s'", argv[optind]);
        return 0;
}

int cmd_parse_operands(const struct command *cmd, int argc, char **argv, int min, int max, const char *what,
                       int *ret_first, struct smith_error **err) {
        int first = argc, r = cmd_parse(cmd, argc, argv, &first, err);

        if (r != 0)
                return r;
        if (argc - first < min)
                return cmd_usage_error(cmd, err, "no %s given", what);
        if (argc - first > max)
                return cmd_usage_error(cmd, err, "too many operands");
        for (int i = first; i < argc; i++)
                if (isempty(argv[i]))
                        return cmd_usage_error(cmd, err, "empty operand");
        *ret_first = first;
        return 0;
}

int cmd_parse_transfer(const struct command *cmd, struct transfer_opts *o, int argc, char **argv,
                       struct smith_error **err) {
        int r;

        *o = (struct transfer_opts){ .image = "image.tar.gz" };
        r = cmd_parse(cmd, argc, argv, NULL, err);
        if (r != 0)
                return r;
        if (isempty(o->remote))
                return cmd_usage_error(cmd, err, "-r/--remote is required");
        if (isempty(o->image))
                return cmd_usage_error(cmd, err, "empty file name");
        if (cmd_timeout_apply(cmd, o->timeout, err) < 0 ||
            (o->compression && cmd_parse_compression(cmd, o->compression, &o->zstd, &o->level, err) < 0))
                return -1;
        if (o->compression && o->docker)
                return cmd_usage_error(cmd, err, "--compression and --docker: docker media types are gzip's");
        log_set_verbose(o->verbose);
        return 0;
}

void cmd_registry_opts(const struct transfer_opts *o, struct registry_opts *ret) {
        *ret = (struct registry_opts){
                .insecure = o->insecure,
                .ca_file = o->ca_file,
                .platform = o->platform,
                .verbose = o->verbose,
                .progress = isatty(STDERR_FILENO) == 1,
        };
}

int cmd_parse_size(const char *s, uint64_t *ret) {
        static const char units[] = "KMGT";
        unsigned long long n;
        unsigned shift = 0;
        char *end;

        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno != 0 || n == 0)
                return -EINVAL;
        if (*end) {
                const char *p = strchr(units, toupper((unsigned char) *end));
                if (!p || end[1])
                        return -EINVAL;
                shift = 10 * (unsigned) (p - units + 1);
        }
        if (n > ((unsigned long long) INT64_MAX >> shift))
                return -EINVAL;
        *ret = (uint64_t) n << shift;
        return 0;
}

static int env_size(const char *name, uint64_t *field, struct smith_error **err) {
        const char *v = getenv(name);

        if (!v || !*v)
                return 0;
        if (cmd_parse_size(v, field) < 0)
                return error_set(err, SMITH_ERR_USAGE,
                                 "%s: invalid size '%s' (a number of bytes with an optional K, M, G or T)", name, v);
        return 0;
}

int cmd_limits_from_env(struct unpack_limits *l, struct smith_error **err) {
        if (env_size("SMITH_MAX_UNPACKED", &l->max_unpacked, err) < 0 ||
            env_size("SMITH_MAX_ENTRY", &l->max_entry, err) < 0 || env_size("SMITH_MAX_INDEX", &l->max_index, err) < 0)
                return -1;
        return 0;
}

int cmd_timeout_apply(const struct command *cmd, const char *value, struct smith_error **err) {
        unsigned long long n;
        char *end;

        if (!value)
                return 0;
        errno = 0;
        n = strtoull(value, &end, 10);
        if (errno != 0 || end == value || *end || n > 86400ULL * 7)
                return cmd_usage_error(cmd, err, "--timeout: invalid number of seconds '%s'", value);
        http_set_timeout((int64_t) n);
        return 0;
}

int cmd_parse_compression(const struct command *cmd, const char *value, bool *ret_zstd, int *ret_level,
                          struct smith_error **err) {
        const char *colon = strchr(value, ':');
        size_t n = colon ? (size_t) (colon - value) : strlen(value);
        int max;
        long level = -1;

        if (n == 4 && strneq(value, "gzip", 4))
                *ret_zstd = false, max = 9;
        else if (n == 4 && strneq(value, "zstd", 4))
                *ret_zstd = true, max = 19;
        else
                return cmd_usage_error(cmd, err, "--compression: '%s' is not gzip or zstd[:LEVEL]", value);
        if (colon) {
                char *end;
                errno = 0;
                level = strtol(colon + 1, &end, 10);
                if (errno || end == colon + 1 || *end || level < 1 || level > max)
                        return cmd_usage_error(cmd, err, "--compression: level '%s' is not 1..%d", colon + 1, max);
        }
        *ret_level = (int) level;
        return 0;
}
