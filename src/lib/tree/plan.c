/* The plan (see plan.h), kept in a tsearch() tree ordered by path: lookups
 * while selecting, and an in-order walk for the layer writer. */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "basic/path.h"
#include "plan.h"

#define PLAN_MAX_LINKS 40

struct plan {
        void *root;
        size_t n;
        struct plan_reason why; /* for the entries added next (owned) */
};

static void reason_release(struct plan_reason *r) {
        free((char *) r->detail);
        free((char *) r->needed_by);
        free((char *) r->pattern);
        *r = (struct plan_reason){};
}

/* *dst = a copy of src (NULL: unknown); dst is released first. */
static int reason_copy(struct plan_reason *dst, const struct plan_reason *src) {
        struct plan_reason r = { .kind = src ? src->kind : PLAN_REASON_UNKNOWN, .line = src ? src->line : 0 };

        if (src && ((src->detail && !(r.detail = strdup(src->detail))) ||
                    (src->needed_by && !(r.needed_by = strdup(src->needed_by))) ||
                    (src->pattern && !(r.pattern = strdup(src->pattern))))) {
                reason_release(&r);
                return -ENOMEM;
        }
        reason_release(dst);
        *dst = r;
        return 0;
}

/* A parent directory's reason: the entry below it. */
static int reason_parent(struct plan_reason *dst, const char *child) {
        _cleanup_free_ char *abs = NULL;
        struct plan_reason r = { .kind = PLAN_REASON_PARENT };

        if (asprintf(&abs, "/%s", child) < 0)
                return -ENOMEM;
        r.needed_by = abs;
        return reason_copy(dst, &r);
}

static int entry_cmp(const void *a, const void *b) {
        return strcmp(((const struct plan_entry *) a)->path, ((const struct plan_entry *) b)->path);
}

static void entry_free(void *p) {
        struct plan_entry *e = p;
        if (!e)
                return;
        free_many(e->path, e->src_path, e->data, e->target, e->package);
        reason_release(&e->why);
        free(e);
}

