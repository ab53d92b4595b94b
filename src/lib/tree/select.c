/* Selection and the ELF closure; see select.h.
 *
 * Every path is resolved with chase() inside the source root, which calls
 * back for each symlink met so the link is recreated in the plan; the
 * resolved file is what gets copied.  ELF files are queued and their
 * interpreter and DT_NEEDED libraries resolved with the elf module's ld.so
 * search, which reads the root's own ld.so.cache and ld.so.conf.
 *
 * Each entry's reason is stated to the plan before it is added: the
 * pattern and its line, the interpreter or DT_NEEDED library and who
 * needs it, an NSS module; a symlink met on the way to something is
 * "on the way" to it, unless it is the very path asked for. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "basic/glob.h"
#include "basic/path.h"
#include "elf/elf.h"
#include "select.h"

#define SELECT_MAX_DEPTH 256
#define GLOB_MAX_MATCHES 1000000
/* Missing libraries warned about one by one (without -v); the rest are
 * folded into one line, so that a broken tree does not print thousands. */
#define MISSING_SHOWN 5

struct elf_item {
        char *path;   /* resolved, absolute inside the root */
        char *origin; /* $ORIGIN for it */
        char **loader_rpaths;
        struct elf_item *next;
};

struct selector {
        struct plan *plan;
        int root_fd;
        char *root_name;
        char **excludes; /* normalised relative paths (with and without symlinks resolved) */
        bool nss;
        struct ld_env *ld;
        void *seen; /* tsearch set of queued ELF paths */
        struct elf_item *head, *tail;
        char **pending;        /* link, target, link, target ... met by the current chase */
        struct elf_info first; /* class/machine of the first ELF, for NSS lookups */
        bool have_first;
        struct elf_info target;                     /* machine 0: none given */
        size_t n_missing;                           /* libraries not found */
        char *missing_example, *missing_example_by; /* the first one not shown */
        struct plan_reason why;                     /* of what is being added (borrowed strings) */
};

/* --- globbing --- */

static bool pattern_is_valid(const char *p) {
        for (; *p; p++) {
                if (*p == '\\') {
                        if (!p[1])
                                return false;
                        p++;
                } else if (*p == '[') {
                        const char *q = p + 1;
                        if (*q == '!' || *q == '^')
                                q++;
                        if (*q == ']')
                                q++;
                        while (*q && *q != ']')
                                q++;
                        if (!*q)
                                return false;
                        p = q;
                }
        }
        return true;
}

int root_glob(int root_fd, const char *pattern, char ***ret, struct smith_error **err) {
        _cleanup_strv_free_ char **comps = NULL, **results = NULL;
        int r;

        if (!pattern_is_valid(pattern))
                return error_set(err, SMITH_ERR_CONFIG, "'%s': bad glob pattern", pattern);
        comps = strv_split(pattern, "/", true);
        if (!comps)
                return error_oom(err);
        /* "." and ".." are applied lexically, as filepath.Clean does */
        {
                size_t n = 0;
                for (size_t i = 0; comps[i]; i++) {
                        if (streq(comps[i], ".")) {
                                free(comps[i]);
                                continue;
                        }
                        if (streq(comps[i], "..")) {
                                free(comps[i]);
                                if (n > 0)
                                        free(comps[--n]);
                                continue;
                        }
                        comps[n++] = comps[i];
                }
                comps[n] = NULL;
        }
        r = root_glob_expand(root_fd, comps, ROOT_GLOB_EXISTING, GLOB_MAX_MATCHES, &results);
        if (r == -E2BIG)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': matches more than %d paths", pattern, GLOB_MAX_MATCHES);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "glob '%s'", pattern);
        *ret = TAKE_PTR(results);
        return 0;
}

/* --- selection --- */

