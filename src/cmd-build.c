/* `smith [build] [flags]`: build a microcontainer from smith.yaml.  Takes
 * the original smith's flags and hands them to the build pipeline. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/log.h"
#include "basic/progress.h"
#include "basic/strv.h"
#include "cmd.h"
#include "pipeline/build.h"

static struct build_opts opts;
static const char *max_entry, *max_unpacked, *max_index, *timeout_arg, *compression, *format;
static char **platforms;
static bool quiet;

static const struct cmd_option options[] = {
        { "buildnumber", 'b', CMD_STRING, &opts.buildno,
          "unique build number (default \"<unix seconds>-<hostname>\", or $SOURCE_DATE_EPOCH)" },
        { "compression", 0, CMD_STRING, &compression, "compress the layer with gzip (default) or zstd, at level",
          "gzip|zstd[:level]" },
        { "conf", 'c', CMD_STRING, &opts.conf, "name of config file (default \"smith.yaml\")" },
        { "dir", 'd', CMD_STRING, &opts.dir, "directory to build container image from (default \".\")" },
        { "fast", 'f', CMD_FLAG, &opts.fast, "skip package install if possible" },
        { "format", 0, CMD_STRING, &format,
          "what --image is: oci (an OCI layout as tar.gz, the default), oci-tar, oci-dir, docker-archive",
          "oci|oci-tar|oci-dir|docker-archive" },
        { "image", 'i', CMD_STRING, &opts.image, "container image file (default \"image.tar.gz\")" },
        { "insecure", 'k', CMD_FLAG, &opts.insecure, "skip tls verification" },
        { "max-entry", 0, CMD_STRING, &max_entry, "largest file a source may unpack (default 4G)", "size" },
        { "max-index", 0, CMD_STRING, &max_index, "largest repository index, decompressed (default 1G)", "size" },
        { "max-unpacked", 0, CMD_STRING, &max_unpacked, "most a source may unpack in all (default 16G)", "size" },
        { "platform", 0, CMD_LIST, &platforms,
          "os/arch[/variant] to build for (default smith.yaml's platform, else this machine's); several "
          "(repeated, or comma-separated) make one image index",
          "platform" },
        CMD_TIMEOUT_OPTION(timeout_arg),
        { "quiet", 'q', CMD_FLAG, &quiet, "print errors only: no progress, no warnings" },
        { "verbose", 'v', CMD_FLAG, &opts.verbose, "verbose output" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        int r;

        opts = (struct build_opts){ .conf = "smith.yaml", .dir = ".", .image = "image.tar.gz" };
        max_entry = max_unpacked = max_index = timeout_arg = compression = format = NULL;
        strv_free(platforms);
        platforms = NULL;
        quiet = false;

        r = cmd_parse(cmd, argc, argv, NULL, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (cmd_timeout_apply(cmd, timeout_arg, err) < 0 ||
            (compression && cmd_parse_compression(cmd, compression, &opts.zstd, &opts.level, err) < 0))
                return -1;
        if (format && build_format_parse(format, &opts.format) < 0)
                return cmd_usage_error(cmd, err, "--format: '%s' is not oci, oci-tar, oci-dir or docker-archive",
                                       format);
        /* the flags win over the environment */
        if (cmd_limits_from_env(&opts.limits, err) < 0)
                return -1;
        if (max_entry && cmd_parse_size(max_entry, &opts.limits.max_entry) < 0)
                return cmd_usage_error(cmd, err, "--max-entry: invalid size '%s'", max_entry);
        if (max_unpacked && cmd_parse_size(max_unpacked, &opts.limits.max_unpacked) < 0)
                return cmd_usage_error(cmd, err, "--max-unpacked: invalid size '%s'", max_unpacked);
        if (max_index && cmd_parse_size(max_index, &opts.limits.max_index) < 0)
                return cmd_usage_error(cmd, err, "--max-index: invalid size '%s'", max_index);
        if (opts.image[0] == '\0' || opts.conf[0] == '\0' || opts.dir[0] == '\0')
                return cmd_usage_error(cmd, err, "empty file name");
        log_set_verbose(opts.verbose);
        progress_set_quiet(quiet);
        if (strv_length(platforms) == 1)
                opts.platform = platforms[0];
        else if (platforms)
                opts.platforms = platforms;
        r = build_run(&opts, err);
        if (r >= 0)
                progress_summary(opts.image);
        return r;
}

const struct command cmd_build = {
        .name = "build",
        .summary = "build microcontainers",
        .usage = "  smith [build] [flags]      build image.tar.gz from smith.yaml and ./rootfs\n"
                 "  smith upload [flags]       upload an image to a registry\n"
                 "  smith download [flags]     download an image from a registry\n"
                 "  smith inspect IMAGE [PATH] list what an image holds and why\n"
                 "  smith lock [flags]         pin the packages or image smith.yaml resolves to\n"
                 "  smith sbom [-f FMT] IMAGE  print the SBOM a build stored in an image\n",
        .options = options,
        .footer = "Sizes take K, M, G or T; SMITH_MAX_ENTRY, SMITH_MAX_UNPACKED and SMITH_MAX_INDEX set the\n"
                  "limits too; SMITH_NET_TIMEOUT the deadline.\n"
                  "\n"
                  "Exit codes: 0 ok, 1 I/O error, 2 usage, 3 smith.yaml invalid, 4 package source bad,\n"
                  "5 registry error.\n",
        .run = run,
};
