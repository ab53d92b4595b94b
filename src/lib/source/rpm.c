/* The `rpm` source (and `mock` without a mock to run): `package:` names RPM
 * packages (one, a list, and/or local .rpm files), plus `mock.deps`.  The
 * repositories are smith.yaml's rpm-md `repos:` or, without them, this
 * machine's /etc/yum.repos.d.
 *
 *   repositories -> verified repomd.xml and primary (pkg/rpm-repo.h) ->
 *   libsolv, an RPM pool (pkg/solve.h) -> packages fetched in parallel into
 *   the blob store, each checked against primary's sha256 and size
 *   (pkg/fetch.h) -> with gpgcheck, each package's signature checked with
 *   librpm against its repository's keys -> payloads unpacked, contained and
 *   without running anything, into one cached root (pkg/rpm.h, pkg-root.h).
 *
 * Local .rpm files are trusted as given (their dependencies come from the
 * repositories), as local .deb files are. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "net/http.h"
#include "pkg/fetch.h"
#include "pkg/rpm-repo.h"
#include "pkg/rpm.h"
#include "pkg/solve.h"
#include "pkg-root.h"
#include "source.h"

#define RPM_FETCH_WORKERS 4
#define RPM_LAYOUT_VERSION "rpm 1: payloads only"

static bool is_local_rpm(const char *name) {
        size_t n = strlen(name);
        return n > 4 && streq(name + n - 4, ".rpm");
}

static int load_repos(const struct smith_config *c, const struct source_ctx *ctx, struct rpm_repos *out,
                      struct smith_error **err) {
        _cleanup_free_ char *host_rel = rpm_host_releasever(), *cwd = get_current_dir_name(), *dir = NULL;
        struct rpm_vars v = { .basearch = rpm_host_arch(), .releasever = host_rel };
        size_t n_rpm = 0;

        if (ctx->build_dir[0] != '/' && cwd)
                dir = path_join(cwd, ctx->build_dir);
        for (size_t i = 0; i < c->n_repos; i++) {
                const struct smith_repo *r = &c->repos[i];
                struct rpm_vars rv = v;
                _cleanup_free_ char *id = NULL;

                if (!r->rpm_md)
                        continue;
                /* without a name, the baseurl as an id ("file____srv_repo") */
                id = strdup(r->name ? r->name : r->uri);
                if (!id)
                        return error_oom(err);
                for (char *q = id; *q; q++)
                        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *q))
                                *q = '_';
                n_rpm++;
                if (r->releasever)
                        rv.releasever = r->releasever;
                if (rpm_repos_add(out, r->where, id, r->uri, r->gpgkey, dir ? dir : ctx->build_dir, r->gpgcheck != 0,
                                  r->repo_gpgcheck == 1, &rv, err) < 0)
                        return -1;
        }
        if (n_rpm == 0 && rpm_repos_load_host("/etc/yum.repos.d", &v, out, err) < 0)
                return -1;
        if (out->n == 0)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "no rpm-md repositories: add 'repos:' with a 'baseurl' to smith.yaml or configure "
                                 "/etc/yum.repos.d");
        return 0;
}

static const struct rpm_repo *find_repo(const struct rpm_repos *all, const char *id) {
        for (size_t i = 0; i < all->n; i++)
                if (streq(all->items[i].id, id))
                        return &all->items[i];
        return NULL;
}

static int rpm_unpack_sized(int root_fd, int fd, uint64_t size, const struct unpack_limits *limits, uint64_t *used,
                            char ***ret_paths, struct smith_error **err) {
        (void) size;
        return rpm_unpack(root_fd, fd, limits, used, ret_paths, err);
}

static const struct pkg_root_ops rpm_root_ops = {
        .layout = RPM_LAYOUT_VERSION,
        .unpack = rpm_unpack_sized,
        .shown = pkg_choice_nevra,
};

/* With gpgcheck, every package from that repository is checked, at every
 * build (the keys may have changed since the blob was stored). */
static int check_signatures(const struct source_ctx *ctx, const struct rpm_repos *repos, const struct pkg_choice *c,
                            size_t n, struct smith_error **err) {
        for (size_t i = 0; i < n; i++) {
                const struct rpm_repo *r = c[i].local ? NULL : find_repo(repos, c[i].repo);
                _cleanup_free_ char *shown = NULL;
                _cleanup_close_ int fd = -1;
                int k;

                if (!r || !r->gpgcheck)
                        continue;
                shown = pkg_choice_nevra(&c[i]);
                k = blob_open(ctx->cache->blobs_fd, c[i].digest, &fd);
                if (k < 0)
                        return error_set_errno(err, SMITH_ERR_IO, k, "open package '%s'", c[i].name);
                if (rpm_verify(fd, r->gpgkeys, err) < 0)
                        return error_wrap(err, "package '%s' from '%s'", shown ? shown : c[i].name, r->id);
        }
        return 0;
}

