/* `smith [options]`: build a microcontainer from smith.yaml.  Parses the
 * original smith's flags and hands them to the build pipeline. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/log.h"
#include "build/build.h"
#include "cmd.h"
#include "smith-version.h"

static void usage(FILE *f) {
        fputs("smith - build microcontainers\n"
              "\n"
              "Usage:\n"
              "  smith [flags]              build image.tar.gz from smith.yaml and ./rootfs\n"
              "  smith upload [flags]       upload an image to a registry\n"
              "  smith download [flags]     download an image from a registry\n"
              "\n"
              "Flags:\n"
              "  -b, --buildnumber string   unique build number (default \"<unix seconds>-<hostname>\")\n"
              "  -c, --conf string          name of config file (default \"smith.yaml\")\n"
              "  -d, --dir string           directory to build container image from (default \".\")\n"
              "  -f, --fast                 skip package install if possible\n"
              "  -h, --help                 help for smith\n"
              "  -i, --image string         container image file (default \"image.tar.gz\")\n"
              "  -k, --insecure             skip tls verification\n"
              "      --max-entry size       largest file an image may unpack (default 4G, also\n"
              "                             SMITH_MAX_ENTRY; sizes take K, M, G or T)\n"
              "      --max-unpacked size    most an image may unpack, all layers (default 16G,\n"
              "                             also SMITH_MAX_UNPACKED)\n"
              "  -v, --verbose              verbose output\n"
              "  -V, --version              show version\n"
              "\n"
              "Exit codes: 0 ok, 1 I/O error, 2 usage, 3 smith.yaml invalid, 4 package source bad,\n"
              "5 registry error.\n",
              f);
}

void print_version(void);
void print_version(void) {
        printf("smith version %s (built from sha %s)\n", SMITH_VERSION, SMITH_SHA);
}

enum {
        OPT_MAX_ENTRY = 0x100,
        OPT_MAX_UNPACKED,
};

int cmd_build(int argc, char **argv, struct smith_error **err) {
        static const struct option options[] = {
                { "buildnumber", required_argument, NULL, 'b' },
                { "conf", required_argument, NULL, 'c' },
                { "dir", required_argument, NULL, 'd' },
                { "fast", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { "image", required_argument, NULL, 'i' },
                { "insecure", no_argument, NULL, 'k' },
                { "max-entry", required_argument, NULL, OPT_MAX_ENTRY },
                { "max-unpacked", required_argument, NULL, OPT_MAX_UNPACKED },
                { "verbose", no_argument, NULL, 'v' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct build_opts o = { .conf = "smith.yaml", .dir = ".", .image = "image.tar.gz" };
        char buildno[128 + 32];
        bool version = false;
        int c;

        {
                char host[128] = "";
                if (gethostname(host, sizeof(host) - 1) < 0)
                        host[0] = '\0';
                host[sizeof(host) - 1] = '\0';
                snprintf(buildno, sizeof(buildno), "%lld%s%s", (long long) time(NULL), host[0] ? "-" : "", host);
                o.buildno = buildno;
        }
        /* the flags, parsed below, win over the environment */
        if (cmd_limits_from_env(&o.limits, err) < 0)
                return -1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":b:c:d:fhi:kvV", options, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        o.buildno = optarg;
                        break;
                case 'c':
                        o.conf = optarg;
                        break;
                case 'd':
                        o.dir = optarg;
                        break;
                case 'f':
                        o.fast = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'i':
                        o.image = optarg;
                        break;
                case 'k':
                        o.insecure = true;
                        break;
                case OPT_MAX_ENTRY:
                        if (cmd_parse_size(optarg, &o.limits.max_entry) < 0)
                                return cmd_usage_error(NULL, err, "--max-entry: invalid size '%s'", optarg);
                        break;
                case OPT_MAX_UNPACKED:
                        if (cmd_parse_size(optarg, &o.limits.max_unpacked) < 0)
                                return cmd_usage_error(NULL, err, "--max-unpacked: invalid size '%s'", optarg);
                        break;
                case 'v':
                        o.verbose = true;
                        break;
                case 'V':
                        version = true;
                        break;
                case ':':
                        return cmd_usage_error(NULL, err, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return cmd_usage_error(NULL, err, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (version) {
                print_version();
                return 0;
        }
        if (optind < argc)
                return cmd_usage_error(NULL, err, "unexpected argument '%s'", argv[optind]);
        if (o.image[0] == '\0' || o.conf[0] == '\0' || o.dir[0] == '\0')
                return cmd_usage_error(NULL, err, "empty file name");
        log_set_verbose(o.verbose);
        return build_run(&o, err);
}
