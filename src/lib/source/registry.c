/* The `registry` source: `package:` names an image in a registry
 * (https://host/repo:tag, or a docker-style host:5000/repo:tag).  The
 * registry client pulls it into the cache's verified blob store (blobs that
 * are already there are not fetched again), then it is unpacked once into
 * the cache keyed by its manifest digest, exactly as an `oci` image is.
 * The image's config later fills what smith.yaml leaves empty. */
#include <unistd.h>

#include "layer/unpack.h"
#include "registry/registry.h"
#include "source.h"

static int registry_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                         struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_free_ char *shown = NULL;
        struct registry_opts ro = {
                .insecure = ctx->insecure,
                .verbose = ctx->verbose,
                .progress = isatty(STDERR_FILENO) == 1,
        };
        struct unpack_opts uo = { .verbose = ctx->verbose };
        struct registry_manifest_ref m = {};
        int r;

        r = registry_ref_parse(c->package, REGISTRY_REF_DOCKER_STYLE, &ref, err);
        if (r < 0) {
                /* a bad reference in smith.yaml is a bad package, not a bad command line */
                if (*err)
                        (*err)->kind = SMITH_ERR_SOURCE;
                return error_wrap(err, "package");
        }
        shown = registry_ref_display(ref);
        if (!shown)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "package");
        r = registry_client_new(ref, &ro, &client, err);
        if (r < 0)
                return error_wrap(err, "package '%s'", shown);
        r = registry_pull(client, ctx->cache, &m, err); /* its errors name the image */
        if (r < 0)
                return r;
        r = oci_image_from_store(ctx->cache->blobs_fd, m.media_type, m.digest, m.size, shown, &s->image, err);
        if (r < 0)
                return r;
        r = oci_image_root(ctx->cache, s->image, &uo, &s->root_fd, &s->root_path, err);
        if (r < 0)
                return error_wrap(err, "unpack '%s'", shown);
        return 0;
}

/* Named "oci" as the original did for registry packages: the spec blob
 * records the same type for the same smith.yaml. */
const struct source_ops source_registry_ops = {
        .kind = "oci",
        .open = registry_open,
};
