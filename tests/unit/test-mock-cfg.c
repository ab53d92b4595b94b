/* Unit tests for the mock configuration reader (config/mock-cfg.h): the
 * string quotings and escapes, += and adjacent literals, skipped
 * statements, {{ }} rendering, the line map, include() from a temp dir
 * (relative to the including file, then to the include directory, cycles,
 * depth) and the exact error messages. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "config/mock-cfg.h"

static void parse_ok(const char *text, struct mock_cfg *c) {
        struct smith_error *err = NULL;
        if (mock_cfg_parse("t.cfg", text, strlen(text), false, c, &err) < 0)
                fail_msg("unexpected error: %s", err ? err->msg : "(none)");
}

static void parse_fails_n(const char *text, size_t len, const char *msg) {
        struct smith_error *err = NULL;
        struct mock_cfg c = {};
        assert_int_equal(mock_cfg_parse("t.cfg", text, len, false, &c, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        assert_string_equal(err->msg, msg);
        error_free(err);
}

static void parse_fails(const char *text, const char *msg) {
        parse_fails_n(text, strlen(text), msg);
}

static void test_strings(void **state) {
        struct mock_cfg c = {};
        (void) state;
        parse_ok("config_opts['releasever'] = \"4\" '2'  # joined\n"
                 "config_opts[\"target_arch\"]='aarch64'; config_opts['x'] = 1\n"
                 "config_opts['dnf.conf'] = r'''[a]\\n\n"
                 "baseurl=x'''\n"
                 "config_opts['dnf.conf'] += \"\\n[b]\\tq\\\\ \\\"\"\n",
                 &c);
        assert_string_equal(c.releasever, "42");
        assert_string_equal(c.target_arch, "aarch64");
        assert_string_equal(c.repos, "[a]\\n\nbaseurl=x\n[b]\tq\\ \"");
        assert_int_equal(c.n_lines, 3);
        assert_int_equal(c.line_no[0], 3);
        assert_int_equal(c.line_no[1], 4);
        assert_int_equal(c.line_no[2], 5);
        assert_string_equal(c.files[c.line_file[0]], "t.cfg");
        mock_cfg_release(&c);
}

static void test_skipped_and_rendered(void **state) {
        struct mock_cfg c = {};
        (void) state;
        parse_ok("import os\n"
                 "config_opts['list'] = [ 'a',\n"
                 "   \"\"\"b\n"
                 "config_opts['dnf.conf'] = 'not me'\"\"\", ]\n"
                 "config_opts['plugin_conf']['x'] = '''\n"
                 "config_opts['releasever'] = 'nope'\n"
                 "'''\n"
                 "if config_opts['target_arch'] == 'x86_64':\n"
                 "    config_opts['legacy_target_arch'] = 'i686'\n"
                 "config_opts['mirrored'] = config_opts['target_arch'] != 'i686'\n"
                 "x = a or'([' and r'\\d' # ) \\\n"
                 "   + \"]\"\n"
                 "config_opts['name'] = 'F{{ releasever }}'\n"
                 "config_opts['releasever'] = '{{ major }}'\n"
                 "config_opts['major'] = '9'\n"
                 "config_opts['yum.conf'] = '[y]\\nname={{name}} {{ nothing }} {{ releasever }}{{'\n",
                 &c);
        assert_string_equal(c.releasever, "9");
        assert_string_equal(c.target_arch, "i686");
        /* one level of rendering, as the values stand at the end */
        assert_string_equal(c.repos, "[y]\nname=F{{ releasever }} {{ nothing }} {{ major }}{{");
        assert_int_equal(c.n_lines, 2);
        assert_int_equal(c.line_no[1], 16);
        mock_cfg_release(&c);

        /* nothing kept: no repository text */
        parse_ok("# only comments\n\n", &c);
        assert_null(c.repos);
        assert_null(c.releasever);
        mock_cfg_release(&c);
}

