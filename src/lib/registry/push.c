/* Pushing an image: every blob (HEAD first and skip what exists; a
 * cross-repository mount when this process saw the blob in another
 * repository of the registry; else POST then PUT, or PATCH chunks for large
 * blobs; a failed upload restarts that blob), then the manifest.  Uploads
 * are read from their files with pread().  Then the image's OCI 1.1
 * artifacts: their blobs and manifests, and where the registry does not
 * keep referrers itself (no OCI-Subject in its answer), the index tagged
 * sha256-<hex> of the image updated (the referrers tag schema). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "oci/image.h"
#include "oci/referrers.h"
#include "registry-internal.h"

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
        _cleanup_http_response_ struct http_response rs = { 0 };
        char *octet[] = { (char *) "Content-Type: application/octet-stream", NULL };
        int r;

        *ret_transient = false;
        if (!loc) {
                _cleanup_free_ char *url = NULL;
                if (asprintf(&url, "%s/v2/%s/blobs/uploads/", c->base, c->ref->repository) < 0)
                        return error_oom(err);
                http_request_init(&rq, "POST", url);
                r = registry_request(c, &rq, &rs, err);
                if (r < 0) {
                        *ret_transient = true;
                        return -1;
                }
                if (rs.status != 202) {
                        *ret_transient = http_status_transient(rs.status);
                        registry_status_error(err, &rs, "start upload");
                        return -1;
                }
                loc = upload_location(&rs);
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
                        r = registry_request(c, &rq, &rs, err);
                        if (r < 0) {
                                *ret_transient = true;
                                return error_wrap(err, "upload chunk at %lld", (long long) off);
                        }
                        if (rs.status != 202 && rs.status != 204) {
                                *ret_transient = http_status_transient(rs.status) || rs.status == 416;
                                registry_status_error(err, &rs, "upload chunk");
                                return -1;
                        }
                        c->stats.chunks++;
                        if (rs.location) {
                                char *next = upload_location(&rs);
                                if (!next)
                                        return error_set(err, SMITH_ERR_REGISTRY, "upload chunk: bad Location");
                                free(loc);
                                loc = next;
                        }
                        off += n;
                }
                put = with_digest(loc, digest);
                if (!put)
                        return error_oom(err);
                http_request_init(&rq, "PUT", put);
                rq.headers = octet;
        } else {
                put = with_digest(loc, digest);
                if (!put)
                        return error_oom(err);
                http_request_init(&rq, "PUT", put);
                rq.headers = octet;
                rq.body_fd = fd;
                rq.body_offset = 0;
                rq.body_size = size;
                rq.progress_label = digest;
        }
        rq.attempts = 1;
        r = registry_request(c, &rq, &rs, err);
        if (r < 0) {
                *ret_transient = true;
                return -1;
        }
        if (rs.status != 201 && rs.status != 204) {
                *ret_transient = http_status_transient(rs.status);
                registry_status_error(err, &rs, "finish upload");
                return -1;
        }
        return 0;
}

/* HEAD: 1 if the registry has the blob, 0 if not, -1 on errors. */
static int blob_exists(struct registry_client *c, const char *digest, struct smith_error **err) {
        _cleanup_free_ char *url = registry_url_for(c, "blobs", digest);
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = { 0 };
        int r;

        if (!url)
                return error_oom(err);
        http_request_init(&rq, "HEAD", url);
        rq.follow = true;
        if (registry_request(c, &rq, &rs, err) < 0)
                return -1;
        if (rs.status == 200)
                r = 1;
        else if (rs.status == 404)
                r = 0;
        else
                r = registry_status_error(err, &rs, "check");
        return r;
}

/* POST ?mount=&from=: 1 mounted, 0 not (*ret_location may then hold the
 * upload session the registry opened instead), -1 on errors. */
