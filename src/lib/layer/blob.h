/* Blob writer: the one place a layer (or any blob) is hashed and compressed.
 *
 * Bytes flow once: data in -> sha256 of the uncompressed stream (diff_id)
 * -> compressor -> sha256 and byte count of the compressed stream (digest,
 * size) -> out_fd.  Nothing holds a whole blob; the only buffer is a fixed
 * 256 KiB output buffer in front of out_fd.
 *
 * Ownership: the writer borrows out_fd; it never closes or fsyncs it.  A
 * failure (a write error, a compressor error) is sticky: every later call
 * fails too, and blob_writer_finish() reports it, so a caller that only
 * checks finish() never publishes a truncated blob.
 *
 * Compressed output is deterministic for a given zlib/libzstd: gzip has a
 * fixed header (mtime 0, no name, OS byte 3 "Unix"), zstd runs
 * single-threaded with a content checksum. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/hash.h"

enum blob_compression {
        BLOB_COMPRESS_NONE,
        BLOB_COMPRESS_GZIP,
        BLOB_COMPRESS_ZSTD,
};

struct blob_writer;

/* level -1 picks the default (gzip 6, zstd 3); otherwise gzip 0..9 and
 * zstd 1..ZSTD_maxCLevel().  Ignored for BLOB_COMPRESS_NONE. */
int blob_writer_new(int out_fd, enum blob_compression c, int level, struct blob_writer **ret, struct smith_error **err);
int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct smith_error **err);
/* For output nobody asks the digests of (an image archive): nothing is
 * hashed, and blob_writer_finish() gives empty digest and diff_id.  Call
 * before the first write. */
void blob_writer_no_digests(struct blob_writer *w);

struct blob_result {
        char digest[DIGEST_STR_LEN + 1];  /* sha256 of the bytes written to out_fd */
        char diff_id[DIGEST_STR_LEN + 1]; /* sha256 of the bytes given to write() */
        int64_t size;                     /* bytes written to out_fd */
};

/* Flushes the compressor and the buffer into out_fd and fills *ret.  After
 * it (success or not) the writer accepts no more data; free it. */
int blob_writer_finish(struct blob_writer *w, struct blob_result *ret, struct smith_error **err);
void blob_writer_free(struct blob_writer *w);
DEFINE_POINTER_CLEANUP(struct blob_writer, blob_writer_free)
