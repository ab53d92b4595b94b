/* Unit tests for the config module: smith.yaml parsing (every field, the
 * original's scalar coercions, nulls, both forms of ports), the exact error
 * messages with positions, the spec JSON byte for byte, image defaults and
 * environment lookup.  Fixtures are built in memory, files in a temp dir. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "config/config.h"

/* --- helpers --- */

static struct smith_config *parse_ok(const char *yaml) {
        struct smith_error *err = NULL;
        struct smith_config *c = NULL;

        if (config_parse("smith.yaml", yaml, strlen(yaml), &c, &err) < 0)
                fail_msg("unexpected error: %s", err ? err->msg : "(none)");
        assert_null(err);
        assert_non_null(c);
        return c;
}

static void check_error_len(const char *yaml, size_t len, const char *expected) {
        struct smith_error *err = NULL;
        struct smith_config *c = NULL;

        assert_int_equal(config_parse("smith.yaml", yaml, len, &c, &err), -1);
        assert_null(c);
        assert_non_null(err);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        assert_null(strchr(err->msg, '\n'));
        error_free(err);
}

static void check_error(const char *yaml, const char *expected) {
        check_error_len(yaml, strlen(yaml), expected);
}

/* Asserts l holds exactly the given strings (NULL-terminated list). */
static void check_strv(char **l, ...) {
        va_list ap;
        size_t i = 0;
        const char *s;

        va_start(ap, l);
        while ((s = va_arg(ap, const char *))) {
                assert_non_null(l);
                assert_non_null(l[i]);
                assert_string_equal(l[i], s);
                i++;
        }
        va_end(ap);
        if (i == 0)
                assert_null(l);
        else
                assert_null(l[i]);
}

static char *spec_of(const struct smith_config *c) {
        struct smith_error *err = NULL;
        char *json = NULL;
        size_t len = 0;

        assert_int_equal(config_to_spec_json(c, &json, &len, &err), 0);
        assert_null(err);
        assert_non_null(json);
        assert_int_equal(len, strlen(json));
        return json;
}

static void check_spec(const char *yaml, const char *expected) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok(yaml);
        _cleanup_free_ char *json = spec_of(c);

        assert_string_equal(json, expected);
}

/* --- parsing --- */

static const char full_yaml[] =
        "# every field\n"
        "type: mock\n"
        "package: coreutils\n"
        "parent: base.tar.gz\n"
        "mock:\n"
        "  config: /etc/mock/default.cfg\n"
        "  pre-build: echo pre\n"
        "  post-build: echo post\n"
        "  deps: [gcc, make]\n"
        "  debuginfo: true\n"
        "  debugdeps: [gdb]\n"
        "  debugpaths: [/usr/lib/debug]\n"
        "paths:\n"
        "  - /usr/bin/cat\n"
        "  - /usr/bin/ls\n"
        "excludes: [/usr/share/doc]\n"
        "nss: true\n"
        "root: yes\n"
        "user: nobody:nobody\n"
        "groups: [wheel]\n"
        "mounts: [/tmp, /data]\n"
        "entrypoint: [/usr/bin/cat]\n"
        "cmd: [/read/data]\n"
        "dir: /read\n"
        "env:\n"
        "  - PATH=/usr/bin\n"
        "  - LANG=C\n"
        "labels:\n"
        "  vendor: example\n"
        "  a.b: c\n"
        "ports:\n"
        "  443/tcp: {}\n"
        "  80/tcp:\n";

static const char full_spec[] =
        "{\"type\":\"mock\",\"mock\":{\"config\":\"/etc/mock/default.cfg\",\"pre-build\":\"echo pre\","
        "\"post-build\":\"echo post\",\"deps\":[\"gcc\",\"make\"],\"debuginfo\":true,\"debugdeps\":[\"gdb\"],"
        "\"debugpaths\":[\"/usr/lib/debug\"]},\"package\":\"coreutils\",\"paths\":[\"/usr/bin/cat\",\"/usr/bin/ls\"],"
        "\"excludes\":[\"/usr/share/doc\"],\"parent\":\"base.tar.gz\",\"nss\":true,\"root\":true,"
        "\"user\":\"nobody:nobody\",\"groups\":[\"wheel\"],\"mounts\":[\"/tmp\",\"/data\"],"
        "\"entrypoint\":[\"/usr/bin/cat\"],\"cmd\":[\"/read/data\"],\"dir\":\"/read\","
        "\"env\":[\"PATH=/usr/bin\",\"LANG=C\"],\"labels\":{\"a.b\":\"c\",\"vendor\":\"example\"},"
        "\"ports\":{\"443/tcp\":{},\"80/tcp\":{}}}";

