/* Opening an image from an OCI image layout (a directory or a tarball of
 * one): choosing the index entry, following a manifest list to the host's
 * platform, verifying manifest and config, and for tarballs, importing the
 * blobs into the cache's verified blob store in one pass.  See
 * layout_read.h. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/stage.h"
#include "layer/unpack.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "store/cache.h"

#define MAX_BLOB_SIZE (64ULL << 30)
#define REFS_MAX (1U << 20)

static const char *const manifest_types[] = { OCI_MT_MANIFEST, DOCKER_MT_MANIFEST, NULL };
static const char *const index_types[] = { OCI_MT_INDEX, DOCKER_MT_MANIFEST_LIST, NULL };
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

static bool in_list(const char *const *l, const char *s) {
        if (!s)
                return false;
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

/* Quotes untrusted text for a message: at most 100 bytes, control
 * characters as '?'. */
static const char *shown(const char *s, char buf[static 128]) {
        size_t n = 0;
        if (!s)
                return "(none)";
        for (; s[n] && n < 100; n++)
                buf[n] = ((unsigned char) s[n] < 0x20 || s[n] == 0x7f) ? '?' : s[n];
        if (s[n]) {
                memcpy(buf + n, "...", 3);
                n += 3;
        }
        buf[n] = '\0';
        return buf;
}

static int parse_json(const char *buf, size_t len, const char *what, json_t **ret, struct smith_error **err) {
        json_error_t jerr;
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

        if (!j)
                return error_set(err, SMITH_ERR_SOURCE, "%s: invalid JSON at line %d: %s", what, jerr.line, jerr.text);
        if (!json_is_object(j)) {
                json_decref(j);
                return error_set(err, SMITH_ERR_SOURCE, "%s: not a JSON object", what);
        }
        *ret = j;
        return 0;
}

/* --- descriptors and blobs --- */

struct descriptor {
        const char *media_type; /* may be NULL */
        const char *digest;     /* valid */
        int64_t size;           /* >= 0 */
        json_t *annotations;    /* borrowed, may be NULL */
        json_t *platform;       /* borrowed, may be NULL */
};

