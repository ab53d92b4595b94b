/* Applying a layer (or a package payload) to a root: each entry of the tar
 * that the reader (reader.c) decompresses is applied inside the root
 * through chase() and root_openat(), within the limits.
 *
 * Whiteouts only apply to lower layers (OCI image spec, "Whiteouts"), but a
 * layer may list them after entries of its own.  So the unpacker remembers
 * the resolved path of every entry this layer wrote (and their ancestors);
 * removing for a whiteout or an opaque marker skips those and descends into
 * directories that hold them. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <dirent.h>
#include <search.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/strv.h"
#include "layer/unpack.h"

/* --- entry names --- */

/* A hostile name may be huge or hold control characters: quote its head
 * and tail (path_for_msg()), with non-printable bytes as '?'. */
static char *name_for_msg(const char *s) {
        char buf[PATH_FOR_MSG_SIZE];
        return strdup(path_for_msg(s, buf));
}

/* An entry name as a path below the root: leading "/" and "./", "." and
 * empty components dropped; -EXDEV for a ".." component, -ENAMETOOLONG for
 * overlong names or components.  An empty result means the root itself. */
static int normalize_name(const char *in, char **ret) {
        return path_normalize(in, PATH_DOTDOT_REFUSE | PATH_CHECK_LENGTH, ret);
}

/* --- applying entries --- */

struct unpacker {
        int root_fd;
        struct unpack_stats *stats;
        uint64_t max_entry;
        void *created;   /* tsearch() set of resolved paths ("/a/b") this layer wrote */
        void *ancestors; /* ... and of their ancestors */
        /* The last parent resolved, reused while entries stay in one
         * directory; forgotten whenever anything is removed. */
        char *cached_parent;
        char *cached_resolved;
        int cached_fd;
        bool no_whiteouts;      /* package payloads: ".wh." names are plain names */
        bool keep_dir_symlinks; /* UNPACK_KEEP_DIR_SYMLINKS */
        bool list_paths;        /* UNPACK_LIST_PATHS */
};

static int set_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static bool set_contains(void *const *set, const char *s) {
        return tfind(s, set, set_cmp) != NULL;
}

static int set_add(void **set, const char *s) {
        char *k = strdup(s);
        void *node;
        if (!k)
                return -ENOMEM;
        node = tsearch(k, set, set_cmp);
        if (!node) {
                free(k);
                return -ENOMEM;
        }
        if (*(char **) node != k)
                free(k);
        return 0;
}

static void unpacker_forget_parent(struct unpacker *u) {
        free(u->cached_parent);
        free(u->cached_resolved);
        u->cached_parent = u->cached_resolved = NULL;
        if (u->cached_fd >= 0)
                close(u->cached_fd);
        u->cached_fd = -1;
}

static void unpacker_release(struct unpacker *u) {
        unpacker_forget_parent(u);
        tdestroy(u->created, free);
        tdestroy(u->ancestors, free);
        u->created = u->ancestors = NULL;
}

static char *resolved_join(const char *dir, const char *name) {
        char *r;
        if (asprintf(&r, "%s/%s", streq(dir, "/") ? "" : dir, name) < 0)
                return NULL;
        return r;
}

