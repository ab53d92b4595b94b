/* The decompressing tar reader under every unpack: reading, hashing and
 * decompressing (zlib or zstd, by magic) in a thread of its own, a few MiB
 * ahead of libarchive's tar parser; and the size limits it enforces as the
 * bytes come out.  See reader.h. */
#include <archive.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/hash.h"
#include "layer/reader.h"

#define READER_IN_SIZE (256 * 1024)

/* --- limits --- */

#define TOTAL_FMT "the image unpacks to more than %s (--max-unpacked, SMITH_MAX_UNPACKED)"

struct unpack_limits unpack_limits_resolve(const struct unpack_limits *l) {
        struct unpack_limits r = l ? *l : (struct unpack_limits){};

        if (r.max_unpacked == 0)
                r.max_unpacked = UNPACK_DEFAULT_MAX_UNPACKED;
        if (r.max_entry == 0)
                r.max_entry = UNPACK_DEFAULT_MAX_ENTRY;
        if (r.max_index == 0)
                r.max_index = UNPACK_DEFAULT_MAX_INDEX;
        return r;
}

const char *unpack_size_str(uint64_t n, char buf[static UNPACK_SIZE_STR_MAX]) {
        static const char *const units[] = { "TiB", "GiB", "MiB", "KiB" };

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                unsigned shift = 10 * (unsigned) (ELEMENTSOF(units) - i);
                if (n > 0 && n % (1ULL << shift) == 0) {
                        snprintf(buf, UNPACK_SIZE_STR_MAX, "%" PRIu64 " %s", n >> shift, units[i]);
                        return buf;
                }
        }
        snprintf(buf, UNPACK_SIZE_STR_MAX, "%" PRIu64 " bytes", n);
        return buf;
}

int unpack_error_total(struct smith_error **err, uint64_t max_unpacked) {
        char sz[UNPACK_SIZE_STR_MAX];

        return error_set(err, SMITH_ERR_SOURCE, TOTAL_FMT, unpack_size_str(max_unpacked, sz));
}

int unpack_error_entry(struct smith_error **err, const char *shown, uint64_t max_entry) {
        char sz[UNPACK_SIZE_STR_MAX];

        return error_set(err, SMITH_ERR_SOURCE, "entry '%s' is larger than the %s limit (--max-entry, SMITH_MAX_ENTRY)",
                         shown, unpack_size_str(max_entry, sz));
}

/* --- the decompressing reader ---
 *
 * Reading, hashing and decompressing run in a worker thread, the tar
 * parsing and the file writes in the caller's: the two halves cost about
 * the same, and on two cores the layer takes the time of the slower one.
 * The worker fills READER_SLOTS buffers of READER_SLOT_SIZE bytes in turn;
 * the libarchive read callback hands out one at a time and gives it back
 * on its next call (libarchive may use a block until then).
 *
 * Everything the worker owns (fd, decoder, hashes, counters, error) is
 * touched by the caller only after it has seen w_finished under the lock,
 * or before the worker starts.  Stopping early is the caller's: it sets
 * stop, the worker notices before it decodes the next buffer.
 *
 * The output bound counts the worker's n_out and the caller's charged
 * bytes (sparse holes).  Each side checks with what it knows: the worker
 * n_out + charged, the caller consumed + charged (consumed <= n_out), so
 * whichever passes max_out first stops the layer. */

#define READER_SLOTS 4
#define READER_SLOT_SIZE (1024 * 1024)

enum compression {
        COMPRESSION_NONE,
        COMPRESSION_GZIP,
        COMPRESSION_ZSTD,
};

struct layer_reader {
        int fd; /* borrowed */
        enum compression compression;
        z_stream z;
        bool z_ready, z_in_member;
        ZSTD_DStream *zstd;
        size_t zstd_hint; /* last ZSTD_decompressStream() result: 0 at the end of a frame */
        bool pending;     /* the output filled up last time: the decoder may hold more */
        uint8_t *in;
        size_t in_len, in_pos;
        bool in_eof, done;
        struct sha256 *h_in, *h_out;
        uint64_t n_in, n_out, max_in, max_out;
        char *over_msg;            /* the error for passing max_out, may be NULL */
        _Atomic uint64_t charged;  /* the caller's: bytes counted beside n_out */
        uint64_t consumed;         /* the caller's: bytes handed to libarchive */
        struct smith_error *error; /* the worker's; sticky */
        struct archive *a;

        /* the pipeline, under lock */
        pthread_t worker;
        bool worker_started;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* any change below */
        uint8_t *slot[READER_SLOTS];
        size_t slot_len[READER_SLOTS];
        unsigned head, filled; /* next slot to hand out, slots ready */
        bool held;             /* the caller holds slot[head] */
        bool w_finished;       /* the worker is done: end of data or error */
        bool stop;             /* the caller wants no more */
        bool error_seen;       /* the caller met the worker's error */
        bool borrowed;         /* a is the caller's (layer_unpack_archive()) */
};

