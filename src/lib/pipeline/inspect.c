/* `smith inspect`: an image's entries with why each is there; see
 * inspect.h.
 *
 * Every layer is listed with libarchive through the decompressing reader
 * (no data is extracted, only headers are read), hashed on the way and
 * checked against its digest and diff_id at the end, so what is printed is
 * what the image ships.  The entries of all layers go into one array; the
 * whiteouts into another; then one sort by path (upper layers first) keeps
 * the top entry of each path that no upper whiteout hides. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/path.h"
#include "inspect.h"
#include "layer/unpack.h"
#include "oci/layout_read.h"
#include "oci/media.h"
#include "store/cache.h"
#include "tree/provenance.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct whiteout {
        char *path;  /* absolute: what is hidden, or the directory made opaque */
        bool opaque; /* hides only what is below path */
        size_t layer;
};

struct lister {
        struct inspect_entry *entries;
        size_t n, cap;
        struct whiteout *whiteouts;
        size_t n_wh, cap_wh;
};

static void entry_release(struct inspect_entry *e) {
        free(e->path);
        free(e->target);
}

static void lister_release(struct lister *l) {
        for (size_t i = 0; i < l->n; i++)
                entry_release(&l->entries[i]);
        free(l->entries);
        for (size_t i = 0; i < l->n_wh; i++)
                free(l->whiteouts[i].path);
        free(l->whiteouts);
}

static int grow(void **p, size_t *cap, size_t n, size_t size) {
        size_t c;
        void *q;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 256;
        q = reallocarray(*p, c, size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = c;
        return 0;
}

/* "/" + the name made relative and normalised; NULL for the root itself. */
static int absolute_name(const char *name, char **ret) {
        _cleanup_free_ char *rel = NULL;
        int r = path_normalize(name, 0, &rel);

        if (r < 0)
                return r;
        *ret = NULL;
        if (isempty(rel))
                return 0;
        if (asprintf(ret, "/%s", rel) < 0)
                return -ENOMEM;
        return 0;
}

static int add_whiteout(struct lister *l, const char *path, size_t layer, struct smith_error **err) {
        const char *slash = strrchr(path, '/'), *base = slash + 1;
        struct whiteout w = { .layer = layer };

        if (streq(base, WHITEOUT_OPAQUE)) {
                w.opaque = true;
                w.path = slash == path ? strdup("/") : strndup(path, (size_t) (slash - path));
        } else if (asprintf(&w.path, "%.*s%s", (int) (base - path), path, base + strlen(WHITEOUT_PREFIX)) < 0)
                w.path = NULL;
        if (!w.path || grow((void **) &l->whiteouts, &l->cap_wh, l->n_wh, sizeof(w)) < 0) {
                free(w.path);
                return error_oom(err);
        }
        l->whiteouts[l->n_wh++] = w;
        return 0;
}

static int list_entry(struct lister *l, struct archive_entry *ae, size_t layer, const char *digest,
                      struct smith_error **err) {
        const char *name = archive_entry_pathname(ae), *link = archive_entry_hardlink(ae);
        struct inspect_entry e = { .layer = layer };
        const char *base;
        int r;

        if (!name)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s': an entry without a name", digest);
        if (strlen(name) > UNPACK_MAX_NAME)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s': an entry name longer than %d bytes", digest,
                                 UNPACK_MAX_NAME);
        r = absolute_name(name, &e.path);
        if (r == -EXDEV)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s': entry '%s' escapes the root", digest,
                                 PATH_FOR_MSG(name));
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "layer '%s': entry '%s'", digest, PATH_FOR_MSG(name));
        if (!e.path) /* the root itself */
                return 0;
        base = strrchr(e.path, '/') + 1;
        if (strneq(base, WHITEOUT_PREFIX, strlen(WHITEOUT_PREFIX))) {
                r = add_whiteout(l, e.path, layer, err);
                free(e.path);
                return r;
        }
        if (l->n >= INSPECT_MAX_ENTRIES) {
                free(e.path);
                return error_set(err, SMITH_ERR_SOURCE, "more than %u entries in the layers", INSPECT_MAX_ENTRIES);
        }
        e.mode = archive_entry_perm(ae) & 07777;
        e.uid = archive_entry_uid(ae);
        e.gid = archive_entry_gid(ae);
        e.size = archive_entry_size(ae);
        if (link) {
                e.type = "hardlink";
                e.size = 0;
                r = strlen(link) > UNPACK_MAX_NAME ? -ENAMETOOLONG : absolute_name(link, &e.target);
        } else
                switch (archive_entry_filetype(ae)) {
                case AE_IFDIR:
                        e.type = "dir";
                        e.size = 0;
                        break;
                case AE_IFREG:
                        e.type = "file";
                        break;
                case AE_IFLNK:
                        e.type = "symlink";
                        e.size = 0;
                        link = archive_entry_symlink(ae);
                        if (link && strlen(link) > UNPACK_MAX_NAME)
                                r = -ENAMETOOLONG;
                        else if (link && !(e.target = strdup(link)))
                                r = -ENOMEM;
                        break;
                default:
                        e.type = "other";
                        e.size = 0;
                        break;
                }
        if (r < 0 || grow((void **) &l->entries, &l->cap, l->n, sizeof(e)) < 0) {
                entry_release(&e);
                if (r == -ENOMEM || r >= 0)
                        return error_oom(err);
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "layer '%s': the link of '%s'", digest,
                                       PATH_FOR_MSG(name));
        }
        l->entries[l->n++] = e;
        return 0;
}

