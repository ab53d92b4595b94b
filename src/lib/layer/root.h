/* The cached unpacked root of a list of layers (an image's), in the
 * cache: roots/<hex of key>/, built when missing (under
 * cache_lock("root-<hex>"), in tmp/, then renamed, all layers within the
 * limits together), complete only when roots/<hex>.done exists.  A stage
 * (stage.h) that unpacked the only layer while it was imported is taken
 * whole when it matches.  On failure nothing of the root is left in tmp/
 * or roots/. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "basic/error.h"
#include "layer/unpack.h"

struct cache;
struct layer_stage;

struct layer_root_request {
        const char *key;  /* a valid digest naming the root: the image manifest's */
        const char *name; /* for messages, or NULL */
        const struct layer_ref *layers;
        size_t n_layers;
        int blobs_fd;                   /* holds blobs/sha256/<hex> of every layer */
        bool blobs_verified;            /* the cache's store: only sizes and diff_ids are checked */
        struct layer_stage *stage;      /* may be NULL */
        const struct unpack_opts *opts; /* may be NULL */
};

/* Returns an O_DIRECTORY fd of the root and its path. */
int layer_root_open(struct cache *cache, const struct layer_root_request *rq, int *ret_root_fd, char **ret_root_path,
                    struct smith_error **err);