static int reader_read_more(struct layer_reader *r) {
        ssize_t n;

        do
                n = read(r->fd, r->in + r->in_len, READER_IN_SIZE - r->in_len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return error_set_errno(&r->error, SMITH_ERR_IO, errno, "read");
        if (n == 0) {
                r->in_eof = true;
                return 0;
        }
        if (r->h_in)
                sha256_update(r->h_in, r->in + r->in_len, (size_t) n);
        r->in_len += (size_t) n;
        r->n_in += (uint64_t) n;
        if (r->n_in > r->max_in)
                return error_set(&r->error, SMITH_ERR_SOURCE, "larger than its descriptor's size %" PRIu64, r->max_in);
        return 0;
}

static int reader_fill(struct layer_reader *r) {
        if (r->in_pos < r->in_len || r->in_eof)
                return 0;
        r->in_pos = r->in_len = 0;
        return reader_read_more(r);
}

static int reader_over(struct layer_reader *r, struct smith_error **err) {
        if (r->over_msg)
                return error_set(err, SMITH_ERR_SOURCE, "%s", r->over_msg);
        return error_set(err, SMITH_ERR_SOURCE, "more than %" PRIu64 " bytes decompressed", r->max_out);
}

static int reader_account(struct layer_reader *r, const void *buf, size_t n) {
        r->n_out += n;
        if (r->n_out > r->max_out || r->max_out - r->n_out < atomic_load(&r->charged))
                return reader_over(r, &r->error);
        if (r->h_out)
                sha256_update(r->h_out, buf, n);
        return 0;
}

/* Decompresses into out[0..cap): returns the bytes written, cap unless the
 * stream ended (r->done) or failed (-1, r->error set; what was decoded
 * before the failure is dropped, as a serial reader would never have
 * passed it on either). */
static ssize_t reader_decode(struct layer_reader *r, uint8_t *out, size_t cap) {
        size_t n = 0;

        if (r->error)
                return -1;
        while (n < cap && !r->done) {
                size_t got = 0;

                if (!r->pending && r->in_pos == r->in_len) {
                        if (reader_fill(r) < 0)
                                return -1;
                        if (r->in_pos == r->in_len && r->in_eof) {
                                if ((r->compression == COMPRESSION_GZIP && r->z_in_member) ||
                                    (r->compression == COMPRESSION_ZSTD && r->zstd_hint != 0))
                                        return error_set(&r->error, SMITH_ERR_SOURCE, "truncated %s stream",
                                                         r->compression == COMPRESSION_GZIP ? "gzip" : "zstd");
                                r->done = true;
                                break;
                        }
                }

                switch (r->compression) {
                case COMPRESSION_NONE:
                        got = MIN(r->in_len - r->in_pos, cap - n);
                        memcpy(out + n, r->in + r->in_pos, got);
                        r->in_pos += got;
                        break;

                case COMPRESSION_GZIP: {
                        int zr;
                        if (!r->z_in_member) {
                                if (inflateReset(&r->z) != Z_OK)
                                        return error_set(&r->error, SMITH_ERR_IO, "gzip: reset failed");
                                r->z_in_member = true;
                        }
                        r->z.next_in = r->in + r->in_pos;
                        r->z.avail_in = (uInt) (r->in_len - r->in_pos);
                        r->z.next_out = out + n;
                        r->z.avail_out = (uInt) (cap - n);
                        zr = inflate(&r->z, Z_NO_FLUSH);
                        r->in_pos = r->in_len - r->z.avail_in;
                        got = cap - n - r->z.avail_out;
                        r->pending = r->z.avail_out == 0;
                        if (zr == Z_STREAM_END) {
                                r->z_in_member = false;
                                r->pending = false;
                        } else if (zr != Z_OK && zr != Z_BUF_ERROR)
                                return error_set(&r->error, SMITH_ERR_SOURCE, "corrupt gzip data: %s",
                                                 r->z.msg ? r->z.msg : "error");
                        break;
                }

                case COMPRESSION_ZSTD: {
                        ZSTD_inBuffer ib = { r->in, r->in_len, r->in_pos };
                        ZSTD_outBuffer ob = { out + n, cap - n, 0 };
                        size_t zr = ZSTD_decompressStream(r->zstd, &ob, &ib);
                        if (ZSTD_isError(zr))
                                return error_set(&r->error, SMITH_ERR_SOURCE, "corrupt zstd data: %s",
                                                 ZSTD_getErrorName(zr));
                        r->zstd_hint = zr;
                        r->in_pos = ib.pos;
                        got = ob.pos;
                        r->pending = ob.pos == ob.size;
                        break;
                }
                }
                if (got > 0 && reader_account(r, out + n, got) < 0)
                        return -1;
                n += got;
        }
        return (ssize_t) n;
}

static void *reader_worker(void *userdata) {
        struct layer_reader *r = userdata;
        unsigned tail = 0; /* next slot to fill */

        for (;;) {
                ssize_t n;

                pthread_mutex_lock(&r->lock);
                /* filled counts the slot the caller holds too */
                while (!r->stop && r->filled >= READER_SLOTS)
                        pthread_cond_wait(&r->cond, &r->lock);
                if (r->stop) {
                        r->w_finished = true;
                        pthread_cond_broadcast(&r->cond);
                        pthread_mutex_unlock(&r->lock);
                        return NULL;
                }
                pthread_mutex_unlock(&r->lock);

                n = reader_decode(r, r->slot[tail], READER_SLOT_SIZE);

                pthread_mutex_lock(&r->lock);
                if (n > 0) {
                        r->slot_len[tail] = (size_t) n;
                        r->filled++;
                        tail = (tail + 1) % READER_SLOTS;
                }
                if (n < 0 || r->done)
                        r->w_finished = true;
                pthread_cond_broadcast(&r->cond);
                pthread_mutex_unlock(&r->lock);
                if (n < 0 || r->done)
                        return NULL;
        }
}

/* Stops and joins the worker; afterwards the caller owns everything. */
static void reader_stop(struct layer_reader *r) {
        if (!r->worker_started)
                return;
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->worker, NULL);
        r->worker_started = false;
}

