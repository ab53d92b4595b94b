/* Opening an image from an OCI image layout (a directory or a tarball of
 * one): choosing the index entry, following a manifest list to the host's
 * platform, verifying manifest and config, and for tarballs, importing the
 * blobs into the cache's verified blob store in one pass.  See
 * layout_read.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/stage.h"
#include "oci/docker_archive.h"
#include "layer/unpack.h"
#include "oci/image.h"
#include "oci/layout-internal.h"
#include "oci/layout_read.h"
#include "store/cache.h"

#define MAX_BLOB_SIZE (64ULL << 30)
#define REFS_MAX (1U << 20)

const char *const oci_manifest_types[] = { OCI_MT_MANIFEST, DOCKER_MT_MANIFEST, NULL };
const char *const oci_index_types[] = { OCI_MT_INDEX, DOCKER_MT_MANIFEST_LIST, NULL };
static const char *const config_types[] = { OCI_MT_CONFIG, DOCKER_MT_CONFIG, NULL };
static const char *const layer_types[] = {
        OCI_MT_LAYER_TAR,
        OCI_MT_LAYER_GZIP,
        OCI_MT_LAYER_ZSTD,
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        DOCKER_MT_LAYER_GZIP,
        NULL,
};

bool oci_in_list(const char *const *l, const char *s) {
        if (!s)
                return false;
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int oci_parse_json(const char *buf, size_t len, const char *what, json_t **ret, struct smith_error **err) {
        json_error_t jerr;
        _cleanup_(json_decrefp) json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

        if (!j)
                return error_set(err, SMITH_ERR_SOURCE, "%s: invalid JSON at line %d: %s", what, jerr.line, jerr.text);
        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_SOURCE, "%s: not a JSON object", what);
        *ret = TAKE_PTR(j);
        return 0;
}

/* --- descriptors and blobs --- */

int oci_parse_descriptor(json_t *j, const char *what, struct oci_desc *d, struct smith_error **err) {
        json_t *mt, *dg, *sz;

        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_SOURCE, "%s: not a JSON object", what);
        mt = json_object_get(j, "mediaType");
        dg = json_object_get(j, "digest");
        sz = json_object_get(j, "size");
        if (mt && !json_is_string(mt))
                return error_set(err, SMITH_ERR_SOURCE, "%s: 'mediaType' is not a string", what);
        if (!json_is_string(dg) || !digest_is_valid(json_string_value(dg)))
                return error_set(err, SMITH_ERR_SOURCE, "%s: invalid digest '%s'", what,
                                 PATH_FOR_MSG(json_is_string(dg) ? json_string_value(dg) : NULL));
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return error_set(err, SMITH_ERR_SOURCE, "%s: 'size' is not a non-negative integer", what);
        *d = (struct oci_desc){
                .media_type = mt ? json_string_value(mt) : NULL,
                .digest = json_string_value(dg),
                .size = json_integer_value(sz),
                .annotations = json_object_get(j, "annotations"),
                .platform = json_object_get(j, "platform"),
        };
        if (d->annotations && !json_is_object(d->annotations))
                return error_set(err, SMITH_ERR_SOURCE, "%s: 'annotations' is not an object", what);
        return 0;
}

/* Reads a blob of at most max bytes whole and checks it against its
 * descriptor. */
