/* Unit tests for the package-repository protocols (src/lib/pkg): the apt
 * sources parsers (one-line and deb822, and the host's directory layout),
 * Release files, the clearsign and armor helpers, the solver on a small
 * Packages text built in memory, and the unpacker's package flags
 * (UNPACK_NO_WHITEOUTS, UNPACK_KEEP_DIR_SYMLINKS, UNPACK_LIST_PATHS). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "layer-fixtures.h"
#include "layer/unpack.h"
#include "pkg/apt-release.h"
#include "pkg/apt-repo.h"
#include "pkg/apt-sources.h"
#include "pkg/apt-verify.h"
#include "pkg/deb.h"
#include "pkg/index-read.h"
#include "pkg/os-release.h"
#include "pkg/path-index.h"
#include "pkg/rpm-repo.h"
#include "pkg/solve.h"
#include "test-util.h"

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
        if (l)
                assert_null(l[i]);
}

static void sources_error(const char *text, bool deb822, const char *expected) {
        struct apt_sources s = {};
        struct smith_error *err = NULL;
        int r = deb822 ? apt_sources_parse_deb822("x.sources", text, strlen(text), &s, &err)
                       : apt_sources_parse_list("x.list", text, strlen(text), &s, &err);

        assert_int_equal(r, -1);
        assert_non_null(err);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        error_free(err);
        apt_sources_release(&s);
}

/* --- sources --- */

static void test_sources_list(void **state) {
        static const char text[] = "# a comment\n"
                                   "\n"
                                   "deb http://deb.debian.org/debian/ bookworm main contrib # trailing\n"
                                   "deb-src http://deb.debian.org/debian bookworm main\n"
                                   "deb [ signed-by=/k1.gpg,/k2.asc arch=amd64,arm64 trusted=yes lang=none ] "
                                   "https://h.example/d stable main\n"
                                   "deb [trusted=no] file:///srv/repo ./\n"
                                   "deb http://[::1]:8080/d s main\n";
        struct apt_sources s = {};
        struct smith_error *err = NULL;

        assert_int_equal(apt_sources_parse_list("x.list", text, strlen(text), &s, &err), 0);
        assert_null(err);
        assert_int_equal(s.n, 4);
        assert_string_equal(s.items[0].uri, "http://deb.debian.org/debian");
        assert_string_equal(s.items[0].suite, "bookworm");
        check_strv(s.items[0].components, "main", "contrib", NULL);
        assert_null(s.items[0].signed_by);
        assert_false(s.items[0].trusted);
        assert_string_equal(s.items[0].where, "x.list:3");
        check_strv(s.items[1].signed_by, "/k1.gpg", "/k2.asc", NULL);
        check_strv(s.items[1].archs, "amd64", "arm64", NULL);
        assert_true(s.items[1].trusted);
        assert_true(apt_source_has_arch(&s.items[1], "arm64"));
        assert_false(apt_source_has_arch(&s.items[1], "riscv64"));
        assert_true(apt_source_has_arch(&s.items[0], "riscv64"));
        assert_string_equal(s.items[2].suite, "./");
        assert_null(s.items[2].components);
        assert_string_equal(s.items[3].uri, "http://[::1]:8080/d");
        {
                _cleanup_free_ char *n = apt_source_name(&s.items[1]);
                assert_string_equal(n, "https://h.example/d stable");
        }
        apt_sources_release(&s);
}

static void test_sources_list_errors(void **state) {
        sources_error("deb http://h/ s\n", false, "x.list:1: suite 's' without components");
        sources_error("\ndeb http://h/\n", false, "x.list:2: expected 'deb URI suite [components...]'");
        sources_error("rpm http://h/ s main\n", false, "x.list:1: unknown type 'rpm' (deb, deb-src)");
        sources_error("deb ftp://h/ s main\n", false,
                      "x.list:1: URI 'ftp://h/': only http, https and file are supported");
        sources_error("deb [trusted=perhaps] http://h/ s main\n", false, "x.list:1: trusted='perhaps' (yes or no)");
        sources_error("deb [signed-by=k.gpg] http://h/ s main\n", false,
                      "x.list:1: Signed-By 'k.gpg': only absolute keyring paths are supported");
        sources_error("deb [arch=amd64 http://h/ s main\n", false, "x.list:1: '[' without ']'");
        sources_error("deb http://h/ ../s main\n", false, "x.list:1: invalid suite '../s'");
        sources_error("deb http://h/ s ../main\n", false, "x.list:1: invalid component '../main'");
        sources_error("deb http://h/ ./ main\n", false, "x.list:1: a flat repository ('./') takes no components");
}