/* The next buffer of decompressed data: > 0 bytes at *ret (valid until the
 * next call), 0 at the end, -1 on the worker's error (r->error, from then on
 * the caller's to report). */
static ssize_t reader_next(struct layer_reader *r, const void **ret) {
        ssize_t n = -1;

        if (!r->worker_started)
                return r->error_seen ? -1 : 0;
        pthread_mutex_lock(&r->lock);
        if (r->held) {
                r->held = false;
                r->filled--;
                r->head = (r->head + 1) % READER_SLOTS;
                pthread_cond_broadcast(&r->cond);
        }
        while (r->filled == 0 && !r->w_finished)
                pthread_cond_wait(&r->cond, &r->lock);
        if (r->filled > 0) {
                r->held = true;
                *ret = r->slot[r->head];
                n = (ssize_t) r->slot_len[r->head];
                r->consumed += (uint64_t) n;
        }
        pthread_mutex_unlock(&r->lock);
        if (n >= 0)
                return n;
        /* Finished and drained: the worker touches nothing any more. */
        pthread_join(r->worker, NULL);
        r->worker_started = false;
        if (r->error) {
                r->error_seen = true;
                return -1;
        }
        return 0;
}

static la_ssize_t reader_archive_read(struct archive *a, void *userdata, const void **buf) {
        struct layer_reader *r = userdata;
        ssize_t n = reader_next(r, buf);

        if (n < 0) {
                archive_set_error(a, EIO, "%s", r->error ? r->error->msg : "read error");
                return -1;
        }
        return n;
}

void layer_reader_free(struct layer_reader *r) {
        if (!r)
                return;
        reader_stop(r);
        if (r->a && !r->borrowed)
                archive_read_free(r->a);
        if (r->z_ready)
                inflateEnd(&r->z);
        ZSTD_freeDStream(r->zstd);
        sha256_free(r->h_in);
        sha256_free(r->h_out);
        error_free(r->error);
        free_many(r->over_msg, r->in);
        for (size_t i = 0; i < READER_SLOTS; i++)
                free(r->slot[i]);
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

/* A reader with nothing running yet: its lock and its output bound. */
static struct layer_reader *reader_alloc(uint64_t max_out, const char *over_msg) {
        struct layer_reader *r = calloc(1, sizeof(*r));

        if (!r)
                return NULL;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->cond, NULL);
        r->fd = -1;
        r->max_out = max_out;
        if (over_msg && !(r->over_msg = strdup(over_msg))) {
                layer_reader_free(r);
                return NULL;
        }
        return r;
}

