/* File system helpers built on directory fds and *at() calls.
 *
 * Containment lives here: everything that reads or writes inside an
 * untrusted tree (an unpacked image, a package payload, the user's build
 * root) goes through root_openat() or chase(), which resolve paths as if the
 * tree's fd were "/": "..", absolute symlinks and relative ones can never
 * leave it.  root_openat() uses openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS)
 * and falls back to chase() where the kernel lacks it (or when
 * SMITH_NO_OPENAT2=1, so tests exercise the fallback).
 *
 * Low-level helpers return -errno (never set errno-only failures) and take
 * no smith_error: callers know what they were doing and add that context. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "path.h"

enum chase_flags {
        CHASE_NOFOLLOW_LAST = 1 << 0, /* do not follow a symlink in the last component */
        CHASE_NONEXIST_OK = 1 << 1,   /* the last component may be missing */
};

/* Called for every symlink chase() meets: link is the link's own path inside
 * the root ("/lib"), target its contents ("usr/lib").  A negative return
 * stops the chase with that value. */
typedef int (*chase_symlink_cb)(void *userdata, const char *link, const char *target);

/* Resolves path inside root_fd.  On success returns 0 and, where asked:
 *   *ret_path   the resolved path, absolute inside the root ("/usr/lib/x"),
 *   *ret_dirfd  an O_PATH fd of the directory holding the last component,
 *   *ret_name   the last component's name in that directory ("x"; "." for
 *               the root itself).
 * With CHASE_NONEXIST_OK a missing last component still succeeds (the
 * parents must exist).  Symlinks are followed at most 40 times (ELOOP).
 * Returns -errno. */
int chase(int root_fd, const char *path, unsigned flags, chase_symlink_cb cb, void *userdata, char **ret_path,
          int *ret_dirfd, char **ret_name);

/* openat() of path resolved inside root_fd, O_CLOEXEC implied.  O_NOFOLLOW
 * applies to the last component only.  Returns an fd or -errno. */
int root_openat(int root_fd, const char *path, int flags, mode_t mode);

/* Creates path and its missing parents inside root_fd (symlinked parents are
 * followed, inside the root).  Existing directories are fine.  -errno. */
int root_mkdir_p(int root_fd, const char *path, mode_t mode);

/* Reads a whole file; fails with -EFBIG if it is larger than max bytes.  The
 * buffer is NUL-terminated (not counted in *ret_len). */
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Opens path inside root_fd O_RDONLY, only if it is a regular file (never
 * a fifo or a device an untrusted tree planted there, which would hang or
 * feed us forever): -EBADF for anything else, else -errno. */
int root_open_regular(int root_fd, const char *path, int *ret_fd);
/* read_full_fd() of a regular file inside root_fd (root_open_regular()). */
int root_read_file(int root_fd, const char *path, size_t max, char **ret, size_t *ret_len);
/* read_full_fd() of a plain host path relative to dirfd (AT_FDCWD ok). */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);

int write_full(int fd, const void *buf, size_t len);
/* Copies in (from its offset, to its end) to out, feeding h when it is
 * not NULL; with out < 0 the bytes are only hashed.  More than max bytes
 * (0: no bound) is -EFBIG; the count copied goes to *ret_n when that is
 * not NULL.  -errno. */
struct sha256;
int copy_bytes(int in, int out, uint64_t max, struct sha256 *h, uint64_t *ret_n);

/* Removes name below dirfd recursively, never following symlinks.  A
 * missing name is fine.  -errno. */
int rm_rf_at(int dirfd, const char *name);

/* The names in the directory open on dfd (taken: closed either way), "."
 * and ".." left out, sorted bytewise.  -errno. */
int dir_list_sorted(int dfd, char ***ret);

/* The names in directory dir that end in one of suffixes (NULL-terminated)
 * and hold only letters, digits, '_', '-' and '.' (apt's rule for its
 * configuration directories), sorted.  A missing dir gives 0 and NULL.
 * -errno. */
int dir_list_configs(const char *dir, const char *const *suffixes, char ***ret);

/* Creates a fresh directory "<dir>/<prefix>XXXXXX"; returns its path. */
int mkdtemp_in(const char *dir, const char *prefix, char **ret_path);

/* Writes data to "<name>.tmpXXXXXX" beside name, fsyncs and renames it over
 * name.  mode applies to the new file. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* An output file that appears whole or not at all, even when the process
 * is killed while writing it: an unnamed O_TMPFILE in the target's
 * directory that gets a name only in atomic_file_commit().  Where O_TMPFILE
 * or /proc/self/fd is missing, a named "<path>.tmpXXXXXX" that abort
 * removes. */
struct atomic_file {
        int fd;     /* write here */
        char *path; /* the target */
        char *tmp;  /* the named fallback, or NULL */
};

int atomic_file_open(const char *path, struct atomic_file *ret);
/* fchmod(mode), fsync, then rename into place (and fsync the directory).
 * Closes the file either way; on failure nothing is left behind. */
int atomic_file_commit(struct atomic_file *f, mode_t mode);
/* Closes and removes; accepts a file already committed or aborted. */
void atomic_file_abort(struct atomic_file *f);

/* Like mkdir -p for a host path (not inside an untrusted root). */
int mkdir_p(const char *path, mode_t mode);
