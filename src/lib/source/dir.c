/* The `dir` source: a directory tree used in place as the source root
 * (`package: /` builds from the host itself).  Nothing is copied or
 * unpacked; the tree is still only read through root-relative lookups. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

static int dir_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        int fd = openat(ctx->build_dirfd, c->package, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "package '%s'", c->package);
        s->root_fd = fd;
        s->root_path = strdup(c->package);
        if (!s->root_path)
                return error_oom(err);
        return 0;
}

const struct source_ops source_dir_ops = {
        .kind = "dir",
        .open = dir_open,
};
