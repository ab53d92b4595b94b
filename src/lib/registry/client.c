/* The registry client: pull (manifest, index -> platform, config, layers
 * into the cache's verified blob store) and push (HEAD, cross-repository
 * mount, POST + PUT or PATCH chunks, manifest PUT), over http.c with the
 * authentication of auth.c, retrying with capped exponential backoff on
 * connection errors, 429 and 5xx.
 *
 * Blobs stream: a download is written to a cache temp file while it is
 * hashed and is committed only when its size and digest match; an upload
 * is read from its file with pread().  Nothing holds a layer in memory. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "basic/env.h"
#include "basic/fs.h"
#include "basic/strv.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "registry-internal.h"
#include "store/cache.h"

#define ACCEPT_MANIFESTS \
        "Accept: " OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " DOCKER_MT_MANIFEST ", " DOCKER_MT_MANIFEST_LIST
#define SEEN_MAX 65536

/* --- blobs seen in this process, for cross-repository mounts --- */

struct seen_blob {
        char *host;
        char *repository;
        char digest[DIGEST_STR_LEN + 1];
};

static struct seen_blob *seen;
static size_t n_seen;

static void seen_add(const char *host, const char *repository, const char *digest) {
        struct seen_blob *n;
        for (size_t i = 0; i < n_seen; i++)
                if (streq(seen[i].digest, digest) && streq(seen[i].host, host) && streq(seen[i].repository, repository))
                        return;
        if (n_seen >= SEEN_MAX)
                return;
        n = realloc(seen, (n_seen + 1) * sizeof(*seen));
        if (!n)
                return;
        seen = n;
        seen[n_seen].host = strdup(host);
        seen[n_seen].repository = strdup(repository);
        snprintf(seen[n_seen].digest, sizeof(seen[n_seen].digest), "%s", digest);
        if (!seen[n_seen].host || !seen[n_seen].repository) {
                free(seen[n_seen].host);
                free(seen[n_seen].repository);
                return;
        }
        n_seen++;
}

static const char *seen_elsewhere(const char *host, const char *repository, const char *digest) {
        for (size_t i = 0; i < n_seen; i++)
                if (streq(seen[i].digest, digest) && streq(seen[i].host, host) &&
                    !streq(seen[i].repository, repository))
                        return seen[i].repository;
        return NULL;
}

void registry_forget_blobs(void) {
        for (size_t i = 0; i < n_seen; i++) {
                free(seen[i].host);
                free(seen[i].repository);
        }
        free(seen);
        seen = NULL;
        n_seen = 0;
}

/* --- error answers --- */

/* At most 200 bytes of s, control characters as spaces. */
static char *sanitize_for_msg(const char *s) {
        size_t n = strnlen(s, 200);
        char *r = strndup(s, n);
        if (!r)
                return NULL;
        for (char *p = r; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = ' ';
        return r;
}

static const char *status_text(long status) {
        switch (status) {
        case 400:
                return "bad request";
        case 401:
                return "authentication required";
        case 403:
                return "access denied";
        case 404:
                return "not found";
        case 405:
                return "operation not supported by the registry";
        case 413:
                return "too large for the registry";
        case 416:
                return "range not satisfiable";
        case 429:
                return "too many requests";
        case 500:
                return "internal server error";
        case 502:
                return "bad gateway";
        case 503:
                return "service unavailable";
        case 504:
                return "gateway timeout";
        default:
                return "unexpected answer";
        }
}

char *registry_error_message(const char *body, size_t len, long status) {
        json_t *j = NULL;
        const char *msg = NULL;
        _cleanup_free_ char *clean = NULL, *code_text = NULL;
        char *r = NULL;

        if (body && len > 0)
                j = json_loadb(body, len, 0, NULL);
        if (json_is_object(j)) {
                json_t *errors = json_object_get(j, "errors");
                json_t *first = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
                if (json_is_object(first)) {
                        msg = json_string_value(json_object_get(first, "message"));
                        if (isempty(msg)) {
                                const char *code = json_string_value(json_object_get(first, "code"));
                                if (!isempty(code)) {
                                        code_text = strdup(code);
                                        for (char *p = code_text; p && *p; p++)
                                                *p = *p == '_' ? ' '
                                                               : (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                                        msg = code_text;
                                }
                        }
                }
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "message"));
                /* OAuth2 (RFC 6749 5.2): the description says more than the code */
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "error_description"));
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "error"));
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "details"));
        }
        if (!isempty(msg))
                clean = sanitize_for_msg(msg);
        if (asprintf(&r, "%s (%ld)", clean ? clean : status_text(status), status) < 0)
                r = NULL;
        json_decref(j);
        return r;
}

