/* An image's unpacked root: its layers handed to layer_root_open() with
 * where their blobs are and whether the store verified them already. */
#include "layer/root.h"
#include "oci/layout_read.h"

int oci_image_root(struct cache *cache, const struct oci_image *img, struct layer_stage *stage,
                   const struct unpack_opts *o, int *ret_root_fd, char **ret_root_path, struct smith_error **err) {
        const struct layer_root_request rq = {
                .key = img->manifest_digest,
                .name = img->source,
                .layers = img->layers,
                .n_layers = img->n_layers,
                .blobs_fd = img->blobs_fd,
                .blobs_verified = img->blobs_in_store,
                .stage = stage,
                .opts = o,
        };

        return layer_root_open(cache, &rq, ret_root_fd, ret_root_path, err);
}
