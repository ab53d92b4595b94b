/* Packs an OCI image layout into a .tar.gz; see layout_write.h.
 *
 * Everything is checked before the temp file exists (digests, sizes,
 * in-memory blobs' hashes, the index), then the archive streams through
 * one tar_writer into one gzip blob_writer into the temp file.  Blob files
 * are read once, while being written; their length is checked by
 * tar_writer_add_file_fd(). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/blob.h"
#include "layer/tarw.h"
#include "layout_write.h"

#define LAYOUT_FILE_MODE 0644

/* --- checks and ordering --- */

/* The blob writer's level for ours: 0 means the default there too, and
 * "stored" is the blob writer's level 0. */
static int blob_level(int gzip_level) {
        if (gzip_level == 0)
                return -1;
        if (gzip_level == LAYOUT_GZIP_STORED)
                return 0;
        return gzip_level;
}

static int check_blob(const struct layout_blob *b, struct smith_error **err) {
        char digest[DIGEST_STR_LEN + 1];

        if (!digest_is_valid(b->desc.digest))
                return error_set(err, SMITH_ERR_IO, "blob has invalid digest '%s'", b->desc.digest);
        if (b->desc.size < 0)
                return error_set(err, SMITH_ERR_IO, "blob '%s': negative size", b->desc.digest);
        if (b->in_blobs_dir || b->path || (!b->data && b->fd >= 0))
                return 0;
        if (!b->data && b->len > 0)
                return error_set(err, SMITH_ERR_IO, "blob '%s': no path, data or fd", b->desc.digest);
        if ((int64_t) b->len != b->desc.size)
                return error_set(err, SMITH_ERR_IO, "blob '%s': %zu bytes in memory, descriptor says %" PRId64,
                                 b->desc.digest, b->len, b->desc.size);
        sha256_digest_of(b->data, b->len, digest);
        if (!streq(digest, b->desc.digest))
                return error_set(err, SMITH_ERR_IO, "blob '%s': data hashes to '%s'", b->desc.digest, digest);
        return 0;
}

static int cmp_blob_ptr(const void *a, const void *b) {
        const struct layout_blob *x = *(const struct layout_blob *const *) a;
        const struct layout_blob *y = *(const struct layout_blob *const *) b;
        return strcmp(x->desc.digest, y->desc.digest);
}

/* Checks every blob and returns them sorted by digest, duplicates dropped. */
static int sorted_unique_blobs(const struct layout_blob *blobs, size_t n, const struct layout_blob ***ret,
                               size_t *ret_n, struct smith_error **err) {
        _cleanup_free_ const struct layout_blob **v = NULL;
        size_t k = 0;

        v = calloc(MAX(n, (size_t) 1), sizeof(*v));
        if (!v)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                if (check_blob(&blobs[i], err) < 0)
                        return -1;
                v[i] = &blobs[i];
        }
        qsort(v, n, sizeof(*v), cmp_blob_ptr);
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && streq(v[k - 1]->desc.digest, v[i]->desc.digest)) {
                        if (v[k - 1]->desc.size != v[i]->desc.size)
                                return error_set(err, SMITH_ERR_IO,
                                                 "blob '%s' listed with sizes %" PRId64 " and %" PRId64,
                                                 v[i]->desc.digest, v[k - 1]->desc.size, v[i]->desc.size);
                        continue;
                }
                v[k++] = v[i];
        }
        *ret = TAKE_PTR(v);
        *ret_n = k;
        return 0;
}

static int build_index(const struct oci_descriptor *m, size_t n, char **ret, size_t *ret_len,
                       struct smith_error **err) {
        return oci_index_build(m, n, "index.json", ret, ret_len, err);
}

/* --- the archive --- */

