/* Applying image layers (and package payloads) to a directory, contained.
 *
 * Each entry the reader (reader.h) yields is applied inside the root fd
 * (root_openat/chase), so entry names, symlinks met on the way and hardlink
 * targets can never reach outside it.  Whiteouts follow the OCI spec: they
 * only hide what lower layers put there.
 *
 * Because data flows once, a layer that fails verification has already
 * been written: on any error the root's contents are undefined and the
 * caller discards it (layer_root_open() builds in tmp/ and renames only on
 * success).  The library never prints; skipped entries are counted. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "layer/reader.h"

struct archive;

/* A layer as a manifest and its config describe it. */
struct layer_ref {
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
        char *media_type;
        char diff_id[DIGEST_STR_LEN + 1];
};

struct unpack_opts {
        bool verbose;                /* reserved: nothing is printed; see unpack_stats */
        struct unpack_limits limits; /* zeroes: the defaults */
};

struct unpack_stats {
        uint64_t files, dirs, symlinks, hardlinks, whiteouts, skipped;
        uint64_t unpacked; /* bytes counted against max_unpacked */
        /* with UNPACK_LIST_PATHS: every path written, as it resolved inside
         * the root ("./bin/cat" over a bin -> usr/bin link is "/usr/bin/cat"),
         * in archive order; a strv the caller frees */
        char **paths;
};

/* Applies the layer read from blob_fd (a compressed or plain tar) on top of
 * root_fd, within o's limits (o may be NULL), counting stats->unpacked
 * (what the layers below took) against max_unpacked.  Adds to *stats (may
 * be NULL).  Errors name the layer:
 * "layer 'sha256:..': entry '../x' escapes the root". */
int layer_unpack(int root_fd, int blob_fd, const struct layer_ref *layer, const struct unpack_opts *o,
                 struct unpack_stats *stats, struct smith_error **err);

/* The same for a blob from the cache's blob store, which holds only blobs
 * whose sha256 matched their name (cache_blob_commit()): the compressed
 * bytes are not hashed again, but their size is checked, and so is the
 * diff_id of the uncompressed ones, as always. */
int layer_unpack_stored(int root_fd, int blob_fd, const struct layer_ref *layer, const struct unpack_opts *o,
                        struct unpack_stats *stats, struct smith_error **err);

/* Applies the layer read from fd (at most max_in bytes) to root_fd without
 * any descriptor, within limits (NULL: the defaults) as the only layer of
 * an image: returns the compressed size and the diff_id, which the caller
 * must check (with the blob's digest) before trusting the root.  For the
 * speculative unpack of a blob being imported (layer/stage.h). */
int layer_unpack_unchecked(int root_fd, int fd, uint64_t max_in, const struct unpack_limits *limits,
                           struct unpack_stats *stats, uint64_t *ret_size, char *ret_diff_id, struct smith_error **err);

enum {
        UNPACK_NO_WHITEOUTS = 1 << 0, /* ".wh." names are plain names (package payloads) */
        /* a directory entry over a symlink that resolves (inside the root) to
         * a directory keeps the link, as dpkg does: a package's ./bin/ stays
         * the merged-/usr link bin -> usr/bin */
        UNPACK_KEEP_DIR_SYMLINKS = 1 << 1,
        UNPACK_LIST_PATHS = 1 << 2, /* fill stats->paths */
};

/* Applies every entry of an archive the caller opened (any libarchive
 * format: the data.tar of a .deb, the cpio of an .rpm) on top of root_fd,
 * contained exactly as a layer is, with the same limits.  Nothing is
 * hashed: the caller verified the package before.  The data written (holes
 * included) counts against limits->max_unpacked together with what
 * stats->unpacked already holds (so a caller unpacking several packages
 * into one root passes the same stats), and each file against max_entry.
 * Errors name the entry; the caller adds which package. */
int layer_unpack_archive(int root_fd, struct archive *a, unsigned flags, const struct unpack_limits *limits,
                         struct unpack_stats *stats, struct smith_error **err);
