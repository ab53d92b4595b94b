/* Blob writer: hash, compress, hash again, count, write; see blob.h.
 *
 * gzip goes through the parallel compressor (pgzip.c), whose whole members
 * are hashed, counted and written as they come out in order.  zstd and
 * plain output share one buffer (w->out); whenever it fills, flush_out()
 * hashes those bytes into the digest, counts them and hands them to
 * write_full().  The first failure is kept in w->error and
 * replayed to every later caller. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "basic/fs.h"
#include "blob.h"
#include "pgzip.h"

#define BLOB_OUT_BUFFER (256u * 1024u)
#define GZIP_DEFAULT_LEVEL 6
#define ZSTD_DEFAULT_LEVEL 3

struct blob_writer {
        int fd;
        enum blob_compression compression;
        struct sha256 *diff_hash; /* over the input */
        struct sha256 *hash;      /* over the output */
        int64_t size;

        struct pgzip *gz;
        ZSTD_CCtx *zstd;

        uint8_t *out;
        size_t out_len;

        bool finished;
        struct smith_error *error; /* sticky */
};

/* --- errors --- */

static int replay_error(struct blob_writer *w, struct smith_error **err) {
        error_set(err, w->error->kind, "%s", w->error->msg);
        if (err && *err)
                (*err)->errnum = w->error->errnum;
        return -1;
}

/* Records the first failure in the writer and reports it. */
_printf_(4, 5) static int fail(struct blob_writer *w, struct smith_error **err, int errnum, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        if (!w->error) {
                va_start(ap, fmt);
                r = vasprintf(&m, fmt, ap);
                va_end(ap);
                if (r < 0)
                        m = NULL;
                if (errnum != 0)
                        error_set_errno(&w->error, SMITH_ERR_IO, errnum, "%s", m ? m : "blob writer");
                else
                        error_set(&w->error, SMITH_ERR_IO, "%s", m ? m : "blob writer");
                if (!w->error) /* out of memory while making the error */
                        return error_oom(err);
        }
        return replay_error(w, err);
}

/* --- output side --- */

static int flush_out(struct blob_writer *w, struct smith_error **err) {
        int r;

        if (w->out_len == 0)
                return 0;
        if (w->hash)
                sha256_update(w->hash, w->out, w->out_len);
        r = write_full(w->fd, w->out, w->out_len);
        if (r < 0)
                return fail(w, err, r, "write blob");
        w->size += (int64_t) w->out_len;
        w->out_len = 0;
        return 0;
}

static int emit_plain(struct blob_writer *w, const uint8_t *p, size_t len, struct smith_error **err) {
        while (len > 0) {
                size_t n = MIN(len, BLOB_OUT_BUFFER - w->out_len);
                memcpy(w->out + w->out_len, p, n);
                w->out_len += n;
                p += n;
                len -= n;
                if (w->out_len == BLOB_OUT_BUFFER && flush_out(w, err) < 0)
                        return -1;
        }
        return 0;
}

/* The parallel gzip compressor's output: one whole gzip member at a time. */
static int gzip_sink(void *userdata, const void *data, size_t len) {
        struct blob_writer *w = userdata;
        int r;

        if (w->hash)
                sha256_update(w->hash, data, len);
        r = write_full(w->fd, data, len);
        if (r < 0)
                return r;
        w->size += (int64_t) len;
        return 0;
}

static int emit_zstd(struct blob_writer *w, const uint8_t *p, size_t len, ZSTD_EndDirective mode,
                     struct smith_error **err) {
        ZSTD_inBuffer in = { .src = p, .size = len, .pos = 0 };

        for (;;) {
                ZSTD_outBuffer out = { .dst = w->out, .size = BLOB_OUT_BUFFER, .pos = w->out_len };
                size_t left = ZSTD_compressStream2(w->zstd, &out, &in, mode);

                if (ZSTD_isError(left))
                        return fail(w, err, 0, "zstd blob: %s", ZSTD_getErrorName(left));
                w->out_len = out.pos;
                if (w->out_len == BLOB_OUT_BUFFER && flush_out(w, err) < 0)
                        return -1;
                if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
                        return 0;
        }
}

/* --- public --- */

static int zstd_workers(void) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n < 1 ? 1 : n > 64 ? 64 : (int) n;
}

