/* Unit tests for src/lib/tree: the plan's precedence and symlink
 * resolution, and selection (globs, whole directories, symlink chains,
 * excludes, dangling links, the ELF closure) from a temp root and from the
 * host's own root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "tree/plan.h"
#include "tree/select.h"

static int collect(const struct plan_entry *e, void *userdata) {
        char ***l = userdata;
        char *s = NULL;
        const char *t = e->type == PLAN_DIR ? "d" : e->type == PLAN_SYMLINK ? "l" : "f";
        assert_true(asprintf(&s, "%s %s%s%s", t, e->path, e->type == PLAN_SYMLINK ? " -> " : "",
                             e->type == PLAN_SYMLINK ? e->target : "") > 0);
        strv_consume(l, s);
        return 0;
}

static char **listing(struct plan *p) {
        char **l = NULL;
        assert_int_equal(plan_foreach(p, collect, &l), 0);
        return l;
}

static void test_plan_precedence(void **state) {
        struct plan *p = NULL;
        assert_int_equal(plan_new(&p), 0);
        assert_int_equal(plan_add_data(p, "etc/passwd", PLAN_FROM_SOURCE, "a", 1, false), 1);
        /* same precedence: the first copy wins */
        assert_int_equal(plan_add_data(p, "etc/passwd", PLAN_FROM_SOURCE, "b", 1, false), 0);
        assert_string_equal(plan_get(p, "etc/passwd")->data, "a");
        /* higher precedence replaces */
        assert_int_equal(plan_add_data(p, "/etc//passwd", PLAN_FROM_GENERATED, "c", 1, false), 1);
        assert_string_equal(plan_get(p, "etc/passwd")->data, "c");
        assert_int_equal(plan_add_data(p, "etc/passwd", PLAN_FROM_SOURCE, "d", 1, false), 0);
        assert_string_equal(plan_get(p, "etc/passwd")->data, "c");
        /* a directory replaced by a symlink loses its children */
        assert_int_equal(plan_add_data(p, "run/x", PLAN_FROM_SOURCE, "x", 1, false), 1);
        assert_int_equal(plan_add_symlink(p, "run", PLAN_FROM_OVERLAY, "/tmp"), 1);
        assert_null(plan_get(p, "run/x"));
        char **l = listing(p);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "d etc");
        assert_string_equal(l[1], "f etc/passwd");
        assert_string_equal(l[2], "l run -> /tmp");
        strv_free(l);
        plan_free(p);
}

static void test_plan_resolve(void **state) {
        struct plan *p = NULL;
        char *r;
        assert_int_equal(plan_new(&p), 0);
        assert_int_equal(plan_add_symlink(p, "lib", PLAN_FROM_SOURCE, "usr/lib"), 1);
        assert_int_equal(plan_add_symlink(p, "usr/lib/up", PLAN_FROM_SOURCE, "../../../../etc"), 1);
        assert_int_equal(plan_add_symlink(p, "abs", PLAN_FROM_SOURCE, "/usr/lib"), 1);
        assert_int_equal(plan_add_symlink(p, "loop", PLAN_FROM_SOURCE, "loop"), 1);
        r = plan_resolve(p, "/lib/x.so", false);
        assert_string_equal(r, "usr/lib/x.so");
        free(r);
        r = plan_resolve(p, "lib/up/passwd", true);
        assert_string_equal(r, "etc/passwd");
        free(r);
        r = plan_resolve(p, "abs", false);
        assert_string_equal(r, "abs");
        free(r);
        r = plan_resolve(p, "abs", true);
        assert_string_equal(r, "usr/lib");
        free(r);
        assert_null(plan_resolve(p, "loop/x", true));
        plan_free(p);
}

static char *top;
static int root_fd = -1;

static void mk(const char *rel, const char *content, mode_t mode) {
        char *p = path_join(top, rel);
        char *dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p(dir, 0755), 0);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        chmod(p, mode);
        free(dir);
        free(p);
}

static void ln(const char *target, const char *rel) {
        char *p = path_join(top, rel);
        assert_int_equal(symlink(target, p), 0);
        free(p);
}

static int setup_root(void **state) {
        assert_int_equal(mkdtemp_in("/tmp", "smith-test-plan-", &top), 0);
        mk("usr/bin/tool", "#!/bin/sh\n", 0755);
        mk("usr/share/app/a.txt", "a", 0644);
        mk("usr/share/app/sub/b.txt", "b", 0644);
        mk("usr/share/app/cache/c.bin", "c", 0644);
        mk("etc/app/conf", "x", 0600);
        ln("usr/bin", "bin");
        ln("../../../etc/app", "usr/share/app/etc");
        ln("missing", "usr/share/app/dangling");
        ln("/etc/app/conf", "usr/share/app/abs-conf");
        root_fd = open(top, O_RDONLY | O_DIRECTORY);
        return 0;
}

