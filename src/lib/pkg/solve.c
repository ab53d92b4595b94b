/* libsolv underneath pkg/solve.h.  libsolv reads the Packages text itself
 * (repo_add_debpackages() over packages-stream.h, which decompresses with
 * solv_xfopen_fd() by the hint's suffix and notes each stanza's Size) and
 * local .debs (repo_add_deb()),
 * and for RPM pools primary.xml (repo_add_rpmmd()) and local .rpm files
 * (repo_add_rpm()). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <solv/pool.h>
#include <solv/poolarch.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>
#include <solv/repo_rpmdb.h>
#include <solv/repo_rpmmd.h>
#include <solv/repo_solv.h>
#include <solv/repo_write.h>
#include <solv/selection.h>
#include <solv/solv_xfopen.h>
#include <solv/solver.h>
#include <solv/transaction.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "pkg/index-read.h"
#include "pkg/packages-stream.h"
#include "solve.h"

struct pkg_pool {
        Pool *pool;
        Repo *local;
        bool rpm; /* DISTTYPE_RPM */
        /* libsolv's what-provides index is current: nothing was added since
         * it was made, so a second solve (base-files alone) need not make it
         * again (a twentieth of a second over bookworm's main) */
        bool provides_ready;
        bool lacked_path; /* the last pkg_solve() failed on a path nothing provides */
        Queue local_ids;
        char **local_paths; /* parallel to local_ids: the paths as shown */
};

struct repo_info;
static void repo_info_free(struct repo_info *ri);

void pkg_pool_free(struct pkg_pool *p) {
        if (!p)
                return;
        if (p->pool) {
                for (int i = 1; i < p->pool->nrepos; i++)
                        if (p->pool->repos[i])
                                repo_info_free(p->pool->repos[i]->appdata);
                pool_free(p->pool);
        }
        queue_free(&p->local_ids);
        strv_free(p->local_paths);
        free(p);
}

static int pool_new(bool rpm, const char *arch, struct pkg_pool **ret, struct smith_error **err) {
        struct pkg_pool *p = calloc(1, sizeof(*p));

        if (!p)
                return error_oom(err);
        queue_init(&p->local_ids);
        p->pool = pool_create();
        if (!p->pool) {
                pkg_pool_free(p);
                return error_oom(err);
        }
        p->rpm = rpm;
        if (pool_setdisttype(p->pool, rpm ? DISTTYPE_RPM : DISTTYPE_DEB) < 0) {
                pkg_pool_free(p);
                return error_set(err, SMITH_ERR_SOURCE, "this libsolv cannot handle %s packages",
                                 rpm ? "RPM" : "Debian");
        }
        if (rpm) {
                /* the machine's own architecture and noarch, nothing older (no i686 on x86_64) */
                _cleanup_free_ char *policy = NULL;
                if (asprintf(&policy, "%s:noarch", arch) < 0) {
                        pkg_pool_free(p);
                        return error_oom(err);
                }
                pool_setarchpolicy(p->pool, policy);
        } else
                pool_setarch(p->pool, arch);
        *ret = p;
        return 0;
}

int pkg_pool_new(const char *arch, struct pkg_pool **ret, struct smith_error **err) {
        return pool_new(false, arch, ret, err);
}

int pkg_pool_new_rpm(const char *arch, struct pkg_pool **ret, struct smith_error **err) {
        return pool_new(true, arch, ret, err);
}

struct repo_info {
        char *base_uri;
};

static void repo_info_free(struct repo_info *ri) {
        if (!ri)
                return;
        free_many(ri->base_uri, ri);
}

/* The error for an index that decompressed to more than max bytes. */
static int too_large(struct smith_error **err, const char *what, const char *name, uint64_t max) {
        return error_set(err, SMITH_ERR_SOURCE,
                         "%s '%s': more than the %llu bytes expected uncompressed (a decompression bomb?)", what, name,
                         (unsigned long long) max);
}

