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

/* How much one image may take on disk (README "Limits"): a 4 MB layer of
 * honest zeros inflates to 4 GiB, and every digest checks out.  Counted
 * while the data streams, before it is written:
 *   max_unpacked  the image's layers once decompressed, all summed, plus
 *                 the holes of sparse files (their size counts in full)
 *   max_entry     one file's size
 * A field that is 0 means its default.
 *
 * The defaults are absolute sizes, not a ratio to the compressed size:
 * what fills a disk is the size, and honest layers reach any ratio (a
 * zeroed database or disk image compresses 1000:1), so a ratio would refuse
 * good images while a large blob at a modest ratio still got through.
 * 16 GiB is above what the largest common images unpack to (CUDA
 * development bases take 7-10 GiB) and 4 GiB above their largest files
 * (GPU libraries of 1-2 GiB), while a disk usually has that to spare; both
 * are settings (--max-unpacked, --max-entry, SMITH_MAX_UNPACKED,
 * SMITH_MAX_ENTRY) for images beyond that. */
struct unpack_limits {
        uint64_t max_unpacked;
        uint64_t max_entry;
};
#define UNPACK_DEFAULT_MAX_UNPACKED (16ULL << 30)
#define UNPACK_DEFAULT_MAX_ENTRY (4ULL << 30)

struct unpack_opts {
        bool verbose;                /* reserved: nothing is printed; see unpack_stats */
        struct unpack_limits limits; /* zeroes: the defaults */
};

struct unpack_stats {
        uint64_t files, dirs, symlinks, hardlinks, whiteouts, skipped;
        uint64_t unpacked; /* bytes counted against max_unpacked */
};

#define UNPACK_MAX_NAME 4096 /* bytes in an entry name or link target */

/* l (NULL: all defaults) with its zero fields set to the defaults. */
struct unpack_limits unpack_limits_resolve(const struct unpack_limits *l);

/* The errors for reaching a limit, naming the settings that raise it:
 * "the image unpacks to more than 16 GiB (--max-unpacked, SMITH_MAX_UNPACKED)"
 * and "entry 'x' is larger than the 4 GiB limit (--max-entry, SMITH_MAX_ENTRY)".
 * SMITH_ERR_SOURCE; return -1. */
int unpack_error_total(struct smith_error **err, uint64_t max_unpacked);
int unpack_error_entry(struct smith_error **err, const char *shown, uint64_t max_entry);

/* Writes n as "16 GiB", "100 MiB", "3 KiB" when it is a whole number of
 * those, else "12345 bytes".  Returns buf. */
#define UNPACK_SIZE_STR_MAX 32
const char *unpack_size_str(uint64_t n, char buf[static UNPACK_SIZE_STR_MAX]);

/* Applies the layer read from blob_fd (a compressed or plain tar) on top of
 * root_fd, within o's limits (o may be NULL), counting stats->unpacked
 * (what the layers below took) against max_unpacked.  Adds to *stats (may
 * be NULL).  Errors name the layer:
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
 * any descriptor, within limits (NULL: the defaults) as the only layer of
 * an image: returns the compressed size and the diff_id, which the caller
 * must check (with the blob's digest) before trusting the root.  For the
 * speculative unpack of a blob being imported (layer/stage.h). */
int layer_unpack_unchecked(int root_fd, int fd, uint64_t max_in, const struct unpack_limits *limits,
                           struct unpack_stats *stats, uint64_t *ret_size, char *ret_diff_id, struct smith_error **err);

enum {
        UNPACK_NO_WHITEOUTS = 1 << 0, /* ".wh." names are plain names (package payloads) */
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

/* The cached unpacked root of an image: roots/<manifest hex>/ in the cache,
 * built when missing (under cache_lock("root-<hex>"), in tmp/, then
 * renamed, all layers within o's limits together), complete only when
 * roots/<hex>.done exists.  Returns an O_DIRECTORY fd and its path.  On
 * failure nothing of the root is left in tmp/ or roots/. */
int oci_image_root(struct cache *cache, const struct oci_image *img, const struct unpack_opts *o, int *ret_root_fd,
                   char **ret_root_path, struct smith_error **err);

/* --- the decompressing tar reader, shared with the OCI layout reader --- */

/* A libarchive reader (tar format, no libarchive filters) over fd, whose
 * contents may be gzip, zstd or plain (by magic).  More than max_in bytes
 * read from fd is an error, and so is more than max_out bytes out (counting
 * what layer_reader_charge() adds), reported as over_msg (copied; NULL: a
 * plain "more than N bytes decompressed").
 * Reading and decompressing (and hashing) run in a thread of the reader's
 * own, a few MiB ahead of libarchive; fd must stay open and unread by
 * anyone else until layer_reader_free().  The flags choose which streams
 * are hashed for layer_reader_finish(). */
enum {
        LAYER_READER_HASH_IN = 1 << 0,  /* the bytes read from fd */
        LAYER_READER_HASH_OUT = 1 << 1, /* the decompressed bytes */
};
struct layer_reader;
int layer_reader_new(int fd, uint64_t max_in, uint64_t max_out, const char *over_msg, unsigned flags,
                     struct layer_reader **ret, struct smith_error **err);
/* The same with max_out what is left of l's max_unpacked (l resolved, see
 * unpack_limits_resolve()) after used bytes, and its error the one for it. */
int layer_reader_new_limited(int fd, uint64_t max_in, const struct unpack_limits *l, uint64_t used, unsigned flags,
                             struct layer_reader **ret, struct smith_error **err);
struct archive *layer_reader_archive(struct layer_reader *r);
/* Counts n more bytes against max_out (a sparse file's holes, which take
 * no room in the stream); fails when that passes it. */
int layer_reader_charge(struct layer_reader *r, uint64_t n, struct smith_error **err);
/* The bytes decompressed so far plus those charged: after
 * layer_reader_finish(), what the layer counts against max_out. */
uint64_t layer_reader_unpacked(const struct layer_reader *r);
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