/* Records that this layer wrote dir/name. */
static int unpacker_note_created(struct unpacker *u, const char *dir, const char *name) {
        _cleanup_free_ char *p = resolved_join(dir, name);
        char *slash;

        if (!p || set_add(&u->created, p) < 0)
                return -ENOMEM;
        while ((slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (set_contains(&u->ancestors, p))
                        break;
                if (set_add(&u->ancestors, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Resolves the entry's parent directory inside the root (symlinks followed
 * there, never out), creating missing directories if create.  Returns a
 * borrowed fd and resolved path, or -errno. */
static int unpacker_parent(struct unpacker *u, const char *parent, bool create, int *ret_fd,
                           const char **ret_resolved) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *resolved = NULL, *name = NULL, *copy = NULL;
        int r;

        if (u->cached_parent && streq(u->cached_parent, parent)) {
                *ret_fd = u->cached_fd;
                *ret_resolved = u->cached_resolved;
                return 0;
        }
        unpacker_forget_parent(u);
        if (create && *parent) {
                r = root_mkdir_p(u->root_fd, parent, 0755);
                if (r < 0)
                        return r;
        }
        r = chase(u->root_fd, *parent ? parent : ".", 0, NULL, NULL, &resolved, &dfd, &name);
        if (r < 0)
                return r;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        copy = strdup(parent);
        if (!copy)
                return -ENOMEM;
        u->cached_parent = TAKE_PTR(copy);
        u->cached_resolved = TAKE_PTR(resolved);
        u->cached_fd = TAKE_FD(fd);
        *ret_fd = u->cached_fd;
        *ret_resolved = u->cached_resolved;
        return 0;
}

/* Makes room for a new entry name in dfd.  Returns 1 if keep_dir and a
 * directory is there (kept), 0 if the slot is free, -errno.  Removing a
 * directory or a symlink may change how the cached parent resolves, so the
 * cache (and with it dfd, if it was the cached fd) is then dropped: callers
 * check u->cached_fd and resolve again. */
static int unpacker_clear_slot(struct unpacker *u, int dfd, const char *name, bool keep_dir) {
        struct stat st;
        int r = 0;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && keep_dir)
                return 1;
        if (S_ISDIR(st.st_mode))
                r = rm_rf_at(dfd, name);
        else if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                r = -errno;
        if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
                unpacker_forget_parent(u);
        return r;
}

/* UNPACK_KEEP_DIR_SYMLINKS: 1 if dfd/name (resolved path dir/name) is a
 * symlink that resolves, inside the root, to a directory. */
static int dir_symlink_kept(struct unpacker *u, int dfd, const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL, *last = NULL;
        _cleanup_close_ int ldfd = -1;
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return 0;
        p = resolved_join(dir, name);
        if (!p)
                return -ENOMEM;
        if (chase(u->root_fd, p, 0, NULL, NULL, NULL, &ldfd, &last) < 0)
                return 0;
        return fstatat(ldfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int wipe_children(struct unpacker *u, int dfd, const char *path);

/* Removes dfd/name (resolved path dir/name) as a lower layer's entry:
 * whatever this layer wrote there survives. */
static int wipe(struct unpacker *u, int dfd, const char *dir, const char *name) {
        _cleanup_free_ char *p = resolved_join(dir, name);
        _cleanup_close_ int cfd = -1;
        struct stat st;

        if (!p)
                return -ENOMEM;
        if (!set_contains(&u->created, p) && !set_contains(&u->ancestors, p))
                return rm_rf_at(dfd, name);
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return 0;
        cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return -errno;
        return wipe_children(u, cfd, p);
}

static int wipe_children(struct unpacker *u, int dfd, const char *path) {
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                int q;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                q = wipe(u, dirfd(d), path, de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

static int unpack_whiteout(struct unpacker *u, const char *parent, const char *base, const char *shown,
                           struct smith_error **err) {
        const char *target = base + 4;
        const char *resolved;
        int dfd, r;

        if (streq(base, ".wh..wh..opq"))
                target = NULL;
        else if (strneq(base, ".wh..wh.", 8)) {
                /* aufs bookkeeping (.wh..wh.plnk, ...): nothing for us */
                u->stats->skipped++;
                return 0;
        } else if (streq(target, ".."))
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' escapes the root", shown);
        else if (isempty(target) || streq(target, "."))
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' is not a valid whiteout", shown);

        u->stats->whiteouts++;
        /* Everything may go away: nothing cached survives a whiteout. */
        unpacker_forget_parent(u);
        r = unpacker_parent(u, parent, false, &dfd, &resolved);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0; /* nothing below to hide */
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s'", shown);
        if (target)
                r = wipe(u, dfd, resolved, target);
        else
                r = wipe_children(u, dfd, resolved);
        unpacker_forget_parent(u);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': remove", shown);
        return 0;
}

/* A sparse file's holes take no room in the tar, but as much on the disk
 * of whoever copies the file later as data: the bytes between the data
 * (data of them so far) and the file's end (end so far) count as unpacked
 * too, *holes being what was counted already. */
static int charge_holes(struct layer_reader *rd, uint64_t end, uint64_t data, uint64_t *holes,
                        struct smith_error **err) {
        uint64_t h = end > data ? end - data : 0;

        if (h > *holes) {
                if (layer_reader_charge(rd, h - *holes, err) < 0)
                        return -1;
                *holes = h;
        }
        return 0;
}

/* Writes the entry's data into fd, its size counted against the limits
 * before each write (holes included), not after. */
static int unpack_file_data(struct unpacker *u, struct layer_reader *rd, int fd, int64_t size, const char *shown,
                            struct smith_error **err) {
        struct archive *a = layer_reader_archive(rd);
        uint64_t end = 0, data = 0, holes = 0;

        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &len, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return layer_reader_error(rd, err, "read tar");
                if (off < 0 || (uint64_t) off > u->max_entry || len > u->max_entry - (uint64_t) off)
                        return unpack_error_entry(err, shown, u->max_entry);
                data += len;
                if (layer_reader_is_wrapped(rd) && layer_reader_charge(rd, len, err) < 0)
                        return -1;
                if (charge_holes(rd, MAX(end, (uint64_t) off + len), data, &holes, err) < 0)
                        return -1;
                for (size_t done = 0; done < len;) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, len - done, (off_t) (off + done));
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
                        }
                        done += (size_t) n;
                }
                end = MAX(end, (uint64_t) off + len);
        }
        /* A sparse file may end in a hole. */
        if ((uint64_t) size > end) {
                if (charge_holes(rd, (uint64_t) size, data, &holes, err) < 0)
                        return -1;
                if (ftruncate(fd, (off_t) size) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
        }
        return 0;
}

static int unpack_entry(struct unpacker *u, struct layer_reader *rd, struct archive_entry *e,
                        struct smith_error **err) {
        _cleanup_free_ char *path = NULL, *shown = NULL, *parent = NULL;
        const char *raw = archive_entry_pathname(e), *name, *resolved, *hl;
        char *slash;
        int dfd, r;

        if (!raw)
                raw = archive_entry_pathname_utf8(e);
        if (!raw)
                return error_set(err, SMITH_ERR_SOURCE, "entry with an unreadable name");
        shown = name_for_msg(raw);
        if (!shown)
                return error_oom(err);
        r = normalize_name(raw, &path);
        if (r == -EXDEV)
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' escapes the root", shown);
        if (r == -ENAMETOOLONG)
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s': name too long", shown);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s'", shown);
        if (isempty(path)) {
                u->stats->skipped++; /* "./" itself: the root is ours */
                return 0;
        }

        slash = strrchr(path, '/');
        parent = slash ? strndup(path, (size_t) (slash - path)) : strdup("");
        if (!parent)
                return error_oom(err);
        name = slash ? slash + 1 : path;

        if (!u->no_whiteouts && strneq(name, ".wh.", 4))
                return unpack_whiteout(u, parent, name, shown, err);

        hl = archive_entry_hardlink(e);
        if (!hl) {
                mode_t t = archive_entry_filetype(e);
                if (t != AE_IFREG && t != AE_IFDIR && t != AE_IFLNK) {
                        u->stats->skipped++; /* devices, fifos, sockets */
                        return 0;
                }
        }

        r = unpacker_parent(u, parent, true, &dfd, &resolved);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s': parent directory", shown);

        if (hl) {
                _cleanup_free_ char *target = NULL, *tname = NULL, *tshown = name_for_msg(hl);
                _cleanup_close_ int tdfd = -1;
                struct stat tst, st;

                if (!tshown)
                        return error_oom(err);
                r = normalize_name(hl, &target);
                if (r == -EXDEV)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': hardlink target '%s' escapes the root",
                                         shown, tshown);
                if (r < 0 || isempty(target))
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': invalid hardlink target '%s'", shown,
                                         tshown);
                r = chase(u->root_fd, target, CHASE_NOFOLLOW_LAST, NULL, NULL, NULL, &tdfd, &tname);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s': hardlink target '%s'", shown,
                                               tshown);
                if (fstatat(tdfd, tname, &tst, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, errno, "entry '%s': hardlink target '%s'", shown,
                                               tshown);
                if (!S_ISREG(tst.st_mode))
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "entry '%s': hardlink target '%s' is not a regular file", shown, tshown);
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
                    st.st_ino == tst.st_ino)
                        ; /* already that file */
                else {
                        r = unpacker_clear_slot(u, dfd, name, false);
                        if (r < 0)
                                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                        /* Clearing may have dropped the cached parent; dfd is ours until then. */
                        if (u->cached_fd != dfd && (r = unpacker_parent(u, parent, true, &dfd, &resolved)) < 0)
                                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s'", shown);
                        if (linkat(tdfd, tname, dfd, name, 0) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "entry '%s': link to '%s'", shown,
                                                       tshown);
                }
                u->stats->hardlinks++;
                goto created;
        }

        if (u->keep_dir_symlinks && archive_entry_filetype(e) == AE_IFDIR) {
                r = dir_symlink_kept(u, dfd, resolved, name);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s'", shown);
                if (r > 0) {
                        u->stats->dirs++;
                        goto created;
                }
        }

        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
                r = unpacker_clear_slot(u, dfd, name, true);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                break;
        default:
                r = unpacker_clear_slot(u, dfd, name, false);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                break;
        }
        /* Clearing a slot may drop the cached parent: resolve it again. */
        if (u->cached_fd != dfd) {
                int q = unpacker_parent(u, parent, true, &dfd, &resolved);
                if (q < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, q, "entry '%s': parent directory", shown);
        }

        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
                if (r == 0) {
                        if (mkdirat(dfd, name, 0755) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "create directory '%s'", shown);
                        if (fchmodat(dfd, name, 0755, 0) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "chmod '%s'", shown);
                }
                u->stats->dirs++;
                break;

        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);
                if (isempty(target))
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': symlink without a target", shown);
                if (strlen(target) > UNPACK_MAX_NAME)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': symlink target too long", shown);
                /* The target is data: only ever resolved later, inside the root. */
                if (symlinkat(target, dfd, name) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create symlink '%s'", shown);
                u->stats->symlinks++;
                break;
        }

        case AE_IFREG: {
                int64_t size = archive_entry_size(e);
                mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
                _cleanup_close_ int fd = -1;

                /* the tar header says how large it will be: refuse before writing */
                if (size < 0 || (uint64_t) size > u->max_entry)
                        return unpack_error_entry(err, shown, u->max_entry);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create '%s'", shown);
                if (unpack_file_data(u, rd, fd, size, shown, err) < 0)
                        return -1;
                if (fchmod(fd, mode) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "chmod '%s'", shown);
                if (close(TAKE_FD(fd)) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
                u->stats->files++;
                break;
        }
        }