static void test_full(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok(full_yaml);

        assert_string_equal(c->type, "mock");
        assert_string_equal(c->package, "coreutils");
        assert_string_equal(c->parent, "base.tar.gz");
        assert_string_equal(c->mock.config, "/etc/mock/default.cfg");
        assert_string_equal(c->mock.pre_build, "echo pre");
        assert_string_equal(c->mock.post_build, "echo post");
        check_strv(c->mock.deps, "gcc", "make", NULL);
        assert_true(c->mock.debuginfo);
        check_strv(c->mock.debugdeps, "gdb", NULL);
        check_strv(c->mock.debugpaths, "/usr/lib/debug", NULL);
        check_strv(c->paths, "/usr/bin/cat", "/usr/bin/ls", NULL);
        check_strv(c->excludes, "/usr/share/doc", NULL);
        assert_true(c->nss);
        assert_true(c->root);
        assert_string_equal(c->user, "nobody:nobody");
        check_strv(c->groups, "wheel", NULL);
        check_strv(c->mounts, "/tmp", "/data", NULL);
        check_strv(c->entrypoint, "/usr/bin/cat", NULL);
        check_strv(c->cmd, "/read/data", NULL);
        assert_string_equal(c->dir, "/read");
        check_strv(c->env, "PATH=/usr/bin", "LANG=C", NULL);
        check_strv(c->label_keys, "a.b", "vendor", NULL);
        check_strv(c->label_values, "c", "example", NULL);
        check_strv(c->ports, "443/tcp", "80/tcp", NULL);
}

static void test_readme_example(void **state) {
        _cleanup_(config_freep) struct smith_config *c =
                parse_ok("package: coreutils\npaths:\n- /usr/bin/cat\ncmd:\n- /usr/bin/cat\n- /read/data\n");

        assert_string_equal(c->package, "coreutils");
        check_strv(c->paths, "/usr/bin/cat", NULL);
        check_strv(c->cmd, "/usr/bin/cat", "/read/data", NULL);
        assert_null(c->type);
        assert_null(c->user);
        assert_null(c->label_keys);
        assert_null(c->ports);
        assert_false(c->nss);
}

/* ghodss/yaml hands numbers and booleans given for strings over as text. */
static void test_scalar_coercion(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok(
                "user: 10\n"
                "cmd: [sleep, 10, 1.5, true]\n"
                "dir: 0755\n"
                "nss: yes\n"
                "root: On\n"
                "labels:\n"
                "  version: 1.10\n"
                "  1: one\n"
                "  flag: no\n"
                "package: 'quoted'\n"
                "parent: \"double \\\"quoted\\\"\"\n");

        assert_string_equal(c->user, "10");
        check_strv(c->cmd, "sleep", "10", "1.5", "true", NULL);
        assert_string_equal(c->dir, "0755");
        assert_true(c->nss);
        assert_true(c->root);
        check_strv(c->label_keys, "1", "flag", "version", NULL);
        check_strv(c->label_values, "one", "no", "1.10", NULL);
        assert_string_equal(c->package, "quoted");
        assert_string_equal(c->parent, "double \"quoted\"");
}

static void test_bools(void **state) {
        static const char *const yes[] = { "y",    "Y",    "yes", "Yes", "YES", "true",
                                           "True", "TRUE", "on",  "On",  "ON",  "!!bool true" };
        static const char *const no[] = { "n",     "N",     "no",  "No",  "NO", "false", "False",
                                          "FALSE", "off",   "Off", "OFF", "~",  "" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                _cleanup_free_ char *y = NULL;
                assert_true(asprintf(&y, "nss: %s\nroot: %s\nmock: {debuginfo: %s}\n", yes[i], yes[i], yes[i]) > 0);
                _cleanup_(config_freep) struct smith_config *c = parse_ok(y);
                assert_true(c->nss);
                assert_true(c->root);
                assert_true(c->mock.debuginfo);
        }
        for (size_t i = 0; i < ELEMENTSOF(no); i++) {
                _cleanup_free_ char *y = NULL;
                assert_true(asprintf(&y, "nss: %s\nroot: %s\nmock: {debuginfo: %s}\n", no[i], no[i], no[i]) > 0);
                _cleanup_(config_freep) struct smith_config *c = parse_ok(y);
                assert_false(c->nss);
                assert_false(c->root);
                assert_false(c->mock.debuginfo);
        }
}

static void test_nulls(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok(
                "type: ~\n"
                "package: null\n"
                "user:\n"
                "dir: \"\"\n"
                "parent: NULL\n"
                "paths: ~\n"
                "excludes: []\n"
                "cmd: [a, ~, \"\"]\n"
                "env:\n"
                "mock: ~\n"
                "labels:\n"
                "  a: ~\n"
                "  b: ''\n"
                "ports: ~\n"
                "nss: ~\n");

        assert_null(c->type);
        assert_null(c->package);
        assert_null(c->user);
        assert_null(c->dir);
        assert_null(c->parent);
        assert_null(c->paths);
        assert_null(c->excludes);
        /* Go decodes a null element of a []string as "". */
        check_strv(c->cmd, "a", "", "", NULL);
        assert_null(c->env);
        assert_null(c->mock.config);
        assert_null(c->mock.deps);
        check_strv(c->label_keys, "a", "b", NULL);
        check_strv(c->label_values, "", "", NULL);
        assert_null(c->ports);
        assert_false(c->nss);
}