/* --- the client --- */

int registry_client_new(const struct registry_ref *ref, const struct registry_opts *o, struct registry_client **ret,
                        struct smith_error **err) {
        _cleanup_(registry_client_freep) struct registry_client *c = NULL;
        struct registry_opts none = { 0 };
        struct oci_platform p;
        const char *ca;

        if (!o)
                o = &none;
        if (o->platform && oci_platform_parse(o->platform, &p, err) < 0)
                return -1;
        c = calloc(1, sizeof(*c));
        if (!c)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        c->ref = registry_ref_dup(ref);
        if (!c->ref)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        c->insecure = o->insecure;
        c->verbose = o->verbose;
        c->progress = o->progress && isatty(STDERR_FILENO);
        ca = !isempty(o->ca_file) ? o->ca_file : getenv("SSL_CERT_FILE");
        if (!isempty(ca) && !(c->ca_file = strdup(ca)))
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        if (o->platform && !(c->platform = strdup(o->platform)))
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        if (asprintf(&c->base, "%s://%s", ref->scheme, ref->host) < 0) {
                c->base = NULL;
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        }
        c->origin = http_url_origin(c->base);
        if (!c->origin)
                return error_set(err, SMITH_ERR_USAGE, "'%s' is not a registry URL", c->base);
        if (ref->username) {
                c->username = strdup(ref->username);
                c->password = strdup(ref->password ? ref->password : "");
                if (!c->username || !c->password)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "registry client");
        }
        c->chunk_size = env_int("SMITH_REGISTRY_CHUNK", REGISTRY_CHUNK_SIZE, 1, INT64_MAX);
        if (http_new(&(struct http_opts){ .insecure = c->insecure,
                                          .ca_file = c->ca_file,
                                          .progress = c->progress,
                                          .error_kind = SMITH_ERR_REGISTRY },
                     &c->http, err) < 0)
                return -1;
        *ret = TAKE_PTR(c);
        return 0;
}

static void erase_free(char *s) {
        if (s)
                explicit_bzero(s, strlen(s));
        free(s);
}

void registry_client_free(struct registry_client *c) {
        if (!c)
                return;
        registry_ref_free(c->ref);
        http_free(c->http);
        free(c->ca_file);
        free(c->platform);
        free(c->base);
        free(c->origin);
        erase_free(c->username);
        erase_free(c->password);
        erase_free(c->identity_token);
        erase_free(c->authorization);
        free(c->realm);
        free(c->service);
        free(c->token_scopes);
        strv_free(c->scopes);
        strv_free(c->mount_from);
        free(c);
}

void registry_client_stats(const struct registry_client *c, struct registry_stats *ret) {
        *ret = c->stats;
        ret->retries = http_retries(c->http);
}

int registry_client_add_mount_source(struct registry_client *c, const char *repository, struct smith_error **err) {
        _cleanup_free_ char *probe = NULL;

        /* the same rules as a reference's repository */
        if (isempty(repository) || strpbrk(repository, ":@"))
                return error_set(err, SMITH_ERR_USAGE, "invalid repository '%.100s'", repository ? repository : "");
        if (asprintf(&probe, "%s://%s/%s", c->ref->scheme, c->ref->host, repository) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "mount source");
        _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
        if (registry_ref_parse(probe, 0, &r, err) < 0)
                return -1;
        if (streq(r->repository, c->ref->repository) || strv_contains(c->mount_from, r->repository))
                return 0;
        if (strv_extend(&c->mount_from, r->repository) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "mount source");
        return 0;
}

int registry_client_load_credentials(struct registry_client *c, struct smith_error **err) {
        struct registry_credentials cr = { 0 };

        if (c->username || c->identity_token || c->creds_looked_up)
                return 0;
        c->creds_looked_up = true;
        if (registry_credentials_lookup(c->ref->host, c->ref->docker_hub, c->ref->repository, &cr, err) < 0)
                return error_wrap(err, "credentials for '%s'", c->ref->host);
        c->username = TAKE_PTR(cr.username);
        c->password = TAKE_PTR(cr.password);
        c->identity_token = TAKE_PTR(cr.identity_token);
        return 0;
}

