/* Deterministic tar writer on libarchive; see tarw.h.
 *
 * libarchive does the format work (ustar fields, pax records when needed,
 * padding, the end-of-archive records); we decide what goes into each
 * entry so nothing from the host (owner names, atime, the locale's idea of
 * a user) leaks in.  The archive is opened unblocked, with a write callback
 * into the blob_writer; a failure there is kept in cb_error, because
 * libarchive only knows "the callback failed".
 *
 * Non-ASCII names: pax records are UTF-8, and libarchive converts our names
 * from the locale's charset, so the bytes would depend on the caller's
 * locale.  We pin the thread to C.UTF-8 while libarchive writes a header:
 * a UTF-8 name goes out as itself ("path=café"), any other byte string as
 * itself with "hdrcharset=BINARY" (libarchive's fallback, reported as
 * ARCHIVE_WARN, which we accept).  ASCII names never need a pax record. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdbool.h>
#include <string.h>

#include "basic/fs.h"
#include "tarw.h"

/* Longest path or link target we put in a header (PATH_MAX-ish; pax has no
 * limit, readers do). */
#define TAR_PATH_MAX 4096
#define TAR_COPY_BUFFER (128u * 1024u)

struct tar_writer {
        struct archive *a;
        struct blob_writer *out;
        struct smith_error *cb_error; /* failure inside the write callback */
        bool failed;                  /* sticky */
        bool finished;
        bool discard;  /* being freed: the callback must not touch out */
        locale_t utf8; /* C.UTF-8 for header conversions, or 0 if missing */
};

static void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                archive_entry_free(*e);
}

static la_ssize_t write_cb(struct archive *a, void *userdata, const void *buf, size_t len) {
        struct tar_writer *t = userdata;

        if (t->discard)
                return (la_ssize_t) len;
        if (blob_writer_write(t->out, buf, len, &t->cb_error) < 0) {
                archive_set_error(a, EIO, "write to blob failed");
                return -1;
        }
        return (la_ssize_t) len;
}

/* Reports a libarchive failure, preferring the blob writer's own error. */
static int fail_archive(struct tar_writer *t, struct smith_error **err, const char *what, const char *path) {
        t->failed = true;
        if (t->cb_error) {
                int r = error_set(err, t->cb_error->kind, "%s", t->cb_error->msg);
                if (err && *err)
                        (*err)->errnum = t->cb_error->errnum;
                error_wrap(err, "%s '%s'", what, PATH_FOR_MSG(path));
                return r;
        }
        return error_from_archive(err, SMITH_ERR_IO, t->a, "%s '%s'", what, PATH_FOR_MSG(path));
}

int tar_writer_new(struct blob_writer *out, struct tar_writer **ret, struct smith_error **err) {
        _cleanup_(tar_writer_freep) struct tar_writer *t = NULL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return error_oom(err);
        t->out = out;
        t->discard = true; /* until open succeeds */
        t->a = archive_write_new();
        if (!t->a)
                return error_oom(err);
        /* unblocked: entries are padded to 512 by the format, the archive
         * itself is not padded to 10240 */
        if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(t->a, 0) != ARCHIVE_OK ||
            archive_write_open2(t->a, t, NULL, write_cb, NULL, NULL) != ARCHIVE_OK)
                return error_from_archive(err, SMITH_ERR_IO, t->a, "tar writer");
        t->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        t->discard = false;
        *ret = TAKE_PTR(t);
        return 0;
}

static int check_usable(struct tar_writer *t, const char *path, struct smith_error **err) {
        if (t->failed)
                return error_set(err, SMITH_ERR_IO, "add '%s': tar writer failed earlier", PATH_FOR_MSG(path));
        if (t->finished)
                return error_set(err, SMITH_ERR_IO, "add '%s': tar writer already finished", PATH_FOR_MSG(path));
        return 0;
}

/* Builds the header of one entry with only the fields we stand behind. */
static int make_entry(struct tar_writer *t, const char *path, mode_t type, const struct tar_entry_meta *m,
                      struct archive_entry **ret, struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_free_ char *name = NULL;
        size_t l;

        if (check_usable(t, path ? path : "", err) < 0)
                return -1;
        if (!path || !path_is_safe_relative(path))
                return error_set(err, SMITH_ERR_IO, "add '%s': not a safe relative path",
                                 path ? PATH_FOR_MSG(path) : "");
        l = strlen(path);
        if (l > TAR_PATH_MAX)
                return error_set(err, SMITH_ERR_IO, "add '%.64s...': path longer than %d bytes", path, TAR_PATH_MAX);
        while (l > 1 && path[l - 1] == '/')
                l--;
        if (asprintf(&name, "%.*s%s", (int) l, path, type == AE_IFDIR ? "/" : "") < 0)
                return error_oom(err);

        e = archive_entry_new2(t->a);
        if (!e)
                return error_oom(err);
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, m->perm & 07777);
        archive_entry_set_uid(e, m->uid);
        archive_entry_set_gid(e, m->gid);
        archive_entry_set_mtime(e, (time_t) m->mtime, 0);
        archive_entry_set_size(e, 0);
        *ret = TAKE_PTR(e);
        return 0;
}

static int write_header(struct tar_writer *t, struct archive_entry *e, const char *path, struct smith_error **err) {
        locale_t old = t->utf8 ? uselocale(t->utf8) : (locale_t) 0;
        int r = archive_write_header(t->a, e);

        if (t->utf8)
                uselocale(old);
        /* ARCHIVE_WARN: a name that is not UTF-8, written as raw bytes */
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                return fail_archive(t, err, "write tar header for", path);
        return 0;
}