/* Lists layer i of img, verified. */
static int list_layer(struct lister *l, const struct oci_image *img, size_t i, struct smith_error **err) {
        const struct layer_ref *ref = &img->layers[i];
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        _cleanup_close_ int fd = -1;
        char digest[DIGEST_STR_LEN + 1], diff_id[DIGEST_STR_LEN + 1];
        uint64_t size = 0;
        struct archive *a;
        const struct unpack_limits limits = unpack_limits_resolve(NULL);
        int r;

        if (oci_image_open_blob(img, ref->digest, &fd, err) < 0 ||
            layer_reader_new_limited(fd, (uint64_t) ref->size, &limits, 0, LAYER_READER_HASH_IN | LAYER_READER_HASH_OUT,
                                     &rd, err) < 0)
                return -1;
        a = layer_reader_archive(rd);
        for (;;) {
                struct archive_entry *ae;

                r = archive_read_next_header(a, &ae);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return layer_reader_error(rd, err, "read layer");
                if (list_entry(l, ae, i, ref->digest, err) < 0)
                        return -1;
                if (archive_read_data_skip(a) != ARCHIVE_OK)
                        return layer_reader_error(rd, err, "read layer");
        }
        if (layer_reader_finish(rd, digest, &size, diff_id, err) < 0)
                return -1;
        if (!streq(digest, ref->digest) || size != (uint64_t) ref->size)
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s' does not match its digest (content is '%s')",
                                 ref->digest, digest);
        if (!streq(diff_id, ref->diff_id))
                return error_set(err, SMITH_ERR_SOURCE, "layer '%s' does not match its diff_id '%s' (content is '%s')",
                                 ref->digest, ref->diff_id, diff_id);
        return 0;
}

/* --- merging the layers --- */

static int whiteout_cmp(const void *a, const void *b) {
        const struct whiteout *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        if (c != 0)
                return c;
        return (int) x->opaque - (int) y->opaque;
}

/* The highest layer of a whiteout at path of that kind, or -1. */
static long whiteout_layer(const struct lister *l, const char *path, size_t len, bool opaque) {
        _cleanup_free_ char *key = strndup(path, len ? len : 1);
        struct whiteout k = { .path = key, .opaque = opaque };
        const struct whiteout *w;

        if (!key)
                return -1;
        w = bsearch(&k, l->whiteouts, l->n_wh, sizeof(k), whiteout_cmp);
        return w ? (long) w->layer : -1;
}

/* A whiteout in a layer above e's hides e itself, or e below an opaque
 * directory. */
static bool hidden(const struct lister *l, const struct inspect_entry *e) {
        size_t len = strlen(e->path);

        if (l->n_wh == 0)
                return false;
        if (whiteout_layer(l, "/", 1, true) > (long) e->layer)
                return true;
        for (size_t i = 1; i <= len; i++) {
                if (i < len && e->path[i] != '/')
                        continue;
                if (whiteout_layer(l, e->path, i, false) > (long) e->layer)
                        return true;
                if (i < len && whiteout_layer(l, e->path, i, true) > (long) e->layer)
                        return true;
        }
        return false;
}

/* By path, the upper layer first. */
static int entry_cmp(const void *a, const void *b) {
        const struct inspect_entry *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        if (c != 0)
                return c;
        return x->layer < y->layer ? 1 : x->layer > y->layer ? -1 : 0;
}

