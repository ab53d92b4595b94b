/* Layer unpacking: a decompressing, hashing read callback under libarchive's
 * tar reader, then each entry applied inside the root through chase() and
 * root_openat(), and finally the cached root of a whole image.
 *
 * Whiteouts only apply to lower layers (OCI image spec, "Whiteouts"), but a
 * layer may list them after entries of its own.  So the unpacker remembers
 * the resolved path of every entry this layer wrote (and their ancestors);
 * removing for a whiteout or an opaque marker skips those and descends into
 * directories that hold them. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <dirent.h>
#include <search.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/strv.h"
#include "layer/stage.h"
#include "layer/unpack.h"
#include "store/cache.h"

#define READER_IN_SIZE (256 * 1024)
#define NAME_COMPONENT_MAX 255

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
 * stop, the worker notices before it decodes the next buffer. */

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
        uint64_t n_in, n_out, max_in;
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

static int reader_account(struct layer_reader *r, const void *buf, size_t n) {
        r->n_out += n;
        if (r->n_out > UNPACK_MAX_UNCOMPRESSED)
                return error_set(&r->error, SMITH_ERR_SOURCE, "more than %llu bytes uncompressed",
                                 (unsigned long long) UNPACK_MAX_UNCOMPRESSED);
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
        free(r->in);
        for (size_t i = 0; i < READER_SLOTS; i++)
                free(r->slot[i]);
        pthread_cond_destroy(&r->cond);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

int layer_reader_new(int fd, uint64_t max_in, unsigned flags, struct layer_reader **ret, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *r = NULL;
        int q;

        r = calloc(1, sizeof(*r));
        if (!r)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "reader");
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->cond, NULL);
        r->fd = fd;
        r->max_in = max_in;
        r->in = malloc(READER_IN_SIZE);
        if (!r->in)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "reader");
        for (size_t i = 0; i < READER_SLOTS; i++)
                if (!(r->slot[i] = malloc(READER_SLOT_SIZE)))
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "reader");
        if (flags & LAYER_READER_HASH_IN) {
                r->h_in = sha256_new();
                if (!r->h_in)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "sha256");
        }
        if (flags & LAYER_READER_HASH_OUT) {
                r->h_out = sha256_new();
                if (!r->h_out)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "sha256");
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
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "libarchive");
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

/* --- entry names --- */

/* A hostile name may be huge or hold control characters: quote at most 200
 * bytes of it, with non-printable bytes as '?'. */
static char *name_for_msg(const char *s) {
        size_t n = strnlen(s, 200);
        bool cut = s[n] != '\0';
        char *r = malloc(n + 4);
        if (!r)
                return NULL;
        for (size_t i = 0; i < n; i++)
                r[i] = ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
        if (cut) {
                memcpy(r + n, "...", 3);
                n += 3;
        }
        r[n] = '\0';
        return r;
}

/* Strips leading "/" and "./", drops "." and empty components.  Returns 0,
 * -EXDEV for a ".." component, -ENAMETOOLONG for overlong names or
 * components.  An empty result means the root itself. */
static int normalize_name(const char *in, char **ret) {
        size_t len = strlen(in);
        char *out, *o;
        const char *p = in;

        if (len > UNPACK_MAX_NAME)
                return -ENAMETOOLONG;
        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        o = out;
        while (*p) {
                size_t n;
                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        p += n;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        free(out);
                        return -EXDEV;
                }
                if (n > NAME_COMPONENT_MAX) {
                        free(out);
                        return -ENAMETOOLONG;
                }
                if (o != out)
                        *o++ = '/';
                memcpy(o, p, n);
                o += n;
                p += n;
        }
        *o = '\0';
        *ret = out;
        return 0;
}

/* --- applying entries --- */

struct unpacker {
        int root_fd;
        struct unpack_stats *stats;
        void *created;   /* tsearch() set of resolved paths ("/a/b") this layer wrote */
        void *ancestors; /* ... and of their ancestors */
        /* The last parent resolved, reused while entries stay in one
         * directory; forgotten whenever anything is removed. */
        char *cached_parent;
        char *cached_resolved;
        int cached_fd;
        bool no_whiteouts;      /* package payloads: ".wh." names are plain names */
        bool keep_dir_symlinks; /* UNPACK_KEEP_DIR_SYMLINKS */
        bool list_paths;        /* UNPACK_LIST_PATHS */
};