int pkg_pool_add_index(struct pkg_pool *p, const char *name, const char *base_uri, int fd, const char *hint,
                       uint64_t max, struct smith_error **err) {
        struct index_progress progress;
        struct packages_notes notes = {};
        bool big = false;
        struct packages_stream *ps;
        struct repo_info *ri;
        Repo *repo;
        Solvable *s;
        FILE *f;
        size_t i = 0;
        int dfd, r;
        bool ok;
        Id id;

        p->provides_ready = false;
        ri = calloc(1, sizeof(*ri));
        if (!ri || !(ri->base_uri = strdup(base_uri))) {
                repo_info_free(ri);
                return error_oom(err);
        }
        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0) {
                repo_info_free(ri);
                return error_set_errno(err, SMITH_ERR_IO, errno, "index '%s'", name);
        }
        index_progress_init(&progress, name, max);
        r = packages_stream_open(dfd, hint, max, &progress, &ps, &f);
        if (r < 0) {
                repo_info_free(ri);
                return r == -ENOMEM ? error_oom(err)
                                    : error_set(err, SMITH_ERR_SOURCE, "index '%s': cannot open '%s'", name, hint);
        }
        repo = repo_create(p->pool, name);
        repo->appdata = ri; /* freed with the pool */
        r = repo_add_debpackages(repo, f, 0);
        ok = packages_stream_close(ps, f, &notes, &big);
        index_progress_end(&progress);
        if (big)
                r = too_large(err, "index", name, max);
        else if (r != 0)
                r = error_set(err, SMITH_ERR_SOURCE, "index '%s': %s", name, pool_errstr(p->pool));
        else if (!ok)
                r = error_set(err, SMITH_ERR_SOURCE, "index '%s': read error (damaged compression?)", name);
        FOR_REPO_SOLVABLES(repo, id, s) {
                if (r < 0)
                        break;
                if (i >= notes.n || packages_name_hash(pool_id2str(p->pool, s->name)) != notes.v[i].name)
                        r = error_set(err, SMITH_ERR_SOURCE, "index '%s': cannot match its stanzas", name);
                /* kept with the package itself, so a saved index has it too */
                else if (notes.v[i].size != UINT64_MAX)
                        repo_set_num(repo, id, SOLVABLE_DOWNLOADSIZE, notes.v[i].size);
                i++;
        }
        if (r >= 0 && i != notes.n)
                r = error_set(err, SMITH_ERR_SOURCE, "index '%s': cannot match its stanzas", name);
        free(notes.v);
        if (r < 0)
                return r;
        repo_internalize(repo);
        return 0;
}

static Repo *find_repo(struct pkg_pool *p, const char *name) {
        for (int i = 1; i < p->pool->nrepos; i++)
                if (p->pool->repos[i] && streq(p->pool->repos[i]->name, name))
                        return p->pool->repos[i];
        return NULL;
}

int pkg_pool_save_index(struct pkg_pool *p, const char *name, int out_fd, struct smith_error **err) {
        Repo *repo = find_repo(p, name);
        int dfd = fcntl(out_fd, F_DUPFD_CLOEXEC, 3), r;
        FILE *f;

        if (!repo)
                return error_set(err, SMITH_ERR_IO, "index '%s': not in the pool", name);
        f = dfd >= 0 ? fdopen(dfd, "w") : NULL;
        if (!f) {
                if (dfd >= 0)
                        close(dfd);
                return error_set_errno(err, SMITH_ERR_IO, errno, "save index '%s'", name);
        }
        r = repo_write(repo, f);
        if (fclose(f) != 0 || r != 0)
                return error_set(err, SMITH_ERR_IO, "save index '%s': %s", name,
                                 r ? pool_errstr(p->pool) : "write failed");
        return 0;
}

void pkg_pool_trim(struct pkg_pool *p) {
        pool_freewhatprovides(p->pool);
        p->provides_ready = false;
}

static void make_provides(struct pkg_pool *p) {
        if (p->provides_ready)
                return;
        pool_addfileprovides(p->pool);
        pool_createwhatprovides(p->pool);
        p->provides_ready = true;
}

