/* The `rpm` source (and `mock`, which smith never runs): `package:` names
 * RPM packages (one, a list, and/or local .rpm files), plus `mock.deps`.
 * The repositories are smith.yaml's rpm-md `repos:`, plus those of
 * `mock.config` (config/mock-cfg.h); without either, the original's
 * /etc/mock/default.cfg when it exists (type rpm or mock), else this
 * machine's /etc/yum.repos.d.  mock.pre-build runs before anything is
 * fetched, mock.post-build once the root is there (mock-hooks.h).
 *
 *   repositories -> verified repomd.xml and primary (pkg/rpm-repo.h) ->
 *   libsolv, an RPM pool (pkg/solve.h) -> packages fetched in parallel into
 *   the blob store, each checked against primary's sha256 and size
 *   (pkg/fetch.h) -> with gpgcheck, each package's signature checked with
 *   librpm against its repository's keys -> payloads unpacked, contained and
 *   without running anything, into one cached root (pkg/rpm.h, pkg-root.h).
 *
 * Local .rpm files (their dependencies come from the repositories) are
 * held to the repositories' rule: when any repository has gpgcheck on,
 * each must be signed by a key of one of those repositories; otherwise
 * only its digests (header and payload) are checked. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "config/mock-cfg.h"
#include "mock-hooks.h"
#include "net/http.h"
#include "pkg/fetch.h"
#include "pkg/rpm-db.h"
#include "pkg/rpm-repo.h"
#include "pkg/rpm.h"
#include "pkg/solve.h"
#include "pkg-root.h"
#include "source.h"

#define RPM_FETCH_WORKERS 4
#define RPM_LAYOUT_VERSION "rpm 2: payloads and var/lib/rpm/rpmdb.sqlite"

static bool is_local_rpm(const char *name) {
        size_t n = strlen(name);
        return n > 4 && streq(name + n - 4, ".rpm");
}

#define MOCK_DEFAULT_CFG MOCK_CFG_DIR "/default.cfg"

/* mock.config as mock -r takes it: a path (relative to the build
 * directory), else a name in /etc/mock (".cfg" added when missing); without
 * it, with no rpm-md repos and type rpm or mock, the original's default
 * when it exists.  NULL: no mock configuration. */
static char *mock_config_path(const struct smith_config *c, const char *dir, size_t n_rpm) {
        const char *m = c->mock.config;
        _cleanup_free_ char *rel = NULL;
        char *p = NULL;

        if (isempty(m)) {
                if (n_rpm == 0 && c->type && (streq(c->type, "rpm") || streq(c->type, "mock")) &&
                    access(MOCK_DEFAULT_CFG, F_OK) == 0)
                        return strdup(MOCK_DEFAULT_CFG);
                return NULL;
        }
        if (m[0] == '/')
                return strdup(m);
        rel = path_join(dir, m);
        if (!rel)
                return NULL;
        if (strchr(m, '/') || access(rel, F_OK) == 0)
                return TAKE_PTR(rel);
        size_t n = strlen(m);
        if (asprintf(&p, "%s/%s%s", MOCK_CFG_DIR, m, n > 4 && streq(m + n - 4, ".cfg") ? "" : ".cfg") < 0)
                return NULL;
        return p;
}

static int load_repos(const struct smith_config *c, const struct source_ctx *ctx, struct mock_cfg *mc,
                      struct rpm_repos *out, struct smith_error **err) {
        _cleanup_free_ char *host_rel = rpm_host_releasever(), *cwd = get_current_dir_name(), *dir = NULL,
                            *mock_path = NULL;
        struct rpm_vars v = { .basearch = source_arch(ctx)->rpm, .releasever = host_rel };
        size_t n_rpm = 0;

        if (ctx->build_dir[0] != '/' && cwd)
                dir = streq(ctx->build_dir, ".") ? strdup(cwd) : path_join(cwd, ctx->build_dir);
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
        mock_path = mock_config_path(c, dir ? dir : ctx->build_dir, n_rpm);
        if (!mock_path && !isempty(c->mock.config))
                return error_oom(err);
        if (mock_path) {
                struct rpm_vars mv = v;
                size_t before = out->n;
                if (mock_cfg_load(mock_path, MOCK_CFG_DIR, mc, err) < 0)
                        return -1;
                if (mc->releasever)
                        mv.releasever = mc->releasever;
                if (mc->target_arch)
                        mv.basearch = mc->target_arch;
                if (!mc->repos)
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "mock config '%s': no config_opts['dnf.conf'] or ['yum.conf']", mock_path);
                struct rpm_ini_origin o = { .files = mc->files,
                                            .line_file = mc->line_file,
                                            .line_no = mc->line_no,
                                            .n = mc->n_lines,
                                            .warn_mirrors = true };
                if (rpm_repos_parse_ini_origin(mock_path, mc->repos, mc->repos_len, &o, &mv, out, err) < 0)
                        return -1;
                log_info("mock config '%s': %zu repositories", mock_path, out->n - before);
                if (out->n == before)
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "mock config '%s': no enabled repository with a baseurl", mock_path);
        } else if (n_rpm == 0 && rpm_repos_load_host("/etc/yum.repos.d", &v, out, err) < 0)
                return -1;
        if (out->n == 0)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "no rpm-md repositories: add 'repos:' with a 'baseurl' or 'mock.config' to smith.yaml "
                                 "or configure /etc/yum.repos.d");
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