static bool is_excluded(struct selector *s, const char *path) {
        while (*path == '/')
                path++;
        for (size_t i = 0; s->excludes && s->excludes[i]; i++) {
                size_t n = strlen(s->excludes[i]);
                if (n == 0)
                        return true; /* "/" excludes everything */
                if (strncmp(path, s->excludes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
                        return true;
        }
        return false;
}

/* Links met while resolving a path are kept aside and only added to the
 * plan once the path resolves: a dangling chain leaves nothing behind. */
static int record_symlink(void *userdata, const char *link, const char *target) {
        struct selector *s = userdata;
        int r = strv_extend(&s->pending, link);
        return r < 0 ? r : strv_extend(&s->pending, target);
}

static char *dirname_of(const char *path);

/* Adds the links met resolving path to resolved: the link that is path
 * itself (its directory resolved) has the reason path has, the others are
 * on the way to resolved. */
static int commit_symlinks(struct selector *s, const char *path, const char *resolved) {
        _cleanup_free_ char *dir = NULL, *rdir = NULL, *named = NULL;
        struct plan_reason on_the_way = { .kind = PLAN_REASON_SYMLINK, .needed_by = resolved };
        const char *base = strrchr(path, '/');
        int r = 0;

        if (!s->pending)
                return 0;
        dir = dirname_of(path);
        if (!dir)
                r = -ENOMEM;
        else if (chase(s->root_fd, dir, 0, NULL, NULL, &rdir, NULL, NULL) >= 0 &&
                 asprintf(&named, "%s/%s", streq(rdir, "/") ? "" : rdir, base ? base + 1 : path) < 0)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && s->pending[i] && s->pending[i + 1]; i += 2) {
                /* said once: a link on the way to many libraries (/lib) is met for each */
                _cleanup_free_ char *key = path_normalized(s->pending[i], 0);
                if (key && !plan_get(s->plan, key))
                        log_info("symlink '%s' -> '%s'", s->pending[i], s->pending[i + 1]);
                r = plan_set_reason(s->plan, named && streq(named, s->pending[i]) ? &s->why : &on_the_way);
                if (r >= 0)
                        r = plan_add_symlink(s->plan, s->pending[i], PLAN_FROM_SOURCE, s->pending[i + 1]);
        }
        if (r >= 0)
                r = plan_set_reason(s->plan, &s->why);
        strv_free(s->pending);
        s->pending = NULL;
        return r < 0 ? r : 0;
}

static int str_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static int queue_elf(struct selector *s, const char *path, const char *origin, char *const *loader_rpaths) {
        struct elf_item *it;
        char *key;

        if (tfind(path, &s->seen, str_cmp))
                return 0;
        key = strdup(path);
        if (!key)
                return -ENOMEM;
        if (!tsearch(key, &s->seen, str_cmp)) {
                free(key);
                return -ENOMEM;
        }
        it = calloc(1, sizeof(*it));
        if (!it)
                return -ENOMEM;
        it->path = strdup(path);
        it->origin = strdup(origin);
        it->loader_rpaths = strv_copy(loader_rpaths);
        if (!it->path || !it->origin || !it->loader_rpaths) {
                strv_free(it->loader_rpaths);
                free_many(it->path, it->origin, it);
                return -ENOMEM;
        }
        if (s->tail)
                s->tail->next = it;
        else
                s->head = it;
        s->tail = it;
        return 0;
}

static char *dirname_of(const char *path) {
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return strdup("/");
        return strndup(path, (size_t) (slash - path));
}

static int add_file(struct selector *s, const char *resolved, const struct stat *st, const char *origin,
                    char *const *loader_rpaths, struct smith_error **err) {
        int r = plan_add_file(s->plan, resolved, PLAN_FROM_SOURCE, s->root_fd, resolved, (st->st_mode & 0111) != 0,
                              st->st_dev, st->st_ino, st->st_nlink);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "add '%s'", PATH_FOR_MSG(resolved));
        /* any file may be ELF: libraries are often installed 0644 */
        r = queue_elf(s, resolved, origin, loader_rpaths);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "queue '%s'", PATH_FOR_MSG(resolved));
        return 0;
}

