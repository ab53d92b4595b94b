/* The decompressing tar reader under every unpack, and the limits it
 * enforces.
 *
 * A layer blob is untrusted: it is decompressed here, in-process (zlib or
 * zstd, chosen by magic, never by the media type or an external program),
 * read by libarchive's tar format only, and hashed on the way in when asked
 * (the compressed bytes against the descriptor's digest, the uncompressed
 * ones against the config's diff_id).  Every byte that comes out counts
 * against a bound, so a bomb stops where the limit says, before its data
 * is written. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"

struct archive;

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
        /* one repository index (Packages, primary.xml, filelists.xml)
         * decompressed: a few KiB of xz may hold 4 GiB, which libsolv
         * takes minutes to read.  1 GiB is eleven times Debian's largest
         * (main's Packages, about 90 MB) */
        uint64_t max_index;
};
#define UNPACK_DEFAULT_MAX_UNPACKED (16ULL << 30)
#define UNPACK_DEFAULT_MAX_ENTRY (4ULL << 30)
#define UNPACK_DEFAULT_MAX_INDEX (1ULL << 30)

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

/* A reader over an archive the caller opened and decompresses itself (a
 * package payload): nothing is read or hashed, only the bound is kept,
 * through layer_reader_charge().  The archive stays the caller's. */
int layer_reader_wrap(struct archive *a, uint64_t max_out, const char *over_msg, struct layer_reader **ret,
                      struct smith_error **err);
bool layer_reader_is_wrapped(const struct layer_reader *r);
/* The reader's own error if it failed (a limit, a corrupt stream), which
 * explains a damaged tar better than libarchive can. */
bool layer_reader_failed(const struct layer_reader *r);
