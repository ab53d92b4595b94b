/* Writing the plan as one layer: a deterministic tar, streamed through the
 * blob writer (diff_id, gzip, digest) into an fd. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "layer/blob.h"
#include "tree/plan.h"

struct layer_opts {
        uid_t uid; /* owner of every entry */
        gid_t gid;
        int64_t mtime; /* of every entry */
        enum blob_compression compression;
        int level;
};

int layer_write_plan(struct plan *p, const struct layer_opts *o, int out_fd, struct blob_result *ret,
                     struct smith_error **err);
