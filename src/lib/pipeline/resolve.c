/* `smith lock`; see resolve.h.  smith.yaml is read as a build reads it,
 * the package source resolves into a fresh lock (source_lock(); with
 * mock.debuginfo, build_lock_selection(), which runs the selection too),
 * and the lock gets the digest of the smith.yaml inputs it covers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "config/config.h"
#include "basic/strv.h"
#include "oci/platform.h"
#include "resolve.h"
#include "source/lock.h"
#include "source/source.h"
#include "store/cache.h"

static int lock_one(const struct build_opts *o, bool update, bool per_platform, struct smith_error **err);

int build_lock(const struct build_opts *o, bool update, struct smith_error **err) {
        _cleanup_(config_freep) struct smith_config *cfg = NULL;
        _cleanup_free_ char *conf =
                (streq(o->dir, ".") || o->conf[0] == '/') ? strdup(o->conf) : path_join(o->dir, o->conf);

        if (!conf)
                return error_oom(err);
        if (config_load(conf, &cfg, err) < 0)
                return -1;
        /* a multi-platform smith.yaml: one lock per platform, as its builds read them */
        if (!o->platform && strv_length(cfg->platforms) > 1) {
                for (size_t i = 0; cfg->platforms[i]; i++) {
                        struct build_opts one = *o;
                        one.platform = cfg->platforms[i];
                        if (lock_one(&one, update, true, err) < 0)
                                return error_wrap(err, "platform '%s'", cfg->platforms[i]);
                }
                return 0;
        }
        return lock_one(o, update, false, err);
}

static int lock_one(const struct build_opts *o, bool update, bool per_platform, struct smith_error **err) {
        _cleanup_(config_freep) struct smith_config *cfg = NULL;
        _cleanup_(lock_freep) struct smith_lock *old = NULL, *l = NULL;
        _cleanup_(error_freep) struct smith_error *stale = NULL;
        _cleanup_free_ char *conf = NULL, *path = NULL, *text = NULL;
        _cleanup_close_ int dirfd = -1;
        struct cache *cache = NULL;
        struct oci_platform target;
        bool target_given;
        int r;

        dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return error_set_errno(err, SMITH_ERR_USAGE, errno, "build directory '%s'", o->dir);
        conf = (streq(o->dir, ".") || o->conf[0] == '/') ? strdup(o->conf) : path_join(o->dir, o->conf);
        if (!conf)
                return error_oom(err);
        if (config_load(conf, &cfg, err) < 0)
                return -1;
        if (build_target(o, cfg, &target, &target_given, err) < 0)
                return -1;
        {
                char shown[100];
                path = per_platform ? lock_path_for_platform(o->conf, oci_platform_format(&target, shown))
                                    : lock_path_for(o->conf);
                if (!path)
                        return error_oom(err);
        }
        if (!update && lock_load(dirfd, path, cfg, target.arch, &old, &stale) == 0 && old) {
                log_info("'%s' covers '%s' already (--update resolves again)", path, conf);
                return 0;
        }
        l = lock_new();
        if (!l)
                return error_oom(err);
        if (lock_inputs_digest(cfg, target.arch, l->inputs, err) < 0)
                return -1;
        if (!isempty(cfg->package) && cfg->mock.debuginfo) {
                /* the debuginfo packages follow from the selection: run it */
                if (build_lock_selection(o, l, err) < 0)
                        return -1;
        } else if (!isempty(cfg->package)) {
                struct source_ctx ctx;

                build_source_ctx(o, dirfd, &ctx);
                ctx.platform = target_given ? &target : NULL;
                ctx.lock_out = l;
                if (cache_open(&cache, err) < 0)
                        return -1;
                ctx.cache = cache;
                r = source_lock(cfg, &ctx, err);
                cache_free(cache);
                if (r < 0)
                        return -1;
        }
        if (lock_to_json(l, &text, err) < 0)
                return -1;
        r = write_file_atomic_at(dirfd, path, text, strlen(text), 0644);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s'", path);
        log_info("'%s': %zu packages%s", path, l->n_pkgs, l->image.reference ? ", 1 image" : "");
        return 0;
}