static void test_empty_documents(void **state) {
        static const char *const docs[] = { "", "# nothing\n", "~\n", "---\n", "--- ~\n...\n", "{}\n" };

        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                _cleanup_(config_freep) struct smith_config *c = parse_ok(docs[i]);
                _cleanup_free_ char *json = spec_of(c);
                assert_string_equal(json, "{\"mock\":{}}");
        }
}

static void test_ports(void **state) {
        {
                _cleanup_(config_freep) struct smith_config *c = parse_ok("ports:\n  80/tcp: {}\n  8080:\n  443: ~\n");
                check_strv(c->ports, "443", "80/tcp", "8080", NULL);
        }
        {
                /* The docker form: a list; duplicates collapse. */
                _cleanup_(config_freep) struct smith_config *c = parse_ok("ports: [\"80/tcp\", 443, 80/tcp, 53/udp]\n");
                _cleanup_free_ char *json = NULL;
                check_strv(c->ports, "443", "53/udp", "80/tcp", NULL);
                json = spec_of(c);
                assert_string_equal(json, "{\"mock\":{},\"ports\":{\"443\":{},\"53/udp\":{},\"80/tcp\":{}}}");
        }
        {
                _cleanup_(config_freep) struct smith_config *c = parse_ok("ports: {}\n");
                assert_null(c->ports);
        }
        {
                _cleanup_(config_freep) struct smith_config *c = parse_ok("ports: []\n");
                assert_null(c->ports);
        }
}

/* encoding/json matched field names case-insensitively. */
static void test_key_case(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok("Package: x\nPATHS: [a]\nMock: {Pre-Build: b}\n");

        assert_string_equal(c->package, "x");
        check_strv(c->paths, "a", NULL);
        assert_string_equal(c->mock.pre_build, "b");
}

static void test_path_lines(void **state) {
        _cleanup_(config_freep) struct smith_config *c =
                parse_ok("package: /\n# a comment\npaths:\n  - /usr/bin/*\n\n  - ~\n  - /etc\nexcludes: [/x]\n");
        _cleanup_(config_freep) struct smith_config *flow = parse_ok("paths: [/a,\n  /b]\nmounts: [/m]\n");
        _cleanup_(config_freep) struct smith_config *none = parse_ok("paths: []\n");

        check_strv(c->paths, "/usr/bin/*", "", "/etc", NULL);
        assert_non_null(c->path_lines);
        assert_int_equal(c->path_lines[0], 4);
        assert_int_equal(c->path_lines[1], 6);
        assert_int_equal(c->path_lines[2], 7);
        assert_int_equal(flow->path_lines[0], 1);
        assert_int_equal(flow->path_lines[1], 2);
        assert_null(none->paths);
        assert_null(none->path_lines);
}

static void test_aliases(void **state) {
        _cleanup_(config_freep) struct smith_config *c =
                parse_ok("paths: [&p /usr/bin/cat]\ncmd: [*p, x]\nlabels: &l {a: b}\nuser: &u root\ngroups: [*u]\n");

        check_strv(c->paths, "/usr/bin/cat", NULL);
        check_strv(c->cmd, "/usr/bin/cat", "x", NULL);
        check_strv(c->groups, "root", NULL);
}

/* --- errors --- */

static void test_error_unknown_key(void **state) {
        check_error("package: x\npath:\n  - /a\n", "smith.yaml:2:1: unknown key 'path' (did you mean 'paths'?)");
        check_error("package: x\nfrobnicate: 1\n", "smith.yaml:2:1: unknown key 'frobnicate'");
        check_error("usr: root\n", "smith.yaml:1:1: unknown key 'usr' (did you mean 'user'?)");
        check_error("mock:\n  confg: x\n", "smith.yaml:2:3: unknown key 'confg' in 'mock' (did you mean 'config'?)");
        check_error("mock:\n  paths: [a]\n", "smith.yaml:2:3: unknown key 'paths' in 'mock'");
        check_error("\"a\\nb\": 1\n", "smith.yaml:1:1: unknown key 'a?b'");
        check_error("1: 1\n", "smith.yaml:1:1: unknown key '1'");
        check_error("<<: {paths: [a]}\n", "smith.yaml:1:1: merge keys ('<<') are not supported");
}