static int parse_descriptor(json_t *j, const char *what, struct descriptor *d, struct smith_error **err) {
        json_t *mt, *dg, *sz;
        char b[128];

        if (!json_is_object(j))
                return error_set(err, SMITH_ERR_SOURCE, "%s: not a JSON object", what);
        mt = json_object_get(j, "mediaType");
        dg = json_object_get(j, "digest");
        sz = json_object_get(j, "size");
        if (mt && !json_is_string(mt))
                return error_set(err, SMITH_ERR_SOURCE, "%s: 'mediaType' is not a string", what);
        if (!json_is_string(dg) || !digest_is_valid(json_string_value(dg)))
                return error_set(err, SMITH_ERR_SOURCE, "%s: invalid digest '%s'", what,
                                 shown(json_is_string(dg) ? json_string_value(dg) : NULL, b));
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return error_set(err, SMITH_ERR_SOURCE, "%s: 'size' is not a non-negative integer", what);
        *d = (struct descriptor){
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

/* Reads a small blob whole and checks it against its descriptor. */
static int read_verified_blob(int blobs_fd, const char *what, const struct descriptor *d, char **ret, size_t *ret_len,
                              struct smith_error **err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char got[DIGEST_STR_LEN + 1];
        size_t len;
        int r;

        if (d->size > (int64_t) OCI_LAYOUT_MAX_JSON)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s' is too large (%" PRId64 " bytes, at most %u)", what,
                                 d->digest, d->size, OCI_LAYOUT_MAX_JSON);
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

int oci_image_open_blob(const struct oci_image *img, const char *digest, int *ret_fd, struct smith_error **err) {
        const char *src = img->source ? img->source : "image";
        char b[128];
        int r;

        if (!digest_is_valid(digest))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid digest '%s'", src, shown(digest, b));
        r = blob_open(img->blobs_fd, digest, ret_fd);
        if (r == -EBADF)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': blob '%s' is not a regular file", src, digest);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "'%s': blob '%s'", src, digest);
        return 0;
}

/* --- index, manifest and config --- */

/* The index entry for tag; with no tag given, "latest" or else the only
 * image. */
static int choose_entry(json_t *index, const char *tag, bool tag_given, struct descriptor *ret,
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
                if (!in_list(manifest_types, json_string_value(mt)) && !in_list(index_types, json_string_value(mt)))
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
        return parse_descriptor(match, "index.json", ret, err);
}

/* Follows a manifest list (one level) to the linux image for this host
 * (oci_index_pick(): an index inside it is not followed). */
static int choose_platform(int blobs_fd, const struct descriptor *list, struct oci_index_choice *choice,
                           struct descriptor *ret, struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_(json_decrefp) json_t *doc = NULL;
        struct oci_platform host;
        size_t len;

        if (read_verified_blob(blobs_fd, "index", list, &buf, &len, err) < 0 ||
            parse_json(buf, len, "index", &doc, err) < 0 || oci_platform_parse(NULL, &host, err) < 0 ||
            oci_index_pick(doc, list->digest, &host, SMITH_ERR_SOURCE, choice, err) < 0)
                return -1;
        *ret = (struct descriptor){ .media_type = choice->media_type, .digest = choice->digest, .size = choice->size };
        return 0;
}

/* Reads, verifies and parses the manifest img->manifest_digest and its
 * config, filling the rest of img. */
static int load_manifest(struct oci_image *img, struct smith_error **err) {
        struct descriptor md = {
                .media_type = img->manifest_media_type,
                .digest = img->manifest_digest,
                .size = img->manifest_size,
        };
        struct descriptor cd;
        _cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
        size_t mlen, clen, n;
        json_t *sv, *mt, *layers, *rootfs, *diff_ids, *e;
        char b[128];

        if (read_verified_blob(img->blobs_fd, "manifest", &md, &mbuf, &mlen, err) < 0 ||
            parse_json(mbuf, mlen, "manifest", &img->manifest, err) < 0)
                return -1;
        sv = json_object_get(img->manifest, "schemaVersion");
        if (!json_is_integer(sv) || json_integer_value(sv) != 2)
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': 'schemaVersion' is not 2", md.digest);
        mt = json_object_get(img->manifest, "mediaType");
        if (mt && (!json_is_string(mt) || !streq(json_string_value(mt), img->manifest_media_type)))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "manifest '%s': media type '%s' does not match its descriptor's '%s'", md.digest,
                                 shown(json_string_value(mt), b), img->manifest_media_type);

        if (parse_descriptor(json_object_get(img->manifest, "config"), "manifest config", &cd, err) < 0)
                return error_wrap(err, "manifest '%s'", md.digest);
        if (!in_list(config_types, cd.media_type))
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': unsupported config media type '%s'", md.digest,
                                 shown(cd.media_type, b));
        memcpy(img->config_digest, cd.digest, DIGEST_STR_LEN + 1);
        img->config_size = cd.size;
        if (read_verified_blob(img->blobs_fd, "config", &cd, &cbuf, &clen, err) < 0 ||
            parse_json(cbuf, clen, "config", &img->config, err) < 0)
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
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
        for (size_t i = 0; i < n; i++) {
                struct layer_ref *l = &img->layers[i];
                struct descriptor ld;
                const char *diff_id;

                e = json_array_get(layers, i);
                if (parse_descriptor(e, "layer", &ld, err) < 0)
                        return error_wrap(err, "manifest '%s': layer %zu", md.digest, i);
                if (!in_list(layer_types, ld.media_type))
                        return error_set(err, SMITH_ERR_SOURCE, "layer '%s': unsupported media type '%s'", ld.digest,
                                         shown(ld.media_type, b));
                diff_id = json_string_value(json_array_get(diff_ids, i));
                if (!digest_is_valid(diff_id))
                        return error_set(err, SMITH_ERR_SOURCE, "config '%s': invalid diff_id '%s'", cd.digest,
                                         shown(diff_id, b));
                memcpy(l->digest, ld.digest, DIGEST_STR_LEN + 1);
                memcpy(l->diff_id, diff_id, DIGEST_STR_LEN + 1);
                l->size = ld.size;
                l->media_type = strdup(ld.media_type);
                if (!l->media_type)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
                img->n_layers = i + 1;
        }
        return 0;
}

/* Takes the chosen manifest descriptor (an image manifest) into img. */
static int image_set_manifest(struct oci_image *img, const struct descriptor *d, json_t *annotations,
                              struct smith_error **err) {
        char b[128];

        if (!in_list(manifest_types, d->media_type))
                return error_set(err, SMITH_ERR_SOURCE, "manifest '%s': unsupported media type '%s'", d->digest,
                                 shown(d->media_type, b));
        memcpy(img->manifest_digest, d->digest, DIGEST_STR_LEN + 1);
        img->manifest_size = d->size;
        img->manifest_media_type = strdup(d->media_type);
        if (!img->manifest_media_type)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
        img->annotations = json_incref(annotations);
        return 0;
}