static void test_sources_deb822(void **state) {
        static const char text[] = "Types: deb deb-src\n"
                                   "URIs: http://a.example/debian http://b.example/debian\n"
                                   "Suites: bookworm bookworm-updates\n"
                                   "Components: main\n"
                                   "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
                                   "\n"
                                   "# disabled\n"
                                   "Types: deb\n"
                                   "URIs: http://c.example/\n"
                                   "Suites: x\n"
                                   "Components: main\n"
                                   "Enabled: no\n"
                                   "\n"
                                   "Types: deb-src\n"
                                   "URIs: http://d.example/\n"
                                   "Suites: x\n"
                                   "Components: main\n"
                                   "\n"
                                   "Types: deb\n"
                                   "URIs: http://e.example/\n"
                                   "Suites: y\n"
                                   "Components: main non-free\n"
                                   "Architectures: arm64\n"
                                   "Trusted: yes\n"
                                   "Signed-By:\n"
                                   " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
                                   " .\n"
                                   " mDMEZ\n"
                                   " -----END PGP PUBLIC KEY BLOCK-----\n";
        struct apt_sources s = {};
        struct smith_error *err = NULL;

        assert_int_equal(apt_sources_parse_deb822("x.sources", text, strlen(text), &s, &err), 0);
        assert_null(err);
        assert_int_equal(s.n, 5);
        assert_string_equal(s.items[0].uri, "http://a.example/debian");
        assert_string_equal(s.items[0].suite, "bookworm");
        assert_string_equal(s.items[1].uri, "http://a.example/debian");
        assert_string_equal(s.items[1].suite, "bookworm-updates");
        assert_string_equal(s.items[2].uri, "http://b.example/debian");
        assert_string_equal(s.items[3].suite, "bookworm-updates");
        check_strv(s.items[3].signed_by, "/usr/share/keyrings/debian-archive-keyring.gpg", NULL);
        assert_string_equal(s.items[0].where, "x.sources:1");
        assert_string_equal(s.items[4].uri, "http://e.example");
        check_strv(s.items[4].components, "main", "non-free", NULL);
        check_strv(s.items[4].archs, "arm64", NULL);
        assert_true(s.items[4].trusted);
        assert_null(s.items[4].signed_by);
        assert_non_null(s.items[4].signed_by_key);
        assert_non_null(strstr(s.items[4].signed_by_key, "\n\nmDMEZ\n"));
        assert_string_equal(s.items[4].where, "x.sources:19");
        apt_sources_release(&s);
}

static void test_sources_deb822_errors(void **state) {
        sources_error("Types: deb\nURIs: http://h/\nComponents: main\n", true, "x.sources:1: no Suites");
        sources_error("Types: deb\nSuites: s\n", true, "x.sources:1: no URIs");
        sources_error("URIs: http://h/\nSuites: s\n", true, "x.sources:1: no Types");
        sources_error("Types: deb rpm\nURIs: http://h/\nSuites: s\n", true,
                      "x.sources:1: unknown type 'rpm' (deb, deb-src)");
        sources_error("Types: deb\n\nnot a field\n", true, "x.sources:3: not a 'Key: value' line");
        sources_error(" continued\n", true, "x.sources:1: not a 'Key: value' line");
        sources_error("Types: deb\nURIs: http://h/\nSuites: s\nComponents: main\nEnabled: maybe\n", true,
                      "x.sources:1: Enabled: 'maybe' (yes or no)");
}

static void test_sources_host(void **state) {
        _cleanup_free_ char *d = test_tmp_dir("smith-apt-");
        _cleanup_free_ char *cmd = fmt("mkdir -p %s/sources.list.d && "
                                       "printf 'deb http://one/ a main\\n' >%s/sources.list && "
                                       "printf 'Types: deb\\nURIs: http://three/\\nSuites: c\\nComponents: main\\n' "
                                       ">%s/sources.list.d/b.sources && "
                                       "printf 'deb http://two/ b main\\n' >%s/sources.list.d/a.list && "
                                       "printf 'deb http://ignored/ b main\\n' >%s/sources.list.d/c.list.save && "
                                       "printf 'deb http://ignored/ b main\\n' >'%s/sources.list.d/bad name.list'",
                                       d, d, d, d, d, d);
        _cleanup_free_ char *rm = fmt("rm -rf %s", d);
        struct apt_sources s = {};
        struct smith_error *err = NULL;

        assert_int_equal(run(cmd), 0);
        assert_int_equal(apt_sources_load_host(d, &s, &err), 0);
        assert_null(err);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.items[0].uri, "http://one");
        assert_string_equal(s.items[1].uri, "http://two");
        assert_string_equal(s.items[2].uri, "http://three");
        apt_sources_release(&s);
        run(rm);
        /* nothing configured: no sources, no error */
        assert_int_equal(apt_sources_load_host("/nonexistent", &s, &err), 0);
        assert_int_equal(s.n, 0);
}

static void test_host_arch(void **state) {
#if defined(__x86_64__)
        assert_string_equal(apt_host_arch(), "amd64");
#elif defined(__aarch64__)
        assert_string_equal(apt_host_arch(), "arm64");
#endif
        assert_non_null(apt_host_arch());
}

/* --- Release --- */

static const char release_text[] =
        "Origin: Debian\n"
        "Label: Debian\n"
        "Suite: stable\n"
        "Codename: bookworm\n"
        "Date: Sat, 10 Jun 2023 08:58:02 UTC\n"
        "Valid-Until: Sat, 17 Jun 2023 08:58:02 +0200\n"
        "Acquire-By-Hash: yes\n"
        "Architectures: all amd64 arm64\n"
        "Components: main contrib\n"
        "MD5Sum:\n"
        " 0123456789abcdef0123456789abcdef 1 main/binary-amd64/Packages\n"
        "SHA256:\n"
        " 9ab5a2bbf8f3ef7fe0e3a5c2c1b0f0e0a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4  123456 main/binary-amd64/Packages.xz\n"
        " 1AB5A2BBF8F3EF7FE0E3A5C2C1B0F0E0A9D8C7B6A5F4E3D2C1B0A9F8E7D6C5B4 99999999 main/binary-amd64/Packages\n"
        " 2ab5a2bbf8f3ef7fe0e3a5c2c1b0f0e0a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4 0 contrib/i18n/Translation-en\n";