static int walk_dir(struct selector *s, const char *dir, int dfd, unsigned depth, struct smith_error **err);

enum add_mode {
        ADD_WHOLE,   /* a matched path: directories are copied whole */
        ADD_ENTRY,   /* met while walking a directory: symlinked dirs are not descended */
        ADD_LIBRARY, /* an ELF dependency */
};

/* Adds path (absolute inside the root, unresolved).  Sets *ret_resolved to
 * the resolved path of a regular file (NULL otherwise) when asked. */
static int add_path(struct selector *s, const char *path, enum add_mode mode, const char *origin,
                    char *const *loader_rpaths, char **ret_resolved, unsigned depth, struct smith_error **err) {
        _cleanup_free_ char *resolved = NULL, *name = NULL;
        _cleanup_close_ int dirfd = -1;
        struct stat st;
        int r;

        if (ret_resolved)
                *ret_resolved = NULL;
        if (is_excluded(s, path))
                return 0;
        r = plan_set_reason(s->plan, &s->why);
        if (r < 0)
                return error_oom(err);
        r = chase(s->root_fd, path, 0, record_symlink, s, &resolved, &dirfd, &name);
        if (r >= 0) {
                int q = commit_symlinks(s, path, resolved);
                if (q < 0)
                        return error_set_errno(err, SMITH_ERR_IO, q, "add links of '%s'", PATH_FOR_MSG(path));
        } else {
                strv_free(s->pending);
                s->pending = NULL;
        }
        if (r == -ENOENT || r == -ENOTDIR) {
                log_info("skipping '%s': dangling link or missing path", path);
                return 0;
        }
        if (r == -ELOOP) {
                log_warn("skipping '%s' in '%s': too many levels of symbolic links", PATH_FOR_MSG(path), s->root_name);
                return 0;
        }
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "resolve '%s' in '%s'", PATH_FOR_MSG(path),
                                       s->root_name);
        if (is_excluded(s, resolved))
                return 0;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "stat '%s' in '%s'", PATH_FOR_MSG(resolved),
                                       s->root_name);

        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int dfd = -1;
                r = plan_add_dir(s->plan, resolved, PLAN_FROM_SOURCE);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "add '%s'", PATH_FOR_MSG(resolved));
                if (mode != ADD_WHOLE)
                        return 0;
                dfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, errno, "open '%s' in '%s'",
                                               PATH_FOR_MSG(resolved), s->root_name);
                return walk_dir(s, resolved, TAKE_FD(dfd), depth, err);
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_free_ char *dir = NULL;
                const char *o = origin;
                if (!o) {
                        dir = dirname_of(resolved);
                        if (!dir)
                                return error_oom(err);
                        o = dir;
                }
                r = add_file(s, resolved, &st, o, loader_rpaths, err);
                if (r < 0)
                        return r;
                if (ret_resolved) {
                        *ret_resolved = TAKE_PTR(resolved);
                }
                return 0;
        }
        log_info("skipping '%s': not a regular file, directory or symlink", resolved);
        return 0;
}

