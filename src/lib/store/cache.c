/* The local cache directory: finding it, creating its layout, per-key locks
 * and the verified blob store.  See cache.h for the layout. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "cache.h"

static int open_subdir(int top_fd, const char *top, const char *name, int *ret_fd, struct smith_error **err) {
        int fd;

        if (mkdirat(top_fd, name, 0700) < 0 && errno != EEXIST)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create cache directory '%s/%s'", top, name);
        fd = openat(top_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open cache directory '%s/%s'", top, name);
        *ret_fd = fd;
        return 0;
}

/* $XDG_CACHE_HOME/smith, else $HOME/.cache/smith.  Relative values are
 * ignored, as the XDG spec says. */
static int cache_find_path(char **ret, struct smith_error **err) {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        char *p = NULL;

        if (!isempty(xdg) && xdg[0] == '/')
                p = path_join(xdg, "smith");
        else if (!isempty(home) && home[0] == '/') {
                _cleanup_free_ char *c = path_join(home, ".cache");
                p = c ? path_join(c, "smith") : NULL;
        } else
                return error_set(err, SMITH_ERR_IO,
                                 "no cache directory: set XDG_CACHE_HOME or HOME to an absolute path");
        if (!p)
                return error_oom(err);
        *ret = p;
        return 0;
}

void cache_free(struct cache *c) {
        if (!c)
                return;
        close_many(c->fd, c->blobs_fd, c->roots_fd, c->tmp_fd);
        free_many(c->path, c);
}

/* Removes what killed builders left in tmp/.  Whoever creates something
 * there holds flock() on it while it is in use (cache_tmpfile(), the
 * unpackers); an entry nobody holds that is older than a grace period (so
 * one being created right now is left alone) is garbage.  Best effort. */
static void sweep_tmp(struct cache *c) {
        _cleanup_close_ int dfd = openat(c->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        time_t now = time(NULL);

        if (!d)
                return;
        dfd = -1; /* owned by d now */
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -1;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    now - st.st_mtime < CACHE_TMP_GRACE_SECONDS)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* in use, or not ours to judge */
                (void) rm_rf_at(dirfd(d), de->d_name);
        }
        closedir(d);
}