static int set_scopes(struct registry_client *c, const char *action) {
        char *s = NULL;
        strv_free(c->scopes);
        c->scopes = NULL;
        if (asprintf(&s, "repository:%s:%s", c->ref->repository, action) < 0)
                return -ENOMEM;
        return strv_consume(&c->scopes, s);
}

static void verbose_line(struct registry_client *c, const char *what, const char *digest, int64_t size,
                         const char *extra) {
        if (!c->verbose)
                return;
        fprintf(stderr, "smith: %s %.19s (%lld bytes)%s%s\n", what, digest, (long long) size, extra ? " " : "",
                extra ? extra : "");
}

/* --- requests --- */

/* One request with authentication and retries.  0 with rs->status set for
 * any final answer (the caller judges it and releases rs), -1 with err (rs
 * released). */
static int client_request(struct registry_client *c, struct http_request *rq, struct http_response *rs,
                          struct smith_error **err) {
        bool reauthed = false;

        for (;;) {
                int r;

                if (registry_auth_refresh(c, err) < 0) {
                        http_response_release(rs);
                        return -1;
                }
                rq->authorization = c->authorization;
                rq->auth_origin = c->origin;
                if (http_perform_retry(c->http, rq, rs, err) < 0)
                        return -1;
                if (rs->status != 401 || reauthed)
                        return 0;
                reauthed = true;
                r = registry_auth_from_challenges(c, rs->www_authenticate, err);
                if (r < 0) {
                        http_response_release(rs);
                        return -1;
                }
                if (r > 0)
                        return 0;
        }
}

static int status_error(struct smith_error **err, const struct http_response *rs, const char *what) {
        _cleanup_free_ char *m = registry_error_message(rs->body, rs->body_len, rs->status);
        if (what)
                return error_set(err, SMITH_ERR_REGISTRY, "%s: %s", what, m ? m : "failed");
        return error_set(err, SMITH_ERR_REGISTRY, "%s", m ? m : "failed");
}

static char *url_for(struct registry_client *c, const char *kind, const char *what) {
        char *u = NULL;
        if (asprintf(&u, "%s/v2/%s/%s/%s", c->base, c->ref->repository, kind, what) < 0)
                return NULL;
        return u;
}

/* --- pull --- */

static int store_bytes(struct cache *cache, const char *digest, const char *data, size_t len,
                       struct smith_error **err) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (cache_has_blob(cache, digest))
                return 0;
        if (cache_tmpfile(cache, &name, &fd, err) < 0)
                return -1;
        r = write_full(fd, data, len);
        if (r < 0) {
                unlinkat(cache->tmp_fd, name, 0);
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s' to the cache", digest);
        }
        return cache_blob_commit(cache, fd, name, digest, err);
}

static const char *json_str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* Fetches a manifest or index by tag or digest into *ret_body, verified
 * against expect_digest/expect_size when given. */
