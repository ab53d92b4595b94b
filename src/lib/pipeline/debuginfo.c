/* mock.debuginfo; see debuginfo.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "debuginfo.h"
#include "elf/elf.h"
#include "tree/select.h"

#define DEBUG_BUILD_ID_DIR "/usr/lib/debug/.build-id"

struct collect {
        int root_fd;
        char **paths, **ids; /* parallel: ELF files of the source root and their build-ids */
        int r;
};

static int collect_one(const struct plan_entry *e, void *userdata) {
        struct collect *c = userdata;
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(elf_info_release) struct elf_info info = {};
        _cleanup_close_ int fd = -1;

        if (e->type != PLAN_FILE || e->from != PLAN_FROM_SOURCE || e->src_fd != c->root_fd || !e->src_path)
                return 0;
        if (root_open_regular(c->root_fd, e->src_path, &fd) < 0)
                return 0;
        /* not an ELF, or a malformed one: it has no debug file to find */
        if (elf_read(fd, e->src_path, &info, &err) != 0 || !info.build_id)
                return 0;
        if (strv_extend(&c->paths, e->src_path) < 0 || strv_extend(&c->ids, info.build_id) < 0) {
                c->r = -ENOMEM;
                return -ENOMEM;
        }
        return 0;
}

/* The package that put path ("usr/bin/x" or "/usr/bin/x") in the root. */
static const char *owner(const struct source *src, const char *path) {
        path += strspn(path, "/");
        for (size_t i = 0; i < src->n_pkgs; i++)
                for (size_t k = 0; src->pkgs[i].files && src->pkgs[i].files[k]; k++) {
                        const char *f = src->pkgs[i].files[k];
                        if (streq(f + strspn(f, "/"), path))
                                return src->pkgs[i].name;
                }
        return NULL;
}

/* Adds pattern from the debug root when it matches; false when not. */
static int add_if_there(struct selector *sel, int root_fd, const char *pattern, struct smith_error **err) {
        _cleanup_strv_free_ char **m = NULL;
        if (root_glob(root_fd, pattern, &m, err) < 0)
                return -1;
        if (strv_length(m) == 0)
                return 0;
        if (selector_add_pattern(sel, pattern, 0, err) < 0)
                return -1;
        return 1;
}

/* The dwz file (/usr/lib/debug/.dwz/...) that the debug file at path in
 * the debug root names in its .gnu_debugaltlink, added once (done: those
 * added so far).  Without it gdb finds only part of the debug data: dwz
 * moved what several debug files share there.  Only an absolute path
 * without glob characters is taken; anything else, or a debug file that
 * cannot be read, is a -v note, never an error: the file is the package's. */
static int add_altlink(struct selector *sel, int root_fd, const char *path, char ***done, struct smith_error **err) {
        _cleanup_(error_freep) struct smith_error *bad = NULL;
        _cleanup_free_ char *alt = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (root_open_regular(root_fd, path, &fd) < 0 || elf_read_debugaltlink(fd, path, &alt, &bad) != 0) {
                if (bad)
                        log_info("mock.debuginfo: %s", bad->msg);
                return 0;
        }
        if (!alt || strv_contains(*done, alt))
                return 0;
        if (alt[0] != '/' || alt[strcspn(alt, "*?[\\")] != '\0') {
                log_info("mock.debuginfo: '%s' names the dwz file '%.200s': not followed (not an absolute path, or "
                         "globs)",
                         path, alt);
                return 0;
        }
        r = add_if_there(sel, root_fd, alt, err);
        if (r == 0)
                log_info("mock.debuginfo: the dwz file '%s' of '%s' is not in the debuginfo packages", alt, path);
        if (r >= 0 && strv_consume(done, TAKE_PTR(alt)) < 0)
                return error_oom(err);
        return r;
}

int debuginfo_plan(struct plan *plan, struct source *src, const struct smith_config *cfg, struct smith_error **err) {
        struct collect c = { .root_fd = src->root_fd };
        _cleanup_strv_free_ char **pkgs = NULL, **dwz = NULL;
        _cleanup_(selector_freep) struct selector *sel = NULL;
        struct selector_opts so = { .root_name = "debuginfo" };
        int r;

        if (!src->ops->debuginfo) {
                log_warn("mock.debuginfo: the %s source has no debuginfo packages: ignored", src->ops->kind);
                return 0;
        }
        r = plan_foreach(plan, collect_one, &c);
        if (r < 0 || c.r < 0) {
                strv_free(c.paths);
                strv_free(c.ids);
                return error_oom(err);
        }
        for (size_t i = 0; c.paths && c.paths[i]; i++) {
                const char *p = owner(src, c.paths[i]);
                if (p && !strv_contains(pkgs, p) && strv_extend(&pkgs, p) < 0) {
                        r = error_oom(err);
                        goto out;
                }
        }
        log_info("mock.debuginfo: %zu ELF files with a build-id, from %zu packages", strv_length(c.paths),
                 strv_length(pkgs));
        r = src->ops->debuginfo(src, pkgs, cfg->mock.debugdeps, err);
        if (r < 0 || src->debug_root_fd < 0)
                goto out;
        so.root_fd = src->debug_root_fd;
        r = selector_new(plan, &so, &sel, err);
        for (size_t i = 0; r >= 0 && c.ids && c.ids[i]; i++) {
                _cleanup_free_ char *debug = NULL, *link = NULL;
                if (strlen(c.ids[i]) < 3 ||
                    asprintf(&debug, "%s/%.2s/%s.debug", DEBUG_BUILD_ID_DIR, c.ids[i], c.ids[i] + 2) < 0 ||
                    asprintf(&link, "%s/%.2s/%s", DEBUG_BUILD_ID_DIR, c.ids[i], c.ids[i] + 2) < 0) {
                        if (strlen(c.ids[i]) < 3)
                                continue;
                        r = error_oom(err);
                        break;
                }
                r = add_if_there(sel, so.root_fd, debug, err);
                if (r == 0) /* its package had none, said above, or the package lacks it */
                        log_info("no debug file for '/%s' (build-id %s) in the debuginfo packages",
                                 c.paths[i] + strspn(c.paths[i], "/"), c.ids[i]);
                else if (r > 0)
                        r = add_altlink(sel, so.root_fd, debug, &dwz, err);
                if (r >= 0)
                        r = add_if_there(sel, so.root_fd, link, err);
        }
        for (size_t i = 0; r >= 0 && cfg->mock.debugpaths && cfg->mock.debugpaths[i]; i++)
                r = selector_add_pattern(sel, cfg->mock.debugpaths[i], 0, err);
out:
        strv_free(c.paths);
        strv_free(c.ids);
        return r < 0 ? -1 : 0;
}