static int walk_dir(struct selector *s, const char *dir, int dfd, unsigned depth, struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_close_ int keep = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        int r;

        if (depth > SELECT_MAX_DEPTH) {
                close(dfd);
                return error_set(err, SMITH_ERR_SOURCE, "'%s' in '%s': directories nested too deep", PATH_FOR_MSG(dir),
                                 s->root_name);
        }
        r = dir_list_sorted(dfd, &names);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read directory '%s' in '%s'", PATH_FOR_MSG(dir),
                                       s->root_name);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *child = path_join(dir, names[i]);
                struct stat st;

                if (!child)
                        return error_oom(err);
                if (is_excluded(s, child))
                        continue;
                if (fstatat(keep, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set_errno(err, SMITH_ERR_SOURCE, errno, "stat '%s' in '%s'", PATH_FOR_MSG(child),
                                               s->root_name);
                if (S_ISDIR(st.st_mode)) {
                        int cfd;
                        r = plan_add_dir(s->plan, child, PLAN_FROM_SOURCE);
                        if (r < 0)
                                return error_set_errno(err, SMITH_ERR_IO, r, "add '%s'", PATH_FOR_MSG(child));
                        cfd = openat(keep, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0)
                                return error_set_errno(err, SMITH_ERR_SOURCE, errno, "open '%s' in '%s'",
                                                       PATH_FOR_MSG(child), s->root_name);
                        r = walk_dir(s, child, cfd, depth + 1, err);
                        if (r < 0)
                                return r;
                } else if (S_ISREG(st.st_mode)) {
                        _cleanup_free_ char *origin = dirname_of(child);
                        if (!origin)
                                return error_oom(err);
                        r = add_file(s, child, &st, origin, NULL, err);
                        if (r < 0)
                                return r;
                } else if (S_ISLNK(st.st_mode)) {
                        r = add_path(s, child, ADD_ENTRY, NULL, NULL, NULL, depth + 1, err);
                        if (r < 0)
                                return r;
                } else
                        log_info("skipping '%s': device, fifo or socket", child);
        }
        return 0;
}

int selector_new(struct plan *plan, const struct selector_opts *o, struct selector **ret, struct smith_error **err) {
        _cleanup_(selector_freep) struct selector *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return error_oom(err);
        s->plan = plan;
        s->root_fd = o->root_fd;
        s->nss = o->nss;
        s->target =
                (struct elf_info){ .elf_class = o->target_class, .data = o->target_data, .machine = o->target_machine };
        s->root_name = strdup(o->root_name ? o->root_name : "source");
        if (!s->root_name)
                return error_oom(err);
        for (size_t i = 0; o->excludes && o->excludes[i]; i++) {
                _cleanup_strv_free_ char **matches = NULL;
                if (isempty(o->excludes[i]))
                        continue;
                r = root_glob(s->root_fd, o->excludes[i], &matches, err);
                if (r < 0)
                        return error_wrap(err, "excludes");
                for (size_t j = 0; matches && matches[j]; j++) {
                        _cleanup_free_ char *resolved = NULL;
                        char *norm = path_normalized(matches[j], 0);
                        if (!norm || strv_consume(&s->excludes, norm) < 0)
                                return error_oom(err);
                        /* also exclude where it leads, so a path reached
                         * through another symlink is excluded as well */
                        if (chase(s->root_fd, matches[j], CHASE_NOFOLLOW_LAST, NULL, NULL, &resolved, NULL, NULL) >=
                            0) {
                                norm = path_normalized(resolved, 0);
                                if (!norm || strv_consume(&s->excludes, norm) < 0)
                                        return error_oom(err);
                        }
                }
        }
        r = ld_env_new(s->root_fd, o->ld_library_path, &s->ld, err);
        if (r < 0)
                return error_wrap(err, "read the library search paths of '%s'", s->root_name);
        *ret = TAKE_PTR(s);
        return 0;
}

void selector_free(struct selector *s) {
        if (!s)
                return;
        while (s->head) {
                struct elf_item *it = s->head;
                s->head = it->next;
                free(it->path);
                free(it->origin);
                strv_free(it->loader_rpaths);
                free(it);
        }
        tdestroy(s->seen, free);
        ld_env_free(s->ld);
        strv_free_many(s->excludes, s->pending);
        free_many(s->missing_example, s->missing_example_by, s->root_name, s);
}