static int path_cmp(const void *key, const void *elem) {
        return strcmp(key, ((const struct inspect_entry *) elem)->path);
}

static void merge(struct lister *l) {
        size_t n = 0;

        if (l->n_wh > 0) {
                /* keep the highest layer of each whiteout */
                size_t m = 0;
                qsort(l->whiteouts, l->n_wh, sizeof(*l->whiteouts), whiteout_cmp);
                for (size_t i = 0; i < l->n_wh; i++) {
                        if (m > 0 && whiteout_cmp(&l->whiteouts[m - 1], &l->whiteouts[i]) == 0) {
                                if (l->whiteouts[i].layer > l->whiteouts[m - 1].layer)
                                        l->whiteouts[m - 1].layer = l->whiteouts[i].layer;
                                free(l->whiteouts[i].path);
                                continue;
                        }
                        l->whiteouts[m++] = l->whiteouts[i];
                }
                l->n_wh = m;
        }
        qsort(l->entries, l->n, sizeof(*l->entries), entry_cmp);
        for (size_t i = 0; i < l->n; i++) {
                struct inspect_entry *e = &l->entries[i];
                if ((n > 0 && streq(l->entries[n - 1].path, e->path)) || hidden(l, e)) {
                        entry_release(e);
                        continue;
                }
                l->entries[n++] = *e;
        }
        l->n = n;
        /* a hardlink is as large as what it links to */
        for (size_t i = 0; i < l->n; i++) {
                struct inspect_entry *e = &l->entries[i], *t;
                if (!streq(e->type, "hardlink") || !e->target)
                        continue;
                t = bsearch(e->target, l->entries, l->n, sizeof(*l->entries), path_cmp);
                if (t && streq(t->type, "file"))
                        e->size = t->size;
        }
}

/* --- the image --- */

static void attach_reasons(struct inspect_result *r, const struct oci_image *img) {
        for (size_t i = 0; i < r->n; i++) {
                struct inspect_entry *e = &r->entries[i];
                const struct provenance_record *rec;

                if (!r->pv)
                        continue;
                if (!r->pv->layer || !streq(img->layers[e->layer].diff_id, r->pv->layer)) {
                        e->why.kind = PLAN_REASON_PARENT_IMAGE;
                        continue;
                }
                rec = provenance_find(r->pv, e->path);
                if (rec) {
                        e->why = rec->why;
                        e->package = rec->package;
                }
        }
}

int inspect_image(const char *ref, struct inspect_result **ret, struct smith_error **err) {
        _cleanup_(inspect_result_freep) struct inspect_result *r = calloc(1, sizeof(*r));
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *blob = NULL;
        struct lister l = {};
        size_t len = 0;
        int q;

        if (!r || !(r->source = strdup(ref)))
                return error_oom(err);
        if (cache_open(&cache, err) < 0 || oci_image_open_layout(cache, AT_FDCWD, ref, NULL, &img, err) < 0)
                return -1;
        q = oci_image_read_index_blob(img, SMITH_MT_PROVENANCE, PROVENANCE_MAX_SIZE, &blob, &len, err);
        if (q < 0)
                return -1;
        if (q > 0 && provenance_parse(blob, len, &r->pv, err) < 0)
                return error_wrap(err, "'%s'", ref);
        for (size_t i = 0; i < img->n_layers; i++)
                if (list_layer(&l, img, i, err) < 0) {
                        lister_release(&l);
                        return error_wrap(err, "'%s'", ref);
                }
        merge(&l);
        r->entries = TAKE_PTR(l.entries);
        r->n = l.n;
        l.n = 0;
        lister_release(&l);
        attach_reasons(r, img);
        *ret = TAKE_PTR(r);
        return 0;
}

void inspect_result_free(struct inspect_result *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                entry_release(&r->entries[i]);
        free(r->entries);
        provenance_free(r->pv);
        free(r->source);
        free(r);
}

const struct inspect_entry *inspect_find(const struct inspect_result *r, const char *path) {
        _cleanup_free_ char *abs = NULL;

        if (absolute_name(path, &abs) < 0)
                return NULL;
        if (!abs || r->n == 0)
                return NULL;
        return bsearch(abs, r->entries, r->n, sizeof(*r->entries), path_cmp);
}

char *inspect_reason_text(const struct inspect_result *r, const struct inspect_entry *e) {
        if (!r->pv)
                return strdup("unknown (no provenance recorded)");
        return plan_reason_text(&e->why, r->pv->config);
}