static int get_manifest(struct registry_client *c, const char *reference, const char *expect_digest,
                        int64_t expect_size, char **ret_body, size_t *ret_len, char **ret_media_type,
                        char ret_digest[static DIGEST_STR_LEN + 1], struct smith_error **err) {
        _cleanup_free_ char *url = url_for(c, "manifests", reference), *mt = NULL;
        char *headers[] = { (char *) ACCEPT_MANIFESTS, NULL };
        struct http_request rq;
        struct http_response rs = { 0 };
        char digest[DIGEST_STR_LEN + 1];
        json_t *j;
        const char *m;

        if (!url)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
        if (expect_size > (int64_t) REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is larger than %u bytes", reference,
                                 REGISTRY_MAX_MANIFEST);
        http_request_init(&rq, "GET", url);
        rq.headers = headers;
        rq.follow = true;
        rq.max_body = REGISTRY_MAX_MANIFEST;
        if (client_request(c, &rq, &rs, err) < 0)
                return -1;
        if (rs.status != 200) {
                status_error(err, &rs, NULL);
                http_response_release(&rs);
                return -1;
        }
        sha256_digest_of(rs.body ? rs.body : "", rs.body_len, digest);
        if (expect_digest && !streq(digest, expect_digest)) {
                http_response_release(&rs);
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' does not match its digest (got '%s')",
                                 expect_digest, digest);
        }
        if (!expect_digest && rs.content_digest && digest_is_valid(rs.content_digest) &&
            !streq(rs.content_digest, digest)) {
                http_response_release(&rs);
                return error_set(err, SMITH_ERR_REGISTRY,
                                 "manifest '%s' does not match the Docker-Content-Digest the registry sent", reference);
        }
        if (expect_size >= 0 && (int64_t) rs.body_len != expect_size) {
                http_response_release(&rs);
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is %zu bytes, not %lld", reference,
                                 rs.body_len, (long long) expect_size);
        }
        j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                http_response_release(&rs);
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is not a JSON object", reference);
        }
        m = json_str(j, "mediaType");
        if (isempty(m) && rs.content_type) {
                rs.content_type[strcspn(rs.content_type, "; ")] = 0;
                m = rs.content_type;
        }
        if (isempty(m) || (!streq(m, OCI_MT_MANIFEST) && !streq(m, OCI_MT_INDEX) && !streq(m, DOCKER_MT_MANIFEST) &&
                           !streq(m, DOCKER_MT_MANIFEST_LIST)))
                m = json_is_array(json_object_get(j, "manifests")) ? OCI_MT_INDEX
                    : json_is_object(json_object_get(j, "config")) ? OCI_MT_MANIFEST
                                                                   : NULL;
        if (!m || json_integer_value(json_object_get(j, "schemaVersion")) != 2) {
                json_decref(j);
                http_response_release(&rs);
                return error_set(err, SMITH_ERR_REGISTRY,
                                 "manifest '%s' is not an OCI or Docker schema 2 manifest or index", reference);
        }
        mt = strdup(m);
        json_decref(j);
        if (!mt) {
                http_response_release(&rs);
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
        }
        *ret_body = rs.body ? TAKE_PTR(rs.body) : strdup("");
        *ret_len = rs.body_len;
        *ret_media_type = TAKE_PTR(mt);
        memcpy(ret_digest, digest, sizeof(digest));
        http_response_release(&rs);
        return 0;
}

static bool is_index(const char *mt) {
        return streq(mt, OCI_MT_INDEX) || streq(mt, DOCKER_MT_MANIFEST_LIST);
}

/* Picks the platform's entry of an index. */
static int pick_platform(struct registry_client *c, const char *index_digest, const char *body, size_t len,
                         char ret_digest[], int64_t *ret_size, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *j = json_loadb(body, len, 0, NULL);
        struct oci_platform want;
        struct oci_index_choice ch;

        if (oci_platform_parse(c->platform, &want, err) < 0 ||
            oci_index_pick(j, index_digest, &want, SMITH_ERR_REGISTRY, &ch, err) < 0)
                return -1;
        memcpy(ret_digest, ch.digest, DIGEST_STR_LEN + 1);
        *ret_size = ch.size;
        return 0;
}

struct blob_sink {
        int fd;
        struct sha256 *hash;
};

static int blob_reset(struct http_request *rq, void *ud) {
        struct blob_sink *s = ud;
        if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
                return -1;
        sha256_free(s->hash);
        s->hash = sha256_new();
        if (!s->hash) {
                errno = ENOMEM;
                return -1;
        }
        rq->sink_hash = s->hash;
        return 0;
}

