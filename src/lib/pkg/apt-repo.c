/* Repository metadata: InRelease -> Release -> Packages; see apt-repo.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "apt-release.h"
#include "apt-repo.h"
#include "apt-verify.h"
#include "fetch.h"
#include "repo-meta.h"
#include "net/http.h"
#include "store/cache.h"

void apt_indexes_release(struct apt_indexes *x) {
        for (size_t i = 0; i < x->n; i++) {
                free_many(x->items[i].name, x->items[i].base_uri, x->items[i].hint);
                if (x->items[i].fd >= 0)
                        close(x->items[i].fd);
        }
        free(x->items);
        x->items = NULL;
        x->n = 0;
}

void apt_format_age(time_t s, char *buf, size_t len) {
        pkg_format_age(s, buf, len);
}

/* Where the suite's files live: URI/dists/suite/, or URI/suite for a flat
 * repository ("./" is the URI itself). */
static char *dist_url(const struct apt_source *src) {
        const char *suite = src->suite;
        size_t n = strlen(suite);
        char *r;

        if (suite[n - 1] == '/') {
                if (streq(suite, "./") || streq(suite, "/"))
                        r = strdup(src->uri);
                else if (asprintf(&r, "%s/%.*s", src->uri, (int) (n - 1), suite) < 0)
                        r = NULL;
        } else if (asprintf(&r, "%s/dists/%s", src->uri, suite) < 0)
                r = NULL;
        return r;
}

/* pkgs/<prefix>-<hash of the URI and suite>: "inrelease", or "release"
 * and "releasegpg" for a repository that publishes only the pair. */
static int cache_name(const struct apt_source *src, const char *prefix, char ret[static 11 + SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1];

        if (asprintf(&id, "apt\n%s\n%s", src->uri, src->suite) < 0)
                return -ENOMEM;
        sha256_digest_of(id, strlen(id), d);
        snprintf(ret, 11 + SHA256_HEX_LEN + 1, "%.10s-%s", prefix, digest_hex(d));
        return 0;
}

/* What a signature check depends on: the InRelease bytes and every key it
 * is checked against (the keyring files' contents and the inline key), as
 * a sha256 in hex.  -1 when a keyring cannot be read: gpgv then says why. */
static int verify_id(const char *data, size_t len, char *const *keyrings, const char *inline_key,
                     char ret[static SHA256_HEX_LEN + 1]) {
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        char d[DIGEST_STR_LEN + 1], n[32];

        if (!h)
                return -ENOMEM;
        sha256_update(h, "smith inrelease verified 1\n", 27);
        snprintf(n, sizeof(n), "%zu\n", len);
        sha256_update(h, n, strlen(n));
        sha256_update(h, data, len);
        for (size_t i = 0; keyrings && keyrings[i]; i++) {
                _cleanup_free_ char *k = NULL;
                size_t klen = 0;
                int r = read_file_at(AT_FDCWD, keyrings[i], APT_KEYRING_MAX_SIZE, &k, &klen);

                if (r < 0)
                        return r;
                snprintf(n, sizeof(n), "\nkeyring %zu\n", klen);
                sha256_update(h, n, strlen(n));
                sha256_update(h, keyrings[i], strlen(keyrings[i]) + 1);
                sha256_update(h, k, klen);
        }
        if (inline_key) {
                snprintf(n, sizeof(n), "\ninline %zu\n", strlen(inline_key));
                sha256_update(h, n, strlen(n));
                sha256_update(h, inline_key, strlen(inline_key));
        }
        sha256_final_digest(h, d);
        memcpy(ret, digest_hex(d), SHA256_HEX_LEN + 1);
        return 0;
}

/* The text gpgv gave for exactly these bytes and keys, kept beside the
 * cached InRelease (<name>.verified: the verify_id() line, then the text),
 * so that an unchanged InRelease is not checked again. */
static int verified_read(struct cache *c, const char *name, const char *id, char **ret, size_t *ret_len) {
        _cleanup_free_ char *side = NULL, *all = NULL;
        size_t n = 0;

        if (asprintf(&side, "%s.verified", name) < 0)
                return -ENOMEM;
        if (cache_pkgs_read(c, side, APT_INRELEASE_MAX + SHA256_HEX_LEN + 1, &all, &n, NULL) < 0)
                return -ENOENT;
        if (n < SHA256_HEX_LEN + 1 || memcmp(all, id, SHA256_HEX_LEN) != 0 || all[SHA256_HEX_LEN] != '\n')
                return -ENOENT;
        memmove(all, all + SHA256_HEX_LEN + 1, n - SHA256_HEX_LEN - 1);
        all[n - SHA256_HEX_LEN - 1] = '\0';
        *ret_len = n - SHA256_HEX_LEN - 1;
        *ret = TAKE_PTR(all);
        return 0;
}

