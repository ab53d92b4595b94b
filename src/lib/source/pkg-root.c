/* What the package backends (deb.c, rpm.c) share; see pkg-root.h.
 *
 * The root is cached: roots/<key>/ where key is the sha256 of the
 * backend's layout line and the sorted package digests, built in tmp/ and
 * renamed, complete once roots/<key>.done exists.  The marker holds the
 * packages and their files (JSON), so a cached root still says which
 * package put which file there. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/progress.h"
#include "basic/strv.h"
#include "pkg/apt-repo.h"
#include "pkg/fetch.h"
#include "pkg/index-read.h"
#include "pkg/solve.h"
#include "pkg-root.h"
#include "source.h"

#define PKG_ROOT_MARKER_MAX (256u << 20)

/* --- local package files --- */

int source_store_local(const struct source_ctx *ctx, const char *path, char digest[static DIGEST_STR_LEN + 1],
                       uint64_t *ret_size, struct smith_error **err) {
        _cleanup_close_ int in = openat(ctx->build_dirfd, path, O_RDONLY | O_CLOEXEC), fd = -1;
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        _cleanup_free_ char *name = NULL;
        uint64_t n = 0;
        int r;

        if (in < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "package '%s'", path);
        if (!h)
                return error_oom(err);
        if (cache_tmpfile(ctx->cache, &name, &fd, err) < 0)
                return -1;
        r = copy_bytes(in, fd, 0, h, &n);
        if (r < 0) {
                unlinkat(ctx->cache->tmp_fd, name, 0);
                return error_set_errno(err, SMITH_ERR_IO, r, "package '%s'", path);
        }
        sha256_final_digest(h, digest);
        *ret_size = n;
        if (cache_has_blob(ctx->cache, digest)) {
                unlinkat(ctx->cache->tmp_fd, name, 0);
                return 0;
        }
        return cache_blob_commit(ctx->cache, fd, name, digest, err);
}

/* --- the root --- */

static int digest_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int root_key(const char *layout, const struct pkg_choice *c, size_t n, char ret[static SHA256_HEX_LEN + 1],
                    struct smith_error **err) {
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        _cleanup_free_ const char **d = calloc(n + 1, sizeof(char *));
        char digest[DIGEST_STR_LEN + 1];

        if (!h || !d)
                return error_oom(err);
        for (size_t i = 0; i < n; i++)
                d[i] = c[i].digest;
        qsort(d, n, sizeof(char *), digest_cmp);
        sha256_update(h, layout, strlen(layout));
        sha256_update(h, "\n", 1);
        for (size_t i = 0; i < n; i++) {
                sha256_update(h, d[i], strlen(d[i]));
                sha256_update(h, "\n", 1);
        }
        sha256_final_digest(h, digest);
        memcpy(ret, digest_hex(digest), SHA256_HEX_LEN + 1);
        return 0;
}

static json_t *marker_json(const struct source *s) {
        json_t *pkgs = json_array();

        for (size_t i = 0; pkgs && i < s->n_pkgs; i++) {
                const struct source_package *p = &s->pkgs[i];
                json_t *files = json_array();
                for (size_t j = 0; files && p->files && p->files[j]; j++)
                        json_array_append_new(files, json_string(p->files[j]));
                json_array_append_new(pkgs,
                                      json_pack("{s:s, s:s, s:s, s:s, s:o*}", "name", p->name, "version", p->version,
                                                "arch", p->arch, "source", p->source, "files", files));
        }
        return pkgs ? json_pack("{s:o}", "packages", pkgs) : NULL;
}

static char *json_strdup(json_t *o, const char *key) {
        const char *v = json_string_value(json_object_get(o, key));
        return v ? strdup(v) : NULL;
}

