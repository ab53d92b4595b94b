/* Unit tests for src/lib/tree: the plan's precedence, symlink resolution
 * and reasons, selection (globs, whole directories, symlink chains,
 * excludes, dangling links, the ELF closure, why each entry is there) from
 * a temp root and from the host's own root, and the provenance blob
 * written and parsed back. */
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
#include "tree/provenance.h"
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

/* The reason of path in words ("" for no entry); static storage. */
static const char *why(struct plan *p, const char *path) {
        static char buf[512];
        struct plan_entry *e = plan_get(p, path);
        char *t;
        if (!e)
                return "";
        t = plan_reason_text(&e->why, NULL);
        assert_non_null(t);
        snprintf(buf, sizeof(buf), "%s", t);
        free(t);
        return buf;
}

static void test_plan_reasons(void **state) {
        struct plan *p = NULL;
        const struct plan_reason gen = { .kind = PLAN_REASON_GENERATED };
        const struct plan_reason over = { .kind = PLAN_REASON_OVERLAY };
        const struct plan_reason mount = { .kind = PLAN_REASON_MOUNT, .detail = "/data/x" };
        assert_int_equal(plan_new(&p), 0);
        /* nothing said: unknown */
        assert_int_equal(plan_add_dir(p, "tmp", PLAN_FROM_LAYOUT), 1);
        assert_int_equal(plan_get(p, "tmp")->why.kind, PLAN_REASON_UNKNOWN);
        assert_int_equal(plan_set_reason(p, &gen), 0);
        assert_int_equal(plan_add_data(p, "etc/x/passwd", PLAN_FROM_GENERATED, "a", 1, false), 1);
        assert_string_equal(why(p, "etc/x/passwd"), "generated");
        /* the directories it implies name it */
        assert_string_equal(why(p, "etc"), "parent directory of /etc/x/passwd");
        assert_string_equal(why(p, "etc/x"), "parent directory of /etc/x/passwd");
        /* an implied directory added for a reason of its own takes it; one
         * with a reason keeps it */
        assert_int_equal(plan_set_reason(p, &mount), 0);
        assert_int_equal(plan_add_dir(p, "etc/x", PLAN_FROM_LAYOUT), 0);
        assert_string_equal(why(p, "etc/x"), "mounts '/data/x' (smith.yaml)");
        assert_int_equal(plan_set_reason(p, &over), 0);
        assert_int_equal(plan_add_dir(p, "etc/x", PLAN_FROM_OVERLAY), 0);
        assert_string_equal(why(p, "etc/x"), "mounts '/data/x' (smith.yaml)");
        /* a replaced entry takes the new reason, a kept one keeps its own */
        assert_int_equal(plan_add_data(p, "etc/x/passwd", PLAN_FROM_OVERLAY, "b", 1, false), 1);
        assert_string_equal(why(p, "etc/x/passwd"), "rootfs/ overlay");
        assert_int_equal(plan_set_reason(p, &gen), 0);
        assert_int_equal(plan_add_data(p, "etc/x/passwd", PLAN_FROM_GENERATED, "c", 1, false), 0);
        assert_string_equal(why(p, "etc/x/passwd"), "rootfs/ overlay");
        assert_int_equal(plan_set_reason(p, NULL), 0);
        assert_int_equal(plan_add_symlink(p, "l", PLAN_FROM_SOURCE, "x"), 1);
        assert_string_equal(why(p, "l"), "unknown (not recorded)");
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
        assert_int_equal(selector_add_pattern(s, "/bin/tool", 2, NULL), 0);
        assert_int_equal(selector_add_pattern(s, "/usr/share/ap?", 3, NULL), 0);
        assert_int_equal(selector_finish(s, NULL), 0);
        /* the link /bin is on the way; what it leads to was asked for */
        assert_string_equal(why(p, "bin"), "symlink on the way to /usr/bin/tool");
        assert_string_equal(why(p, "usr/bin/tool"), "paths '/bin/tool' (smith.yaml:2)");
        assert_string_equal(why(p, "usr/bin"), "parent directory of /usr/bin/tool");
        /* a directory copied whole: everything in it, links and where they lead */
        assert_string_equal(why(p, "usr/share/app"), "paths '/usr/share/ap?' (smith.yaml:3)");
        assert_string_equal(why(p, "usr/share/app/sub/b.txt"), "paths '/usr/share/ap?' (smith.yaml:3)");
        assert_string_equal(why(p, "usr/share/app/abs-conf"), "paths '/usr/share/ap?' (smith.yaml:3)");
        assert_string_equal(why(p, "etc/app/conf"), "paths '/usr/share/ap?' (smith.yaml:3)");
        /* usr/share/app/etc leads there */
        assert_string_equal(why(p, "etc/app"), "paths '/usr/share/ap?' (smith.yaml:3)");
        assert_string_equal(why(p, "etc"), "parent directory of /etc/app/conf");
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
        assert_int_equal(selector_add_pattern(s, "/usr/bin/id", 0, NULL), 0);
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
        /* and every library says who needs it */
        assert_string_equal(why(p, "usr/bin/id"), "paths '/usr/bin/id' (smith.yaml)");
        assert_string_equal(why(p, "usr/lib/x86_64-linux-gnu/libselinux.so.1"),
                            "DT_NEEDED libselinux.so.1 of /usr/bin/id");
        assert_string_equal(why(p, "usr/lib/x86_64-linux-gnu/libpcre2-8.so.0"),
                            "DT_NEEDED libpcre2-8.so.0 of /usr/lib/x86_64-linux-gnu/libselinux.so.1");
        assert_string_equal(why(p, "usr/lib64/ld-linux-x86-64.so.2"), "interpreter of /usr/bin/id");
        assert_string_equal(why(p, "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"), "interpreter of /usr/bin/id");
        assert_string_equal(why(p, "lib64"), "symlink on the way to /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
        assert_string_equal(why(p, "usr/lib/x86_64-linux-gnu/libnss_files.so.2"), "NSS module libnss_files.so.2");
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

static void test_provenance_roundtrip(void **state) {
        struct plan *p = NULL;
        struct provenance *pv = NULL;
        struct smith_error *e = NULL;
        char *blob = NULL, *again = NULL;
        size_t len, len2;
        const struct plan_reason pat = { .kind = PLAN_REASON_PATTERN, .pattern = "/usr/bin/*", .line = 3 };
        const struct plan_reason need = { .kind = PLAN_REASON_NEEDED,
                                          .detail = "libz.so.1",
                                          .needed_by = "/usr/bin/x" };
        assert_int_equal(plan_new(&p), 0);
        assert_int_equal(plan_set_reason(p, &pat), 0);
        assert_int_equal(plan_add_data(p, "usr/bin/x", PLAN_FROM_SOURCE, "x", 1, true), 1);
        assert_int_equal(plan_set_reason(p, &need), 0);
        assert_int_equal(plan_add_symlink(p, "usr/lib/libz.so.1", PLAN_FROM_SOURCE, "libz.so.1.3"), 1);
        /* a path that is not UTF-8 is left out */
        assert_int_equal(plan_add_data(p, "usr/lib/\xff", PLAN_FROM_SOURCE, "x", 1, false), 1);
        assert_int_equal(provenance_write(p, "sha256:abc", "smith.yaml", &blob, &len, &e), 0);
        assert_int_equal(strlen(blob), len);
        assert_string_equal(blob,
                            "{\"schemaVersion\":1,\"layer\":\"sha256:abc\",\"config\":\"smith.yaml\",\"entries\":["
                            "{\"path\":\"/usr\",\"type\":\"dir\",\"package\":null,\"reason\":{\"kind\":\"parent\","
                            "\"needed_by\":\"/usr/bin/x\"}},"
                            "{\"path\":\"/usr/bin\",\"type\":\"dir\",\"package\":null,\"reason\":{\"kind\":\"parent\","
                            "\"needed_by\":\"/usr/bin/x\"}},"
                            "{\"path\":\"/usr/bin/x\",\"type\":\"file\",\"package\":null,\"reason\":{\"kind\":"
                            "\"pattern\",\"pattern\":\"/usr/bin/*\",\"line\":3}},"
                            "{\"path\":\"/usr/lib\",\"type\":\"dir\",\"package\":null,\"reason\":{\"kind\":\"parent\","
                            "\"needed_by\":\"/usr/lib/libz.so.1\"}},"
                            "{\"path\":\"/usr/lib/libz.so.1\",\"type\":\"symlink\",\"package\":null,\"reason\":{"
                            "\"kind\":\"needed\",\"detail\":\"libz.so.1\",\"needed_by\":\"/usr/bin/x\"}}]}");
        /* the same plan gives the same bytes */
        assert_int_equal(provenance_write(p, "sha256:abc", "smith.yaml", &again, &len2, &e), 0);
        assert_memory_equal(blob, again, len);
        assert_int_equal(provenance_parse(blob, len, &pv, &e), 0);
        assert_int_equal(pv->n, 5);
        assert_string_equal(pv->layer, "sha256:abc");
        assert_string_equal(pv->config, "smith.yaml");
        const struct provenance_record *r = provenance_find(pv, "/usr/lib/libz.so.1");
        assert_non_null(r);
        assert_int_equal(r->type, PLAN_SYMLINK);
        assert_null(r->package);
        assert_int_equal(r->why.kind, PLAN_REASON_NEEDED);
        assert_string_equal(r->why.detail, "libz.so.1");
        assert_string_equal(r->why.needed_by, "/usr/bin/x");
        r = provenance_find(pv, "/usr/bin/x");
        assert_int_equal(r->why.line, 3);
        assert_string_equal(r->why.pattern, "/usr/bin/*");
        assert_null(provenance_find(pv, "/usr/bin/y"));
        provenance_free(pv);
        free(blob);
        free(again);
        plan_free(p);
}

static void test_provenance_hostile(void **state) {
        static const struct {
                const char *json, *msg;
        } bad[] = {
                { "[]", "provenance: not a JSON object" },
                { "{\"schemaVersion\":2,\"entries\":[]}", "provenance: unsupported 'schemaVersion'" },
                { "{\"schemaVersion\":1}", "provenance: 'entries' is not a list" },
                { "{\"schemaVersion\":1,\"entries\":[1]}", "provenance: entry 0 is not an object" },
                { "{\"schemaVersion\":1,\"entries\":[{\"path\":\"x\",\"reason\":{\"kind\":\"nss\"}}]}",
                  "provenance: entry 0: 'path' is not an absolute path" },
                { "{\"schemaVersion\":1,\"entries\":[{\"path\":\"/x\"}]}",
                  "provenance: entry 0: 'reason' is not an object" },
                { "{\"schemaVersion\":1,\"entries\":[{\"path\":\"/x\",\"reason\":{\"kind\":1}}]}",
                  "provenance: entry 0: 'kind' is not a string" },
                { "{\"schemaVersion\":1,\"entries\":[{\"path\":\"/x\",\"reason\":{\"kind\":\"nss\",\"line\":-1}}]}",
                  "provenance: entry 0: 'line' is not a line number" },
                { "{\"schemaVersion\":1,\"layer\":7,\"entries\":[]}", "provenance: 'layer' is not a string" },
                { "{\"schemaVersion\":1,\"entries\":[{\"path\":\"/x\",\"reason\":{\"kind\":\"nss\"}},"
                  "{\"path\":\"/x\",\"reason\":{\"kind\":\"layout\"}}]}",
                  "provenance: more than one entry for one path" },
                { "{\"schemaVersion\":1,\"schemaVersion\":1,\"entries\":[]}", "provenance: invalid JSON at line 1" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct provenance *pv = NULL;
                struct smith_error *e = NULL;
                assert_int_equal(provenance_parse(bad[i].json, strlen(bad[i].json), &pv, &e), -1);
                assert_null(pv);
                assert_string_equal(e->msg, bad[i].msg);
                assert_int_equal(e->kind, SMITH_ERR_SOURCE);
                error_free(e);
        }
        /* a path longer than the bound */
        {
                size_t n = PROVENANCE_MAX_STRING + 2;
                char *json = NULL, *path = malloc(n + 1);
                struct provenance *pv = NULL;
                struct smith_error *e = NULL;
                memset(path, 'a', n);
                path[0] = '/';
                path[n] = '\0';
                assert_true(asprintf(&json, "{\"schemaVersion\":1,\"entries\":[{\"path\":\"%s\"}]}", path) > 0);
                assert_int_equal(provenance_parse(json, strlen(json), &pv, &e), -1);
                assert_string_equal(e->msg, "provenance: entry 0: 'path' is longer than 4096 bytes");
                error_free(e);
                free(json);
                free(path);
        }
        /* an unknown kind (a newer smith) reads as unknown; sorted on the way in */
        {
                const char *json = "{\"schemaVersion\":1,\"entries\":[{\"path\":\"/z\",\"reason\":{\"kind\":\"new\"}},"
                                   "{\"path\":\"/a\",\"reason\":{\"kind\":\"layout\"}}]}";
                struct provenance *pv = NULL;
                assert_int_equal(provenance_parse(json, strlen(json), &pv, NULL), 0);
                assert_string_equal(pv->records[0].path, "/a");
                assert_int_equal(provenance_find(pv, "/z")->why.kind, PLAN_REASON_UNKNOWN);
                assert_int_equal(provenance_find(pv, "/a")->why.kind, PLAN_REASON_LAYOUT);
                provenance_free(pv);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_precedence),
                cmocka_unit_test(test_plan_resolve),
                cmocka_unit_test(test_plan_reasons),
                cmocka_unit_test(test_provenance_roundtrip),
                cmocka_unit_test(test_provenance_hostile),
                cmocka_unit_test_setup_teardown(test_glob, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_select_tree, setup_root, teardown_root),
                cmocka_unit_test(test_closure_host),
        };
        return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
