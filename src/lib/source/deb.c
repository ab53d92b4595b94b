/* The `deb` source: `package:` names Debian packages (one, a list, and/or
 * local .deb files), plus `mock.deps`.  The repositories come from
 * smith.yaml's `repos:` or, without it, from this machine's apt sources.
 *
 *   sources -> verified metadata (pkg/apt-repo.h) -> libsolv (pkg/solve.h)
 *   -> packages fetched in parallel into the blob store, each checked
 *   against its sha256 and size (pkg/fetch.h) -> unpacked, contained and
 *   without running anything, into one root (pkg/deb.h), cached as every
 *   package root is (pkg-root.c) under the merged-/usr layout's version. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "net/http.h"
#include "pkg/apt-repo.h"
#include "pkg/apt-sources.h"
#include "pkg/deb.h"
#include "pkg/fetch.h"
#include "pkg/solve.h"
#include "deb-release.h"
#include "pkg-root.h"
#include "source.h"

#define DEB_FETCH_WORKERS 4

static bool is_local_deb(const char *name) {
        size_t n = strlen(name);
        return n > 4 && streq(name + n - 4, ".deb");
}

/* --- the repositories --- */

static int config_sources(const struct smith_config *c, const struct source_ctx *ctx, struct apt_sources *out,
                          struct smith_error **err) {
        for (size_t i = 0; i < c->n_repos; i++) {
                const struct smith_repo *r = &c->repos[i];
                _cleanup_strv_free_ char **keys = NULL;
                char *main_only[] = { (char *) "main", NULL };
                bool flat;

                if (r->rpm_md)
                        continue; /* the rpm source's */
                if (r->line) {
                        if (apt_sources_parse_line(r->where, r->line, out, err) < 0)
                                return -1;
                        continue;
                }
                if (r->signed_by) {
                        /* relative to the build directory, like every path in smith.yaml */
                        _cleanup_free_ char *cwd = get_current_dir_name(), *dir = NULL;
                        char *k;

                        if (ctx->build_dir[0] != '/' && cwd)
                                dir = path_join(cwd, ctx->build_dir);
                        k = r->signed_by[0] == '/' ? strdup(r->signed_by)
                                                   : path_join(dir ? dir : ctx->build_dir, r->signed_by);
                        if (strv_consume(&keys, k) < 0)
                                return error_oom(err);
                }
                flat = r->suites[0] && r->suites[0][strlen(r->suites[0]) - 1] == '/';
                if (apt_sources_add(out, r->where, r->uri, r->suites,
                                    r->components ? r->components : (flat ? NULL : main_only), keys, r->trusted,
                                    err) < 0)
                        return -1;
        }
        return 0;
}

/* The repositories a build may use: smith.yaml's, else this machine's. */
static int load_sources(const struct smith_config *c, const struct source_ctx *ctx, struct apt_sources *out,
                        struct smith_error **err) {
        if (c->n_repos > 0)
                return config_sources(c, ctx, out, err);
        return apt_sources_load_host("/etc/apt", out, err);
}

/* The repositories are loaded in parallel, a thread and a connection each
 * (InRelease, its check, the Packages files), and their indexes taken in
 * the order of the sources; the first failing source (in that order) is
 * the error. */
#define DEB_REPO_THREADS 8

struct repo_job {
        const struct apt_source *src;
        const struct http_opts *ho;
        struct apt_repo_opts o;
        struct apt_indexes idx;
        struct smith_error *err;
        int r;
};

static void *repo_job_run(void *ud) {
        struct repo_job *j = ud;
        _cleanup_(http_freep) struct http *h = NULL;

        j->r = http_new(j->ho, &h, &j->err);
        if (j->r < 0)
                return NULL;
        j->o.http = h;
        j->r = apt_repo_load(j->src, &j->o, &j->idx, &j->err);
        j->o.http = NULL;
        return NULL;
}

static int take_indexes(struct apt_indexes *out, struct apt_indexes *from, struct smith_error **err) {
        struct apt_index *items;

        if (from->n == 0)
                return 0;
        items = realloc(out->items, (out->n + from->n) * sizeof(*items));
        if (!items)
                return error_oom(err);
        out->items = items;
        memcpy(out->items + out->n, from->items, from->n * sizeof(*items));
        out->n += from->n;
        free(from->items);
        from->items = NULL;
        from->n = 0;
        return 0;
}

