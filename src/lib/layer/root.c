/* The cached unpacked root of a list of layers; see root.h.  Built under a
 * lock in the cache's tmp/, renamed into roots/ and marked complete, or
 * taken whole from a stage that unpacked the only layer while it was
 * imported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/progress.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/root.h"
#include "layer/stage.h"
#include "store/cache.h"

int layer_root_open(struct cache *cache, const struct layer_root_request *rq, int *ret_root_fd, char **ret_root_path,
                    struct smith_error **err) {
        const char *hex = digest_hex(rq->key);
        const char *src = rq->name ? rq->name : rq->key;
        char key[SHA256_HEX_LEN + sizeof("root-")];
        _cleanup_close_ int lock_fd = -1, fd = -1;
        _cleanup_free_ char *path = NULL, *tmp_name = NULL;
        struct unpack_stats stats = {};
        int r;

        if (!digest_is_valid(rq->key))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid manifest digest", src);
        if (asprintf(&path, "%s/roots/%s", cache->path, hex) < 0)
                return error_oom(err);
        if (cache_root_open(cache, hex, &fd) > 0)
                goto out;

        snprintf(key, sizeof(key), "root-%s", hex);
        if (cache_lock(cache, key, &lock_fd, err) < 0)
                return -1;
        if (cache_root_open(cache, hex, &fd) > 0)
                goto out; /* another builder finished while we waited */

        if (layer_stage_matches(rq->stage, rq->layers, rq->n_layers)) {
                /* Unpacked while it was imported, and it is the only layer,
                 * with the digest, size and diff_id the verified manifest
                 * and config name. */
                r = rm_rf_at(cache->roots_fd, hex);
                if (r >= 0)
                        r = layer_stage_take(rq->stage, cache->roots_fd, hex);
                if (r >= 0) {
                        fd = openat(cache->roots_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "open '%s'", path);
                        goto mark;
                }
                /* else unpack from the blobs, as if there were no stage */
        }

        if (cache_tmpdir(cache, "root-", &tmp_name, &fd, err) < 0)
                return -1;

        {
                uint64_t total = 0;
                for (size_t i = 0; i < rq->n_layers; i++)
                        total += rq->layers[i].size > 0 ? (uint64_t) rq->layers[i].size : 0;
                progress_start("unpack", total);
        }
        for (size_t i = 0; i < rq->n_layers; i++) {
                _cleanup_close_ int bfd = -1;

                r = blob_open(rq->blobs_fd, rq->layers[i].digest, &bfd);
                if (r < 0)
                        r = error_set_errno(err, SMITH_ERR_SOURCE, r == -EBADF ? EINVAL : r, "'%s': blob '%s'", src,
                                            rq->layers[i].digest);
                else
                        r = (rq->blobs_verified ? layer_unpack_stored : layer_unpack)(fd, bfd, &rq->layers[i], rq->opts,
                                                                                      &stats, err);
                if (r < 0) {
                        progress_stop();
                        rm_rf_at(cache->tmp_fd, tmp_name);
                        return -1;
                }
                progress_add(rq->layers[i].size > 0 ? (uint64_t) rq->layers[i].size : 0);
        }
        progress_stop();

        /* No syncfs: forcing hundreds of megabytes to disk costs seconds,
         * and this is a cache; after a power loss, remove the cache. */
        r = cache_root_publish(cache, tmp_name, hex, rq->key, strlen(rq->key));
        if (r < 0) {
                rm_rf_at(cache->tmp_fd, tmp_name);
                return error_set_errno(err, SMITH_ERR_IO, r, "store root '%s'", path);
        }
        goto out;
mark:
        r = cache_root_mark(cache, hex, rq->key, strlen(rq->key));
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "mark root '%s' complete", path);
out:
        *ret_root_fd = TAKE_FD(fd);
        if (ret_root_path)
                *ret_root_path = TAKE_PTR(path);
        return 0;
}
