/* Fetching into memory and into the blob store; see fetch.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/progress.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "fetch.h"
#include "net/http.h"
#include "store/cache.h"

const char *pkg_file_url_path(const char *url) {
        if (strncasecmp(url, "file:", 5) != 0)
                return NULL;
        url += 5;
        if (strneq(url, "//", 2)) {
                url += 2;
                /* only an empty host ("file:///x") means this machine */
                if (url[0] != '/')
                        return NULL;
        }
        return url[0] == '/' ? url : NULL;
}

static bool status_missing(long status) {
        return status == 404 || status == 410;
}

int pkg_fetch_small(struct http *h, const char *url, size_t max, unsigned attempts, char **ret, size_t *ret_len,
                    bool *ret_unreachable, struct smith_error **err) {
        const char *path = pkg_file_url_path(url);
        _cleanup_free_ char *shown = NULL;
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = {};
        int r;

        if (ret_unreachable)
                *ret_unreachable = false;
        if (path) {
                r = read_file_at(AT_FDCWD, path, max, ret, ret_len);
                if (r == -ENOENT)
                        return 1;
                if (r == -EFBIG)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s' is larger than %zu bytes", path, max);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '%s'", path);
                return 0;
        }
        if (!h)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': not a local file", url);
        http_request_init(&rq, "GET", url);
        rq.follow = true;
        rq.max_body = max;
        rq.attempts = attempts;
        r = http_perform_retry(h, &rq, &rs, err);
        if (r < 0) {
                if (ret_unreachable)
                        *ret_unreachable = true;
                return -1;
        }
        if (status_missing(rs.status))
                return 1;
        shown = url_redact(url);
        if (rs.status != 200) {
                if (ret_unreachable)
                        *ret_unreachable = http_status_transient(rs.status);
                return error_set(err, SMITH_ERR_SOURCE, "GET '%s': HTTP %ld", shown ? shown : "(url)", rs.status);
        }
        if (!rs.body)
                return error_set(err, SMITH_ERR_SOURCE, "GET '%s': no body", shown ? shown : "(url)");
        *ret = TAKE_PTR(rs.body);
        if (ret_len)
                *ret_len = rs.body_len;
        return 0;
}

/* --- into the blob store --- */

/* Copies a local file into fd, hashing it, at most max + 1 bytes (so a
 * larger file shows). */
static int copy_local(const char *path, int fd, struct http_file_sink *s, uint64_t max, uint64_t *ret_n,
                      struct smith_error **err) {
        _cleanup_close_ int in = open(path, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        uint64_t n = 0;

        if (in < 0)
                return errno == ENOENT ? 1 : error_set_errno(err, SMITH_ERR_SOURCE, errno, "open '%s'", path);
        buf = malloc(1 << 16);
        s->hash = sha256_new();
        if (!buf || !s->hash)
                return error_oom(err);
        for (;;) {
                ssize_t k = read(in, buf, 1 << 16);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(err, SMITH_ERR_SOURCE, errno, "read '%s'", path);
                }
                if (k == 0)
                        break;
                n += (uint64_t) k;
                if (n > max)
                        break;
                sha256_update(s->hash, buf, (size_t) k);
                if (write_full(fd, buf, (size_t) k) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "write the cache");
        }
        *ret_n = n;
        return 0;
}