static int read_verified_blob_max(int blobs_fd, const char *what, const struct oci_desc *d, size_t max, char **ret,
                                  size_t *ret_len, struct smith_error **err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char got[DIGEST_STR_LEN + 1];
        size_t len;
        int r;

        if ((uint64_t) d->size > max)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s' is too large (%" PRId64 " bytes, at most %zu)", what,
                                 d->digest, d->size, max);
        r = blob_open(blobs_fd, d->digest, &fd);
        if (r == -EBADF)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s': blob is not a regular file", what, d->digest);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "%s '%s'", what, d->digest);
        r = read_full_fd(fd, (size_t) d->size, &buf, &len);
        if (r == -EFBIG)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s' is larger than its descriptor's size %" PRId64, what,
                                 d->digest, d->size);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read %s '%s'", what, d->digest);
        if ((int64_t) len != d->size)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s' has %zu bytes, its descriptor says %" PRId64, what,
                                 d->digest, len, d->size);
        sha256_digest_of(buf, len, got);
        if (!streq(got, d->digest))
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s' does not match its digest (content is '%s')", what,
                                 d->digest, got);
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int oci_read_blob_verified(int blobs_fd, const char *what, const struct oci_desc *d, size_t max, char **ret,
                           size_t *ret_len, struct smith_error **err) {
        return read_verified_blob_max(blobs_fd, what, d, max, ret, ret_len, err);
}

/* A small blob: index, manifest, config. */
static int read_verified_blob(int blobs_fd, const char *what, const struct oci_desc *d, char **ret, size_t *ret_len,
                              struct smith_error **err) {
        return read_verified_blob_max(blobs_fd, what, d, OCI_LAYOUT_MAX_JSON, ret, ret_len, err);
}

int oci_image_open_blob(const struct oci_image *img, const char *digest, int *ret_fd, struct smith_error **err) {
        const char *src = img->source ? img->source : "image";
        int r;

        if (!digest_is_valid(digest))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid digest '%s'", src, PATH_FOR_MSG(digest));
        r = blob_open(img->blobs_fd, digest, ret_fd);
        if (r == -EBADF)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': blob '%s' is not a regular file", src, digest);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "'%s': blob '%s'", src, digest);
        return 0;
}

/* The manifests of the nested index that index.json lists with the
 * annotation OCI_ANNOTATION_REFERRERS = this image's manifest digest
 * (the artifacts that refer to it, as a registry's referrers response
 * lists them): 1 and *ret (the parsed index, "manifests" checked to be a
 * list), or 0 when there is none. */
static int read_referrers(const struct oci_image *img, json_t **ret, struct smith_error **err) {
        json_t *manifests = json_object_get(img->index, "manifests"), *e;
        size_t i;

        json_array_foreach(manifests, i, e) {
                _cleanup_free_ char *buf = NULL;
                json_t *ann = json_object_get(e, "annotations");
                _cleanup_(json_decrefp) json_t *idx = NULL;
                const char *subject = json_string_value(json_object_get(ann, OCI_ANNOTATION_REFERRERS));
                struct oci_desc d;
                size_t len;

                if (!subject || !streq(subject, img->manifest_digest) ||
                    !oci_in_list(oci_index_types, json_string_value(json_object_get(e, "mediaType"))))
                        continue;
                if (oci_parse_descriptor(e, "index.json", &d, err) < 0 ||
                    read_verified_blob(img->blobs_fd, "referrers index", &d, &buf, &len, err) < 0 ||
                    oci_parse_json(buf, len, "referrers index", &idx, err) < 0)
                        return -1;
                if (!json_is_array(json_object_get(idx, "manifests")))
                        return error_set(err, SMITH_ERR_SOURCE, "referrers index '%s': 'manifests' is not a list",
                                         d.digest);
                *ret = TAKE_PTR(idx);
                return 1;
        }
        return 0;
}

/* The blob of the artifact manifest d describes: its artifactType must be
 * artifact_type, its one layer is the blob, its subject this image. */