static void test_error_types(void **state) {
        check_error("paths:\n  - /a\n  - [b]\n", "smith.yaml:3:5: 'paths' must be a list of strings");
        check_error("paths:\n  - /a\n  - {b: c}\n", "smith.yaml:3:5: 'paths' must be a list of strings");
        check_error("paths: /a\n", "smith.yaml:1:8: 'paths' must be a list of strings");
        check_error("env: {A: b}\n", "smith.yaml:1:6: 'env' must be a list of strings");
        check_error("user: [a, b]\n", "smith.yaml:1:7: 'user' must be a string");
        check_error("package:\n  name: x\n", "smith.yaml:2:3: 'package' must be a string or a list of strings");
        check_error("mock:\n  deps: gcc\n", "smith.yaml:2:9: 'mock.deps' must be a list of strings");
        check_error("mock: [a]\n", "smith.yaml:1:7: 'mock' must be a mapping");
        check_error("mock: yes\n", "smith.yaml:1:7: 'mock' must be a mapping");
        check_error("labels: [a]\n", "smith.yaml:1:9: 'labels' must be a mapping of strings to strings");
        check_error("labels:\n  a: [b]\n", "smith.yaml:2:6: 'labels' must be a mapping of strings to strings");
        check_error("labels:\n  ~: b\n", "smith.yaml:2:3: keys in 'labels' must be strings");
        check_error("ports: 80\n", "smith.yaml:1:8: 'ports' must be a mapping or a list of strings");
        check_error("ports: [80, [443]]\n", "smith.yaml:1:13: 'ports' must be a mapping or a list of strings");
        check_error("ports: [80, ~]\n", "smith.yaml:1:13: 'ports' must be a mapping or a list of strings");
        check_error("ports:\n  80: {a: b}\n", "smith.yaml:2:7: values in 'ports' must be empty (null or {})");
        check_error("ports:\n  80: x\n", "smith.yaml:2:7: values in 'ports' must be empty (null or {})");
        check_error("? [a]\n: b\n", "smith.yaml:1:3: keys must be strings");
        check_error("~: b\n", "smith.yaml:1:1: keys must be strings");
        check_error("mock:\n  ? {a: b}\n  : c\n", "smith.yaml:2:5: keys in 'mock' must be strings");
        check_error("\"a\\0b\": 1\n", "smith.yaml:1:1: keys must be strings");
        check_error("user: \"a\\0b\"\n", "smith.yaml:1:7: 'user' contains a NUL character");
}

static void test_error_bool(void **state) {
        check_error("nss: maybe\n", "smith.yaml:1:6: 'nss' must be true or false");
        check_error("package: x\nroot: 1\n", "smith.yaml:2:7: 'root' must be true or false");
        /* Quoted, it is a string: the original refused that too. */
        check_error("nss: \"true\"\n", "smith.yaml:1:6: 'nss' must be true or false");
        check_error("nss: [true]\n", "smith.yaml:1:6: 'nss' must be true or false");
        check_error("mock:\n  debuginfo: 2\n", "smith.yaml:2:14: 'mock.debuginfo' must be true or false");
}

static void test_error_duplicate(void **state) {
        check_error("paths: [a]\nuser: x\npaths: [b]\n", "smith.yaml:3:1: duplicate key 'paths' (first at 1:1)");
        check_error("paths: [a]\nPaths: [b]\n", "smith.yaml:2:1: duplicate key 'Paths' (first at 1:1)");
        check_error("mock:\n  deps: [a]\n  deps: [b]\n", "smith.yaml:3:3: duplicate key 'deps' (first at 2:3)");
        check_error("labels:\n  b: 1\n  a: 2\n  b: 3\n",
                    "smith.yaml:4:3: duplicate key 'b' in 'labels' (first at 2:3)");
        check_error("ports:\n  80: {}\n  \"80\": {}\n", "smith.yaml:3:3: duplicate key '80' in 'ports' (first at 2:3)");
}

static void test_error_top_level(void **state) {
        check_error("- a\n- b\n", "smith.yaml:1:1: top level must be a mapping");
        check_error("\n\njust text\n", "smith.yaml:3:1: top level must be a mapping");
        check_error("package: x\n---\npackage: y\n", "smith.yaml:3:1: only one YAML document is allowed");
}

static void test_error_syntax(void **state) {
        check_error("package: a: b\n", "smith.yaml:1:11: mapping values are not allowed in this context");
        check_error("paths: [a, b\n", "smith.yaml:2:1: did not find expected ',' or ']'");
        check_error("package: x\n  user: y\n", "smith.yaml:2:7: mapping values are not allowed in this context");
        check_error("user: *nothing\n", "smith.yaml:1:7: found undefined alias");
        check_error("user: \"abc\n", "smith.yaml:2:1: found unexpected end of stream");
        check_error("user: a\xff\n", "smith.yaml:1:8: invalid leading UTF-8 octet");
        check_error("user: \tx\n\tpaths: []\n", "smith.yaml:2:1: found a tab character that violates indentation");
}

