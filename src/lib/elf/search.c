/* Where would glibc's ld.so find a DT_NEEDED library inside a source root?
 *
 * ld_env holds what the root's loader would consult (its ld.so.cache and,
 * as a fallback for a stale or missing cache, its ld.so.conf directories)
 * plus the build's LD_LIBRARY_PATH.  ld_env_find() walks glibc's search
 * order (see elf.h) and checks every candidate inside the root, skipping
 * files of another class or machine as ld.so does.  Paths are handled
 * lexically: what we return is the path ld.so would open, not where its
 * symlinks lead, so the caller can record the symlink chain. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "elf.h"

#define LD_MAX_DST_RESULTS 64U

struct ld_env {
        int root_fd;
        char **ld_library_path;
        struct ld_cache *cache;
        char **conf_dirs;
};

/* --- paths --- */

/* --- dynamic string tokens --- */

enum dst {
        DST_NONE,
        DST_ORIGIN,
        DST_LIB,
        DST_PLATFORM,
};

/* Recognises a DST right after a '$'; *ret_len is how much it spans. */
static enum dst dst_at(const char *s, size_t *ret_len) {
        static const struct {
                const char *name;
                enum dst kind;
        } table[] = {
                { "ORIGIN", DST_ORIGIN },
                { "PLATFORM", DST_PLATFORM },
                { "LIB", DST_LIB },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t n = strlen(table[i].name);
                if (s[0] == '{') {
                        if (strneq(s + 1, table[i].name, n) && s[n + 1] == '}') {
                                *ret_len = n + 2;
                                return table[i].kind;
                        }
                } else if (strneq(s, table[i].name, n)) {
                        char c = s[n];
                        /* "$LIBRARY" is not "$LIB" followed by "RARY". */
                        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
                                continue;
                        *ret_len = n;
                        return table[i].kind;
                }
        }
        return DST_NONE;
}

struct dst_ctx {
        const struct elf_info *obj;
        const char *origin;
};

/* The values a DST may stand for, NULL-terminated; NULL if it has none. */
static char **dst_values(const struct dst_ctx *c, enum dst kind) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *const *triplets;
        const char *plat;

        if (!l)
                return NULL;
        switch (kind) {
        case DST_ORIGIN:
                if (isempty(c->origin) || c->origin[0] != '/')
                        return NULL;
                if (strv_extend(&l, c->origin) < 0)
                        return NULL;
                break;
        case DST_PLATFORM:
                plat = elf_arch_platform(c->obj->elf_class, c->obj->data, c->obj->machine);
                if (!plat || strv_extend(&l, plat) < 0)
                        return NULL;
                break;
        case DST_LIB:
                triplets = elf_arch_triplets(c->obj->elf_class, c->obj->data, c->obj->machine);
                for (size_t i = 0; triplets[i]; i++) {
                        char *s = NULL;
                        if (asprintf(&s, "lib/%s", triplets[i]) < 0 || strv_consume(&l, s) < 0)
                                return NULL;
                }
                if (c->obj->elf_class == ELFCLASS64) {
                        if (strv_extend(&l, "lib64") < 0)
                                return NULL;
                } else if (c->obj->machine == EM_X86_64) {
                        if (strv_extend(&l, "libx32") < 0)
                                return NULL;
                } else if (strv_extend(&l, "lib32") < 0)
                        return NULL;
                if (strv_extend(&l, "lib") < 0)
                        return NULL;
                break;
        default:
                return NULL;
        }
        return TAKE_PTR(l);
}

/* Expands the DSTs in rest, appending done + expansion to *out.  The text
 * of a substituted value is never scanned again, so an origin with '$' in
 * its name stays literal. */
