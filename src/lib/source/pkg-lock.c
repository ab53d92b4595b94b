/* smith.lock for the package sources (deb.c, rpm.c): what `smith lock`
 * records of a solution, and a locked build's packages taken back from it,
 * checked against the repositories the configuration names before any of
 * its URLs is used; see lock.h and pkg-root.h. */
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "pkg-root.h"

int source_lock_record(const struct source_ctx *ctx, const struct apt_indexes *idx, const struct pkg_choice *c,
                       size_t n, struct smith_error **err) {
        for (size_t i = 0; i < n; i++) {
                struct lock_package p = { .name = c[i].name,
                                          .version = c[i].version,
                                          .arch = c[i].arch,
                                          .source = c[i].source,
                                          .url = c[i].url,
                                          .local = c[i].local,
                                          .repo = c[i].local ? NULL : c[i].repo,
                                          .size = c[i].size };
                memcpy(p.digest, c[i].digest, sizeof(p.digest));
                if (c[i].local && source_store_local(ctx, c[i].local, p.digest, &p.size, err) < 0)
                        return -1;
                if (lock_add_package(ctx->lock_out, &p, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < idx->n; i++)
                if (lock_add_repo(ctx->lock_out, idx->items[i].name, idx->items[i].base_uri, idx->items[i].digest,
                                  err) < 0)
                        return -1;
        return 0;
}

static bool uri_eq(const char *a, const char *b) {
        size_t na = strlen(a), nb = strlen(b);
        while (na > 0 && a[na - 1] == '/')
                na--;
        while (nb > 0 && b[nb - 1] == '/')
                nb--;
        return na == nb && strncmp(a, b, na) == 0;
}

static const struct lock_repo *find_repo(const struct smith_lock *l, const char *name) {
        for (size_t i = 0; i < l->n_repos; i++)
                if (streq(l->repos[i].name, name))
                        return &l->repos[i];
        return NULL;
}

static int check_lock(const struct smith_lock *l, char *const *allowed, char *const *locals, struct smith_error **err) {
        for (size_t i = 0; i < l->n_repos; i++) {
                bool named = false;
                for (size_t k = 0; allowed && allowed[k]; k++)
                        if (uri_eq(allowed[k], l->repos[i].uri))
                                named = true;
                if (!named)
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: repository '%s' is not one the configuration names: run 'smith lock "
                                         "--update'",
                                         l->path, l->repos[i].name);
        }
        for (size_t i = 0; i < l->n_pkgs; i++) {
                const struct lock_package *p = &l->pkgs[i];
                const struct lock_repo *r = p->repo ? find_repo(l, p->repo) : NULL;

                if (p->local && !strv_contains(locals, p->local))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: package '%s' is a local file smith.yaml does not name", l->path, p->name);
                if (!p->local && (!r || !lock_url_inside(p->url, r->uri)))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: package '%s': its URL is not inside repository '%s'", l->path, p->name,
                                         p->repo ? p->repo : "");
        }
        return 0;
}

int source_lock_choices(const struct smith_config *c, const struct source_ctx *ctx, char *const *allowed,
                        bool (*is_local)(const char *), struct pkg_choice **ret, size_t *ret_n,
                        struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL;
        const struct smith_lock *l = ctx->lock;
        struct pkg_choice *ch;

        if (source_wanted_names(c, is_local, &wanted, &locals, err) < 0 || check_lock(l, allowed, locals, err) < 0)
                return -1;
        ch = calloc(l->n_pkgs + 1, sizeof(*ch));
        if (!ch)
                return error_oom(err);
        for (size_t i = 0; i < l->n_pkgs; i++) {
                const struct lock_package *p = &l->pkgs[i];
                ch[i] = (struct pkg_choice){ .name = strdup(p->name),
                                             .version = strdup(p->version),
                                             .arch = strdup(p->arch),
                                             .source = strdup(p->source),
                                             .url = p->url ? strdup(p->url) : NULL,
                                             .local = p->local ? strdup(p->local) : NULL,
                                             .repo = strdup(p->repo ? p->repo : "local"),
                                             .size = p->size };
                memcpy(ch[i].digest, p->digest, sizeof(ch[i].digest));
                if (!ch[i].name || !ch[i].version || !ch[i].arch || !ch[i].source || !ch[i].repo ||
                    (p->url && !ch[i].url) || (p->local && !ch[i].local)) {
                        pkg_choices_free(ch, i + 1);
                        return error_oom(err);
                }
        }
        *ret = ch;
        *ret_n = l->n_pkgs;
        return 0;
}

int source_lock_check_locals(const struct source_ctx *ctx, const struct pkg_choice *c, size_t n,
                             struct smith_error **err) {
        for (size_t i = 0; i < n && i < ctx->lock->n_pkgs; i++)
                if (c[i].local && !streq(c[i].digest, ctx->lock->pkgs[i].digest))
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "package '%s' is not the file %s records (its sha256 is '%s', the lock "
                                         "says '%s'): run 'smith lock --update'",
                                         c[i].local, ctx->lock->path, c[i].digest, ctx->lock->pkgs[i].digest);
        return 0;
}