static int image_from_index(struct oci_image *img, const char *index_buf, size_t index_len, const char *tag,
                            bool tag_given, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *index = NULL;
        struct oci_index_choice choice;
        struct descriptor d, top;

        if (parse_json(index_buf, index_len, "index.json", &index, err) < 0 ||
            choose_entry(index, tag, tag_given, &top, err) < 0)
                return -1;
        d = top;
        if (in_list(index_types, top.media_type) && choose_platform(img->blobs_fd, &top, &choice, &d, err) < 0)
                return -1;
        if (image_set_manifest(img, &d, top.annotations, err) < 0)
                return -1;
        return load_manifest(img, err);
}

void oci_image_free(struct oci_image *img) {
        if (!img)
                return;
        json_decref(img->manifest);
        json_decref(img->config);
        json_decref(img->annotations);
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i].media_type);
        free(img->layers);
        free(img->manifest_media_type);
        free(img->source);
        if (img->blobs_fd >= 0)
                close(img->blobs_fd);
        free(img);
}

/* --- tarballs ---
 *
 * A tarball is read once, its members in whatever order they come: smith's
 * own writer puts index.json last, umoci and tar put the layer first.  Only
 * blobs the index references are kept, and nothing is written before it is
 * bounded:
 *
 *  - Every descriptor met so far is remembered with its size (struct
 *    import_ref): those of index.json, and those of every small blob that
 *    parses as JSON (manifests and indexes, whether referenced yet or not).
 *    A member with a remembered size must have it, per its tar header, or is
 *    refused before a byte of it is written; so is one whose digest does
 *    not match its name, as soon as it ends.
 *  - Once index.json is read, what it reaches is followed through the
 *    manifests and indexes available (stored here or in the cache), and
 *    again as each one it waits for arrives.  When none is missing, the set
 *    is final: a member outside it is skipped unread.
 *  - Before that, a member nobody has named yet is kept if it is small (at
 *    most OCI_LAYOUT_MAX_JSON: it may be a manifest, an index or a config),
 *    or if it may be a layer (gzip, zstd or tar by its first bytes).  Any
 *    other is nothing smith could read (layers are tar, manifests and
 *    configs small JSON), and is skipped unread.
 *
 * Kept members go to a directory of the import's own in the cache's tmp/
 * (flock()ed while in use, see cache.h), at most IMPORT_MAX_REFS files and
 * max_unpacked bytes, as the tarball's whole decompressed stream is.  At the
 * end the referenced ones move into the blob store, the rest go with the
 * directory, so the store never holds a blob no image referenced, and
 * nothing that was already there is touched. */

#define IMPORT_MAX_REFS (1U << 16) /* descriptors remembered, and members kept, in one tarball */
#define IMPORT_MAX_DEPTH 4         /* index -> index -> manifest -> blobs */

enum {
        REF_REACHABLE = 1 << 0, /* index.json references it */
        REF_WAITING = 1 << 1,   /* ... and it is a document not read yet */
};

enum ref_kind {
        KIND_BLOB,
        KIND_INDEX,
        KIND_MANIFEST,
};

struct import_ref {
        int64_t size; /* of the first descriptor naming it */
        unsigned flags;
        enum ref_kind kind; /* how it is followed, once reachable */
        unsigned depth;
        char digest[DIGEST_STR_LEN + 1];
};

struct import {
        struct cache *cache;
        struct unpack_limits limits;
        struct layer_reader *rd; /* borrowed */
        int dir_fd;              /* tmp/import-XXXXXX: the kept members, by hex */
        char *dir_name;          /* its name in tmp/, NULL if there is none */
        void *refs;              /* tsearch() of struct import_ref by digest */
        size_t n_refs, n_waiting;
        bool have_index;
        uint64_t kept;   /* bytes written to dir */
        size_t n_kept;   /* files in it */
        bool want_stage; /* the caller takes a stage (oci_image_open_layout_staged()) */
        struct layer_stage *stage;
        char stage_digest[DIGEST_STR_LEN + 1];
};

static int ref_cmp(const void *a, const void *b) {
        return strcmp(((const struct import_ref *) a)->digest, ((const struct import_ref *) b)->digest);
}

static struct import_ref *ref_find(struct import *imp, const char *digest) {
        struct import_ref key = {};
        void *node;

        if (!digest_is_valid(digest))
                return NULL;
        memcpy(key.digest, digest, DIGEST_STR_LEN + 1);
        node = tfind(&key, &imp->refs, ref_cmp);
        return node ? *(struct import_ref **) node : NULL;
}

