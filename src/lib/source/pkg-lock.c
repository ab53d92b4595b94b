/* smith.lock for the package sources (deb.c, rpm.c): what `smith lock`
 * records of a solution, and a locked build's packages taken back from it,
 * checked against the repositories the configuration names before any of
 * its URLs is used; see lock.h and pkg-root.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "pkg-root.h"

static int record_packages(const struct source_ctx *ctx, const struct pkg_choice *c, size_t n, bool os_release,
                           bool debuginfo, struct smith_error **err) {
        for (size_t i = 0; i < n; i++) {
                struct lock_package p = { .name = c[i].name,
                                          .version = c[i].version,
                                          .arch = c[i].arch,
                                          .source = c[i].source,
                                          .url = c[i].url,
                                          .local = c[i].local,
                                          .repo = c[i].local ? NULL : c[i].repo,
                                          .size = c[i].size,
                                          .os_release = os_release,
                                          .debuginfo = debuginfo };
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
        if (record_packages(ctx, c, n, false, false, err) < 0)
                return -1;
        for (size_t i = 0; i < n_release; i++) {
                bool asked = false;

                /* base-files among the packages brings its os-release itself */
                for (size_t k = 0; k < n && !asked; k++)
                        asked = streq(c[k].name, release[i].name) && streq(c[k].arch, release[i].arch);
                if (!asked && record_packages(ctx, &release[i], 1, true, false, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < idx->n; i++)
                if (lock_add_repo(ctx->lock_out, idx->items[i].name, idx->items[i].base_uri, idx->items[i].digest,
                                  err) < 0)
                        return -1;
        return 0;
}

int source_lock_record_debuginfo(const struct source_ctx *ctx, char *const *of, const struct pkg_choice *c, size_t n,
                                 struct smith_error **err) {
        if (lock_set_debuginfo_of(ctx->lock_out, of, err) < 0)
                return -1;
        return record_packages(ctx, c, n, false, true, err);
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

static int check_lock(const struct smith_lock *l, char *const *allowed, char *const *locals, char *const *debug_locals,
                      struct smith_error **err) {
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

                if (p->local && !strv_contains(p->debuginfo ? debug_locals : locals, p->local))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: package '%s' is a local file smith.yaml does not name", l->path, p->name);
                if (!p->local && (!r || !lock_url_inside(p->url, r->uri)))
                        return error_set(err, SMITH_ERR_CONFIG,
                                         "%s: package '%s': its URL is not inside repository '%s'", l->path, p->name,
                                         p->repo ? p->repo : "");
        }
        return 0;
}

static int choice_from_lock(struct pkg_choice *ch, const struct lock_package *p) {
        *ch = (struct pkg_choice){ .name = strdup(p->name),
                                   .version = strdup(p->version),
                                   .arch = strdup(p->arch),
                                   .source = strdup(p->source),
                                   .url = p->url ? strdup(p->url) : NULL,
                                   .local = p->local ? strdup(p->local) : NULL,
                                   .repo = strdup(p->repo ? p->repo : "local"),
                                   .size = p->size };
        memcpy(ch->digest, p->digest, sizeof(ch->digest));
        if (!ch->name || !ch->version || !ch->arch || !ch->source || !ch->repo || (p->url && !ch->url) ||
            (p->local && !ch->local))
                return -ENOMEM;
        return 0;
}

int source_lock_choices(const struct smith_config *c, const struct source_ctx *ctx, char *const *allowed,
                        bool (*is_local)(const char *), struct pkg_choice **ret, size_t *ret_n,
                        struct pkg_choice **ret_release, size_t *ret_n_release, struct smith_error **err) {
        _cleanup_strv_free_ char **wanted = NULL, **locals = NULL, **debug_locals = NULL;
        const struct smith_lock *l = ctx->lock;
        struct pkg_choice *ch;
        size_t n = 0, n_release = 0;

        for (size_t i = 0; c->mock.debuginfo && c->mock.debugdeps && c->mock.debugdeps[i]; i++)
                if (is_local(c->mock.debugdeps[i]) && strv_extend(&debug_locals, c->mock.debugdeps[i]) < 0)
                        return error_oom(err);
        if (source_wanted_names(c, is_local, &wanted, &locals, err) < 0 ||
            check_lock(l, allowed, locals, debug_locals, err) < 0)
                return -1;
        ch = calloc(l->n_pkgs + 1, sizeof(*ch));
        if (!ch)
                return error_oom(err);
        /* the packages, then those for os-release (kept at the end of ch) */
        for (size_t i = 0; i < l->n_pkgs; i++) {
                const struct lock_package *p = &l->pkgs[i];
                size_t at;

                if (p->debuginfo)
                        continue; /* source_lock_debuginfo_choices() */
                at = p->os_release ? l->n_pkgs - 1 - n_release++ : n++;
                if (p->os_release && !ret_release)
                        continue;
                if (choice_from_lock(&ch[at], p) < 0) {
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

/* Whether two sorted lists hold the same names. */
static bool same_names(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

int source_lock_debuginfo_choices(const struct source_ctx *ctx, char *const *of, struct pkg_choice **ret, size_t *ret_n,
                                  struct smith_error **err) {
        const struct smith_lock *l = ctx->lock;
        _cleanup_strv_free_ char **want = strv_copy(of);
        struct pkg_choice *ch;
        size_t n = 0;

        if (of && !want)
                return error_oom(err);
        strv_sort(want);
        if (!l->debuginfo_of)
                return error_set(err, SMITH_ERR_CONFIG,
                                 "%s: has no mock.debuginfo packages (made by an older smith?): run 'smith lock "
                                 "--update'",
                                 l->path);
        /* which debuginfo packages a build needs follows from the packages
         * its ELF files come from: other ones (paths changed) need a new lock */
        if (!same_names(want, l->debuginfo_of))
                return error_set(err, SMITH_ERR_CONFIG,
                                 "%s: mock.debuginfo: the image's ELF files are not from the packages it was locked "
                                 "for: run 'smith lock --update'",
                                 l->path);
        ch = calloc(l->n_pkgs + 1, sizeof(*ch));
        if (!ch)
                return error_oom(err);
        for (size_t i = 0; i < l->n_pkgs; i++)
                if (l->pkgs[i].debuginfo && choice_from_lock(&ch[n++], &l->pkgs[i]) < 0) {
                        pkg_choices_free(ch, n);
                        return error_oom(err);
                }
        *ret = ch;
        *ret_n = n;
        return 0;
}