int cache_open(struct cache **ret, struct smith_error **err) {
        _cleanup_(cache_freep) struct cache *c = NULL;
        _cleanup_close_ int sha_fd = -1, refs_fd = -1, locks_fd = -1, blobs_dir_fd = -1, pkgs_fd = -1;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return error_oom(err);
        c->fd = c->blobs_fd = c->roots_fd = c->tmp_fd = -1;
        if (cache_find_path(&c->path, err) < 0)
                return -1;

        /* Parents (e.g. ~/.cache) get the usual 0755; the cache itself 0700. */
        {
                _cleanup_free_ char *parent = strdup(c->path);
                char *slash = parent ? strrchr(parent, '/') : NULL;
                if (!parent)
                        return error_oom(err);
                if (slash && slash != parent) {
                        *slash = '\0';
                        r = mkdir_p(parent, 0755);
                        if (r < 0)
                                return error_set_errno(err, SMITH_ERR_IO, r, "create cache directory '%s'", parent);
                }
        }
        if (mkdir(c->path, 0700) < 0 && errno != EEXIST)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create cache directory '%s'", c->path);
        c->fd = open(c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open cache directory '%s'", c->path);
        c->blobs_fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
        if (c->blobs_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open cache directory '%s'", c->path);

        if (open_subdir(c->fd, c->path, "blobs", &blobs_dir_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "blobs/sha256", &sha_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "roots", &c->roots_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "tmp", &c->tmp_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "refs", &refs_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "locks", &locks_fd, err) < 0 ||
            open_subdir(c->fd, c->path, "pkgs", &pkgs_fd, err) < 0)
                return -1;
        sweep_tmp(c);
        *ret = TAKE_PTR(c);
        return 0;
}

static bool is_plain_name(const char *s) {
        return !isempty(s) && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && strlen(s) <= 255;
}

int cache_lock(struct cache *c, const char *key, int *ret_fd, struct smith_error **err) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;

        if (!is_plain_name(key))
                return error_set(err, SMITH_ERR_IO, "invalid cache lock name '%s'", key);
        if (asprintf(&name, "locks/%s", key) < 0)
                return error_oom(err);
        fd = openat(c->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "open lock '%s/%s'", c->path, name);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "lock '%s/%s'", c->path, name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

bool cache_has_blob(struct cache *c, const char *digest) {
        char name[BLOB_PATH_LEN + 1];
        struct stat st;

        if (!digest_is_valid(digest))
                return false;
        return fstatat(c->blobs_fd, blob_path(digest, name), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int cache_tmpfile(struct cache *c, char **ret_name, int *ret_fd, struct smith_error **err) {
        _cleanup_free_ char *path = NULL;
        char *name;
        int fd;

        if (asprintf(&path, "%s/tmp/blob-XXXXXX", c->path) < 0)
                return error_oom(err);
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "create temp file in '%s/tmp'", c->path);
        (void) flock(fd, LOCK_EX | LOCK_NB); /* in use: see sweep_tmp() */
        name = strdup(strrchr(path, '/') + 1);
        if (!name) {
                close(fd);
                unlink(path);
                return error_oom(err);
        }
        *ret_name = name;
        *ret_fd = fd;
        return 0;
}

int cache_root_open(struct cache *c, const char *key, int *ret_fd) {
        _cleanup_free_ char *done = NULL;
        int fd;

        if (asprintf(&done, "%s.done", key) < 0 || faccessat(c->roots_fd, done, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        fd = openat(c->roots_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        *ret_fd = fd;
        return 1;
}

int cache_root_mark(struct cache *c, const char *key, const char *marker, size_t len) {
        _cleanup_free_ char *done = NULL;

        if (asprintf(&done, "%s.done", key) < 0)
                return -ENOMEM;
        return write_file_atomic_at(c->roots_fd, done, marker, len, 0644);
}

int cache_root_publish(struct cache *c, const char *tmp_name, const char *key, const char *marker, size_t len) {
        int r = rm_rf_at(c->roots_fd, key);

        if (r >= 0 && renameat(c->tmp_fd, tmp_name, c->roots_fd, key) < 0)
                r = -errno;
        if (r < 0)
                return r;
        r = cache_root_mark(c, key, marker, len);
        if (r < 0)
                (void) rm_rf_at(c->roots_fd, key);
        return r;
}

int cache_tmpdir(struct cache *c, const char *prefix, char **ret_name, int *ret_fd, struct smith_error **err) {
        _cleanup_free_ char *tmp_dir = path_join(c->path, "tmp"), *path = NULL, *name = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (!tmp_dir)
                return error_oom(err);
        r = mkdtemp_in(tmp_dir, prefix, &path);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create directory in '%s'", tmp_dir);
        name = strdup(strrchr(path, '/') + 1);
        if (!name) {
                (void) rm_rf_at(AT_FDCWD, path);
                return error_oom(err);
        }
        fd = openat(c->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, 0755) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                (void) rm_rf_at(c->tmp_fd, name);
                return error_set_errno(err, SMITH_ERR_IO, r, "open '%s'", path);
        }
        *ret_name = TAKE_PTR(name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int cache_blob_commit(struct cache *c, int fd, const char *tmp_name, const char *digest, struct smith_error **err) {
        char name[BLOB_PATH_LEN + 1];
        int r = 0;

        if (!digest_is_valid(digest)) {
                unlinkat(c->tmp_fd, tmp_name, 0);
                return error_set(err, SMITH_ERR_IO, "invalid digest '%s'", digest);
        }
        blob_path(digest, name);
        /* not fsynced: see oci_image_root(); a damaged blob is caught by
         * the digest check every reader of a layer makes */
        if (fchmod(fd, 0444) < 0)
                r = -errno;
        else if (renameat(c->tmp_fd, tmp_name, c->blobs_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(c->tmp_fd, tmp_name, 0);
                return error_set_errno(err, SMITH_ERR_IO, r, "store blob '%s' in '%s'", digest, c->path);
        }
        return 0;
}

int blob_open(int blobs_fd, const char *digest, int *ret_fd) {
        char name[BLOB_PATH_LEN + 1];

        if (!digest_is_valid(digest))
                return -EINVAL;
        return root_open_regular(blobs_fd, blob_path(digest, name), ret_fd);
}

int cache_pkgs_write(struct cache *c, const char *name, const void *data, size_t len, struct smith_error **err) {
        _cleanup_free_ char *p = NULL;
        int r;

        if (!is_plain_name(name))
                return error_set(err, SMITH_ERR_IO, "invalid cache entry name '%s'", name);
        if (asprintf(&p, "pkgs/%s", name) < 0)
                return error_oom(err);
        r = write_file_atomic_at(c->fd, p, data, len, 0644);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s/%s'", c->path, p);
        return 0;
}

int cache_pkgs_open(struct cache *c, const char *name, int *ret_fd) {
        _cleanup_free_ char *p = NULL;
        int fd;

        if (!is_plain_name(name))
                return -EINVAL;
        if (asprintf(&p, "pkgs/%s", name) < 0)
                return -ENOMEM;
        fd = openat(c->fd, p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int cache_pkgs_read(struct cache *c, const char *name, size_t max, char **ret, size_t *ret_len, time_t *ret_mtime) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r = cache_pkgs_open(c, name, &fd);

        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ret_mtime)
                *ret_mtime = st.st_mtime;
        return read_full_fd(fd, max, ret, ret_len);
}

int cache_pkgs_commit(struct cache *c, const char *tmp_name, const char *name, struct smith_error **err) {
        _cleanup_free_ char *p = NULL;

        if (!is_plain_name(name) || asprintf(&p, "pkgs/%s", name) < 0) {
                unlinkat(c->tmp_fd, tmp_name, 0);
                return error_set(err, SMITH_ERR_IO, "invalid cache entry name '%s'", name);
        }
        if (renameat(c->tmp_fd, tmp_name, c->fd, p) < 0) {
                int r = -errno;
                unlinkat(c->tmp_fd, tmp_name, 0);
                return error_set_errno(err, SMITH_ERR_IO, r, "store '%s/%s'", c->path, p);
        }
        return 0;
}

int cache_store_bytes(struct cache *c, const char *digest, const void *data, size_t len, struct smith_error **err) {
        _cleanup_free_ char *name = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (cache_has_blob(c, digest))
                return 0;
        if (cache_tmpfile(c, &name, &fd, err) < 0)
                return -1;
        r = write_full(fd, data, len);
        if (r < 0) {
                unlinkat(c->tmp_fd, name, 0);
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s' to the cache", digest);
        }
        return cache_blob_commit(c, fd, name, digest, err);
}