/* The packages and files of a cached root, from its marker. */
static int marker_read(struct cache *cache, const char *hex, struct source *s, struct smith_error **err) {
        char name[SHA256_HEX_LEN + sizeof(".done")];
        _cleanup_free_ char *text = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *pkgs;
        int r;

        snprintf(name, sizeof(name), "%s.done", hex);
        r = root_read_file(cache->roots_fd, name, PKG_ROOT_MARKER_MAX, &text, NULL);
        if (r < 0)
                return r;
        j = json_loads(text, 0, NULL);
        pkgs = json_object_get(j, "packages");
        if (!json_is_array(pkgs))
                return -EINVAL;
        s->pkgs = calloc(json_array_size(pkgs) + 1, sizeof(*s->pkgs));
        if (!s->pkgs)
                return error_oom(err);
        for (size_t i = 0; i < json_array_size(pkgs); i++) {
                json_t *o = json_array_get(pkgs, i), *files = json_object_get(o, "files");
                struct source_package *p = &s->pkgs[s->n_pkgs++];
                p->name = json_strdup(o, "name");
                p->version = json_strdup(o, "version");
                p->arch = json_strdup(o, "arch");
                p->source = json_strdup(o, "source");
                if (!p->name || !p->version || !p->arch || !p->source)
                        return -EINVAL;
                for (size_t k = 0; k < json_array_size(files); k++) {
                        const char *f = json_string_value(json_array_get(files, k));
                        if (f && strv_extend(&p->files, f) < 0)
                                return error_oom(err);
                }
        }
        return 0;
}

static int open_done(struct cache *cache, const char *hex, struct source *s, struct smith_error **err) {
        int fd = openat(cache->roots_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return 0;
        if (marker_read(cache, hex, s, err) < 0) {
                close(fd);
                if (err && *err)
                        return -1;
                /* no marker, or a damaged one: build again */
                source_packages_clear(s);
                return 0;
        }
        s->root_fd = fd;
        return 1;
}

static int fill_packages(struct source *s, const struct pkg_choice *c, size_t n, struct smith_error **err) {
        s->pkgs = calloc(n + 1, sizeof(*s->pkgs));
        if (!s->pkgs)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                struct source_package *p = &s->pkgs[s->n_pkgs++];
                p->name = strdup(c[i].name);
                p->version = strdup(c[i].version);
                p->arch = strdup(c[i].arch);
                p->source = strdup(c[i].source);
                if (!p->name || !p->version || !p->arch || !p->source)
                        return error_oom(err);
        }
        return 0;
}

/* Unpacks the packages into a fresh root in tmp/ and publishes it. */
static int build_root(struct source *s, struct cache *cache, const struct pkg_root_ops *ops, const char *hex,
                      const struct pkg_choice *c, size_t n, const struct unpack_limits *limits,
                      struct smith_error **err) {
        uint64_t used = 0; /* what the packages unpacked so far, against limits->max_unpacked */
        _cleanup_free_ char *tmp_name = NULL, *text = NULL;
        _cleanup_(json_decrefp) json_t *marker = NULL;
        _cleanup_close_ int fd = -1;
        void *ahead = NULL;
        int r;

        if (cache_tmpdir(cache, "root-", &tmp_name, &fd, err) < 0)
                return -1;
        if (ops->prepare && ops->prepare(fd, err) < 0)
                goto fail;
        if (ops->ahead_start)
                ahead = ops->ahead_start(cache, c, n);
        {
                uint64_t total = 0;
                for (size_t i = 0; i < n; i++)
                        total += c[i].size;
                progress_start("unpack", total);
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int bfd = -1;
                _cleanup_free_ char *shown = ops->shown(&c[i]);
                struct stat st;

                r = blob_open(cache->blobs_fd, c[i].digest, &bfd);
                if (r < 0 || fstat(bfd, &st) < 0) {
                        error_set_errno(err, SMITH_ERR_IO, r < 0 ? r : errno, "open package '%s'", c[i].name);
                        goto fail;
                }
                if ((ahead ? ops->unpack_ahead(ahead, i, fd, bfd, (uint64_t) st.st_size, limits, &used,
                                               &s->pkgs[i].files, err)
                           : ops->unpack(fd, bfd, (uint64_t) st.st_size, limits, &used, &s->pkgs[i].files, err)) < 0) {
                        error_wrap(err, "package '%s'", shown ? shown : c[i].name);
                        goto fail;
                }
                progress_add((uint64_t) st.st_size);
        }
        progress_stop();
        if (ahead)
                ops->ahead_stop(TAKE_PTR(ahead));
        if (ops->finish && ops->finish(fd, s, err) < 0)
                goto fail;
        if (ops->record && ops->record(fd, cache->blobs_fd, c, n, err) < 0)
                goto fail;
        marker = marker_json(s);
        text = marker ? json_dumps(marker, JSON_COMPACT) : NULL;
        if (!text) {
                error_oom(err);
                goto fail;
        }
        r = cache_root_publish(cache, tmp_name, hex, text, strlen(text));
        if (r < 0) {
                error_set_errno(err, SMITH_ERR_IO, r, "store root '%s/roots/%s'", cache->path, hex);
                goto fail;
        }
        s->root_fd = TAKE_FD(fd);
        return 0;
fail:
        progress_stop();
        if (ahead)
                ops->ahead_stop(ahead);
        rm_rf_at(cache->tmp_fd, tmp_name);
        return -1;
}