/* The record of d, made on first sight; one digest has one size. */
static int ref_get(struct import *imp, const struct descriptor *d, struct import_ref **ret, struct smith_error **err) {
        struct import_ref *r = ref_find(imp, d->digest);

        if (r) {
                if (r->size != d->size)
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "blob '%s' is listed with sizes %" PRId64 " and %" PRId64, d->digest, r->size,
                                         d->size);
                *ret = r;
                return 0;
        }
        if (imp->n_refs >= IMPORT_MAX_REFS)
                return error_set(err, SMITH_ERR_SOURCE, "more than %u descriptors", IMPORT_MAX_REFS);
        r = calloc(1, sizeof(*r));
        if (!r)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "import");
        memcpy(r->digest, d->digest, DIGEST_STR_LEN + 1);
        r->size = d->size;
        if (!tsearch(r, &imp->refs, ref_cmp)) {
                free(r);
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "import");
        }
        imp->n_refs++;
        *ret = r;
        return 0;
}

/* The descriptors a document lists: a manifest's config and layers, an
 * index's manifests.  Anything else is not a descriptor and is passed
 * over: the image's loader reports what it needs. */
typedef int descriptor_fn(struct import *imp, const struct descriptor *d, unsigned depth, struct smith_error **err);

static int doc_descriptors(json_t *doc, descriptor_fn *fn, struct import *imp, unsigned depth,
                           struct smith_error **err) {
        json_t *lists[] = { json_object_get(doc, "manifests"), json_object_get(doc, "layers") };
        json_t *config = json_object_get(doc, "config"), *e;
        struct descriptor d;
        size_t i;

        if (json_is_object(config) && parse_descriptor(config, "", &d, NULL) == 0 && fn(imp, &d, depth, err) < 0)
                return -1;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                json_array_foreach(lists[l], i, e) {
                        if (parse_descriptor(e, "", &d, NULL) == 0 && fn(imp, &d, depth, err) < 0)
                                return -1;
                }
        return 0;
}

static int learn_one(struct import *imp, const struct descriptor *d, unsigned depth, struct smith_error **err) {
        struct import_ref *r;
        (void) depth;
        return ref_get(imp, d, &r, err);
}

/* A kept or stored blob whose descriptor says size bytes; -ENOENT if this
 * import has not got it (yet). */
static int import_read(struct import *imp, const char *digest, int64_t size, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = openat(imp->dir_fd, digest_hex(digest), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                r = blob_open(imp->cache->blobs_fd, digest, &fd);
                if (r < 0)
                        return r;
        }
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, (size_t) size, ret, ret_len);
}

static descriptor_fn reach;

/* Follows what the reachable document r (its bytes in buf) references. */
static int expand(struct import *imp, const struct import_ref *r, const char *buf, size_t len,
                  struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = NULL;

        if ((int64_t) len != r->size || parse_json(buf, len, "", &doc, NULL) < 0)
                return 0; /* not what its descriptor says: the loader will tell */
        return doc_descriptors(doc, reach, imp, r->depth + 1, err);
}

/* Marks d reachable from index.json, and what it references, as far as the
 * documents are here; the others are waited for. */
static int reach(struct import *imp, const struct descriptor *d, unsigned depth, struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;
        struct import_ref *r;
        size_t len;
        int q;

        if (ref_get(imp, d, &r, err) < 0)
                return -1;
        if (r->flags & REF_REACHABLE)
                return 0;
        r->flags |= REF_REACHABLE;
        r->kind = in_list(index_types, d->media_type)      ? KIND_INDEX
                  : in_list(manifest_types, d->media_type) ? KIND_MANIFEST
                                                           : KIND_BLOB;
        r->depth = depth;
        if (r->kind == KIND_BLOB || depth >= IMPORT_MAX_DEPTH || d->size > (int64_t) OCI_LAYOUT_MAX_JSON)
                return 0;
        q = import_read(imp, d->digest, d->size, &buf, &len);
        if (q == -ENOENT) {
                r->flags |= REF_WAITING;
                imp->n_waiting++;
                return 0;
        }
        if (q < 0)
                return 0; /* the loader will tell */
        return expand(imp, r, buf, len, err);
}

/* True once everything index.json references is known: any other member
 * is nothing the image needs. */
static bool import_closed(const struct import *imp) {
        return imp->have_index && imp->n_waiting == 0;
}