/* metadata -> pool -> solve: what smith.yaml asks for, resolved now. */
static int rpm_solve(const struct smith_config *c, const struct source_ctx *ctx, struct http *h,
                     struct rpm_repos *repos, struct apt_indexes *idx, struct pkg_choice **ret, size_t *ret_n,
                     struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL;
        _cleanup_(pkg_pool_freep) struct pkg_pool *pool = NULL;
        int r;

        r = source_wanted_names(c, is_local_rpm, &wanted, &locals, err);
        if (r >= 0 && (wanted || locals))
                r = load_repos(c, ctx, repos, err);
        for (size_t i = 0; r >= 0 && i < repos->n; i++)
                r = rpm_repo_load(&repos->items[i], ctx->cache, h, idx, err);
        if (r >= 0)
                r = pkg_pool_new_rpm(rpm_host_arch(), &pool, err);
        for (size_t i = 0; r >= 0 && i < idx->n; i++)
                r = source_add_index(pool, ctx->cache, &idx->items[i], true, err);
        for (size_t i = 0; r >= 0 && locals && locals[i]; i++) {
                _cleanup_close_ int fd = openat(ctx->build_dirfd, locals[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = error_set_errno(err, SMITH_ERR_SOURCE, errno, "package '%s'", locals[i]);
                else
                        r = pkg_pool_add_rpm(pool, fd, locals[i], err);
        }
        if (r < 0)
                return -1;
        return pkg_solve(pool, wanted, false, ret, ret_n, err);
}

/* A locked build: the repositories (for their keys, and where the lock's
 * URLs may point), no metadata. */
static int rpm_locked(const struct smith_config *c, const struct source_ctx *ctx, struct rpm_repos *repos,
                      struct pkg_choice **ret, size_t *ret_n, struct smith_error **err) {
        _cleanup_strv_free_ char **allowed = NULL;

        if (ctx->lock->n_pkgs > 0 && load_repos(c, ctx, repos, err) < 0)
                return -1;
        for (size_t i = 0; i < repos->n; i++)
                if (strv_extend(&allowed, repos->items[i].baseurl) < 0)
                        return error_oom(err);
        return source_lock_choices(c, ctx, allowed, is_local_rpm, ret, ret_n, err);
}

static int rpm_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        _cleanup_(http_freep) struct http *h = NULL;
        struct http_opts ho = { .insecure = ctx->insecure, .error_kind = SMITH_ERR_SOURCE };
        struct rpm_repos repos = {};
        struct apt_indexes idx = {};
        struct pkg_choice *choices = NULL;
        size_t n = 0;
        int r;

        if (c->type && streq(c->type, "mock"))
                log_info("'mock' is not on PATH: installing the packages with smith's own RPM source");
        r = http_new(&ho, &h, err);
        if (r >= 0)
                r = ctx->lock ? rpm_locked(c, ctx, &repos, &choices, &n, err)
                              : rpm_solve(c, ctx, h, &repos, &idx, &choices, &n, err);
        if (r >= 0 && ctx->lock_out)
                r = source_lock_record(ctx, &idx, choices, n, err);
        else if (r >= 0) {
                r = source_fetch_choices(ctx, &ho, choices, n, RPM_FETCH_WORKERS, err);
                if (r < 0 && ctx->lock)
                        error_wrap(err, "%s", ctx->lock->path);
                if (r >= 0 && ctx->lock)
                        r = source_lock_check_locals(ctx, choices, n, err);
                if (r >= 0)
                        r = check_signatures(ctx, &repos, choices, n, err);
                if (r >= 0)
                        r = source_pkg_root(s, ctx->cache, &rpm_root_ops, choices, n, &ctx->limits, err);
        }
        pkg_choices_free(choices, n);
        apt_indexes_release(&idx);
        rpm_repos_release(&repos);
        return r < 0 ? -1 : 0;
}

const struct source_ops source_rpm_ops = {
        .kind = "rpm",
        .open = rpm_open,
        .locks = true,
};