int plan_new(struct plan **ret) {
        struct plan *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

void plan_free(struct plan *p) {
        if (!p)
                return;
        tdestroy(p->root, entry_free);
        reason_release(&p->why);
        free(p);
}

int plan_set_reason(struct plan *p, const struct plan_reason *why) {
        return reason_copy(&p->why, why);
}

size_t plan_size(const struct plan *p) {
        return p->n;
}

struct plan_entry *plan_get(struct plan *p, const char *path) {
        struct plan_entry key = { .path = (char *) path };
        void *found = tfind(&key, &p->root, entry_cmp);
        return found ? *(struct plan_entry **) found : NULL;
}

/* Removes every entry strictly below dir (a directory being replaced). */
struct collect {
        const char *prefix;
        size_t len;
        char **paths;
        int r;
};

static void collect_below(const void *node, VISIT which, void *userdata) {
        struct collect *c = userdata;
        const struct plan_entry *e = *(struct plan_entry *const *) node;
        if (which != postorder && which != leaf)
                return;
        if (c->r < 0)
                return;
        if (strncmp(e->path, c->prefix, c->len) == 0 && e->path[c->len] == '/')
                c->r = strv_extend(&c->paths, e->path);
}

static int remove_below(struct plan *p, const char *dir) {
        struct collect c = { .prefix = dir, .len = strlen(dir) };
        twalk_r(p->root, collect_below, &c);
        if (c.r < 0) {
                strv_free(c.paths);
                return c.r;
        }
        for (size_t i = 0; c.paths && c.paths[i]; i++) {
                struct plan_entry key = { .path = c.paths[i] };
                void *found = tfind(&key, &p->root, entry_cmp);
                if (found) {
                        struct plan_entry *e = *(struct plan_entry **) found;
                        tdelete(&key, &p->root, entry_cmp);
                        entry_free(e);
                        p->n--;
                }
        }
        strv_free(c.paths);
        return 0;
}

static int ensure_parents(struct plan *p, const char *path, enum plan_precedence from);

/* Inserts e (taking it) honouring precedence.  Returns 1 if inserted, 0 if
 * an existing entry was kept (e is freed), -errno. */
static int plan_put(struct plan *p, struct plan_entry *e) {
        struct plan_entry *old = plan_get(p, e->path);
        int r;

        if (old) {
                if (old->type == PLAN_DIR && e->type == PLAN_DIR) {
                        if (e->from > old->from)
                                old->from = e->from;
                        /* a directory only implied before now has a reason of its own */
                        if (old->why.kind == PLAN_REASON_PARENT && e->why.kind != PLAN_REASON_UNKNOWN &&
                            e->why.kind != PLAN_REASON_PARENT) {
                                struct plan_reason tmp = old->why;
                                old->why = e->why;
                                e->why = tmp;
                        }
                        entry_free(e);
                        return 0;
                }
                if (e->from <= old->from) {
                        entry_free(e);
                        return 0;
                }
                if (old->type == PLAN_DIR) {
                        r = remove_below(p, old->path);
                        if (r < 0) {
                                entry_free(e);
                                return r;
                        }
                }
                /* swap the contents in place: the tree keeps its node */
                struct plan_entry tmp = *old;
                *old = *e;
                *e = tmp;
                entry_free(e);
                return 1;
        }
        if (!isempty(e->path)) {
                r = ensure_parents(p, e->path, e->from);
                if (r < 0) {
                        entry_free(e);
                        return r;
                }
        }
        if (!tsearch(e, &p->root, entry_cmp)) {
                entry_free(e);
                return -ENOMEM;
        }
        p->n++;
        return 1;
}

static struct plan_entry *entry_new(struct plan *p, const char *path, enum plan_type type, enum plan_precedence from) {
        struct plan_entry *e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        e->path = path_normalized(path, 0);
        if (!e->path || reason_copy(&e->why, &p->why) < 0) {
                free(e->path);
                free(e);
                return NULL;
        }
        e->type = type;
        e->from = from;
        e->src_fd = -1;
        return e;
}

static int ensure_parents(struct plan *p, const char *path, enum plan_precedence from) {
        _cleanup_free_ char *copy = strdup(path);
        char *slash;

        if (!copy)
                return -ENOMEM;
        for (slash = strchr(copy, '/'); slash; slash = strchr(slash + 1, '/')) {
                struct plan_entry *old, *e;
                *slash = '\0';
                old = plan_get(p, copy);
                if (old && old->type == PLAN_DIR) {
                        *slash = '/';
                        continue;
                }
                if (old && old->from > from) /* a higher layer put a non-dir here */
                        return -ENOTDIR;
                e = entry_new(p, copy, PLAN_DIR, from);
                if (!e || reason_parent(&e->why, path) < 0) {
                        entry_free(e);
                        return -ENOMEM;
                }
                if (old) {
                        struct plan_entry tmp = *old;
                        *old = *e;
                        *e = tmp;
                        entry_free(e);
                } else if (!tsearch(e, &p->root, entry_cmp)) {
                        entry_free(e);
                        return -ENOMEM;
                } else
                        p->n++;
                *slash = '/';
        }
        return 0;
}

int plan_add_dir(struct plan *p, const char *path, enum plan_precedence from) {
        struct plan_entry *e = entry_new(p, path, PLAN_DIR, from);
        if (!e)
                return -ENOMEM;
        if (isempty(e->path)) { /* the root itself is implicit */
                entry_free(e);
                return 0;
        }
        return plan_put(p, e);
}

int plan_add_file(struct plan *p, const char *path, enum plan_precedence from, int src_fd, const char *src_path,
                  bool exec, dev_t dev, ino_t ino, nlink_t nlink) {
        struct plan_entry *e = entry_new(p, path, PLAN_FILE, from);
        if (!e)
                return -ENOMEM;
        e->src_fd = src_fd;
        e->src_path = strdup(src_path);
        e->exec = exec;
        e->dev = dev;
        e->ino = ino;
        e->nlink = nlink;
        if (!e->src_path || isempty(e->path)) {
                entry_free(e);
                return isempty(path) ? -EISDIR : -ENOMEM;
        }
        return plan_put(p, e);
}

int plan_add_data(struct plan *p, const char *path, enum plan_precedence from, const void *data, size_t len,
                  bool exec) {
        struct plan_entry *e = entry_new(p, path, PLAN_FILE, from);
        if (!e)
                return -ENOMEM;
        e->data = malloc(len + 1);
        if (!e->data || isempty(e->path)) {
                int r = e->data ? -EISDIR : -ENOMEM;
                entry_free(e);
                return r;
        }
        memcpy(e->data, data, len);
        e->data[len] = '\0';
        e->data_len = len;
        e->exec = exec;
        return plan_put(p, e);
}

int plan_add_symlink(struct plan *p, const char *path, enum plan_precedence from, const char *target) {
        struct plan_entry *e = entry_new(p, path, PLAN_SYMLINK, from);
        if (!e)
                return -ENOMEM;
        e->target = strdup(target);
        if (!e->target || isempty(e->path)) {
                entry_free(e);
                return -ENOMEM;
        }
        return plan_put(p, e);
}

int plan_set_package(struct plan *p, const char *path, const char *package) {
        struct plan_entry *e = plan_get(p, path);
        char *copy = NULL;

        if (!e)
                return -ENOENT;
        if (package && !(copy = strdup(package)))
                return -ENOMEM;
        free(e->package);
        e->package = copy;
        return 0;
}

char *plan_resolve(struct plan *p, const char *path, bool follow_last) {
        _cleanup_free_ char *rest = path_normalized(path, 0);
        _cleanup_free_ char *done = strdup("");
        unsigned links = 0;

        if (!rest || !done)
                return NULL;
        while (!isempty(rest)) {
                size_t n = strcspn(rest, "/");
                bool last = rest[n] == '\0';
                _cleanup_free_ char *cand = NULL;
                struct plan_entry *e;

                if (asprintf(&cand, "%s%s%.*s", done, isempty(done) ? "" : "/", (int) n, rest) < 0)
                        return NULL;
                e = plan_get(p, cand);
                if (e && e->type == PLAN_SYMLINK && (!last || follow_last)) {
                        _cleanup_free_ char *joined = NULL;
                        char *nrest;
                        if (++links > PLAN_MAX_LINKS)
                                return NULL;
                        if (e->target[0] == '/') {
                                free(done);
                                done = strdup("");
                                if (!done)
                                        return NULL;
                                if (asprintf(&joined, "%s/%s", e->target, rest + n) < 0)
                                        return NULL;
                        } else if (asprintf(&joined, "%s/%s/%s", done, e->target, rest + n) < 0)
                                return NULL;
                        /* re-normalise from the root so ".." in targets is applied */
                        nrest = path_normalized(joined, 0);
                        if (!nrest)
                                return NULL;
                        free(rest);
                        rest = nrest;
                        free(done);
                        done = strdup("");
                        if (!done)
                                return NULL;
                        continue;
                }
                free(done);
                done = TAKE_PTR(cand);
                memmove(rest, rest + n + (last ? 0 : 1), strlen(rest + n + (last ? 0 : 1)) + 1);
        }
        return TAKE_PTR(done);
}

int plan_add_generated(struct plan *p, const char *path, const void *data, size_t len, struct smith_error **err) {
        _cleanup_free_ char *where = plan_resolve(p, path, false);
        int r;

        if (!where)
                return error_set(err, SMITH_ERR_SOURCE, "'/%s': too many levels of symbolic links", path);
        r = plan_add_data(p, where, PLAN_FROM_GENERATED, data ? data : "", len, false);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "add '/%s'", path);
        return 0;
}

struct walk_ctx {
        int (*cb)(const struct plan_entry *e, void *userdata);
        void *userdata;
        int r;
};

static void walk_one(const void *node, VISIT which, void *userdata) {
        struct walk_ctx *w = userdata;
        if (which != postorder && which != leaf)
                return;
        if (w->r < 0)
                return;
        w->r = w->cb(*(struct plan_entry *const *) node, w->userdata);
}

int plan_foreach(struct plan *p, int (*cb)(const struct plan_entry *e, void *userdata), void *userdata) {
        struct walk_ctx w = { .cb = cb, .userdata = userdata, .r = 0 };
        twalk_r(p->root, walk_one, &w);
        return w.r < 0 ? w.r : 0;
}
