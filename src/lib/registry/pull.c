/* Pulling an image into the cache's verified blob store: the manifest (an
 * index resolved to the platform asked for, oci_index_pick()), its config
 * and every layer not already there.  A blob streams into a cache temp file
 * while it is hashed and is committed only when its size and digest match;
 * a body cut short is fetched again.  Nothing holds a layer in memory.
 * Then, for `smith download`, the image's OCI 1.1 artifacts: the referrers
 * answer (or the sha256-<hex> tag where the registry has no referrers
 * API), each artifact manifest verified and checked to refer to the image,
 * and their blobs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/referrers.h"
#include "registry-internal.h"
#include "store/cache.h"

#define ACCEPT_MANIFESTS \
        "Accept: " OCI_MT_MANIFEST ", " OCI_MT_INDEX ", " DOCKER_MT_MANIFEST ", " DOCKER_MT_MANIFEST_LIST

static const char *json_str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* Fetches a manifest or index by tag or digest into *ret_body, verified
 * against expect_digest/expect_size when given. */
static int get_manifest(struct registry_client *c, const char *reference, const char *expect_digest,
                        int64_t expect_size, char **ret_body, size_t *ret_len, char **ret_media_type,
                        char ret_digest[static DIGEST_STR_LEN + 1], struct smith_error **err) {
        _cleanup_free_ char *url = registry_url_for(c, "manifests", reference), *mt = NULL;
        _cleanup_http_response_ struct http_response rs = { 0 };
        char digest[DIGEST_STR_LEN + 1];
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *m;

        if (!url)
                return error_oom(err);
        if (expect_size > (int64_t) REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is larger than %u bytes", reference,
                                 REGISTRY_MAX_MANIFEST);
        if (registry_get_document(c, url, ACCEPT_MANIFESTS, 0, &rs, err) < 0)
                return -1;
        if (rs.status != 200)
                return registry_status_error(err, &rs, NULL);
        sha256_digest_of(rs.body ? rs.body : "", rs.body_len, digest);
        if (expect_digest && !streq(digest, expect_digest))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' does not match its digest (got '%s')",
                                 expect_digest, digest);
        if (!expect_digest && rs.content_digest && digest_is_valid(rs.content_digest) &&
            !streq(rs.content_digest, digest))
                return error_set(err, SMITH_ERR_REGISTRY,
                                 "manifest '%s' does not match the Docker-Content-Digest the registry sent", reference);
        if (expect_size >= 0 && (int64_t) rs.body_len != expect_size)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is %zu bytes, not %lld", reference,
                                 rs.body_len, (long long) expect_size);
        j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL);
        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' is not a JSON object", reference);
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
        if (!m || json_integer_value(json_object_get(j, "schemaVersion")) != 2)
                return error_set(err, SMITH_ERR_REGISTRY,
                                 "manifest '%s' is not an OCI or Docker schema 2 manifest or index", reference);
        mt = strdup(m);
        if (!mt)
                return error_oom(err);
        *ret_body = rs.body ? TAKE_PTR(rs.body) : strdup("");
        *ret_len = rs.body_len;
        *ret_media_type = TAKE_PTR(mt);
        memcpy(ret_digest, digest, sizeof(digest));
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

static int pull_blob_once(struct registry_client *c, struct cache *cache, const char *digest, int64_t size,
                          bool *ret_short, struct smith_error **err) {
        _cleanup_free_ char *url = registry_url_for(c, "blobs", digest), *name = NULL;
        _cleanup_close_ int fd = -1;
        struct http_file_sink sink = { .fd = -1 };
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = { 0 };
        char got[DIGEST_STR_LEN + 1];
        int r;

        *ret_short = false;
        if (!url)
                return error_oom(err);
        if (cache_tmpfile(cache, &name, &fd, err) < 0)
                return -1;
        http_request_init(&rq, "GET", url);
        rq.follow = true;
        rq.progress_label = digest;
        http_request_sink_file(&rq, &sink, fd, size);
        r = registry_request(c, &rq, &rs, err);
        if (r >= 0 && rs.status != 200)
                r = registry_status_error(err, &rs, NULL);
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
        http_file_sink_release(&sink);
        if (r < 0) {
                unlinkat(cache->tmp_fd, name, 0);
                return -1;
        }
        return cache_blob_commit(cache, fd, name, digest, err);
}

