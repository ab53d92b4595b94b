/* File system helpers; containment (chase, root_openat) first, then plain
 * whole-file and directory utilities.  See fs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "hash.h"
#include "macro.h"
#include "strv.h"

#define CHASE_MAX_LINKS 40
#define CHASE_MAX_DEPTH 1024

/* --- chase: component-by-component resolution inside a root --- */

struct chase_state {
        int fds[CHASE_MAX_DEPTH + 1]; /* fds[0] is the root (borrowed) */
        char *names[CHASE_MAX_DEPTH + 1];
        size_t depth;
};

static void chase_pop(struct chase_state *s) {
        if (s->depth == 0)
                return;
        close(s->fds[s->depth]);
        free(s->names[s->depth]);
        s->depth--;
}

static void chase_reset(struct chase_state *s) {
        while (s->depth > 0)
                chase_pop(s);
}

static char *chase_path(struct chase_state *s, const char *extra) {
        size_t len = 1;
        char *r, *p;

        for (size_t i = 1; i <= s->depth; i++)
                len += strlen(s->names[i]) + 1;
        if (extra)
                len += strlen(extra) + 1;
        r = malloc(len + 1);
        if (!r)
                return NULL;
        p = r;
        for (size_t i = 1; i <= s->depth; i++) {
                *p++ = '/';
                p = stpcpy(p, s->names[i]);
        }
        if (extra) {
                *p++ = '/';
                p = stpcpy(p, extra);
        }
        if (p == r)
                *p++ = '/';
        *p = '\0';
        return r;
}

/* Takes the next component off *rest (a malloc'd buffer we own). */
static char *next_component(char **rest) {
        char *p = *rest, *slash;
        while (*p == '/')
                p++;
        if (*p == '\0') {
                *rest = p;
                return NULL;
        }
        slash = strchr(p, '/');
        if (slash) {
                *slash = '\0';
                *rest = slash + 1;
        } else
                *rest = p + strlen(p);
        return p;
}

static bool rest_is_empty(const char *rest) {
        while (*rest == '/')
                rest++;
        return *rest == '\0';
}