static void test_error_bounds(void **state) {
        _cleanup_free_ char *big = NULL, *many = NULL, *expand = NULL;
        size_t n = CONFIG_MAX_FILE_SIZE + 1;
        char *p;

        /* File size: checked before parsing. */
        big = malloc(n);
        assert_non_null(big);
        memset(big, '#', n);
        check_error_len(big, n, "'smith.yaml' is larger than 1 MiB");

        /* One scalar too long. */
        big[0] = 'u';
        memcpy(big, "user: ", 6);
        memset(big + 6, 'a', CONFIG_MAX_SCALAR + 1);
        big[6 + CONFIG_MAX_SCALAR + 1] = '\n';
        check_error_len(big, 6 + CONFIG_MAX_SCALAR + 2, "smith.yaml:1:7: 'user' is longer than 65536 bytes");

        /* Too many list items. */
        many = malloc(16 + 2 * (CONFIG_MAX_ITEMS + 1) + 2);
        assert_non_null(many);
        p = stpcpy(many, "paths: [");
        for (size_t i = 0; i <= CONFIG_MAX_ITEMS; i++)
                p = stpcpy(p, i ? ",a" : "a");
        stpcpy(p, "]\n");
        check_error(many, "smith.yaml:1:8: 'paths' has more than 100000 entries");

        /* Aliases repeating a 60 KiB scalar 300 times: 18 MB of strings. */
        expand = malloc(32 + 60 * 1024 + 300 * 4);
        assert_non_null(expand);
        p = stpcpy(expand, "paths: [&a ");
        memset(p, 'x', 60 * 1024);
        p += 60 * 1024;
        for (size_t i = 0; i < 300; i++)
                p = stpcpy(p, ",*a");
        stpcpy(p, "]\n");
        check_error(expand, "smith.yaml:1:9: configuration is larger than 16 MiB once aliases are expanded");
}

/* Aliases may point at their own ancestors; the walk must not follow them. */
static void test_error_recursive_alias(void **state) {
        check_error("paths: &a [x, *a]\n", "smith.yaml:1:8: 'paths' must be a list of strings");
        check_error("&t {mock: *t}\n", "smith.yaml:1:5: unknown key 'mock' in 'mock'");
        check_error("labels: &l {a: *l}\n", "smith.yaml:1:9: 'labels' must be a mapping of strings to strings");
}

/* libyaml is quadratic in nesting depth and in anchors; both are bounded
 * before its loader runs (this took minutes without the bound). */
static void test_deep_nesting(void **state) {
        size_t depth = 400000;
        _cleanup_free_ char *y = malloc(8 + 2 * depth + 2), *a = NULL;
        char *p;

        assert_non_null(y);
        p = stpcpy(y, "paths: ");
        memset(p, '[', depth);
        memset(p + depth, ']', depth);
        stpcpy(p + 2 * depth, "\n");
        check_error(y, "smith.yaml:1:71: nesting is deeper than 64 levels");

        p = stpcpy(y, "paths:\n");
        for (size_t i = 0; i < depth; i++)
                p = stpcpy(p, "- ");
        stpcpy(p, "x\n");
        check_error(y, "smith.yaml:2:127: nesting is deeper than 64 levels");

        /* 64 levels in all (the top mapping is one) are still just a type error. */
        p = stpcpy(y, "paths: ");
        memset(p, '[', 63);
        memset(p + 63, ']', 63);
        stpcpy(p + 2 * 63, "\n");
        check_error(y, "smith.yaml:1:9: 'paths' must be a list of strings");

        a = malloc(16 + (CONFIG_MAX_ANCHORS + 1) * 16);
        assert_non_null(a);
        p = stpcpy(a, "paths: [");
        for (size_t i = 0; i <= CONFIG_MAX_ANCHORS; i++)
                p += snprintf(p, 16, "&a%zu x, ", i);
        stpcpy(p, "]\n");
        check_error(a, "smith.yaml:1:8899: more than 1000 anchors");
}

/* --- files --- */

static void test_load(void **state) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *big = NULL, *missing = NULL, *expected = NULL;
        _cleanup_(config_freep) struct smith_config *c = NULL;
        struct smith_error *err = NULL;

        assert_int_equal(mkdtemp_in("/tmp", "test-config-", &dir), 0);
        path = path_join(dir, "smith.yaml");
        missing = path_join(dir, "missing.yaml");
        assert_non_null(path);

        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, full_yaml, strlen(full_yaml), 0644), 0);
        assert_int_equal(config_load(path, &c, &err), 0);
        assert_null(err);
        assert_string_equal(c->package, "coreutils");

        /* Missing file: the message names the path as given. */
        assert_int_equal(config_load(missing, &c, &err), -1);
        assert_non_null(err);
        assert_true(asprintf(&expected, "read '%s': No such file or directory", missing) > 0);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        error_free(TAKE_PTR(err));
        free(TAKE_PTR(expected));

        /* Exactly 1 MiB is fine, one byte more is not. */
        big = malloc(CONFIG_MAX_FILE_SIZE + 1);
        assert_non_null(big);
        memset(big, '#', CONFIG_MAX_FILE_SIZE + 1);
        big[CONFIG_MAX_FILE_SIZE - 1] = '\n';
        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, big, CONFIG_MAX_FILE_SIZE, 0644), 0);
        config_free(TAKE_PTR(c));
        assert_int_equal(config_load(path, &c, &err), 0);
        assert_null(err);
        assert_null(c->package);

        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, big, CONFIG_MAX_FILE_SIZE + 1, 0644), 0);
        config_free(TAKE_PTR(c));
        assert_int_equal(config_load(path, &c, &err), -1);
        assert_null(c);
        assert_true(asprintf(&expected, "'%s' is larger than 1 MiB", path) > 0);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        error_free(TAKE_PTR(err));

        /* Syntax errors name the path too. */
        free(TAKE_PTR(expected));
        assert_int_equal(write_file_atomic_at(AT_FDCWD, path, "nss: 3\n", 7, 0644), 0);
        assert_int_equal(config_load(path, &c, &err), -1);
        assert_true(asprintf(&expected, "%s:1:6: 'nss' must be true or false", path) > 0);
        assert_string_equal(err->msg, expected);
        error_free(TAKE_PTR(err));

        assert_int_equal(rm_rf_at(AT_FDCWD, dir), 0);
}

