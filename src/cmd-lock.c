/* `smith lock [--update]`: resolve what the build of smith.yaml depends on
 * (packages to exact versions, URLs and checksums; a registry image to its
 * manifest digest) into smith.lock beside it, which later builds follow
 * exactly (README "Locking"). */
#include <stdbool.h>

#include "basic/error.h"
#include "basic/log.h"
#include "cmd.h"
#include "pipeline/resolve.h"

static struct build_opts opts;
static bool update;

static const char *timeout_arg;

static const struct cmd_option options[] = {
        { "conf", 'c', CMD_STRING, &opts.conf, "name of config file (default \"smith.yaml\")" },
        { "dir", 'd', CMD_STRING, &opts.dir, "directory holding the config file (default \".\")" },
        { "insecure", 'k', CMD_FLAG, &opts.insecure, "skip tls verification" },
        { "platform", 0, CMD_STRING, &opts.platform,
          "os/arch[/variant] to resolve for (default smith.yaml's platform, else this machine's)", "platform" },
        CMD_TIMEOUT_OPTION(timeout_arg),
        { "update", 'u', CMD_FLAG, &update, "resolve again even when the lock covers the config" },
        { "verbose", 'v', CMD_FLAG, &opts.verbose, "verbose output" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        int r;

        opts = (struct build_opts){ .conf = "smith.yaml", .dir = "." };
        update = false;
        timeout_arg = NULL;
        r = cmd_parse(cmd, argc, argv, NULL, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (cmd_timeout_apply(cmd, timeout_arg, err) < 0 || cmd_limits_from_env(&opts.limits, err) < 0)
                return -1;
        if (opts.conf[0] == '\0' || opts.dir[0] == '\0')
                return cmd_usage_error(cmd, err, "empty file name");
        log_set_verbose(opts.verbose);
        return build_lock(&opts, update, err);
}

const struct command cmd_lock = {
        .name = "lock",
        .summary = "pin what a build depends on in smith.lock",
        .usage = "  smith lock [flags]\n",
        .details = "Resolves the package source of smith.yaml now: every package to its exact version,\n"
                   "architecture, URL and sha256, the repository indexes by sha256, a registry image to\n"
                   "its manifest digest.  Writes them to smith.lock beside smith.yaml (for -c NAME.yaml,\n"
                   "NAME.lock); builds then use exactly that and resolve nothing.  A lock that already\n"
                   "covers smith.yaml is kept unless --update is given.\n",
        .options = options,
        .run = run,
};