static int load_indexes(const struct smith_config *c, const struct source_ctx *ctx, const struct http_opts *ho,
                        struct apt_indexes *out, struct smith_error **err) {
        struct apt_sources all = {};
        struct apt_repo_opts o = { .cache = ctx->cache,
                                   .arch = source_arch(ctx)->debian,
                                   .fast = ctx->fast,
                                   .now = time(NULL),
                                   .max_index = unpack_limits_resolve(&ctx->limits).max_index };
        _cleanup_free_ struct repo_job *jobs = NULL;
        size_t used = 0;
        int r = load_sources(c, ctx, &all, err);

        if (r >= 0 && all.n > 0 && !(jobs = calloc(all.n, sizeof(*jobs))))
                r = error_oom(err);
        for (size_t i = 0; r >= 0 && i < all.n; i++) {
                if (!apt_source_has_arch(&all.items[i], o.arch))
                        continue;
                jobs[used++] = (struct repo_job){ .src = &all.items[i], .ho = ho, .o = o };
        }
        for (size_t first = 0; r >= 0 && first < used; first += DEB_REPO_THREADS) {
                size_t end = MIN(used, first + DEB_REPO_THREADS);
                pthread_t t[DEB_REPO_THREADS];
                bool started[DEB_REPO_THREADS] = {};

                for (size_t i = first; i < end; i++)
                        started[i - first] =
                                end - first > 1 && pthread_create(&t[i - first], NULL, repo_job_run, &jobs[i]) == 0;
                for (size_t i = first; i < end; i++) {
                        if (started[i - first])
                                pthread_join(t[i - first], NULL);
                        else
                                repo_job_run(&jobs[i]);
                }
        }
        for (size_t i = 0; r >= 0 && i < used; i++) {
                if (jobs[i].r < 0) {
                        if (err && !*err)
                                *err = TAKE_PTR(jobs[i].err);
                        r = -1;
                } else
                        r = take_indexes(out, &jobs[i].idx, err);
        }
        for (size_t i = 0; jobs && i < used; i++) {
                apt_indexes_release(&jobs[i].idx);
                error_free(jobs[i].err);
        }
        apt_sources_release(&all);
        if (r < 0)
                return -1;
        if (used == 0)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "no package repositories for '%s': add 'repos:' to smith.yaml or configure apt "
                                 "sources",
                                 o.arch);
        return 0;
}

#define DPKG_DB_VERSION "dpkg-db 1: status and info/<pkg>.list"

/* What dpkg would have recorded, had it installed the packages: a status
 * stanza per package and its file list, so that the root carries a package
 * database like any Debian root, and what shipped from it can be
 * attributed (pkg/dpkg-db.h) and recorded in the image for scanners. */

static int write_root_file(int root_fd, const char *path, const char *data, size_t len, struct smith_error **err) {
        _cleanup_close_ int fd = root_openat(root_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
        int r;

        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, fd, "write '/%s'", path);
        r = write_full(fd, data, len);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '/%s'", path);
        return 0;
}

static int write_dpkg_db(int root_fd, const struct source *s, struct smith_error **err) {
        _cleanup_buf_ struct buf status = BUF_INIT(64u << 20);
        int r;

        r = root_mkdir_p(root_fd, "var/lib/dpkg/info", 0755);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "create '/var/lib/dpkg/info'");
        for (size_t i = 0; i < s->n_pkgs; i++) {
                const struct source_package *p = &s->pkgs[i];
                _cleanup_buf_ struct buf list = BUF_INIT(64u << 20);
                _cleanup_free_ char *stanza = NULL, *path = NULL;

                if (asprintf(&stanza,
                             "Package: %s\nStatus: install ok installed\nArchitecture: %s\n%s%s%sVersion: %s\n\n",
                             p->name, p->arch, p->source && !streq(p->source, p->name) ? "Source: " : "",
                             p->source && !streq(p->source, p->name) ? p->source : "",
                             p->source && !streq(p->source, p->name) ? "\n" : "", p->version) < 0)
                        return error_oom(err);
                if (buf_append_str(&status, stanza) < 0)
                        return error_oom(err);
                for (char **f = p->files; f && *f; f++)
                        if (buf_append_str(&list, *f) < 0 || buf_append(&list, "\n", 1) < 0)
                                return error_oom(err);
                if (asprintf(&path, "var/lib/dpkg/info/%s.list", p->name) < 0)
                        return error_oom(err);
                if (write_root_file(root_fd, path, list.data ? list.data : "", list.len, err) < 0)
                        return -1;
        }
        return write_root_file(root_fd, "var/lib/dpkg/status", status.data ? status.data : "", status.len, err);
}