static int read_artifact(const struct oci_image *img, const struct oci_desc *d, const char *artifact_type, size_t max,
                         char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *m = NULL;
        _cleanup_free_ char *buf = NULL;
        json_t *layers, *subject;
        struct oci_desc blob, sd;
        size_t len;

        if (!oci_in_list(oci_manifest_types, d->media_type))
                return error_set(err, SMITH_ERR_SOURCE, "artifact '%s': not a manifest", d->digest);
        if (read_verified_blob(img->blobs_fd, "artifact manifest", d, &buf, &len, err) < 0 ||
            oci_parse_json(buf, len, "artifact manifest", &m, err) < 0)
                return -1;
        layers = json_object_get(m, "layers");
        subject = json_object_get(m, "subject");
        if (!json_is_string(json_object_get(m, "artifactType")) ||
            !streq(json_string_value(json_object_get(m, "artifactType")), artifact_type))
                return error_set(err, SMITH_ERR_SOURCE, "artifact '%s': artifactType is not '%s'", d->digest,
                                 artifact_type);
        if (!json_is_array(layers) || json_array_size(layers) != 1)
                return error_set(err, SMITH_ERR_SOURCE, "artifact '%s': not exactly one layer", d->digest);
        if (!subject || oci_parse_descriptor(subject, "artifact subject", &sd, err) < 0 ||
            !streq(sd.digest, img->manifest_digest))
                return subject ? error_set(err, SMITH_ERR_SOURCE, "artifact '%s': its subject is not the image",
                                           d->digest)
                               : error_set(err, SMITH_ERR_SOURCE, "artifact '%s': no subject", d->digest);
        if (oci_parse_descriptor(json_array_get(layers, 0), "artifact layer", &blob, err) < 0)
                return -1;
        return read_verified_blob_max(img->blobs_fd, artifact_type, &blob, max, ret, ret_len, err);
}