static int set_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static bool set_contains(void *const *set, const char *s) {
        return tfind(s, set, set_cmp) != NULL;
}

static int set_add(void **set, const char *s) {
        char *k = strdup(s);
        void *node;
        if (!k)
                return -ENOMEM;
        node = tsearch(k, set, set_cmp);
        if (!node) {
                free(k);
                return -ENOMEM;
        }
        if (*(char **) node != k)
                free(k);
        return 0;
}

static void unpacker_forget_parent(struct unpacker *u) {
        free(u->cached_parent);
        free(u->cached_resolved);
        u->cached_parent = u->cached_resolved = NULL;
        if (u->cached_fd >= 0)
                close(u->cached_fd);
        u->cached_fd = -1;
}

static void unpacker_release(struct unpacker *u) {
        unpacker_forget_parent(u);
        tdestroy(u->created, free);
        tdestroy(u->ancestors, free);
        u->created = u->ancestors = NULL;
}

static char *resolved_join(const char *dir, const char *name) {
        char *r;
        if (asprintf(&r, "%s/%s", streq(dir, "/") ? "" : dir, name) < 0)
                return NULL;
        return r;
}

/* Records that this layer wrote dir/name. */
static int unpacker_note_created(struct unpacker *u, const char *dir, const char *name) {
        _cleanup_free_ char *p = resolved_join(dir, name);
        char *slash;

        if (!p || set_add(&u->created, p) < 0)
                return -ENOMEM;
        while ((slash = strrchr(p, '/')) && slash != p) {
                *slash = '\0';
                if (set_contains(&u->ancestors, p))
                        break;
                if (set_add(&u->ancestors, p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Resolves the entry's parent directory inside the root (symlinks followed
 * there, never out), creating missing directories if create.  Returns a
 * borrowed fd and resolved path, or -errno. */
static int unpacker_parent(struct unpacker *u, const char *parent, bool create, int *ret_fd,
                           const char **ret_resolved) {
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_free_ char *resolved = NULL, *name = NULL, *copy = NULL;
        int r;

        if (u->cached_parent && streq(u->cached_parent, parent)) {
                *ret_fd = u->cached_fd;
                *ret_resolved = u->cached_resolved;
                return 0;
        }
        unpacker_forget_parent(u);
        if (create && *parent) {
                r = root_mkdir_p(u->root_fd, parent, 0755);
                if (r < 0)
                        return r;
        }
        r = chase(u->root_fd, *parent ? parent : ".", 0, NULL, NULL, &resolved, &dfd, &name);
        if (r < 0)
                return r;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        copy = strdup(parent);
        if (!copy)
                return -ENOMEM;
        u->cached_parent = TAKE_PTR(copy);
        u->cached_resolved = TAKE_PTR(resolved);
        u->cached_fd = TAKE_FD(fd);
        *ret_fd = u->cached_fd;
        *ret_resolved = u->cached_resolved;
        return 0;
}

/* Makes room for a new entry name in dfd.  Returns 1 if keep_dir and a
 * directory is there (kept), 0 if the slot is free, -errno.  Removing a
 * directory or a symlink may change how the cached parent resolves, so the
 * cache (and with it dfd, if it was the cached fd) is then dropped: callers
 * check u->cached_fd and resolve again. */
static int unpacker_clear_slot(struct unpacker *u, int dfd, const char *name, bool keep_dir) {
        struct stat st;
        int r = 0;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode) && keep_dir)
                return 1;
        if (S_ISDIR(st.st_mode))
                r = rm_rf_at(dfd, name);
        else if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                r = -errno;
        if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
                unpacker_forget_parent(u);
        return r;
}

/* UNPACK_KEEP_DIR_SYMLINKS: 1 if dfd/name (resolved path dir/name) is a
 * symlink that resolves, inside the root, to a directory. */
static int dir_symlink_kept(struct unpacker *u, int dfd, const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL, *last = NULL;
        _cleanup_close_ int ldfd = -1;
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return 0;
        p = resolved_join(dir, name);
        if (!p)
                return -ENOMEM;
        if (chase(u->root_fd, p, 0, NULL, NULL, NULL, &ldfd, &last) < 0)
                return 0;
        return fstatat(ldfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static int wipe_children(struct unpacker *u, int dfd, const char *path);

/* Removes dfd/name (resolved path dir/name) as a lower layer's entry:
 * whatever this layer wrote there survives. */
static int wipe(struct unpacker *u, int dfd, const char *dir, const char *name) {
        _cleanup_free_ char *p = resolved_join(dir, name);
        _cleanup_close_ int cfd = -1;
        struct stat st;

        if (!p)
                return -ENOMEM;
        if (!set_contains(&u->created, p) && !set_contains(&u->ancestors, p))
                return rm_rf_at(dfd, name);
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return 0;
        cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
                return -errno;
        return wipe_children(u, cfd, p);
}

static int wipe_children(struct unpacker *u, int dfd, const char *path) {
        int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                int q;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                q = wipe(u, dirfd(d), path, de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        return r;
}

static int unpack_whiteout(struct unpacker *u, const char *parent, const char *base, const char *shown,
                           struct smith_error **err) {
        const char *target = base + 4;
        const char *resolved;
        int dfd, r;

        if (streq(base, ".wh..wh..opq"))
                target = NULL;
        else if (strneq(base, ".wh..wh.", 8)) {
                /* aufs bookkeeping (.wh..wh.plnk, ...): nothing for us */
                u->stats->skipped++;
                return 0;
        } else if (streq(target, ".."))
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' escapes the root", shown);
        else if (isempty(target) || streq(target, "."))
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' is not a valid whiteout", shown);

        u->stats->whiteouts++;
        /* Everything may go away: nothing cached survives a whiteout. */
        unpacker_forget_parent(u);
        r = unpacker_parent(u, parent, false, &dfd, &resolved);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0; /* nothing below to hide */
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s'", shown);
        if (target)
                r = wipe(u, dfd, resolved, target);
        else
                r = wipe_children(u, dfd, resolved);
        unpacker_forget_parent(u);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': remove", shown);
        return 0;
}

static int unpack_file_data(struct archive *a, struct layer_reader *rd, int fd, int64_t size, const char *shown,
                            struct smith_error **err) {
        uint64_t end = 0;

        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &len, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return layer_reader_error(rd, err, "read tar");
                if (off < 0 || (uint64_t) off + len > UNPACK_MAX_ENTRY_SIZE)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s' is too large", shown);
                for (size_t done = 0; done < len;) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, len - done, (off_t) (off + done));
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
                        }
                        done += (size_t) n;
                }
                end = MAX(end, (uint64_t) off + len);
        }
        /* A sparse file may end in a hole. */
        if ((uint64_t) size > end && ftruncate(fd, (off_t) size) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
        return 0;
}

static int unpack_entry(struct unpacker *u, struct layer_reader *rd, struct archive_entry *e,
                        struct smith_error **err) {
        struct archive *a = layer_reader_archive(rd);
        _cleanup_free_ char *path = NULL, *shown = NULL, *parent = NULL;
        const char *raw = archive_entry_pathname(e), *name, *resolved, *hl;
        char *slash;
        int dfd, r;

        if (!raw)
                raw = archive_entry_pathname_utf8(e);
        if (!raw)
                return error_set(err, SMITH_ERR_SOURCE, "entry with an unreadable name");
        shown = name_for_msg(raw);
        if (!shown)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "entry");
        r = normalize_name(raw, &path);
        if (r == -EXDEV)
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s' escapes the root", shown);
        if (r == -ENAMETOOLONG)
                return error_set(err, SMITH_ERR_SOURCE, "entry '%s': name too long", shown);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s'", shown);
        if (isempty(path)) {
                u->stats->skipped++; /* "./" itself: the root is ours */
                return 0;
        }

        slash = strrchr(path, '/');
        parent = slash ? strndup(path, (size_t) (slash - path)) : strdup("");
        if (!parent)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "entry '%s'", shown);
        name = slash ? slash + 1 : path;

        if (!u->no_whiteouts && strneq(name, ".wh.", 4))
                return unpack_whiteout(u, parent, name, shown, err);

        hl = archive_entry_hardlink(e);
        if (!hl) {
                mode_t t = archive_entry_filetype(e);
                if (t != AE_IFREG && t != AE_IFDIR && t != AE_IFLNK) {
                        u->stats->skipped++; /* devices, fifos, sockets */
                        return 0;
                }
        }

        r = unpacker_parent(u, parent, true, &dfd, &resolved);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s': parent directory", shown);

        if (hl) {
                _cleanup_free_ char *target = NULL, *tname = NULL, *tshown = name_for_msg(hl);
                _cleanup_close_ int tdfd = -1;
                struct stat tst, st;

                if (!tshown)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "entry '%s'", shown);
                r = normalize_name(hl, &target);
                if (r == -EXDEV)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': hardlink target '%s' escapes the root",
                                         shown, tshown);
                if (r < 0 || isempty(target))
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': invalid hardlink target '%s'", shown,
                                         tshown);
                r = chase(u->root_fd, target, CHASE_NOFOLLOW_LAST, NULL, NULL, NULL, &tdfd, &tname);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s': hardlink target '%s'", shown,
                                               tshown);
                if (fstatat(tdfd, tname, &tst, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, errno, "entry '%s': hardlink target '%s'", shown,
                                               tshown);
                if (!S_ISREG(tst.st_mode))
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "entry '%s': hardlink target '%s' is not a regular file", shown, tshown);
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
                    st.st_ino == tst.st_ino)
                        ; /* already that file */
                else {
                        r = unpacker_clear_slot(u, dfd, name, false);
                        if (r < 0)
                                return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                        /* Clearing may have dropped the cached parent; dfd is ours until then. */
                        if (u->cached_fd != dfd && (r = unpacker_parent(u, parent, true, &dfd, &resolved)) < 0)
                                return error_set_errno(err, SMITH_ERR_SOURCE, r, "entry '%s'", shown);
                        if (linkat(tdfd, tname, dfd, name, 0) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "entry '%s': link to '%s'", shown,
                                                       tshown);
                }
                u->stats->hardlinks++;
                goto created;
        }

        if (u->keep_dir_symlinks && archive_entry_filetype(e) == AE_IFDIR) {
                r = dir_symlink_kept(u, dfd, resolved, name);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s'", shown);
                if (r > 0) {
                        u->stats->dirs++;
                        goto created;
                }
        }

        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
                r = unpacker_clear_slot(u, dfd, name, true);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                break;
        default:
                r = unpacker_clear_slot(u, dfd, name, false);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "entry '%s': replace", shown);
                break;
        }
        /* Clearing a slot may drop the cached parent: resolve it again. */
        if (u->cached_fd != dfd) {
                int q = unpacker_parent(u, parent, true, &dfd, &resolved);
                if (q < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, q, "entry '%s': parent directory", shown);
        }

        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
                if (r == 0) {
                        if (mkdirat(dfd, name, 0755) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "create directory '%s'", shown);
                        if (fchmodat(dfd, name, 0755, 0) < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "chmod '%s'", shown);
                }
                u->stats->dirs++;
                break;

        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);
                if (isempty(target))
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': symlink without a target", shown);
                if (strlen(target) > UNPACK_MAX_NAME)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s': symlink target too long", shown);
                /* The target is data: only ever resolved later, inside the root. */
                if (symlinkat(target, dfd, name) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create symlink '%s'", shown);
                u->stats->symlinks++;
                break;
        }

        case AE_IFREG: {
                int64_t size = archive_entry_size(e);
                mode_t mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
                _cleanup_close_ int fd = -1;

                if (size < 0 || (uint64_t) size > UNPACK_MAX_ENTRY_SIZE)
                        return error_set(err, SMITH_ERR_SOURCE, "entry '%s' is too large", shown);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "create '%s'", shown);
                if (unpack_file_data(a, rd, fd, size, shown, err) < 0)
                        return -1;
                if (fchmod(fd, mode) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "chmod '%s'", shown);
                if (close(TAKE_FD(fd)) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "write '%s'", shown);
                u->stats->files++;
                break;
        }
        }