/* The packages blob: one line per package in the root, as ops names them. */
static int list_packages(struct source *s, const struct pkg_root_ops *ops, struct smith_error **err) {
        for (size_t i = 0; i < s->n_pkgs; i++) {
                struct pkg_choice pc = { .name = s->pkgs[i].name,
                                         .version = s->pkgs[i].version,
                                         .arch = s->pkgs[i].arch };
                if (strv_consume(&s->packages, ops->shown(&pc)) < 0)
                        return error_oom(err);
        }
        strv_sort(s->packages);
        return 0;
}

static int open_root(struct source *s, struct cache *cache, const struct pkg_root_ops *ops, const struct pkg_choice *c,
                     size_t n, const struct unpack_limits *limits, struct smith_error **err) {
        char hex[SHA256_HEX_LEN + 1], key[SHA256_HEX_LEN + sizeof("root-")];
        _cleanup_close_ int lock_fd = -1;
        int r;

        if (root_key(ops->layout, c, n, hex, err) < 0)
                return -1;
        if (asprintf(&s->root_path, "%s/roots/%s", cache->path, hex) < 0) {
                s->root_path = NULL;
                return error_oom(err);
        }
        r = open_done(cache, hex, s, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        snprintf(key, sizeof(key), "root-%s", hex);
        if (cache_lock(cache, key, &lock_fd, err) < 0)
                return -1;
        r = open_done(cache, hex, s, err); /* another builder finished while we waited */
        if (r != 0)
                return r < 0 ? -1 : 0;
        if (fill_packages(s, c, n, err) < 0)
                return -1;
        return build_root(s, cache, ops, hex, c, n, limits, err);
}

int source_pkg_root(struct source *s, struct cache *cache, const struct pkg_root_ops *ops, const struct pkg_choice *c,
                    size_t n, const struct unpack_limits *limits, struct smith_error **err) {
        if (open_root(s, cache, ops, c, n, limits, err) < 0)
                return -1;
        return list_packages(s, ops, err);
}

/* --- fetching --- */

int source_fetch_choices(const struct source_ctx *ctx, const struct http_opts *ho, struct pkg_choice *choices, size_t n,
                         unsigned workers, struct smith_error **err) {
        _cleanup_free_ struct pkg_fetch_item *items = calloc(n + 1, sizeof(*items));
        size_t n_items = 0;

        if (!items)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                if (choices[i].local) {
                        if (source_store_local(ctx, choices[i].local, choices[i].digest, &choices[i].size, err) < 0)
                                return -1;
                        continue;
                }
                items[n_items++] = (struct pkg_fetch_item){ .url = choices[i].url,
                                                            .what = choices[i].name,
                                                            .digest = choices[i].digest,
                                                            .size = choices[i].size };
        }
        log_info("%zu packages, %zu to check or fetch", n, n_items);
        return pkg_fetch_blobs(ctx->cache, ho, items, n_items, workers, err);
}

/* --- indexes --- */

/* An index into the pool: from libsolv's saved form in the cache when a
 * build saved it before (pkgs/solv-<Packages sha256>), else parsed from the
 * verified Packages file and saved for the next build.  The saved form is
 * only a faster copy of what was verified: failing to read or write it
 * costs time, never the build. */
#define SOLV_CACHE_VERSION "1"