created:
        if (unpacker_note_created(u, resolved, name) < 0 ||
            (u->list_paths && strv_consume(&u->stats->paths, resolved_join(resolved, name)) < 0))
                return error_oom(err);
        return 0;
}

/* Applies every entry read through rd.  On a damaged tar, *ret_tar_failed
 * is set (the caller may find a better reason in the digest). */
static int apply_entries(struct unpacker *u, struct layer_reader *rd, bool *ret_tar_failed, struct smith_error **err) {
        struct archive *a = layer_reader_archive(rd);

        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(a, &e);

                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        *ret_tar_failed = true;
                        return -1;
                }
                if (unpack_entry(u, rd, e, err) < 0)
                        return -1;
        }
}

static int layer_unpack_impl(int root_fd, int blob_fd, const struct layer_ref *layer, bool blob_verified,
                             const struct unpack_opts *o, struct unpack_stats *stats, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        struct unpack_stats dummy = {};
        const struct unpack_limits l = unpack_limits_resolve(o ? &o->limits : NULL);
        struct unpacker u = {
                .root_fd = root_fd, .stats = stats ? stats : &dummy, .max_entry = l.max_entry, .cached_fd = -1
        };
        char digest[DIGEST_STR_LEN + 1], diff_id[DIGEST_STR_LEN + 1];
        bool tar_failed = false;
        uint64_t size;

        if (!digest_is_valid(layer->digest) || layer->size < 0)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s': invalid descriptor", layer->digest);
        if (layer_reader_new_limited(blob_fd, (uint64_t) layer->size, &l, u.stats->unpacked,
                                     LAYER_READER_HASH_OUT | (blob_verified ? 0 : LAYER_READER_HASH_IN), &rd, err) < 0)
                goto fail;
        if (apply_entries(&u, rd, &tar_failed, err) < 0) {
                if (tar_failed) {
                        /* A damaged tar is most likely a damaged blob: say
                         * so if the digest shows it. */
                        struct smith_error *ignored = NULL;
                        if (!blob_verified && !layer_reader_failed(rd) &&
                            layer_reader_finish(rd, digest, &size, NULL, &ignored) == 0 &&
                            !streq(digest, layer->digest)) {
                                error_set(err, SMITH_ERR_SOURCE, "digest mismatch: content is '%s'", digest);
                                goto fail;
                        }
                        error_free(ignored);
                        layer_reader_error(rd, err, "read tar");
                }
                goto fail;
        }
        if (layer_reader_finish(rd, digest, &size, diff_id, err) < 0)
                goto fail;
        if (size != (uint64_t) layer->size) {
                error_set(err, SMITH_ERR_SOURCE, "size %" PRIu64 " does not match its descriptor's size %" PRId64, size,
                          layer->size);
                goto fail;
        }
        if (!blob_verified && !streq(digest, layer->digest)) {
                error_set(err, SMITH_ERR_SOURCE, "digest mismatch: content is '%s'", digest);
                goto fail;
        }
        if (!streq(diff_id, layer->diff_id)) {
                error_set(err, SMITH_ERR_SOURCE, "diff_id mismatch: uncompressed content is '%s', config says '%s'",
                          diff_id, layer->diff_id);
                goto fail;
        }
        u.stats->unpacked += layer_reader_unpacked(rd);
        unpacker_release(&u);
        return 0;
fail:
        unpacker_release(&u);
        return error_wrap(err, "layer '%s'", layer->digest);
}