created:
        if (unpacker_note_created(u, resolved, name) < 0 ||
            (u->list_paths && strv_consume(&u->stats->paths, resolved_join(resolved, name)) < 0))
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "entry '%s'", shown);
        return 0;
}

/* Applies every entry read through rd.  On a damaged tar, *ret_tar_failed
 * is set (the caller may find a better reason in the digest). */
static int apply_entries(struct unpacker *u, struct layer_reader *rd, bool *ret_tar_failed, struct smith_error **err) {
        struct archive *a = layer_reader_archive(rd);

        for (;;) {
                struct archive_entry *e;
                int r = archive_read_next_header(a, &e);

                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        *ret_tar_failed = true;
                        return -1;
                }
                if (unpack_entry(u, rd, e, err) < 0)
                        return -1;
        }
}

static int layer_unpack_impl(int root_fd, int blob_fd, const struct oci_layer_ref *layer, bool blob_verified,
                             struct unpack_stats *stats, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        struct unpack_stats dummy = {};
        struct unpacker u = { .root_fd = root_fd, .stats = stats ? stats : &dummy, .cached_fd = -1 };
        char digest[DIGEST_STR_LEN + 1], diff_id[DIGEST_STR_LEN + 1];
        bool tar_failed = false;
        uint64_t size;

        if (!digest_is_valid(layer->digest) || layer->size < 0)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s': invalid descriptor", layer->digest);
        if (layer_reader_new(blob_fd, (uint64_t) layer->size,
                             LAYER_READER_HASH_OUT | (blob_verified ? 0 : LAYER_READER_HASH_IN), &rd, err) < 0)
                goto fail;
        if (apply_entries(&u, rd, &tar_failed, err) < 0) {
                if (tar_failed) {
                        /* A damaged tar is most likely a damaged blob: say
                         * so if the digest shows it. */
                        struct smith_error *ignored = NULL;
                        if (!blob_verified && layer_reader_finish(rd, digest, &size, NULL, &ignored) == 0 &&
                            !streq(digest, layer->digest)) {
                                error_set(err, SMITH_ERR_SOURCE, "digest mismatch: content is '%s'", digest);
                                goto fail;
                        }
                        error_free(ignored);
                        layer_reader_error(rd, err, "read tar");
                }
                goto fail;
        }
        if (layer_reader_finish(rd, digest, &size, diff_id, err) < 0)
                goto fail;
        if (size != (uint64_t) layer->size) {
                error_set(err, SMITH_ERR_SOURCE, "size %" PRIu64 " does not match its descriptor's size %" PRId64, size,
                          layer->size);
                goto fail;
        }
        if (!blob_verified && !streq(digest, layer->digest)) {
                error_set(err, SMITH_ERR_SOURCE, "digest mismatch: content is '%s'", digest);
                goto fail;
        }
        if (!streq(diff_id, layer->diff_id)) {
                error_set(err, SMITH_ERR_SOURCE, "diff_id mismatch: uncompressed content is '%s', config says '%s'",
                          diff_id, layer->diff_id);
                goto fail;
        }
        unpacker_release(&u);
        return 0;
fail:
        unpacker_release(&u);
        return error_wrap(err, "layer '%s'", layer->digest);
}