static void verified_write(struct cache *c, const char *name, const char *id, const char *text, size_t len) {
        _cleanup_(error_freep) struct smith_error *ignored = NULL;
        _cleanup_free_ char *side = NULL, *all = malloc(SHA256_HEX_LEN + 1 + len);

        if (!all || asprintf(&side, "%s.verified", name) < 0)
                return;
        memcpy(all, id, SHA256_HEX_LEN);
        all[SHA256_HEX_LEN] = '\n';
        memcpy(all + SHA256_HEX_LEN + 1, text, len);
        (void) cache_pkgs_write(c, side, all, SHA256_HEX_LEN + 1 + len, &ignored);
}

/* The keyrings a signed source is checked against: its Signed-By, else
 * apt's defaults (*defaults, the caller's to free). */
static int source_keyrings(const struct apt_source *src, char ***defaults, char *const **ret,
                           struct smith_error **err) {
        if (!src->signed_by && !src->signed_by_key) {
                if (apt_default_keyrings(defaults, err) < 0)
                        return -1;
                if (!*defaults)
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "no trusted keys (no Signed-By and nothing in "
                                         "/etc/apt/trusted.gpg.d)");
        }
        *ret = src->signed_by ? src->signed_by : *defaults;
        return 0;
}

/* The text of a Release with its detached signature Release.gpg, checked
 * by the same rules as InRelease: the signature is over exactly these
 * bytes. */
static int release_text_detached(const struct apt_source *src, const char *data, size_t len, const char *sig,
                                 size_t sig_len, char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_strv_free_ char **defaults = NULL;
        char *const *keyrings = NULL;

        if (source_keyrings(src, &defaults, &keyrings, err) < 0 ||
            apt_verify_detached("Release", data, len, sig, sig_len, keyrings, src->signed_by_key, err) < 0)
                return -1;
        *ret = strndup(data, len);
        if (!*ret)
                return error_oom(err);
        *ret_len = len;
        return 0;
}

/* The Release text of signed, by the source's rules.  unchanged: signed is
 * byte for byte the cached InRelease (name), which a build verified
 * before; its text is then taken from that check if the keys are the same
 * too.  Only gpgv's word is ever written there. */
static int release_text(const struct apt_source *src, struct cache *cache, const char *name, bool unchanged,
                        const char *signed_, size_t len, char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_strv_free_ char **defaults = NULL;
        char id[SHA256_HEX_LEN + 1];
        char *const *keyrings = NULL;
        bool have_id;
        int r;

        if (src->trusted) {
                r = apt_clearsigned_text(signed_, len, ret, ret_len);
                if (r == -ENOMEM)
                        return error_oom(err);
                if (r < 0)
                        return error_set(err, SMITH_ERR_SOURCE, "InRelease: malformed clearsigned message");
                return 0;
        }
        if (source_keyrings(src, &defaults, &keyrings, err) < 0)
                return -1;
        have_id = verify_id(signed_, len, keyrings, src->signed_by_key, id) == 0;
        if (have_id && unchanged && verified_read(cache, name, id, ret, ret_len) == 0)
                return 0;
        if (apt_verify_inrelease(signed_, len, keyrings, src->signed_by_key, ret, ret_len, err) < 0)
                return -1;
        if (have_id)
                verified_write(cache, name, id, *ret, *ret_len);
        return 0;
}

static void format_date(time_t t, char buf[static 64]) {
        struct tm tm;

        if (!gmtime_r(&t, &tm) || strftime(buf, 64, "%a, %d %b %Y %H:%M:%S UTC", &tm) == 0)
                snprintf(buf, 64, "%lld", (long long) t);
}

/* A fetched Release older than the copy the cache holds for the same
 * repository is refused, as apt refuses it: a mirror (or someone between)
 * serving an old, validly signed Release would otherwise roll the
 * repository back to packages with known holes.  The cached copy passed
 * verification when it was stored, so only its Date is read here. */
