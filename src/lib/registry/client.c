/* The registry client's core: its state, and one request with
 * authentication (auth.c) and the retries of net/http.c, shared by pull.c
 * and push.c; plus the blobs this process saw where, for cross-repository
 * mounts. */
#include <errno.h>
#include <string.h>

#include "basic/env.h"
#include "basic/strv.h"
#include "oci/image.h"
#include "registry-internal.h"

#define SEEN_MAX 65536

/* --- blobs seen in this process, for cross-repository mounts --- */

struct seen_blob {
        char *host;
        char *repository;
        char digest[DIGEST_STR_LEN + 1];
};

static struct seen_blob *seen;
static size_t n_seen;

void registry_seen_add(const char *host, const char *repository, const char *digest) {
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

const char *registry_seen_elsewhere(const char *host, const char *repository, const char *digest) {
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
                return error_oom(err);
        c->ref = registry_ref_dup(ref);
        if (!c->ref)
                return error_oom(err);
        c->insecure = o->insecure;
        c->verbose = o->verbose;
        c->progress = o->progress && isatty(STDERR_FILENO);
        ca = !isempty(o->ca_file) ? o->ca_file : getenv("SSL_CERT_FILE");
        if (!isempty(ca) && !(c->ca_file = strdup(ca)))
                return error_oom(err);
        if (o->platform && !(c->platform = strdup(o->platform)))
                return error_oom(err);
        if (asprintf(&c->base, "%s://%s", ref->scheme, ref->host) < 0) {
                c->base = NULL;
                return error_oom(err);
        }
        c->origin = http_url_origin(c->base);
        if (!c->origin)
                return error_set(err, SMITH_ERR_USAGE, "'%s' is not a registry URL", c->base);
        if (ref->username) {
                c->username = strdup(ref->username);
                c->password = strdup(ref->password ? ref->password : "");
                if (!c->username || !c->password)
                        return error_oom(err);
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

void registry_client_free(struct registry_client *c) {
        if (!c)
                return;
        registry_ref_free(c->ref);
        http_free(c->http);
        free_many(c->ca_file, c->platform, c->base, c->origin, c->realm, c->service, c->token_scopes);
        erase_and_free(c->username);
        erase_and_free(c->password);
        erase_and_free(c->identity_token);
        erase_and_free(c->authorization);
        strv_free_many(c->scopes, c->mount_from);
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
                return error_oom(err);
        _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
        if (registry_ref_parse(probe, 0, &r, err) < 0)
                return -1;
        if (streq(r->repository, c->ref->repository) || strv_contains(c->mount_from, r->repository))
                return 0;
        if (strv_extend(&c->mount_from, r->repository) < 0)
                return error_oom(err);
        return 0;
}

int registry_set_scopes(struct registry_client *c, const char *action) {
        char *s = NULL;
        strv_free(c->scopes);
        c->scopes = NULL;
        if (asprintf(&s, "repository:%s:%s", c->ref->repository, action) < 0)
                return -ENOMEM;
        return strv_consume(&c->scopes, s);
}

void registry_verbose(struct registry_client *c, const char *what, const char *digest, int64_t size,
                      const char *extra) {
        if (!c->verbose)
                return;
        fprintf(stderr, "smith: %s %.19s (%lld bytes)%s%s\n", what, digest, (long long) size, extra ? " " : "",
                extra ? extra : "");
}

void registry_blob_done(struct registry_client *c, unsigned *counter, const char *what, const char *digest,
                        int64_t size, const char *extra) {
        (*counter)++;
        registry_verbose(c, what, digest, size, extra);
        registry_seen_add(c->ref->host, c->ref->repository, digest);
}

/* --- requests --- */

/* One request with authentication and retries.  0 with rs->status set for
 * any final answer (the caller judges it and releases rs), -1 with err (rs
 * released). */
int registry_request(struct registry_client *c, struct http_request *rq, struct http_response *rs,
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

int registry_get_document(struct registry_client *c, const char *url, const char *accept, size_t max,
                          struct http_response *rs, struct smith_error **err) {
        char *headers[] = { (char *) accept, NULL };
        struct http_request rq;

        http_request_init(&rq, "GET", url);
        rq.headers = headers;
        rq.follow = true;
        rq.max_body = max ? max : REGISTRY_MAX_MANIFEST;
        return registry_request(c, &rq, rs, err);
}

int registry_status_error(struct smith_error **err, const struct http_response *rs, const char *what) {
        _cleanup_free_ char *m = registry_error_message(rs->body, rs->body_len, rs->status);
        if (what)
                return error_set(err, SMITH_ERR_REGISTRY, "%s: %s", what, m ? m : "failed");
        return error_set(err, SMITH_ERR_REGISTRY, "%s", m ? m : "failed");
}

char *registry_url_for(struct registry_client *c, const char *kind, const char *what) {
        char *u = NULL;
        if (asprintf(&u, "%s/v2/%s/%s/%s", c->base, c->ref->repository, kind, what) < 0)
                return NULL;
        return u;
}
