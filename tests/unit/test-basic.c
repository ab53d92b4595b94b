/* Unit tests for src/lib/basic: string vectors, errors, and containment
 * (chase, root_openat, root_mkdir_p) against hostile symlinks in a temp
 * root, with a sentinel directory beside it that must stay untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/path.h"
#include "basic/strv.h"

static char *top; /* temp dir holding root/ and outside/ */
static int root_fd = -1;

static void mk(const char *rel, const char *content) {
        char *p = path_join(top, rel);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        free(p);
}

static void ln(const char *target, const char *rel) {
        char *p = path_join(top, rel);
        assert_int_equal(symlink(target, p), 0);
        free(p);
}

static int setup(void **state) {
        char *outside;
        assert_int_equal(mkdtemp_in("/tmp", "smith-test-basic-", &top), 0);
        char *root = path_join(top, "root");
        assert_int_equal(mkdir(root, 0755), 0);
        outside = path_join(top, "outside");
        assert_int_equal(mkdir(outside, 0755), 0);
        mk("outside/sentinel", "keep");
        assert_int_equal(mkdir_p(root, 0755), 0);
        char *usr = path_join(root, "usr/lib");
        assert_int_equal(mkdir_p(usr, 0755), 0);
        mk("root/usr/lib/libc.so.6", "libc");
        ln("usr/lib", "root/lib");
        ln("libc.so.6", "root/usr/lib/libc.so");
        /* hostile links: absolute and relative ones pointing "outside" */
        char *abs_out = NULL;
        assert_true(asprintf(&abs_out, "%s", outside) > 0);
        ln(abs_out, "root/abs");
        ln("../../../../../../..", "root/up");
        ln("/etc/passwd", "root/passwd");
        ln("loop2", "root/loop1");
        ln("loop1", "root/loop2");
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        free(abs_out);
        free(usr);
        free(root);
        free(outside);
        return 0;
}

static int teardown(void **state) {
        /* the sentinel must be untouched and alone */
        char *p = path_join(top, "outside/sentinel");
        char *buf = NULL;
        assert_int_equal(read_file_at(AT_FDCWD, p, 100, &buf, NULL), 0);
        assert_string_equal(buf, "keep");
        free(buf);
        free(p);
        close(root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, top), 0);
        assert_int_equal(access(top, F_OK), -1);
        free(top);
        return 0;
}

static void test_strv(void **state) {
        char **l = strv_split("a::b:", ":", false);
        assert_int_equal(strv_length(l), 4);
        assert_string_equal(l[2], "b");
        assert_string_equal(l[3], "");
        char *j = strv_join(l, ",");
        assert_string_equal(j, "a,,b,");
        free(j);
        strv_free(l);
        l = strv_split("/usr//lib/", "/", true);
        assert_int_equal(strv_length(l), 2);
        assert_true(strv_contains(l, "lib"));
        strv_sort(l);
        assert_string_equal(l[0], "lib");
        strv_free(l);
}

static void test_error_wrap(void **state) {
        struct smith_error *e = NULL;
        assert_int_equal(error_set_errno(&e, SMITH_ERR_SOURCE, ENOSPC, "write '%s'", "usr/bin/cat"), -1);
        error_wrap(&e, "extract layer '%s'", "sha256:ab12");
        assert_string_equal(e->msg, "extract layer 'sha256:ab12': write 'usr/bin/cat': No space left on device");
        assert_int_equal(error_exit_code(e), 4);
        /* the first error is kept */
        error_set(&e, SMITH_ERR_IO, "second");
        assert_int_equal(e->kind, SMITH_ERR_SOURCE);
        error_free(e);
}