static int check_rollback(const char *shown, const struct apt_release *fresh, const char *cached, size_t cached_len,
                          time_t now_time, struct smith_error **err) {
        _cleanup_free_ char *text = NULL;
        struct apt_release old = {};
        char was[64], now[64];
        size_t len = 0;
        time_t old_date;

        if (!cached || fresh->date == 0)
                return 0;
        if (apt_clearsigned_text(cached, cached_len, &text, &len) < 0) {
                /* an unsigned Release (trusted: true) */
                free(text);
                text = strndup(cached, cached_len);
                len = cached_len;
                if (!text)
                        return error_oom(err);
        }
        if (apt_release_parse(text, len, &old, NULL) < 0)
                return 0; /* unreadable: nothing to compare with, it is replaced */
        old_date = old.date;
        apt_release_release(&old);
        /* a copy dated in the future (stored before such a date was
         * refused) would make every honest Release look like a rollback:
         * it is not compared with, and the fresh one replaces it */
        if (old_date == 0 || fresh->date >= old_date || old_date > now_time + APT_RELEASE_FUTURE_SKEW)
                return 0;
        format_date(fresh->date, now);
        format_date(old_date, was);
        return error_set(
                err, SMITH_ERR_SOURCE,
                "repository '%s': Release Date '%s' is older than the cached copy's '%s': refusing the rollback", shown,
                now, was);
}

/* Release and Release.gpg, for a repository without InRelease (many
 * third-party and older ones publish only the pair, and apt reads it):
 * each fetched as InRelease is (repo-meta.h), under names of their own.
 * Returns as pkg_meta_fetch(): 1 when either is missing. */
static int fetch_pair(const struct apt_source *src, const struct apt_repo_opts *o, const char *shown, const char *base,
                      struct pkg_meta *rel, struct pkg_meta_request *rel_rq, struct pkg_meta *sig,
                      struct pkg_meta_request *sig_rq, char names[static 2][11 + SHA256_HEX_LEN + 1],
                      char **ret_rel_url, char **ret_sig_url, struct smith_error **err) {
        int r;

        if (cache_name(src, "release", names[0]) < 0 || cache_name(src, "releasegpg", names[1]) < 0 ||
            asprintf(ret_rel_url, "%s/Release", base) < 0 || asprintf(ret_sig_url, "%s/Release.gpg", base) < 0)
                return error_oom(err);
        *rel_rq = (struct pkg_meta_request){ .name = names[0],
                                             .url = *ret_rel_url,
                                             .shown = shown,
                                             .max = APT_INRELEASE_MAX,
                                             .fast = o->fast,
                                             .now = o->now };
        *sig_rq = *rel_rq;
        sig_rq->name = names[1];
        sig_rq->url = *ret_sig_url;
        sig_rq->max = APT_RELEASE_GPG_MAX;
        r = pkg_meta_fetch(o->cache, o->http, rel_rq, rel, err);
        if (r != 0)
                return r;
        return pkg_meta_fetch(o->cache, o->http, sig_rq, sig, err);
}

static bool cached_exists(struct cache *c, const char *name) {
        _cleanup_close_ int fd = -1;
        return cache_pkgs_open(c, name, &fd) == 0;
}

/* Fetches (conditionally, or takes from the cache: repo-meta.h) and
 * verifies the suite's Release: InRelease, else Release with
 * Release.gpg. */