static int import_index(struct import *imp, const char *buf, size_t len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *index = NULL;

        if (parse_json(buf, len, "index.json", &index, err) < 0)
                return -1;
        imp->have_index = true;
        return doc_descriptors(index, reach, imp, 0, err);
}

/* Whether a blob starting with buf may be a JSON document. */
static bool may_be_json(const void *buf, size_t len) {
        const char *p = buf;
        size_t i = 0;

        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
                i++;
        return i == len || p[i] == '{';
}

/* A member just kept, verified: learn what it lists if it is a JSON
 * document, and follow it if index.json is waiting for it. */
static int import_kept(struct import *imp, const char *digest, int64_t size, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_free_ char *buf = NULL;
        struct import_ref *r;
        size_t len;

        if (import_read(imp, digest, size, &buf, &len) < 0 || parse_json(buf, len, "", &doc, NULL) < 0)
                return 0;
        if (doc_descriptors(doc, learn_one, imp, 0, err) < 0)
                return -1;
        r = ref_find(imp, digest);
        if (!r || !(r->flags & REF_WAITING))
                return 0;
        r->flags &= ~(unsigned) REF_WAITING;
        imp->n_waiting--;
        return expand(imp, r, buf, len, err);
}

static bool is_compressed(const void *buf, size_t len) {
        const uint8_t *p = buf;
        return len >= 4 &&
               ((p[0] == 0x1f && p[1] == 0x8b) || (p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd));
}

/* A tar header: its checksum (the sum of its bytes, the checksum field
 * counted as spaces) matches, signed or unsigned as tars differ. */
static bool is_tar_header(const uint8_t *h) {
        unsigned long want = 0, sum_u = 0;
        long sum_s = 0;
        size_t i = 148;

        while (i < 156 && h[i] == ' ')
                i++;
        if (i == 156 || h[i] < '0' || h[i] > '7')
                return false;
        for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
                want = want * 8 + (unsigned long) (h[i] - '0');
        if (i < 156 && h[i] != ' ' && h[i] != '\0')
                return false;
        for (i = 0; i < 512; i++) {
                uint8_t c = (i >= 148 && i < 156) ? ' ' : h[i];
                sum_u += c;
                sum_s += (signed char) c;
        }
        return want == sum_u || (long) want == sum_s;
}

/* Whether a blob starting with buf could be a layer: gzip, zstd or a tar.
 * Fewer than 512 bytes cannot tell, so they may. */
static bool may_be_layer(const void *buf, size_t len) {
        return len < 512 || is_compressed(buf, len) || is_tar_header(buf);
}

/* Imports the current member, blobs/sha256/<hex of digest>: kept in the
 * import's directory if its content matches digest, skipped if it is in
 * the store already or the rules above leave it out.  The first compressed
 * blob kept is also unpacked on the way, into imp->stage (layer/stage.h). */