static void test_release(void **state) {
        struct apt_release r = {};
        struct smith_error *err = NULL;
        const struct apt_release_file *f;

        assert_int_equal(apt_release_parse(release_text, strlen(release_text), &r, &err), 0);
        assert_null(err);
        assert_string_equal(r.origin, "Debian");
        assert_string_equal(r.suite, "stable");
        assert_string_equal(r.codename, "bookworm");
        assert_int_equal(r.date, 1686387482);
        assert_int_equal(r.valid_until, 1686387482 + 7 * 86400 - 2 * 3600);
        assert_true(r.acquire_by_hash);
        check_strv(r.archs, "all", "amd64", "arm64", NULL);
        check_strv(r.components, "main", "contrib", NULL);
        assert_int_equal(r.n_files, 3);
        f = apt_release_find(&r, "main/binary-amd64/Packages.xz");
        assert_non_null(f);
        assert_int_equal(f->size, 123456);
        assert_string_equal(f->sha256, "9ab5a2bbf8f3ef7fe0e3a5c2c1b0f0e0a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4");
        f = apt_release_find(&r, "main/binary-amd64/Packages");
        assert_non_null(f);
        assert_string_equal(f->sha256, "1ab5a2bbf8f3ef7fe0e3a5c2c1b0f0e0a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4");
        assert_null(apt_release_find(&r, "main/binary-arm64/Packages"));
        apt_release_release(&r);
}

