/* Pushing an image: every blob (HEAD first and skip what exists; a
 * cross-repository mount when this process saw the blob in another
 * repository of the registry; else POST then PUT, or PATCH chunks for large
 * blobs; a failed upload restarts that blob), then the manifest.  Uploads
 * are read from their files with pread(). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/strv.h"
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

static int do_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                   const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *ct = NULL;
        char digest[DIGEST_STR_LEN + 1];
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = { 0 };
        const char *reference;

        if (isempty(media_type) || strchr(media_type, '\r') || strchr(media_type, '\n'))
                return error_set(err, SMITH_ERR_REGISTRY, "manifest without a media type");
        if (manifest_len > REGISTRY_MAX_MANIFEST)
                return error_set(err, SMITH_ERR_REGISTRY, "manifest is larger than %u bytes", REGISTRY_MAX_MANIFEST);
        sha256_digest_of(manifest, manifest_len, digest);
        if (c->ref->digest && !streq(c->ref->digest, digest))
                return error_set(err, SMITH_ERR_USAGE, "the manifest's digest is '%s', not the one asked for", digest);
        if (registry_set_scopes(c, "pull,push") < 0)
                return error_oom(err);
        for (size_t i = 0; blob_digests && blob_digests[i]; i++)
                if (push_blob(c, blobs_fd, blob_digests[i], blob_sizes ? blob_sizes[i] : -1, err) < 0)
                        return error_wrap(err, "blob '%s'", blob_digests[i]);

        reference = c->ref->tag ? c->ref->tag : c->ref->digest;
        url = registry_url_for(c, "manifests", reference);
        if (!url || asprintf(&ct, "Content-Type: %s", media_type) < 0) {
                ct = NULL;
                return error_oom(err);
        }
        char *headers[] = { ct, NULL };
        http_request_init(&rq, "PUT", url);
        rq.headers = headers;
        rq.body = manifest;
        rq.body_len = manifest_len;
        if (registry_request(c, &rq, &rs, err) < 0)
                return error_wrap(err, "manifest");
        if (rs.status != 201 && rs.status != 200 && rs.status != 204) {
                registry_status_error(err, &rs, "manifest");
                return -1;
        }
        registry_verbose(c, "pushed manifest", digest, (int64_t) manifest_len, NULL);
        return 0;
}

int registry_push(struct registry_client *c, int blobs_fd, char *const *blob_digests, const int64_t *blob_sizes,
                  const char *manifest, size_t manifest_len, const char *media_type, struct smith_error **err) {
        _cleanup_free_ char *display = registry_ref_display(c->ref);

        if (do_push(c, blobs_fd, blob_digests, blob_sizes, manifest, manifest_len, media_type, err) < 0)
                return error_wrap(err, "push '%s'", display ? display : "(image)");
        return 0;
}