int layer_unpack(int root_fd, int blob_fd, const struct oci_layer_ref *layer, const struct unpack_opts *o,
                 struct unpack_stats *stats, struct smith_error **err) {
        return layer_unpack_impl(root_fd, blob_fd, layer, false, stats, err);
}

int layer_unpack_stored(int root_fd, int blob_fd, const struct oci_layer_ref *layer, const struct unpack_opts *o,
                        struct unpack_stats *stats, struct smith_error **err) {
        return layer_unpack_impl(root_fd, blob_fd, layer, true, stats, err);
}

int layer_unpack_archive(int root_fd, struct archive *a, unsigned flags, struct unpack_stats *stats,
                         struct smith_error **err) {
        struct layer_reader rd = { .a = a, .borrowed = true };
        struct unpack_stats dummy = {};
        struct unpacker u = {
                .root_fd = root_fd,
                .stats = stats ? stats : &dummy,
                .cached_fd = -1,
                .no_whiteouts = flags & UNPACK_NO_WHITEOUTS,
                .keep_dir_symlinks = flags & UNPACK_KEEP_DIR_SYMLINKS,
                .list_paths = flags & UNPACK_LIST_PATHS,
        };
        bool tar_failed = false;
        int r;

        r = apply_entries(&u, &rd, &tar_failed, err);
        if (r < 0 && tar_failed)
                error_from_archive(err, SMITH_ERR_SOURCE, a, "read archive");
        unpacker_release(&u);
        return r;
}

