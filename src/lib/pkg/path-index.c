/* The path -> package index of the package databases; see path-index.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "pkg/path-index.h"

void path_index_done(struct path_index *ix) {
        for (size_t i = 0; i < ix->n; i++)
                free(ix->v[i].path);
        free(ix->v);
        ix->v = NULL;
        ix->n = ix->cap = 0;
}

int path_index_add(struct path_index *ix, const char *listed, size_t pkg) {
        _cleanup_free_ char *rel = NULL;

        if (path_normalize(listed, PATH_DOTDOT_REFUSE | PATH_CHECK_LENGTH, &rel) < 0 || isempty(rel))
                return 0;
        if (ix->max > 0 && ix->n >= ix->max)
                return -E2BIG;
        if (ix->n == ix->cap) {
                size_t c = ix->cap ? ix->cap * 2 : 4096;
                struct path_index_entry *q = reallocarray(ix->v, c, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                ix->v = q;
                ix->cap = c;
        }
        ix->v[ix->n].path = usr_merge_form(&ix->usr, rel);
        if (!ix->v[ix->n].path)
                return -ENOMEM;
        ix->v[ix->n++].pkg = pkg;
        return 0;
}

static int entry_cmp(const void *a, const void *b) {
        const struct path_index_entry *x = a, *y = b;
        int c = strcmp(x->path, y->path);
        if (c)
                return c;
        return x->pkg < y->pkg ? -1 : x->pkg > y->pkg;
}

void path_index_sort(struct path_index *ix, bool unique) {
        size_t w = 0;

        if (ix->n == 0)
                return;
        qsort(ix->v, ix->n, sizeof(*ix->v), entry_cmp);
        if (!unique)
                return;
        for (size_t i = 0; i < ix->n; i++) {
                if (w > 0 && streq(ix->v[w - 1].path, ix->v[i].path)) {
                        free(ix->v[i].path);
                        continue;
                }
                ix->v[w++] = ix->v[i];
        }
        ix->n = w;
}

ssize_t path_index_owner(const struct path_index *ix, const char *path) {
        _cleanup_free_ char *u = NULL;

        if (ix->n == 0)
                return -1;
        u = usr_merge_form(&ix->usr, path);
        if (!u)
                return -1;
        for (size_t lo = 0, hi = ix->n; lo < hi;) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(u, ix->v[mid].path);
                if (c == 0)
                        return (ssize_t) ix->v[mid].pkg;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

bool path_index_contains(const struct path_index *ix, const char *usr_path, size_t pkg) {
        struct path_index_entry key = { .path = (char *) usr_path, .pkg = pkg };
        return ix->n > 0 && bsearch(&key, ix->v, ix->n, sizeof(*ix->v), entry_cmp);
}

struct attribute {
        const struct path_index *ix;
        const char *(*key)(size_t pkg, const void *ud);
        const void *ud;
        char **paths, **keys; /* parallel: what to set once the walk is done */
        int r;
};

static int attribute_one(const struct plan_entry *e, void *userdata) {
        struct attribute *a = userdata;
        const char *key;
        ssize_t pkg;

        if (e->from != PLAN_FROM_SOURCE || e->type == PLAN_DIR || e->package ||
            usr_merge_is_alias(&a->ix->usr, e->path))
                return 0;
        pkg = path_index_owner(a->ix, e->path);
        key = pkg >= 0 ? a->key((size_t) pkg, a->ud) : NULL;
        if (!key)
                return 0;
        if (strv_extend(&a->paths, e->path) < 0 || strv_extend(&a->keys, key) < 0)
                return a->r = -ENOMEM;
        return 0;
}

int path_index_attribute(const struct path_index *ix, struct plan *p, const char *(*key)(size_t pkg, const void *ud),
                         const void *ud, struct smith_error **err) {
        struct attribute a = { .ix = ix, .key = key, .ud = ud };
        _cleanup_strv_free_ char **paths = NULL, **keys = NULL;
        int n = 0, r;

        r = plan_foreach(p, attribute_one, &a);
        paths = a.paths;
        keys = a.keys;
        if (r < 0 || a.r < 0)
                return error_oom(err);
        for (size_t i = 0; paths && paths[i]; i++, n++)
                if (plan_set_package(p, paths[i], keys[i]) < 0)
                        return error_oom(err);
        return n;
}
