/* The compressed layer, reused from the cache; see layer-cache.h.
 *
 * A first pass writes the plan's tar stream to /dev/null, only to hash it
 * (its diff_id: no compression, the files read from the page cache).  The
 * entry pkgs/layer-<diff_id hex>-<compressor key> then names the blob a
 * build compressed from exactly that stream with the same compressor and
 * level, and that blob (blobs/sha256/...) is copied out, its sha256 and
 * size checked against the entry on the way.  Otherwise the layer is
 * written as before, and the result stored for the next build.  The bytes
 * are the same either way: the cache only skips recomputing them, and a
 * missing, unreadable or damaged entry costs the compression, never the
 * build. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer-cache.h"
#include "store/cache.h"

/* Part of every entry's name, with the compressor's settings and library
 * versions: to be raised whenever smith would compress the same stream
 * into other bytes (pgzip's members, the gzip header). */
#define LAYER_CACHE_VERSION "1"

static int entry_name(const struct layer_opts *o, const char *diff_id, char *buf, size_t len) {
        int n = snprintf(buf, len, "layer-%s-v" LAYER_CACHE_VERSION "-c%d-l%d-deflate%s-zstd%s", digest_hex(diff_id),
                         (int) o->compression, o->level, LIBDEFLATE_VERSION_STRING, ZSTD_VERSION_STRING);
        return n > 0 && (size_t) n < len ? 0 : -ENAMETOOLONG;
}

/* Copies in (from its start) to out (at its current offset), hashing; with
 * max, more than max bytes is an error. */
static int copy_hashing(int in, int out, uint64_t max, char digest[static DIGEST_STR_LEN + 1], uint64_t *ret_n) {
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        int r;

        if (!h)
                return -ENOMEM;
        if (lseek(in, 0, SEEK_SET) < 0)
                return -errno;
        r = copy_bytes(in, out, max, h, ret_n);
        if (r < 0)
                return r;
        sha256_final_digest(h, digest);
        return 0;
}

/* The cached layer for name into out_fd: 1 when copied and checked, 0 when
 * there is none (out_fd then as it was: empty; *damaged when the blob the
 * entry names is not what it says). */
static int take_cached(struct cache *c, const char *name, const char *diff_id, int out_fd, struct blob_result *ret,
                       bool *damaged) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        char digest[DIGEST_STR_LEN + 1], got[DIGEST_STR_LEN + 1];
        unsigned long long size;
        uint64_t n = 0;
        size_t len = 0;

        if (cache_pkgs_read(c, name, 256, &text, &len, NULL) < 0)
                return 0;
        if (sscanf(text, "%71s %llu", digest, &size) != 2 || size == 0 || size > INT64_MAX)
                return 0;
        if (blob_open(c->blobs_fd, digest, &fd) < 0)
                return 0;
        if (copy_hashing(fd, out_fd, size, got, &n) < 0 || n != size || !streq(got, digest)) {
                /* damaged: back to an empty output, and compress */
                *damaged = true;
                if (ftruncate(out_fd, 0) < 0 || lseek(out_fd, 0, SEEK_SET) < 0)
                        return -errno;
                return 0;
        }
        memcpy(ret->digest, digest, sizeof(ret->digest));
        memcpy(ret->diff_id, diff_id, sizeof(ret->diff_id));
        ret->size = (int64_t) size;
        return 1;
}

static void store(struct cache *c, const char *name, int layer_fd, const struct blob_result *res, bool replace) {
        _cleanup_(error_freep) struct smith_error *ignored = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        char got[DIGEST_STR_LEN + 1], line[DIGEST_STR_LEN + 32];
        uint64_t n = 0;

        if (replace || !cache_has_blob(c, res->digest)) {
                if (cache_tmpfile(c, &tmp, &fd, &ignored) < 0)
                        return;
                if (copy_hashing(layer_fd, fd, 0, got, &n) < 0 || !streq(got, res->digest) ||
                    n != (uint64_t) res->size) {
                        unlinkat(c->tmp_fd, tmp, 0);
                        return;
                }
                if (cache_blob_commit(c, fd, tmp, res->digest, &ignored) < 0)
                        return;
        }
        snprintf(line, sizeof(line), "%s %" PRId64 "\n", res->digest, res->size);
        (void) cache_pkgs_write(c, name, line, strlen(line), &ignored);
}

int layer_write_cached(struct plan *p, const struct layer_opts *o, struct cache *cache, int out_fd,
                       struct blob_result *ret, struct smith_error **err) {
        struct layer_opts plain = *o, again = *o;
        struct blob_result pass = {};
        _cleanup_close_ int null_fd = -1;
        bool damaged = false;
        char name[256];
        int r;

        if (!cache || o->compression == BLOB_COMPRESS_NONE)
                return layer_write_plan(p, o, out_fd, ret, err);
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null_fd < 0)
                return layer_write_plan(p, o, out_fd, ret, err);
        plain.compression = BLOB_COMPRESS_NONE;
        r = layer_write_plan(p, &plain, null_fd, &pass, err);
        if (r < 0)
                return r;
        /* the first pass listed the files (o->files): not again */
        again.files = NULL;
        if (entry_name(o, pass.diff_id, name, sizeof(name)) < 0)
                return layer_write_plan(p, &again, out_fd, ret, err);
        r = take_cached(cache, name, pass.diff_id, out_fd, ret, &damaged);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write layer");
        if (r > 0)
                return 0;
        r = layer_write_plan(p, &again, out_fd, ret, err);
        if (r < 0)
                return r;
        /* the tree changed between the passes: keyed by what was written */
        if (!streq(ret->diff_id, pass.diff_id) && entry_name(o, ret->diff_id, name, sizeof(name)) < 0)
                return 0;
        store(cache, name, out_fd, ret, damaged);
        return 0;
}
