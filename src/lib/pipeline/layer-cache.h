/* The layer, compressed once per content: layer_write_plan() with the
 * cache in front of it.  When a build compressed the same tar stream
 * (the same diff_id) with the same compressor and level before, its
 * compressed blob is copied from the cache (and checked against its
 * sha256 and size) instead of compressing again; otherwise the layer is
 * written and the result kept.  The output is byte for byte what
 * layer_write_plan() writes.  cache may be NULL: no caching. */
#pragma once

#include "pipeline/emit.h"

struct cache;

int layer_write_cached(struct plan *p, const struct layer_opts *o, struct cache *cache, int out_fd,
                       struct blob_result *ret, struct smith_error **err);
