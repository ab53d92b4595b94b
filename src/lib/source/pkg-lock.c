/* smith.lock for the package sources (deb.c, rpm.c): what `smith lock`
 * records of a solution, and a locked build's packages taken back from it,
 * checked against the repositories the configuration names before any of
 * its URLs is used; see lock.h and pkg-root.h. */
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "pkg-root.h"

static int record_packages(const struct source_ctx *ctx, const struct pkg_choice *c, size_t n, bool os_release,
                           struct smith_error **err) {
        for (size_t i = 0; i < n; i++) {
                struct lock_package p = { .name = c[i].name,
                                          .version = c[i].version,
                                          .arch = c[i].arch,
                                          .source = c[i].source,
                                          .url = c[i].url,
                                          .local = c[i].local,
                                          .repo = c[i].local ? NULL : c[i].repo,
                                          .size = c[i].size,
                                          .os_release = os_release };
                memcpy(p.digest, c[i].digest, sizeof(p.digest));
                if (c[i].local && source_store_local(ctx, c[i].local, p.digest, &p.size, err) < 0)
                        return -1;
                if (lock_add_package(ctx->lock_out, &p, err) < 0)
                        return -1;
        }
        return 0;
}

int source_lock_record(const struct source_ctx *ctx, const struct apt_indexes *idx, const struct pkg_choice *c,
                       size_t n, const struct pkg_choice *release, size_t n_release, struct smith_error **err) {
        if (record_packages(ctx, c, n, false, err) < 0)
                return -1;
        for (size_t i = 0; i < n_release; i++) {
                bool asked = false;

                /* base-files among the packages brings its os-release itself */
                for (size_t k = 0; k < n && !asked; k++)
                        asked = streq(c[k].name, release[i].name) && streq(c[k].arch, release[i].arch);
                if (!asked && record_packages(ctx, &release[i], 1, true, err) < 0)
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
                        struct pkg_choice **ret_release, size_t *ret_n_release, struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL;
        const struct smith_lock *l = ctx->lock;
        struct pkg_choice *ch;
        size_t n = 0, n_release = 0;

        if (source_wanted_names(c, is_local, &wanted, &locals, err) < 0 || check_lock(l, allowed, locals, err) < 0)
                return -1;
        ch = calloc(l->n_pkgs + 1, sizeof(*ch));
        if (!ch)
                return error_oom(err);
        /* the packages, then those for os-release (kept at the end of ch) */
        for (size_t i = 0; i < l->n_pkgs; i++) {
                const struct lock_package *p = &l->pkgs[i];
                size_t at = p->os_release ? l->n_pkgs - 1 - n_release++ : n++;

                if (p->os_release && !ret_release)
                        continue;
                ch[at] = (struct pkg_choice){ .name = strdup(p->name),
                                              .version = strdup(p->version),
                                              .arch = strdup(p->arch),
                                              .source = strdup(p->source),
                                              .url = p->url ? strdup(p->url) : NULL,
                                              .local = p->local ? strdup(p->local) : NULL,
                                              .repo = strdup(p->repo ? p->repo : "local"),
                                              .size = p->size };
                memcpy(ch[at].digest, p->digest, sizeof(ch[at].digest));
                if (!ch[at].name || !ch[at].version || !ch[at].arch || !ch[at].source || !ch[at].repo ||
                    (p->url && !ch[at].url) || (p->local && !ch[at].local)) {
                        pkg_choices_free(ch, l->n_pkgs);
                        return error_oom(err);
                }
        }
        if (n_release > 0 && ret_release) {
                /* the os-release packages as a list of their own, in the lock's order */
                *ret_release = calloc(n_release + 1, sizeof(**ret_release));
                if (!*ret_release) {
                        pkg_choices_free(ch, l->n_pkgs);
                        return error_oom(err);
                }
                for (size_t k = 0; k < n_release; k++)
                        (*ret_release)[k] = ch[l->n_pkgs - 1 - k];
                *ret_n_release = n_release;
        }
        *ret = ch;
        *ret_n = n;
        return 0;
}

int source_lock_check_locals(const struct source_ctx *ctx, const struct pkg_choice *c, size_t n,
                             struct smith_error **err) {
        for (size_t i = 0; i < n; i++) {
                const struct lock_package *p = NULL;

                if (!c[i].local)
                        continue;
                for (size_t k = 0; k < ctx->lock->n_pkgs && !p; k++)
                        if (ctx->lock->pkgs[k].local && streq(ctx->lock->pkgs[k].local, c[i].local))
                                p = &ctx->lock->pkgs[k];
                if (p && !streq(c[i].digest, p->digest))
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "package '%s' is not the file %s records (its sha256 is '%s', the lock "
                                         "says '%s'): run 'smith lock --update'",
                                         c[i].local, ctx->lock->path, c[i].digest, p->digest);
        }
        return 0;
}