int layer_unpack(int root_fd, int blob_fd, const struct layer_ref *layer, const struct unpack_opts *o,
                 struct unpack_stats *stats, struct smith_error **err) {
        return layer_unpack_impl(root_fd, blob_fd, layer, false, o, stats, err);
}

int layer_unpack_stored(int root_fd, int blob_fd, const struct layer_ref *layer, const struct unpack_opts *o,
                        struct unpack_stats *stats, struct smith_error **err) {
        return layer_unpack_impl(root_fd, blob_fd, layer, true, o, stats, err);
}

int layer_unpack_archive(int root_fd, struct archive *a, unsigned flags, const struct unpack_limits *limits,
                         struct unpack_stats *stats, struct smith_error **err) {
        const struct unpack_limits l = unpack_limits_resolve(limits);
        struct unpack_stats dummy = {};
        struct unpacker u = {
                .root_fd = root_fd,
                .stats = stats ? stats : &dummy,
                .max_entry = l.max_entry,
                .cached_fd = -1,
                .no_whiteouts = flags & UNPACK_NO_WHITEOUTS,
                .keep_dir_symlinks = flags & UNPACK_KEEP_DIR_SYMLINKS,
                .list_paths = flags & UNPACK_LIST_PATHS,
        };
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        _cleanup_free_ char *over = NULL;
        char sz[UNPACK_SIZE_STR_MAX];
        bool tar_failed = false;
        int r;

        /* libarchive decompresses here: the data written is what is counted */
        if (asprintf(&over, "the packages unpack to more than %s (--max-unpacked, SMITH_MAX_UNPACKED)",
                     unpack_size_str(l.max_unpacked, sz)) < 0)
                return error_oom(err);
        r = layer_reader_wrap(a, u.stats->unpacked < l.max_unpacked ? l.max_unpacked - u.stats->unpacked : 0, over, &rd,
                              err);
        if (r < 0)
                return r;
        r = apply_entries(&u, rd, &tar_failed, err);
        if (r < 0 && tar_failed)
                error_from_archive(err, SMITH_ERR_SOURCE, a, "read archive");
        u.stats->unpacked += layer_reader_unpacked(rd);
        unpacker_release(&u);
        return r;
}

int layer_unpack_unchecked(int root_fd, int fd, uint64_t max_in, const struct unpack_limits *limits,
                           struct unpack_stats *stats, uint64_t *ret_size, char *ret_diff_id,
                           struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        struct unpack_stats dummy = {};
        const struct unpack_limits l = unpack_limits_resolve(limits);
        struct unpacker u = {
                .root_fd = root_fd, .stats = stats ? stats : &dummy, .max_entry = l.max_entry, .cached_fd = -1
        };
        bool tar_failed = false;
        int r = -1;

        if (layer_reader_new_limited(fd, max_in, &l, 0, LAYER_READER_HASH_OUT, &rd, err) < 0)
                goto out;
        if (apply_entries(&u, rd, &tar_failed, err) < 0) {
                if (tar_failed)
                        layer_reader_error(rd, err, "read tar");
                goto out;
        }
        r = layer_reader_finish(rd, NULL, ret_size, ret_diff_id, err);
        if (r >= 0)
                u.stats->unpacked += layer_reader_unpacked(rd);
out:
        unpacker_release(&u);
        return r;
}