static int expand(const struct dst_ctx *c, const char *done, const char *rest, char ***out) {
        _cleanup_free_ char *full = NULL, *norm = NULL;
        const char *p = rest;

        while ((p = strchr(p, '$'))) {
                _cleanup_strv_free_ char **values = NULL;
                size_t len;
                enum dst kind = dst_at(p + 1, &len);

                if (kind == DST_NONE) {
                        p++;
                        continue;
                }
                values = dst_values(c, kind);
                if (!values)
                        return 0; /* cannot be expanded: ld.so drops the entry */
                for (size_t i = 0; values[i]; i++) {
                        _cleanup_free_ char *d = NULL;
                        int r;
                        if (asprintf(&d, "%s%.*s%s", done, (int) (p - rest), rest, values[i]) < 0)
                                return -ENOMEM;
                        if (strlen(d) >= PATH_MAX)
                                continue;
                        r = expand(c, d, p + 1 + len, out);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        if (asprintf(&full, "%s%s", done, rest) < 0)
                return -ENOMEM;
        if (full[0] != '/' || strlen(full) >= PATH_MAX)
                return 0; /* relative to ld.so's working directory: not ours to guess */
        norm = path_normalized(full, PATH_ABSOLUTE);
        if (!norm)
                return -ENOMEM;
        if (strv_contains(*out, norm) || strv_length(*out) >= LD_MAX_DST_RESULTS)
                return 0;
        return strv_consume(out, TAKE_PTR(norm));
}

char **ld_expand_dst(const struct elf_info *obj, const char *origin, const char *entry) {
        _cleanup_strv_free_ char **out = calloc(1, sizeof(char *));
        struct dst_ctx c = { .obj = obj, .origin = origin };

        if (!out)
                return NULL;
        if (expand(&c, "", entry, &out) < 0)
                return NULL;
        return TAKE_PTR(out);
}

/* --- the environment --- */

int ld_env_new(int root_fd, const char *ld_library_path, struct ld_env **ret, struct smith_error **err) {
        _cleanup_(ld_env_freep) struct ld_env *env = NULL;
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        env = calloc(1, sizeof(*env));
        if (!env)
                return error_oom(err);
        env->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (env->root_fd < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "load loader configuration");
        if (ld_library_path) {
                /* ld.so splits LD_LIBRARY_PATH at ';' too (RPATH only at ':'). */
                env->ld_library_path = strv_split(ld_library_path, ":;", false);
                if (!env->ld_library_path)
                        return error_oom(err);
        }

        /* ld.so ignores a cache it cannot use and searches the default
         * directories: so do we, once and aloud, with the conf directories
         * as well */
        r = root_read_file(env->root_fd, "/etc/ld.so.cache", LD_CACHE_MAX_SIZE, &buf, &len);
        if (r == -EFBIG)
                log_warn("'/etc/ld.so.cache': larger than %u bytes: searching without it", LD_CACHE_MAX_SIZE);
        else if (r == -EBADF)
                log_warn("'/etc/ld.so.cache': not a regular file: searching without it");
        else if (r < 0 && r != -ENOENT && r != -ENOTDIR && r != -EISDIR && r != -ELOOP)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '/etc/ld.so.cache'");
        if (r >= 0) {
                _cleanup_(error_freep) struct smith_error *cerr = NULL;
                r = ld_cache_parse(buf, len, "/etc/ld.so.cache", &env->cache, &cerr);
                if (r < 0 && cerr && cerr->kind == SMITH_ERR_SOURCE)
                        log_warn("%s: searching without it", cerr->msg);
                else if (r < 0) {
                        *err = TAKE_PTR(cerr);
                        return r;
                }
        }

        r = ld_conf_load(env->root_fd, "/etc/ld.so.conf", &env->conf_dirs, err);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(env);
        return 0;
}

void ld_env_free(struct ld_env *env) {
        if (!env)
                return;
        if (env->root_fd >= 0)
                close(env->root_fd);
        strv_free(env->ld_library_path);
        ld_cache_free(env->cache);
        strv_free(env->conf_dirs);
        free(env);
}

const struct ld_cache *ld_env_get_cache(const struct ld_env *env) {
        return env->cache;
}

char *const *ld_env_get_conf_dirs(const struct ld_env *env) {
        return env->conf_dirs;
}

/* --- the search --- */

struct search {
        struct ld_env *env;
        const struct ld_request *req;
        const char *needed;
        char *found;
};

/* Failures that say nothing about the candidate, only about us. */
static bool is_resource_error(int r) {
        return r == -ENOMEM || r == -EMFILE || r == -ENFILE;
}

/* Would ld.so take the file at path?  1 yes, 0 no, <0 -errno for errors
 * that are not about this candidate (out of memory, out of fds). */
static int candidate_ok(struct search *s, const char *path) {
        const struct elf_info *obj = s->req->obj;
        _cleanup_close_ int pfd = -1, fd = -1;
        struct stat st, st2;
        unsigned machine;
        int cls, data, r;

        pfd = root_openat(s->env->root_fd, path, O_PATH, 0);
        if (pfd < 0)
                return is_resource_error(pfd) ? pfd : 0;
        if (fstat(pfd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return 0;

        /* A regular file we may not read still exists for ld.so's purposes
         * as far as we can tell (it runs as another user). */
        fd = root_openat(s->env->root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
        if (fd < 0)
                return is_resource_error(fd) ? fd : 1;
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino || !S_ISREG(st2.st_mode))
                return 0; /* changed under us */
        r = elf_read_ident(fd, &cls, &data, &machine);
        if (r < 0)
                return is_resource_error(r) ? r : 0;
        if (r > 0)
                return 1; /* not an ELF (a placeholder or a linker script): it exists */
        if (cls != obj->elf_class || machine != obj->machine)
                return 0;
        if (obj->data != 0 && data != obj->data)
                return 0;
        return 1;
}

/* 1 and s->found if path is the library, 0 if not, <0 with err. */
static int try_path(struct search *s, const char *path, struct smith_error **err) {
        _cleanup_free_ char *norm = NULL;
        int r;

        if (path[0] != '/' || strlen(path) >= PATH_MAX)
                return 0;
        norm = path_normalized(path, PATH_ABSOLUTE);
        if (!norm)
                return error_oom(err);
        r = candidate_ok(s, norm);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "find '%s': check '%s'", s->needed, norm);
        if (r == 0)
                return 0;
        s->found = TAKE_PTR(norm);
        return 1;
}

static int try_dir(struct search *s, const char *dir, struct smith_error **err) {
        _cleanup_free_ char *p = NULL;

        if (isempty(dir) || dir[0] != '/')
                return 0;
        if (asprintf(&p, "%s/%s", dir, s->needed) < 0)
                return error_oom(err);
        return try_path(s, p, err);
}

/* Each entry DST-expanded, each resulting directory tried in order. */
static int try_entries(struct search *s, char *const *entries, struct smith_error **err) {
        for (size_t i = 0; entries && entries[i]; i++) {
                _cleanup_strv_free_ char **dirs = ld_expand_dst(s->req->obj, s->req->origin, entries[i]);
                if (!dirs)
                        return error_oom(err);
                for (size_t j = 0; dirs[j]; j++) {
                        int r = try_dir(s, dirs[j], err);
                        if (r != 0)
                                return r;
                }
        }
        return 0;
}

static int try_plain_dirs(struct search *s, char *const *dirs, struct smith_error **err) {
        for (size_t i = 0; dirs && dirs[i]; i++) {
                int r = try_dir(s, dirs[i], err);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int try_cache(struct search *s, struct smith_error **err) {
        const struct elf_info *obj = s->req->obj;
        _cleanup_strv_free_ char **paths = NULL;

        if (!s->env->cache)
                return 0;
        if (ld_cache_lookup(s->env->cache, s->needed, obj->elf_class, obj->machine, &paths) < 0)
                return error_oom(err);
        for (size_t i = 0; paths[i]; i++) {
                int r = try_path(s, paths[i], err);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int try_defaults(struct search *s, struct smith_error **err) {
        const struct elf_info *obj = s->req->obj;
        const char *const *triplets = elf_arch_triplets(obj->elf_class, obj->data, obj->machine);
        static const char *const dirs64[] = { "/lib64", "/usr/lib64", NULL };
        static const char *const dirs32[] = { "/lib32", "/usr/lib32", NULL };
        static const char *const dirsx32[] = { "/libx32", "/usr/libx32", NULL };
        static const char *const common[] = { "/lib", "/usr/lib", "/usr/local/lib", NULL };
        const char *const *bits;
        int r;

        for (size_t i = 0; triplets[i]; i++) {
                static const char *const prefixes[] = { "/lib", "/usr/lib" };
                for (size_t j = 0; j < ELEMENTSOF(prefixes); j++) {
                        _cleanup_free_ char *d = NULL;
                        if (asprintf(&d, "%s/%s", prefixes[j], triplets[i]) < 0)
                                return error_oom(err);
                        r = try_dir(s, d, err);
                        if (r != 0)
                                return r;
                }
        }
        if (obj->elf_class == ELFCLASS64)
                bits = dirs64;
        else if (obj->machine == EM_X86_64)
                bits = dirsx32;
        else
                bits = dirs32;
        r = try_plain_dirs(s, (char *const *) bits, err);
        if (r != 0)
                return r;
        return try_plain_dirs(s, (char *const *) common, err);
}

int ld_env_find(struct ld_env *env, const struct ld_request *req, const char *needed, char **ret_path,
                struct smith_error **err) {
        struct search s = { .env = env, .req = req, .needed = needed };
        const struct elf_info *obj = req->obj;
        int r = 0;

        if (isempty(needed) || strlen(needed) >= PATH_MAX)
                return -ENOENT;

        if (strchr(needed, '/')) {
                _cleanup_free_ char *p = NULL;
                if (needed[0] == '/')
                        p = strdup(needed);
                else if (asprintf(&p, "%s/%s", isempty(req->origin) ? "/" : req->origin, needed) < 0)
                        p = NULL;
                if (!p)
                        return error_oom(err);
                r = try_path(&s, p, err);
        } else {
                /* RPATH (the object's, then its loaders') only without RUNPATH. */
                if (!obj->runpath) {
                        r = try_entries(&s, obj->rpath, err);
                        if (r == 0)
                                r = try_plain_dirs(&s, req->loader_rpaths, err);
                }
                if (r == 0)
                        r = try_entries(&s, env->ld_library_path, err);
                if (r == 0)
                        r = try_entries(&s, obj->runpath, err);
                if (r == 0)
                        r = try_cache(&s, err);
                if (r == 0)
                        r = try_plain_dirs(&s, env->conf_dirs, err);
                if (r == 0)
                        r = try_defaults(&s, err);
        }
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        *ret_path = s.found;
        return 0;
}
