/* Parallel gzip on libdeflate; see pgzip.h.
 *
 * A ring of slots, each holding one input chunk and its compressed member.
 * The caller fills slots in order and marks them ready; workers take ready
 * slots in order and compress them; the caller writes finished slots out in
 * order before reusing them.  One mutex and two condition variables guard
 * the ring; compression itself runs unlocked. */
#include <errno.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/macro.h"
#include "pgzip.h"

#define PGZIP_MAX_THREADS 4
/* The header's OS byte: 3 (Unix), as gzip and zlib write on Linux, instead of
 * libdeflate's "unknown"; the header is outside the CRC. */
#define GZIP_OS_UNIX 3

enum slot_state {
        SLOT_FREE,
        SLOT_READY, /* filled, waiting for a worker */
        SLOT_WORKING,
        SLOT_DONE, /* compressed, waiting to be written out */
};

struct slot {
        enum slot_state state;
        uint8_t *in;
        size_t in_len;
        uint8_t *out;
        size_t out_len;
};

struct pgzip {
        int level;
        pgzip_sink sink;
        void *userdata;

        size_t n_slots, out_cap;
        struct slot *slots;
        size_t fill;  /* slot the caller is filling */
        size_t take;  /* next slot a worker takes */
        size_t drain; /* next slot to write out */

        pthread_mutex_t lock;
        pthread_cond_t work; /* a slot became ready, or stop */
        pthread_cond_t done; /* a slot became done */
        uint64_t total;      /* bytes given to pgzip_write() */
        pthread_t threads[PGZIP_MAX_THREADS];
        size_t n_threads;
        bool stop;
        int error; /* sticky, negative */
};

static void *worker(void *arg) {
        struct pgzip *z = arg;
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(z->level);

        pthread_mutex_lock(&z->lock);
        for (;;) {
                struct slot *s;
                size_t n;

                while (!z->stop && z->slots[z->take].state != SLOT_READY)
                        pthread_cond_wait(&z->work, &z->lock);
                if (z->stop)
                        break;
                s = &z->slots[z->take];
                s->state = SLOT_WORKING;
                z->take = (z->take + 1) % z->n_slots;
                pthread_mutex_unlock(&z->lock);

                n = c ? libdeflate_gzip_compress(c, s->in, s->in_len, s->out, z->out_cap) : 0;
                if (n >= 10)
                        s->out[9] = GZIP_OS_UNIX;

                pthread_mutex_lock(&z->lock);
                if (n == 0 && z->error == 0)
                        z->error = c ? -EOVERFLOW : -ENOMEM;
                s->out_len = n;
                s->state = SLOT_DONE;
                pthread_cond_broadcast(&z->done);
        }
        pthread_mutex_unlock(&z->lock);
        libdeflate_free_compressor(c);
        return NULL;
}

/* Writes out the oldest slot once it is done.  Called with the lock held;
 * drops it around the sink. */
static int drain_one(struct pgzip *z) {
        struct slot *s = &z->slots[z->drain];
        int r;

        while (s->state == SLOT_READY || s->state == SLOT_WORKING)
                pthread_cond_wait(&z->done, &z->lock);
        if (s->state != SLOT_DONE)
                return 0;
        if (z->error < 0)
                return z->error;
        pthread_mutex_unlock(&z->lock);
        r = z->sink(z->userdata, s->out, s->out_len);
        pthread_mutex_lock(&z->lock);
        if (r < 0) {
                z->error = r;
                return r;
        }
        s->state = SLOT_FREE;
        s->in_len = 0;
        z->drain = (z->drain + 1) % z->n_slots;
        return 0;
}

/* Hands the slot being filled to the workers and makes the next one free. */
static int submit(struct pgzip *z) {
        int r = 0;

        pthread_mutex_lock(&z->lock);
        z->slots[z->fill].state = SLOT_READY;
        pthread_cond_signal(&z->work);
        z->fill = (z->fill + 1) % z->n_slots;
        while (r == 0 && z->slots[z->fill].state != SLOT_FREE)
                r = drain_one(z);
        if (r == 0)
                r = z->error;
        pthread_mutex_unlock(&z->lock);
        return r;
}

int pgzip_new(int level, unsigned threads, pgzip_sink sink, void *userdata, struct pgzip **ret) {
        struct pgzip *z;
        long ncpu;

        if (level < 0 || level > 12)
                return -EINVAL;
        if (threads == 0) {
                ncpu = sysconf(_SC_NPROCESSORS_ONLN);
                threads = ncpu > 0 ? (unsigned) ncpu : 1;
        }
        threads = MIN(threads, PGZIP_MAX_THREADS);
        z = calloc(1, sizeof(*z));
        if (!z)
                return -ENOMEM;
        z->level = level;
        z->sink = sink;
        z->userdata = userdata;
        z->n_slots = threads + 2;
        z->out_cap = libdeflate_gzip_compress_bound(NULL, PGZIP_CHUNK);
        z->slots = calloc(z->n_slots, sizeof(*z->slots));
        pthread_mutex_init(&z->lock, NULL);
        pthread_cond_init(&z->work, NULL);
        pthread_cond_init(&z->done, NULL);
        if (!z->slots) {
                pgzip_free(z);
                return -ENOMEM;
        }
        for (size_t i = 0; i < z->n_slots; i++) {
                z->slots[i].in = malloc(PGZIP_CHUNK);
                z->slots[i].out = malloc(z->out_cap);
                if (!z->slots[i].in || !z->slots[i].out) {
                        pgzip_free(z);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < threads; i++) {
                int r = pthread_create(&z->threads[i], NULL, worker, z);
                if (r != 0) {
                        pgzip_free(z);
                        return -r;
                }
                z->n_threads++;
        }
        *ret = z;
        return 0;
}

int pgzip_write(struct pgzip *z, const void *data, size_t len) {
        const uint8_t *p = data;

        if (z->error < 0)
                return z->error;
        z->total += len;
        while (len > 0) {
                struct slot *s = &z->slots[z->fill];
                size_t n = MIN(len, PGZIP_CHUNK - s->in_len);
                int r;

                memcpy(s->in + s->in_len, p, n);
                s->in_len += n;
                p += n;
                len -= n;
                if (s->in_len == PGZIP_CHUNK) {
                        r = submit(z);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int pgzip_finish(struct pgzip *z) {
        int r = 0;

        if (z->error < 0)
                return z->error;
        /* the last partial chunk; or an empty member for an empty input */
        if (z->slots[z->fill].in_len > 0 || z->total == 0) {
                r = submit(z);
                if (r < 0)
                        return r;
        }
        pthread_mutex_lock(&z->lock);
        while (r == 0 && z->slots[z->drain].state != SLOT_FREE)
                r = drain_one(z);
        if (r == 0)
                r = z->error;
        pthread_mutex_unlock(&z->lock);
        return r;
}

void pgzip_free(struct pgzip *z) {
        if (!z)
                return;
        pthread_mutex_lock(&z->lock);
        z->stop = true;
        pthread_cond_broadcast(&z->work);
        pthread_mutex_unlock(&z->lock);
        for (size_t i = 0; i < z->n_threads; i++)
                pthread_join(z->threads[i], NULL);
        for (size_t i = 0; z->slots && i < z->n_slots; i++) {
                free(z->slots[i].in);
                free(z->slots[i].out);
        }
        free(z->slots);
        pthread_cond_destroy(&z->work);
        pthread_cond_destroy(&z->done);
        pthread_mutex_destroy(&z->lock);
        free(z);
}