int layer_reader_new(int fd, uint64_t max_in, uint64_t max_out, const char *over_msg, unsigned flags,
                     struct layer_reader **ret, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *r = reader_alloc(max_out, over_msg);
        int q;

        if (!r)
                return error_oom(err);
        r->fd = fd;
        r->max_in = max_in;
        r->in = malloc(READER_IN_SIZE);
        if (!r->in)
                return error_oom(err);
        for (size_t i = 0; i < READER_SLOTS; i++)
                if (!(r->slot[i] = malloc(READER_SLOT_SIZE)))
                        return error_oom(err);
        if (flags & LAYER_READER_HASH_IN) {
                r->h_in = sha256_new();
                if (!r->h_in)
                        return error_oom(err);
        }
        if (flags & LAYER_READER_HASH_OUT) {
                r->h_out = sha256_new();
                if (!r->h_out)
                        return error_oom(err);
        }

        /* The magic decides, never a media type or a file name. */
        while (r->in_len < 4 && !r->in_eof)
                if (reader_read_more(r) < 0) {
                        *err = TAKE_PTR(r->error);
                        return -1;
                }
        if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
                r->compression = COMPRESSION_GZIP;
                if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
                        return error_set(err, SMITH_ERR_IO, "gzip: cannot initialise zlib");
                r->z_ready = true;
        } else if (r->in_len >= 4 && r->in[0] == 0x28 && r->in[1] == 0xb5 && r->in[2] == 0x2f && r->in[3] == 0xfd) {
                r->compression = COMPRESSION_ZSTD;
                r->zstd = ZSTD_createDStream();
                if (!r->zstd || ZSTD_isError(ZSTD_initDStream(r->zstd)))
                        return error_set(err, SMITH_ERR_IO, "zstd: cannot initialise");
                /* Bound the window a hostile frame may ask us to allocate. */
                ZSTD_DCtx_setParameter(r->zstd, ZSTD_d_windowLogMax, 27);
        } else
                r->compression = COMPRESSION_NONE;

        r->a = archive_read_new();
        if (!r->a)
                return error_oom(err);
        if (archive_read_support_format_tar(r->a) != ARCHIVE_OK)
                return error_from_archive(err, SMITH_ERR_IO, r->a, "libarchive");
        q = pthread_create(&r->worker, NULL, reader_worker, r);
        if (q != 0)
                return error_set_errno(err, SMITH_ERR_IO, q, "start reader thread");
        r->worker_started = true;
        (void) pthread_setname_np(r->worker, "smith-inflate");
        if (archive_read_open(r->a, r, NULL, reader_archive_read, NULL) != ARCHIVE_OK)
                return layer_reader_error(r, err, "read tar");
        *ret = TAKE_PTR(r);
        return 0;
}

struct archive *layer_reader_archive(struct layer_reader *r) {
        return r->a;
}

int layer_reader_charge(struct layer_reader *r, uint64_t n, struct smith_error **err) {
        uint64_t charged = atomic_fetch_add(&r->charged, n) + n;

        if (charged < n || r->consumed > r->max_out || r->max_out - r->consumed < charged)
                return reader_over(r, err);
        return 0;
}

uint64_t layer_reader_unpacked(const struct layer_reader *r) {
        return r->n_out + atomic_load(&r->charged);
}

int layer_reader_new_limited(int fd, uint64_t max_in, const struct unpack_limits *l, uint64_t used, unsigned flags,
                             struct layer_reader **ret, struct smith_error **err) {
        _cleanup_free_ char *over = NULL;
        char sz[UNPACK_SIZE_STR_MAX];

        if (asprintf(&over, TOTAL_FMT, unpack_size_str(l->max_unpacked, sz)) < 0)
                return error_oom(err);
        return layer_reader_new(fd, max_in, used < l->max_unpacked ? l->max_unpacked - used : 0, over, flags, ret, err);
}

int layer_reader_error(struct layer_reader *r, struct smith_error **err, const char *what) {
        /* Only an error the caller has met counts: the worker may have run
         * ahead into a damaged part libarchive never asked for. */
        if (r->error_seen && r->error) {
                if (err && !*err)
                        *err = TAKE_PTR(r->error);
                return -1;
        }
        return error_from_archive(err, SMITH_ERR_SOURCE, r->a, "%s", what);
}

int layer_reader_finish(struct layer_reader *r, char *ret_digest, uint64_t *ret_size, char *ret_diff_id,
                        struct smith_error **err) {
        for (;;) {
                const void *buf;
                ssize_t n = reader_next(r, &buf);
                if (n < 0)
                        return layer_reader_error(r, err, "read");
                if (n == 0)
                        break;
        }
        if (ret_size)
                *ret_size = r->n_in;
        if (r->h_in && ret_digest)
                sha256_final_digest(r->h_in, ret_digest);
        if (r->h_out && ret_diff_id)
                sha256_final_digest(r->h_out, ret_diff_id);
        return 0;
}

int layer_reader_wrap(struct archive *a, uint64_t max_out, const char *over_msg, struct layer_reader **ret,
                      struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *r = reader_alloc(max_out, over_msg);

        if (!r)
                return error_oom(err);
        r->a = a;
        r->borrowed = true;
        *ret = TAKE_PTR(r);
        return 0;
}

bool layer_reader_is_wrapped(const struct layer_reader *r) {
        return r->borrowed;
}

bool layer_reader_failed(const struct layer_reader *r) {
        return r->error_seen && r->error;
}
