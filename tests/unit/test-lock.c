/* Unit tests for smith.lock (src/lib/source/lock.h): a lock written and
 * read back, the form checks on what is read, where a URL may point
 * (lock_url_inside()), the inputs digest (what changes it and what does
 * not), and the lock file's name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "source/lock.h"

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct smith_lock *sample(void) {
        struct smith_lock *l = lock_new();
        struct lock_package b = { .name = (char *) "zlib",
                                  .version = (char *) "1:1.2.13-1",
                                  .arch = (char *) "amd64",
                                  .source = (char *) "zlib",
                                  .url = (char *) "http://h/debian/pool/z/zlib1g_1.2.13-1_amd64.deb",
                                  .repo = (char *) "http://h/debian bookworm main",
                                  .digest = D,
                                  .size = 7 };
        struct lock_package a = { .name = (char *) "libc6",
                                  .version = (char *) "2.36-9",
                                  .arch = (char *) "amd64",
                                  .source = (char *) "glibc",
                                  .local = (char *) "./libc6.deb",
                                  .digest = D,
                                  .size = 9 };

        assert_non_null(l);
        memcpy(l->inputs, D, sizeof(D));
        l->source = strdup("deb");
        assert_int_equal(lock_add_package(l, &b, NULL), 0);
        assert_int_equal(lock_add_package(l, &a, NULL), 0);
        assert_int_equal(lock_add_repo(l, "http://h/debian bookworm main", "http://h/debian", D, NULL), 0);
        return l;
}

static void test_round_trip(void **state) {
        struct smith_lock *l = sample(), *back = NULL;
        struct smith_error *err = NULL;
        char *text = NULL, *again = NULL;

        (void) state;
        assert_int_equal(lock_to_json(l, &text, &err), 0);
        /* sorted: libc6 before zlib, keys sorted, pretty, a final newline */
        assert_true(strstr(text, "\"libc6\"") < strstr(text, "\"zlib\""));
        assert_true(strstr(text, "\"arch\"") < strstr(text, "\"digest\""));
        assert_non_null(strstr(text, "\n  \"inputs\": \"" D "\",\n"));
        assert_int_equal(text[strlen(text) - 1], '\n');
        assert_int_equal(lock_parse("x.lock", text, strlen(text), &back, &err), 0);
        assert_int_equal(back->n_pkgs, 2);
        assert_string_equal(back->pkgs[0].name, "libc6");
        assert_string_equal(back->pkgs[0].local, "./libc6.deb");
        assert_null(back->pkgs[0].url);
        assert_string_equal(back->pkgs[1].version, "1:1.2.13-1");
        assert_int_equal(back->pkgs[1].size, 7);
        assert_string_equal(back->repos[0].uri, "http://h/debian");
        assert_int_equal(lock_to_json(back, &again, &err), 0);
        assert_string_equal(text, again);
        free(text);
        free(again);
        lock_free(l);
        lock_free(back);
}

static void expect_bad(const char *text, const char *msg) {
        struct smith_lock *l = NULL;
        struct smith_error *err = NULL;

        assert_int_equal(lock_parse("x.lock", text, strlen(text), &l, &err), -1);
        assert_null(l);
        assert_non_null(err);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        if (!strstr(err->msg, msg))
                fail_msg("'%s' does not contain '%s'", err->msg, msg);
        assert_null(strchr(err->msg, '\n'));
        error_free(err);
}

#define HEAD "{\"version\": 1, \"inputs\": \"" D "\", \"source\": \"deb\", "
#define REPO "\"repositories\": [{\"name\": \"r\", \"uri\": \"http://h/d\", \"index\": \"" D "\"}], "
#define PKG(extra)                                                                                                    \
        "\"packages\": [{\"name\": \"x\", \"version\": \"1\", \"arch\": \"all\", \"source\": \"x\", \"digest\": \"" D \
        "\", " extra "}]}"

