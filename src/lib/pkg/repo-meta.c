/* A repository's top metadata file, conditional and offline; see
 * repo-meta.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "fetch.h"
#include "net/http.h"
#include "repo-meta.h"
#include "store/cache.h"

#define VALIDATOR_MAX 256
#define VALIDATORS_FILE_MAX 4096

void pkg_format_age(time_t s, char *buf, size_t len) {
        static const struct {
                time_t secs;
                const char *unit;
        } units[] = { { 86400, "day" }, { 3600, "hour" }, { 60, "minute" }, { 1, "second" } };

        if (s < 1)
                s = 0;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (s >= units[i].secs || i + 1 == ELEMENTSOF(units)) {
                        long long n = (long long) (s / units[i].secs);
                        snprintf(buf, len, "%lld %s%s ago", n, units[i].unit, n == 1 ? "" : "s");
                        return;
                }
}

void pkg_meta_release(struct pkg_meta *m) {
        free_many(m->data, m->cached, m->etag, m->last_modified);
        *m = (struct pkg_meta){};
}

/* A validator as a server sent it, kept only when it is short and
 * printable (it goes back into a header line). */
static char *validator(const char *v) {
        size_t n = v ? strlen(v) : 0;

        if (n == 0 || n > VALIDATOR_MAX)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) v[i] < 0x20 || (unsigned char) v[i] > 0x7e)
                        return NULL;
        return strdup(v);
}

/* --- pkgs/<name>.http: "sha256:<hex of the copy>\nURL\nETag\nLast-Modified\n" --- */

static int write_validators(struct cache *c, const char *name, const char *url, const char *data, size_t len,
                            const char *etag, const char *last_modified, struct smith_error **err) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        char d[DIGEST_STR_LEN + 1];

        sha256_digest_of(data, len, d);
        if (asprintf(&file, "%s.http", name) < 0 ||
            asprintf(&text, "%s\n%s\n%s\n%s\n", d, url, etag ? etag : "", last_modified ? last_modified : "") < 0)
                return error_oom(err);
        return cache_pkgs_write(c, file, text, strlen(text), err);
}

/* The validators stored for the cached copy data, when they belong to it
 * (its sha256) and to url; *ret_time is when they were last confirmed. */
static void read_validators(struct cache *c, const char *name, const char *url, const char *data, size_t len,
                            char **ret_etag, char **ret_last_modified, time_t *ret_time) {
        _cleanup_free_ char *file = NULL, *text = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        char d[DIGEST_STR_LEN + 1];
        size_t n = 0;
        time_t t = 0;

        if (asprintf(&file, "%s.http", name) < 0 || cache_pkgs_read(c, file, VALIDATORS_FILE_MAX, &text, &n, &t) < 0)
                return;
        lines = strv_split(text, "\n", false);
        sha256_digest_of(data, len, d);
        if (!lines || strv_length(lines) < 4 || !streq(lines[0], d) || !streq(lines[1], url))
                return;
        *ret_etag = validator(lines[2]);
        *ret_last_modified = validator(lines[3]);
        *ret_time = t;
}

/* --- fetching --- */

static int add_header(char ***headers, const char *name, const char *value) {
        char *line;

        if (!value)
                return 0;
        if (asprintf(&line, "%s: %s", name, value) < 0)
                return -ENOMEM;
        return strv_consume(headers, line);
}

static int use_cached(struct pkg_meta *m, enum pkg_meta_from from) {
        m->from = from;
        /* byte for byte: a detached signature (Release.gpg) is binary */
        m->data = malloc(m->cached_len + 1);
        if (!m->data)
                return -ENOMEM;
        memcpy(m->data, m->cached, m->cached_len);
        m->data[m->cached_len] = '\0';
        m->len = m->cached_len;
        return 0;
}