int chase(int root_fd, const char *path, unsigned flags, chase_symlink_cb cb, void *userdata, char **ret_path,
          int *ret_dirfd, char **ret_name) {
        struct chase_state s = { .depth = 0 };
        _cleanup_free_ char *buf = NULL;
        char *rest, *comp;
        unsigned links = 0;
        int r = 0;
        bool missing_last = false;
        _cleanup_free_ char *last = NULL;

        if (strlen(path) >= PATH_MAX)
                return -ENAMETOOLONG;
        buf = strdup(path);
        if (!buf)
                return -ENOMEM;
        s.fds[0] = root_fd;
        rest = buf;

        while ((comp = next_component(&rest))) {
                bool is_last = rest_is_empty(rest);
                struct stat st;
                int fd;

                if (streq(comp, "."))
                        continue;
                if (streq(comp, "..")) {
                        chase_pop(&s); /* ".." at the root stays at the root */
                        continue;
                }
                fd = openat(s.fds[s.depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT && is_last && (flags & CHASE_NONEXIST_OK)) {
                                missing_last = true;
                                last = strdup(comp);
                                if (!last)
                                        r = -ENOMEM;
                                break;
                        }
                        r = -errno;
                        goto fail;
                }
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close(fd);
                        goto fail;
                }
                if (S_ISLNK(st.st_mode) && !(is_last && (flags & CHASE_NOFOLLOW_LAST))) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
                        char *nbuf;

                        close(fd);
                        if (n < 0) {
                                r = -errno;
                                goto fail;
                        }
                        target[n] = '\0';
                        if (++links > CHASE_MAX_LINKS) {
                                r = -ELOOP;
                                goto fail;
                        }
                        if (cb) {
                                _cleanup_free_ char *lp = chase_path(&s, comp);
                                if (!lp) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                                r = cb(userdata, lp, target);
                                if (r < 0)
                                        goto fail;
                        }
                        if (target[0] == '/')
                                chase_reset(&s);
                        if (asprintf(&nbuf, "%s/%s", target, rest) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        if (strlen(nbuf) >= PATH_MAX) {
                                free(nbuf);
                                r = -ENAMETOOLONG;
                                goto fail;
                        }
                        free(buf);
                        buf = nbuf;
                        rest = buf;
                        continue;
                }
                if (!S_ISDIR(st.st_mode) && !is_last) {
                        close(fd);
                        r = -ENOTDIR;
                        goto fail;
                }
                if (s.depth >= CHASE_MAX_DEPTH) {
                        close(fd);
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                s.depth++;
                s.fds[s.depth] = fd;
                s.names[s.depth] = strdup(comp);
                if (!s.names[s.depth]) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (r < 0)
                goto fail;

        /* Now either the last component exists (top of the stack), the path
         * was the root itself, or the last component is missing. */
        if (ret_path) {
                *ret_path = chase_path(&s, missing_last ? last : NULL);
                if (!*ret_path) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (ret_dirfd || ret_name) {
                int dfd;
                const char *name;
                if (missing_last) {
                        dfd = s.depth > 0 ? s.fds[s.depth] : root_fd;
                        name = last;
                } else if (s.depth == 0) {
                        dfd = root_fd;
                        name = ".";
                } else {
                        dfd = s.depth > 1 ? s.fds[s.depth - 1] : root_fd;
                        name = s.names[s.depth];
                }
                if (ret_dirfd) {
                        int d = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
                        if (d < 0) {
                                r = -errno;
                                if (ret_path)
                                        free(*ret_path);
                                goto fail;
                        }
                        *ret_dirfd = d;
                }
                if (ret_name) {
                        *ret_name = strdup(name);
                        if (!*ret_name) {
                                if (ret_dirfd)
                                        close(*ret_dirfd);
                                if (ret_path)
                                        free(*ret_path);
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        }
        chase_reset(&s);
        return missing_last ? 1 : 0;
fail:
        chase_reset(&s);
        return r;
}

static void safe_close_reset(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static int openat2_state = 0; /* 0 unknown, 1 works, -1 unavailable */

static int root_openat_fallback(int root_fd, const char *path, int flags, mode_t mode) {
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *name = NULL;
        unsigned cflags = 0;
        int r, fd;

        if (flags & O_NOFOLLOW)
                cflags |= CHASE_NOFOLLOW_LAST;
        if (flags & O_CREAT)
                cflags |= CHASE_NONEXIST_OK;
        r = chase(root_fd, path, cflags, NULL, NULL, NULL, &dfd, &name);
        if (r < 0)
                return r;
        /* The last component is resolved (not a symlink, unless the caller
         * asked not to follow it), so O_NOFOLLOW is always right here. */
        if (streq(name, "."))
                fd = openat(dfd, ".", (flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC, mode);
        else
                fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
                /* O_NOFOLLOW on a symlink with O_PATH opens the link itself;
                 * without O_PATH it is ELOOP, which is what the caller asked. */
                return -errno;
        }
        return fd;
}

int root_openat(int root_fd, const char *path, int flags, mode_t mode) {
        if (openat2_state == 0) {
                const char *e = getenv("SMITH_NO_OPENAT2");
                openat2_state = (e && streq(e, "1")) ? -1 : 1;
        }
        if (openat2_state > 0) {
                struct open_how how = {
                        .flags = (unsigned) (flags | O_CLOEXEC),
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                long fd;
                while (*path == '/')
                        path++;
                if (*path == '\0')
                        path = ".";
                fd = syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
                if (fd >= 0)
                        return (int) fd;
                if (errno != ENOSYS && errno != EPERM && errno != E2BIG)
                        return -errno;
                if (errno == ENOSYS)
                        openat2_state = -1;
                /* EPERM may be a seccomp filter; fall through to chase */
        }
        return root_openat_fallback(root_fd, path, flags, mode);
}

/* Makes one prefix exist as a directory.  A dangling symlink on the way
 * gets its target created (inside the root), as mkdir -p through it would. */
static int mkdir_p_depth(int root_fd, const char *path, mode_t mode, unsigned depth);

static int mkdir_one(int root_fd, const char *prefix, mode_t mode, unsigned depth) {
        for (int attempt = 0; attempt < 2; attempt++) {
                _cleanup_close_ int dfd = -1;
                _cleanup_free_ char *name = NULL, *link = NULL;
                struct stat st;
                char target[PATH_MAX];
                ssize_t n;
                int r;

                r = chase(root_fd, prefix, CHASE_NONEXIST_OK, NULL, NULL, NULL, &dfd, &name);
                if (r == 1) {
                        if (mkdirat(dfd, name, mode) < 0 && errno != EEXIST)
                                return -errno;
                        return 0;
                }
                if (r == 0) {
                        if (fstatat(dfd, name, &st, 0) < 0)
                                return -errno;
                        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
                }
                if (r != -ENOENT || attempt > 0)
                        return r;
                /* the last component may be a dangling symlink: create its target */
                safe_close_reset(&dfd);
                free(name);
                name = NULL;
                r = chase(root_fd, prefix, CHASE_NOFOLLOW_LAST, NULL, NULL, &link, &dfd, &name);
                if (r < 0)
                        return r;
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!S_ISLNK(st.st_mode))
                        return -ENOENT;
                n = readlinkat(dfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                if (target[0] == '/')
                        r = mkdir_p_depth(root_fd, target, mode, depth + 1);
                else {
                        _cleanup_free_ char *abs = NULL;
                        char *slash = strrchr(link, '/');
                        if (slash)
                                *slash = '\0';
                        if (asprintf(&abs, "%s/%s", link, target) < 0)
                                return -ENOMEM;
                        r = mkdir_p_depth(root_fd, abs, mode, depth + 1);
                }
                if (r < 0)
                        return r;
        }
        return -ENOENT;
}

static int mkdir_p_depth(int root_fd, const char *path, mode_t mode, unsigned depth) {
        _cleanup_free_ char *copy = strdup(path);
        char *p;
        int r;

        if (!copy)
                return -ENOMEM;
        if (depth > CHASE_MAX_LINKS)
                return -ELOOP;
        p = copy;
        for (;;) {
                char *slash;
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                slash = strchr(p, '/');
                if (slash)
                        *slash = '\0';
                r = mkdir_one(root_fd, copy, mode, depth);
                if (r < 0)
                        return r;
                if (!slash)
                        break;
                *slash = '/';
                p = slash + 1;
        }
        return 0;
}

int root_mkdir_p(int root_fd, const char *path, mode_t mode) {
        int fd = root_openat(root_fd, path, O_PATH | O_DIRECTORY, 0);
        if (fd >= 0) { /* the common case: it exists */
                close(fd);
                return 0;
        }
        if (fd != -ENOENT)
                return fd;
        return mkdir_p_depth(root_fd, path, mode, 0);
}

/* --- whole files --- */

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        _cleanup_buf_ struct buf b = BUF_INIT(max);
        int r = buf_read_fd(&b, fd);

        if (r < 0)
                return r;
        *ret = buf_steal(&b, ret_len);
        return *ret ? 0 : -ENOMEM;
}

int root_open_regular(int root_fd, const char *path, int *ret_fd) {
        /* O_NONBLOCK: a fifo planted in an untrusted tree must not hang us */
        _cleanup_close_ int fd = root_openat(root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
        struct stat st;
        int fl;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int root_read_file(int root_fd, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        int r = root_open_regular(root_fd, path, &fd);

        if (r < 0)
                return r;
        return read_full_fd(fd, max, ret, ret_len);
}

int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}

int write_full(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

#define COPY_CHUNK (1u << 18)

int copy_bytes(int in, int out, uint64_t max, struct sha256 *h, uint64_t *ret_n) {
        _cleanup_free_ char *buf = malloc(COPY_CHUNK);
        uint64_t n = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read_retry(in, buf, COPY_CHUNK);
                int r;

                if (k <= 0) {
                        if (k < 0)
                                return (int) k;
                        break;
                }
                n += (uint64_t) k;
                if (max && n > max)
                        return -EFBIG;
                if (h)
                        sha256_update(h, buf, (size_t) k);
                r = out >= 0 ? write_full(out, buf, (size_t) k) : 0;
                if (r < 0)
                        return r;
        }
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* --- directories --- */

static int rm_rf_children(int dfd) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;
        int r = 0;

        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                int q;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                q = rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

int rm_rf_at(int dirfd, const char *name) {
        struct stat st;
        int r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                int dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0 && errno == EACCES) {
                        /* a directory we made read-only: make it ours again */
                        fchmodat(dirfd, name, 0700, 0);
                        dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (dfd < 0)
                        return -errno;
                if ((st.st_mode & 0700) != 0700)
                        fchmod(dfd, 0700);
                r = rm_rf_children(dfd);
                if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                        return r < 0 ? r : -errno;
                return r;
        }
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int dir_list_sorted(int dfd, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;
        DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return -ENOMEM;
                }
        }
        closedir(d);
        strv_sort(names);
        *ret = TAKE_PTR(names);
        return 0;
}

static bool has_suffix_in(const char *s, const char *const *suffixes) {
        size_t n = strlen(s);

        for (; *suffixes; suffixes++) {
                size_t k = strlen(*suffixes);
                if (n > k && streq(s + n - k, *suffixes))
                        return true;
        }
        return false;
}

int dir_list_configs(const char *dir, const char *const *suffixes, char ***ret) {
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
        _cleanup_strv_free_ char **names = NULL;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;
        size_t k = 0;

        *ret = NULL;
        if (dfd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        r = dir_list_sorted(dfd, &names);
        if (r < 0)
                return r;
        for (size_t i = 0; names && names[i]; i++) {
                if (strspn(names[i], ok) == strlen(names[i]) && has_suffix_in(names[i], suffixes))
                        names[k++] = names[i];
                else
                        free(names[i]);
        }
        if (names)
                names[k] = NULL;
        *ret = k > 0 ? TAKE_PTR(names) : NULL;
        return 0;
}

int mkdtemp_in(const char *dir, const char *prefix, char **ret_path) {
        char *p;
        if (asprintf(&p, "%s/%sXXXXXX", dir, prefix) < 0)
                return -ENOMEM;
        if (!mkdtemp(p)) {
                int r = -errno;
                free(p);
                return r;
        }
        *ret_path = p;
        return 0;
}

static int random_suffix(char *s, size_t n) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        unsigned char rnd[16];

        if (n > sizeof(rnd))
                return -EINVAL;
        if (getrandom(rnd, n, 0) != (ssize_t) n)
                return -errno;
        for (size_t i = 0; i < n; i++)
                s[i] = chars[rnd[i] % (sizeof(chars) - 1)];
        return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        int fd, r;

        if (asprintf(&tmp, "%s.tmpXXXXXX", name) < 0)
                return -ENOMEM;
        for (int attempt = 0;; attempt++) {
                r = random_suffix(tmp + strlen(tmp) - 6, 6);
                if (r < 0)
                        return r;
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || attempt > 100)
                        return -errno;
        }
        r = write_full(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(dirfd, tmp, 0);
        return r;
}

/* --- atomic output files --- */

static char *dir_of(const char *path) {
        const char *slash = strrchr(path, '/');
        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

int atomic_file_open(const char *path, struct atomic_file *ret) {
        struct atomic_file f = { .fd = -1 };
        _cleanup_free_ char *dir = dir_of(path);

        if (!dir)
                return -ENOMEM;
        f.path = strdup(path);
        if (!f.path)
                return -ENOMEM;
        if (access("/proc/self/fd", F_OK) == 0)
                f.fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (f.fd < 0) {
                /* no O_TMPFILE here (or no /proc to name it later) */
                if (asprintf(&f.tmp, "%s.tmpXXXXXX", path) < 0) {
                        free(f.path);
                        return -ENOMEM;
                }
                f.fd = mkostemp(f.tmp, O_CLOEXEC);
                if (f.fd < 0) {
                        int r = -errno;
                        free(f.tmp);
                        free(f.path);
                        return r;
                }
        }
        *ret = f;
        return 0;
}

/* Gives the unnamed file a temporary name beside the target. */
static int name_tmpfile(struct atomic_file *f) {
        char proc[64];

        if (asprintf(&f->tmp, "%s.tmpXXXXXX", f->path) < 0)
                return -ENOMEM;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
        for (int attempt = 0;; attempt++) {
                int r = random_suffix(f->tmp + strlen(f->tmp) - 6, 6);
                if (r < 0)
                        return r;
                if (linkat(AT_FDCWD, proc, AT_FDCWD, f->tmp, AT_SYMLINK_FOLLOW) == 0)
                        return 0;
                if (errno != EEXIST || attempt > 100) {
                        r = -errno;
                        free(f->tmp);
                        f->tmp = NULL;
                        return r;
                }
        }
}

int atomic_file_commit(struct atomic_file *f, mode_t mode) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -1;
        int r = 0;

        if (fchmod(f->fd, mode) < 0 || fsync(f->fd) < 0)
                r = -errno;
        if (r >= 0 && !f->tmp)
                r = name_tmpfile(f);
        if (close(f->fd) < 0 && r >= 0)
                r = -errno;
        f->fd = -1;
        if (r >= 0 && rename(f->tmp, f->path) < 0)
                r = -errno;
        if (r < 0) {
                atomic_file_abort(f);
                return r;
        }
        free(f->tmp);
        f->tmp = NULL;
        dir = dir_of(f->path);
        if (dir) {
                dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd); /* best effort: the rename is done */
        }
        free(f->path);
        f->path = NULL;
        return 0;
}

void atomic_file_abort(struct atomic_file *f) {
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        if (f->tmp)
                (void) unlink(f->tmp);
        free(f->tmp);
        free(f->path);
        f->tmp = f->path = NULL;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}
