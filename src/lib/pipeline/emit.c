/* The plan as a layer; see emit.h.  Microcontainer rules are applied
 * here, in one place: one owner, directories 0755, files 0755 or 0644,
 * symlinks as they are, hardlinks kept, nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/progress.h"
#include "basic/fs.h"
#include "emit.h"
#include "layer/tarw.h"

struct inode_key {
        int fd;
        dev_t dev;
        ino_t ino;
        char *path; /* the first path written for this inode */
        char digest[DIGEST_STR_LEN + 1];
        char sha1[SHA1_HEX_LEN + 1];
};

static int inode_cmp(const void *a, const void *b) {
        const struct inode_key *x = a, *y = b;
        if (x->fd != y->fd)
                return x->fd < y->fd ? -1 : 1;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

static void inode_free(void *p) {
        struct inode_key *k = p;
        free(k->path);
        free(k);
}

struct emit {
        struct tar_writer *tar;
        const struct layer_opts *o;
        void *inodes;
        struct smith_error **err;
};

void layer_files_release(struct layer_files *f) {
        for (size_t i = 0; f && i < f->n; i++) {
                free(f->v[i].path);
                free(f->v[i].package);
        }
        if (f)
                free(f->v);
}

/* Records e's file with its digest, for the SBOMs. */
static int record_file(struct emit *em, const struct plan_entry *e, const char *digest, const char *sha1) {
        struct layer_files *f = em->o->files;
        struct layer_file *lf;

        if (!f)
                return 0;
        if (f->n == f->cap) {
                size_t c = f->cap ? f->cap * 2 : 256;
                struct layer_file *q = reallocarray(f->v, c, sizeof(*q));
                if (!q)
                        return error_oom(em->err);
                f->v = q;
                f->cap = c;
        }
        lf = &f->v[f->n];
        *lf = (struct layer_file){ .path = strdup(e->path), .package = e->package ? strdup(e->package) : NULL };
        memcpy(lf->digest, digest, sizeof(lf->digest));
        memcpy(lf->sha1, sha1, sizeof(lf->sha1));
        if (!lf->path || (e->package && !lf->package)) {
                free(lf->path);
                free(lf->package);
                return error_oom(em->err);
        }
        f->n++;
        return 0;
}

static int emit_one(const struct plan_entry *e, void *userdata) {
        struct emit *em = userdata;
        _cleanup_(sha256_freep) struct sha256 *h = NULL;
        _cleanup_(sha1_freep) struct sha1 *h1 = NULL;
        struct tar_entry_meta m = { .uid = em->o->uid, .gid = em->o->gid, .mtime = em->o->mtime };
        char digest[DIGEST_STR_LEN + 1], sha1[SHA1_HEX_LEN + 1];
        _cleanup_close_ int fd = -1;
        enum smith_error_kind kind;
        struct stat st;
        int r;

        switch (e->type) {
        case PLAN_DIR:
                m.perm = 0755;
                return tar_writer_add_dir(em->tar, e->path, &m, em->err);
        case PLAN_SYMLINK:
                m.perm = 0777;
                return tar_writer_add_symlink(em->tar, e->path, e->target, &m, em->err);
        case PLAN_FILE:
                break;
        }
        m.perm = e->exec ? 0755 : 0644;
        if (em->o->files) {
                m.hash = h = sha256_new();
                m.sha1 = h1 = sha1_new();
                if (!h || !h1)
                        return error_oom(em->err);
        }
        if (e->data) {
                r = tar_writer_add_data(em->tar, e->path, e->data, e->data_len, &m, em->err);
                if (r < 0 || !h)
                        return r;
                sha256_final_digest(h, digest);
                sha1_final_hex(h1, sha1);
                return record_file(em, e, digest, sha1);
        }
        if (e->nlink > 1) {
                struct inode_key key = { .fd = e->src_fd, .dev = e->dev, .ino = e->ino };
                void *found = tfind(&key, &em->inodes, inode_cmp);
                if (found) {
                        const struct inode_key *k = *(struct inode_key *const *) found;
                        r = tar_writer_add_hardlink(em->tar, e->path, k->path, &m, em->err);
                        return r < 0 || !h ? r : record_file(em, e, k->digest, k->sha1);
                }
        }
        /* the user's own ./rootfs failing is a local I/O error, not a bad package */
        kind = e->from == PLAN_FROM_OVERLAY ? SMITH_ERR_IO : SMITH_ERR_SOURCE;
        r = root_open_regular(e->src_fd, e->src_path, &fd);
        if (r == -EBADF)
                return error_set(em->err, kind, "'%s' is no longer a regular file", PATH_FOR_MSG(e->src_path));
        if (r < 0)
                return error_set_errno(em->err, kind, r, "open '%s'", PATH_FOR_MSG(e->src_path));
        if (fstat(fd, &st) < 0)
                return error_set_errno(em->err, kind, errno, "stat '%s'", PATH_FOR_MSG(e->src_path));
        if (!S_ISREG(st.st_mode))
                return error_set(em->err, kind, "'%s' is no longer a regular file", PATH_FOR_MSG(e->src_path));
        r = tar_writer_add_file_fd(em->tar, e->path, fd, st.st_size, &m, em->err);
        if (r < 0)
                return r;
        /* the compressing pass is the one worth watching (the plain one only hashes) */
        if (em->o->compression != BLOB_COMPRESS_NONE)
                progress_add((uint64_t) st.st_size);
        if (h) {
                sha256_final_digest(h, digest);
                sha1_final_hex(h1, sha1);
                if (record_file(em, e, digest, sha1) < 0)
                        return -1;
        } else
                digest[0] = sha1[0] = '\0';
        if (e->nlink > 1) {
                struct inode_key *k = calloc(1, sizeof(*k));
                if (!k)
                        return error_oom(em->err);
                *k = (struct inode_key){ .fd = e->src_fd, .dev = e->dev, .ino = e->ino, .path = strdup(e->path) };
                memcpy(k->digest, digest, sizeof(k->digest));
                memcpy(k->sha1, sha1, sizeof(k->sha1));
                if (!k->path || !tsearch(k, &em->inodes, inode_cmp)) {
                        inode_free(k);
                        return error_oom(em->err);
                }
        }
        return 0;
}

int layer_write_plan(struct plan *p, const struct layer_opts *o, int out_fd, struct blob_result *ret,
                     struct smith_error **err) {
        _cleanup_(blob_writer_freep) struct blob_writer *bw = NULL;
        _cleanup_(tar_writer_freep) struct tar_writer *tw = NULL;
        struct emit em = { .o = o, .err = err };
        int r;

        r = blob_writer_new(out_fd, o->compression, o->level, &bw, err);
        if (r < 0)
                return r;
        r = tar_writer_new(bw, &tw, err);
        if (r < 0)
                return r;
        em.tar = tw;
        r = plan_foreach(p, emit_one, &em);
        tdestroy(em.inodes, inode_free);
        if (r < 0)
                return error_wrap(err, "write layer");
        r = tar_writer_finish(tw, err);
        if (r < 0)
                return error_wrap(err, "write layer");
        r = blob_writer_finish(bw, ret, err);
        if (r < 0)
                return error_wrap(err, "write layer");
        return 0;
}