int pkg_fetch_blob(struct cache *c, struct http *h, const char *url, const char *what, const char *digest,
                   uint64_t size, struct smith_error **err) {
        const char *path = pkg_file_url_path(url);
        _cleanup_free_ char *name = NULL, *shown = NULL;
        _cleanup_close_ int fd = -1;
        struct http_file_sink s = { .fd = -1 };
        char got[DIGEST_STR_LEN + 1];
        uint64_t n = 0;
        int r;

        if (cache_has_blob(c, digest))
                return 0;
        if (!path && !h)
                return error_set(err, SMITH_ERR_SOURCE, "%s: not a local file", what);
        if (cache_tmpfile(c, &name, &fd, err) < 0)
                return -1;
        s.fd = fd;
        if (path)
                r = copy_local(path, fd, &s, size, &n, err);
        else {
                struct http_request rq;
                _cleanup_http_response_ struct http_response rs = {};

                http_request_init(&rq, "GET", url);
                rq.follow = true;
                http_request_sink_file(&rq, &s, fd, (int64_t) size);
                r = http_perform_retry(h, &rq, &rs, err);
                if (r >= 0 && status_missing(rs.status))
                        r = 1;
                else if (r >= 0 && rs.status != 200) {
                        shown = url_redact(url);
                        r = error_set(err, SMITH_ERR_SOURCE, "GET '%s': HTTP %ld", shown ? shown : "(url)", rs.status);
                } else if (r >= 0)
                        n = (uint64_t) rs.sink_written;
        }
        if (r == 0 && n != size)
                r = error_set(err, SMITH_ERR_SOURCE, "%s: size %s %llu bytes, the signed metadata says %llu", what,
                              n > size ? "exceeds" : "is", (unsigned long long) n, (unsigned long long) size);
        if (r == 0) {
                sha256_final_digest(s.hash, got);
                if (!streq(got, digest))
                        r = error_set(err, SMITH_ERR_SOURCE,
                                      "%s: checksum mismatch: content is '%s', the signed "
                                      "metadata says '%s'",
                                      what, got, digest);
        }
        http_file_sink_release(&s);
        if (r != 0) {
                unlinkat(c->tmp_fd, name, 0);
                return r < 0 ? error_wrap(err, "fetch %s", what) : 1;
        }
        return cache_blob_commit(c, fd, name, digest, err);
}

/* --- in parallel --- */

struct pool {
        struct cache *cache;
        const struct http_opts *ho;
        const struct pkg_fetch_item *items;
        size_t n, next;
        bool failed;
        struct smith_error *error;
        pthread_mutex_t lock;
};

static void *worker(void *ud) {
        struct pool *p = ud;
        _cleanup_(http_freep) struct http *h = NULL;
        struct smith_error *e = NULL;

        if (http_new(p->ho, &h, &e) < 0)
                goto fail;
        for (;;) {
                const struct pkg_fetch_item *it;
                int r;

                pthread_mutex_lock(&p->lock);
                if (p->failed || p->next >= p->n) {
                        pthread_mutex_unlock(&p->lock);
                        return NULL;
                }
                it = &p->items[p->next++];
                pthread_mutex_unlock(&p->lock);
                r = pkg_fetch_blob(p->cache, h, it->url, it->what, it->digest, it->size, &e);
                if (r > 0) {
                        _cleanup_free_ char *shown = url_redact(it->url);
                        error_set(&e, SMITH_ERR_SOURCE, "fetch %s: '%s' not found", it->what, shown ? shown : it->url);
                }
                if (r != 0)
                        goto fail;
                progress_add(it->size);
        }
fail:
        pthread_mutex_lock(&p->lock);
        if (!p->error)
                p->error = TAKE_PTR(e);
        p->failed = true;
        pthread_mutex_unlock(&p->lock);
        error_free(e);
        return NULL;
}

int pkg_fetch_blobs(struct cache *c, const struct http_opts *ho, const struct pkg_fetch_item *items, size_t n,
                    unsigned workers, struct smith_error **err) {
        struct pool p = { .cache = c, .ho = ho, .items = items, .n = n };
        pthread_t t[16];
        size_t started = 0;
        size_t missing = 0;

        uint64_t bytes = 0;

        for (size_t i = 0; i < n; i++)
                if (!cache_has_blob(c, items[i].digest)) {
                        missing++;
                        bytes += items[i].size;
                }
        if (missing == 0)
                return 0;
        progress_start("fetch", bytes);
        workers = (unsigned) MIN((size_t) MIN(workers, ELEMENTSOF(t)), missing);
        pthread_mutex_init(&p.lock, NULL);
        for (unsigned i = 0; i < workers; i++) {
                if (pthread_create(&t[started], NULL, worker, &p) != 0)
                        break;
                started++;
        }
        if (started == 0)
                worker(&p);
        for (size_t i = 0; i < started; i++)
                pthread_join(t[i], NULL);
        progress_stop();
        pthread_mutex_destroy(&p.lock);
        if (p.error) {
                if (err && !*err)
                        *err = p.error;
                else
                        error_free(p.error);
                return -1;
        }
        return p.failed ? error_set(err, SMITH_ERR_IO, "fetch failed") : 0;
}