/* The root's rpm database, as rpm would have written it: the packages'
 * headers, so that what ships from the root can be attributed and recorded
 * in the image (pkg/rpm-db.h). */
static int rpm_record_db(int root_fd, int blobs_fd, const struct pkg_choice *c, size_t n, struct smith_error **err) {
        _cleanup_free_ int *fds = calloc(n + 1, sizeof(*fds));
        int r = 0;

        if (!fds)
                return error_oom(err);
        for (size_t i = 0; i < n; i++)
                fds[i] = -1;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = blob_open(blobs_fd, c[i].digest, &fds[i]);
                if (r < 0)
                        r = error_set_errno(err, SMITH_ERR_IO, r, "open package '%s'", c[i].name);
        }
        if (r >= 0)
                r = rpm_db_install(root_fd, fds, n, err);
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return r < 0 ? -1 : 0;
}

static const struct pkg_root_ops rpm_root_ops = {
        .layout = RPM_LAYOUT_VERSION,
        .unpack = rpm_unpack_sized,
        .record = rpm_record_db,
        .shown = pkg_choice_nevra,
};

/* A local .rpm: signed by a key of a repository with gpgcheck when there
 * is one (keys, the union of their gpgkeys), else its digests only. */
static int check_local(int fd, bool gpgcheck, char *const *keys, const char *shown, struct smith_error **err) {
        if (!gpgcheck)
                return rpm_verify_digests(fd, err) < 0 ? error_wrap(err, "package '%s'", shown) : 0;
        if (!keys)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "package '%s': gpgcheck is on but no repository with gpgcheck has a gpgkey", shown);
        return rpm_verify(fd, keys, err) < 0 ? error_wrap(err, "package '%s'", shown) : 0;
}

/* With gpgcheck, every package from that repository is checked, at every
 * build (the keys may have changed since the blob was stored); local
 * packages as check_local() says. */
static int check_signatures(const struct source_ctx *ctx, const struct rpm_repos *repos, const struct pkg_choice *c,
                            size_t n, struct smith_error **err) {
        _cleanup_strv_free_ char **local_keys = NULL;
        bool any_gpgcheck = false;

        for (size_t i = 0; i < repos->n; i++) {
                if (!repos->items[i].gpgcheck)
                        continue;
                any_gpgcheck = true;
                for (char **k = repos->items[i].gpgkeys; k && *k; k++)
                        if (!strv_contains(local_keys, *k) && strv_extend(&local_keys, *k) < 0)
                                return error_oom(err);
        }
        for (size_t i = 0; i < n; i++) {
                const struct rpm_repo *r = c[i].local ? NULL : find_repo(repos, c[i].repo);
                _cleanup_free_ char *shown = NULL;
                _cleanup_close_ int fd = -1;
                int k;

                if (!c[i].local && (!r || !r->gpgcheck))
                        continue;
                shown = pkg_choice_nevra(&c[i]);
                k = blob_open(ctx->cache->blobs_fd, c[i].digest, &fd);
                if (k < 0)
                        return error_set_errno(err, SMITH_ERR_IO, k, "open package '%s'", c[i].name);
                if (c[i].local) {
                        if (check_local(fd, any_gpgcheck, local_keys, c[i].local, err) < 0)
                                return -1;
                        continue;
                }
                if (rpm_verify(fd, r->gpgkeys, err) < 0)
                        return error_wrap(err, "package '%s' from '%s'", shown ? shown : c[i].name, r->id);
        }
        return 0;
}