static int deb_unpack_sized(int root_fd, int fd, uint64_t size, const struct unpack_limits *limits, uint64_t *used,
                            char ***ret_paths, struct smith_error **err) {
        return deb_unpack(root_fd, fd, deb_max_uncompressed(size), limits, used, ret_paths, err);
}

/* Decompressing ahead: a thread decompresses the data tars of the next
 * packages (at most DEB_AHEAD of them, each at most DEB_AHEAD_MAX bytes)
 * into unnamed files in the cache's tmp/ while the packages before are unpacked, so that xz and the file
 * creation overlap.  Whatever it cannot do (a damaged package, a bomb, no
 * O_TMPFILE) is left to deb_unpack() in order, which says what is wrong:
 * the result and the errors are those of unpacking one after the other. */
#define DEB_AHEAD 2
#define DEB_AHEAD_MAX (64ULL << 20) /* bytes of one decompressed tar; a larger one is unpacked in line */

struct deb_ahead {
        struct cache *cache;
        const struct pkg_choice *c;
        size_t n;
        int *fds; /* the decompressed data tar of package i, or -1 */
        size_t done, consumed;
        bool stop;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
};

static int decompress_one(struct cache *cache, const struct pkg_choice *c) {
        _cleanup_close_ int bfd = -1, out = -1;
        struct stat st;

        if (blob_open(cache->blobs_fd, c->digest, &bfd) < 0 || fstat(bfd, &st) < 0)
                return -1;
        out = openat(cache->tmp_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (out < 0 ||
            deb_data_decompress(bfd, MIN(deb_max_uncompressed((uint64_t) st.st_size), DEB_AHEAD_MAX), out) < 0)
                return -1;
        return TAKE_FD(out);
}

static void *ahead_thread(void *ud) {
        struct deb_ahead *a = ud;

        for (size_t i = 0; i < a->n; i++) {
                int fd;

                pthread_mutex_lock(&a->lock);
                while (!a->stop && i >= a->consumed + DEB_AHEAD)
                        pthread_cond_wait(&a->cond, &a->lock);
                if (a->stop) {
                        pthread_mutex_unlock(&a->lock);
                        break;
                }
                pthread_mutex_unlock(&a->lock);
                fd = decompress_one(a->cache, &a->c[i]);
                pthread_mutex_lock(&a->lock);
                a->fds[i] = fd;
                a->done = i + 1;
                pthread_cond_broadcast(&a->cond);
                pthread_mutex_unlock(&a->lock);
        }
        pthread_mutex_lock(&a->lock);
        a->done = a->n; /* what is left, the caller unpacks itself */
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        return NULL;
}

static void deb_ahead_stop(void *ud) {
        struct deb_ahead *a = ud;

        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
        for (size_t i = 0; i < a->n; i++)
                if (a->fds[i] >= 0)
                        close(a->fds[i]);
        pthread_mutex_destroy(&a->lock);
        pthread_cond_destroy(&a->cond);
        free(a->fds);
        free(a);
}

static void *deb_ahead_start(struct cache *cache, const struct pkg_choice *c, size_t n) {
        struct deb_ahead *a;

        if (n < 2)
                return NULL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return NULL;
        *a = (struct deb_ahead){ .cache = cache, .c = c, .n = n, .fds = malloc(n * sizeof(int)) };
        if (!a->fds) {
                free(a);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                a->fds[i] = -1;
        pthread_mutex_init(&a->lock, NULL);
        pthread_cond_init(&a->cond, NULL);
        if (pthread_create(&a->thread, NULL, ahead_thread, a) != 0) {
                pthread_mutex_destroy(&a->lock);
                pthread_cond_destroy(&a->cond);
                free(a->fds);
                free(a);
                return NULL;
        }
        return a;
}

static int deb_unpack_ahead(void *ud, size_t i, int root_fd, int fd, uint64_t size, const struct unpack_limits *limits,
                            uint64_t *used, char ***ret_paths, struct smith_error **err) {
        struct deb_ahead *a = ud;
        _cleanup_close_ int tar_fd = -1;
        int r;

        pthread_mutex_lock(&a->lock);
        while (a->done <= i)
                pthread_cond_wait(&a->cond, &a->lock);
        tar_fd = a->fds[i];
        a->fds[i] = -1;
        pthread_mutex_unlock(&a->lock);
        r = deb_unpack_tar(root_fd, fd, tar_fd, deb_max_uncompressed(size), limits, used, ret_paths, err);
        pthread_mutex_lock(&a->lock);
        a->consumed = i + 1;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        return r;
}

static const struct pkg_root_ops deb_root_ops = {
        .layout = DEB_MERGED_USR_VERSION "; " DPKG_DB_VERSION,
        .prepare = deb_merged_usr,
        .unpack = deb_unpack_sized,
        .finish = write_dpkg_db,
        .shown = pkg_choice_file_name,
        .ahead_start = deb_ahead_start,
        .unpack_ahead = deb_unpack_ahead,
        .ahead_stop = deb_ahead_stop,
};

/* --- the backend --- */

/* Saving what a cold build parsed takes a fifth of its metadata time
 * (bookworm's main: 0.12 s).  It only reads the pool, and nothing changes
 * the pool once the packages are solved, so a thread saves the indexes
 * while the packages download, and frees the pool when done; without a
 * thread the saving is done in line. */
struct index_saver {
        struct pkg_pool *pool;
        struct cache *cache;
        const struct apt_indexes *idx;
        bool *parsed; /* per index of idx: to be saved */
        pthread_t thread;
        bool started;
};

static void *saver_run(void *ud) {
        struct index_saver *v = ud;

        pkg_pool_trim(v->pool);
        for (size_t i = 0; i < v->idx->n; i++)
                if (v->parsed[i])
                        source_save_index(v->pool, v->cache, &v->idx->items[i]);
        pkg_pool_free(TAKE_PTR(v->pool));
        return NULL;
}

/* Takes pool and parsed (both freed by saver_join()). */
static void saver_start(struct index_saver *v, struct pkg_pool *pool, struct cache *cache,
                        const struct apt_indexes *idx, bool *parsed) {
        *v = (struct index_saver){ .pool = pool, .cache = cache, .idx = idx, .parsed = parsed };
        v->started = pthread_create(&v->thread, NULL, saver_run, v) == 0;
        if (!v->started)
                saver_run(v);
}

static void saver_join(struct index_saver *v) {
        if (v->started)
                pthread_join(v->thread, NULL);
        v->started = false;
        pkg_pool_free(TAKE_PTR(v->pool));
        free(TAKE_PTR(v->parsed));
}

/* metadata -> pool -> solve: what smith.yaml asks for, resolved now, and
 * base-files alone for the image's os-release (release; none when package
 * metadata is off).  Without local files the answer depends on the indexes
 * and names only, so an earlier build's (pkgs/solve-...) stands in for
 * loading the indexes into libsolv. */
static int deb_solve(const struct smith_config *c, const struct source_ctx *ctx, const struct http_opts *ho,
                     struct apt_indexes *idx, struct pkg_choice **ret, size_t *ret_n, struct pkg_choice **ret_release,
                     size_t *ret_n_release, struct index_saver *saver, struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL;
        _cleanup_(pkg_pool_freep) struct pkg_pool *pool = NULL;
        _cleanup_free_ bool *parsed = NULL;
        bool any_parsed = false;
        char *release_names[] = { (char *) "base-files", NULL };
        char key[SHA256_HEX_LEN + 1], release_key[SHA256_HEX_LEN + 1];
        bool have_key = false, want_release = !c->no_package_metadata, have_release = false;
        int r;

        if (source_wanted_names(c, is_local_deb, &wanted, &locals, err) < 0)
                return -1;
        if ((wanted || locals) && load_indexes(c, ctx, ho, idx, err) < 0)
                return -1;
        if (!locals &&
            source_solve_key(c->packages.recommends ? "deb+recommends" : "deb", source_arch(ctx)->debian, idx, wanted,
                             key) == 0 &&
            source_solve_key("deb", source_arch(ctx)->debian, idx, release_names, release_key) == 0) {
                have_key = true;
                r = want_release ? source_solve_load(ctx->cache, release_key, ret_release, ret_n_release) : 1;
                have_release = r > 0;
                if (r >= 0)
                        r = source_solve_load(ctx->cache, key, ret, ret_n);
                if (r < 0)
                        return error_oom(err);
                if (r > 0 && (have_release || !want_release))
                        return 0;
                pkg_choices_free(*ret, *ret_n);
                *ret = NULL;
                *ret_n = 0;
        }
        parsed = calloc(idx->n + 1, sizeof(*parsed));
        if (!parsed)
                return error_oom(err);
        r = pkg_pool_new(source_arch(ctx)->debian, &pool, err);
        for (size_t i = 0; r >= 0 && i < idx->n; i++) {
                r = source_load_index(pool, ctx->cache, &idx->items[i], false, &ctx->limits, &parsed[i], err);
                any_parsed = any_parsed || parsed[i];
        }
        for (size_t i = 0; r >= 0 && locals && locals[i]; i++) {
                _cleanup_close_ int fd = openat(ctx->build_dirfd, locals[i], O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *control = NULL;
                size_t len = 0;

                if (fd < 0)
                        r = error_set_errno(err, SMITH_ERR_SOURCE, errno, "package '%s'", locals[i]);
                else if (deb_read_control(fd, &control, &len, err) < 0)
                        r = error_wrap(err, "package '%s'", locals[i]);
                else
                        r = pkg_pool_add_deb(pool, control, len, locals[i], err);
        }
        if (r >= 0)
                r = pkg_solve(pool, wanted, c->packages.recommends, ret, ret_n, err);
        if (r >= 0 && want_release && !have_release) {
                /* solved alone, so that the packages asked for do not change with it */
                r = deb_release_choices(pool, ret_release, ret_n_release);
                if (r < 0)
                        error_oom(err);
                else if (have_key)
                        source_solve_save(ctx->cache, release_key, *ret_release, *ret_n_release);
        }
        if (r >= 0 && have_key)
                source_solve_save(ctx->cache, key, *ret, *ret_n);
        /* what was parsed is saved even when the build fails here */
        if (any_parsed)
                saver_start(saver, TAKE_PTR(pool), ctx->cache, idx, TAKE_PTR(parsed));
        return r < 0 ? -1 : 0;
}

/* The repositories smith.yaml (or this machine) names for this
 * architecture: where a locked package may come from. */
static int deb_allowed(const struct smith_config *c, const struct source_ctx *ctx, char ***ret,
                       struct smith_error **err) {
        struct apt_sources all = {};
        int r = load_sources(c, ctx, &all, err);

        for (size_t i = 0; r >= 0 && i < all.n; i++)
                if (apt_source_has_arch(&all.items[i], source_arch(ctx)->debian) &&
                    strv_extend(ret, all.items[i].uri) < 0)
                        r = error_oom(err);
        apt_sources_release(&all);
        return r < 0 ? -1 : 0;
}

static int deb_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                    struct smith_error **err) {
        _cleanup_strv_free_ char **allowed = NULL;
        struct http_opts ho = { .insecure = ctx->insecure, .error_kind = SMITH_ERR_SOURCE };
        struct apt_indexes idx = {};
        struct index_saver saver = {};
        struct pkg_choice *choices = NULL, *release = NULL;
        size_t n = 0, n_release = 0;
        int r;

        if (ctx->lock) {
                r = deb_allowed(c, ctx, &allowed, err);
                if (r >= 0)
                        r = source_lock_choices(c, ctx, allowed, is_local_deb, &choices, &n, &release, &n_release, err);
        } else
                r = deb_solve(c, ctx, &ho, &idx, &choices, &n, &release, &n_release, &saver, err);
        if (r >= 0 && ctx->lock_out)
                r = source_lock_record(ctx, &idx, choices, n, release, n_release, err);
        else if (r >= 0) {
                r = source_fetch_choices(ctx, &ho, choices, n, DEB_FETCH_WORKERS, err);
                saver_join(&saver); /* before the unpacking: the pool's memory is given back */
                if (r < 0 && ctx->lock)
                        error_wrap(err, "%s", ctx->lock->path);
                if (r >= 0 && ctx->lock)
                        r = source_lock_check_locals(ctx, choices, n, err);
                if (r >= 0)
                        r = source_pkg_root(s, ctx->cache, &deb_root_ops, choices, n, &ctx->limits, err);
                if (r >= 0 && !c->no_package_metadata)
                        r = deb_source_release(s, release, n_release, ctx, &ho, err);
        }
        saver_join(&saver);
        pkg_choices_free(release, n_release);
        pkg_choices_free(choices, n);
        apt_indexes_release(&idx);
        return r < 0 ? -1 : 0;
}

const struct source_ops source_deb_ops = {
        .kind = "deb",
        .open = deb_open,
        .locks = true,
};