int selector_add_pattern(struct selector *s, const char *pattern, unsigned line, struct smith_error **err) {
        _cleanup_strv_free_ char **matches = NULL;
        int r;

        if (isempty(pattern))
                return 0;
        s->why = (struct plan_reason){ .kind = PLAN_REASON_PATTERN, .pattern = pattern, .line = line };
        r = root_glob(s->root_fd, pattern, &matches, err);
        if (r < 0)
                return error_wrap(err, "paths");
        if (strv_length(matches) == 0)
                log_info("'%s' matches nothing in '%s'", pattern, s->root_name);
        for (size_t i = 0; matches && matches[i]; i++) {
                r = add_path(s, matches[i], ADD_WHOLE, NULL, NULL, NULL, 0, err);
                if (r < 0)
                        break;
        }
        s->why = (struct plan_reason){};
        return r < 0 ? r : 0;
}

/* --- the ELF closure --- */

/* Resolves and adds one library; queues it with its chain of RPATHs. */
static int add_library(struct selector *s, const struct elf_info *obj, const char *obj_path, const char *origin,
                       char *const *loaders, char *const *chain, const char *needed, struct smith_error **err) {
        _cleanup_free_ char *found = NULL, *resolved = NULL, *forigin = NULL;
        struct ld_request req = { .obj = obj, .origin = origin, .loader_rpaths = loaders };
        int r;

        r = ld_env_find(s->ld, &req, needed, &found, err);
        if (r == -ENOENT) {
                s->n_missing++;
                if (s->n_missing <= MISSING_SHOWN || log_is_verbose())
                        log_warn("library '%s' needed by '%s' not found in '%s'", PATH_FOR_MSG(needed),
                                 PATH_FOR_MSG(obj_path), s->root_name);
                else if (!s->missing_example) {
                        s->missing_example = strdup(needed);
                        s->missing_example_by = strdup(obj_path);
                        if (!s->missing_example || !s->missing_example_by)
                                return error_oom(err);
                }
                return 0;
        }
        if (r < 0)
                return error_wrap(err, "find '%s' for '%s'", PATH_FOR_MSG(needed), PATH_FOR_MSG(obj_path));
        forigin = dirname_of(found);
        if (!forigin)
                return error_oom(err);
        s->why = (struct plan_reason){ .kind = PLAN_REASON_NEEDED, .detail = needed, .needed_by = obj_path };
        r = add_path(s, found, ADD_LIBRARY, forigin, chain, &resolved, 0, err);
        s->why = (struct plan_reason){};
        return r;
}