static void test_bad_forms(void **state) {
        (void) state;
        expect_bad("", "x.lock:1:");
        expect_bad("[]", "not a JSON object");
        expect_bad("{\"version\": 2}", "not a version 1 lock file");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"url\": \"http://h/d/x.deb\", \"repository\": \"r\", \"more\": 1"),
                   "packages[0]: unknown key 'more'");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"url\": \"http://h/d/x.deb\""), "'repository' goes with 'url'");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"url\": \"http://h/d/x.deb\", \"repository\": \"q\""),
                   "'repository' names no entry");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"url\": \"ftp://h/d/x.deb\", \"repository\": \"r\""),
                   "'url': not valid here");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"url\": \"http://h/d/x.deb?q\", \"repository\": \"r\""),
                   "'url': not valid here");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"local\": \"../x.deb\""), "'local': not valid here");
        expect_bad(HEAD REPO PKG("\"size\": 1, \"local\": \"x.tar\""), "'local': not valid here");
        expect_bad(HEAD REPO PKG("\"size\": 1"), "needs either 'url' or 'local'");
        expect_bad(HEAD "\"repositories\": [], \"packages\": [], \"image\": {}}", "'reference'");
        expect_bad("{\"version\": 1, \"inputs\": \"sha256:00\"}", "'inputs': not a sha256 digest");
        expect_bad("{\"version\": 1, \"inputs\": \"" D "\", \"source\": \"exe\"}", "'source': not valid here");
        expect_bad(HEAD "\"repositories\": {}, \"packages\": []}", "'repositories' is not a list");
}