static int import_blob(struct import *imp, struct archive_entry *e, const char *digest, struct smith_error **err) {
        struct archive *a = layer_reader_archive(imp->rd);
        _cleanup_(sha256_freep) struct sha256 *h = NULL;
        _cleanup_(layer_stage_freep) struct layer_stage *st = NULL;
        _cleanup_close_ int fd = -1;
        const char *hex = digest_hex(digest);
        const struct import_ref *ref;
        char got[DIGEST_STR_LEN + 1];
        int64_t size = archive_entry_size(e);
        uint64_t done = 0;
        const void *buf;
        size_t len;
        la_int64_t off;
        bool json;
        int r;

        if (cache_has_blob(imp->cache, digest) || faccessat(imp->dir_fd, hex, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* verified already */
        if (size < 0)
                return error_set(err, SMITH_ERR_SOURCE, "blob '%s': invalid size", digest);
        ref = ref_find(imp, digest);
        if (import_closed(imp) && !(ref && (ref->flags & REF_REACHABLE)))
                return 0;
        if (ref && size != ref->size)
                return error_set(err, SMITH_ERR_SOURCE, "blob '%s' is %s than its descriptor's size %" PRId64, digest,
                                 size > ref->size ? "larger" : "smaller", ref->size);

        r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) {
                buf = NULL;
                len = 0;
        } else if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return layer_reader_error(imp->rd, err, "read tar");
        if (!ref && size > (int64_t) OCI_LAYOUT_MAX_JSON && !may_be_layer(buf, len))
                return 0;
        json = size <= (int64_t) OCI_LAYOUT_MAX_JSON && may_be_json(buf, len);
        if ((uint64_t) size > imp->limits.max_unpacked - imp->kept) {
                unpack_error_total(err, imp->limits.max_unpacked);
                return error_wrap(err, "blob '%s'", digest);
        }
        if (imp->n_kept >= IMPORT_MAX_REFS)
                return error_set(err, SMITH_ERR_SOURCE, "more than %u blobs", IMPORT_MAX_REFS);

        h = sha256_new();
        if (!h)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "sha256");
        /* created read-only, as the store keeps it: committing is a rename */
        fd = openat(imp->dir_fd, hex, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write blob '%s' to '%s/tmp'", digest,
                                       imp->cache->path);
        while (r != ARCHIVE_EOF) {
                /* Sparse members could expand a small tarball into a huge
                 * file: blobs are never sparse. */
                if (off < 0 || (uint64_t) off != done)
                        return error_set(err, SMITH_ERR_SOURCE, "blob '%s' is a sparse file", digest);
                if (len > (uint64_t) size - done)
                        return error_set(err, SMITH_ERR_SOURCE, "blob '%s' is larger than its size %" PRId64, digest,
                                         size);
                if (done == 0 && imp->want_stage && !imp->stage && is_compressed(buf, len)) {
                        /* Only a shortcut: without it the layer is
                         * unpacked from the store later. */
                        struct smith_error *ignored = NULL;
                        if (layer_stage_start(imp->cache, digest, (uint64_t) size, &imp->limits, &st, &ignored) < 0)
                                error_free(ignored);
                }
                sha256_update(h, buf, len);
                r = write_full(fd, buf, len);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "write blob '%s' to '%s/tmp'", digest,
                                               imp->cache->path);
                if (st)
                        layer_stage_feed(st, buf, len);
                done += len;
                r = archive_read_data_block(a, &buf, &len, &off);
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN && r != ARCHIVE_EOF)
                        return layer_reader_error(imp->rd, err, "read tar");
        }
        sha256_final_digest(h, got);
        if (done != (uint64_t) size || !streq(got, digest))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "blob '%s' does not match its digest (content is '%s'): corrupt or tampered", digest,
                                 got);
        if (close(TAKE_FD(fd)) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write blob '%s' to '%s/tmp'", digest,
                                       imp->cache->path);
        imp->kept += (uint64_t) size;
        imp->n_kept++;
        if (st && layer_stage_end(st, true)) {
                imp->stage = TAKE_PTR(st);
                memcpy(imp->stage_digest, digest, DIGEST_STR_LEN + 1);
        }
        return json ? import_kept(imp, digest, size, err) : 0;
}

static void import_release(struct import *imp) {
        if (imp->dir_name)
                (void) rm_rf_at(imp->cache->tmp_fd, imp->dir_name);
        free(imp->dir_name);
        if (imp->dir_fd >= 0)
                close(imp->dir_fd);
        tdestroy(imp->refs, free);
        layer_stage_free(imp->stage);
}