static int add_blob(struct tar_writer *t, const struct layout_blob *b, const struct tar_entry_meta *meta,
                    struct smith_error **err) {
        char name[BLOB_PATH_LEN + 1];
        const char *path = b->in_blobs_dir ? name : b->path;
        _cleanup_close_ int fd = -1;
        struct stat st;

        blob_path(b->desc.digest, name);
        if (!path && !b->data && b->fd >= 0) {
                if (lseek(b->fd, 0, SEEK_SET) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "seek blob '%s'", b->desc.digest);
                if (tar_writer_add_file_fd(t, name, b->fd, b->desc.size, meta, err) < 0)
                        return error_wrap(err, "blob '%s'", b->desc.digest);
                return 0;
        }
        if (!path)
                return tar_writer_add_data(t, name, b->data, b->len, meta, err);

        /* a layout's blobs are resolved inside it: never through a symlink out */
        fd = b->in_blobs_dir ? root_openat(b->dir_fd, path, O_RDONLY | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0)
                             : openat(b->dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, b->in_blobs_dir ? -fd : errno, "open blob '%s'", path);
        if (fstat(fd, &st) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stat blob '%s'", path);
        if (!S_ISREG(st.st_mode))
                return error_set(err, SMITH_ERR_IO, "blob '%s' is not a regular file", path);
        if (tar_writer_add_file_fd(t, name, fd, b->desc.size, meta, err) < 0)
                return error_wrap(err, "blob '%s' from '%s'", b->desc.digest, path);
        return 0;
}

static int write_archive(int fd, const struct layout_blob *const *blobs, size_t n, const char *index_json,
                         size_t index_len, const struct layout_writer_opts *o, struct smith_error **err) {
        static const char oci_layout[] = "{\"imageLayoutVersion\":\"" OCI_MT_LAYOUT "\"}";
        _cleanup_(blob_writer_freep) struct blob_writer *gz = NULL;
        _cleanup_(tar_writer_freep) struct tar_writer *t = NULL;
        const struct tar_entry_meta dir = { .perm = 0755, .mtime = o->mtime };
        const struct tar_entry_meta file = { .perm = LAYOUT_FILE_MODE, .mtime = o->mtime };
        int r;

        if (blob_writer_new(fd, o->plain ? BLOB_COMPRESS_NONE : BLOB_COMPRESS_GZIP, blob_level(o->gzip_level), &gz,
                            err) < 0)
                return -1;
        blob_writer_no_digests(gz); /* the archive's own digest is nobody's concern: its blobs have theirs */
        if (tar_writer_new(gz, &t, err) < 0)
                return -1;
        if (tar_writer_add_dir(t, "blobs", &dir, err) < 0 || tar_writer_add_dir(t, "blobs/sha256", &dir, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (add_blob(t, blobs[i], &file, err) < 0)
                        return -1;
        if (tar_writer_add_data(t, "oci-layout", oci_layout, strlen(oci_layout), &file, err) < 0 ||
            tar_writer_add_data(t, "index.json", index_json, index_len, &file, err) < 0 ||
            tar_writer_finish(t, err) < 0)
                return -1;
        /* the tar writer borrows gz: drop it before finishing gz */
        tar_writer_free(TAKE_PTR(t));
        r = blob_writer_finish(gz, NULL, err);
        return r;
}

int layout_write_targz(const char *out_path, const struct layout_blob *blobs, size_t n_blobs,
                       const struct oci_descriptor *index_manifests, size_t n_manifests,
                       const struct layout_writer_opts *o, struct smith_error **err) {
        static const struct layout_writer_opts defaults = { .mtime = 0, .gzip_level = -1 };
        _cleanup_free_ const struct layout_blob **sorted = NULL;
        _cleanup_free_ char *index_json = NULL;
        struct atomic_file f;
        size_t n_sorted = 0, index_len = 0;
        int r;

        if (isempty(out_path))
                return error_set(err, SMITH_ERR_IO, "write image layout: no output path");
        if (!o)
                o = &defaults;
        if (sorted_unique_blobs(blobs, n_blobs, &sorted, &n_sorted, err) < 0 ||
            build_index(index_manifests, n_manifests, &index_json, &index_len, err) < 0)
                return error_wrap(err, "write '%s'", out_path);

        /* unnamed until the rename: a killed build leaves nothing behind */
        r = atomic_file_open(out_path, &f);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s': create temp file", out_path);
        r = write_archive(f.fd, sorted, n_sorted, index_json, index_len, o, err);
        if (r < 0) {
                atomic_file_abort(&f);
                return error_wrap(err, "write '%s'", out_path);
        }
        r = atomic_file_commit(&f, LAYOUT_FILE_MODE);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s'", out_path);
        return 0;
}

int layout_copy_blob(int dfd, const struct layout_blob *b, struct smith_error **err) {
        char name[BLOB_PATH_LEN + 1];
        _cleanup_close_ int in = -1, out = -1;
        int r;

        blob_path(b->desc.digest, name);
        out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, LAYOUT_FILE_MODE);
        if (out < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create '%s'", name);
        if (b->data || (!b->in_blobs_dir && !b->path && b->fd < 0))
                return write_full(out, b->data, b->len) < 0 ? error_set_errno(err, SMITH_ERR_IO, errno, "'%s'", name)
                                                            : 0;
        if (b->in_blobs_dir)
                in = root_openat(b->dir_fd, name, O_RDONLY | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0);
        else if (b->path)
                in = openat(b->dir_fd, b->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        else
                in = fcntl(b->fd, F_DUPFD_CLOEXEC, 3);
        if (in < 0 || (!b->in_blobs_dir && !b->path && lseek(in, 0, SEEK_SET) < 0))
                return error_set_errno(err, SMITH_ERR_IO, in < 0 && b->in_blobs_dir ? -in : errno, "open blob '%s'",
                                       b->desc.digest);
        r = copy_bytes(in, out, (uint64_t) b->desc.size, NULL, NULL);
        return r < 0 ? error_set_errno(err, SMITH_ERR_IO, r, "'%s'", name) : 0;
}

int layout_write_dir(const char *out_path, const struct layout_blob *blobs, size_t n_blobs,
                     const struct oci_descriptor *index_manifests, size_t n_manifests, struct smith_error **err) {
        static const char oci_layout[] = "{\"imageLayoutVersion\":\"" OCI_MT_LAYOUT "\"}";
        _cleanup_free_ const struct layout_blob **sorted = NULL;
        _cleanup_free_ char *index_json = NULL, *copy = strdup(out_path ? out_path : ""), *tmp = NULL, *old = NULL;
        _cleanup_close_ int dfd = -1;
        size_t n_sorted = 0, index_len = 0;
        const char *parent;
        struct stat st;
        int r = -1;

        if (isempty(out_path) || !copy)
                return error_set(err, SMITH_ERR_IO, "write image layout: no output path");
        if (sorted_unique_blobs(blobs, n_blobs, &sorted, &n_sorted, err) < 0 ||
            build_index(index_manifests, n_manifests, &index_json, &index_len, err) < 0)
                return error_wrap(err, "write '%s'", out_path);
        /* a file or a directory that is not a layout is never replaced */
        if (lstat(out_path, &st) == 0) {
                _cleanup_free_ char *marker = path_join(out_path, "oci-layout");
                if (!S_ISDIR(st.st_mode) || !marker || access(marker, F_OK) < 0)
                        return error_set(err, SMITH_ERR_IO, "write '%s': it exists and is not an OCI layout directory",
                                         out_path);
        }
        parent = dirname(copy);
        if (mkdtemp_in(parent, ".smith-layout-", &tmp) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s': create a directory in '%s'", out_path,
                                       parent);
        dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fchmod(dfd, 0755) < 0 || mkdirat(dfd, "blobs", 0755) < 0 ||
            mkdirat(dfd, "blobs/sha256", 0755) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", out_path);
                goto out;
        }
        for (size_t i = 0; i < n_sorted; i++)
                if (layout_copy_blob(dfd, sorted[i], err) < 0) {
                        error_wrap(err, "write '%s'", out_path);
                        goto out;
                }
        if (write_file_atomic_at(dfd, "oci-layout", oci_layout, strlen(oci_layout), LAYOUT_FILE_MODE) < 0 ||
            write_file_atomic_at(dfd, "index.json", index_json, index_len, LAYOUT_FILE_MODE) < 0 || fsync(dfd) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", out_path);
                goto out;
        }
        /* the old layout, if any, moves aside and goes; the new one is never half there */
        if (lstat(out_path, &st) == 0) {
                if (asprintf(&old, "%s.old-XXXXXX", tmp) < 0 || !mkdtemp(old) || rmdir(old) < 0 ||
                    rename(out_path, old) < 0) {
                        error_set_errno(err, SMITH_ERR_IO, errno, "write '%s': move the old layout aside", out_path);
                        goto out;
                }
        }
        if (rename(tmp, out_path) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", out_path);
                if (old)
                        (void) rename(old, out_path);
                goto out;
        }
        free(TAKE_PTR(tmp));
        r = 0;
out:
        if (old)
                (void) rm_rf_at(AT_FDCWD, old);
        if (tmp)
                (void) rm_rf_at(AT_FDCWD, tmp);
        return r;
}

int layout_index_entry(struct oci_descriptor *d, const char *digest, int64_t size, const char *ref_name,
                       const struct oci_platform *p, struct smith_error **err) {
        *d = (struct oci_descriptor){ .media_type = (char *) OCI_MT_MANIFEST, .size = size };
        memcpy(d->digest, digest, sizeof(d->digest));
        d->annotations = json_object();
        d->platform = oci_platform_to_json(p);
        if (!d->annotations || !d->platform ||
            json_object_set_new(d->annotations, OCI_ANNOTATION_REF_NAME, json_string(ref_name)) < 0) {
                layout_index_entry_release(d);
                return error_oom(err);
        }
        return 0;
}

void layout_index_entry_release(struct oci_descriptor *d) {
        json_decref(d->annotations);
        json_decref(d->platform);
        d->annotations = d->platform = NULL;
}