static void test_errors(void **state) {
        (void) state;
        parse_fails("\n\nconfig_opts['a'] = 'x\n", "t.cfg:3: unterminated string");
        parse_fails("config_opts['dnf.conf'] = \"\"\"\n[a]\n", "t.cfg:1: unterminated string");
        parse_fails("x = (1,\n2\n", "t.cfg:1: bracket not closed");
        parse_fails("x = 1)\n", "t.cfg:1: unbalanced ')'");
        parse_fails("\nconfig_opts['releasever'] = 9\n",
                    "t.cfg:2: config_opts['releasever']: only string literals are understood");
        parse_fails("config_opts['dnf.conf'] = 'a' + x\n",
                    "t.cfg:1: config_opts['dnf.conf']: only string literals are understood");
        parse_fails("include(path)\n", "t.cfg:1: include() takes one string literal");
        parse_fails("include('a', 'b')\n", "t.cfg:1: include() takes one string literal");
        parse_fails_n("a\0b", 3, "t.cfg: holds a NUL byte");
}

static void write_at(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_include(void **state) {
        char tmp[] = "/tmp/test-mock-cfg.XXXXXX";
        _cleanup_free_ char *top = NULL, *sub = NULL, *etc = NULL, *msg = NULL;
        struct smith_error *err = NULL;
        struct mock_cfg c = {};
        (void) state;

        assert_non_null(mkdtemp(tmp));
        sub = path_join(tmp, "templates");
        etc = path_join(tmp, "etc");
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(mkdir(etc, 0755), 0);
        top = path_join(tmp, "top.cfg");
        write_at(tmp, "top.cfg",
                 "config_opts['releasever'] = '8'\ninclude('templates/a.tpl')\nconfig_opts['dnf.conf'] += 'z=1\\n'\n");
        write_at(sub, "a.tpl", "\ninclude('b.tpl')\nconfig_opts['dnf.conf'] = '''[a]\nbaseurl=u\n'''\n");
        /* not beside a.tpl: found in the include directory */
        write_at(etc, "b.tpl", "config_opts['target_arch'] = 's390x'\n");
        assert_int_equal(mock_cfg_load(top, etc, &c, &err), 0);
        assert_string_equal(c.releasever, "8");
        assert_string_equal(c.target_arch, "s390x");
        assert_string_equal(c.repos, "[a]\nbaseurl=u\nz=1\n");
        assert_int_equal(c.n_lines, 3);
        assert_true(strstr(c.files[c.line_file[0]], "templates/a.tpl") != NULL);
        assert_int_equal(c.line_no[0], 3);
        assert_int_equal(c.line_no[1], 4);
        assert_string_equal(c.files[c.line_file[2]], top);
        assert_int_equal(c.line_no[2], 3);
        mock_cfg_release(&c);

        /* a cycle */
        write_at(etc, "b.tpl", "include('../top.cfg')\n");
        assert_int_equal(mock_cfg_load(top, etc, &c, &err), -1);
        assert_non_null(asprintf(&msg,
                                 "%s:2: include: %s/templates/a.tpl:2: include: %s/etc/b.tpl:1: include: mock "
                                 "config '%s/etc/../top.cfg' includes itself",
                                 top, tmp, tmp, tmp) > 0
                                ? msg
                                : NULL);
        assert_string_equal(err->msg, msg);
        error_free(err);
        err = NULL;

        /* too deep: a chain of distinct files */
        for (int i = 0; i <= MOCK_CFG_MAX_DEPTH; i++) {
                char name[32], text[64];
                snprintf(name, sizeof(name), "d%d.cfg", i);
                snprintf(text, sizeof(text), "include('d%d.cfg')\n", i + 1);
                write_at(tmp, name, text);
        }
        _cleanup_free_ char *d0 = path_join(tmp, "d0.cfg");
        assert_int_equal(mock_cfg_load(d0, NULL, &c, &err), -1);
        assert_non_null(strstr(err->msg, "includes nested deeper than 16"));
        error_free(err);
        assert_int_equal(rm_rf_at(AT_FDCWD, tmp), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_skipped_and_rendered),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_include),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