static int import_init(struct import *imp, struct cache *cache, const struct unpack_limits *limits,
                       struct smith_error **err) {
        _cleanup_free_ char *tmp_dir = NULL, *path = NULL;
        int r;

        *imp = (struct import){ .cache = cache, .limits = unpack_limits_resolve(limits), .dir_fd = -1 };
        tmp_dir = path_join(cache->path, "tmp");
        if (!tmp_dir)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "import");
        r = mkdtemp_in(tmp_dir, "import-", &path);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create directory in '%s'", tmp_dir);
        imp->dir_name = strdup(strrchr(path, '/') + 1);
        if (!imp->dir_name) {
                (void) rm_rf_at(AT_FDCWD, path);
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "import");
        }
        imp->dir_fd = openat(cache->tmp_fd, imp->dir_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* held while in use, so a later cache_open() can tell it from garbage */
        if (imp->dir_fd < 0 || flock(imp->dir_fd, LOCK_EX | LOCK_NB) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open '%s'", path);
        return 0;
}

/* Moves the referenced kept blobs into the store. */
static int import_commit(struct import *imp, struct smith_error **err) {
        int dfd = fcntl(imp->dir_fd, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *de;
        DIR *d;

        if (dfd < 0 || !(d = fdopendir(dfd))) {
                r = -errno;
                if (dfd >= 0)
                        close(dfd);
                return error_set_errno(err, SMITH_ERR_IO, r, "read '%s/tmp/%s'", imp->cache->path, imp->dir_name);
        }
        while (r == 0 && (de = readdir(d))) {
                char digest[DIGEST_STR_LEN + 2], name[sizeof("blobs/sha256/") + SHA256_HEX_LEN];
                const struct import_ref *ref;

                if (strlen(de->d_name) != SHA256_HEX_LEN)
                        continue;
                snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
                ref = ref_find(imp, digest);
                if (!ref || !(ref->flags & REF_REACHABLE))
                        continue; /* goes with the directory */
                snprintf(name, sizeof(name), "blobs/sha256/%s", de->d_name);
                /* not fsynced: see cache_blob_commit() */
                if (renameat(imp->dir_fd, de->d_name, imp->cache->blobs_fd, name) < 0) {
                        r = -errno;
                        error_set_errno(err, SMITH_ERR_IO, r, "store blob '%s' in '%s'", digest, imp->cache->path);
                }
        }
        closedir(d);
        return r < 0 ? -1 : 0;
}

/* Reads the tarball once: blobs into the store (see above), index.json
 * into memory. */
static int import_tarball(struct cache *cache, int fd, const struct unpack_limits *limits, char **ret_index,
                          size_t *ret_len, struct layer_stage **ret_stage, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        _cleanup_free_ char *index = NULL;
        struct import imp;
        size_t index_len = 0;
        struct archive *a;
        int r = -1;

        if (import_init(&imp, cache, limits, err) < 0)
                goto out;
        imp.want_stage = ret_stage != NULL;
        /* all it holds, once decompressed, is bounded as an image's layers are */
        if (layer_reader_new_limited(fd, UINT64_MAX, &imp.limits, 0, 0, &rd, err) < 0)
                goto out;
        imp.rd = rd;
        a = layer_reader_archive(rd);
        for (;;) {
                struct archive_entry *e;
                const char *name;
                int q = archive_read_next_header(a, &e);

                if (q == ARCHIVE_EOF)
                        break;
                if (q != ARCHIVE_OK && q != ARCHIVE_WARN) {
                        layer_reader_error(rd, err, "read tar");
                        goto out;
                }
                name = archive_entry_pathname(e);
                if (!name || archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
                        continue;
                while (name[0] == '.' && name[1] == '/')
                        for (name += 2; *name == '/'; name++)
                                ;
                if (streq(name, "index.json")) {
                        int64_t size = archive_entry_size(e);
                        la_ssize_t n;

                        if (index) {
                                error_set(err, SMITH_ERR_SOURCE, "more than one index.json");
                                goto out;
                        }
                        if (size < 0 || size > (int64_t) OCI_LAYOUT_MAX_JSON) {
                                error_set(err, SMITH_ERR_SOURCE, "index.json is too large");
                                goto out;
                        }
                        index = malloc((size_t) size + 1);
                        if (!index) {
                                error_set_errno(err, SMITH_ERR_IO, ENOMEM, "index.json");
                                goto out;
                        }
                        while (index_len < (size_t) size) {
                                n = archive_read_data(a, index + index_len, (size_t) size - index_len);
                                if (n < 0) {
                                        layer_reader_error(rd, err, "read tar");
                                        goto out;
                                }
                                if (n == 0)
                                        break;
                                index_len += (size_t) n;
                        }
                        index[index_len] = '\0';
                        if (import_index(&imp, index, index_len, err) < 0)
                                goto out;
                } else if (strneq(name, "blobs/sha256/", 13)) {
                        char digest[DIGEST_STR_LEN + 2];
                        /* only a valid digest ever becomes a path */
                        if (strlen(name + 13) != SHA256_HEX_LEN)
                                continue;
                        snprintf(digest, sizeof(digest), "sha256:%s", name + 13);
                        if (!digest_is_valid(digest))
                                continue;
                        if (import_blob(&imp, e, digest, err) < 0)
                                goto out;
                }
        }
        if (!index) {
                error_set(err, SMITH_ERR_SOURCE, "no index.json in the archive");
                goto out;
        }
        if (import_commit(&imp, err) < 0)
                goto out;
        if (imp.stage && ret_stage) {
                const struct import_ref *ref = ref_find(&imp, imp.stage_digest);
                if (ref && (ref->flags & REF_REACHABLE))
                        *ret_stage = TAKE_PTR(imp.stage);
        }
        *ret_index = TAKE_PTR(index);
        *ret_len = index_len;
        r = 0;
out:
        import_release(&imp);
        return r;
}

/* refs/<sha256 of the tarball's identity and the tag>: the chosen manifest
 * descriptor and the index entry's annotations. */
static int tarball_ref_name(const struct stat *st, const char *tag, bool tag_given,
                            char ret[static 5 + SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1];

        if (asprintf(&id, "oci-layout-tarball\n%ju\n%ju\n%jd\n%jd.%09ld\n%jd.%09ld\n%s%s", (uintmax_t) st->st_dev,
                     (uintmax_t) st->st_ino, (intmax_t) st->st_size, (intmax_t) st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                     (intmax_t) st->st_ctim.tv_sec, st->st_ctim.tv_nsec, tag_given ? ":" : "",
                     tag_given ? tag : "") < 0)
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
        struct descriptor d;
        size_t len;

        if (read_file_at(cache->fd, refname, REFS_MAX, &buf, &len) < 0 || parse_json(buf, len, "ref", &j, &e) < 0 ||
            parse_descriptor(j, "ref", &d, &e) < 0 || !cache_has_blob(cache, d.digest) ||
            image_set_manifest(img, &d, d.annotations, &e) < 0)
                goto cold;
        if (load_manifest(img, &e) < 0)
                goto cold;
        for (size_t i = 0; i < img->n_layers; i++)
                if (!cache_has_blob(cache, img->layers[i].digest))
                        goto cold;
        img->from_cache = true;
        return 1;
cold:
        /* Forget whatever was half filled in. */
        json_decref(img->manifest);
        json_decref(img->config);
        json_decref(img->annotations);
        img->manifest = img->config = img->annotations = NULL;
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i].media_type);
        free(img->layers);
        img->layers = NULL;
        img->n_layers = 0;
        free(img->manifest_media_type);
        img->manifest_media_type = NULL;
        return 0;
}

static void tarball_remember(struct cache *cache, const struct oci_image *img, const char *refname) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_free_ char *s = NULL;

        j = json_pack("{s:s, s:s, s:I, s:O?}", "mediaType", img->manifest_media_type, "digest", img->manifest_digest,
                      "size", (json_int_t) img->manifest_size, "annotations", img->annotations);
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
                       const struct unpack_limits *limits, struct oci_image *img, struct layer_stage **ret_stage,
                       struct smith_error **err) {
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
                return image_from_index(img, index, index_len, tag, tag_given, err);
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
        if (tarball_ref_name(&st, tag, tag_given, refname) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "open");
        if (tarball_open_warm(cache, img, refname) > 0)
                return 0;

        if (import_tarball(cache, fd, limits, &index, &index_len, ret_stage, err) < 0 ||
            image_from_index(img, index, index_len, tag, tag_given, err) < 0)
                return -1;
        /* Remember it only if it did not change while we read it. */
        if (fstat(fd, &st2) == 0 && same_file(&st, &st2))
                tarball_remember(cache, img, refname);
        return 0;
}

