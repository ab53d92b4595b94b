/* Importing an OCI layout tarball into the cache's store, in one pass
 * over a stream that is hostile in every byte.  The scheme is below, at
 * "tarballs". */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/progress.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/reader.h"
#include "layer/stage.h"
#include "oci/image.h"
#include "oci/layout-internal.h"
#include "oci/layout_read.h"
#include "store/cache.h"

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
 *    or if it may be a layer (gzip, zstd or tar by its first bytes) or a
 *    larger JSON document (an artifact's, such as an SBOM).  Any other is
 *    nothing smith could read (layers are tar, manifests and configs small
 *    JSON), and is skipped unread.
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
static int ref_get(struct import *imp, const struct oci_desc *d, struct import_ref **ret, struct smith_error **err) {
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
                return error_oom(err);
        memcpy(r->digest, d->digest, DIGEST_STR_LEN + 1);
        r->size = d->size;
        if (!tsearch(r, &imp->refs, ref_cmp)) {
                free(r);
                return error_oom(err);
        }
        imp->n_refs++;
        *ret = r;
        return 0;
}

/* The descriptors a document lists: a manifest's config and layers, an
 * index's manifests.  Anything else is not a descriptor and is passed
 * over: the image's loader reports what it needs. */
typedef int descriptor_fn(struct import *imp, const struct oci_desc *d, unsigned depth, struct smith_error **err);

static int doc_descriptors(json_t *doc, descriptor_fn *fn, struct import *imp, unsigned depth,
                           struct smith_error **err) {
        json_t *lists[] = { json_object_get(doc, "manifests"), json_object_get(doc, "layers") };
        json_t *config = json_object_get(doc, "config"), *e;
        struct oci_desc d;
        size_t i;

        if (json_is_object(config) && oci_parse_descriptor(config, "", &d, NULL) == 0 && fn(imp, &d, depth, err) < 0)
                return -1;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                json_array_foreach(lists[l], i, e) {
                        if (oci_parse_descriptor(e, "", &d, NULL) == 0 && fn(imp, &d, depth, err) < 0)
                                return -1;
                }
        return 0;
}

static int learn_one(struct import *imp, const struct oci_desc *d, unsigned depth, struct smith_error **err) {
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

        if ((int64_t) len != r->size || oci_parse_json(buf, len, "", &doc, NULL) < 0)
                return 0; /* not what its descriptor says: the loader will tell */
        return doc_descriptors(doc, reach, imp, r->depth + 1, err);
}

/* Marks d reachable from index.json, and what it references, as far as the
 * documents are here; the others are waited for. */
static int reach(struct import *imp, const struct oci_desc *d, unsigned depth, struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;
        struct import_ref *r = NULL;
        size_t len;
        int q;

        if (ref_get(imp, d, &r, err) < 0)
                return -1;
        if (r->flags & REF_REACHABLE)
                return 0;
        r->flags |= REF_REACHABLE;
        r->kind = oci_in_list(oci_index_types, d->media_type)      ? KIND_INDEX
                  : oci_in_list(oci_manifest_types, d->media_type) ? KIND_MANIFEST
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

        if (oci_parse_json(buf, len, "index.json", &index, err) < 0)
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

        if (import_read(imp, digest, size, &buf, &len) < 0 || oci_parse_json(buf, len, "", &doc, NULL) < 0)
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
        /* larger JSON: a document an artifact carries (an SBOM) */
        if (!ref && size > (int64_t) OCI_LAYOUT_MAX_JSON && !may_be_layer(buf, len) && !may_be_json(buf, len))
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
                return error_oom(err);
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
                progress_add(len);
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
        *imp = (struct import){ .cache = cache, .limits = unpack_limits_resolve(limits), .dir_fd = -1 };
        return cache_tmpdir(cache, "import-", &imp->dir_name, &imp->dir_fd, err);
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
int oci_import_tarball(struct cache *cache, int fd, const struct unpack_limits *limits, char **ret_index,
                       size_t *ret_len, struct layer_stage **ret_stage, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        _cleanup_free_ char *index = NULL;
        struct import imp;
        size_t index_len = 0;
        struct archive *a;
        int r = -1;

        {
                /* about what the blobs take: the layout's own tar and gzip add little */
                struct stat fst;
                progress_start("import", fstat(fd, &fst) == 0 && fst.st_size > 0 ? (uint64_t) fst.st_size : 0);
        }
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
                                error_oom(err);
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
                r = OCI_IMPORT_NO_INDEX;
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
        progress_stop();
        import_release(&imp);
        return r;
}