int pkg_pool_add_saved_index(struct pkg_pool *p, const char *name, const char *base_uri, int fd,
                             struct smith_error **err) {
        struct repo_info *ri = calloc(1, sizeof(*ri));
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;
        Repo *repo;
        FILE *f;

        p->provides_ready = false;
        if (!ri || !(ri->base_uri = strdup(base_uri))) {
                repo_info_free(ri);
                if (dfd >= 0)
                        close(dfd);
                return error_oom(err);
        }
        f = dfd >= 0 ? fdopen(dfd, "r") : NULL;
        if (!f) {
                repo_info_free(ri);
                if (dfd >= 0)
                        close(dfd);
                return error_set_errno(err, SMITH_ERR_IO, errno, "saved index '%s'", name);
        }
        repo = repo_create(p->pool, name);
        repo->appdata = ri;
        r = repo_add_solv(repo, f, 0);
        fclose(f);
        if (r != 0) {
                /* a damaged cache entry: forget the repository, the caller parses the index */
                repo->appdata = NULL;
                repo_free(repo, 1);
                repo_info_free(ri);
                return error_set(err, SMITH_ERR_IO, "saved index '%s': %s", name, pool_errstr(p->pool));
        }
        return 0;
}

int pkg_pool_add_deb(struct pkg_pool *p, const char *control, size_t len, const char *shown, struct smith_error **err) {
        FILE *f;
        Id before;

        p->provides_ready = false;
        if (!p->local) {
                p->local = repo_create(p->pool, "local");
                p->local->appdata = calloc(1, sizeof(struct repo_info));
                if (!p->local->appdata)
                        return error_oom(err);
        }
        before = p->local->end;
        f = fmemopen((void *) control, len, "r");
        if (!f)
                return error_oom(err);
        repo_add_debpackages(p->local, f, 0);
        fclose(f);
        if (p->local->end != before + 1 || !pool_id2solvable(p->pool, before)->name)
                return error_set(err, SMITH_ERR_SOURCE, "package '%s': its control file names no package", shown);
        queue_push(&p->local_ids, before);
        if (strv_extend(&p->local_paths, shown) < 0)
                return error_oom(err);
        return 0;
}

/* Reads an rpm-md file (hint: its name, for the compression) from a
 * duplicate of fd into repo with libsolv's flags; errors name what
 * ("index", "filelists of") and name. */
static int read_rpmmd(struct pkg_pool *p, Repo *repo, int fd, const char *hint, uint64_t max, int flags,
                      const char *what, const char *name, struct smith_error **err) {
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;
        struct index_progress progress;
        bool big = false;
        FILE *f;

        if (dfd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "%s '%s'", what, name);
        index_progress_init(&progress, name, max);
        f = index_open_bounded(dfd, hint, max, &progress, &big);
        if (!f)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s': cannot open '%s'", what, name, hint);
        r = repo_add_rpmmd(repo, f, 0, flags);
        if (ferror(f))
                r = -1;
        fclose(f);
        index_progress_end(&progress);
        if (big)
                return too_large(err, what, name, max);
        if (r != 0)
                return error_set(err, SMITH_ERR_SOURCE, "%s '%s': %s", what, name,
                                 pool_errstr(p->pool)[0] ? pool_errstr(p->pool) : "read error");
        repo_internalize(repo);
        return 0;
}

int pkg_pool_add_rpmmd(struct pkg_pool *p, const char *name, const char *base_uri, int fd, const char *hint,
                       uint64_t max, struct smith_error **err) {
        struct repo_info *ri;
        Repo *repo;

        if (!p->rpm)
                return error_set(err, SMITH_ERR_SOURCE, "index '%s': rpm-md in a Debian pool", name);
        ri = calloc(1, sizeof(*ri));
        if (!ri || !(ri->base_uri = strdup(base_uri))) {
                repo_info_free(ri);
                return error_oom(err);
        }
        p->provides_ready = false;
        repo = repo_create(p->pool, name);
        repo->appdata = ri; /* freed with the pool */
        return read_rpmmd(p, repo, fd, hint, max, 0, "index", name, err);
}