static int pull_blob_once(struct registry_client *c, struct cache *cache, const char *digest, int64_t size,
                          bool *ret_short, struct smith_error **err) {
        _cleanup_free_ char *url = url_for(c, "blobs", digest), *name = NULL;
        _cleanup_close_ int fd = -1;
        struct blob_sink sink = { .fd = -1 };
        struct http_request rq;
        struct http_response rs = { 0 };
        char got[DIGEST_STR_LEN + 1];
        int r;

        *ret_short = false;
        if (!url)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "blob");
        if (cache_tmpfile(cache, &name, &fd, err) < 0)
                return -1;
        sink.fd = fd;
        http_request_init(&rq, "GET", url);
        rq.follow = true;
        rq.sink_fd = fd;
        rq.sink_max = size;
        rq.progress_label = digest;
        rq.reset = blob_reset;
        rq.reset_userdata = &sink;
        r = client_request(c, &rq, &rs, err);
        if (r >= 0 && rs.status != 200)
                r = status_error(err, &rs, NULL);
        if (r >= 0 && rs.sink_written != size) {
                *ret_short = true;
                r = error_set(err, SMITH_ERR_REGISTRY, "got %lld bytes of %lld", (long long) rs.sink_written,
                              (long long) size);
        }
        if (r >= 0) {
                sha256_final_digest(sink.hash, got);
                if (!streq(got, digest))
                        r = error_set(err, SMITH_ERR_REGISTRY, "digest mismatch: the registry sent '%s'", got);
        }
        sha256_free(sink.hash);
        http_response_release(&rs);
        if (r < 0) {
                unlinkat(cache->tmp_fd, name, 0);
                return -1;
        }
        return cache_blob_commit(cache, fd, name, digest, err);
}

static int pull_blob(struct registry_client *c, struct cache *cache, const char *digest, int64_t size,
                     struct smith_error **err) {
        if (cache_has_blob(cache, digest)) {
                c->stats.blobs_cached++;
                verbose_line(c, "cached", digest, size, NULL);
                seen_add(c->ref->host, c->ref->repository, digest);
                return 0;
        }
        for (unsigned attempt = 0;; attempt++) {
                bool short_read;
                if (pull_blob_once(c, cache, digest, size, &short_read, err) == 0)
                        break;
                /* a body cut short without a transport error: try again */
                if (!short_read || attempt + 1 >= HTTP_RETRY_ATTEMPTS)
                        return error_wrap(err, "blob '%s'", digest);
                error_free(*err);
                *err = NULL;
                http_backoff(c->http, attempt, -1);
        }
        c->stats.blobs_downloaded++;
        verbose_line(c, "pulled", digest, size, NULL);
        seen_add(c->ref->host, c->ref->repository, digest);
        return 0;
}

static int descriptor(json_t *d, const char *what, const char **ret_digest, int64_t *ret_size,
                      struct smith_error **err) {
        const char *dg = json_str(d, "digest");
        json_t *sz = json_object_get(d, "size");
        if (!json_is_object(d) || !digest_is_valid(dg) || !json_is_integer(sz) || json_integer_value(sz) < 0)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest: %s has a bad digest or size", what);
        *ret_digest = dg;
        *ret_size = json_integer_value(sz);
        return 0;
}

static int do_pull(struct registry_client *c, struct cache *cache, struct registry_manifest_ref *ret,
                   struct smith_error **err) {
        _cleanup_free_ char *body = NULL, *mt = NULL;
        size_t len;
        char digest[DIGEST_STR_LEN + 1];
        const char *reference = c->ref->digest ? c->ref->digest : c->ref->tag;
        json_t *j, *layers, *l;
        const char *cd;
        int64_t cs;
        size_t i;

        if (set_scopes(c, "pull") < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "pull");
        if (get_manifest(c, reference, c->ref->digest, -1, &body, &len, &mt, digest, err) < 0)
                return -1;
        if (is_index(mt)) {
                char child[DIGEST_STR_LEN + 1], index_digest[DIGEST_STR_LEN + 1];
                int64_t child_size = -1;
                memcpy(index_digest, digest, sizeof(index_digest));
                if (pick_platform(c, index_digest, body, len, child, &child_size, err) < 0)
                        return -1;
                if (store_bytes(cache, digest, body, len, err) < 0)
                        return -1;
                free(body);
                free(mt);
                body = mt = NULL;
                if (get_manifest(c, child, child, child_size, &body, &len, &mt, digest, err) < 0)
                        return error_wrap(err, "manifest '%s'", child);
                if (is_index(mt))
                        return error_set(err, SMITH_ERR_REGISTRY,
                                         "index '%s' -> index '%s': nested indexes are not followed (depth 2)",
                                         index_digest, child);
        }
        if (!streq(mt, OCI_MT_MANIFEST) && !streq(mt, DOCKER_MT_MANIFEST))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' has unsupported media type '%.100s'", digest,
                                 mt);
        j = json_loadb(body, len, 0, NULL);
        layers = json_object_get(j, "layers");
        if (!json_is_array(layers)) {
                json_decref(j);
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' has no layers", digest);
        }
        if (descriptor(json_object_get(j, "config"), "config", &cd, &cs, err) < 0) {
                json_decref(j);
                return -1;
        }
        json_array_foreach(layers, i, l) {
                const char *ld;
                int64_t ls;
                if (descriptor(l, "a layer", &ld, &ls, err) < 0) {
                        json_decref(j);
                        return -1;
                }
        }
        if (cs > (int64_t) REGISTRY_MAX_MANIFEST) {
                json_decref(j);
                return error_set(err, SMITH_ERR_REGISTRY, "config '%s' is larger than %u bytes", cd,
                                 REGISTRY_MAX_MANIFEST);
        }
        if (pull_blob(c, cache, cd, cs, err) < 0) {
                json_decref(j);
                return -1;
        }
        json_array_foreach(layers, i, l) {
                const char *ld;
                int64_t ls;
                (void) descriptor(l, "a layer", &ld, &ls, err);
                if (pull_blob(c, cache, ld, ls, err) < 0) {
                        json_decref(j);
                        return -1;
                }
        }
        json_decref(j);
        /* the manifest last: its presence means the image is complete */
        if (store_bytes(cache, digest, body, len, err) < 0)
                return -1;
        *ret = (struct registry_manifest_ref){ .size = (int64_t) len };
        snprintf(ret->media_type, sizeof(ret->media_type), "%s", mt);
        memcpy(ret->digest, digest, sizeof(digest));
        return 0;
}