static void solv_cache_name(const struct apt_index *x,
                            char name[static sizeof("solv--" SOLV_CACHE_VERSION) + SHA256_HEX_LEN]) {
        snprintf(name, sizeof("solv--" SOLV_CACHE_VERSION) + SHA256_HEX_LEN, "solv-%s-" SOLV_CACHE_VERSION,
                 digest_hex(x->digest));
}

int source_index_bound(const char *name, int fd, const char *hint, uint64_t listed, const struct unpack_limits *limits,
                       uint64_t *ret, struct smith_error **err) {
        uint64_t max = unpack_limits_resolve(limits).max_index;
        char sz[UNPACK_SIZE_STR_MAX];
        int r;

        if (listed > 0) {
                *ret = listed;
                return 0;
        }
        r = index_measure(fd, hint, max, ret);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "index '%s': more than %s uncompressed (a decompression bomb? --max-index, "
                                 "SMITH_MAX_INDEX)",
                                 name, unpack_size_str(max, sz));
        if (r == -ENOMEM)
                return error_oom(err);
        if (r < 0)
                *ret = max; /* damaged: the parse says so */
        return 0;
}

int source_load_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x, bool rpm_md,
                      const struct unpack_limits *limits, bool *ret_parsed, struct smith_error **err) {
        uint64_t bound = 0;
        char name[sizeof("solv--" SOLV_CACHE_VERSION) + SHA256_HEX_LEN];
        _cleanup_(error_freep) struct smith_error *ignored = NULL;
        _cleanup_close_ int fd = -1;

        *ret_parsed = false;
        solv_cache_name(x, name);
        if (cache_pkgs_open(cache, name, &fd) == 0) {
                if (pkg_pool_add_saved_index(pool, x->name, x->base_uri, fd, &ignored) == 0)
                        return 0;
        }
        if (source_index_bound(x->name, x->fd, x->hint, x->open_size, limits, &bound, err) < 0)
                return -1;
        if ((rpm_md ? pkg_pool_add_rpmmd(pool, x->name, x->base_uri, x->fd, x->hint, bound, err)
                    : pkg_pool_add_index(pool, x->name, x->base_uri, x->fd, x->hint, bound, err)) < 0)
                return -1;
        *ret_parsed = true;
        return 0;
}

void source_save_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x) {
        char name[sizeof("solv--" SOLV_CACHE_VERSION) + SHA256_HEX_LEN];
        _cleanup_(error_freep) struct smith_error *ignored = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;

        solv_cache_name(x, name);
        if (cache_tmpfile(cache, &tmp, &fd, &ignored) < 0)
                return;
        if (pkg_pool_save_index(pool, x->name, fd, &ignored) < 0) {
                unlinkat(cache->tmp_fd, tmp, 0);
                return;
        }
        (void) cache_pkgs_commit(cache, tmp, name, &ignored);
}

int source_add_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x, bool rpm_md,
                     const struct unpack_limits *limits, struct smith_error **err) {
        bool parsed;

        if (source_load_index(pool, cache, x, rpm_md, limits, &parsed, err) < 0)
                return -1;
        if (parsed)
                source_save_index(pool, cache, x);
        return 0;
}

/* The packages smith.yaml asks for (and mock.deps): repository names and
 * local .deb files apart. */
int source_wanted_names(const struct smith_config *c, bool (*is_local)(const char *), char ***ret_wanted,
                        char ***ret_locals, struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL, **wanted = NULL, **locals = NULL;

        names = c->package_list ? strv_copy(c->package_list) : strv_split(c->package, " ", true);
        if (!names)
                return error_oom(err);
        for (size_t i = 0; c->mock.deps && c->mock.deps[i]; i++)
                if (!isempty(c->mock.deps[i]) && strv_extend(&names, c->mock.deps[i]) < 0)
                        return error_oom(err);
        for (size_t i = 0; names[i]; i++)
                if ((is_local(names[i]) ? strv_extend(&locals, names[i]) : strv_extend(&wanted, names[i])) < 0)
                        return error_oom(err);
        *ret_wanted = TAKE_PTR(wanted);
        *ret_locals = TAKE_PTR(locals);
        return 0;
}