int pkg_meta_fetch(struct cache *c, struct http *h, const struct pkg_meta_request *rq, struct pkg_meta *ret,
                   struct smith_error **err) {
        _cleanup_(pkg_meta_release) struct pkg_meta m = {};
        _cleanup_(error_freep) struct smith_error *fetch_err = NULL;
        _cleanup_free_ char *etag = NULL, *last_modified = NULL, *shown = NULL;
        _cleanup_strv_free_ char **headers = NULL;
        _cleanup_http_response_ struct http_response rs = {};
        struct http_request hr;
        time_t when = 0;
        char age[64];
        bool unreachable = false;
        int r;

        if (cache_pkgs_read(c, rq->name, rq->max, &m.cached, &m.cached_len, &m.cached_time) < 0) {
                free(m.cached);
                m.cached = NULL;
                m.cached_len = 0;
                m.cached_time = 0;
        }
        if (m.cached) {
                if (rq->fast) {
                        if (use_cached(&m, PKG_META_CACHED) < 0)
                                return error_oom(err);
                        *ret = m;
                        m = (struct pkg_meta){};
                        return 0;
                }
                read_validators(c, rq->name, rq->url, m.cached, m.cached_len, &etag, &last_modified, &when);
                if (when > m.cached_time)
                        m.cached_time = when;
        }
        if (pkg_file_url_path(rq->url) || !h) {
                /* a local file: nothing to make conditional */
                r = pkg_fetch_small(h, rq->url, rq->max, m.cached ? 2 : 0, &m.data, &m.len, &unreachable, &fetch_err);
                if (r == 1)
                        return 1;
                if (r == 0) {
                        m.from = PKG_META_FETCHED;
                        *ret = m;
                        m = (struct pkg_meta){};
                        return 0;
                }
        } else {
                if (add_header(&headers, "If-None-Match", etag) < 0 ||
                    add_header(&headers, "If-Modified-Since", last_modified) < 0)
                        return error_oom(err);
                http_request_init(&hr, "GET", rq->url);
                hr.follow = true;
                hr.max_body = rq->max;
                /* with a copy to fall back on, do not wait long for a server that is gone */
                hr.attempts = m.cached ? 2 : 0;
                hr.headers = headers;
                r = http_perform_retry(h, &hr, &rs, &fetch_err);
                shown = url_redact(rq->url);
                if (r < 0)
                        unreachable = true;
                else if (rs.status == 404 || rs.status == 410)
                        return 1;
                else if (rs.status == 304 && headers) {
                        if (use_cached(&m, PKG_META_NOT_MODIFIED) < 0)
                                return error_oom(err);
                        /* confirmed current now: what the age in a later warning counts from */
                        if (write_validators(c, rq->name, rq->url, m.cached, m.cached_len, etag, last_modified, err) <
                            0)
                                return -1;
                        m.cached_time = rq->now;
                        *ret = m;
                        m = (struct pkg_meta){};
                        return 0;
                } else if (rs.status == 200 && rs.body) {
                        m.from = PKG_META_FETCHED;
                        m.data = TAKE_PTR(rs.body);
                        m.len = rs.body_len;
                        m.etag = validator(rs.etag);
                        m.last_modified = validator(rs.last_modified);
                        *ret = m;
                        m = (struct pkg_meta){};
                        return 0;
                } else {
                        unreachable = http_status_transient(rs.status);
                        error_set(&fetch_err, SMITH_ERR_SOURCE, "GET '%s': HTTP %ld", shown ? shown : "(url)",
                                  rs.status);
                }
        }
        if (!unreachable || !m.cached) {
                *err = TAKE_PTR(fetch_err);
                return -1;
        }
        pkg_format_age(rq->now - m.cached_time, age, sizeof(age));
        log_warn("repository '%s' unreachable: using metadata from %s", rq->shown, age);
        if (use_cached(&m, PKG_META_CACHED) < 0)
                return error_oom(err);
        *ret = m;
        m = (struct pkg_meta){};
        return 0;
}

int pkg_meta_store(struct cache *c, const struct pkg_meta_request *rq, const struct pkg_meta *m,
                   struct smith_error **err) {
        if (m->from != PKG_META_FETCHED)
                return 0;
        /* the validators first: until the copy is renamed in, they name another copy and are ignored */
        if (write_validators(c, rq->name, rq->url, m->data, m->len, m->etag, m->last_modified, err) < 0)
                return -1;
        if (m->cached && m->cached_len == m->len && memcmp(m->cached, m->data, m->len) == 0)
                return 0;
        return cache_pkgs_write(c, rq->name, m->data, m->len, err);
}