static const char *json_str_at(const json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

int oci_image_platform_index(const struct oci_image *img, char **ret, size_t *ret_len, struct smith_error **err) {
        const char *name = json_str_at(img->annotations, OCI_ANNOTATION_REF_NAME);
        json_t *e;
        size_t i;

        if (!name)
                return 0;
        json_array_foreach(json_object_get(img->index, "manifests"), i, e) {
                struct oci_desc d;
                if (!streq(json_str_at(json_object_get(e, "annotations"), OCI_ANNOTATION_REF_NAME) ?: "", name) ||
                    !oci_in_list(oci_index_types, json_str_at(e, "mediaType")))
                        continue;
                if (oci_parse_descriptor(e, "index.json", &d, err) < 0 ||
                    read_verified_blob_max(img->blobs_fd, "image index", &d, OCI_LAYOUT_MAX_JSON, ret, ret_len, err) <
                            0)
                        return error_wrap(err, "'%s'", img->source ? img->source : "image");
                return 1;
        }
        return 0;
}

int oci_image_read_index_blob(const struct oci_image *img, const char *media_type, size_t max, char **ret,
                              size_t *ret_len, struct smith_error **err) {
        json_t *manifests = json_object_get(img->index, "manifests"), *e;
        _cleanup_(json_decrefp) json_t *referrers = NULL;
        struct oci_desc d;
        size_t i;
        int r;

        json_array_foreach(manifests, i, e) {
                json_t *mt = json_object_get(e, "mediaType");
                if (!json_is_string(mt) || !streq(json_string_value(mt), media_type))
                        continue;
                if (oci_parse_descriptor(e, "index.json", &d, err) < 0 ||
                    read_verified_blob_max(img->blobs_fd, media_type, &d, max, ret, ret_len, err) < 0)
                        return error_wrap(err, "'%s'", img->source ? img->source : "image");
                return 1;
        }
        /* an artifact referring to the image, in the nested index */
        r = read_referrers(img, &referrers, err);
        if (r <= 0)
                return r < 0 ? error_wrap(err, "'%s'", img->source ? img->source : "image") : 0;
        json_array_foreach(json_object_get(referrers, "manifests"), i, e) {
                json_t *at = json_object_get(e, "artifactType");
                if (!json_is_string(at) || !streq(json_string_value(at), media_type))
                        continue;
                if (oci_parse_descriptor(e, "referrers index", &d, err) < 0 ||
                    read_artifact(img, &d, media_type, max, ret, ret_len, err) < 0)
                        return error_wrap(err, "'%s'", img->source ? img->source : "image");
                return 1;
        }
        return 0;
}

/* --- index, manifest and config --- */

/* The index entry for tag; with no tag given, "latest" or else the only
 * image. */
static int choose_entry(json_t *index, const char *tag, bool tag_given, struct oci_desc *ret,
                        struct smith_error **err) {
        json_t *manifests = json_object_get(index, "manifests"), *e, *match = NULL, *only = NULL;
        size_t i, n_images = 0;

        if (!json_is_array(manifests))
                return error_set(err, SMITH_ERR_SOURCE, "index.json: 'manifests' is not a list");
        json_array_foreach(manifests, i, e) {
                json_t *mt = json_object_get(e, "mediaType"), *ann = json_object_get(e, "annotations");
                json_t *name = json_is_object(ann) ? json_object_get(ann, OCI_ANNOTATION_REF_NAME) : NULL;

                if (!json_is_object(e))
                        return error_set(err, SMITH_ERR_SOURCE, "index.json: manifest %zu is not an object", i);
                if (!oci_in_list(oci_manifest_types, json_string_value(mt)) &&
                    !oci_in_list(oci_index_types, json_string_value(mt)))
                        continue;
                /* the index of an image's artifacts (referrers.h) is no image */
                if (json_is_object(ann) && json_object_get(ann, OCI_ANNOTATION_REFERRERS))
                        continue;
                n_images++;
                only = e;
                if (!match && json_is_string(name) && streq(json_string_value(name), tag))
                        match = e;
        }
        if (!match && !tag_given && n_images == 1)
                match = only;
        if (!match)
                return error_set(err, SMITH_ERR_SOURCE, "no image named '%s' in index.json", tag);
        return oci_parse_descriptor(match, "index.json", ret, err);
}

/* Follows a manifest list (one level) to the linux image for this host
 * (oci_index_pick(): an index inside it is not followed). */
static int choose_platform(int blobs_fd, const struct oci_desc *list, const struct oci_platform *want,
                           struct oci_index_choice *choice, struct oci_desc *ret, struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        struct oci_platform host;
        size_t len;

        if (read_verified_blob(blobs_fd, "index", list, &buf, &len, err) < 0 ||
            oci_parse_json(buf, len, "index", &doc, err) < 0 || (!want && oci_platform_parse(NULL, &host, err) < 0) ||
            oci_index_pick(doc, list->digest, want ? want : &host, SMITH_ERR_SOURCE, choice, err) < 0)
                return -1;
        *ret = (struct oci_desc){ .media_type = choice->media_type, .digest = choice->digest, .size = choice->size };
        return 0;
}

/* Reads, verifies and parses the manifest img->manifest_digest and its
 * config, filling the rest of img. */
static int load_manifest(struct oci_image *img, struct smith_error **err) {
        struct oci_desc md = {
                .media_type = img->manifest_media_type,
                .digest = img->manifest_digest,
                .size = img->manifest_size,
        };
        struct oci_desc cd;
        _cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
        size_t mlen, clen, n;
        json_t *sv, *mt, *layers, *rootfs, *diff_ids, *e;

        if (read_verified_blob(img->blobs_fd, "manifest", &md, &mbuf, &mlen, err) < 0 ||
            oci_parse_json(mbuf, mlen, "manifest", &img->manifest, err) < 0)
                return -1;
        sv = json_object_get(img->manifest, "schemaVersion");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': 'schemaVersion' is not 2", md.digest);
        mt = json_object_get(img->manifest, "mediaType");
        if (mt && (!json_is_string(mt) || !streq(json_string_value(mt), img->manifest_media_type)))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "manifest '%s': media type '%s' does not match its descriptor's '%s'", md.digest,
                                 PATH_FOR_MSG(json_string_value(mt)), img->manifest_media_type);

        if (oci_parse_descriptor(json_object_get(img->manifest, "config"), "manifest config", &cd, err) < 0)
                return error_wrap(err, "manifest '%s'", md.digest);
        if (!oci_in_list(config_types, cd.media_type))
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': unsupported config media type '%s'", md.digest,
                                 PATH_FOR_MSG(cd.media_type));
        memcpy(img->config_digest, cd.digest, DIGEST_STR_LEN + 1);
        img->config_size = cd.size;
        if (read_verified_blob(img->blobs_fd, "config", &cd, &cbuf, &clen, err) < 0 ||
            oci_parse_json(cbuf, clen, "config", &img->config, err) < 0)
                return -1;

        layers = json_object_get(img->manifest, "layers");
        rootfs = json_object_get(img->config, "rootfs");
        diff_ids = json_object_get(rootfs, "diff_ids");
        if (!json_is_array(layers))
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': 'layers' is not a list", md.digest);
        if (!json_is_array(diff_ids) || !json_is_string(json_object_get(rootfs, "type")) ||
            !streq(json_string_value(json_object_get(rootfs, "type")), "layers"))
                return error_set(err, SMITH_ERR_SOURCE, "config '%s': no 'rootfs' of type 'layers' with 'diff_ids'",
                                 cd.digest);
        n = json_array_size(layers);
        if (n != json_array_size(diff_ids))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "manifest '%s' has %zu layers but its config lists %zu diff_ids", md.digest, n,
                                 json_array_size(diff_ids));
        img->layers = calloc(n ? n : 1, sizeof(*img->layers));
        if (!img->layers)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                struct layer_ref *l = &img->layers[i];
                struct oci_desc ld;
                const char *diff_id;

                e = json_array_get(layers, i);
                if (oci_parse_descriptor(e, "layer", &ld, err) < 0)
                        return error_wrap(err, "manifest '%s': layer %zu", md.digest, i);
                if (!oci_in_list(layer_types, ld.media_type))
                        return error_set(err, SMITH_ERR_SOURCE, "layer '%s': unsupported media type '%s'", ld.digest,
                                         PATH_FOR_MSG(ld.media_type));
                diff_id = json_string_value(json_array_get(diff_ids, i));
                if (!digest_is_valid(diff_id))
                        return error_set(err, SMITH_ERR_SOURCE, "config '%s': invalid diff_id '%s'", cd.digest,
                                         PATH_FOR_MSG(diff_id));
                memcpy(l->digest, ld.digest, DIGEST_STR_LEN + 1);
                memcpy(l->diff_id, diff_id, DIGEST_STR_LEN + 1);
                l->size = ld.size;
                l->media_type = strdup(ld.media_type);
                if (!l->media_type)
                        return error_oom(err);
                img->n_layers = i + 1;
        }
        return 0;
}

