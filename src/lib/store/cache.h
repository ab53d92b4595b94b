/* The local cache: $XDG_CACHE_HOME/smith (default $HOME/.cache/smith).
 *
 *   blobs/sha256/<hex>   verified content-addressed blobs (only ever written
 *                        by cache_blob_commit() after the caller checked the
 *                        digest, so everything here can be trusted)
 *   roots/<key>/         unpacked source roots, complete only when
 *                        roots/<key>.done exists
 *   tmp/                 temp files and directories, renamed into place;
 *                        each flock()ed by its creator while in use, so
 *                        cache_open() can remove what killed builds left
 *   refs/                small notes (e.g. tarball identity -> manifest)
 *   pkgs/                package-repository metadata kept by name (a
 *                        repository's signed InRelease, re-verified at
 *                        every use; its mtime says when it was fetched)
 *   locks/<key>          flock() files serialising builders of one key
 *
 * A struct cache owns its path and all of its fds; cache_free() accepts
 * NULL.  Nothing here prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "basic/error.h"

/* An unlocked tmp/ entry younger than this is still being set up. */
#define CACHE_TMP_GRACE_SECONDS 10

struct cache {
        char *path;   /* absolute path of the top directory */
        int fd;       /* the top directory */
        int blobs_fd; /* dir holding blobs/sha256/<hex> (the top directory) */
        int roots_fd; /* roots/ */
        int tmp_fd;   /* tmp/ */
};

/* Opens (creating as needed, top 0700) the cache and its subdirectories. */
int cache_open(struct cache **ret, struct smith_error **err);
void cache_free(struct cache *c);
DEFINE_POINTER_CLEANUP(struct cache, cache_free)

/* Takes flock(LOCK_EX) on locks/<key>, waiting for other holders.  key must
 * be a plain file name.  Release by closing *ret_fd. */
int cache_lock(struct cache *c, const char *key, int *ret_fd, struct smith_error **err);

/* Opens blobs/sha256/<hex of digest> below blobs_fd (a layout, or the
 * store) O_RDONLY, resolved inside blobs_fd, never a fifo or a device:
 * -EBADF when it is not a regular file, -EINVAL for an invalid digest,
 * else -errno.  Its content is not checked here. */
int blob_open(int blobs_fd, const char *digest, int *ret_fd);

/* True if blobs/sha256/<hex of digest> exists as a regular file. */
bool cache_has_blob(struct cache *c, const char *digest);

/* Creates a new empty file in tmp/ for a blob being written; returns its
 * name in tmp/ and a writable fd. */
int cache_tmpfile(struct cache *c, char **ret_name, int *ret_fd, struct smith_error **err);

/* Creates a fresh directory tmp/<prefix>XXXXXX (0755), opened O_DIRECTORY
 * and flock()ed while the fd is open, so that cache_open() tells it from
 * what a killed build left.  Returns its name in tmp/ and the fd; on
 * failure nothing is left. */
int cache_tmpdir(struct cache *c, const char *prefix, char **ret_name, int *ret_fd, struct smith_error **err);

/* roots/<key> when it is complete (roots/<key>.done exists): 1 and the
 * directory open in *ret_fd; 0 when there is none or it is incomplete. */
int cache_root_open(struct cache *c, const char *key, int *ret_fd);
/* Marks roots/<key> complete: roots/<key>.done written whole with marker
 * (len bytes; what the root holds, for whoever opens it).  -errno. */
int cache_root_mark(struct cache *c, const char *key, const char *marker, size_t len);
/* Publishes the directory tmp/<tmp_name> as roots/<key>: a leftover
 * incomplete root of that key goes, ours moves in, then cache_root_mark().
 * No fsync: it is a cache, and the marker guards against a builder that
 * died half way.  -errno; tmp_name is the caller's to remove on failure
 * (a root moved in but not marked is removed here). */
int cache_root_publish(struct cache *c, const char *tmp_name, const char *key, const char *marker, size_t len);

/* Publishes the tmp/ file tmp_name, open as fd, fully written and whose
 * sha256 the caller has verified to be digest, as blobs/sha256/<hex>:
 * chmod 0444, rename (no fsync: it is a cache).  On failure the temp file is removed.  fd stays
 * the caller's. */
int cache_blob_commit(struct cache *c, int fd, const char *tmp_name, const char *digest, struct smith_error **err);
/* len bytes the caller verified to be digest, stored as that blob (a
 * temp file, then cache_blob_commit()); nothing to do when it is there. */
int cache_store_bytes(struct cache *c, const char *digest, const void *data, size_t len, struct smith_error **err);

/* pkgs/<name> (name a plain file name): written whole (temp file, rename),
 * read back at most max bytes with the time it was written.  Read returns
 * 0, -ENOENT when there is none, or another -errno. */
int cache_pkgs_write(struct cache *c, const char *name, const void *data, size_t len, struct smith_error **err);
int cache_pkgs_read(struct cache *c, const char *name, size_t max, char **ret, size_t *ret_len, time_t *ret_mtime);
/* pkgs/<name> as an fd to read (-ENOENT when there is none), and the
 * publishing of a tmp/ file (cache_tmpfile()) as pkgs/<name>: for entries
 * too large to hold in memory.  On failure the temp file is removed. */
int cache_pkgs_open(struct cache *c, const char *name, int *ret_fd);
int cache_pkgs_commit(struct cache *c, const char *tmp_name, const char *name, struct smith_error **err);