int registry_pull(struct registry_client *c, struct cache *cache, struct registry_manifest_ref *ret,
                  struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);
        struct registry_manifest_ref m;

        if (do_pull(c, cache, &m, err) < 0)
                return error_wrap(err, "pull '%s'", display ? display : "(image)");
        *ret = m;
        return 0;
}

int registry_pull_image(const struct registry_ref *ref, const struct registry_opts *o, struct cache *cache,
                        struct oci_image **ret, struct smith_error **err) {
        _cleanup_(registry_client_freep) struct registry_client *c = NULL;
        _cleanup_free_ char *shown = registry_ref_display(ref);
        struct registry_manifest_ref m;

        if (!shown)
                return error_oom(err);
        if (registry_client_new(ref, o, &c, err) < 0 || registry_pull(c, cache, &m, err) < 0)
                return -1;
        return oci_image_from_store(cache->blobs_fd, m.media_type, m.digest, m.size, shown, ret, err);
}

/* --- push --- */

static char *with_digest(const char *location, const char *digest) {
        _cleanup_free_ char *e = http_escape(digest);
        char *u = NULL;
        if (!e || asprintf(&u, "%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', e) < 0)
                return NULL;
        return u;
}

/* Takes the Location of an upload answer, resolved against its URL. */
static char *upload_location(const struct http_response *rs) {
        if (!rs->location || !rs->url)
                return NULL;
        return http_url_resolve(rs->url, rs->location);
}

/* One upload attempt from POST (or the session a mount attempt opened) to
 * the final PUT.  *ret_transient says whether starting over could help. */
static int upload_blob(struct registry_client *c, int fd, const char *digest, int64_t size, char *location,
                       bool *ret_transient, struct smith_error **err) {
        _cleanup_free_ char *loc = location, *put = NULL;
        struct http_request rq;
        struct http_response rs = { 0 };
        char *octet[] = { (char *) "Content-Type: application/octet-stream", NULL };
        int r;

        *ret_transient = false;
        if (!loc) {
                _cleanup_free_ char *url = NULL;
                if (asprintf(&url, "%s/v2/%s/blobs/uploads/", c->base, c->ref->repository) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
                http_request_init(&rq, "POST", url);
                r = client_request(c, &rq, &rs, err);
                if (r < 0) {
                        *ret_transient = true;
                        return -1;
                }
                if (rs.status != 202) {
                        *ret_transient = http_status_transient(rs.status);
                        status_error(err, &rs, "start upload");
                        http_response_release(&rs);
                        return -1;
                }
                loc = upload_location(&rs);
                http_response_release(&rs);
                if (!loc)
                        return error_set(err, SMITH_ERR_REGISTRY, "start upload: no usable Location in the answer");
        }

        if (size > c->chunk_size) {
                for (int64_t off = 0; off < size;) {
                        int64_t n = MIN(c->chunk_size, size - off);
                        char range[80];
                        char *hdrs[] = { (char *) "Content-Type: application/octet-stream", range, NULL };

                        snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long) off,
                                 (long long) (off + n - 1));
                        http_request_init(&rq, "PATCH", loc);
                        rq.headers = hdrs;
                        rq.body_fd = fd;
                        rq.body_offset = off;
                        rq.body_size = n;
                        rq.progress_label = digest;
                        rq.attempts = 1; /* not idempotent: the caller restarts the whole upload */
                        r = client_request(c, &rq, &rs, err);
                        if (r < 0) {
                                *ret_transient = true;
                                return error_wrap(err, "upload chunk at %lld", (long long) off);
                        }
                        if (rs.status != 202 && rs.status != 204) {
                                *ret_transient = http_status_transient(rs.status) || rs.status == 416;
                                status_error(err, &rs, "upload chunk");
                                http_response_release(&rs);
                                return -1;
                        }
                        c->stats.chunks++;
                        if (rs.location) {
                                char *next = upload_location(&rs);
                                if (!next) {
                                        http_response_release(&rs);
                                        return error_set(err, SMITH_ERR_REGISTRY, "upload chunk: bad Location");
                                }
                                free(loc);
                                loc = next;
                        }
                        http_response_release(&rs);
                        off += n;
                }
                put = with_digest(loc, digest);
                if (!put)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
                http_request_init(&rq, "PUT", put);
                rq.headers = octet;
        } else {
                put = with_digest(loc, digest);
                if (!put)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
                http_request_init(&rq, "PUT", put);
                rq.headers = octet;
                rq.body_fd = fd;
                rq.body_offset = 0;
                rq.body_size = size;
                rq.progress_label = digest;
        }
        rq.attempts = 1;
        r = client_request(c, &rq, &rs, err);
        if (r < 0) {
                *ret_transient = true;
                return -1;
        }
        if (rs.status != 201 && rs.status != 204) {
                *ret_transient = http_status_transient(rs.status);
                status_error(err, &rs, "finish upload");
                http_response_release(&rs);
                return -1;
        }
        http_response_release(&rs);
        return 0;
}

/* HEAD: 1 if the registry has the blob, 0 if not, -1 on errors. */
static int blob_exists(struct registry_client *c, const char *digest, struct smith_error **err) {
        _cleanup_free_ char *url = url_for(c, "blobs", digest);
        struct http_request rq;
        struct http_response rs = { 0 };
        int r;

        if (!url)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "blob");
        http_request_init(&rq, "HEAD", url);
        rq.follow = true;
        if (client_request(c, &rq, &rs, err) < 0)
                return -1;
        if (rs.status == 200)
                r = 1;
        else if (rs.status == 404)
                r = 0;
        else
                r = status_error(err, &rs, "check");
        http_response_release(&rs);
        return r;
}

