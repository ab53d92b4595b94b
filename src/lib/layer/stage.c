/* Speculative unpacking of a layer while the OCI layout reader imports its
 * blob: a thread running layer_unpack_unchecked() over one end of a socket
 * pair, the importer writing the blob's bytes into the other.  See
 * stage.h for when its result is used.
 *
 * Neither side may wait for the other forever: the thread closes its end
 * as soon as it stops reading (done or failed), so a feed then fails with
 * EPIPE instead of blocking, and the importer closes its end before it
 * joins, so the thread sees the end of the blob. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/stage.h"
#include "layer/unpack.h"
#include "store/cache.h"

struct layer_stage {
        int tmp_fd;    /* the cache's tmp/, ours (dup) */
        char *name;    /* of the root in tmp/, NULL once taken or removed */
        int root_fd;   /* the thread's */
        int feed_fd;   /* the importer's end, -1 once closed */
        int thread_fd; /* the thread's end, closed by the thread */
        pthread_t thread;
        bool started, complete;
        char digest[DIGEST_STR_LEN + 1];
        uint64_t size;
        struct unpack_limits limits;

        /* the thread's results, read after the join */
        int result;
        uint64_t got_size;
        char diff_id[DIGEST_STR_LEN + 1];
        struct smith_error *error;
};

static void *stage_thread(void *userdata) {
        struct layer_stage *s = userdata;

        s->result = layer_unpack_unchecked(s->root_fd, s->thread_fd, s->size, &s->limits, NULL, &s->got_size,
                                           s->diff_id, &s->error);
        /* From here on a feed fails instead of waiting for a reader. */
        close(s->thread_fd);
        s->thread_fd = -1;
        return NULL;
}

static void stage_remove(struct layer_stage *s) {
        if (s->name)
                (void) rm_rf_at(s->tmp_fd, s->name);
        free(s->name);
        s->name = NULL;
        s->complete = false;
}

static void stage_close_feed(struct layer_stage *s) {
        if (s->feed_fd >= 0)
                close(s->feed_fd);
        s->feed_fd = -1;
}

void layer_stage_free(struct layer_stage *s) {
        if (!s)
                return;
        stage_close_feed(s);
        if (s->started)
                pthread_join(s->thread, NULL);
        if (s->thread_fd >= 0)
                close(s->thread_fd);
        if (s->root_fd >= 0)
                close(s->root_fd);
        stage_remove(s);
        if (s->tmp_fd >= 0)
                close(s->tmp_fd);
        error_free(s->error);
        free(s);
}

int layer_stage_start(struct cache *cache, const char *digest, uint64_t size, const struct unpack_limits *limits,
                      struct layer_stage **ret, struct smith_error **err) {
        _cleanup_(layer_stage_freep) struct layer_stage *s = NULL;
        int sv[2], r;

        if (!digest_is_valid(digest))
                return error_set(err, SMITH_ERR_IO, "invalid digest '%s'", digest);
        s = calloc(1, sizeof(*s));
        if (!s)
                return error_oom(err);
        s->root_fd = s->feed_fd = s->thread_fd = -1;
        memcpy(s->digest, digest, DIGEST_STR_LEN + 1);
        s->size = size;
        s->limits = unpack_limits_resolve(limits);
        s->tmp_fd = fcntl(cache->tmp_fd, F_DUPFD_CLOEXEC, 3);
        if (s->tmp_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stage");

        if (cache_tmpdir(cache, "stage-", &s->name, &s->root_fd, err) < 0)
                return -1;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stage: socketpair");
        s->thread_fd = sv[0];
        s->feed_fd = sv[1];
        r = pthread_create(&s->thread, NULL, stage_thread, s);
        if (r != 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "start unpacking thread");
        s->started = true;
        (void) pthread_setname_np(s->thread, "smith-stage");
        *ret = TAKE_PTR(s);
        return 0;
}

void layer_stage_feed(struct layer_stage *s, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0 && s->feed_fd >= 0) {
                ssize_t n = send(s->feed_fd, p, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        stage_close_feed(s); /* the thread gave up (EPIPE): never used */
                        return;
                }
                p += n;
                len -= (size_t) n;
        }
}

bool layer_stage_end(struct layer_stage *s, bool blob_ok) {
        bool fed = s->feed_fd >= 0; /* else a feed failed */

        stage_close_feed(s);
        if (s->started) {
                pthread_join(s->thread, NULL);
                s->started = false;
        }
        if (s->root_fd >= 0)
                close(s->root_fd);
        s->root_fd = -1;
        if (!blob_ok || !fed || s->result < 0 || s->got_size != s->size) {
                stage_remove(s);
                return false;
        }
        s->complete = true;
        return true;
}

bool layer_stage_matches(const struct layer_stage *s, const struct layer_ref *layers, size_t n_layers) {
        const struct layer_ref *l;

        if (!s || !s->complete || !s->name || n_layers != 1)
                return false;
        l = &layers[0];
        return l->size >= 0 && (uint64_t) l->size == s->size && s->got_size == s->size && streq(l->digest, s->digest) &&
               streq(l->diff_id, s->diff_id);
}

int layer_stage_take(struct layer_stage *s, int dst_dirfd, const char *dst_name) {
        if (!s->complete || !s->name)
                return -ENOENT;
        if (renameat(s->tmp_fd, s->name, dst_dirfd, dst_name) < 0)
                return -errno;
        free(s->name);
        s->name = NULL;
        s->complete = false;
        return 0;
}
