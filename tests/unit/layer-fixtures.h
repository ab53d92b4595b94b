/* Fixtures shared by the layer and layout tests: a growing byte buffer
 * that libarchive's writer can write into, and compression of a buffer
 * with gzip (zlib) or zstd, so tests build their layers in memory.
 * Header-only, for tests; include after <cmocka.h>. */
#pragma once

#include <archive.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/macro.h"

struct buf {
        uint8_t *data;
        size_t len, cap;
};

static inline void buf_append(struct buf *b, const void *p, size_t n) {
        if (b->len + n > b->cap) {
                b->cap = MAX(b->cap * 2, b->len + n + 4096);
                b->data = realloc(b->data, b->cap);
                assert_non_null(b->data);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
}

static inline la_ssize_t buf_write(struct archive *a, void *u, const void *p, size_t n) {
        buf_append(u, p, n);
        return (la_ssize_t) n;
}

enum { PLAIN, GZIP, ZSTD };

static inline void compress_buf(const struct buf *in, int comp, struct buf *out) {
        if (comp == PLAIN) {
                buf_append(out, in->data, in->len);
        } else if (comp == GZIP) {
                z_stream z = {};
                uint8_t chunk[65536];
                int r;
                assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
                z.next_in = in->data;
                z.avail_in = (uInt) in->len;
                do {
                        z.next_out = chunk;
                        z.avail_out = sizeof(chunk);
                        r = deflate(&z, Z_FINISH);
                        buf_append(out, chunk, sizeof(chunk) - z.avail_out);
                } while (r == Z_OK);
                assert_int_equal(r, Z_STREAM_END);
                deflateEnd(&z);
        } else {
                size_t cap = ZSTD_compressBound(in->len), n;
                uint8_t *o = malloc(cap);
                assert_non_null(o);
                n = ZSTD_compress(o, cap, in->data, in->len, 3);
                assert_false(ZSTD_isError(n));
                buf_append(out, o, n);
                free(o);
        }
}
