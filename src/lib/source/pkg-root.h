/* What the package backends (deb.c, rpm.c) share, defined in pkg-root.c: the
 * cached root built from verified package blobs, local package files
 * copied into the blob store, and repository indexes added to a pool
 * through libsolv's saved form.
 *
 * A root is roots/<key>/, key the sha256 of the layout line and the
 * sorted package digests, built in tmp/ and renamed, complete once
 * roots/<key>.done exists (JSON: the packages and their files, so a
 * cached root still says which package put which file there). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "pkg/apt-repo.h"
#include "pkg/solve.h"
#include "lock.h"
#include "source.h"

struct pkg_root_ops {
        const char *layout;                                    /* part of the key: what prepare lays down */
        int (*prepare)(int root_fd, struct smith_error **err); /* before the packages; may be NULL */
        /* unpacks one package (a blob of size bytes, fd at offset 0) */
        int (*unpack)(int root_fd, int fd, uint64_t size, const struct unpack_limits *limits, uint64_t *used,
                      char ***ret_paths, struct smith_error **err);
        /* after all packages, with s->pkgs filled: records them in the root
         * the way the package manager would (a package database); may be NULL */
        int (*finish)(int root_fd, const struct source *s, struct smith_error **err);
        /* after finish, given the packages themselves (c[i]'s blob in
         * blobs_fd): records what finish cannot from the paths alone; may be NULL */
        int (*record)(int root_fd, int blobs_fd, const struct pkg_choice *c, size_t n, struct smith_error **err);
        char *(*shown)(const struct pkg_choice *c); /* how messages name a package */
        /* optional, together: work started on all n packages before the
         * first is unpacked (a handle, or NULL: none), unpack of the i-th
         * with it (as unpack, with what it prepared), and its end */
        void *(*ahead_start)(struct cache *cache, const struct pkg_choice *c, size_t n);
        int (*unpack_ahead)(void *ahead, size_t i, int root_fd, int fd, uint64_t size,
                            const struct unpack_limits *limits, uint64_t *used, char ***ret_paths,
                            struct smith_error **err);
        void (*ahead_stop)(void *ahead);
};

/* Opens the cached root of the packages c (n of them, their blobs in the
 * store), building it when needed; fills s->root_fd, root_path, pkgs, and
 * the packages blob's lines (s->packages, as ops->shown names them). */
int source_pkg_root(struct source *s, struct cache *cache, const struct pkg_root_ops *ops, const struct pkg_choice *c,
                    size_t n, const struct unpack_limits *limits, struct smith_error **err);

/* Copies build_dir/path into the blob store; returns its digest and size. */
int source_store_local(const struct source_ctx *ctx, const char *path, char digest[static DIGEST_STR_LEN + 1],
                       uint64_t *ret_size, struct smith_error **err);

/* The most an index may decompress to: listed (what its Release gives,
 * or 0: unknown), else its size measured, at decompression speed, up to
 * limits->max_index (more is an error naming name and the setting). */
int source_index_bound(const char *name, int fd, const char *hint, uint64_t listed, const struct unpack_limits *limits,
                       uint64_t *ret, struct smith_error **err);

/* Adds the verified index x to pool: from libsolv's saved form in the
 * cache (pkgs/solv-<index sha256>-1) when a build saved it, else parsed
 * (a Packages file, or primary.xml with rpm_md), bounded by
 * source_index_bound(), and saved. */
int source_add_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x, bool rpm_md,
                     const struct unpack_limits *limits, struct smith_error **err);
/* source_add_index() in two steps: adding (*ret_parsed: x was parsed, not
 * taken from the cache), and saving a parsed index, which only reads the
 * pool (failures ignored). */
int source_load_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x, bool rpm_md,
                      const struct unpack_limits *limits, bool *ret_parsed, struct smith_error **err);
void source_save_index(struct pkg_pool *pool, struct cache *cache, const struct apt_index *x);

struct http_opts;
/* Puts the blobs of the chosen packages in the store: local files copied
 * (their digest and size filled in), the rest fetched by workers and
 * verified against what the signed metadata says. */
int source_fetch_choices(const struct source_ctx *ctx, const struct http_opts *ho, struct pkg_choice *choices, size_t n,
                         unsigned workers, struct smith_error **err);

/* The solve cache (solve-cache.c): the key of a solve of the wanted names
 * (in order) over the indexes idx (in order) for kind ("deb", "rpm") and
 * arch; the packages an earlier build chose for that key (1, with *ret and
 * *ret_n; 0 when there is no usable entry); and saving them after a solve
 * (failures ignored; nothing is saved when a choice is a local file). */
int source_solve_key(const char *kind, const char *arch, const struct apt_indexes *idx, char *const *wanted,
                     char ret[static SHA256_HEX_LEN + 1]);
int source_solve_load(struct cache *cache, const char *key, struct pkg_choice **ret, size_t *ret_n);
void source_solve_save(struct cache *cache, const char *key, const struct pkg_choice *c, size_t n);

/* The names smith.yaml's package (and mock.deps) asks for, split into
 * repository package names and local files (is_local says which). */
int source_wanted_names(const struct smith_config *c, bool (*is_local)(const char *), char ***ret_wanted,
                        char ***ret_locals, struct smith_error **err);

/* --- smith.lock (pkg-lock.c) --- */

/* `smith lock`: the solved packages (local files hashed into the store),
 * those fetched only for os-release (release: deb's base-files, marked
 * "for": "os-release"; not again when among c) and the indexes they were
 * solved against, into ctx->lock_out. */
int source_lock_record(const struct source_ctx *ctx, const struct apt_indexes *idx, const struct pkg_choice *c,
                       size_t n, const struct pkg_choice *release, size_t n_release, struct smith_error **err);
/* A build with ctx->lock: its packages as choices (not the debuginfo
 * root's), in the lock's order,
 * once every repository it names is one of allowed (the URIs smith.yaml or
 * the machine names) and every URL lies inside its repository; local files
 * must be ones smith.yaml names.  Those marked for os-release go to
 * *ret_release (NULL: they are left out). */
int source_lock_choices(const struct smith_config *c, const struct source_ctx *ctx, char *const *allowed,
                        bool (*is_local)(const char *), struct pkg_choice **ret, size_t *ret_n,
                        struct pkg_choice **ret_release, size_t *ret_n_release, struct smith_error **err);
/* `smith lock` with mock.debuginfo: the packages of the debuginfo root
 * (marked "for": "debuginfo") and of, the packages whose debuginfo was
 * looked for, into ctx->lock_out. */
int source_lock_record_debuginfo(const struct source_ctx *ctx, char *const *of, const struct pkg_choice *c, size_t n,
                                 struct smith_error **err);
/* A locked build's debuginfo root: the packages marked for it, once of
 * (the packages the selection's ELF files come from) is the list the lock
 * was made for (else SMITH_ERR_CONFIG, asking for `smith lock --update`). */
int source_lock_debuginfo_choices(const struct source_ctx *ctx, char *const *of, struct pkg_choice **ret, size_t *ret_n,
                                  struct smith_error **err);
/* After source_fetch_choices(): each local file is the one the lock records. */
int source_lock_check_locals(const struct source_ctx *ctx, const struct pkg_choice *c, size_t n,
                             struct smith_error **err);