static int mount_blob(struct registry_client *c, const char *digest, const char *from, char **ret_location,
                      struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *ed = http_escape(digest), *ef = http_escape(from), *scope = NULL;
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = { 0 };
        int r = 0;

        *ret_location = NULL;
        if (!ed || !ef || asprintf(&scope, "repository:%s:pull", from) < 0 ||
            asprintf(&url, "%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, c->ref->repository, ed, ef) < 0)
                return error_oom(err);
        if (!strv_contains(c->scopes, scope) && strv_consume(&c->scopes, TAKE_PTR(scope)) < 0)
                return error_oom(err);
        http_request_init(&rq, "POST", url);
        if (registry_request(c, &rq, &rs, err) < 0) {
                /* a failed mount is not fatal: upload instead */
                error_free(*err);
                *err = NULL;
                return 0;
        }
        if (rs.status == 201)
                r = 1;
        else if (rs.status == 202)
                *ret_location = upload_location(&rs);
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
                registry_blob_done(c, &c->stats.blobs_existing, "exists", digest, size, NULL);
                return 0;
        }
        from = registry_seen_elsewhere(c->ref->host, c->ref->repository, digest);
        if (!from && c->mount_from)
                from = c->mount_from[0];
        for (unsigned attempt = 0;; attempt++) {
                char *location = NULL;
                bool transient;

                if (from && attempt == 0) {
                        _cleanup_free_ char *f = strdup(from);
                        if (!f)
                                return error_oom(err);
                        r = mount_blob(c, digest, f, &location, err);
                        if (r < 0)
                                return -1;
                        if (r > 0) {
                                registry_blob_done(c, &c->stats.blobs_mounted, "mounted", digest, size, f);
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
        registry_blob_done(c, &c->stats.blobs_uploaded, "pushed", digest, size, NULL);
        return 0;
}

/* PUT of a document under reference; *ret_rs is the registry's answer. */
static int put_document(struct registry_client *c, const char *reference, const char *media_type, const char *body,
                        size_t len, struct http_response *ret_rs, struct smith_error **err) {
        _cleanup_free_ char *url = registry_url_for(c, "manifests", reference), *ct = NULL;
        struct http_request rq;

        if (!url || asprintf(&ct, "Content-Type: %s", media_type) < 0) {
                ct = NULL;
                return error_oom(err);
        }
        char *headers[] = { ct, NULL };
        http_request_init(&rq, "PUT", url);
        rq.headers = headers;
        rq.body = body;
        rq.body_len = len;
        if (registry_request(c, &rq, ret_rs, err) < 0)
                return -1;
        if (ret_rs->status != 201 && ret_rs->status != 200 && ret_rs->status != 204)
                return registry_status_error(err, ret_rs, NULL);
        return 0;
}

static int do_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                   const char *manifest, size_t manifest_len, const char *media_type, bool by_digest,
                   struct smith_error **err) {
        char digest[DIGEST_STR_LEN + 1];
        _cleanup_http_response_ struct http_response rs = { 0 };
        const char *reference;

        if (isempty(media_type) || strchr(media_type, '\r') || strchr(media_type, '\n'))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest without a media type");
        if (manifest_len > REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest is larger than %u bytes", REGISTRY_MAX_MANIFEST);
        sha256_digest_of(manifest, manifest_len, digest);
        if (!by_digest && c->ref->digest && !streq(c->ref->digest, digest))
                return error_set(err, SMITH_ERR_USAGE, "the manifest's digest is '%s', not the one asked for", digest);
        if (registry_set_scopes(c, "pull,push") < 0)
                return error_oom(err);
        for (size_t i = 0; blob_digests && blob_digests[i]; i++)
                if (push_blob(c, blobs_fd, blob_digests[i], blob_sizes ? blob_sizes[i] : -1, err) < 0)
                        return error_wrap(err, "blob '%s'", blob_digests[i]);

        reference = by_digest ? digest : c->ref->tag ? c->ref->tag : c->ref->digest;
        if (put_document(c, reference, media_type, manifest, manifest_len, &rs, err) < 0)
                return error_wrap(err, "manifest");
        registry_verbose(c, "pushed manifest", digest, (int64_t) manifest_len, NULL);
        return 0;
}

int registry_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                  const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);

        if (do_push(c, blobs_fd, blob_digests, blob_sizes, manifest, manifest_len, media_type, false, err) < 0)
                return error_wrap(err, "push '%s'", display ? display : "(image)");
        return 0;
}

int registry_push_by_digest(struct registry_client *c, int blobs_fd, char *const *blob_digests,
                            const int64_t *blob_sizes, const char *manifest, size_t manifest_len,
                            const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);

        if (do_push(c, blobs_fd, blob_digests, blob_sizes, manifest, manifest_len, media_type, true, err) < 0)
                return error_wrap(err, "push '%s'", display ? display : "(image)");
        return 0;
}

/* --- referrers (OCI distribution 1.1) --- */

/* The tag of the referrers tag schema: "sha256-<hex>". */
static void fallback_tag(const char *subject, char out[static DIGEST_STR_LEN + 1]) {
        snprintf(out, DIGEST_STR_LEN + 1, "sha256-%s", digest_hex(subject));
}

/* Pushes one artifact: its blobs, then its manifest by digest.  *ret_kept
 * says whether the registry keeps referrers itself (OCI-Subject). */
static int push_artifact(struct registry_client *c, int blobs_fd, const struct oci_artifact *a, const char *subject,
                         bool *ret_kept, struct smith_error **err) {
        _cleanup_http_response_ struct http_response rs = { 0 };

        for (size_t i = 0; i < a->n_blobs; i++)
                if (push_blob(c, blobs_fd, a->blobs[i].digest, a->blobs[i].size, err) < 0)
                        return error_wrap(err, "blob '%s'", a->blobs[i].digest);
        if (put_document(c, a->digest, OCI_MT_MANIFEST, a->manifest, a->manifest_len, &rs, err) < 0)
                return error_wrap(err, "manifest");
        *ret_kept = rs.oci_subject && streq(rs.oci_subject, subject);
        registry_verbose(c, "pushed artifact", a->digest, a->size, *ret_kept ? "(referrers API)" : NULL);
        return 0;
}

/* The referrers tag schema: the index tagged sha256-<hex> of the subject
 * gets the artifacts it does not list yet, after the ones it has. */
static int update_fallback(struct registry_client *c, const char *subject, const struct oci_referrers *r,
                           struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *body = NULL;
        _cleanup_(json_decrefp) json_t *old = NULL, *doc = json_object(), *arr = json_array();
        char tag[DIGEST_STR_LEN + 1], digest[DIGEST_STR_LEN + 1];
        _cleanup_http_response_ struct http_response rs = { 0 }, put = { 0 };
        json_t *manifests = NULL, *e;
        size_t len, i, added = 0;

        fallback_tag(subject, tag);
        url = registry_url_for(c, "manifests", tag);
        if (!url || !doc || !arr)
                return error_oom(err);
        if (registry_get_document(c, url, "Accept: " OCI_MT_INDEX, 0, &rs, err) < 0)
                return -1;
        if (rs.status == 200) {
                const char *mt;
                old = json_loadb(rs.body ? rs.body : "", rs.body_len, JSON_REJECT_DUPLICATES, NULL);
                manifests = json_object_get(old, "manifests");
                mt = json_string_value(json_object_get(old, "mediaType"));
                if (!json_is_array(manifests) || (mt && !streq(mt, OCI_MT_INDEX)))
                        return error_set(err, SMITH_ERR_REGISTRY,
                                         "tag '%s' holds something else than an image index: not overwritten", tag);
                if (json_array_size(manifests) > OCI_REFERRERS_INDEX_MAX)
                        return error_set(err, SMITH_ERR_REGISTRY, "tag '%s' lists more than %u manifests", tag,
                                         OCI_REFERRERS_INDEX_MAX);
        } else if (rs.status != 404)
                return registry_status_error(err, &rs, tag);
        json_array_foreach(manifests, i, e) {
                if (json_array_append(arr, e) < 0)
                        return error_oom(err);
        }
        for (size_t k = 0; k < r->n; k++) {
                bool have = false;
                json_array_foreach(arr, i, e) {
                        const char *dg = json_string_value(json_object_get(e, "digest"));
                        if (dg && streq(dg, r->artifacts[k].digest))
                                have = true;
                }
                if (have)
                        continue;
                if (json_array_append(arr, r->artifacts[k].descriptor) < 0)
                        return error_oom(err);
                added++;
        }
        if (added == 0 && old) {
                if (c->verbose)
                        log_info("tag '%s' lists every artifact already", tag);
                return 0;
        }
        if (json_object_set_new(doc, "schemaVersion", json_integer(2)) < 0 ||
            json_object_set_new(doc, "mediaType", json_string(OCI_MT_INDEX)) < 0 ||
            json_object_set(doc, "manifests", arr) < 0)
                return error_oom(err);
        if (oci_json_dump(doc, &body, &len, err) < 0)
                return -1;
        if (len > REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "tag '%s': index larger than %u bytes", tag,
                                 REGISTRY_MAX_MANIFEST);
        if (put_document(c, tag, OCI_MT_INDEX, body, len, &put, err) < 0)
                return error_wrap(err, "tag '%s'", tag);
        sha256_digest_of(body, len, digest);
        registry_verbose(c, "pushed referrers tag", digest, (int64_t) len, tag);
        return 0;
}

int registry_push_referrers(struct registry_client *c, int blobs_fd, const char *subject, const struct oci_referrers *r,
                            struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);
        bool all_kept = true;

        if (!digest_is_valid(subject))
                return error_set(err, SMITH_ERR_REGISTRY, "invalid subject digest");
        if (r->n == 0)
                return 0;
        if (registry_set_scopes(c, "pull,push") < 0)
                return error_oom(err);
        for (size_t i = 0; i < r->n; i++) {
                bool kept = false;
                if (push_artifact(c, blobs_fd, &r->artifacts[i], subject, &kept, err) < 0)
                        return error_wrap(err, "push artifact '%s' to '%s'", r->artifacts[i].digest,
                                          display ? display : "(image)");
                all_kept = all_kept && kept;
        }
        /* a registry without the referrers API: the tag schema */
        if (!all_kept && update_fallback(c, subject, r, err) < 0)
                return error_wrap(err, "push referrers of '%s' to '%s'", subject, display ? display : "(image)");
        return 0;
}