static void test_path_for_msg(void **state) {
        char buf[PATH_FOR_MSG_SIZE], big[4096], want[PATH_FOR_MSG_SIZE];
        const char *r;
        size_t n;

        assert_string_equal(path_for_msg(NULL, buf), "(none)");
        assert_string_equal(path_for_msg("", buf), "");
        assert_string_equal(path_for_msg("/usr/bin/cat", buf), "/usr/bin/cat");
        assert_string_equal(path_for_msg("a\nb\x7f\tc", buf), "a?b??c");

        /* exactly the limit: kept whole */
        memset(big, 'x', PATH_FOR_MSG_MAX);
        big[PATH_FOR_MSG_MAX] = '\0';
        assert_string_equal(path_for_msg(big, buf), big);

        /* a deep path: its head and its tail, "..." between, within the limit */
        n = 0;
        while (n + 2 < sizeof(big) - 16) {
                big[n++] = '/';
                big[n++] = 'd';
        }
        memcpy(big + n, "/the-file.so.1", 15);
        r = path_for_msg(big, buf);
        assert_ptr_equal(r, buf);
        assert_int_equal(strlen(r), PATH_FOR_MSG_MAX);
        assert_true(strneq(r, "/d/d/d/d", 8));
        assert_non_null(strstr(r, "..."));
        assert_string_equal(r + strlen(r) - 18, "/d/d/the-file.so.1");

        /* one byte over: the middle goes */
        memset(big, 'a', 60);
        memset(big + 60, 'b', 61);
        big[121] = '\0';
        memset(want, 'a', 58);
        memcpy(want + 58, "...", 3);
        memset(want + 61, 'b', 59);
        want[120] = '\0';
        assert_string_equal(path_for_msg(big, buf), want);

        /* never a UTF-8 character cut in two, and control characters in the
         * kept parts replaced */
        n = 0;
        big[n++] = '\x01';
        while (n + 2 < 300) {
                memcpy(big + n, "\xc3\xa9", 2); /* é */
                n += 2;
        }
        big[n] = '\0';
        r = path_for_msg(big, buf);
        assert_true(strlen(r) <= PATH_FOR_MSG_MAX);
        assert_int_equal(r[0], '?');
        {
                const char *dots = strstr(r, "...");
                assert_non_null(dots);
                /* before the dots the last byte ends a character; after them
                 * the first byte starts one */
                assert_int_equal((unsigned char) dots[-1], 0xa9);
                assert_int_equal((unsigned char) dots[3], 0xc3);
                assert_int_equal((unsigned char) r[strlen(r) - 1], 0xa9);
        }

        /* the macro form, twice in one argument list */
        _cleanup_free_ char *two = NULL;
        assert_true(asprintf(&two, "'%s' -> '%s'", PATH_FOR_MSG("/a"), PATH_FOR_MSG(big)) > 0);
        assert_true(strneq(two, "'/a' -> '?", 10));
        assert_true(strlen(two) <= PATH_FOR_MSG_MAX + 12);
}