int blob_writer_new(int out_fd, enum blob_compression c, int level, struct blob_writer **ret,
                    struct smith_error **err) {
        _cleanup_(blob_writer_freep) struct blob_writer *w = NULL;
        int r;

        if (out_fd < 0)
                return error_set(err, SMITH_ERR_IO, "blob writer: invalid output fd");
        w = calloc(1, sizeof(*w));
        if (!w)
                return error_oom(err);
        w->fd = out_fd;
        w->compression = c;
        w->out = malloc(BLOB_OUT_BUFFER);
        w->diff_hash = sha256_new();
        w->hash = sha256_new();
        if (!w->out || !w->diff_hash || !w->hash)
                return error_oom(err);

        switch (c) {
        case BLOB_COMPRESS_NONE:
                break;
        case BLOB_COMPRESS_GZIP:
                if (level == -1)
                        level = GZIP_DEFAULT_LEVEL;
                if (level < 0 || level > 9)
                        return error_set(err, SMITH_ERR_USAGE, "gzip level %d out of range 0..9", level);
                r = pgzip_new(level, 0, gzip_sink, w, &w->gz);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "gzip blob");
                break;
        case BLOB_COMPRESS_ZSTD: {
                size_t zr;

                if (level == -1)
                        level = ZSTD_DEFAULT_LEVEL;
                if (level < 1 || level > ZSTD_maxCLevel())
                        return error_set(err, SMITH_ERR_USAGE, "zstd level %d out of range 1..%d", level,
                                         ZSTD_maxCLevel());
                w->zstd = ZSTD_createCCtx();
                if (!w->zstd)
                        return error_oom(err);
                zr = ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_compressionLevel, level);
                if (!ZSTD_isError(zr))
                        zr = ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_checksumFlag, 1);
                /* multithreaded: libzstd's output is the same for any number
                 * of workers from one on, so the blob is too, on any machine
                 * (the single-threaded mode would give other bytes) */
                if (!ZSTD_isError(zr))
                        zr = ZSTD_CCtx_setParameter(w->zstd, ZSTD_c_nbWorkers, zstd_workers());
                if (ZSTD_isError(zr))
                        return error_set(err, SMITH_ERR_IO, "zstd blob: %s", ZSTD_getErrorName(zr));
                break;
        }
        default:
                return error_set(err, SMITH_ERR_USAGE, "blob writer: unknown compression %d", (int) c);
        }

        *ret = TAKE_PTR(w);
        return 0;
}

void blob_writer_no_digests(struct blob_writer *w) {
        sha256_free(TAKE_PTR(w->hash));
        sha256_free(TAKE_PTR(w->diff_hash));
}

int blob_writer_write(struct blob_writer *w, const void *data, size_t len, struct smith_error **err) {
        if (w->error)
                return replay_error(w, err);
        if (w->finished)
                return error_set(err, SMITH_ERR_IO, "write blob: writer already finished");
        if (len == 0)
                return 0;

        if (w->diff_hash)
                sha256_update(w->diff_hash, data, len);
        switch (w->compression) {
        case BLOB_COMPRESS_GZIP: {
                int r = pgzip_write(w->gz, data, len);
                return r < 0 ? fail(w, err, -r, "write gzip blob") : 0;
        }
        case BLOB_COMPRESS_ZSTD:
                return emit_zstd(w, data, len, ZSTD_e_continue, err);
        case BLOB_COMPRESS_NONE:
        default:
                return emit_plain(w, data, len, err);
        }
}

int blob_writer_finish(struct blob_writer *w, struct blob_result *ret, struct smith_error **err) {
        struct blob_result res = {};
        int r = 0;

        if (w->error)
                return replay_error(w, err);
        if (w->finished)
                return error_set(err, SMITH_ERR_IO, "finish blob: writer already finished");
        w->finished = true;

        if (w->compression == BLOB_COMPRESS_GZIP) {
                r = pgzip_finish(w->gz);
                if (r < 0)
                        return fail(w, err, -r, "write gzip blob");
        } else if (w->compression == BLOB_COMPRESS_ZSTD)
                r = emit_zstd(w, NULL, 0, ZSTD_e_end, err);
        if (r < 0 || flush_out(w, err) < 0)
                return -1;

        if (w->hash)
                sha256_final_digest(w->hash, res.digest);
        if (w->diff_hash)
                sha256_final_digest(w->diff_hash, res.diff_id);
        res.size = w->size;
        if (ret)
                *ret = res;
        return 0;
}

void blob_writer_free(struct blob_writer *w) {
        if (!w)
                return;
        pgzip_free(w->gz);
        ZSTD_freeCCtx(w->zstd);
        sha256_free(w->diff_hash);
        sha256_free(w->hash);
        free(w->out);
        error_free(w->error);
        free(w);
}
