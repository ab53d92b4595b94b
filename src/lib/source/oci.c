/* The `oci` source: an OCI image layout (a .tar, .tar.gz, .tgz file or a
 * directory, with an optional ":tag"), unpacked once into the cache keyed by
 * its manifest digest.  The image's config later fills what smith.yaml
 * leaves empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layer/stage.h"
#include "layer/unpack.h"
#include "source.h"

static int oci_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        struct unpack_opts o = { .verbose = ctx->verbose, .limits = ctx->limits };
        /* the layer a tarball's import unpacked on the way, if it did */
        _cleanup_(layer_stage_freep) struct layer_stage *stage = NULL;
        int r;

        r = oci_image_open_layout_staged(ctx->cache, ctx->build_dirfd, c->package, ctx->platform, &ctx->limits,
                                         &s->image, &stage, err);
        if (r < 0)
                return r;
        r = source_check_platform(ctx, s->image, c->package, err);
        if (r < 0)
                return r;
        r = oci_image_root(ctx->cache, s->image, stage, &o, &s->root_fd, &s->root_path, err);
        if (r < 0)
                return error_wrap(err, "unpack '%s'", c->package);
        return 0;
}

const struct source_ops source_oci_ops = {
        .kind = "oci",
        .open = oci_open,
};
