/* The `oci` source: an OCI image layout (a .tar, .tar.gz, .tgz file or a
 * directory, with an optional ":tag"), unpacked once into the cache keyed by
 * its manifest digest.  The image's config later fills what smith.yaml
 * leaves empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layer/unpack.h"
#include "source.h"

static int oci_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        struct unpack_opts o = { .verbose = ctx->verbose, .limits = ctx->limits };
        int r;

        r = oci_image_open_layout(ctx->cache, ctx->build_dirfd, c->package, &ctx->limits, &s->image, err);
        if (r < 0)
                return r;
        r = oci_image_root(ctx->cache, s->image, &o, &s->root_fd, &s->root_path, err);
        if (r < 0)
                return error_wrap(err, "unpack '%s'", c->package);
        return 0;
}

const struct source_ops source_oci_ops = {
        .kind = "oci",
        .open = oci_open,
};