int pkg_pool_add_rpmmd_filelists(struct pkg_pool *p, const char *name, int fd, const char *hint, uint64_t max,
                                 struct smith_error **err) {
        Repo *repo = find_repo(p, name);

        p->provides_ready = false;
        if (!p->rpm || !repo)
                return error_set(err, SMITH_ERR_SOURCE, "filelists of '%s': no such rpm-md index", name);
        /* the files join the packages primary added, matched by pkgid */
        return read_rpmmd(p, repo, fd, hint, max, REPO_EXTEND_SOLVABLES, "filelists of", name, err);
}

bool pkg_pool_solve_lacked_path(const struct pkg_pool *p) {
        return p->lacked_path;
}

int pkg_pool_add_rpm(struct pkg_pool *p, int fd, const char *shown, struct smith_error **err) {
        char path[64];
        Id id;

        p->provides_ready = false;
        if (!p->rpm)
                return error_set(err, SMITH_ERR_SOURCE, "package '%s': an .rpm in a Debian pool", shown);
        if (!p->local) {
                p->local = repo_create(p->pool, "local");
                p->local->appdata = calloc(1, sizeof(struct repo_info));
                if (!p->local->appdata)
                        return error_oom(err);
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        id = repo_add_rpm(p->local, path, RPM_ADD_WITH_PKGID | RPM_ADD_WITH_SHA256SUM | REPO_NO_INTERNALIZE);
        if (!id)
                return error_set(err, SMITH_ERR_SOURCE, "package '%s': not an RPM package (%s)", shown,
                                 pool_errstr(p->pool));
        repo_internalize(p->local);
        queue_push(&p->local_ids, id);
        if (strv_extend(&p->local_paths, shown) < 0)
                return error_oom(err);
        return 0;
}

/* The Size the index gave for id, or UINT64_MAX. */
static uint64_t solvable_size(Solvable *s, Id id) {
        (void) id;
        return solvable_lookup_num(s, SOLVABLE_DOWNLOADSIZE, UINT64_MAX);
}

void pkg_choices_free(struct pkg_choice *c, size_t n) {
        if (!c)
                return;
        for (size_t i = 0; i < n; i++) {
                free_many(c[i].name, c[i].version, c[i].arch, c[i].source, c[i].url, c[i].local, c[i].repo);
        }
        free(c);
}

char *pkg_choice_nevra(const struct pkg_choice *c) {
        char *r;
        if (asprintf(&r, "%s-%s.%s", c->name, c->version, c->arch) < 0)
                return NULL;
        return r;
}

char *pkg_choice_file_name(const struct pkg_choice *c) {
        const char *v = c->version, *colon = strchr(v, ':');
        char *r;

        if (colon && strspn(v, "0123456789") == (size_t) (colon - v))
                v = colon + 1;
        if (asprintf(&r, "%s_%s_%s", c->name, v, c->arch) < 0)
                return NULL;
        return r;
}

static int choice_cmp(const void *a, const void *b) {
        const struct pkg_choice *x = a, *y = b;
        int r = strcmp(x->name, y->name);
        return r != 0 ? r : strcmp(x->arch, y->arch);
}

static int fill_choice(struct pkg_pool *p, Id id, struct pkg_choice *c, struct smith_error **err) {
        Pool *pool = p->pool;
        Solvable *s = pool_id2solvable(pool, id);
        const char *src = solvable_lookup_str(s, SOLVABLE_SOURCENAME);

        c->name = strdup(pool_id2str(pool, s->name));
        c->version = strdup(pool_id2str(pool, s->evr));
        c->arch = strdup(s->arch ? pool_id2str(pool, s->arch) : p->rpm ? "noarch" : "all");
        c->source = strdup(src ? src : pool_id2str(pool, s->name));
        c->repo = strdup(s->repo->name);
        if (!c->name || !c->version || !c->arch || !c->source || !c->repo)
                return error_oom(err);
        if (s->repo == p->local) {
                for (int i = 0; i < p->local_ids.count; i++)
                        if (p->local_ids.elements[i] == id)
                                c->local = strdup(p->local_paths[i]);
                if (!c->local)
                        return error_oom(err);
                return 0;
        } else {
                unsigned medianr = 0;
                const char *loc = solvable_lookup_location(s, &medianr);
                const char *base = ((struct repo_info *) s->repo->appdata)->base_uri;
                Id type = 0;
                const char *sum = solvable_lookup_checksum(s, SOLVABLE_CHECKSUM, &type);
                uint64_t size = solvable_size(s, id);
                _cleanup_free_ char *file = NULL;

                if (!path_is_safe_location(loc))
                        return error_set(err, SMITH_ERR_SOURCE, "package '%s' in '%s': refusing %s '%.200s'", c->name,
                                         s->repo->name, p->rpm ? "location href" : "Filename", loc ? loc : "");
                if (type != REPOKEY_TYPE_SHA256 || !sum || strlen(sum) != SHA256_HEX_LEN)
                        return error_set(err, SMITH_ERR_SOURCE, "package '%s' in '%s': no SHA256 checksum", c->name,
                                         s->repo->name);
                if (size == UINT64_MAX)
                        return error_set(err, SMITH_ERR_SOURCE, "package '%s' in '%s': no Size", c->name,
                                         s->repo->name);
                snprintf(c->digest, sizeof(c->digest), "sha256:%s", sum);
                c->size = size;
                if (asprintf(&c->url, "%s/%s", base, loc) < 0) {
                        c->url = NULL;
                        return error_oom(err);
                }
        }
        return 0;
}

/* Whether a rule of a problem is "nothing provides /path": a path primary
 * does not list may be in the repositories' filelists. */
static bool problems_lack_path(Solver *solv) {
        Pool *pool = solv->pool;
        unsigned n = solver_problem_count(solv);
        bool lacks = false;
        Queue rules;

        queue_init(&rules);
        for (Id i = 1; i <= (Id) n && !lacks; i++) {
                queue_empty(&rules);
                solver_findallproblemrules(solv, i, &rules);
                for (int k = 0; k < rules.count && !lacks; k++) {
                        Id source, target, dep;

                        if (solver_ruleinfo(solv, rules.elements[k], &source, &target, &dep) ==
                                    SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP &&
                            dep && !ISRELDEP(dep) && pool_id2str(pool, dep)[0] == '/')
                                lacks = true;
                }
        }
        queue_free(&rules);
        return lacks;
}

static int problems_error(Solver *solv, struct smith_error **err) {
        _cleanup_free_ char *all = NULL;
        unsigned n = solver_problem_count(solv);

        for (Id i = 1; i <= (Id) n; i++) {
                const char *t = solver_problem2str(solv, i);
                char *next;
                if (asprintf(&next, "%s%s%s", all ? all : "", all ? "; " : "", t) < 0)
                        return error_oom(err);
                free(all);
                all = next;
        }
        return error_set(err, SMITH_ERR_SOURCE, "cannot install the packages: %s", all ? all : "no solution");
}

bool pkg_pool_has(struct pkg_pool *p, const char *name) {
        Queue sel;
        bool found;

        queue_init(&sel);
        make_provides(p);
        selection_make(p->pool, &sel, name, SELECTION_NAME);
        found = sel.count > 0;
        queue_free(&sel);
        return found;
}

/* apt's first rule for a dependency: a package of that name wins over
 * packages that only Provide the name.  libsolv would order candidates by
 * the version they provide, so a repository's "zz-evil" with "Provides:
 * libhx (= 99)" took "Depends: libhx" from the real libhx 1.0.  Every
 * version of a package that Provides the name of another real package in
 * the pool is disfavoured: chosen only where nothing else satisfies the
 * dependency (no version of the real package fits).  Among the
 * remaining candidates libsolv's order holds, which depends on the
 * packages alone, never on the order of the indexes: the highest version
 * of a package, then the highest version provided, then the name in byte
 * order. */
static void disfavor_impostors(Pool *pool, Queue *job) {
        Map real, impostor;
        Queue q;
        Solvable *s;
        Id p;

        map_init(&real, pool->ss.nstrings);
        map_init(&impostor, pool->ss.nstrings);
        FOR_POOL_SOLVABLES(p)
        MAPSET(&real, pool->solvables[p].name);
        FOR_POOL_SOLVABLES(p) {
                s = pool->solvables + p;
                if (!s->provides || MAPTST(&impostor, s->name))
                        continue;
                for (Id *dp = s->repo->idarraydata + s->provides; *dp; dp++) {
                        Id n = *dp;
                        while (ISRELDEP(n))
                                n = GETRELDEP(pool, n)->name;
                        if (n != s->name && n < pool->ss.nstrings && MAPTST(&real, n)) {
                                MAPSET(&impostor, s->name);
                                break;
                        }
                }
        }
        queue_init(&q);
        FOR_POOL_SOLVABLES(p)
        if (MAPTST(&impostor, pool->solvables[p].name))
                queue_push(&q, p);
        if (q.count > 0)
                queue_push2(job, SOLVER_DISFAVOR | SOLVER_SOLVABLE_ONE_OF, pool_queuetowhatprovides(pool, &q));
        queue_free(&q);
        map_free(&real);
        map_free(&impostor);
}

int pkg_solve(struct pkg_pool *p, char *const *names, bool recommends, struct pkg_choice **ret, size_t *ret_n,
              struct smith_error **err) {
        Pool *pool = p->pool;
        struct pkg_choice *out = NULL;
        Solver *solv = NULL;
        Transaction *trans = NULL;
        Queue job, sel;
        size_t n = 0;
        int r = -1;

        p->lacked_path = false;
        queue_init(&job);
        queue_init(&sel);
        make_provides(p);
        for (size_t i = 0; names && names[i]; i++) {
                queue_empty(&sel);
                selection_make(pool, &sel, names[i], SELECTION_NAME | SELECTION_PROVIDES);
                if (sel.count == 0) {
                        error_set(err, SMITH_ERR_SOURCE, "package '%s' not found in the repositories", names[i]);
                        goto out;
                }
                selection_add(pool, &job, &sel);
        }
        for (int i = 0; i < job.count; i += 2)
                job.elements[i] |= SOLVER_INSTALL;
        for (int i = 0; i < p->local_ids.count; i++)
                queue_push2(&job, SOLVER_INSTALL | SOLVER_SOLVABLE, p->local_ids.elements[i]);
        disfavor_impostors(pool, &job);

        solv = solver_create(pool);
        solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, recommends ? 0 : 1);
        if (solver_solve(solv, &job) != 0) {
                p->lacked_path = problems_lack_path(solv);
                problems_error(solv, err);
                goto out;
        }
        trans = solver_create_transaction(solv);
        out = calloc((size_t) trans->steps.count + 1, sizeof(*out));
        if (!out) {
                error_oom(err);
                goto out;
        }
        for (int i = 0; i < trans->steps.count; i++) {
                Id id = trans->steps.elements[i];
                if (transaction_type(trans, id, SOLVER_TRANSACTION_SHOW_ACTIVE) != SOLVER_TRANSACTION_INSTALL)
                        continue;
                if (fill_choice(p, id, &out[n++], err) < 0)
                        goto out;
        }
        qsort(out, n, sizeof(*out), choice_cmp);
        *ret = TAKE_PTR(out);
        *ret_n = n;
        r = 0;
out:
        pkg_choices_free(out, n);
        if (trans)
                transaction_free(trans);
        if (solv)
                solver_free(solv);
        queue_free(&job);
        queue_free(&sel);
        return r;
}
