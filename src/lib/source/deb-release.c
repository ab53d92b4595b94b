/* The os-release of a deb source's image.  A root made of packages lacks
 * /etc/os-release and /etc/debian_version unless base-files is among them,
 * and base-files is nothing a program needs: so the repository's
 * base-files is solved for on its own, fetched and verified like every
 * other package (pkg/fetch.h, against the signed index), unpacked into a
 * scratch root in the cache's tmp/ as hostile as any package, and only
 * these files are taken from it, into s->release:
 *
 *   etc/os-release       as the package has it (Debian: a symlink to
 *                        ../usr/lib/os-release), or its content
 *   usr/lib/os-release   the file the symlink names, when it does
 *   etc/debian_version
 *
 * The pipeline adds them to the image with the rest of the package
 * metadata (not to the cached root, which stays what the packages made);
 * none of base-files' other files, and no dpkg record of it, reach the
 * image.  A repository without base-files gives no os-release (said under
 * -v), not an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/path.h"
#include "net/http.h"
#include "pkg/deb.h"
#include "pkg/solve.h"
#include "deb-release.h"
#include "pkg-root.h"

#define RELEASE_MAX (64U << 10) /* bytes of one file taken */
#define RELEASE_TARGET_MAX 256

static int add_file(struct source *s, const char *path, char *data, size_t len, char *target) {
        struct source_file *q = reallocarray(s->release, s->n_release + 1, sizeof(*q));

        if (!q) {
                free(data);
                free(target);
                return -ENOMEM;
        }
        s->release = q;
        q[s->n_release] = (struct source_file){ .path = strdup(path), .data = data, .len = len, .target = target };
        if (!q[s->n_release].path) {
                free(data);
                free(target);
                return -ENOMEM;
        }
        s->n_release++;
        return 0;
}

/* A regular file inside the scratch root (symlinks resolved inside it). */
static int take_data(struct source *s, int root_fd, const char *from, const char *as) {
        char *data = NULL;
        size_t len = 0;
        int r = root_read_file(root_fd, from, RELEASE_MAX, &data, &len);

        if (r < 0)
                return r == -ENOENT || r == -EBADF || r == -ENOTDIR || r == -ELOOP || r == -EFBIG ? 0 : r;
        return add_file(s, as, data, len, NULL);
}

/* etc/os-release: the symlink as it is when it names a file inside the
 * package's usr/lib (the file taken too), else its content. */
static int take_os_release(struct source *s, int root_fd) {
        char target[RELEASE_TARGET_MAX + 1];
        _cleanup_free_ char *resolved = NULL, *joined = NULL;
        ssize_t n = readlinkat(root_fd, "etc/os-release", target, sizeof(target) - 1);
        char *t;
        int r;

        if (n <= 0)
                return take_data(s, root_fd, "etc/os-release", "etc/os-release");
        target[n] = '\0';
        joined = path_join("etc", target);
        if (!joined || path_normalize(joined, PATH_CHECK_LENGTH, &resolved) < 0 ||
            !streq(resolved, "usr/lib/os-release"))
                return joined ? take_data(s, root_fd, "etc/os-release", "etc/os-release") : -ENOMEM;
        r = take_data(s, root_fd, "usr/lib/os-release", "usr/lib/os-release");
        if (r < 0 || s->n_release == 0 || !streq(s->release[s->n_release - 1].path, "usr/lib/os-release"))
                return r;
        t = strdup(target);
        return t ? add_file(s, "etc/os-release", NULL, 0, t) : -ENOMEM;
}

int deb_release_choices(struct pkg_pool *pool, struct pkg_choice **ret, size_t *ret_n) {
        char *names[] = { (char *) "base-files", NULL };
        _cleanup_(error_freep) struct smith_error *none = NULL;

        *ret = NULL;
        *ret_n = 0;
        if (pkg_solve(pool, names, false, ret, ret_n, &none) < 0)
                return none && none->errnum == ENOMEM ? -ENOMEM : 0;
        return 0;
}

/* The scratch root is kept (roots/release-<sha256 of the version line and
 * base-files' digest>, complete once the .done marker beside it exists, as
 * every root of the cache), so that a warm build takes the files from it
 * instead of unpacking base-files again: it is what that very package,
 * verified, unpacked to, and is read as hostile as ever. */
#define RELEASE_ROOT_VERSION "smith deb release root 1\n"

static int release_root_key(const char *digest, char ret[static sizeof("release-") + SHA256_HEX_LEN]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1];

        if (asprintf(&id, RELEASE_ROOT_VERSION "%s", digest) < 0)
                return -ENOMEM;
        sha256_digest_of(id, strlen(id), d);
        snprintf(ret, sizeof("release-") + SHA256_HEX_LEN, "release-%s", digest_hex(d));
        return 0;
}

int deb_source_release(struct source *s, struct pkg_choice *c, size_t n, const struct source_ctx *ctx,
                       const struct http_opts *ho, struct smith_error **err) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int root_fd = -1, blob_fd = -1, have = -1, lock_fd = -1;
        char key[sizeof("release-") + SHA256_HEX_LEN];
        size_t k;
        uint64_t used = 0;
        int r = 0;

        if (root_open_regular(s->root_fd, "etc/os-release", &have) >= 0)
                return 0; /* the packages brought it */
        for (k = 0; k < n; k++)
                if (streq(c[k].name, "base-files") && !c[k].local)
                        break;
        if (k == n) {
                log_info("no base-files in the repositories: the image gets no /etc/os-release");
                return 0;
        }
        r = source_fetch_choices(ctx, ho, &c[k], 1, 1, err);
        if (r >= 0) {
                r = blob_open(ctx->cache->blobs_fd, c[k].digest, &blob_fd);
                if (r < 0)
                        r = error_set_errno(err, SMITH_ERR_IO, r, "open package 'base-files'");
        }
        if (r >= 0 && release_root_key(c[k].digest, key) < 0)
                r = error_oom(err);
        if (r >= 0)
                (void) cache_root_open(ctx->cache, key, &root_fd);
        if (r >= 0 && root_fd < 0) {
                /* one build makes it; another waits, then takes it */
                r = cache_lock(ctx->cache, key, &lock_fd, err);
                if (r >= 0)
                        (void) cache_root_open(ctx->cache, key, &root_fd);
        }
        if (r >= 0 && root_fd < 0) {
                r = cache_tmpdir(ctx->cache, "release-", &tmp, &root_fd, err);
                if (r >= 0 &&
                    deb_unpack(root_fd, blob_fd, deb_max_uncompressed(c[k].size), &ctx->limits, &used, NULL, err) < 0)
                        r = error_wrap(err, "package 'base-files'");
                if (r >= 0 && cache_root_publish(ctx->cache, tmp, key, key, strlen(key)) == 0)
                        free(TAKE_PTR(tmp)); /* now the cache's; else removed from tmp/ below, as before */
        }
        if (r >= 0) {
                r = take_os_release(s, root_fd);
                if (r >= 0)
                        r = take_data(s, root_fd, "etc/debian_version", "etc/debian_version");
                if (r < 0)
                        r = error_set_errno(err, SMITH_ERR_SOURCE, r, "package 'base-files'");
        }
        if (tmp)
                (void) rm_rf_at(ctx->cache->tmp_fd, tmp);
        return r < 0 ? -1 : 0;
}