/* Takes the chosen manifest descriptor (an image manifest) into img. */
static int image_set_manifest(struct oci_image *img, const struct oci_desc *d, json_t *annotations,
                              struct smith_error **err) {
        if (!oci_in_list(oci_manifest_types, d->media_type))
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': unsupported media type '%s'", d->digest,
                                 PATH_FOR_MSG(d->media_type));
        memcpy(img->manifest_digest, d->digest, DIGEST_STR_LEN + 1);
        img->manifest_size = d->size;
        img->manifest_media_type = strdup(d->media_type);
        if (!img->manifest_media_type)
                return error_oom(err);
        img->annotations = json_incref(annotations);
        return 0;
}

static int image_from_index(struct oci_image *img, const char *index_buf, size_t index_len, const char *tag,
                            bool tag_given, const struct oci_platform *want, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        struct oci_index_choice choice;
        struct oci_desc d, top;

        if (oci_parse_json(index_buf, index_len, "index.json", &index, err) < 0 ||
            choose_entry(index, tag, tag_given, &top, err) < 0)
                return -1;
        d = top;
        if (oci_in_list(oci_index_types, top.media_type) &&
            choose_platform(img->blobs_fd, &top, want, &choice, &d, err) < 0)
                return -1;
        if (image_set_manifest(img, &d, top.annotations, err) < 0)
                return -1;
        img->index = json_incref(index);
        return load_manifest(img, err);
}