/* Every repository's filelists into the pool; returns how many. */
static int add_filelists(const struct source_ctx *ctx, struct http *h, const struct rpm_repos *repos,
                         struct pkg_pool *pool, struct smith_error **err) {
        int added = 0;

        for (size_t i = 0; i < repos->n; i++) {
                _cleanup_close_ int fd = -1;
                const char *hint = NULL;
                uint64_t bound = 0;
                int k = rpm_repo_open_filelists(&repos->items[i], ctx->cache, h, &fd, &hint, err);

                if (k < 0)
                        return -1;
                if (k > 0)
                        continue;
                log_info("repository '%s': a path is required that primary does not list: reading filelists",
                         repos->items[i].id);
                if (source_index_bound(repos->items[i].id, fd, hint, 0, &ctx->limits, &bound, err) < 0 ||
                    pkg_pool_add_rpmmd_filelists(pool, repos->items[i].id, fd, hint, bound, err) < 0)
                        return -1;
                added++;
        }
        return added;
}

/* What mock.debuginfo needs once the image's files are chosen: the pool
 * the packages were solved in, their repositories (for the signature
 * checks) and what was asked for. */
struct rpm_state {
        struct pkg_pool *pool;
        struct rpm_repos repos;
        char **wanted;
        struct source_ctx ctx; /* a copy: the caller's goes away after open */
        struct http_opts ho;
};

/* metadata -> pool -> solve: what smith.yaml asks for, resolved now; the
 * pool and the names asked for are kept (*ret_pool, *ret_wanted) for
 * mock.debuginfo. */