static int load_release(const struct apt_source *src, const struct apt_repo_opts *o, const char *shown,
                        struct apt_release *ret, struct smith_error **err) {
        _cleanup_free_ char *base = dist_url(src), *url = NULL, *text = NULL, *rel_url = NULL, *sig_url = NULL;
        _cleanup_(pkg_meta_release) struct pkg_meta m = {}, sig = {};
        char name[11 + SHA256_HEX_LEN + 1], pair_names[2][11 + SHA256_HEX_LEN + 1];
        struct pkg_meta_request rq, sig_rq = {};
        size_t text_len = 0;
        bool unchanged, detached = false;
        char when[64];
        int r;

        if (!base || cache_name(src, "inrelease", name) < 0 || asprintf(&url, "%s/InRelease", base) < 0)
                return error_oom(err);
        rq = (struct pkg_meta_request){
                .name = name, .url = url, .shown = shown, .max = APT_INRELEASE_MAX, .fast = o->fast, .now = o->now
        };
        r = pkg_meta_fetch(o->cache, o->http, &rq, &m, err);
        if (r == 1 && src->trusted) {
                /* an unsigned repository may have only Release */
                free(url);
                if (asprintf(&url, "%s/Release", base) < 0)
                        return error_oom(err);
                rq.url = url;
                r = pkg_meta_fetch(o->cache, o->http, &rq, &m, err);
        } else if (!src->trusted && (r == 1 || (r < 0 && cache_name(src, "release", pair_names[0]) == 0 &&
                                                cached_exists(o->cache, pair_names[0])))) {
                /* no InRelease (or, unreachable, a repository known to
                 * publish only the pair) */
                if (r < 0)
                        error_free(TAKE_PTR(*err));
                pkg_meta_release(&m);
                r = fetch_pair(src, o, shown, base, &m, &rq, &sig, &sig_rq, pair_names, &rel_url, &sig_url, err);
                if (r == 1 && sig_url && m.data)
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "repository '%s': no InRelease at '%s', and Release is not signed (no "
                                         "Release.gpg at '%s')",
                                         shown, url, sig_url);
                detached = true;
        }
        if (r == 1)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': no InRelease at '%s'", shown, url);
        if (r < 0)
                return error_wrap(err, "repository '%s'", shown);
        /* the cached copy (a 304, or offline), or a new one byte for byte the same */
        unchanged = m.from != PKG_META_FETCHED ||
                    (m.cached && m.cached_len == m.len && memcmp(m.cached, m.data, m.len) == 0);
        r = detached ? release_text_detached(src, m.data, m.len, sig.data, sig.len, &text, &text_len, err)
                     : release_text(src, o->cache, name, unchanged, m.data, m.len, &text, &text_len, err);
        if (r < 0)
                return error_wrap(err, "repository '%s'", shown);
        r = apt_release_parse(text, text_len, ret, err);
        if (r < 0)
                return error_wrap(err, "repository '%s'", shown);
        /* apt's "not valid yet": a Release dated ahead of the clock, beyond
         * a small skew, is refused whatever its origin (a cached one too) */
        if (ret->date > o->now + APT_RELEASE_FUTURE_SKEW) {
                format_date(ret->date, when);
                apt_release_release(ret);
                return error_set(err, SMITH_ERR_SOURCE,
                                 "repository '%s': Release Date '%s' is in the future (not valid yet)", shown, when);
        }
        /* what the server says is current (a new copy, or a 304) must not have expired */
        if (m.from != PKG_META_CACHED && ret->valid_until != 0 && ret->valid_until < o->now) {
                apt_release_release(ret);
                return error_set(err, SMITH_ERR_SOURCE,
                                 "repository '%s': Release expired (Valid-Until is in the "
                                 "past)",
                                 shown);
        }
        if (m.from == PKG_META_FETCHED && check_rollback(shown, ret, m.cached, m.cached_len, o->now, err) < 0) {
                apt_release_release(ret);
                return -1;
        }
        if (pkg_meta_store(o->cache, &rq, &m, err) < 0 ||
            (detached && pkg_meta_store(o->cache, &sig_rq, &sig, err) < 0)) {
                apt_release_release(ret);
                return -1;
        }
        return 0;
}

static int add_index(struct apt_indexes *out, const char *name, const char *base_uri, const char *hint, int fd,
                     const char *digest, uint64_t open_size, struct smith_error **err) {
        struct apt_index *items = realloc(out->items, (out->n + 1) * sizeof(*items));
        struct apt_index *x;

        if (!items) {
                close(fd);
                return error_oom(err);
        }
        out->items = items;
        x = &out->items[out->n++];
        *x = (struct apt_index){ .fd = fd,
                                 .name = strdup(name),
                                 .base_uri = strdup(base_uri),
                                 .hint = strdup(hint),
                                 .open_size = open_size };
        memcpy(x->digest, digest, sizeof(x->digest));
        if (!x->name || !x->base_uri || !x->hint)
                return error_oom(err);
        return 0;
}

/* One component's Packages: the first compression listed and served, gzip
 * before xz.  A gzip index is a third larger than its xz twin, but inflates
 * about five times faster, and a cold build otherwise spends half its CPU
 * time in xz (bookworm's main: 12 MB against 8.8 MB, 0.25 s against 1 s of
 * CPU); both are checked against the same signed sha256 and size. */