/* Forgets the documents and layers: what a manifest filled in. */
static void image_clear(struct oci_image *img) {
        json_decref(img->manifest);
        json_decref(img->config);
        json_decref(img->annotations);
        json_decref(img->index);
        img->manifest = img->config = img->annotations = img->index = NULL;
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i].media_type);
        free(img->layers);
        img->layers = NULL;
        img->n_layers = 0;
        free(img->manifest_media_type);
        img->manifest_media_type = NULL;
}

void oci_image_free(struct oci_image *img) {
        if (!img)
                return;
        image_clear(img);
        free(img->source);
        if (img->blobs_fd >= 0)
                close(img->blobs_fd);
        free(img);
}

/* refs/<sha256 of the tarball's identity and the tag>: the chosen manifest
 * descriptor and the index entry's annotations. */
static int tarball_ref_name(const struct stat *st, const char *tag, bool tag_given, const struct oci_platform *want,
                            char ret[static 5 + SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1], shown[100] = "";

        /* the platform picked from an index is part of what was chosen
         * (this machine's, as before, when none is asked for) */
        if (want)
                snprintf(shown, sizeof(shown), "\nplatform %s", oci_platform_format(want, (char[100]){}));
        if (asprintf(&id, "oci-layout-tarball\n%ju\n%ju\n%jd\n%jd.%09ld\n%jd.%09ld\n%s%s%s", (uintmax_t) st->st_dev,
                     (uintmax_t) st->st_ino, (intmax_t) st->st_size, (intmax_t) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                     (intmax_t) st->st_ctim.tv_sec, st->st_ctim.tv_nsec, tag_given ? ":" : "", tag_given ? tag : "",
                     shown) < 0)
                return -ENOMEM;
        sha256_digest_of(id, strlen(id), d);
        snprintf(ret, 5 + SHA256_HEX_LEN + 1, "refs/%s", digest_hex(d));
        return 0;
}

/* Returns 1 if img was filled from the cache, 0 if the tarball must be read. */
static int tarball_open_warm(struct cache *cache, struct oci_image *img, const char *refname) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_(error_freep) struct smith_error *e = NULL;
        struct oci_desc d;
        size_t len;

        if (read_file_at(cache->fd, refname, REFS_MAX, &buf, &len) < 0 || oci_parse_json(buf, len, "ref", &j, &e) < 0 ||
            oci_parse_descriptor(j, "ref", &d, &e) < 0 || !cache_has_blob(cache, d.digest) ||
            image_set_manifest(img, &d, d.annotations, &e) < 0)
                goto cold;
        if (load_manifest(img, &e) < 0)
                goto cold;
        for (size_t i = 0; i < img->n_layers; i++)
                if (!cache_has_blob(cache, img->layers[i].digest))
                        goto cold;
        /* the index too, and the blobs it lists beside the images */
        {
                _cleanup_free_ char *ibuf = NULL;
                json_t *manifests, *entry;
                struct oci_desc id = { .media_type = "index.json" };
                size_t ilen, i;

                id.digest = json_string_value(json_object_get(j, "indexDigest"));
                id.size = json_integer_value(json_object_get(j, "indexSize"));
                if (!digest_is_valid(id.digest) || id.size <= 0 ||
                    read_verified_blob(cache->blobs_fd, "index.json", &id, &ibuf, &ilen, &e) < 0 ||
                    oci_parse_json(ibuf, ilen, "index.json", &img->index, &e) < 0)
                        goto cold;
                manifests = json_object_get(img->index, "manifests");
                json_array_foreach(manifests, i, entry) {
                        const char *mt = json_string_value(json_object_get(entry, "mediaType"));
                        const char *dg = json_string_value(json_object_get(entry, "digest"));
                        if (!oci_in_list(oci_manifest_types, mt) && !oci_in_list(oci_index_types, mt) &&
                            (!digest_is_valid(dg) || !cache_has_blob(cache, dg)))
                                goto cold;
                }
        }
        img->from_cache = true;
        return 1;