static void test_digest(void **state) {
        char d[DIGEST_STR_LEN + 1];
        sha256_digest_of("abc", 3, d);
        assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_true(digest_is_valid(d));
        assert_false(digest_is_valid("sha256:../../etc/passwd"));
        assert_false(digest_is_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
        assert_false(digest_is_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

struct links {
        char **seen;
};

static int on_link(void *userdata, const char *link, const char *target) {
        struct links *l = userdata;
        char *s = NULL;
        assert_true(asprintf(&s, "%s->%s", link, target) > 0);
        strv_consume(&l->seen, s);
        return 0;
}

static void test_chase_records_links(void **state) {
        struct links l = {};
        char *path = NULL, *name = NULL;
        int dfd = -1;
        assert_int_equal(chase(root_fd, "/lib/libc.so", 0, on_link, &l, &path, &dfd, &name), 0);
        assert_string_equal(path, "/usr/lib/libc.so.6");
        assert_string_equal(name, "libc.so.6");
        assert_int_equal(strv_length(l.seen), 2);
        assert_string_equal(l.seen[0], "/lib->usr/lib");
        assert_string_equal(l.seen[1], "/usr/lib/libc.so->libc.so.6");
        close(dfd);
        free(path);
        free(name);
        strv_free(l.seen);
}

static void test_chase_contained(void **state) {
        char *path = NULL;
        /* ".." above the root stays at the root */
        assert_int_equal(chase(root_fd, "/../../usr/lib/libc.so.6", 0, NULL, NULL, &path, NULL, NULL), 0);
        assert_string_equal(path, "/usr/lib/libc.so.6");
        free(path);
        /* a relative link climbing out lands at the root */
        assert_int_equal(chase(root_fd, "/up/usr/lib/libc.so.6", 0, NULL, NULL, &path, NULL, NULL), 0);
        assert_string_equal(path, "/usr/lib/libc.so.6");
        free(path);
        /* an absolute link is resolved inside the root: the outside dir is not there */
        assert_int_equal(chase(root_fd, "/abs/sentinel", 0, NULL, NULL, &path, NULL, NULL), -ENOENT);
        assert_int_equal(chase(root_fd, "/passwd", 0, NULL, NULL, &path, NULL, NULL), -ENOENT);
        assert_int_equal(chase(root_fd, "/loop1", 0, NULL, NULL, &path, NULL, NULL), -ELOOP);
        /* NOFOLLOW_LAST gives the link itself */
        assert_int_equal(chase(root_fd, "/abs", CHASE_NOFOLLOW_LAST, NULL, NULL, &path, NULL, NULL), 0);
        assert_string_equal(path, "/abs");
        free(path);
        /* NONEXIST_OK on a missing last component */
        assert_int_equal(chase(root_fd, "/lib/newfile", CHASE_NONEXIST_OK, NULL, NULL, &path, NULL, NULL), 1);
        assert_string_equal(path, "/usr/lib/newfile");
        free(path);
}

static void test_root_openat_contained(void **state) {
        int fd = root_openat(root_fd, "/abs/sentinel", O_RDONLY, 0);
        assert_int_equal(fd, -ENOENT);
        /* creating through an absolute link lands inside the root */
        fd = root_openat(root_fd, "/abs", O_PATH | O_NOFOLLOW, 0);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(root_mkdir_p(root_fd, "/abs/sub", 0755), 0);
        char *in = path_join(top, "root");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/%s/outside/sub", in, top) > 0);
        struct stat st;
        assert_int_equal(stat(p, &st), 0); /* root/<top>/outside/sub */
        assert_true(S_ISDIR(st.st_mode));
        free(p);
        p = path_join(top, "outside/sub");
        assert_int_equal(stat(p, &st), -1); /* not the real outside */
        free(p);
        free(in);
        fd = root_openat(root_fd, "/up/created", O_WRONLY | O_CREAT | O_EXCL, 0644);
        assert_true(fd >= 0);
        close(fd);
        p = path_join(top, "root/created");
        assert_int_equal(stat(p, &st), 0);
        free(p);
}

static void test_paths(void **state) {
        char *p = path_join("/a/", "/b");
        assert_string_equal(p, "/a/b");
        free(p);
        assert_true(path_is_safe_relative("blobs/sha256/x"));
        assert_false(path_is_safe_relative("blobs/../../x"));
        assert_false(path_is_safe_relative("/etc"));
        assert_false(path_is_safe_relative(""));
        /* repository locations: relative to the repository, never a URL of their own */
        assert_true(path_is_safe_location("pool/main/h/hello/hello_2.10-3_amd64.deb"));
        assert_true(path_is_safe_location("Packages/h/hello-2.12-1.fc39.x86_64.rpm"));
        assert_true(path_is_safe_location("pool/e/epoch/epoch_1:2.0_all.deb"));
        assert_false(path_is_safe_location("http://other.example/x.deb"));
        assert_false(path_is_safe_location("https:/x.deb"));
        assert_false(path_is_safe_location("file:x.rpm"));
        assert_false(path_is_safe_location("pool//x.deb"));
        assert_false(path_is_safe_location("/pool/x.deb"));
        assert_false(path_is_safe_location("pool/x.deb?y"));
}

static void test_atomic_write(void **state) {
        int dfd = open(top, O_RDONLY | O_DIRECTORY);
        char *buf = NULL;
        assert_int_equal(write_file_atomic_at(dfd, "out", "hello", 5, 0644), 0);
        assert_int_equal(read_file_at(dfd, "out", 100, &buf, NULL), 0);
        assert_string_equal(buf, "hello");
        free(buf);
        assert_int_equal(read_file_at(dfd, "out", 2, &buf, NULL), -EFBIG);
        unlinkat(dfd, "out", 0);
        close(dfd);
}

static void test_path_normalize(void **state) {
        static const char *const cases[][3] = {
                /* in, relative, absolute */
                { "/usr//bin/./cat", "usr/bin/cat", "/usr/bin/cat" },
                { "a/b/../c/", "a/c", "/a/c" },
                { "../../x", "x", "/x" },
                { "/", "", "/" },
                { "", "", "/" },
                { "./", "", "/" },
        };
        char *r;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *rel = path_normalized(cases[i][0], 0);
                _cleanup_free_ char *abs = path_normalized(cases[i][0], PATH_ABSOLUTE);
                assert_string_equal(rel, cases[i][1]);
                assert_string_equal(abs, cases[i][2]);
        }
        assert_int_equal(path_normalize("a/../b", PATH_DOTDOT_REFUSE, &r), -EXDEV);
        assert_int_equal(path_normalize("./a/./b", PATH_DOTDOT_REFUSE, &r), 0);
        assert_string_equal(r, "a/b");
        free(r);
        {
                char longname[PATH_NAME_MAX + 2];
                memset(longname, 'x', sizeof(longname) - 1);
                longname[sizeof(longname) - 1] = '\0';
                assert_int_equal(path_normalize(longname, PATH_CHECK_LENGTH, &r), -ENAMETOOLONG);
                assert_int_equal(path_normalize(longname, 0, &r), 0);
                free(r);
        }
}

static void test_buf(void **state) {
        _cleanup_buf_ struct buf b = BUF_INIT(8);
        char *s;
        size_t len;
        int p[2];

        (void) state;
        s = buf_steal(&b, &len); /* nothing appended: an empty string */
        assert_non_null(s);
        assert_string_equal(s, "");
        assert_int_equal(len, 0);
        free(s);
        b.max = 8;
        assert_int_equal(buf_append_str(&b, "hello"), 0);
        assert_int_equal(buf_append_str(&b, "wor"), 0);
        assert_int_equal(b.len, 8);
        assert_int_equal(buf_append(&b, "x", 1), -EFBIG); /* past max: unchanged */
        assert_string_equal(b.data, "hellowor");
        buf_release(&b);

        /* reading an fd: exactly max fits, one more byte is too big */
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write_full(p[1], "12345678", 8), 0);
        close(p[1]);
        b = BUF_INIT(8);
        assert_int_equal(buf_read_fd(&b, p[0]), 0);
        close(p[0]);
        assert_string_equal(b.data, "12345678");
        buf_release(&b);
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write_full(p[1], "123456789", 9), 0);
        close(p[1]);
        b = BUF_INIT(8);
        assert_int_equal(buf_read_fd(&b, p[0]), -EFBIG);
        close(p[0]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_error_wrap),
                cmocka_unit_test(test_path_for_msg),
                cmocka_unit_test(test_digest),
                cmocka_unit_test(test_chase_records_links),
                cmocka_unit_test(test_chase_contained),
                cmocka_unit_test(test_root_openat_contained),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_buf),
                cmocka_unit_test(test_path_normalize),
        };
        int r = cmocka_run_group_tests_name("basic", tests, setup, teardown);
        if (r != 0)
                return r;
        /* again with the chase() fallback of root_openat */
        setenv("SMITH_NO_OPENAT2", "1", 1);
        const struct CMUnitTest again[] = {
                cmocka_unit_test(test_root_openat_contained),
        };
        return cmocka_run_group_tests_name("basic-no-openat2", again, setup, teardown);
}