static int process_elf(struct selector *s, struct elf_item *it, struct smith_error **err) {
        _cleanup_(elf_info_release) struct elf_info info = {};
        _cleanup_strv_free_ char **chain = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = root_open_regular(s->root_fd, it->path, &fd);
        if (r == -EBADF)
                return 0; /* no longer a regular file: nothing to follow */
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "open '%s' in '%s'", PATH_FOR_MSG(it->path),
                                       s->root_name);
        {
                struct smith_error *e = NULL;
                r = elf_read(fd, it->path, &info, &e);
                if (r < 0) {
                        log_warn("%s: dependencies not followed", e ? e->msg : it->path);
                        error_free(e);
                        return 0;
                }
        }
        if (r == 1) /* not ELF */
                return 0;
        if (!s->have_first && info.is_dynamic && info.interp) {
                char a[16], b[16];

                if (s->target.machine != 0 && (info.machine != s->target.machine ||
                                               info.elf_class != s->target.elf_class || info.data != s->target.data))
                        return error_set(err, SMITH_ERR_SOURCE,
                                         "'%s' in '%s' is a program for %s, not for the platform built for (%s)",
                                         PATH_FOR_MSG(it->path), s->root_name, elf_machine_name(info.machine, a),
                                         elf_machine_name(s->target.machine, b));
                s->first.elf_class = info.elf_class;
                s->first.data = info.data;
                s->first.machine = info.machine;
                s->have_first = true;
        }
        if (info.interp) {
                s->why = (struct plan_reason){ .kind = PLAN_REASON_INTERPRETER, .needed_by = it->path };
                r = add_path(s, info.interp, ADD_LIBRARY, "/", NULL, NULL, 0, err);
                s->why = (struct plan_reason){};
                if (r < 0)
                        return error_wrap(err, "interpreter of '%s'", PATH_FOR_MSG(it->path));
        }
        /* the RPATHs this object passes down to what it loads (only when it
         * has no RUNPATH, as glibc does) */
        chain = strv_copy(it->loader_rpaths);
        if (!chain)
                return error_oom(err);
        if (info.rpath && !info.runpath)
                for (size_t i = 0; info.rpath[i]; i++) {
                        _cleanup_strv_free_ char **dirs = ld_expand_dst(&info, it->origin, info.rpath[i]);
                        for (size_t j = 0; dirs && dirs[j]; j++)
                                if (strv_extend(&chain, dirs[j]) < 0)
                                        return error_oom(err);
                }
        for (size_t i = 0; info.needed && info.needed[i]; i++) {
                r = add_library(s, &info, it->path, it->origin, it->loader_rpaths, chain, info.needed[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int finish_closure(struct selector *s, struct smith_error **err) {
        bool nss_done = !s->nss;
        int r;

        for (;;) {
                while (s->head) {
                        struct elf_item *it = s->head;
                        s->head = it->next;
                        if (!s->head)
                                s->tail = NULL;
                        r = process_elf(s, it, err);
                        free(it->path);
                        free(it->origin);
                        strv_free(it->loader_rpaths);
                        free(it);
                        if (r < 0)
                                return r;
                }
                if (nss_done)
                        break;
                nss_done = true;
                {
                        static const char *const mods[] = { "libnss_files.so.2", "libnss_dns.so.2",
                                                            "libnss_compat.so.2" };
                        struct elf_info host = {};
                        const struct elf_info *obj = &s->first;
                        if (!s->have_first && s->target.machine != 0)
                                obj = &s->target; /* nothing selected to go by: the platform's kind */
                        else if (!s->have_first) {
                                /* nor a platform: look for this machine's kind */
                                r = elf_host_info(&host);
                                if (r < 0)
                                        return error_set_errno(err, SMITH_ERR_IO, r, "read '/proc/self/exe'");
                                obj = &host;
                        }
                        for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
                                _cleanup_free_ char *found = NULL;
                                struct ld_request req = { .obj = obj, .origin = "/" };
                                r = ld_env_find(s->ld, &req, mods[i], &found, err);
                                if (r == -ENOENT) {
                                        log_info("nss module '%s' not found in '%s'", mods[i], s->root_name);
                                        continue;
                                }
                                if (r < 0)
                                        return error_wrap(err, "find nss module '%s'", mods[i]);
                                s->why = (struct plan_reason){ .kind = PLAN_REASON_NSS, .detail = mods[i] };
                                r = add_path(s, found, ADD_LIBRARY, NULL, NULL, NULL, 0, err);
                                s->why = (struct plan_reason){};
                                if (r < 0)
                                        return r;
                        }
                }
        }
        return 0;
}

int selector_finish(struct selector *s, struct smith_error **err) {
        int r = finish_closure(s, err);

        if (s->missing_example)
                log_warn("%zu more libraries not found in '%s', e.g. '%s' needed by '%s'; -v lists them all",
                         s->n_missing - MISSING_SHOWN, s->root_name, PATH_FOR_MSG(s->missing_example),
                         PATH_FOR_MSG(s->missing_example_by));
        free(s->missing_example);
        free(s->missing_example_by);
        s->missing_example = s->missing_example_by = NULL;
        s->n_missing = 0;
        return r;
}

bool selector_first_machine(const struct selector *s, int *ret_class, int *ret_data, unsigned *ret_machine) {
        if (!s->have_first)
                return false;
        *ret_class = s->first.elf_class;
        *ret_data = s->first.data;
        *ret_machine = s->first.machine;
        return true;
}