/* --- spec JSON --- */

static void test_spec_full(void **state) {
        check_spec(full_yaml, full_spec);
}

static void test_spec_empty(void **state) {
        _cleanup_(config_freep) struct smith_config *c = config_new();
        _cleanup_free_ char *json = NULL;

        assert_non_null(c);
        json = spec_of(c);
        assert_string_equal(json, "{\"mock\":{}}");
        check_spec("", "{\"mock\":{}}");
        check_spec("mock: {debuginfo: false, deps: []}\nnss: false\n", "{\"mock\":{}}");
        check_spec("mock: {debuginfo: true}\nroot: true\n", "{\"mock\":{\"debuginfo\":true},\"root\":true}");
}

static void test_spec_escaping(void **state) {
        check_spec("labels:\n  description: \"<b>cats & dogs</b>\"\n",
                   "{\"mock\":{},\"labels\":{\"description\":\"\\u003cb\\u003ecats \\u0026 dogs\\u003c/b\\u003e\"}}");
        check_spec("labels:\n  \"<&>\": x\n", "{\"mock\":{},\"labels\":{\"\\u003c\\u0026\\u003e\":\"x\"}}");
        check_spec("cmd: [\"a\\\"b\\\\c\\nd\\te\\rf\\x01\\bg\\fh\\x7f\", \"\\u2028\\u2029é€😀\", '/']\n",
                   "{\"mock\":{},\"cmd\":[\"a\\\"b\\\\c\\nd\\te\\rf\\u0001\\u0008g\\u000ch\x7f\","
                   "\"\\u2028\\u2029é€😀\",\"/\"]}");
}

/* Invalid UTF-8 cannot come from YAML, but a config can be built by hand. */
static void test_spec_invalid_utf8(void **state) {
        _cleanup_(config_freep) struct smith_config *c = config_new();
        _cleanup_free_ char *json = NULL;

        c->user = strdup("a\xff" "b\xc3" "c\xed\xa0\x80" "d\xc0\xaf" "e\xf4\x90\x80\x80" "f\xc3\xa9");
        /* Labels out of order: the writer sorts them as Go's map would. */
        assert_int_equal(strv_extend(&c->label_keys, "b"), 0);
        assert_int_equal(strv_extend(&c->label_values, "2"), 0);
        assert_int_equal(strv_extend(&c->label_keys, "a"), 0);
        assert_int_equal(strv_extend(&c->label_values, "1"), 0);
        json = spec_of(c);
        assert_string_equal(json, "{\"mock\":{},\"user\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffde"
                                  "\\ufffd\\ufffd\\ufffd\\ufffdf\xc3\xa9\",\"labels\":{\"a\":\"1\",\"b\":\"2\"}}");
}

/* --- package lists and repos --- */

static void test_package_list(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok("package: [coreutils, ./local.deb]\n");

        check_strv(c->package_list, "coreutils", "./local.deb", NULL);
        assert_string_equal(c->package, "coreutils ./local.deb");
        check_spec("package: [a, b]\n", "{\"mock\":{},\"package\":[\"a\",\"b\"]}");
        /* a string stays a string in the spec */
        check_spec("package: coreutils\n", "{\"mock\":{},\"package\":\"coreutils\"}");
        check_error("package: [a, '']\n", "smith.yaml:1:10: 'package' must not hold empty names");
        check_error("package: [a, [b]]\n", "smith.yaml:1:14: 'package' must be a list of strings");
}

static void test_repos(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok(
                "package: hello\n"
                "repos:\n"
                "- deb [signed-by=/k.gpg] http://127.0.0.1:8080/ stable main\n"
                "- uri: http://example.org/debian\n"
                "  suites: [bookworm, bookworm-updates]\n"
                "  components: main contrib\n"
                "  signed-by: keys/k.gpg\n"
                "  trusted: true\n"
                "- URL: file:///srv/repo\n"
                "  suite: ./\n");

        assert_int_equal(c->n_repos, 3);
        assert_string_equal(c->repos[0].line, "deb [signed-by=/k.gpg] http://127.0.0.1:8080/ stable main");
        assert_string_equal(c->repos[0].where, "smith.yaml:3:3");
        assert_null(c->repos[1].line);
        assert_string_equal(c->repos[1].uri, "http://example.org/debian");
        check_strv(c->repos[1].suites, "bookworm", "bookworm-updates", NULL);
        check_strv(c->repos[1].components, "main", "contrib", NULL);
        assert_string_equal(c->repos[1].signed_by, "keys/k.gpg");
        assert_true(c->repos[1].trusted);
        assert_string_equal(c->repos[2].uri, "file:///srv/repo");
        check_strv(c->repos[2].suites, "./", NULL);
        assert_null(c->repos[2].components);
        assert_false(c->repos[2].trusted);
}

