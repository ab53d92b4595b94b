/* Unit tests for src/lib/users: user parsing and the generated passwd,
 * group and nsswitch.conf, byte for byte as the original smith wrote them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "users/nss.h"

static void test_parse_user(void **state) {
        struct nss_user u;
        assert_int_equal(nss_parse_user(NULL, &u), 0);
        assert_int_equal(u.uid, 10);
        assert_int_equal(u.gid, 10);
        assert_string_equal(u.user, "smith");
        assert_string_equal(u.group, "smith");
        assert_false(u.named);
        nss_user_release(&u);

        assert_int_equal(nss_parse_user("nginx:www", &u), 0);
        assert_int_equal(u.uid, 10);
        assert_string_equal(u.user, "nginx");
        assert_string_equal(u.group, "www");
        assert_true(u.named);
        nss_user_release(&u);

        assert_int_equal(nss_parse_user("1000:2", &u), 0);
        assert_int_equal(u.uid, 1000);
        assert_int_equal(u.gid, 2);
        assert_string_equal(u.user, "smith");
        assert_string_equal(u.group, "bin");
        assert_false(u.named);
        nss_user_release(&u);

        assert_int_equal(nss_parse_user("daemon", &u), 0);
        assert_int_equal(u.uid, 1);
        assert_int_equal(u.gid, 10);
        assert_true(u.named);
        nss_user_release(&u);
}

static void test_no_files(void **state) {
        struct nss_files f;
        assert_int_equal(nss_generate("10:10", NULL, false, &f), 0);
        assert_null(f.passwd);
        assert_int_equal(nss_generate(NULL, NULL, false, &f), 0);
        assert_null(f.passwd);
}

static void test_default(void **state) {
        struct nss_files f;
        assert_int_equal(nss_generate(NULL, NULL, true, &f), 0);
        assert_string_equal(f.passwd, "root:x:0:0:root:/write:\n"
                                      "daemon:x:1:1:daemon:/write:\n"
                                      "bin:x:2:2:bin:/write:\n"
                                      "sys:x:3:3:sys:/write:\n"
                                      "smith:x:10:10:smith:/write");
        assert_string_equal(f.group, "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\nsmith:x:10:");
        assert_string_equal(f.nsswitch, "passwd:     files\nshadow:     files\ngroup:      files\nhosts:      files dns");
        nss_files_release(&f);
}

static void test_named_and_groups(void **state) {
        struct nss_files f;
        char *groups[] = { (char *) "adm", (char *) "web", (char *) "db", NULL };
        assert_int_equal(nss_generate("nginx:www", groups, false, &f), 0);
        assert_string_equal(f.passwd, "root:x:0:0:root:/write:\n"
                                      "daemon:x:1:1:daemon:/write:\n"
                                      "bin:x:2:2:bin:/write:\n"
                                      "sys:x:3:3:sys:/write:\n"
                                      "nginx:x:10:10:nginx:/write");
        /* adm is a default group: skipped; the others numbered after gid 10 */
        assert_string_equal(f.group, "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\n"
                                     "www:x:10:\nweb:x:11:nginx\ndb:x:12:nginx");
        nss_files_release(&f);
}

static void test_numeric_uid_used_twice(void **state) {
        struct nss_files f;
        assert_int_equal(nss_generate("1000:20", NULL, true, &f), 0);
        /* the original wrote the uid in both id fields */
        assert_string_equal(f.passwd + strlen(f.passwd) - strlen("smith:x:1000:1000:smith:/write"),
                            "smith:x:1000:1000:smith:/write");
        nss_files_release(&f);
        assert_int_equal(nss_generate("root", NULL, false, &f), 0);
        assert_string_equal(f.passwd, "root:x:0:0:root:/write:\ndaemon:x:1:1:daemon:/write:\n"
                                      "bin:x:2:2:bin:/write:\nsys:x:3:3:sys:/write:");
        nss_files_release(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_user),
                cmocka_unit_test(test_no_files),
                cmocka_unit_test(test_default),
                cmocka_unit_test(test_named_and_groups),
                cmocka_unit_test(test_numeric_uid_used_twice),
        };
        return cmocka_run_group_tests_name("nss", tests, NULL, NULL);
}
