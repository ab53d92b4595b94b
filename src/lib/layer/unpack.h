/* Applying image layers to a directory, contained.
 *
 * A layer blob is untrusted: it is decompressed here, in-process (zlib or
 * zstd, chosen by magic, never by the media type or an external program),
 * read by libarchive's tar format only, and hashed on the way in, twice:
 * the compressed bytes must match the descriptor's digest and size, the
 * uncompressed ones the config's diff_id.  Every path is resolved inside
 * the root fd (root_openat/chase), so entry names, symlinks met on the way
 * and hardlink targets can never reach outside it.  Whiteouts follow the
 * OCI spec: they only hide what lower layers put there.
 *
 * Because data flows once, a layer that fails verification has already
 * been written: on any error the root's contents are undefined and the
 * caller discards it (oci_image_root() builds in tmp/ and renames only on
 * success).  The library never prints; skipped entries are counted. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "oci/layout_read.h"

struct archive;
struct cache;

struct unpack_opts {
        bool verbose; /* reserved: nothing is printed; see unpack_stats */
};

struct unpack_stats {
        uint64_t files, dirs, symlinks, hardlinks, whiteouts, skipped;
        /* with UNPACK_LIST_PATHS: every path written, as it resolved inside
         * the root ("./bin/cat" over a bin -> usr/bin link is "/usr/bin/cat"),
         * in archive order; a strv the caller frees */
        char **paths;
};

#define UNPACK_MAX_NAME 4096                 /* bytes in an entry name or link target */
#define UNPACK_MAX_ENTRY_SIZE (64ULL << 30)  /* one file's size */
#define UNPACK_MAX_UNCOMPRESSED (1ULL << 40) /* a whole layer, uncompressed */

/* Applies the layer read from blob_fd (a compressed or plain tar) on top of
 * root_fd.  Adds to *stats (may be NULL).  Errors name the layer:
 * "layer 'sha256:..': entry '../x' escapes the root". */
int layer_unpack(int root_fd, int blob_fd, const struct oci_layer_ref *layer, const struct unpack_opts *o,
                 struct unpack_stats *stats, struct smith_error **err);

/* The same for a blob from the cache's blob store, which holds only blobs
 * whose sha256 matched their name (cache_blob_commit()): the compressed
 * bytes are not hashed again, but their size is checked, and so is the
 * diff_id of the uncompressed ones, as always. */
int layer_unpack_stored(int root_fd, int blob_fd, const struct oci_layer_ref *layer, const struct unpack_opts *o,
                        struct unpack_stats *stats, struct smith_error **err);

/* Applies the layer read from fd (at most max_in bytes) to root_fd without
 * any descriptor: returns the compressed size and the diff_id, which the
 * caller must check (with the blob's digest) before trusting the root.
 * For the speculative unpack of a blob being imported (layer/stage.h). */
int layer_unpack_unchecked(int root_fd, int fd, uint64_t max_in, struct unpack_stats *stats, uint64_t *ret_size,
                           char *ret_diff_id, struct smith_error **err);

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
 * hashed: the caller verified the package before.  Errors name the entry;
 * the caller adds which package. */
int layer_unpack_archive(int root_fd, struct archive *a, unsigned flags, struct unpack_stats *stats,
                         struct smith_error **err);

/* The cached unpacked root of an image: roots/<manifest hex>/ in the cache,
 * built when missing (under cache_lock("root-<hex>"), in tmp/, then
 * renamed), complete only when roots/<hex>.done exists.  Returns an
 * O_DIRECTORY fd and its path. */
int oci_image_root(struct cache *cache, const struct oci_image *img, const struct unpack_opts *o, int *ret_root_fd,
                   char **ret_root_path, struct smith_error **err);

/* --- the decompressing tar reader, shared with the OCI layout reader --- */

/* A libarchive reader (tar format, no libarchive filters) over fd, whose
 * contents may be gzip, zstd or plain (by magic).  More than max_in bytes
 * read from fd, or more than UNPACK_MAX_UNCOMPRESSED out, is an error.
 * Reading and decompressing (and hashing) run in a thread of the reader's
 * own, a few MiB ahead of libarchive; fd must stay open and unread by
 * anyone else until layer_reader_free().  The flags choose which streams
 * are hashed for layer_reader_finish(). */
enum {
        LAYER_READER_HASH_IN = 1 << 0,  /* the bytes read from fd */
        LAYER_READER_HASH_OUT = 1 << 1, /* the decompressed bytes */
};
struct layer_reader;
int layer_reader_new(int fd, uint64_t max_in, unsigned flags, struct layer_reader **ret, struct smith_error **err);
struct archive *layer_reader_archive(struct layer_reader *r);
/* Turns the reader's failure into *err: the decompressor's or size limit's
 * error if there was one, else libarchive's, prefixed with what. */
int layer_reader_error(struct layer_reader *r, struct smith_error **err, const char *what);
/* After ARCHIVE_EOF: reads the rest of the stream (padding after the tar's
 * end is part of the diff_id) and returns the digests and compressed size
 * (outputs may be NULL; the digests, DIGEST_STR_LEN + 1 bytes each, are
 * only filled when hashed). */
int layer_reader_finish(struct layer_reader *r, char *ret_digest, uint64_t *ret_size, char *ret_diff_id,
                        struct smith_error **err);
void layer_reader_free(struct layer_reader *r);
DEFINE_POINTER_CLEANUP(struct layer_reader, layer_reader_free)
