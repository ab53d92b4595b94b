/* Writing the plan as one layer: a deterministic tar, streamed through the
 * blob writer (diff_id, gzip, digest) into an fd. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "basic/error.h"
#include "layer/blob.h"
#include "tree/plan.h"

/* A regular file of the layer (hardlinks too), with its content's digest. */
struct layer_file {
        char *path;                      /* relative, as in the plan */
        char digest[DIGEST_STR_LEN + 1]; /* "sha256:<hex>" of its bytes */
        char sha1[SHA1_HEX_LEN + 1];     /* their SHA-1, hex (SPDX requires it) */
        char *package;                   /* the plan entry's package, or NULL */
};

struct layer_files {
        struct layer_file *v; /* in the layer's (the plan's) order */
        size_t n, cap;
};
void layer_files_release(struct layer_files *f);

struct layer_opts {
        uid_t uid; /* owner of every entry */
        gid_t gid;
        int64_t mtime; /* of every entry */
        enum blob_compression compression;
        int level;
        struct layer_files *files; /* optional: filled with every regular file, hashed as it is written */
};

int layer_write_plan(struct plan *p, const struct layer_opts *o, int out_fd, struct blob_result *ret,
                     struct smith_error **err);