static int write_data(struct tar_writer *t, const void *data, size_t len, const char *path, struct smith_error **err) {
        const char *p = data;

        while (len > 0) {
                la_ssize_t n = archive_write_data(t->a, p, len);
                if (n <= 0)
                        return fail_archive(t, err, "write tar data for", path);
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int finish_entry(struct tar_writer *t, const char *path, struct smith_error **err) {
        if (archive_write_finish_entry(t->a) != ARCHIVE_OK)
                return fail_archive(t, err, "finish tar entry", path);
        return 0;
}

int tar_writer_add_dir(struct tar_writer *t, const char *path, const struct tar_entry_meta *m,
                       struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;

        if (make_entry(t, path, AE_IFDIR, m, &e, err) < 0 || write_header(t, e, path, err) < 0)
                return -1;
        return finish_entry(t, path, err);
}

int tar_writer_add_data(struct tar_writer *t, const char *path, const void *data, size_t len,
                        const struct tar_entry_meta *m, struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;

        if (make_entry(t, path, AE_IFREG, m, &e, err) < 0)
                return -1;
        archive_entry_set_size(e, (la_int64_t) len);
        if (m->hash)
                sha256_update(m->hash, data, len);
        if (m->sha1)
                sha1_update(m->sha1, data, len);
        if (write_header(t, e, path, err) < 0 || write_data(t, data, len, path, err) < 0)
                return -1;
        return finish_entry(t, path, err);
}

int tar_writer_add_file_fd(struct tar_writer *t, const char *path, int fd, int64_t size, const struct tar_entry_meta *m,
                           struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;
        _cleanup_free_ char *buf = NULL;
        int64_t left = size;

        if (size < 0)
                return error_set(err, SMITH_ERR_IO, "add '%s': negative size", path ? PATH_FOR_MSG(path) : "");
        if (make_entry(t, path, AE_IFREG, m, &e, err) < 0)
                return -1;
        buf = malloc(TAR_COPY_BUFFER);
        if (!buf)
                return error_oom(err);
        archive_entry_set_size(e, (la_int64_t) size);
        if (write_header(t, e, path, err) < 0)
                return -1;

        /* The header is out: from here a short or long file leaves a broken
         * archive behind, so every failure also poisons the writer. */
        for (;;) {
                /* read one byte past the end, to notice a file that grew */
                size_t want = (size_t) MIN((int64_t) TAR_COPY_BUFFER, left + 1);
                ssize_t n = read(fd, buf, want);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        t->failed = true;
                        return error_set_errno(err, SMITH_ERR_IO, errno, "read '%s'", PATH_FOR_MSG(path));
                }
                if ((int64_t) n > left) {
                        t->failed = true;
                        return error_set(err, SMITH_ERR_IO, "read '%s': file is larger than %" PRId64 " bytes",
                                         PATH_FOR_MSG(path), size);
                }
                if (n == 0) {
                        if (left > 0) {
                                t->failed = true;
                                return error_set(err, SMITH_ERR_IO,
                                                 "read '%s': file ended after %" PRId64 " of %" PRId64 " bytes",
                                                 PATH_FOR_MSG(path), size - left, size);
                        }
                        break;
                }
                if (write_data(t, buf, (size_t) n, path, err) < 0)
                        return -1;
                if (m->hash)
                        sha256_update(m->hash, buf, (size_t) n);
                if (m->sha1)
                        sha1_update(m->sha1, buf, (size_t) n);
                left -= n;
        }
        return finish_entry(t, path, err);
}

int tar_writer_add_symlink(struct tar_writer *t, const char *path, const char *target, const struct tar_entry_meta *m,
                           struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;

        if (make_entry(t, path, AE_IFLNK, m, &e, err) < 0)
                return -1;
        if (isempty(target) || strlen(target) > TAR_PATH_MAX)
                return error_set(err, SMITH_ERR_IO, "add symlink '%s': empty or overlong target", PATH_FOR_MSG(path));
        archive_entry_set_symlink(e, target);
        if (write_header(t, e, path, err) < 0)
                return -1;
        return finish_entry(t, path, err);
}

int tar_writer_add_hardlink(struct tar_writer *t, const char *path, const char *target_path,
                            const struct tar_entry_meta *m, struct smith_error **err) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = NULL;

        if (make_entry(t, path, AE_IFREG, m, &e, err) < 0)
                return -1;
        if (!target_path || !path_is_safe_relative(target_path) || strlen(target_path) > TAR_PATH_MAX)
                return error_set(err, SMITH_ERR_IO, "add hardlink '%s': '%s' is not a safe relative path",
                                 PATH_FOR_MSG(path), target_path ? PATH_FOR_MSG(target_path) : "");
        archive_entry_set_hardlink(e, target_path);
        if (write_header(t, e, path, err) < 0)
                return -1;
        return finish_entry(t, path, err);
}

int tar_writer_finish(struct tar_writer *t, struct smith_error **err) {
        if (t->failed)
                return error_set(err, SMITH_ERR_IO, "finish tar: tar writer failed earlier");
        if (t->finished)
                return error_set(err, SMITH_ERR_IO, "finish tar: already finished");
        t->finished = true;
        if (archive_write_close(t->a) != ARCHIVE_OK)
                return fail_archive(t, err, "finish tar", "end of archive");
        return 0;
}

void tar_writer_free(struct tar_writer *t) {
        if (!t)
                return;
        /* archive_write_free() closes an open archive, which would write the
         * trailer: after a failure or an abandon, nothing more may reach out */
        t->discard = true;
        if (t->a)
                archive_write_free(t->a);
        if (t->utf8)
                freelocale(t->utf8);
        error_free(t->cb_error);
        free(t);
}