/* POST ?mount=&from=: 1 mounted, 0 not (*ret_location may then hold the
 * upload session the registry opened instead), -1 on errors. */
static int mount_blob(struct registry_client *c, const char *digest, const char *from, char **ret_location,
                      struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *ed = http_escape(digest), *ef = http_escape(from), *scope = NULL;
        struct http_request rq;
        struct http_response rs = { 0 };
        int r = 0;

        *ret_location = NULL;
        if (!ed || !ef || asprintf(&scope, "repository:%s:pull", from) < 0 ||
            asprintf(&url, "%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, c->ref->repository, ed, ef) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "mount");
        if (!strv_contains(c->scopes, scope) && strv_consume(&c->scopes, TAKE_PTR(scope)) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "mount");
        http_request_init(&rq, "POST", url);
        if (client_request(c, &rq, &rs, err) < 0) {
                /* a failed mount is not fatal: upload instead */
                error_free(*err);
                *err = NULL;
                return 0;
        }
        if (rs.status == 201)
                r = 1;
        else if (rs.status == 202)
                *ret_location = upload_location(&rs);
        http_response_release(&rs);
        return r;
}

static int push_blob(struct registry_client *c, int blobs_fd, const char *digest, int64_t size,
                     struct smith_error **err) {
        char path[BLOB_PATH_LEN + 1];
        _cleanup_close_ int fd = -1;
        struct stat st;
        const char *from;
        int r;

        if (!digest_is_valid(digest))
                return error_set(err, SMITH_ERR_REGISTRY, "invalid blob digest '%.80s'", digest);
        fd = openat(blobs_fd, blob_path(digest, path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open blob '%s'", digest);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stat blob '%s'", digest);
        if (!S_ISREG(st.st_mode) || (size >= 0 && st.st_size != size))
                return error_set(err, SMITH_ERR_IO, "blob '%s' is %lld bytes, not %lld", digest, (long long) st.st_size,
                                 (long long) size);
        size = st.st_size;

        r = blob_exists(c, digest, err);
        if (r < 0)
                return -1;
        if (r > 0) {
                c->stats.blobs_existing++;
                verbose_line(c, "exists", digest, size, NULL);
                seen_add(c->ref->host, c->ref->repository, digest);
                return 0;
        }
        from = seen_elsewhere(c->ref->host, c->ref->repository, digest);
        if (!from && c->mount_from)
                from = c->mount_from[0];
        for (unsigned attempt = 0;; attempt++) {
                char *location = NULL;
                bool transient;

                if (from && attempt == 0) {
                        _cleanup_free_ char *f = strdup(from);
                        if (!f)
                                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "mount");
                        r = mount_blob(c, digest, f, &location, err);
                        if (r < 0)
                                return -1;
                        if (r > 0) {
                                c->stats.blobs_mounted++;
                                verbose_line(c, "mounted", digest, size, f);
                                seen_add(c->ref->host, c->ref->repository, digest);
                                return 0;
                        }
                }
                if (upload_blob(c, fd, digest, size, location, &transient, err) == 0)
                        break;
                if (!transient || attempt + 1 >= HTTP_RETRY_ATTEMPTS)
                        return -1;
                error_free(*err);
                *err = NULL;
                http_backoff(c->http, attempt, -1);
        }
        c->stats.blobs_uploaded++;
        verbose_line(c, "pushed", digest, size, NULL);
        seen_add(c->ref->host, c->ref->repository, digest);
        return 0;
}

static int do_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                   const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *ct = NULL;
        char digest[DIGEST_STR_LEN + 1];
        struct http_request rq;
        struct http_response rs = { 0 };
        const char *reference;

        if (isempty(media_type) || strchr(media_type, '\r') || strchr(media_type, '\n'))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest without a media type");
        if (manifest_len > REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest is larger than %u bytes", REGISTRY_MAX_MANIFEST);
        sha256_digest_of(manifest, manifest_len, digest);
        if (c->ref->digest && !streq(c->ref->digest, digest))
                return error_set(err, SMITH_ERR_USAGE, "the manifest's digest is '%s', not the one asked for", digest);
        if (set_scopes(c, "pull,push") < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "push");
        for (size_t i = 0; blob_digests && blob_digests[i]; i++)
                if (push_blob(c, blobs_fd, blob_digests[i], blob_sizes ? blob_sizes[i] : -1, err) < 0)
                        return error_wrap(err, "blob '%s'", blob_digests[i]);

        reference = c->ref->tag ? c->ref->tag : c->ref->digest;
        url = url_for(c, "manifests", reference);
        if (!url || asprintf(&ct, "Content-Type: %s", media_type) < 0) {
                ct = NULL;
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "push");
        }
        char *headers[] = { ct, NULL };
        http_request_init(&rq, "PUT", url);
        rq.headers = headers;
        rq.body = manifest;
        rq.body_len = manifest_len;
        if (client_request(c, &rq, &rs, err) < 0)
                return error_wrap(err, "manifest");
        if (rs.status != 201 && rs.status != 200 && rs.status != 204) {
                status_error(err, &rs, "manifest");
                http_response_release(&rs);
                return -1;
        }
        http_response_release(&rs);
        verbose_line(c, "pushed manifest", digest, (int64_t) manifest_len, NULL);
        return 0;
}

int registry_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                  const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);

        if (do_push(c, blobs_fd, blob_digests, blob_sizes, manifest, manifest_len, media_type, err) < 0)
                return error_wrap(err, "push '%s'", display ? display : "(image)");
        return 0;
}