static void test_url_inside(void **state) {
        (void) state;
        assert_true(lock_url_inside("http://h/d/pool/x_1.0+b1~rc_amd64.deb", "http://h/d"));
        assert_true(lock_url_inside("http://h/d/pool/x_1%3a1.0_amd64.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/", "http://h/d"));
        assert_false(lock_url_inside("http://h/dx/a.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/../a.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/./a.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d//a.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/a/", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/%2e%2e/a.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/%2fetc", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/%", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/a%00.deb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/a%5c..%5cb", "http://h/d"));
        assert_false(lock_url_inside("http://h/d/a b", "http://h/d"));
        assert_false(lock_url_inside("http://h/d@evil/a", "http://h/d"));
        assert_false(lock_url_inside("http://evil/d/a", "http://h/d"));
}

static void test_inputs(void **state) {
        const char *yaml = "package: [hello]\nrepos:\n- deb http://h/d stable main\npaths: [/x]\n";
        const char *other_paths = "package: [hello]\nrepos:\n- deb http://h/d stable main\npaths: [/y]\ncmd: [a]\n";
        const char *other_pkgs = "package: [hello, x]\nrepos:\n- deb http://h/d stable main\npaths: [/x]\n";
        const char *other_repo = "package: [hello]\nrepos:\n- deb http://h/e stable main\npaths: [/x]\n";
        struct smith_config *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        char da[DIGEST_STR_LEN + 1], db[DIGEST_STR_LEN + 1], dc[DIGEST_STR_LEN + 1], dd[DIGEST_STR_LEN + 1],
                de[DIGEST_STR_LEN + 1];

        (void) state;
        assert_int_equal(config_parse("a", yaml, strlen(yaml), &a, NULL), 0);
        assert_int_equal(config_parse("b", other_paths, strlen(other_paths), &b, NULL), 0);
        assert_int_equal(config_parse("c", other_pkgs, strlen(other_pkgs), &c, NULL), 0);
        assert_int_equal(config_parse("d", other_repo, strlen(other_repo), &d, NULL), 0);
        assert_int_equal(lock_inputs_digest(a, "amd64", da, NULL), 0);
        assert_int_equal(lock_inputs_digest(b, "amd64", db, NULL), 0);
        assert_int_equal(lock_inputs_digest(c, "amd64", dc, NULL), 0);
        assert_int_equal(lock_inputs_digest(d, "amd64", dd, NULL), 0);
        assert_int_equal(lock_inputs_digest(a, "arm64", de, NULL), 0);
        assert_string_equal(da, db); /* paths and cmd do not decide the resolution */
        assert_string_not_equal(da, dc);
        assert_string_not_equal(da, dd);
        assert_string_not_equal(da, de);
        config_free(a);
        config_free(b);
        config_free(c);
        config_free(d);
}

/* mock.debuginfo: the debuginfo root's packages ("for": "debuginfo", a
 * package of the build's root listed again) and "debuginfo-of" come back;
 * the inputs digest changes with debuginfo and debugdeps, and not at all
 * while debuginfo is off. */
static void test_debuginfo(void **state) {
        const char *off = "package: [hello]\nmock: {debugdeps: [gdb]}\n";
        const char *plain = "package: [hello]\n";
        const char *on = "package: [hello]\nmock: {debuginfo: true}\n";
        const char *on_deps = "package: [hello]\nmock: {debuginfo: true, debugdeps: [gdb]}\n";
        const char *on_paths = "package: [hello]\nmock: {debuginfo: true, debugpaths: [/usr/src/*]}\n";
        struct smith_config *c[5] = {};
        char dg[5][DIGEST_STR_LEN + 1];
        const char *ys[5] = { off, plain, on, on_deps, on_paths };
        struct smith_lock *l = sample(), *back = NULL;
        struct smith_error *err = NULL;
        struct lock_package dbg = { .name = (char *) "zlib",
                                    .version = (char *) "1:1.2.13-1",
                                    .arch = (char *) "amd64",
                                    .source = (char *) "zlib",
                                    .url = (char *) "http://h/debian/pool/z/zlib1g_1.2.13-1_amd64.deb",
                                    .repo = (char *) "http://h/debian bookworm main",
                                    .digest = D,
                                    .size = 7,
                                    .debuginfo = true };
        char *of[] = { (char *) "zlib", (char *) "libc6", NULL }, *text = NULL, *again = NULL;

        (void) state;
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(config_parse("x", ys[i], strlen(ys[i]), &c[i], NULL), 0);
                assert_int_equal(lock_inputs_digest(c[i], "amd64", dg[i], NULL), 0);
                config_free(c[i]);
        }
        assert_string_equal(dg[0], dg[1]);     /* off: as locks made before it */
        assert_string_not_equal(dg[1], dg[2]); /* turned on */
        assert_string_not_equal(dg[2], dg[3]); /* debugdeps */
        assert_string_equal(dg[2], dg[4]);     /* debugpaths only select */

        assert_int_equal(lock_add_package(l, &dbg, NULL), 0);
        assert_int_equal(lock_set_debuginfo_of(l, of, NULL), 0);
        assert_int_equal(lock_to_json(l, &text, &err), 0);
        assert_non_null(strstr(text, "\"for\": \"debuginfo\""));
        assert_non_null(strstr(text, "\"debuginfo-of\": [\n    \"libc6\",\n    \"zlib\"\n  ]"));
        assert_int_equal(lock_parse("x.lock", text, strlen(text), &back, &err), 0);
        assert_int_equal(back->n_pkgs, 3);
        /* the build's zlib first, then the debuginfo root's */
        assert_false(back->pkgs[1].debuginfo);
        assert_true(back->pkgs[2].debuginfo);
        assert_string_equal(back->debuginfo_of[0], "libc6");
        assert_int_equal(lock_to_json(back, &again, &err), 0);
        assert_string_equal(text, again);
        lock_free(back);
        back = NULL;
        /* no "debuginfo-of": NULL, not empty */
        lock_free(l);
        l = sample();
        free(text);
        assert_int_equal(lock_to_json(l, &text, &err), 0);
        assert_null(strstr(text, "debuginfo-of"));
        assert_int_equal(lock_parse("x.lock", text, strlen(text), &back, &err), 0);
        assert_null(back->debuginfo_of);
        free(text);
        free(again);
        lock_free(l);
        lock_free(back);
        expect_bad(HEAD "\"packages\": [], \"repositories\": [], \"debuginfo-of\": [\"a\", \"a\"]}", "a second 'a'");
        expect_bad(HEAD "\"packages\": [], \"repositories\": [], \"debuginfo-of\": [\"../x\"]}",
                   "debuginfo-of[0]: not a package name");
        expect_bad(HEAD "\"packages\": [], \"repositories\": [], \"debuginfo-of\": \"x\"}",
                   "'debuginfo-of' is not a list");
}

static void test_path_for(void **state) {
        char *p;

        (void) state;
        p = lock_path_for("smith.yaml");
        assert_string_equal(p, "smith.lock");
        free(p);
        p = lock_path_for("/x/other.yml");
        assert_string_equal(p, "/x/other.lock");
        free(p);
        p = lock_path_for("conf");
        assert_string_equal(p, "conf.lock");
        free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip), cmocka_unit_test(test_bad_forms), cmocka_unit_test(test_url_inside),
                cmocka_unit_test(test_inputs),     cmocka_unit_test(test_path_for),  cmocka_unit_test(test_debuginfo),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