static int rpm_solve(const struct smith_config *c, const struct source_ctx *ctx, struct http *h, struct mock_cfg *mc,
                     struct rpm_repos *repos, struct apt_indexes *idx, struct pkg_pool **ret_pool, char ***ret_wanted,
                     struct pkg_choice **ret, size_t *ret_n, struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL;
        _cleanup_(pkg_pool_freep) struct pkg_pool *pool = NULL;
        int r;

        r = source_wanted_names(c, is_local_rpm, &wanted, &locals, err);
        if (r >= 0 && (wanted || locals))
                r = load_repos(c, ctx, mc, repos, err);
        for (size_t i = 0; r >= 0 && i < repos->n; i++)
                r = rpm_repo_load(&repos->items[i], ctx->cache, h, ctx->fast, idx, err);
        if (r >= 0)
                r = pkg_pool_new_rpm(mc->target_arch ? mc->target_arch : source_arch(ctx)->rpm, &pool, err);
        for (size_t i = 0; r >= 0 && i < idx->n; i++)
                r = source_add_index(pool, ctx->cache, &idx->items[i], true, &ctx->limits, err);
        for (size_t i = 0; r >= 0 && locals && locals[i]; i++) {
                _cleanup_close_ int fd = openat(ctx->build_dirfd, locals[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = error_set_errno(err, SMITH_ERR_SOURCE, errno, "package '%s'", locals[i]);
                else
                        r = pkg_pool_add_rpm(pool, fd, locals[i], err);
        }
        if (r < 0)
                return -1;
        r = pkg_solve(pool, wanted, c->packages.recommends, ret, ret_n, err);
        if (r < 0 && pkg_pool_solve_lacked_path(pool)) {
                /* a needed path primary does not list: the repositories' filelists, then again */
                _cleanup_(error_freep) struct smith_error *first = TAKE_PTR(*err);
                int k = add_filelists(ctx, h, repos, pool, err);
                if (k > 0)
                        r = pkg_solve(pool, wanted, c->packages.recommends, ret, ret_n, err);
                else if (k == 0)
                        *err = TAKE_PTR(first);
        }
        if (r < 0)
                return -1;
        *ret_pool = TAKE_PTR(pool);
        *ret_wanted = TAKE_PTR(wanted);
        return 0;
}

/* A locked build: the repositories (for their keys, and where the lock's
 * URLs may point), no metadata. */
static int rpm_locked(const struct smith_config *c, const struct source_ctx *ctx, struct mock_cfg *mc,
                      struct rpm_repos *repos, struct pkg_choice **ret, size_t *ret_n, struct smith_error **err) {
        _cleanup_strv_free_ char **allowed = NULL;

        if (ctx->lock->n_pkgs > 0 && load_repos(c, ctx, mc, repos, err) < 0)
                return -1;
        for (size_t i = 0; i < repos->n; i++)
                if (strv_extend(&allowed, repos->items[i].baseurl) < 0)
                        return error_oom(err);
        return source_lock_choices(c, ctx, allowed, is_local_rpm, ret, ret_n, NULL, NULL, err);
}

static int rpm_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        _cleanup_(http_freep) struct http *h = NULL;
        _cleanup_(pkg_pool_freep) struct pkg_pool *pool = NULL;
        _cleanup_strv_free_ char **wanted = NULL;
        struct http_opts ho = { .insecure = ctx->insecure, .error_kind = SMITH_ERR_SOURCE };
        struct rpm_repos repos = {};
        struct mock_cfg mc = {};
        struct apt_indexes idx = {};
        struct pkg_choice *choices = NULL;
        size_t n = 0;
        int r;

        if (c->type && streq(c->type, "mock"))
                log_info(source_is_on_path("mock")
                                 ? "'mock' is on PATH, but smith does not run it: installing the packages with "
                                   "smith's own RPM source"
                                 : "'mock' is not on PATH: installing the packages with smith's own RPM source");
        if (!isempty(c->mock.pre_build) && mock_hook_run("pre-build", c->mock.pre_build, ctx, NULL, err) < 0)
                return -1;
        r = http_new(&ho, &h, err);
        if (r >= 0)
                r = ctx->lock ? rpm_locked(c, ctx, &mc, &repos, &choices, &n, err)
                              : rpm_solve(c, ctx, h, &mc, &repos, &idx, &pool, &wanted, &choices, &n, err);
        if (r >= 0 && ctx->lock_out)
                r = source_lock_record(ctx, &idx, choices, n, NULL, 0, err);
        /* `smith lock` with mock.debuginfo goes on to the root: which debuginfo
         * packages to pin follows from the ELF files the selection copies */
        if (r >= 0 && (!ctx->lock_out || c->mock.debuginfo)) {
                r = source_fetch_choices(ctx, &ho, choices, n, RPM_FETCH_WORKERS, err);
                if (r < 0 && ctx->lock)
                        error_wrap(err, "%s", ctx->lock->path);
                if (r >= 0 && ctx->lock)
                        r = source_lock_check_locals(ctx, choices, n, err);
                if (r >= 0)
                        r = check_signatures(ctx, &repos, choices, n, err);
                if (r >= 0)
                        r = source_pkg_root(s, ctx->cache, &rpm_root_ops, choices, n, &ctx->limits, err);
                if (r >= 0 && !ctx->lock_out && !isempty(c->mock.post_build))
                        r = mock_hook_run("post-build", c->mock.post_build, ctx, s->root_path, err);
                if (r >= 0 && c->mock.debuginfo) {
                        /* kept for rpm_debuginfo(), after the selection (a locked
                         * build has no pool: the lock names the debuginfo root) */
                        struct rpm_state *st = calloc(1, sizeof(*st));
                        if (!st)
                                r = error_oom(err);
                        else {
                                *st = (struct rpm_state){ .pool = TAKE_PTR(pool),
                                                          .repos = repos,
                                                          .wanted = TAKE_PTR(wanted),
                                                          .ctx = *ctx,
                                                          .ho = ho };
                                repos = (struct rpm_repos){};
                                s->priv = st;
                        }
                }
        }
        mock_cfg_release(&mc);
        pkg_choices_free(choices, n);
        apt_indexes_release(&idx);
        rpm_repos_release(&repos);
        return r < 0 ? -1 : 0;
}

/* --- mock.debuginfo --- */

/* "<name>-debuginfo" when the repositories have it, else the source
 * package's; NULL (and a warning) when neither is there. */
static char *debuginfo_of(const struct source *s, struct pkg_pool *pool, const char *name) {
        _cleanup_free_ char *own = NULL, *src = NULL;
        const char *source = NULL;

        for (size_t i = 0; i < s->n_pkgs; i++)
                if (streq(s->pkgs[i].name, name))
                        source = s->pkgs[i].source;
        if (asprintf(&own, "%s-debuginfo", name) < 0)
                return NULL;
        if (pkg_pool_has(pool, own))
                return TAKE_PTR(own);
        if (source && !streq(source, name) && asprintf(&src, "%s-debuginfo", source) >= 0 && pkg_pool_has(pool, src))
                return TAKE_PTR(src);
        log_warn("no debuginfo package for '%s' in the repositories ('%s' not found)", name, own);
        return strdup("");
}

/* The debuginfo root's packages, solved now: what smith.yaml asked for,
 * the debuginfo packages of pkgs and the extra ones, in the pool the build
 * was solved in; 0 and none when there is nothing to install. */
static int debuginfo_solve(struct source *s, struct rpm_state *st, char *const *pkgs, char *const *extra,
                           struct pkg_choice **ret, size_t *ret_n, struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        size_t n_debug = 0;

        names = strv_copy(st->wanted);
        if (st->wanted && !names)
                return error_oom(err);
        for (size_t i = 0; pkgs && pkgs[i]; i++) {
                _cleanup_free_ char *d = debuginfo_of(s, st->pool, pkgs[i]);
                if (!d)
                        return error_oom(err);
                if (*d && !strv_contains(names, d)) {
                        if (strv_extend(&names, d) < 0)
                                return error_oom(err);
                        n_debug++;
                }
        }
        for (size_t i = 0; extra && extra[i]; i++) {
                if (isempty(extra[i]) || strv_contains(names, extra[i]))
                        continue;
                if (is_local_rpm(extra[i])) {
                        _cleanup_close_ int fd = openat(st->ctx.build_dirfd, extra[i], O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "mock.debugdeps '%s'", extra[i]);
                        if (pkg_pool_add_rpm(st->pool, fd, extra[i], err) < 0)
                                return -1;
                } else if (strv_extend(&names, extra[i]) < 0)
                        return error_oom(err);
                n_debug++;
        }
        *ret = NULL;
        *ret_n = 0;
        if (n_debug == 0)
                return 0;
        return pkg_solve(st->pool, names, false, ret, ret_n, err);
}

static int rpm_debuginfo(struct source *s, char *const *pkgs, char *const *extra, struct smith_error **err) {
        struct rpm_state *st = s->priv;
        _cleanup_(source_freep) struct source *tmp = NULL;
        struct pkg_choice *choices = NULL;
        size_t n = 0;
        int r;

        if (!st)
                return error_set(err, SMITH_ERR_IO, "debuginfo: the package pool is gone");
        /* locked: the root the lock names, for the packages it was made for;
         * else solved now (and with `smith lock`, recorded and not fetched) */
        r = st->ctx.lock ? source_lock_debuginfo_choices(&st->ctx, pkgs, &choices, &n, err)
                         : debuginfo_solve(s, st, pkgs, extra, &choices, &n, err);
        if (r >= 0 && st->ctx.lock_out)
                r = source_lock_record_debuginfo(&st->ctx, pkgs, choices, n, err);
        if (r < 0 || n == 0 || st->ctx.lock_out) {
                pkg_choices_free(choices, n);
                return r < 0 ? error_wrap(err, "mock.debuginfo") : 0;
        }
        tmp = calloc(1, sizeof(*tmp));
        if (!tmp)
                r = error_oom(err);
        else
                tmp->root_fd = -1;
        if (r >= 0) {
                r = source_fetch_choices(&st->ctx, &st->ho, choices, n, RPM_FETCH_WORKERS, err);
                if (r < 0 && st->ctx.lock)
                        error_wrap(err, "%s", st->ctx.lock->path);
        }
        if (r >= 0 && st->ctx.lock)
                r = source_lock_check_locals(&st->ctx, choices, n, err);
        if (r >= 0)
                r = check_signatures(&st->ctx, &st->repos, choices, n, err);
        if (r >= 0)
                r = source_pkg_root(tmp, st->ctx.cache, &rpm_root_ops, choices, n, &st->ctx.limits, err);
        pkg_choices_free(choices, n);
        if (r < 0)
                return error_wrap(err, "mock.debuginfo");
        log_info("mock.debuginfo: %zu packages in the debuginfo root", n);
        if (s->debug_root_fd >= 0)
                close(s->debug_root_fd);
        s->debug_root_fd = TAKE_FD(tmp->root_fd);
        return 0;
}

static void rpm_release(struct source *s) {
        struct rpm_state *st = s->priv;
        if (!st)
                return;
        pkg_pool_free(st->pool);
        rpm_repos_release(&st->repos);
        strv_free(st->wanted);
        free(st);
        s->priv = NULL;
}

const struct source_ops source_rpm_ops = {
        .kind = "rpm",
        .open = rpm_open,
        .release = rpm_release,
        .debuginfo = rpm_debuginfo,
        .locks = true,
};