cold:
        image_clear(img); /* whatever was half filled in */
        return 0;
}

/* Puts a small verified blob (its digest computed here) into the store. */
static int store_blob(struct cache *cache, const char *buf, size_t len, char digest[static DIGEST_STR_LEN + 1]) {
        _cleanup_(error_freep) struct smith_error *e = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;

        sha256_digest_of(buf, len, digest);
        if (cache_has_blob(cache, digest))
                return 0;
        if (cache_tmpfile(cache, &tmp, &fd, &e) < 0)
                return -1;
        if (write_full(fd, buf, len) < 0) {
                unlinkat(cache->tmp_fd, tmp, 0);
                return -1;
        }
        return cache_blob_commit(cache, fd, tmp, digest, &e);
}

/* The note: the manifest's descriptor and the index entry's annotations,
 * with index.json (kept in the store) for what else the index lists. */
static void tarball_remember(struct cache *cache, const struct oci_image *img, const char *index, size_t index_len,
                             const char *refname) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *s = NULL;
        char index_digest[DIGEST_STR_LEN + 1];

        if (store_blob(cache, index, index_len, index_digest) < 0)
                return;
        j = json_pack("{s:s, s:s, s:I, s:O?, s:s, s:I}", "mediaType", img->manifest_media_type, "digest",
                      img->manifest_digest, "size", (json_int_t) img->manifest_size, "annotations", img->annotations,
                      "indexDigest", index_digest, "indexSize", (json_int_t) index_len);
        s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        /* only a shortcut: failing to write it costs a re-read next time */
        if (s)
                (void) write_file_atomic_at(cache->fd, refname, s, strlen(s), 0600);
}

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
               a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* --- opening --- */

/* "path[:tag]": the tag follows the last ':' unless a '/' comes after it. */
static int parse_ref(const char *ref, char **ret_path, char **ret_tag) {
        const char *colon = strrchr(ref, ':');
        char *p, *t = NULL;

        if (colon && !strchr(colon + 1, '/')) {
                p = strndup(ref, (size_t) (colon - ref));
                t = strdup(colon + 1);
                if (!t) {
                        free(p);
                        return -ENOMEM;
                }
        } else
                p = strdup(ref);
        if (!p) {
                free(t);
                return -ENOMEM;
        }
        *ret_path = p;
        *ret_tag = t;
        return 0;
}