static void test_repos_spec(void **state) {
        check_spec("repos:\n- deb http://h/ s main\n- {uri: 'http://h/d', suites: s, trusted: yes}\n",
                   "{\"mock\":{},\"repos\":[\"deb http://h/ s main\",{\"uri\":\"http://h/d\",\"suites\":[\"s\"],"
                   "\"trusted\":true}]}");
        /* unset or empty: no "repos" at all, as before */
        check_spec("repos: []\n", "{\"mock\":{}}");
        check_spec("repos:\n", "{\"mock\":{}}");
}

static void test_repos_errors(void **state) {
        check_error("repos: deb http://h/ s main\n", "smith.yaml:1:8: 'repos' must be a list of strings or mappings");
        check_error("repos: [[a]]\n", "smith.yaml:1:9: 'repos' must be a list of strings or mappings");
        check_error("repos: ['']\n", "smith.yaml:1:9: 'repos' must be a list of strings or mappings");
        check_error("repos:\n- suites: [s]\n", "smith.yaml:2:3: 'repos' entry without 'uri'");
        check_error("repos:\n- uri: http://h/\n", "smith.yaml:2:3: 'repos' entry without 'suites'");
        check_error("repos:\n- {uri: a, uri: b, suites: s}\n", "smith.yaml:2:12: duplicate key 'uri' (first at 2:4)");
        check_error("repos:\n- {uri: a, suites: s, key: x}\n", "smith.yaml:2:23: unknown key 'key' in 'repos'");
        check_error("repos:\n- {uri: a, suites: s, trustd: x}\n",
                    "smith.yaml:2:23: unknown key 'trustd' in 'repos' (did you mean 'trusted'?)");
        check_error("repos:\n- {uri: a, suites: s, trusted: maybe}\n",
                    "smith.yaml:2:32: 'repos.trusted' must be true or false");
        check_error("repos:\n- {uri: [a], suites: s}\n", "smith.yaml:2:9: 'repos.uri' must be a string");
}

static void test_packages(void **state) {
        _cleanup_(config_freep) struct smith_config *off = parse_ok("package: hello\n");
        _cleanup_(config_freep) struct smith_config *on = parse_ok("packages: {recommends: yes}\n");
        _cleanup_(config_freep) struct smith_config *null = parse_ok("packages:\n");

        assert_false(off->packages.recommends);
        assert_true(on->packages.recommends);
        assert_false(null->packages.recommends);
        /* in the spec only when on, so earlier specs keep their bytes */
        check_spec("packages: {recommends: true}\n", "{\"mock\":{},\"packages\":{\"recommends\":true}}");
        check_spec("packages: {recommends: false}\n", "{\"mock\":{}}");
        check_error("packages: [recommends]\n", "smith.yaml:1:11: 'packages' must be a mapping");
        check_error("packages: {recommend: true}\n",
                    "smith.yaml:1:12: unknown key 'recommend' in 'packages' (did you mean 'recommends'?)");
        check_error("packages: {recommends: maybe}\n",
                    "smith.yaml:1:24: 'packages.recommends' must be true or false");
}

/* --- image defaults --- */

static json_t *json_parse(const char *s) {
        json_error_t e;
        json_t *j = json_loads(s, 0, &e);

        if (!j)
                fail_msg("bad test JSON: %s", e.text);
        return j;
}

static const char image_config[] =
        "{\"WorkingDir\":\"/srv\",\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],"
        "\"Env\":[\"PATH=/bin\",\"HOME=/root\"],\"ExposedPorts\":{\"8080/tcp\":{},\"22/tcp\":{}},"
        "\"Labels\":{\"z\":\"last\",\"a\":\"first\"},\"User\":\"ignored\"}";

static void test_image_defaults_fill(void **state) {
        _cleanup_(config_freep) struct smith_config *c = parse_ok("parent: base.tar.gz\n");
        _cleanup_(json_decrefp) json_t *j = json_parse(image_config);
        struct smith_error *err = NULL;

        assert_int_equal(config_apply_image_defaults(c, j, &err), 0);
        assert_null(err);
        assert_string_equal(c->dir, "/srv");
        check_strv(c->entrypoint, "/bin/sh", "-c", NULL);
        check_strv(c->cmd, "echo hi", NULL);
        check_strv(c->env, "PATH=/bin", "HOME=/root", NULL);
        check_strv(c->ports, "22/tcp", "8080/tcp", NULL);
        check_strv(c->label_keys, "a", "z", NULL);
        check_strv(c->label_values, "first", "last", NULL);
        assert_null(c->user);
}