static int pull_blob(struct registry_client *c, struct cache *cache, const char *digest, int64_t size,
                     struct smith_error **err) {
        if (cache_has_blob(cache, digest)) {
                registry_blob_done(c, &c->stats.blobs_cached, "cached", digest, size, NULL);
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
        registry_blob_done(c, &c->stats.blobs_downloaded, "pulled", digest, size, NULL);
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

/* The platform's image manifest the ref names: an index resolved (and
 * stored, when cache is given), the manifest's body, media type and
 * digest. */
static int resolve(struct registry_client *c, struct cache *cache, char **ret_body, size_t *ret_len,
                   char **ret_media_type, char digest[static DIGEST_STR_LEN + 1], struct smith_error **err) {
        _cleanup_free_ char *body = NULL, *mt = NULL;
        size_t len;
        const char *reference = c->ref->digest ? c->ref->digest : c->ref->tag;

        if (registry_set_scopes(c, "pull") < 0)
                return error_oom(err);
        if (get_manifest(c, reference, c->ref->digest, -1, &body, &len, &mt, digest, err) < 0)
                return -1;
        if (is_index(mt)) {
                char child[DIGEST_STR_LEN + 1], index_digest[DIGEST_STR_LEN + 1];
                int64_t child_size = -1;
                memcpy(index_digest, digest, sizeof(index_digest));
                if (pick_platform(c, index_digest, body, len, child, &child_size, err) < 0)
                        return -1;
                if (cache && cache_store_bytes(cache, digest, body, len, err) < 0)
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
        *ret_body = TAKE_PTR(body);
        *ret_len = len;
        *ret_media_type = TAKE_PTR(mt);
        return 0;
}

static int do_pull(struct registry_client *c, struct cache *cache, struct registry_manifest_ref *ret,
                   struct smith_error **err) {
        _cleanup_free_ char *body = NULL, *mt = NULL;
        size_t len;
        char digest[DIGEST_STR_LEN + 1];
        _cleanup_(json_decrefp) json_t *j = NULL;
        json_t *layers, *l;
        const char *cd;
        int64_t cs;
        size_t i;

        if (resolve(c, cache, &body, &len, &mt, digest, err) < 0)
                return -1;
        j = json_loadb(body, len, 0, NULL);
        layers = json_object_get(j, "layers");
        if (!json_is_array(layers))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest '%s' has no layers", digest);
        if (descriptor(json_object_get(j, "config"), "config", &cd, &cs, err) < 0)
                return -1;
        json_array_foreach(layers, i, l) {
                const char *ld;
                int64_t ls;
                if (descriptor(l, "a layer", &ld, &ls, err) < 0)
                        return -1;
        }
        if (cs > (int64_t) REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "config '%s' is larger than %u bytes", cd,
                                 REGISTRY_MAX_MANIFEST);
        if (pull_blob(c, cache, cd, cs, err) < 0)
                return -1;
        json_array_foreach(layers, i, l) {
                const char *ld;
                int64_t ls;
                (void) descriptor(l, "a layer", &ld, &ls, err);
                if (pull_blob(c, cache, ld, ls, err) < 0)
                        return -1;
        }
        /* the manifest last: its presence means the image is complete */
        if (cache_store_bytes(cache, digest, body, len, err) < 0)
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

int registry_resolve(struct registry_client *c, struct registry_manifest_ref *ret, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref), *body = NULL, *mt = NULL;
        char digest[DIGEST_STR_LEN + 1];
        size_t len;

        if (resolve(c, NULL, &body, &len, &mt, digest, err) < 0)
                return error_wrap(err, "resolve '%s'", display ? display : "(image)");
        *ret = (struct registry_manifest_ref){ .size = (int64_t) len };
        snprintf(ret->media_type, sizeof(ret->media_type), "%s", mt);
        memcpy(ret->digest, digest, sizeof(digest));
        return 0;
}

/* --- referrers (OCI distribution 1.1) --- */

/* An answer that says the registry is unwell (after the retries), not that
 * it has no referrers API or no referrers: 429 and 5xx.  Anything else but
 * an index (404, 400, 401, 405, an HTML page...) means there is none. */
static bool answer_failed(long status) {
        return status == 429 || status >= 500;
}

static int do_pull_referrers(struct registry_client *c, struct cache *cache, const char *subject,
                             struct oci_referrers *ret, struct smith_error **err) {
        _cleanup_(oci_referrers_release) struct oci_referrers r = {};
        _cleanup_free_ char *url = registry_url_for(c, "referrers", subject), *body = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL;
        char tag[DIGEST_STR_LEN + 1];
        const char *what = "referrers";
        size_t len = 0, i;
        int64_t total = 0;
        long status = 0;
        json_t *e;
        int q;

        if (!url)
                return error_oom(err);
        if (registry_set_scopes(c, "pull") < 0)
                return error_oom(err);
        q = registry_referrers_get(c, url, &body, &len, &status, err); /* every page */
        if (q < 0)
                return -1;
        if (q == 0 && answer_failed(status)) {
                _cleanup_free_ char *m = registry_error_message(NULL, 0, status);
                return error_set(err, SMITH_ERR_REGISTRY, "referrers: %s", m ? m : "failed");
        }
        if (q == 0) {
                /* the referrers tag schema */
                snprintf(tag, sizeof(tag), "sha256-%s", digest_hex(subject));
                free(url);
                url = registry_url_for(c, "manifests", tag);
                if (!url)
                        return error_oom(err);
                what = tag;
                q = registry_get_listing(c, url, 0, &body, &len, &status, NULL, err);
                if (q < 0)
                        return -1;
                if (q == 0 && answer_failed(status)) {
                        _cleanup_free_ char *m = registry_error_message(NULL, 0, status);
                        return error_set(err, SMITH_ERR_REGISTRY, "tag '%s': %s", tag, m ? m : "failed");
                }
                if (q == 0) {
                        if (c->verbose)
                                log_info("no artifacts refer to '%s'", subject);
                        return 0;
                }
        }
        if (oci_referrers_index_parse(body, len, what, SMITH_ERR_REGISTRY, &list, err) < 0)
                return -1;
        /* every manifest checked before any blob is fetched */
        json_array_foreach(list, i, e) {
                const char *dg = json_string_value(json_object_get(e, "digest"));
                int64_t size = json_integer_value(json_object_get(e, "size"));
                _cleanup_free_ char *mt = NULL;
                char *m = NULL, got[DIGEST_STR_LEN + 1];
                size_t mlen;

                if (get_manifest(c, dg, dg, size, &m, &mlen, &mt, got, err) < 0)
                        return -1; /* its errors name the manifest */
                if (oci_referrers_add(&r, e, m, mlen, subject, SMITH_ERR_REGISTRY, err) < 0)
                        return -1;
        }
        /* and all their blobs bounded together before the first is fetched */
        for (size_t k = 0; k < r.n; k++)
                for (size_t b = 0; b < r.artifacts[k].n_blobs; b++) {
                        total += r.artifacts[k].blobs[b].size;
                        if (total > OCI_ARTIFACTS_MAX_BYTES)
                                return error_set(err, SMITH_ERR_REGISTRY, "artifacts: more than %lld bytes of blobs",
                                                 (long long) OCI_ARTIFACTS_MAX_BYTES);
                }
        for (size_t k = 0; k < r.n; k++)
                for (size_t b = 0; b < r.artifacts[k].n_blobs; b++)
                        if (pull_blob(c, cache, r.artifacts[k].blobs[b].digest, r.artifacts[k].blobs[b].size, err) < 0)
                                return error_wrap(err, "artifact '%s'", r.artifacts[k].digest);
        *ret = r;
        r = (struct oci_referrers){};
        return 0;
}

int registry_pull_referrers(struct registry_client *c, struct cache *cache, const char *subject,
                            struct oci_referrers *ret, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);

        *ret = (struct oci_referrers){};
        if (!digest_is_valid(subject))
                return error_set(err, SMITH_ERR_REGISTRY, "invalid subject digest");
        if (do_pull_referrers(c, cache, subject, ret, err) < 0)
                return error_wrap(err, "pull referrers of '%s'", display ? display : "(image)");
        return 0;
}

int registry_pull_image_referrers(const struct registry_ref *ref, const struct registry_opts *o, struct cache *cache,
                                  struct oci_image **ret, struct oci_referrers *ret_referrers,
                                  struct smith_error **err) {
        _cleanup_(registry_client_freep) struct registry_client *c = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(oci_referrers_release) struct oci_referrers r = {};
        _cleanup_free_ char *shown = registry_ref_display(ref);
        struct registry_manifest_ref m;

        if (!shown)
                return error_oom(err);
        if (registry_client_new(ref, o, &c, err) < 0 || registry_pull(c, cache, &m, err) < 0 ||
            oci_image_from_store(cache->blobs_fd, m.media_type, m.digest, m.size, shown, &img, err) < 0)
                return -1;
        /* artifacts refer to the manifest by digest: only an OCI manifest is
         * kept byte for byte, so only its artifacts still refer to it */
        if (ret_referrers && streq(m.media_type, OCI_MT_MANIFEST) &&
            registry_pull_referrers(c, cache, m.digest, &r, err) < 0)
                return -1;
        *ret = TAKE_PTR(img);
        if (ret_referrers) {
                *ret_referrers = r;
                r = (struct oci_referrers){};
        }
        return 0;
}

int registry_pull_image(const struct registry_ref *ref, const struct registry_opts *o, struct cache *cache,
                        struct oci_image **ret, struct smith_error **err) {
        return registry_pull_image_referrers(ref, o, cache, ret, NULL, err);
}

int registry_get_manifest(struct registry_client *c, char **ret_body, size_t *ret_len, char **ret_media_type,
                          char ret_digest[static DIGEST_STR_LEN + 1], struct smith_error **err) {
        const char *reference = c->ref->digest ? c->ref->digest : c->ref->tag;

        if (registry_set_scopes(c, "pull") < 0)
                return error_oom(err);
        return get_manifest(c, reference, c->ref->digest, -1, ret_body, ret_len, ret_media_type, ret_digest, err);
}