int layer_unpack_unchecked(int root_fd, int fd, uint64_t max_in, struct unpack_stats *stats, uint64_t *ret_size,
                           char *ret_diff_id, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        struct unpack_stats dummy = {};
        struct unpacker u = { .root_fd = root_fd, .stats = stats ? stats : &dummy, .cached_fd = -1 };
        bool tar_failed = false;
        int r = -1;

        if (layer_reader_new(fd, max_in, LAYER_READER_HASH_OUT, &rd, err) < 0)
                goto out;
        if (apply_entries(&u, rd, &tar_failed, err) < 0) {
                if (tar_failed)
                        layer_reader_error(rd, err, "read tar");
                goto out;
        }
        r = layer_reader_finish(rd, NULL, ret_size, ret_diff_id, err);
out:
        unpacker_release(&u);
        return r;
}

/* --- the cached root of an image --- */

static int root_open_done(struct cache *cache, const char *hex, int *ret_fd) {
        char done[SHA256_HEX_LEN + sizeof(".done")];
        int fd;

        snprintf(done, sizeof(done), "%s.done", hex);
        if (faccessat(cache->roots_fd, done, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        fd = openat(cache->roots_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0;
        *ret_fd = fd;
        return 1;
}

int oci_image_root(struct cache *cache, const struct oci_image *img, const struct unpack_opts *o, int *ret_root_fd,
                   char **ret_root_path, struct smith_error **err) {
        const char *hex = digest_hex(img->manifest_digest);
        const char *src = img->source ? img->source : img->manifest_digest;
        char key[SHA256_HEX_LEN + sizeof("root-")], done[SHA256_HEX_LEN + sizeof(".done")];
        _cleanup_close_ int lock_fd = -1, fd = -1;
        _cleanup_free_ char *path = NULL, *tmp_path = NULL, *tmp_dir = NULL;
        struct unpack_stats stats = {};
        const char *tmp_name;
        int r;

        if (!digest_is_valid(img->manifest_digest))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': invalid manifest digest", src);
        if (asprintf(&path, "%s/roots/%s", cache->path, hex) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "root");
        if (root_open_done(cache, hex, &fd) > 0)
                goto out;

        snprintf(key, sizeof(key), "root-%s", hex);
        if (cache_lock(cache, key, &lock_fd, err) < 0)
                return -1;
        if (root_open_done(cache, hex, &fd) > 0)
                goto out; /* another builder finished while we waited */

        snprintf(done, sizeof(done), "%s.done", hex);
        if (layer_stage_matches(img->staged, img)) {
                /* Unpacked while it was imported, and it is this image's
                 * only layer, with the digest, size and diff_id the
                 * verified manifest and config name. */
                r = rm_rf_at(cache->roots_fd, hex);
                if (r >= 0)
                        r = layer_stage_take(img->staged, cache->roots_fd, hex);
                if (r >= 0) {
                        fd = openat(cache->roots_fd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                return error_set_errno(err, SMITH_ERR_IO, errno, "open '%s'", path);
                        goto mark;
                }
                /* else unpack from the store, as if there were no stage */
        }

        tmp_dir = path_join(cache->path, "tmp");
        if (!tmp_dir)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "root");
        r = mkdtemp_in(tmp_dir, "root-", &tmp_path);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "create directory in '%s'", tmp_dir);
        tmp_name = strrchr(tmp_path, '/') + 1;
        fd = openat(cache->tmp_fd, tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* held while in use, so a later cache_open() can tell it from garbage */
        if (fd < 0 || fchmod(fd, 0755) < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                rm_rf_at(cache->tmp_fd, tmp_name);
                return error_set_errno(err, SMITH_ERR_IO, r, "open '%s'", tmp_path);
        }

        for (size_t i = 0; i < img->n_layers; i++) {
                _cleanup_close_ int bfd = -1;
                if (oci_image_open_blob(img, img->layers[i].digest, &bfd, err) < 0 ||
                    (img->blobs_in_store ? layer_unpack_stored : layer_unpack)(fd, bfd, &img->layers[i], o, &stats,
                                                                               err) < 0) {
                        rm_rf_at(cache->tmp_fd, tmp_name);
                        return -1;
                }
        }

        /* Publish: a leftover incomplete root goes, ours moves in, then the
         * marker says it is complete. */
        r = rm_rf_at(cache->roots_fd, hex);
        if (r >= 0 && renameat(cache->tmp_fd, tmp_name, cache->roots_fd, hex) < 0)
                r = -errno;
        if (r < 0) {
                rm_rf_at(cache->tmp_fd, tmp_name);
                return error_set_errno(err, SMITH_ERR_IO, r, "store root '%s'", path);
        }
mark:
        /* No syncfs: forcing hundreds of megabytes to disk costs seconds,
         * and this is a cache.  The .done marker guards against a builder
         * that died half way; after a power loss, remove the cache. */
        r = write_file_atomic_at(cache->roots_fd, done, img->manifest_digest, strlen(img->manifest_digest), 0644);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "mark root '%s' complete", path);
out:
        *ret_root_fd = TAKE_FD(fd);
        if (ret_root_path)
                *ret_root_path = TAKE_PTR(path);
        return 0;
}