static void release_error(const char *text, const char *expected) {
        struct apt_release r = {};
        struct smith_error *err = NULL;

        assert_int_equal(apt_release_parse(text, strlen(text), &r, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        error_free(err);
}

static void test_release_errors(void **state) {
        static const char h[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        _cleanup_free_ char *dup = fmt("SHA256:\n %s 1 a\n %s 2 a\n", h, h);
        _cleanup_free_ char *neg = fmt("SHA256:\n %s -1 a\n", h);
        _cleanup_free_ char *extra = fmt("SHA256:\n %s 1 a b\n", h);

        release_error("Origin: x\n", "Release: no SHA256 checksums");
        release_error("", "Release: empty");
        release_error("SHA256:\n zz 1 a\n", "Release: malformed SHA256 line 2");
        release_error(neg, "Release: malformed SHA256 line 2");
        release_error(extra, "Release: malformed SHA256 line 2");
        release_error(dup, "Release: 'a' is listed twice");
        release_error("Date: yesterday\nSHA256:\n", "Release: invalid Date 'yesterday'");
        release_error("Origin: x\n\nOrigin: y\n", "Release: malformed line 3");
        release_error("Origin x\n", "Release: malformed line 1");
}

static void test_release_date(void **state) {
        time_t t;
        assert_int_equal(apt_release_parse_date("Thu, 01 Jan 1970 00:00:00 UTC", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(apt_release_parse_date("02 Jan 1970 00:00:00 -0100", &t), 0);
        assert_int_equal(t, 86400 + 3600);
        assert_int_equal(apt_release_parse_date("Thu, 01 Foo 1970 00:00:00 UTC", &t), -EINVAL);
        assert_int_equal(apt_release_parse_date("Thu, 01 Jan 1970 00:00:00 CEST", &t), -EINVAL);
        assert_int_equal(apt_release_parse_date("", &t), -EINVAL);
}

static void test_age(void **state) {
        char b[64];
        apt_format_age(0, b, sizeof(b));
        assert_string_equal(b, "0 seconds ago");
        apt_format_age(1, b, sizeof(b));
        assert_string_equal(b, "1 second ago");
        apt_format_age(3 * 3600 + 59, b, sizeof(b));
        assert_string_equal(b, "3 hours ago");
        apt_format_age(86400, b, sizeof(b));
        assert_string_equal(b, "1 day ago");
}

/* --- clearsigned text, armor --- */

static void test_clearsigned(void **state) {
        static const char msg[] = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                                  "Hash: SHA256\n"
                                  "\n"
                                  "Origin: x\r\n"
                                  "- -----dashed\n"
                                  "SHA256:\n"
                                  "-----BEGIN PGP SIGNATURE-----\n"
                                  "\n"
                                  "abc\n"
                                  "-----END PGP SIGNATURE-----\n";
        _cleanup_free_ char *t = NULL, *plain = NULL;
        size_t n = 0;

        assert_int_equal(apt_clearsigned_text(msg, strlen(msg), &t, &n), 0);
        assert_string_equal(t, "Origin: x\n-----dashed\nSHA256:");
        assert_int_equal(n, strlen(t));
        assert_int_equal(apt_clearsigned_text("Origin: y\n", 10, &plain, &n), 0);
        assert_string_equal(plain, "Origin: y\n");
        free(TAKE_PTR(t));
        assert_int_equal(apt_clearsigned_text(msg, 60, &t, &n), -EINVAL); /* cut before the signature */
}

static void test_dearmor(void **state) {
        static const char armor[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n"
                                    "Comment: test\n"
                                    "\n"
                                    "aGVsbG8g\n"
                                    "d29ybGQ=\n"
                                    "=abcd\n"
                                    "-----END PGP PUBLIC KEY BLOCK-----\n";
        _cleanup_free_ unsigned char *bin = NULL;
        size_t n = 0;

        assert_int_equal(apt_dearmor(armor, strlen(armor), &bin, &n), 0);
        assert_int_equal(n, 11);
        assert_memory_equal(bin, "hello world", 11);
        assert_int_equal(apt_dearmor("no armor", 8, &bin, &n), -EINVAL);
}

/* --- solving --- */

#define SUM_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SUM_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *stanza(const char *name, const char *version, const char *arch, const char *extra, const char *file) {
        return fmt("Package: %s\nVersion: %s\nArchitecture: %s\n%sFilename: %s\nSize: 1234\nSHA256: %s\n\n", name,
                   version, arch, extra, file, SUM_A);
}

static int memfd_of(const char *text) {
        int fd = memfd_create("packages", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, text, strlen(text)), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static int read_back_all(int fd, char **ret, size_t *ret_len) {
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -1;
        return read_full_fd(fd, 64u << 20, ret, ret_len);
}

static struct pkg_pool *pool_with(const char *arch, const char *text1, const char *text2) {
        struct pkg_pool *p = NULL;
        struct smith_error *err = NULL;
        _cleanup_close_ int fd1 = memfd_of(text1), fd2 = text2 ? memfd_of(text2) : -1;

        assert_int_equal(pkg_pool_new(arch, &p, &err), 0);
        assert_int_equal(pkg_pool_add_index(p, "one", "http://one/debian", fd1, "Packages", 1 << 30, &err), 0);
        if (text2)
                assert_int_equal(pkg_pool_add_index(p, "two", "http://two/debian", fd2, "Packages", 1 << 30, &err), 0);
        assert_null(err);
        return p;
}

static void test_solve(void **state) {
        _cleanup_free_ char *a = stanza("app", "1.0", "amd64",
                                        "Depends: libx (>= 2) | libalt, data\nPre-Depends: base\n"
                                        "Recommends: extra\n",
                                        "pool/a/app_1.0_amd64.deb");
        _cleanup_free_ char *x1 = stanza("libx", "2.0", "amd64", "Provides: virt\n", "pool/l/libx_2.0_amd64.deb");
        _cleanup_free_ char *x0 = stanza("libx", "0.5", "amd64", "Provides: virt\n", "pool/l/libx_0.5_amd64.deb");
        _cleanup_free_ char *alt = stanza("libalt", "1", "amd64", "", "pool/l/libalt_1_amd64.deb");
        _cleanup_free_ char *d =
                stanza("data", "3", "all", "Depends: virt\nSource: datasrc (3)\n", "pool/d/data_3_all.deb");
        _cleanup_free_ char *b = stanza("base", "1", "amd64", "", "pool/b/base_1_amd64.deb");
        _cleanup_free_ char *e = stanza("extra", "1", "amd64", "", "pool/e/extra_1_amd64.deb");
        _cleanup_free_ char *ess = stanza("essential", "1", "amd64", "Essential: yes\nPriority: required\n",
                                          "pool/e/essential_1_amd64.deb");
        _cleanup_free_ char *foreign = stanza("app", "9.0", "arm64", "", "pool/a/app_9.0_arm64.deb");
        _cleanup_free_ char *x3 = stanza("libx", "3.0", "amd64", "Provides: virt\n", "pool/l/libx_3.0_amd64.deb");
        _cleanup_free_ char *one = fmt("%s%s%s%s%s%s%s%s%s", a, x1, x0, alt, d, b, e, ess, foreign);
        _cleanup_(pkg_pool_freep) struct pkg_pool *p = pool_with("amd64", one, x3);
        struct smith_error *err = NULL;
        struct pkg_choice *c = NULL;
        char *names[] = { (char *) "app", NULL };
        size_t n = 0;

        assert_int_equal(pkg_solve(p, names, false, &c, &n, &err), 0);
        assert_null(err);
        assert_int_equal(n, 4);
        assert_string_equal(c[0].name, "app");
        assert_string_equal(c[0].version, "1.0");
        assert_string_equal(c[0].url, "http://one/debian/pool/a/app_1.0_amd64.deb");
        assert_string_equal(c[0].digest, "sha256:" SUM_A);
        assert_int_equal(c[0].size, 1234);
        assert_string_equal(c[0].source, "app");
        assert_string_equal(c[1].name, "base");
        assert_string_equal(c[2].name, "data");
        assert_string_equal(c[2].arch, "all");
        assert_string_equal(c[2].source, "datasrc");
        /* the newest, from the second index */
        assert_string_equal(c[3].name, "libx");
        assert_string_equal(c[3].version, "3.0");
        assert_string_equal(c[3].url, "http://two/debian/pool/l/libx_3.0_amd64.deb");
        {
                _cleanup_free_ char *fn = pkg_choice_file_name(&c[3]);
                assert_string_equal(fn, "libx_3.0_amd64");
        }
        {
                /* dpkg's file names leave the epoch out */
                struct pkg_choice ep = { .name = (char *) "x", .version = (char *) "1:2.0-1", .arch = (char *) "all" };
                _cleanup_free_ char *fn = pkg_choice_file_name(&ep);
                assert_string_equal(fn, "x_2.0-1_all");
        }
        pkg_choices_free(c, n);

        /* with Recommends */
        assert_int_equal(pkg_solve(p, names, true, &c, &n, &err), 0);
        assert_int_equal(n, 5);
        assert_string_equal(c[1].name, "base");
        assert_string_equal(c[2].name, "data");
        assert_string_equal(c[3].name, "extra");
        pkg_choices_free(c, n);
}

static void solve_error(const char *text, const char *name, const char *expected) {
        _cleanup_(pkg_pool_freep) struct pkg_pool *p = pool_with("amd64", text, NULL);
        struct smith_error *err = NULL;
        struct pkg_choice *c = NULL;
        char *names[] = { (char *) name, NULL };
        size_t n = 0;

        assert_int_equal(pkg_solve(p, names, false, &c, &n, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, expected);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        assert_null(strchr(err->msg, '\n'));
        error_free(err);
}

static void test_solve_errors(void **state) {
        _cleanup_free_ char *a = stanza("app", "1.0", "amd64", "Depends: libmissing (>= 2)\n", "pool/app.deb");
        _cleanup_free_ char *evil = stanza("evil", "1", "amd64", "", "../../x");
        _cleanup_free_ char *abs = stanza("abs", "1", "amd64", "", "/etc/passwd");
        _cleanup_free_ char *blank = stanza("blank", "1", "amd64", "", "pool/a b.deb");
        _cleanup_free_ char *nosize = fmt("Package: nosize\nVersion: 1\nArchitecture: amd64\nFilename: p.deb\n"
                                          "SHA256: %s\n\n",
                                          SUM_B);
        _cleanup_free_ char *md5 = fmt("Package: md5\nVersion: 1\nArchitecture: amd64\nFilename: p.deb\nSize: 1\n"
                                       "MD5sum: 0123456789abcdef0123456789abcdef\n\n");

        solve_error(a, "app", "cannot install the packages: nothing provides libmissing >= 2 needed by app-1.0.amd64");
        solve_error(a, "nope", "package 'nope' not found in the repositories");
        solve_error(evil, "evil", "package 'evil' in 'one': refusing Filename '../../x'");
        solve_error(abs, "abs", "package 'abs' in 'one': refusing Filename '/etc/passwd'");
        solve_error(blank, "blank", "package 'blank' in 'one': refusing Filename 'pool/a b.deb'");
        solve_error(nosize, "nosize", "package 'nosize' in 'one': no Size");
        solve_error(md5, "md5", "package 'md5' in 'one': no SHA256 checksum");
}

/* The Size notes stay matched to their solvables across odd stanza
 * splits: blank lines in a row, a stanza without Package, NUL bytes. */
static void test_solve_sizes(void **state) {
        static const char text[] = "\n\n\nPackage: a\nVersion: 1\nArchitecture: all\nFilename: a.deb\nSize: 11\n"
                                   "SHA256: " SUM_A "\n\n"
                                   "Version: 2\nSize: 999\n\n\n\n"
                                   "Package: b\nSize: 22\nVersion: 1\nArchitecture: all\nFilename: b.deb\n"
                                   "SHA256: " SUM_B "\n";
        _cleanup_(pkg_pool_freep) struct pkg_pool *p = pool_with("amd64", text, NULL);
        struct smith_error *err = NULL;
        struct pkg_choice *c = NULL;
        char *names[] = { (char *) "a", (char *) "b", NULL };
        size_t n = 0;

        assert_int_equal(pkg_solve(p, names, false, &c, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_int_equal(c[0].size, 11);
        assert_int_equal(c[1].size, 22);
        assert_string_equal(c[1].digest, "sha256:" SUM_B);
        pkg_choices_free(c, n);
}

/* Description, Maintainer and Homepage are left out on the way to libsolv
 * (whole fields, continuation lines too), and nothing else: the other
 * fields, the stanza splits and the Size notes stay as they were, over
 * many stanzas (the filter's reads end mid-line). */
static void test_solve_dropped_fields(void **state) {
        _cleanup_free_ char *text = strdup("");
        _cleanup_free_ char *saved = NULL;
        _cleanup_(pkg_pool_freep) struct pkg_pool *p = NULL;
        _cleanup_close_ int out = memfd_create("solv", MFD_CLOEXEC);
        struct smith_error *err = NULL;
        struct pkg_choice *c = NULL;
        char *names[] = { (char *) "app", (char *) "pkg1999", NULL };
        size_t n = 0, len = 0;

        for (int i = 0; i < 2000; i++) {
                char *next = fmt("%sPackage: pkg%d\nDescription: secret summary %d\n a long description\n .\n"
                                 " Package: evil%d\nVersion: 1\nmaintainer: secret maintainer\n"
                                 "Homepage: https://secret.example/\nDescriptionx: kept\nArchitecture: all\n"
                                 "Filename: p%d.deb\nSize: %d\nSHA256: %s\n\n",
                                 text, i, i, i, i, 1000 + i, SUM_A);
                free(text);
                text = next;
        }
        {
                char *next = fmt("%sPackage: app\nVersion: 1\nArchitecture: all\nDescription: x\n y\nDepends: pkg7\n"
                                 "Filename: app.deb\nSize: 5\nSHA256: %s\n",
                                 text, SUM_B);
                free(text);
                text = next;
        }
        p = pool_with("amd64", text, NULL);
        assert_int_equal(pkg_solve(p, names, false, &c, &n, &err), 0);
        assert_null(err);
        assert_int_equal(n, 3);
        assert_string_equal(c[0].name, "app");
        assert_int_equal(c[0].size, 5);
        assert_string_equal(c[0].digest, "sha256:" SUM_B);
        assert_string_equal(c[1].name, "pkg1999");
        assert_int_equal(c[1].size, 2999);
        assert_string_equal(c[2].name, "pkg7"); /* the Depends after a description */
        assert_int_equal(c[2].size, 1007);
        pkg_choices_free(c, n);
        names[0] = (char *) "evil3";
        names[1] = NULL;
        assert_int_equal(pkg_solve(p, names, false, &c, &n, &err), -1);
        error_free(TAKE_PTR(err));

        /* none of it in the saved form */
        assert_int_equal(pkg_pool_save_index(p, "one", out, &err), 0);
        assert_int_equal(read_back_all(out, &saved, &len), 0);
        assert_true(len > 0);
        assert_null(memmem(saved, len, "secret", 6));
        assert_null(memmem(saved, len, "a long description", 18));
        assert_non_null(memmem(saved, len, "p1999.deb", 9));
}

/* A damaged compressed index is an error, whichever thread reads it. */
static void test_index_damaged_xz(void **state) {
        static const char bad[] = "\xfd"
                                  "7zXZ\0\0\x04\xe6\xd6\xb4\x46garbage garbage garbage garbage";
        struct pkg_pool *p = NULL;
        struct smith_error *err = NULL;
        _cleanup_close_ int fd = memfd_create("packages", MFD_CLOEXEC);

        assert_int_equal(write_full(fd, bad, sizeof(bad) - 1), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(pkg_pool_new("amd64", &p, &err), 0);
        assert_int_equal(pkg_pool_add_index(p, "one", "http://one/debian", fd, "Packages.xz", 1 << 30, &err), -1);
        assert_non_null(err);
        assert_string_equal(err->msg, "index 'one': read error (damaged compression?)");
        error_free(err);
        pkg_pool_free(p);
}

/* An index is never read past its bound: the size its Release lists, or
 * what index_measure() found (which stops at the limit). */
static void test_index_bounds(void **state) {
        _cleanup_free_ char *a = stanza("a", "1", "amd64", "", "pool/a_1_amd64.deb");
        _cleanup_free_ char *b = stanza("b", "1", "amd64", "", "pool/b_1_amd64.deb");
        _cleanup_free_ char *text = NULL;
        struct pkg_pool *p = NULL;
        struct smith_error *err = NULL;
        _cleanup_close_ int fd = memfd_create("packages", MFD_CLOEXEC);
        uint64_t size = 0;

        assert_true(asprintf(&text, "%s%s", a, b) > 0);
        assert_int_equal(write_full(fd, text, strlen(text)), 0);
        /* measured: exactly, and refused past a limit below it */
        assert_int_equal(index_measure(fd, "Packages", 1 << 20, &size), 0);
        assert_int_equal(size, strlen(text));
        assert_int_equal(index_measure(fd, "Packages", strlen(text) - 1, &size), -EFBIG);
        assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
        /* a bound below the real size: an error, not a shorter index */
        assert_int_equal(pkg_pool_new("amd64", &p, &err), 0);
        assert_int_equal(pkg_pool_add_index(p, "one", "http://one/debian", fd, "Packages", strlen(a), &err), -1);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "index 'one': more than the"));
        assert_non_null(strstr(err->msg, "decompression bomb"));
        error_free(err);
        err = NULL;
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(pkg_pool_add_index(p, "two", "http://one/debian", fd, "Packages", strlen(text), &err), 0);
        pkg_pool_free(p);
}

static void test_solve_local(void **state) {
        _cleanup_free_ char *b = stanza("base", "1", "amd64", "", "pool/b/base_1_amd64.deb");
        _cleanup_(pkg_pool_freep) struct pkg_pool *p = pool_with("amd64", b, NULL);
        static const char control[] = "Package: mine\nVersion: 0.1\nArchitecture: amd64\nDepends: base\n";
        struct smith_error *err = NULL;
        struct pkg_choice *c = NULL;
        size_t n = 0;

        assert_int_equal(pkg_pool_add_deb(p, control, strlen(control), "./mine.deb", &err), 0);
        assert_int_equal(pkg_solve(p, NULL, false, &c, &n, &err), 0);
        assert_int_equal(n, 2);
        assert_string_equal(c[1].name, "mine");
        assert_string_equal(c[1].local, "./mine.deb");
        assert_null(c[1].url);
        assert_string_equal(c[0].name, "base");
        pkg_choices_free(c, n);
        assert_int_equal(pkg_pool_add_deb(p, "Version: 1\n", 11, "./x.deb", &err), -1);
        assert_string_equal(err->msg, "package './x.deb': its control file names no package");
        error_free(err);
}

/* --- the unpacker's package flags --- */

struct tar_entry {
        const char *name;
        mode_t type;
        const char *data; /* a file's content, or a link's target */
};

static struct archive *tar_reader(const struct tar_entry *entries, size_t n, struct buf *b) {
        struct archive *w = archive_write_new(), *r = archive_read_new();

        assert_int_equal(archive_write_set_format_pax_restricted(w), ARCHIVE_OK);
        assert_int_equal(archive_write_open(w, b, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, entries[i].name);
                archive_entry_set_filetype(e, entries[i].type);
                archive_entry_set_perm(e, 0644);
                if (entries[i].type == AE_IFLNK)
                        archive_entry_set_symlink(e, entries[i].data);
                if (entries[i].type == AE_IFREG)
                        archive_entry_set_size(e, (la_int64_t) strlen(entries[i].data));
                assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
                if (entries[i].type == AE_IFREG)
                        assert_true(archive_write_data(w, entries[i].data, strlen(entries[i].data)) >= 0);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(w), ARCHIVE_OK);
        archive_write_free(w);
        assert_int_equal(archive_read_support_format_tar(r), ARCHIVE_OK);
        assert_int_equal(archive_read_open_memory(r, b->data, b->len), ARCHIVE_OK);
        return r;
}

static void test_unpack_package_flags(void **state) {
        static const struct tar_entry entries[] = {
                { "./bin/", AE_IFDIR, NULL },
                { "./bin/cat", AE_IFREG, "meow" },
                { "./usr/share/.wh.keep", AE_IFREG, "not a whiteout" },
                { "./usr/share/.wh..wh..opq", AE_IFREG, "nor this" },
        };
        _cleanup_free_ char *d = test_tmp_dir("smith-pkgunpack-");
        _cleanup_free_ char *rm = fmt("rm -rf %s", d);
        _cleanup_close_ int root = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct unpack_stats st = {};
        struct smith_error *err = NULL;
        struct buf b = {};
        struct archive *a;
        struct stat s;

        assert_true(root >= 0);
        assert_int_equal(deb_merged_usr(root, &err), 0);
        /* twice is fine */
        assert_int_equal(deb_merged_usr(root, &err), 0);
        assert_int_equal(mkdirat(root, "usr/share", 0755), 0);
        assert_int_equal(openat(root, "usr/share/keep", O_CREAT | O_WRONLY | O_CLOEXEC, 0644) >= 0, 1);
        a = tar_reader(entries, ELEMENTSOF(entries), &b);
        assert_int_equal(layer_unpack_archive(root, a,
                                              UNPACK_NO_WHITEOUTS | UNPACK_KEEP_DIR_SYMLINKS | UNPACK_LIST_PATHS, NULL,
                                              &st, &err),
                         0);
        assert_null(err);
        archive_read_free(a);
        /* the link stays, the file went through it */
        assert_int_equal(fstatat(root, "bin", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(s.st_mode));
        assert_int_equal(fstatat(root, "usr/bin/cat", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(s.st_mode));
        /* ".wh." names are files, and hid nothing */
        assert_int_equal(fstatat(root, "usr/share/.wh.keep", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(root, "usr/share/.wh..wh..opq", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fstatat(root, "usr/share/keep", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.whiteouts, 0);
        check_strv(st.paths, "/bin", "/usr/bin/cat", "/usr/share/.wh.keep", "/usr/share/.wh..wh..opq", NULL);
        strv_free(st.paths);
        free(b.data);

        /* without the flags: the directory entry replaces the link, and the
         * whiteouts apply */
        b = (struct buf){};
        st = (struct unpack_stats){};
        a = tar_reader(entries, ELEMENTSOF(entries), &b);
        assert_int_equal(layer_unpack_archive(root, a, 0, NULL, &st, &err), 0);
        archive_read_free(a);
        assert_int_equal(fstatat(root, "bin", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(s.st_mode));
        assert_int_equal(fstatat(root, "usr/share/keep", &s, AT_SYMLINK_NOFOLLOW), -1);
        assert_null(st.paths);
        free(b.data);
        run(rm);
}

/* A symlink out of the root is not kept for a directory entry. */
static void test_unpack_keep_dir_symlink_outside(void **state) {
        static const struct tar_entry entries[] = {
                { "./evil/", AE_IFDIR, NULL },
                { "./evil/x", AE_IFREG, "x" },
        };
        _cleanup_free_ char *d = test_tmp_dir("smith-pkgunpack-");
        _cleanup_free_ char *rm = fmt("rm -rf %s", d);
        _cleanup_close_ int root = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct smith_error *err = NULL;
        struct buf b = {};
        struct archive *a;
        struct stat s;

        /* evil -> a file: not a directory, so the entry replaces it */
        assert_int_equal(symlinkat("file", root, "evil"), 0);
        close(openat(root, "file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        a = tar_reader(entries, ELEMENTSOF(entries), &b);
        assert_int_equal(layer_unpack_archive(root, a, UNPACK_KEEP_DIR_SYMLINKS, NULL, NULL, &err), 0);
        archive_read_free(a);
        assert_int_equal(fstatat(root, "evil", &s, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISDIR(s.st_mode));
        assert_int_equal(fstatat(root, "evil/x", &s, AT_SYMLINK_NOFOLLOW), 0);
        free(b.data);
        run(rm);
}

static void test_deb_limits(void **state) {
        assert_int_equal(deb_max_uncompressed(0), 256ULL << 20);
        assert_int_equal(deb_max_uncompressed(10ULL << 20), 1000ULL << 20);
        assert_int_equal(deb_max_uncompressed(UINT64_MAX / 2), UNPACK_DEFAULT_MAX_UNPACKED);
}

/* --- rpm-md repositories --- */

static void test_rpm_repos_ini(void **state) {
        static const char text[] = "# yum\n"
                                   "[main]\n"
                                   "gpgcheck=1\n"
                                   "baseurl=http://h/main\n"
                                   "[local]\n"
                                   "name=Local $releasever\n"
                                   "baseurl=file:///srv/${releasever}/$basearch/\n"
                                   "        http://mirror/$releasever/\n"
                                   "gpgkey=file:///k/one\n"
                                   " /k/two\n"
                                   "gpgcheck=no\n"
                                   "repo_gpgcheck = True\n"
                                   "\n"
                                   "[off]\n"
                                   "baseurl=http://h/off\n"
                                   "enabled=0\n"
                                   "[meta]\n"
                                   "metalink=https://h/?a=$basearch\n"
                                   "[plain]\n"
                                   "baseurl=https://h/plain\n";
        const struct rpm_vars v = { .basearch = "aarch64", .releasever = "9" };
        struct rpm_repos s = {};
        struct smith_error *err = NULL;

        (void) state;
        assert_int_equal(rpm_repos_parse_ini("x.repo", text, strlen(text), &v, &s, &err), 0);
        /* [main] holds yum's settings; [off] is disabled, [meta] has no baseurl */
        assert_int_equal(s.n, 2);
        assert_string_equal(s.items[0].id, "local");
        assert_string_equal(s.items[0].baseurl, "file:///srv/9/aarch64");
        assert_string_equal(s.items[0].where, "x.repo:5");
        assert_int_equal(strv_length(s.items[0].gpgkeys), 2);
        assert_string_equal(s.items[0].gpgkeys[0], "/k/one");
        assert_string_equal(s.items[0].gpgkeys[1], "/k/two");
        assert_false(s.items[0].gpgcheck);
        assert_true(s.items[0].repo_gpgcheck);
        assert_string_equal(s.items[1].id, "plain");
        assert_true(s.items[1].gpgcheck);
        assert_false(s.items[1].repo_gpgcheck);
        assert_null(s.items[1].gpgkeys);
        rpm_repos_release(&s);
}

static void rpm_repos_error(const char *text, const char *want) {
        const struct rpm_vars v = { .basearch = "x86_64", .releasever = NULL };
        struct rpm_repos s = {};
        struct smith_error *err = NULL;

        assert_int_equal(rpm_repos_parse_ini("x.repo", text, strlen(text), &v, &s, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->kind, SMITH_ERR_CONFIG);
        assert_string_equal(err->msg, want);
        error_free(err);
        rpm_repos_release(&s);
}

static void test_rpm_repos_errors(void **state) {
        (void) state;
        rpm_repos_error("[a b]\nbaseurl=http://h\n", "x.repo:1: repository id 'a b' is not valid");
        rpm_repos_error("[a\n", "x.repo:1: malformed section header");
        rpm_repos_error("[a]\nbaseurl\n", "x.repo:2: expected 'key=value'");
        rpm_repos_error("[a]\nbaseurl=http://h/$releasever\n",
                        "x.repo:1: baseurl 'http://h/$releasever': unknown variable");
        rpm_repos_error("[a]\nbaseurl=ftp://h\n", "x.repo:1: baseurl 'ftp://h' is not an http, https or file URL");
        rpm_repos_error("[a]\nbaseurl=http://h\ngpgcheck=maybe\n",
                        "x.repo:3: 'gpgcheck' must be a boolean, not 'maybe'");
        rpm_repos_error("[a]\nbaseurl=http://h\ngpgkey=https://h/key\n",
                        "x.repo:1: gpgkey 'https://h/key': only local keys are supported");
        rpm_repos_error("[a]\nbaseurl=http://h\ngpgkey=key.asc\n",
                        "x.repo:1: gpgkey 'key.asc' is not an absolute path");
}

/* os-release: the first KEY= line, one pair of quotes taken off. */
static void test_os_release(void **state) {
        static const char text[] = "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nID=other\n"
                                   "IDX=no\nVERSION='x";
        char *v;

        (void) state;
        v = os_release_value(text, sizeof(text) - 1, "ID");
        assert_string_equal(v, "debian");
        free(v);
        v = os_release_value(text, sizeof(text) - 1, "VERSION_ID");
        assert_string_equal(v, "12");
        free(v);
        v = os_release_value(text, sizeof(text) - 1, "NAME");
        assert_string_equal(v, "Debian GNU/Linux");
        free(v);
        v = os_release_value(text, sizeof(text) - 1, "VERSION");
        assert_string_equal(v, "x");
        free(v);
        assert_null(os_release_value(text, sizeof(text) - 1, "ID_LIKE"));
        assert_null(os_release_value(text, 20, "ID"));
}

/* The path index: /usr forms, one owner a path (the lowest package), paths
 * that climb out skipped, and the bound. */
static void test_path_index(void **state) {
        struct path_index ix = { .max = 5 };

        (void) state;
        ix.usr.alias[0] = true; /* bin -> usr/bin */
        assert_int_equal(path_index_add(&ix, "/bin/cat", 2), 0);
        assert_int_equal(path_index_add(&ix, "/usr/bin/cat", 1), 0);
        assert_int_equal(path_index_add(&ix, "../../etc/passwd", 0), 0);
        assert_int_equal(path_index_add(&ix, "/", 0), 0);
        assert_int_equal(path_index_add(&ix, "etc/a", 3), 0);
        assert_int_equal(ix.n, 3);
        path_index_sort(&ix, false);
        assert_true(path_index_contains(&ix, "usr/bin/cat", 2));
        assert_false(path_index_contains(&ix, "bin/cat", 2));
        path_index_sort(&ix, true);
        assert_int_equal(ix.n, 2);
        assert_int_equal(path_index_owner(&ix, "bin/cat"), 1);
        assert_int_equal(path_index_owner(&ix, "usr/bin/cat"), 1);
        assert_int_equal(path_index_owner(&ix, "etc/a"), 3);
        assert_int_equal(path_index_owner(&ix, "etc/b"), -1);
        assert_int_equal(path_index_owner(&ix, "etc/passwd"), -1);
        assert_int_equal(path_index_add(&ix, "x", 0), 0);
        assert_int_equal(path_index_add(&ix, "y", 0), 0);
        assert_int_equal(path_index_add(&ix, "z", 0), 0);
        assert_int_equal(path_index_add(&ix, "w", 0), -E2BIG);
        path_index_done(&ix);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_index),
                cmocka_unit_test(test_os_release),
                cmocka_unit_test(test_rpm_repos_ini),
                cmocka_unit_test(test_rpm_repos_errors),
                cmocka_unit_test(test_sources_list),
                cmocka_unit_test(test_sources_list_errors),
                cmocka_unit_test(test_sources_deb822),
                cmocka_unit_test(test_sources_deb822_errors),
                cmocka_unit_test(test_sources_host),
                cmocka_unit_test(test_host_arch),
                cmocka_unit_test(test_release),
                cmocka_unit_test(test_release_errors),
                cmocka_unit_test(test_release_date),
                cmocka_unit_test(test_age),
                cmocka_unit_test(test_clearsigned),
                cmocka_unit_test(test_dearmor),
                cmocka_unit_test(test_solve),
                cmocka_unit_test(test_solve_errors),
                cmocka_unit_test(test_solve_sizes),
                cmocka_unit_test(test_solve_dropped_fields),
                cmocka_unit_test(test_index_damaged_xz),
                cmocka_unit_test(test_index_bounds),
                cmocka_unit_test(test_solve_local),
                cmocka_unit_test(test_unpack_package_flags),
                cmocka_unit_test(test_unpack_keep_dir_symlink_outside),
                cmocka_unit_test(test_deb_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