static int load_component(const struct apt_source *src, const struct apt_repo_opts *o, const struct apt_release *rel,
                          const char *shown, const char *component, struct apt_indexes *out, struct smith_error **err) {
        static const char *const exts[] = { ".gz", ".xz", "" };
        _cleanup_free_ char *base = dist_url(src), *iname = NULL, *plain = NULL;
        const struct apt_release_file *open_entry;
        uint64_t open_size = 0;
        bool listed = false;

        if (!base)
                return error_oom(err);
        if (asprintf(&iname, "%s%s%s", shown, component ? " " : "", component ? component : "") < 0)
                return error_oom(err);
        /* the size decompressed, from the plain Packages entry (which
         * Debian lists whether it serves the file or not): an index
         * larger than the limit is refused before it is fetched, and any
         * other is never read past that size */
        if (component ? asprintf(&plain, "%s/binary-%s/Packages", component, o->arch) < 0
                      : !(plain = strdup("Packages")))
                return error_oom(err);
        open_entry = apt_release_find(rel, plain);
        if (open_entry) {
                open_size = open_entry->size;
                if (o->max_index && open_size > o->max_index)
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "repository '%s': '%s' is %llu bytes uncompressed, more than the "
                                         "--max-index limit of %llu (SMITH_MAX_INDEX)",
                                         shown, plain, (unsigned long long) open_size,
                                         (unsigned long long) o->max_index);
        }
        for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
                _cleanup_free_ char *path = NULL, *url = NULL, *what = NULL;
                const struct apt_release_file *f;
                char digest[DIGEST_STR_LEN + 1];
                int fd = -1, r;

                if (component)
                        r = asprintf(&path, "%s/binary-%s/Packages%s", component, o->arch, exts[i]);
                else
                        r = asprintf(&path, "Packages%s", exts[i]);
                if (r < 0)
                        return error_oom(err);
                f = apt_release_find(rel, path);
                if (!f)
                        continue;
                listed = true;
                snprintf(digest, sizeof(digest), "sha256:%s", f->sha256);
                if (asprintf(&what, "'%s' of '%s'", path, shown) < 0)
                        return error_oom(err);
                if (!cache_has_blob(o->cache, digest)) {
                        r = -1;
                        if (rel->acquire_by_hash && component) {
                                if (asprintf(&url, "%s/%s/binary-%s/by-hash/SHA256/%s", base, component, o->arch,
                                             f->sha256) < 0)
                                        return error_oom(err);
                                r = pkg_fetch_blob(o->cache, o->http, url, what, digest, f->size, err);
                                if (r < 0)
                                        return -1;
                                free(TAKE_PTR(url));
                        }
                        if (r != 0) {
                                if (asprintf(&url, "%s/%s", base, path) < 0)
                                        return error_oom(err);
                                r = pkg_fetch_blob(o->cache, o->http, url, what, digest, f->size, err);
                                if (r < 0)
                                        return -1;
                                if (r > 0)
                                        continue; /* listed but not served (Debian lists plain Packages) */
                        }
                }
                r = blob_open(o->cache->blobs_fd, digest, &fd);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "open %s", what);
                return add_index(out, iname, src->uri, strrchr(path, '/') ? strrchr(path, '/') + 1 : path, fd, digest,
                                 open_size, err);
        }
        if (listed)
                return error_set(err, SMITH_ERR_SOURCE, "repository '%s': no Packages index for '%s' on the server",
                                 shown, component ? component : ".");
        return error_set(err, SMITH_ERR_SOURCE, "repository '%s': Release lists no Packages index for '%s' (%s)", shown,
                         component ? component : ".", o->arch);
}

int apt_repo_load(const struct apt_source *src, const struct apt_repo_opts *o, struct apt_indexes *out,
                  struct smith_error **err) {
        _cleanup_free_ char *shown = apt_source_name(src);
        struct apt_release rel = {};
        int r = 0;

        if (!shown)
                return error_oom(err);
        if (load_release(src, o, shown, &rel, err) < 0)
                return -1;
        if (!src->components)
                r = load_component(src, o, &rel, shown, NULL, out, err);
        for (size_t i = 0; r >= 0 && src->components && src->components[i]; i++)
                r = load_component(src, o, &rel, shown, src->components[i], out, err);
        apt_release_release(&rel);
        return r;
}