static int open_layout(struct cache *cache, int base_dirfd, const char *path, const char *tag, bool tag_given,
                       const struct oci_platform *want, const struct unpack_limits *limits, struct oci_image *img,
                       struct layer_stage **ret_stage, struct smith_error **err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *index = NULL;
        size_t index_len;
        struct stat st, st2;
        char refname[5 + SHA256_HEX_LEN + 1];
        int r, fl;

        fd = openat(base_dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "open");
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "stat");

        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int ifd = -1;

                img->blobs_fd = TAKE_FD(fd);
                ifd = root_openat(img->blobs_fd, "index.json", O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
                if (ifd < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, ifd, "index.json");
                if (fstat(ifd, &st) < 0 || !S_ISREG(st.st_mode))
                        return error_set(err, SMITH_ERR_SOURCE, "index.json is not a regular file");
                r = read_full_fd(ifd, OCI_LAYOUT_MAX_JSON, &index, &index_len);
                if (r == -EFBIG)
                        return error_set(err, SMITH_ERR_SOURCE, "index.json is too large");
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "read index.json");
                return image_from_index(img, index, index_len, tag, tag_given, want, err);
        }
        if (!S_ISREG(st.st_mode))
                return error_set(err, SMITH_ERR_SOURCE, "not a directory or a regular file");
        if (!cache)
                return error_set(err, SMITH_ERR_IO, "a layout tarball needs the cache");
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open");

        img->blobs_fd = fcntl(cache->blobs_fd, F_DUPFD_CLOEXEC, 3);
        if (img->blobs_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open cache");
        img->blobs_in_store = true;
        if (tarball_ref_name(&st, tag, tag_given, want, refname) < 0)
                return error_oom(err);
        if (tarball_open_warm(cache, img, refname) > 0)
                return 0;

        r = oci_import_tarball(cache, fd, limits, &index, &index_len, ret_stage, err);
        if (r == OCI_IMPORT_NO_INDEX) {
                /* what a --format docker-archive build (or docker save) writes */
                error_free(TAKE_PTR(*err));
                r = docker_archive_import(cache, fd, limits, &index, &index_len, err);
        }
        if (r < 0 || image_from_index(img, index, index_len, tag, tag_given, want, err) < 0)
                return -1;
        /* Remember it only if it did not change while we read it. */
        if (fstat(fd, &st2) == 0 && same_file(&st, &st2))
                tarball_remember(cache, img, index, index_len, refname);
        return 0;
}

int oci_image_open_layout(struct cache *cache, int base_dirfd, const char *ref, const struct unpack_limits *limits,
                          struct oci_image **ret, struct smith_error **err) {
        return oci_image_open_layout_staged(cache, base_dirfd, ref, NULL, limits, ret, NULL, err);
}

int oci_image_open_layout_staged(struct cache *cache, int base_dirfd, const char *ref, const struct oci_platform *want,
                                 const struct unpack_limits *limits, struct oci_image **ret,
                                 struct layer_stage **ret_stage, struct smith_error **err) {
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(layer_stage_freep) struct layer_stage *stage = NULL;
        _cleanup_free_ char *path = NULL, *tag = NULL;
        bool tag_given;

        if (parse_ref(ref, &path, &tag) < 0)
                return error_oom(err);
        if (isempty(path))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': no path to an OCI layout", ref);
        tag_given = tag != NULL;
        if (tag_given && isempty(tag))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': empty tag", ref);

        img = calloc(1, sizeof(*img));
        if (!img)
                return error_oom(err);
        img->blobs_fd = -1;
        img->source = strdup(path);
        if (!img->source)
                return error_oom(err);
        if (open_layout(cache, base_dirfd, path, tag_given ? tag : "latest", tag_given, want, limits, img,
                        ret_stage ? &stage : NULL, err) < 0)
                return error_wrap(err, "'%s'", path);
        *ret = TAKE_PTR(img);
        if (ret_stage)
                *ret_stage = TAKE_PTR(stage);
        return 0;
}

int oci_image_from_store(int blobs_fd, const char *media_type, const char *digest, int64_t size, const char *source,
                         struct oci_image **ret, struct smith_error **err) {
        _cleanup_(oci_image_freep) struct oci_image *img = calloc(1, sizeof(*img));
        struct oci_desc d = { .media_type = media_type, .digest = digest, .size = size };

        if (!img)
                return error_oom(err);
        img->blobs_fd = -1;
        if (!digest_is_valid(digest) || size < 0)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid manifest descriptor", source);
        img->source = strdup(source);
        if (!img->source)
                return error_oom(err);
        img->blobs_fd = fcntl(blobs_fd, F_DUPFD_CLOEXEC, 3);
        if (img->blobs_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "'%s'", source);
        img->blobs_in_store = true;
        if (image_set_manifest(img, &d, NULL, err) < 0 || load_manifest(img, err) < 0)
                return error_wrap(err, "'%s'", source);
        *ret = TAKE_PTR(img);
        return 0;
}