static void test_image_defaults_keep(void **state) {
        _cleanup_(config_freep) struct smith_config *c =
                parse_ok("dir: /mine\ncmd: [mine]\nenv: [A=1]\nports: [1/udp]\nlabels: {mine: yes}\n");
        _cleanup_(json_decrefp) json_t *j = json_parse(image_config);
        struct smith_error *err = NULL;

        assert_int_equal(config_apply_image_defaults(c, j, &err), 0);
        assert_string_equal(c->dir, "/mine");
        /* Entrypoint was empty, so it comes from the image, next to our cmd. */
        check_strv(c->entrypoint, "/bin/sh", "-c", NULL);
        check_strv(c->cmd, "mine", NULL);
        check_strv(c->env, "A=1", NULL);
        check_strv(c->ports, "1/udp", NULL);
        check_strv(c->label_keys, "mine", NULL);
        check_strv(c->label_values, "yes", NULL);

        /* Nothing to apply. */
        assert_int_equal(config_apply_image_defaults(c, NULL, &err), 0);
        json_decref(j);
        j = json_null();
        assert_int_equal(config_apply_image_defaults(c, j, &err), 0);
        json_decref(j);
        j = json_parse("{\"Cmd\":null,\"Env\":[],\"Labels\":{}}");
        config_free(c);
        c = parse_ok("");
        assert_int_equal(config_apply_image_defaults(c, j, &err), 0);
        assert_null(err);
        assert_null(c->cmd);
        assert_null(c->env);
        assert_null(c->label_keys);
}

static void test_image_defaults_bad(void **state) {
        static const struct {
                const char *json, *msg;
        } cases[] = {
                { "{\"Cmd\":\"echo\"}", "image config: 'Cmd' must be a list of strings" },
                { "{\"Env\":[1]}", "image config: 'Env' must be a list of strings" },
                { "{\"WorkingDir\":[]}", "image config: 'WorkingDir' must be a string" },
                { "{\"ExposedPorts\":[\"80\"]}", "image config: 'ExposedPorts' must be an object" },
                { "{\"ExposedPorts\":{\"80\":1}}", "image config: 'ExposedPorts' must be an object of objects" },
                { "{\"Labels\":{\"a\":1}}", "image config: 'Labels' must be an object of strings" },
                { "[]", "image config: 'config' must be an object" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_freep) struct smith_config *c = parse_ok("");
                _cleanup_(json_decrefp) json_t *j = json_parse(cases[i].json);
                struct smith_error *err = NULL;

                /* WorkingDir comes first and is valid: c must still be left alone. */
                json_object_set_new(j, "WorkingDir", json_is_array(json_object_get(j, "WorkingDir"))
                                                             ? json_array()
                                                             : json_string("/srv"));
                assert_int_equal(config_apply_image_defaults(c, j, &err), -1);
                assert_non_null(err);
                assert_string_equal(err->msg, cases[i].msg);
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                assert_null(c->dir);
                error_free(err);
        }
}

/* --- env --- */

static void test_getenv(void **state) {
        _cleanup_(config_freep) struct smith_config *c =
                parse_ok("env: [PATH=/bin, HOME=/root, PATHX=no, PATH=/usr/bin, EMPTY=, NOEQ, A=b=c]\n");

        assert_string_equal(config_getenv(c, "PATH"), "/usr/bin");
        assert_string_equal(config_getenv(c, "HOME"), "/root");
        assert_string_equal(config_getenv(c, "EMPTY"), "");
        assert_string_equal(config_getenv(c, "A"), "b=c");
        assert_null(config_getenv(c, "NOEQ"));
        assert_null(config_getenv(c, "PAT"));
        assert_null(config_getenv(c, "MISSING"));
        assert_null(config_getenv(NULL, "PATH"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_readme_example),
                cmocka_unit_test(test_scalar_coercion),
                cmocka_unit_test(test_bools),
                cmocka_unit_test(test_nulls),
                cmocka_unit_test(test_empty_documents),
                cmocka_unit_test(test_ports),
                cmocka_unit_test(test_key_case),
                cmocka_unit_test(test_path_lines),
                cmocka_unit_test(test_aliases),
                cmocka_unit_test(test_error_unknown_key),
                cmocka_unit_test(test_error_types),
                cmocka_unit_test(test_error_bool),
                cmocka_unit_test(test_error_duplicate),
                cmocka_unit_test(test_error_top_level),
                cmocka_unit_test(test_error_syntax),
                cmocka_unit_test(test_error_bounds),
                cmocka_unit_test(test_error_recursive_alias),
                cmocka_unit_test(test_deep_nesting),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_spec_full),
                cmocka_unit_test(test_spec_empty),
                cmocka_unit_test(test_spec_escaping),
                cmocka_unit_test(test_spec_invalid_utf8),
                cmocka_unit_test(test_package_list),
                cmocka_unit_test(test_repos),
                cmocka_unit_test(test_repos_spec),
                cmocka_unit_test(test_repos_errors),
                cmocka_unit_test(test_packages),
                cmocka_unit_test(test_image_defaults_fill),
                cmocka_unit_test(test_image_defaults_keep),
                cmocka_unit_test(test_image_defaults_bad),
                cmocka_unit_test(test_getenv),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
