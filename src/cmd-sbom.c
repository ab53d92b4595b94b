/* `smith sbom [-f spdx|cyclonedx] IMAGE`: prints the SBOM the build stored
 * in the image (SPDX 2.3 JSON by default, or CycloneDX 1.5 JSON), as it is:
 * the library finds it through the image's referrers and verifies it
 * (pipeline/sbom.h); this file only writes it to stdout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/error.h"
#include "cmd.h"
#include "pipeline/sbom.h"

static const char *opt_format;

static const struct cmd_option options[] = {
        { "format", 'f', CMD_STRING, &opt_format, "spdx (SPDX 2.3, the default) or cyclonedx (CycloneDX 1.5)",
          "format" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        _cleanup_free_ char *doc = NULL;
        enum sbom_format format = SBOM_SPDX;
        size_t len = 0;
        int first = argc, r;

        opt_format = NULL;
        r = cmd_parse_operands(cmd, argc, argv, 1, 1, "image", &first, err);
        if (r != 0)
                return r < 0 ? r : 0;
        if (opt_format && streq(opt_format, "cyclonedx"))
                format = SBOM_CYCLONEDX;
        else if (opt_format && !streq(opt_format, "spdx"))
                return cmd_usage_error(cmd, err, "unknown format '%s' (spdx or cyclonedx)", opt_format);
        r = sbom_read(argv[first], format, &doc, &len, err);
        if (r < 0)
                return r;
        if (fwrite(doc, 1, len, stdout) != len || putchar('\n') == EOF || fflush(stdout) == EOF)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write the SBOM");
        return 0;
}

const struct command cmd_sbom = {
        .name = "sbom",
        .summary = "print the SBOM a build stored in an image",
        .usage = "  smith sbom [-f spdx|cyclonedx] IMAGE\n",
        .details = "IMAGE is a layout tarball or directory (path[:tag]), as a build writes it.  Prints the\n"
                   "software bill of materials the build stored beside the image (an OCI 1.1 artifact whose\n"
                   "subject is the image manifest): SPDX 2.3 JSON by default, CycloneDX 1.5 JSON with\n"
                   "-f cyclonedx.  Every regular file of smith's layer with its SHA-256, the packages they\n"
                   "came from (purl, version, architecture, source package, license) and the parent image.\n",
        .options = options,
        .run = run,
};