int oci_image_open_layout(struct cache *cache, int base_dirfd, const char *ref, const struct unpack_limits *limits,
                          struct oci_image **ret, struct smith_error **err) {
        return oci_image_open_layout_staged(cache, base_dirfd, ref, limits, ret, NULL, err);
}

int oci_image_open_layout_staged(struct cache *cache, int base_dirfd, const char *ref,
                                 const struct unpack_limits *limits, struct oci_image **ret,
                                 struct layer_stage **ret_stage, struct smith_error **err) {
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(layer_stage_freep) struct layer_stage *stage = NULL;
        _cleanup_free_ char *path = NULL, *tag = NULL;
        bool tag_given;

        if (parse_ref(ref, &path, &tag) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "'%s'", ref);
        if (isempty(path))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': no path to an OCI layout", ref);
        tag_given = tag != NULL;
        if (tag_given && isempty(tag))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': empty tag", ref);

        img = calloc(1, sizeof(*img));
        if (!img)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "'%s'", path);
        img->blobs_fd = -1;
        img->source = strdup(path);
        if (!img->source)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "'%s'", path);
        if (open_layout(cache, base_dirfd, path, tag_given ? tag : "latest", tag_given, limits, img,
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
        struct descriptor d = { .media_type = media_type, .digest = digest, .size = size };

        if (!img)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "image");
        img->blobs_fd = -1;
        if (!digest_is_valid(digest) || size < 0)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid manifest descriptor", source);
        img->source = strdup(source);
        if (!img->source)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "image");
        img->blobs_fd = fcntl(blobs_fd, F_DUPFD_CLOEXEC, 3);
        if (img->blobs_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "'%s'", source);
        img->blobs_in_store = true;
        if (image_set_manifest(img, &d, NULL, err) < 0 || load_manifest(img, err) < 0)
                return error_wrap(err, "'%s'", source);
        *ret = TAKE_PTR(img);
        return 0;
}