static int teardown_root(void **state) {
        close(root_fd);
        rm_rf_at(AT_FDCWD, top);
        free(top);
        return 0;
}

static void test_glob(void **state) {
        char **m = NULL;
        assert_int_equal(root_glob(root_fd, "/usr/share/app/*.txt", &m, NULL), 0);
        assert_int_equal(strv_length(m), 1);
        assert_string_equal(m[0], "/usr/share/app/a.txt");
        strv_free(m);
        m = NULL;
        assert_int_equal(root_glob(root_fd, "/bin/t?ol", &m, NULL), 0);
        assert_int_equal(strv_length(m), 1);
        assert_string_equal(m[0], "/bin/tool");
        strv_free(m);
        m = NULL;
        /* a dangling link still matches (it is skipped later) */
        assert_int_equal(root_glob(root_fd, "/usr/share/app/dang*", &m, NULL), 0);
        assert_int_equal(strv_length(m), 1);
        strv_free(m);
        m = NULL;
        assert_int_equal(root_glob(root_fd, "/nope/*", &m, NULL), 0);
        assert_int_equal(strv_length(m), 0);
        strv_free(m);
        struct smith_error *e = NULL;
        assert_true(root_glob(root_fd, "/usr/[a", &m, &e) < 0);
        assert_string_equal(e->msg, "'/usr/[a': bad glob pattern");
        error_free(e);
}

static void test_select_tree(void **state) {
        struct plan *p = NULL;
        struct selector *s = NULL;
        char *excl[] = { (char *) "/usr/share/app/cache", NULL };
        struct selector_opts o = { .root_fd = root_fd, .root_name = "test", .excludes = excl };
        assert_int_equal(plan_new(&p), 0);
        assert_int_equal(selector_new(p, &o, &s, NULL), 0);
        assert_int_equal(selector_add_pattern(s, "/bin/tool", NULL), 0);
        assert_int_equal(selector_add_pattern(s, "/usr/share/app", NULL), 0);
        assert_int_equal(selector_finish(s, NULL), 0);
        char **l = listing(p);
        char *all = strv_join(l, "\n");
        assert_string_equal(all, "l bin -> usr/bin\n"
                                 "d etc\n"
                                 "d etc/app\n"
                                 "f etc/app/conf\n"
                                 "d usr\n"
                                 "d usr/bin\n"
                                 "f usr/bin/tool\n"
                                 "d usr/share\n"
                                 "d usr/share/app\n"
                                 "f usr/share/app/a.txt\n"
                                 "l usr/share/app/abs-conf -> /etc/app/conf\n"
                                 "l usr/share/app/etc -> ../../../etc/app\n"
                                 "d usr/share/app/sub\n"
                                 "f usr/share/app/sub/b.txt");
        assert_true(plan_get(p, "usr/bin/tool")->exec);
        assert_false(plan_get(p, "etc/app/conf")->exec);
        free(all);
        strv_free(l);
        selector_free(s);
        plan_free(p);
}

static void test_closure_host(void **state) {
        /* /usr/bin/id on Debian: libselinux (installed 0644) needs libpcre2-8 */
        struct plan *p = NULL;
        struct selector *s = NULL;
        int host = open("/", O_RDONLY | O_DIRECTORY);
        struct selector_opts o = { .root_fd = host, .root_name = "/", .nss = true };
        assert_int_equal(plan_new(&p), 0);
        assert_int_equal(selector_new(p, &o, &s, NULL), 0);
        assert_int_equal(selector_add_pattern(s, "/usr/bin/id", NULL), 0);
        assert_int_equal(selector_finish(s, NULL), 0);
        assert_non_null(plan_get(p, "usr/bin/id"));
        assert_non_null(plan_get(p, "usr/lib/x86_64-linux-gnu/libselinux.so.1"));
        assert_non_null(plan_get(p, "usr/lib/x86_64-linux-gnu/libc.so.6"));
        assert_non_null(plan_get(p, "usr/lib/x86_64-linux-gnu/libnss_files.so.2"));
        assert_non_null(plan_get(p, "usr/lib/x86_64-linux-gnu/libnss_dns.so.2"));
        /* the interpreter's symlink chain is kept */
        struct plan_entry *e = plan_get(p, "lib64");
        assert_non_null(e);
        assert_int_equal(e->type, PLAN_SYMLINK);
        int found = 0;
        char **l = listing(p);
        for (size_t i = 0; l[i]; i++)
                if (strstr(l[i], "libpcre2-8.so"))
                        found++;
        assert_true(found >= 1);
        strv_free(l);
        selector_free(s);
        plan_free(p);
        close(host);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_precedence),
                cmocka_unit_test(test_plan_resolve),
                cmocka_unit_test_setup_teardown(test_glob, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_select_tree, setup_root, teardown_root),
                cmocka_unit_test(test_closure_host),
        };
        return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
