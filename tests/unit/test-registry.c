/* Tests for the registry client: reference parsing and redaction, the
 * registry-package test, WWW-Authenticate and Retry-After parsing,
 * platforms, error bodies, credentials from auth files and credential
 * helpers (in temp HOME/XDG dirs, with a tiny docker-credential-test script
 * first in PATH), and push/pull against the real docker-registry (Debian's
 * distribution), plain and behind htpasswd Basic auth, started here on
 * 127.0.0.1 with a free port. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "test-util.h"
#include "basic/strv.h"
#include "oci/image.h"
#include "registry/registry-internal.h"
#include "registry/registry.h"
#include "store/cache.h"

/* --- helpers --- */

static char *tmp_dir(void) {
        return test_tmp_dir("test-registry-");
}

static void write_file(const char *path, const char *data, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, data, strlen(data)), 0);
        assert_int_equal(close(fd), 0);
}

static void rm_tree(const char *path) {
        assert_int_equal(rm_rf_at(AT_FDCWD, path), 0);
}

/* Fails the test if s contains the secret. */
static void assert_no_secret(const char *s, const char *secret) {
        if (s && strstr(s, secret))
                fail_msg("'%s' leaks the secret", s);
}

static void clear_cred_env(void) {
        unsetenv("REGISTRY_AUTH_FILE");
        unsetenv("DOCKER_CONFIG");
        setenv("XDG_RUNTIME_DIR", "/nonexistent-smith-test", 1);
        setenv("HOME", "/nonexistent-smith-test", 1);
}

/* --- references --- */

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct ref_case {
        const char *in;
        unsigned flags;
        const char *scheme, *host, *repo, *tag, *digest, *user, *pass;
        bool hub;
};

static void test_ref_parse_table(void **state) {
        const unsigned D = REGISTRY_REF_DOCKER_STYLE;
        const struct ref_case cases[] = {
                { "https://host/repo", 0, "https", "host", "repo", "latest", NULL, NULL, NULL, false },
                { "https://reg.example.com/team/cat:v1", 0, "https", "reg.example.com", "team/cat", "v1", NULL, NULL,
                  NULL, false },
                { "http://localhost:5000/a/b/c:1.0-rc_1", 0, "http", "localhost:5000", "a/b/c", "1.0-rc_1", NULL, NULL,
                  NULL, false },
                { "https://u:Zq9@host:443/r", 0, "https", "host:443", "r", "latest", NULL, "u", "Zq9", false },
                { "https://us%40er:p%40ss%3Aw%2Frd%25x@host:5000/repo:t", 0, "https", "host:5000", "repo", "t", NULL,
                  "us@er", "p@ss:w/rd%x", false },
                /* unencoded '@', ':' and '/' still end up in the password */
                { "https://u:p@ss:w/rd@host/repo:t", 0, "https", "host", "repo", "t", NULL, "u", "p@ss:w/rd", false },
                { "https://tok@host/repo", 0, "https", "host", "repo", "latest", NULL, "tok", NULL, false },
                { "https://u:pw@HOST.Example.com/repo@sha256:" HEX64, 0, "https", "host.example.com", "repo", NULL,
                  "sha256:" HEX64, "u", "pw", false },
                { "https://host/repo:tag@sha256:" HEX64, 0, "https", "host", "repo", "tag", "sha256:" HEX64, NULL, NULL,
                  false },
                { "https://[::1]:5000/repo", 0, "https", "[::1]:5000", "repo", "latest", NULL, NULL, NULL, false },
                { "https://docker.io/debian", 0, "https", "registry-1.docker.io", "library/debian", "latest", NULL,
                  NULL, NULL, true },
                { "https://index.docker.io/x/y:1", 0, "https", "registry-1.docker.io", "x/y", "1", NULL, NULL, NULL,
                  true },
                { "debian", D, "https", "registry-1.docker.io", "library/debian", "latest", NULL, NULL, NULL, true },
                { "debian:12", D, "https", "registry-1.docker.io", "library/debian", "12", NULL, NULL, NULL, true },
                { "team/app", D, "https", "registry-1.docker.io", "team/app", "latest", NULL, NULL, NULL, true },
                { "docker.io/library/busybox:1", D, "https", "registry-1.docker.io", "library/busybox", "1", NULL, NULL,
                  NULL, true },
                { "index.docker.io/busybox", D, "https", "registry-1.docker.io", "library/busybox", "latest", NULL,
                  NULL, NULL, true },
                { "localhost/x", D, "https", "localhost", "x", "latest", NULL, NULL, NULL, false },
                { "localhost:5000/x/y:z", D, "https", "localhost:5000", "x/y", "z", NULL, NULL, NULL, false },
                { "quay.io/a/b@sha256:" HEX64, D, "https", "quay.io", "a/b", NULL, "sha256:" HEX64, NULL, NULL, false },
                { "debian@sha256:" HEX64, D, "https", "registry-1.docker.io", "library/debian", NULL, "sha256:" HEX64,
                  NULL, NULL, true },
                { "http://127.0.0.1:5000/a__b/c-d.e", D, "http", "127.0.0.1:5000", "a__b/c-d.e", "latest", NULL, NULL,
                  NULL, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const struct ref_case *c = &cases[i];
                struct registry_ref *r = NULL;
                struct smith_error *err = NULL;
                if (registry_ref_parse(c->in, c->flags, &r, &err) < 0)
                        fail_msg("'%s': %s", c->in, err->msg);
                assert_string_equal(r->scheme, c->scheme);
                assert_string_equal(r->host, c->host);
                assert_string_equal(r->repository, c->repo);
                if (c->tag)
                        assert_string_equal(r->tag, c->tag);
                else
                        assert_null(r->tag);
                if (c->digest)
                        assert_string_equal(r->digest, c->digest);
                else
                        assert_null(r->digest);
                if (c->user)
                        assert_string_equal(r->username, c->user);
                else
                        assert_null(r->username);
                if (c->pass)
                        assert_string_equal(r->password, c->pass);
                else
                        assert_null(r->password);
                assert_int_equal(r->docker_hub, c->hub);

                _cleanup_free_ char *disp = registry_ref_display(r);
                assert_non_null(disp);
                assert_null(strchr(disp + 8, '@') && !r->digest ? "userinfo in display" : NULL);
                if (c->pass)
                        assert_no_secret(disp, c->pass);
                registry_ref_free(r);
        }
}

static void test_ref_display(void **state) {
        struct registry_ref *r = NULL;
        struct smith_error *err = NULL;

        assert_int_equal(registry_ref_parse("https://u:s3cr3t@host:5000/team/cat:v1", 0, &r, &err), 0);
        _cleanup_free_ char *d = registry_ref_display(r);
        assert_string_equal(d, "https://host:5000/team/cat:v1");
        registry_ref_free(r);
        r = NULL;
        assert_int_equal(registry_ref_parse("https://host/x@sha256:" HEX64, 0, &r, &err), 0);
        _cleanup_free_ char *d2 = registry_ref_display(r);
        assert_string_equal(d2, "https://host/x@sha256:" HEX64);
        struct registry_ref *dup = registry_ref_dup(r);
        assert_string_equal(dup->digest, r->digest);
        registry_ref_free(dup);
        registry_ref_free(r);

        const char *redact[][2] = {
                { "https://u:s3cr3t@host/r", "https://host/r" },
                { "https://u:s3cr3t@host", "https://host" },
                { "https://u:s3/cr@3t@host/r:t", "https://host/r:t" },
                { "https://host/r@sha256:" HEX64, "https://host/r@sha256:" HEX64 },
                { "https://u:s3cr3t@host/r@sha256:" HEX64, "https://host/r@sha256:" HEX64 },
                { "https://host/r", "https://host/r" },
        };
        for (size_t i = 0; i < ELEMENTSOF(redact); i++) {
                _cleanup_free_ char *s = url_redact(redact[i][0]);
                assert_string_equal(s, redact[i][1]);
        }
}

static void test_ref_errors(void **state) {
        const char *bad[] = {
                "",
                "https://host",
                "https://host/",
                "https://u:s3cr3t@host/",
                "https://u:s3cr3t@/repo",
                "https://u:s3cr3t@ho st/repo",
                "https://u:s3cr3t@host:99999/repo",
                "https://u:s3cr3t@host:port/repo",
                "https://u:s3%zzcr3t@host/repo",
                "https://u:s3cr3t%00@host/repo",
                "https://:s3cr3t@host/repo",
                "https://u:s3cr3t@host/Repo",
                "https://u:s3cr3t@host/repo/",
                "https://u:s3cr3t@host//repo",
                "https://u:s3cr3t@host/repo:bad:tag",
                "https://u:s3cr3t@host/repo:-tag",
                "https://u:s3cr3t@host/repo@sha256:1234",
                "https://u:s3cr3t@host/repo@md5:" HEX64,
                "ftp://u:s3cr3t@host/repo",
                "u:s3cr3t@host/repo",
                "host/repo",
                "-host.com/repo",
                "https://u:s3cr3t@host/re..po",
                "https://u:s3cr3t@host/repo\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct registry_ref *r = NULL;
                struct smith_error *err = NULL;
                /* "host/repo" is fine docker-style; only the URL form is strict */
                unsigned flags = streq(bad[i], "u:s3cr3t@host/repo") || streq(bad[i], "-host.com/repo")
                                         ? REGISTRY_REF_DOCKER_STYLE
                                         : 0;
                if (registry_ref_parse(bad[i], flags, &r, &err) == 0)
                        fail_msg("'%s' was accepted", bad[i]);
                assert_null(r);
                assert_non_null(err);
                assert_int_equal(err->kind, SMITH_ERR_USAGE);
                assert_no_secret(err->msg, "s3cr3t");
                assert_null(strchr(err->msg, '\n'));
                error_free(err);
        }
        struct registry_ref *r = NULL;
        struct smith_error *err = NULL;
        assert_int_equal(registry_ref_parse("https://u:s3cr3t@host/", 0, &r, &err), -1);
        assert_string_equal(err->msg, "'https://host/' has no repository");
        error_free(err);
}

static void test_is_registry_package(void **state) {
        const char *yes[] = {
                "https://host/repo",
                "http://localhost:5000/x",
                "localhost/x",
                "localhost:5000/x:1",
                "quay.io/a/b",
                "reg.example.com:443/team/cat@sha256:" HEX64,
                "docker.io/library/debian",
        };
        const char *no[] = {
                "debian",
                "debian:12",
                "team/app",
                "base.tar.gz",
                "base.tar.gz:tag",
                "./base.tar.gz",
                "/srv/images/x.tar",
                "../img/layout:tag",
                "dir.d/base.tar.gz",
                "x.y/img.tgz:1",
                "",
                "~/images/x",
                "ftp://host/x",
                "localhost",
                "a.b/UPPER",
        };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (!registry_ref_is_registry_package(yes[i]))
                        fail_msg("'%s' should name a registry image", yes[i]);
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (registry_ref_is_registry_package(no[i]))
                        fail_msg("'%s' should not name a registry image", no[i]);
}

/* --- challenges, Retry-After, platforms, error bodies --- */

static void test_challenges(void **state) {
        struct registry_challenge *l = NULL;
        size_t n = 0;

        assert_int_equal(registry_challenges_parse("Basic realm=\"Registry Realm\"", &l, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(l[0].scheme, "basic");
        assert_string_equal(l[0].realm, "Registry Realm");
        assert_null(l[0].service);

        assert_int_equal(registry_challenges_parse("Bearer realm=\"https://auth.example.com/token\",service=\"reg"
                                                   "istry.example.com\",scope=\"repository:a/b:pull,push\"",
                                                   &l, &n),
                         0);
        assert_int_equal(n, 2);
        assert_string_equal(l[1].scheme, "bearer");
        assert_string_equal(l[1].realm, "https://auth.example.com/token");
        assert_string_equal(l[1].service, "registry.example.com");
        assert_string_equal(l[1].scope, "repository:a/b:pull,push");
        registry_challenges_free(l, n);
        l = NULL;
        n = 0;

        /* several challenges in one value, commas and escapes inside quotes, tokens unquoted */
        assert_int_equal(registry_challenges_parse("Basic realm=\"a, b\", BEARER realm=https://t/x?y=1 , "
                                                   "service=\"s \\\"q\\\"\", scope=\"repository:x:pull "
                                                   "repository:y:pull\", error=\"invalid_token\"",
                                                   &l, &n),
                         0);
        assert_int_equal(n, 2);
        assert_string_equal(l[0].scheme, "basic");
        assert_string_equal(l[0].realm, "a, b");
        assert_string_equal(l[1].scheme, "bearer");
        assert_string_equal(l[1].realm, "https://t/x?y=1");
        assert_string_equal(l[1].service, "s \"q\"");
        assert_string_equal(l[1].scope, "repository:x:pull repository:y:pull");
        registry_challenges_free(l, n);
        l = NULL;
        n = 0;

        assert_int_equal(registry_challenges_parse("Negotiate, Basic", &l, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(l[0].scheme, "negotiate");
        assert_string_equal(l[1].scheme, "basic");
        registry_challenges_free(l, n);
        l = NULL;
        n = 0;

        assert_int_equal(registry_challenges_parse("Bearer realm=\"unterminated", &l, &n), -EINVAL);
        assert_int_equal(registry_challenges_parse("Bearer realm=\"x\" junk", &l, &n), -EINVAL);
        assert_int_equal(registry_challenges_parse("=x", &l, &n), -EINVAL);
        registry_challenges_free(l, n);
}

static void test_retry_after(void **state) {
        int64_t ms = -1;
        time_t now = 1700000000; /* Tue, 14 Nov 2023 22:13:20 GMT */

        assert_int_equal(http_retry_after_parse("3", now, &ms), 0);
        assert_int_equal(ms, 3000);
        assert_int_equal(http_retry_after_parse(" 0 ", now, &ms), 0);
        assert_int_equal(ms, 0);
        assert_int_equal(http_retry_after_parse("Tue, 14 Nov 2023 22:13:25 GMT", now, &ms), 0);
        assert_int_equal(ms, 5000);
        assert_int_equal(http_retry_after_parse("Tue, 14 Nov 2023 22:00:00 GMT", now, &ms), 0);
        assert_int_equal(ms, 0);
        assert_int_equal(http_retry_after_parse("99999999999999999999", now, &ms), 0);
        assert_true(ms > 0);
        assert_int_equal(http_retry_after_parse("-1", now, &ms), -EINVAL);
        assert_int_equal(http_retry_after_parse("1.5", now, &ms), -EINVAL);
        assert_int_equal(http_retry_after_parse("soon", now, &ms), -EINVAL);
        assert_int_equal(http_retry_after_parse("", now, &ms), -EINVAL);
        assert_int_equal(http_retry_after_parse(NULL, now, &ms), -EINVAL);
}

static void expect_link(const char *value, const char *want) {
        char *got = http_link_target(value, "next");
        const char *shown = value ? value : "(null)";

        if (!want) {
                if (got)
                        fail_msg("'%s' gave '%s'", shown, got);
                return;
        }
        if (!got)
                fail_msg("'%s' gave nothing, not '%s'", shown, want);
        assert_string_equal(got, want);
        free(got);
}

/* Link headers (RFC 8288), as registries page referrers and tag lists. */
static void test_link_target(void **state) {
        (void) state;
        expect_link("</v2/r/referrers/sha256:ab?n=1&last=x>; rel=\"next\"", "/v2/r/referrers/sha256:ab?n=1&last=x");
        expect_link("<http://h/a>; rel=next", "http://h/a");
        expect_link("<http://h/p>; rel=\"prev\", <http://h/n,1>; title=\"a, b; c\"; REL=\"last Next\"", "http://h/n,1");
        expect_link(" , <x>;rel=next", "x");
        expect_link("<x>; rel=\"prev\"", NULL);
        expect_link("<x>; rel=nextpage", NULL);
        expect_link("<x; rel=next", NULL);
        expect_link("x; rel=next", NULL);
        expect_link("<x>; rel=\"next", NULL);
        expect_link("<x> junk; rel=next", NULL);
        expect_link("", NULL);
        expect_link(NULL, NULL);
}

static void test_platform(void **state) {
        struct oci_platform p;
        struct smith_error *err = NULL;

        assert_int_equal(oci_platform_parse("linux/arm64/v8", &p, &err), 0);
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.arch, "arm64");
        assert_string_equal(p.variant, "v8");
        assert_int_equal(oci_platform_parse("linux/amd64", &p, &err), 0);
        assert_string_equal(p.arch, "amd64");
        assert_string_equal(p.variant, "");
        assert_int_equal(oci_platform_parse(NULL, &p, &err), 0);
        assert_string_equal(p.os, "linux");
        assert_string_equal(p.arch, oci_host_architecture());

        /* containerd's names and canonical variants */
        static const struct {
                const char *in, *arch, *variant, *debian;
        } names[] = {
                { "linux/aarch64", "arm64", "v8", "arm64" },   { "linux/arm64", "arm64", "v8", "arm64" },
                { "linux/arm64/8", "arm64", "v8", "arm64" },   { "linux/x86_64", "amd64", "", "amd64" },
                { "linux/amd64/v1", "amd64", "", "amd64" },    { "linux/arm", "arm", "v7", "armhf" },
                { "linux/armhf", "arm", "v7", "armhf" },       { "linux/armel", "arm", "v6", "armel" },
                { "linux/arm/v5", "arm", "v5", "armel" },      { "linux/ppc64el", "ppc64le", "", "ppc64el" },
                { "linux/i386", "386", "", "i386" },           { "linux/s390x", "s390x", "", "s390x" },
                { "linux/riscv64", "riscv64", "", "riscv64" },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                const struct oci_arch *a;
                assert_int_equal(oci_platform_parse(names[i].in, &p, &err), 0);
                assert_string_equal(p.arch, names[i].arch);
                assert_string_equal(p.variant, names[i].variant);
                a = oci_platform_arch(&p);
                assert_non_null(a);
                assert_string_equal(a->debian, names[i].debian);
                /* an ELF file tells the machine, not the arm level: arm is v7 */
                assert_string_equal(oci_arch_for_elf(a->elf_class, a->elf_data, a->elf_machine)->debian,
                                    streq(names[i].arch, "arm") ? "armhf" : a->debian);
        }
        assert_int_equal(oci_platform_parse("linux/sparc64", &p, &err), 0);
        assert_null(oci_platform_arch(&p));

        /* matching: names normalised, older arm and amd64 levels run */
        assert_int_equal(oci_platform_parse("linux/arm64", &p, &err), 0);
        assert_true(oci_platform_matches(&p, "linux", "arm64", NULL));
        assert_true(oci_platform_matches(&p, "linux", "aarch64", "v8"));
        assert_false(oci_platform_matches(&p, "linux", "amd64", NULL));
        assert_int_equal(oci_platform_parse("linux/arm/v7", &p, &err), 0);
        assert_true(oci_platform_matches(&p, "linux", "arm", "v6"));
        assert_true(oci_platform_matches(&p, "linux", "arm", NULL));
        assert_false(oci_platform_matches(&p, "linux", "arm", "v8"));
        assert_int_equal(oci_platform_parse("linux/amd64/v3", &p, &err), 0);
        assert_true(oci_platform_matches(&p, "linux", "amd64", NULL));
        assert_true(oci_platform_matches(&p, "linux", "amd64", "v2"));
        assert_false(oci_platform_matches(&p, "linux", "amd64", "v4"));
        assert_false(oci_platform_matches(&p, "windows", "amd64", NULL));
        {
                /* the same level is picked before an older one, wherever it is */
                const char *doc =
                        "{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        "\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
                        "\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
                        "\"variant\":\"v6\"}},{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        "\"digest\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\","
                        "\"size\":2,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
                        "\"variant\":\"v7\"}}]}";
                json_t *j = json_loads(doc, 0, NULL);
                struct oci_index_choice ch;
                assert_non_null(j);
                assert_int_equal(oci_platform_parse("linux/arm", &p, &err), 0);
                assert_int_equal(oci_index_pick(j, "sha256:x", &p, SMITH_ERR_SOURCE, &ch, &err), 0);
                assert_int_equal(ch.size, 2);
                assert_int_equal(oci_platform_parse("linux/arm/v6", &p, &err), 0);
                assert_int_equal(oci_index_pick(j, "sha256:x", &p, SMITH_ERR_SOURCE, &ch, &err), 0);
                assert_int_equal(ch.size, 1);
                json_decref(j);
        }

        const char *bad[] = { "linux",       "linux/",       "/amd64", "linux/amd64/", "linux/amd64/v8/x",
                              "Linux/amd64", "linux/a md64", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (oci_platform_parse(bad[i], &p, &err) == 0)
                        fail_msg("platform '%s' accepted", bad[i]);
                assert_int_equal(err->kind, SMITH_ERR_USAGE);
                error_free(err);
                err = NULL;
        }

        struct registry_ref *r = NULL;
        struct registry_client *c = NULL;
        struct registry_opts o = { .platform = "linux" };
        assert_int_equal(registry_ref_parse("http://127.0.0.1:1/x", 0, &r, &err), 0);
        assert_int_equal(registry_client_new(r, &o, &c, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_USAGE);
        error_free(err);
        registry_ref_free(r);
}

static void test_error_message(void **state) {
        const char *b1 = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\",\"detail\":"
                         "{}},{\"code\":\"X\"}]}";
        const char *b2 = "{\"errors\":[{\"code\":\"BLOB_UPLOAD_INVALID\"}]}";
        const char *b3 = "{\"errors\":[{\"message\":\"line\\nbreak\\u001b[31m\"}]}";
        _cleanup_free_ char *m1 = registry_error_message(b1, strlen(b1), 404);
        _cleanup_free_ char *m2 = registry_error_message(b2, strlen(b2), 400);
        _cleanup_free_ char *m3 = registry_error_message(b3, strlen(b3), 500);
        _cleanup_free_ char *m4 = registry_error_message("<html>", 6, 502);
        _cleanup_free_ char *m5 = registry_error_message(NULL, 0, 401);
        _cleanup_free_ char *m6 = registry_error_message("{\"details\":\"bad creds\"}", 23, 401);
        assert_string_equal(m1, "manifest unknown (404)");
        assert_string_equal(m2, "blob upload invalid (400)");
        assert_null(strchr(m3, '\n'));
        assert_null(strchr(m3, '\033'));
        assert_string_equal(m4, "bad gateway (502)");
        assert_string_equal(m5, "authentication required (401)");
        assert_string_equal(m6, "bad creds (401)");
        /* OAuth2 token errors: the description, else the code */
        const char *b8 = "{\"error\":\"invalid_grant\",\"error_description\":\"unknown refresh token\"}";
        _cleanup_free_ char *m8 = registry_error_message(b8, strlen(b8), 400);
        _cleanup_free_ char *m9 = registry_error_message("{\"error\":\"invalid_grant\"}", 25, 400);
        assert_string_equal(m8, "unknown refresh token (400)");
        assert_string_equal(m9, "invalid_grant (400)");

        _cleanup_free_ char *long_body = malloc(5000);
        memset(long_body, 'a', 5000);
        memcpy(long_body, "{\"message\":\"", 12);
        memcpy(long_body + 4998, "\"}", 2);
        _cleanup_free_ char *m7 = registry_error_message(long_body, 5000, 500);
        assert_true(strlen(m7) < 300);
}

static void test_base64(void **state) {
        _cleanup_free_ char *e = registry_base64_encode("alice:pw1", 9);
        _cleanup_free_ char *d = NULL, *d2 = NULL;
        size_t n;
        assert_string_equal(e, "YWxpY2U6cHcx");
        assert_int_equal(registry_base64_decode(e, &d, &n), 0);
        assert_int_equal(n, 9);
        assert_string_equal(d, "alice:pw1");
        assert_int_equal(registry_base64_decode("YQ==", &d2, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(d2, "a");
        char *bad = NULL;
        assert_int_equal(registry_base64_decode("YQ=", &bad, &n), -EINVAL);
        assert_int_equal(registry_base64_decode("Y!==", &bad, &n), -EINVAL);
        assert_null(bad);
}

/* --- credentials --- */

/* Looks host up and checks what comes back: user/pass (NULL: no username)
 * and the identity token (NULL: none). */
static void lookup_expect_token(const char *host, bool hub, const char *repo, const char *user, const char *pass,
                                const char *token) {
        struct registry_credentials cr = { 0 };
        struct smith_error *err = NULL;
        if (registry_credentials_lookup(host, hub, repo, &cr, &err) < 0)
                fail_msg("lookup '%s': %s", host, err->msg);
        if (user) {
                if (!cr.username)
                        fail_msg("lookup '%s': no credentials", host);
                assert_string_equal(cr.username, user);
                assert_string_equal(cr.password, pass);
        } else if (cr.username)
                fail_msg("lookup '%s': unexpected credentials for '%s'", host, cr.username);
        if (token) {
                if (!cr.identity_token)
                        fail_msg("lookup '%s': no identity token", host);
                assert_string_equal(cr.identity_token, token);
        } else if (cr.identity_token)
                fail_msg("lookup '%s': unexpected identity token", host);
        registry_credentials_release(&cr);
}

static void lookup_expect(const char *host, bool hub, const char *repo, const char *user, const char *pass) {
        lookup_expect_token(host, hub, repo, user, pass, NULL);
}

static void test_credentials(void **state) {
        _cleanup_free_ char *dir = tmp_dir();
        _cleanup_free_ char *bin = fmt("%s/bin", dir), *home = fmt("%s/home", dir), *xdg = fmt("%s/xdg", dir);
        _cleanup_free_ char *dcfg = fmt("%s/dcfg", dir), *authfile = fmt("%s/auth.json", dir);
        _cleanup_free_ char *old_path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
        _cleanup_free_ char *helper = fmt("%s/docker-credential-test", bin);
        _cleanup_free_ char *new_path = fmt("%s:%s", bin, old_path);
        _cleanup_free_ char *b_alice = registry_base64_encode("alice:pw1", 9);
        _cleanup_free_ char *b_bob = registry_base64_encode("bob:pw:2@x", 10);
        _cleanup_free_ char *b_team = registry_base64_encode("team:t", 6);
        _cleanup_free_ char *b_all = registry_base64_encode("all:a", 5);
        _cleanup_free_ char *b_xdg = registry_base64_encode("xdg:x", 5);
        _cleanup_free_ char *b_acr = registry_base64_encode("00000000-0000-0000-0000-000000000000:", 37);
        struct registry_credentials cr = { 0 };
        struct smith_error *err = NULL;

        assert_int_equal(mkdir_p(bin, 0755), 0);
        assert_int_equal(mkdir_p(home, 0755), 0);
        assert_int_equal(mkdir_p(dcfg, 0755), 0);
        _cleanup_free_ char *xdgc = fmt("%s/containers", xdg);
        assert_int_equal(mkdir_p(xdgc, 0755), 0);
        _cleanup_free_ char *homed = fmt("%s/.docker", home);
        assert_int_equal(mkdir_p(homed, 0755), 0);

        /* the helper answers for helped.*, stored.* and hub, with an identity
         * token (Username "<token>") for tokened.*, an empty one for notoken.*;
         * "not found" otherwise */
        write_file(helper,
                   "#!/bin/sh\n"
                   "[ \"$1\" = get ] || exit 3\n"
                   "host=$(cat)\n"
                   "case \"$host\" in\n"
                   "helped.example.com|stored.example.com|https://index.docker.io/v1/)\n"
                   "  printf '{\"ServerURL\":\"%s\",\"Username\":\"u-%s\",\"Secret\":\"s3cr3t\"}' \"$host\" "
                   "\"$host\";;\n"
                   "tokened.example.com)\n"
                   "  printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"idt-helper\"}' "
                   "\"$host\";;\n"
                   "notoken.example.com) printf '{\"Username\":\"<token>\",\"Secret\":\"\"}';;\n"
                   "broken.example.com) echo boom >&2; exit 2;;\n"
                   "garbage.example.com) echo 'not json';;\n"
                   "*) echo 'credentials not found in native keychain'; exit 1;;\n"
                   "esac\n",
                   0755);
        setenv("PATH", new_path, 1);
        clear_cred_env();
        setenv("HOME", home, 1);

        /* nothing anywhere */
        lookup_expect("reg.example.com", false, "x", NULL, NULL);

        /* ~/.docker/config.json: key variants */
        _cleanup_free_ char *homecfg = fmt("%s/.docker/config.json", home);
        _cleanup_free_ char *cfg1 = fmt("{\"auths\":{"
                                        "\"https://other.example.com/v1/\":{\"auth\":\"%s\"},"
                                        "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"hubpw\"},"
                                        "\"quay.example.com/team\":{\"auth\":\"%s\"},"
                                        "\"quay.example.com\":{\"auth\":\"%s\"},"
                                        "\"http://plain.example.com:5000\":{\"auth\":\"%s\"},"
                                        "\"empty.example.com\":{},"
                                        "\"acr.example.com\":{\"auth\":\"%s\",\"identitytoken\":\"idt-acr\"},"
                                        "\"https://onlytoken.example.com\":{\"identitytoken\":\"idt-only\"},"
                                        "\"emptytoken.example.com\":{\"identitytoken\":\"\"}"
                                        "},\"credHelpers\":{\"helped.example.com\":\"test\","
                                        "\"tokened.example.com\":\"test\",\"notoken.example.com\":\"test\"}}",
                                        b_bob, b_team, b_all, b_alice, b_acr);
        write_file(homecfg, cfg1, 0600);
        lookup_expect("other.example.com", false, "x", "bob", "pw:2@x");
        lookup_expect("registry-1.docker.io", true, "library/debian", "hub", "hubpw");
        lookup_expect("quay.example.com", false, "team/app", "team", "t");
        lookup_expect("quay.example.com", false, "teammate/app", "all", "a");
        lookup_expect("plain.example.com:5000", false, "x", "alice", "pw1");
        lookup_expect("plain.example.com", false, "x", NULL, NULL);
        lookup_expect("empty.example.com", false, "x", NULL, NULL);
        lookup_expect("helped.example.com", false, "x", "u-helped.example.com", "s3cr3t");
        lookup_expect("nothere.example.com", false, "x", NULL, NULL);
        /* identity tokens: docker login's entry keeps its username beside
         * the token; a token alone is credentials too; a helper's "<token>"
         * username means the secret is one (and is no username) */
        lookup_expect_token("acr.example.com", false, "x", "00000000-0000-0000-0000-000000000000", "", "idt-acr");
        lookup_expect_token("onlytoken.example.com", false, "x", NULL, NULL, "idt-only");
        lookup_expect("emptytoken.example.com", false, "x", NULL, NULL);
        lookup_expect_token("tokened.example.com", false, "x", NULL, NULL, "idt-helper");
        lookup_expect("notoken.example.com", false, "x", NULL, NULL);

        /* $DOCKER_CONFIG wins over ~/.docker; credsStore for what auths lack */
        _cleanup_free_ char *dcfgf = fmt("%s/config.json", dcfg);
        _cleanup_free_ char *cfg2 = fmt("{\"auths\":{\"other.example.com\":{\"auth\":\"%s\"},"
                                        "\"stored.example.com\":{}},\"credsStore\":\"test\","
                                        "\"credHelpers\":{\"broken.example.com\":\"test\","
                                        "\"garbage.example.com\":\"test\",\"evil.example.com\":\"../../bin/sh\"}}",
                                        b_alice);
        write_file(dcfgf, cfg2, 0600);
        setenv("DOCKER_CONFIG", dcfg, 1);
        lookup_expect("other.example.com", false, "x", "alice", "pw1");
        lookup_expect("stored.example.com", false, "x", "u-stored.example.com", "s3cr3t");
        lookup_expect("registry-1.docker.io", true, "library/x", "u-https://index.docker.io/v1/", "s3cr3t");
        lookup_expect("nothere.example.com", false, "x", NULL, NULL);
        const char *failing[] = { "broken.example.com", "garbage.example.com", "evil.example.com" };
        for (size_t i = 0; i < ELEMENTSOF(failing); i++) {
                assert_int_equal(registry_credentials_lookup(failing[i], false, "x", &cr, &err), -1);
                assert_null(cr.username);
                assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
                assert_no_secret(err->msg, "s3cr3t");
                error_free(err);
                err = NULL;
        }

        /* $XDG_RUNTIME_DIR/containers/auth.json comes before docker's config */
        _cleanup_free_ char *xdgf = fmt("%s/containers/auth.json", xdg);
        _cleanup_free_ char *cfg3 = fmt("{\"auths\":{\"other.example.com\":{\"auth\":\"%s\"}}}", b_xdg);
        write_file(xdgf, cfg3, 0600);
        setenv("XDG_RUNTIME_DIR", xdg, 1);
        lookup_expect("other.example.com", false, "x", "xdg", "x");
        lookup_expect("stored.example.com", false, "x", "u-stored.example.com", "s3cr3t");

        /* $REGISTRY_AUTH_FILE replaces the XDG one; a token found there is
         * the answer (docker's helped.* credentials are not looked at) */
        _cleanup_free_ char *cfg4 = fmt("{\"auths\":{\"other.example.com\":{\"auth\":\"%s\"},"
                                        "\"helped.example.com\":{\"identitytoken\":\"idt-podman\"},"
                                        "\"bad.example.com\":{\"auth\":\"bm9jb2xvbg==\"}}}",
                                        b_team);
        write_file(authfile, cfg4, 0600);
        setenv("REGISTRY_AUTH_FILE", authfile, 1);
        lookup_expect("other.example.com", false, "x", "team", "t");
        lookup_expect_token("helped.example.com", false, "x", NULL, NULL, "idt-podman");
        assert_int_equal(registry_credentials_lookup("bad.example.com", false, "x", &cr, &err), -1);
        assert_non_null(strstr(err->msg, "malformed"));
        error_free(err);
        err = NULL;

        /* a malformed file is an error */
        write_file(authfile, "[1,2", 0600);
        assert_int_equal(registry_credentials_lookup("other.example.com", false, "x", &cr, &err), -1);
        error_free(err);

        setenv("PATH", old_path, 1);
        clear_cred_env();
        rm_tree(dir);
}

/* --- the OAuth2 refresh-token form --- */

static void test_token_form(void **state) {
        char *scopes[] = { (char *) "repository:team/cat:pull,push", (char *) "repository:x y:pull", NULL };
        char *none[] = { NULL };
        _cleanup_free_ char *f1 = registry_token_form("a b&c=d/+%\xc3\xa9", "registry.docker.io", scopes);
        _cleanup_free_ char *f2 = registry_token_form("t-1._~Z9", NULL, none);
        _cleanup_free_ char *f3 = registry_token_form("t", "", NULL);

        /* every value percent-encoded, one scope= per scope, client_id last */
        assert_string_equal(f1, "grant_type=refresh_token&refresh_token=a%20b%26c%3Dd%2F%2B%25%C3%A9"
                                "&service=registry.docker.io"
                                "&scope=repository%3Ateam%2Fcat%3Apull%2Cpush&scope=repository%3Ax%20y%3Apull"
                                "&client_id=smith");
        /* unreserved characters stay; no service, no scope */
        assert_string_equal(f2, "grant_type=refresh_token&refresh_token=t-1._~Z9&client_id=smith");
        /* an empty service is sent empty, as distribution does */
        assert_string_equal(f3, "grant_type=refresh_token&refresh_token=t&service=&client_id=smith");
}

/* An identity token is for the token realm only: a Basic challenge gets
 * nothing from a client that has only a token, and docker login's username
 * beside a token is sent without it; a failed token request does not show
 * it. */
static void test_identity_token_scope(void **state) {
        _cleanup_free_ char *dir = tmp_dir();
        _cleanup_free_ char *cfg = fmt("%s/config.json", dir);
        _cleanup_free_ char *b_acr = registry_base64_encode("acr-user:", 9);
        _cleanup_free_ char *conf = fmt("{\"auths\":{\"tokenonly.example.com\":{\"identitytoken\":\"idt-secret-1\"},"
                                        "\"acr.example.com\":{\"auth\":\"%s\",\"identitytoken\":\"idt-secret-2\"}}}",
                                        b_acr);
        char *basic[] = { (char *) "Basic realm=\"r\"", NULL };
        char *bearer[] = { (char *) "Bearer realm=\"http://127.0.0.1:1/token\",service=\"s\"", NULL };
        struct smith_error *err = NULL;

        clear_cred_env();
        setenv("DOCKER_CONFIG", dir, 1);
        setenv("SMITH_NET_RETRY_BASE_MS", "0", 1);
        write_file(cfg, conf, 0600);

        {
                _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
                _cleanup_(registry_client_freep) struct registry_client *c = NULL;
                assert_int_equal(registry_ref_parse("http://tokenonly.example.com/team/x", 0, &r, &err), 0);
                assert_int_equal(registry_client_new(r, NULL, &c, &err), 0);
                assert_int_equal(registry_auth_from_challenges(c, basic, &err), 1);
                assert_null(c->authorization);
                assert_null(c->username);
                assert_non_null(c->identity_token);
                /* the realm cannot be reached: an error that does not show the token */
                assert_int_equal(registry_auth_from_challenges(c, bearer, &err), -1);
                assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
                assert_no_secret(err->msg, "idt-secret");
                assert_null(strchr(err->msg, '\n'));
                error_free(err);
                err = NULL;
        }
        {
                _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
                _cleanup_(registry_client_freep) struct registry_client *c = NULL;
                _cleanup_free_ char *want = fmt("Basic %s", b_acr);
                assert_int_equal(registry_ref_parse("http://acr.example.com/team/x", 0, &r, &err), 0);
                assert_int_equal(registry_client_new(r, NULL, &c, &err), 0);
                assert_int_equal(registry_auth_from_challenges(c, basic, &err), 0);
                assert_string_equal(c->authorization, want);
        }
        unsetenv("SMITH_NET_RETRY_BASE_MS");
        clear_cred_env();
        rm_tree(dir);
}

/* --- against the real docker-registry --- */

struct registry_server {
        char *dir, *root;
        int port;
        pid_t pid;
        char *log;
};

static int free_port(void) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static bool port_open(int port) {
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = htons((uint16_t) port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
        close(fd);
        return ok;
}

static void server_start(struct registry_server *s, const char *htpasswd) {
        _cleanup_free_ char *cfg = NULL, *yml = NULL, *auth = NULL;
        posix_spawn_file_actions_t fa;
        char *argv[4];

        if (system("command -v docker-registry >/dev/null 2>&1") != 0)
                fail_msg("'docker-registry' is not installed: this test needs it");
        *s = (struct registry_server){ 0 };
        s->dir = tmp_dir();
        s->root = fmt("%s/storage", s->dir);
        s->log = fmt("%s/registry.log", s->dir);
        s->port = free_port();
        if (htpasswd)
                auth = fmt("auth:\n  htpasswd:\n    realm: smith-test\n    path: %s\n", htpasswd);
        yml = fmt("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                  "  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n%s",
                  s->root, s->port, auth ? auth : "");
        cfg = fmt("%s/config.yml", s->dir);
        write_file(cfg, yml, 0644);
        argv[0] = (char *) "docker-registry";
        argv[1] = (char *) "serve";
        argv[2] = cfg;
        argv[3] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        assert_int_equal(posix_spawnp(&s->pid, "docker-registry", &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        for (int i = 0; i < 200; i++) {
                if (port_open(s->port))
                        return;
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                nanosleep(&ts, NULL);
        }
        _cleanup_free_ char *cat = fmt("cat %s >&2", s->log);
        (void) system(cat);
        fail_msg("docker-registry did not start on port %d", s->port);
}

static void server_stop(struct registry_server *s) {
        int st;
        kill(s->pid, SIGTERM);
        waitpid(s->pid, &st, 0);
        rm_tree(s->dir);
        free(s->dir);
        free(s->root);
        free(s->log);
}

/* A tiny image in a temp blob dir: layers and a config, and its manifest. */
struct test_image {
        char *dir;
        int blobs_fd;
        char *digests[8];
        int64_t sizes[8];
        size_t n;
        char *manifest;
        size_t manifest_len;
        char manifest_digest[DIGEST_STR_LEN + 1];
};

static void add_blob(struct test_image *img, const void *data, size_t len) {
        char d[DIGEST_STR_LEN + 1];
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -1;
        sha256_digest_of(data, len, d);
        p = fmt("%s/blobs/sha256/%s", img->dir, digest_hex(d));
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, data, len), 0);
        img->digests[img->n] = strdup(d);
        img->sizes[img->n] = (int64_t) len;
        img->n++;
}

static void image_make(struct test_image *img, const char *arch, size_t big) {
        struct smith_error *err = NULL;
        struct oci_descriptor layers[2], config;
        _cleanup_free_ char *cfg = NULL, *bigbuf = NULL;
        char layer1[3000];
        size_t nl = 0;

        *img = (struct test_image){ 0 };
        img->dir = tmp_dir();
        _cleanup_free_ char *bd = fmt("%s/blobs/sha256", img->dir);
        assert_int_equal(mkdir_p(bd, 0755), 0);
        img->blobs_fd = open(img->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(img->blobs_fd >= 0);

        for (size_t i = 0; i < sizeof(layer1); i++)
                layer1[i] = (char) (i * 7 + 3);
        add_blob(img, layer1, sizeof(layer1));
        layers[nl++] = (struct oci_descriptor){ .media_type = (char *) OCI_MT_LAYER_GZIP, .size = img->sizes[0] };
        memcpy(layers[0].digest, img->digests[0], DIGEST_STR_LEN + 1);
        if (big) {
                bigbuf = malloc(big);
                for (size_t i = 0; i < big; i++)
                        bigbuf[i] = (char) ((i * 2654435761u) >> 13);
                add_blob(img, bigbuf, big);
                layers[nl] = (struct oci_descriptor){ .media_type = (char *) OCI_MT_LAYER_GZIP, .size = img->sizes[1] };
                memcpy(layers[nl].digest, img->digests[1], DIGEST_STR_LEN + 1);
                nl++;
        }
        cfg = fmt("{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", arch);
        add_blob(img, cfg, strlen(cfg));
        config = (struct oci_descriptor){ .media_type = (char *) OCI_MT_CONFIG, .size = img->sizes[img->n - 1] };
        memcpy(config.digest, img->digests[img->n - 1], DIGEST_STR_LEN + 1);
        if (oci_manifest_build(&config, layers, nl, false, &img->manifest, &img->manifest_len, &err) < 0)
                fail_msg("manifest: %s", err->msg);
        sha256_digest_of(img->manifest, img->manifest_len, img->manifest_digest);
}

static void image_free(struct test_image *img) {
        for (size_t i = 0; i < img->n; i++)
                free(img->digests[i]);
        free(img->manifest);
        close(img->blobs_fd);
        rm_tree(img->dir);
        free(img->dir);
}

static int push(const char *url, struct test_image *img, struct registry_stats *stats, struct smith_error **err) {
        struct registry_ref *r = NULL;
        struct registry_client *c = NULL;
        int k;
        assert_int_equal(registry_ref_parse(url, 0, &r, err), 0);
        k = registry_client_new(r, NULL, &c, err);
        if (k == 0)
                k = registry_push(c, img->blobs_fd, img->digests, img->sizes, img->manifest, img->manifest_len,
                                  OCI_MT_MANIFEST, err);
        if (stats && c)
                registry_client_stats(c, stats);
        registry_client_free(c);
        registry_ref_free(r);
        return k;
}

static int pull(const char *url, const char *platform, struct registry_manifest_ref *m, struct registry_stats *stats,
                struct smith_error **err) {
        struct registry_ref *r = NULL;
        struct registry_client *c = NULL;
        struct cache *cache = NULL;
        struct registry_opts o = { .platform = platform };
        int k;
        assert_int_equal(registry_ref_parse(url, 0, &r, err), 0);
        assert_int_equal(cache_open(&cache, err), 0);
        k = registry_client_new(r, &o, &c, err);
        if (k == 0)
                k = registry_pull(c, cache, m, err);
        if (stats && c)
                registry_client_stats(c, stats);
        registry_client_free(c);
        cache_free(cache);
        registry_ref_free(r);
        return k;
}

static bool cache_has(const char *cache_dir, const char *digest) {
        _cleanup_free_ char *p = fmt("%s/smith/blobs/sha256/%s", cache_dir, digest_hex(digest));
        return access(p, F_OK) == 0;
}

static int count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* A fresh $XDG_CACHE_HOME below dir. */
static char *fresh_cache(const char *dir, const char *name) {
        char *c = fmt("%s/%s", dir, name);
        assert_int_equal(mkdir_p(c, 0700), 0);
        setenv("XDG_CACHE_HOME", c, 1);
        return c;
}

static void test_registry_push_pull(void **state) {
        struct registry_server s;
        struct test_image img, other, chunky;
        struct registry_manifest_ref m;
        struct registry_stats st;
        struct smith_error *err = NULL;
        _cleanup_free_ char *work = tmp_dir();

        clear_cred_env();
        setenv("SMITH_NET_RETRY_BASE_MS", "5", 1);
        registry_forget_blobs();
        server_start(&s, NULL);
        image_make(&img, oci_host_architecture(), 0);

        /* push, then push again: everything exists */
        _cleanup_free_ char *url = fmt("http://127.0.0.1:%d/test/img:v1", s.port);
        if (push(url, &img, &st, &err) < 0)
                fail_msg("push: %s", err->msg);
        assert_int_equal(st.blobs_uploaded, img.n);
        assert_int_equal(push(url, &img, &st, &err), 0);
        assert_int_equal(st.blobs_existing, img.n);
        assert_int_equal(st.blobs_uploaded, 0);

        /* pull into a fresh cache: manifest and every blob stored, verified */
        _cleanup_free_ char *c1 = fresh_cache(work, "c1");
        if (pull(url, NULL, &m, &st, &err) < 0)
                fail_msg("pull: %s", err->msg);
        assert_string_equal(m.digest, img.manifest_digest);
        assert_string_equal(m.media_type, OCI_MT_MANIFEST);
        assert_int_equal(m.size, img.manifest_len);
        assert_int_equal(st.blobs_downloaded, img.n);
        assert_true(cache_has(c1, img.manifest_digest));
        for (size_t i = 0; i < img.n; i++)
                assert_true(cache_has(c1, img.digests[i]));
        /* again: the store has them all */
        assert_int_equal(pull(url, NULL, &m, &st, &err), 0);
        assert_int_equal(st.blobs_downloaded, 0);
        assert_int_equal(st.blobs_cached, img.n);

        /* by digest, docker-style-free URL without a tag */
        _cleanup_free_ char *c2 = fresh_cache(work, "c2");
        _cleanup_free_ char *by_digest = fmt("http://127.0.0.1:%d/test/img@%s", s.port, img.manifest_digest);
        if (pull(by_digest, NULL, &m, &st, &err) < 0)
                fail_msg("pull by digest: %s", err->msg);
        assert_string_equal(m.digest, img.manifest_digest);

        /* a digest the manifest does not hash to */
        _cleanup_free_ char *wrong = fmt("http://127.0.0.1:%d/test/img:v1@sha256:%s", s.port, HEX64);
        assert_int_equal(pull(wrong, NULL, &m, &st, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        error_free(err);
        err = NULL;

        /* an unknown tag: one line, the registry's words */
        _cleanup_free_ char *nope = fmt("http://127.0.0.1:%d/test/img:nope", s.port);
        assert_int_equal(pull(nope, NULL, &m, &st, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        _cleanup_free_ char *expect = fmt("pull 'http://127.0.0.1:%d/test/img:nope': manifest unknown (404)", s.port);
        assert_string_equal(err->msg, expect);
        error_free(err);
        err = NULL;

        /* cross-repository mount: this process pushed them to test/img */
        _cleanup_free_ char *url2 = fmt("http://127.0.0.1:%d/test/other", s.port);
        if (push(url2, &img, &st, &err) < 0)
                fail_msg("push other: %s", err->msg);
        assert_int_equal(st.blobs_mounted, img.n);
        assert_int_equal(st.blobs_uploaded, 0);
        _cleanup_free_ char *c3 = fresh_cache(work, "c3");
        _cleanup_free_ char *url2l = fmt("http://127.0.0.1:%d/test/other:latest", s.port);
        assert_int_equal(pull(url2l, NULL, &m, &st, &err), 0);
        assert_string_equal(m.digest, img.manifest_digest);

        /* a mount source named by the caller, in a process that saw nothing;
         * one that lacks the blobs falls back to an upload */
        for (int k = 0; k < 2; k++) {
                registry_forget_blobs();
                struct registry_ref *r = NULL;
                struct registry_client *c = NULL;
                _cleanup_free_ char *u = fmt("http://127.0.0.1:%d/test/third%d", s.port, k);
                assert_int_equal(registry_ref_parse(u, 0, &r, &err), 0);
                assert_int_equal(registry_client_new(r, NULL, &c, &err), 0);
                assert_int_equal(registry_client_add_mount_source(c, k == 0 ? "test/img" : "test/empty", &err), 0);
                assert_int_equal(registry_client_add_mount_source(c, "bad:repo", &err), -1);
                assert_int_equal(err->kind, SMITH_ERR_USAGE);
                error_free(err);
                err = NULL;
                if (registry_push(c, img.blobs_fd, img.digests, img.sizes, img.manifest, img.manifest_len,
                                  OCI_MT_MANIFEST, &err) < 0)
                        fail_msg("push third: %s", err->msg);
                assert_int_equal(c->stats.blobs_mounted, k == 0 ? img.n : 0);
                assert_int_equal(c->stats.blobs_uploaded, k == 0 ? 0 : img.n);
                registry_client_free(c);
                registry_ref_free(r);
        }

        /* chunked upload (PATCH) of a blob larger than the chunk size */
        setenv("SMITH_REGISTRY_CHUNK", "65536", 1);
        image_make(&chunky, oci_host_architecture(), 200000);
        _cleanup_free_ char *url3 = fmt("http://127.0.0.1:%d/test/chunky:c", s.port);
        if (push(url3, &chunky, &st, &err) < 0)
                fail_msg("push chunky: %s", err->msg);
        unsetenv("SMITH_REGISTRY_CHUNK");
        assert_true(st.chunks >= 4);
        _cleanup_free_ char *c4 = fresh_cache(work, "c4");
        if (pull(url3, NULL, &m, &st, &err) < 0)
                fail_msg("pull chunky: %s", err->msg);
        assert_string_equal(m.digest, chunky.manifest_digest);
        assert_true(cache_has(c4, chunky.digests[1]));

        /* an index: the host's platform is chosen unless another is asked for */
        const char *other_arch = streq(oci_host_architecture(), "s390x") ? "amd64" : "s390x";
        image_make(&other, other_arch, 0);
        _cleanup_free_ char *o_url = fmt("http://127.0.0.1:%d/test/multi@%s", s.port, other.manifest_digest);
        _cleanup_free_ char *h_url = fmt("http://127.0.0.1:%d/test/multi@%s", s.port, img.manifest_digest);
        assert_int_equal(push(o_url, &other, &st, &err), 0);
        assert_int_equal(push(h_url, &img, &st, &err), 0);
        _cleanup_free_ char *index = fmt("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":["
                                         "{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                                         "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}},"
                                         "{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
                                         "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
                                         other.manifest_digest, other.manifest_len, other_arch, img.manifest_digest,
                                         img.manifest_len, oci_host_architecture());
        {
                struct registry_ref *r = NULL;
                struct registry_client *c = NULL;
                _cleanup_free_ char *iu = fmt("http://127.0.0.1:%d/test/multi:all", s.port);
                assert_int_equal(registry_ref_parse(iu, 0, &r, &err), 0);
                assert_int_equal(registry_client_new(r, NULL, &c, &err), 0);
                if (registry_push(c, img.blobs_fd, NULL, NULL, index, strlen(index), OCI_MT_INDEX, &err) < 0)
                        fail_msg("push index: %s", err->msg);
                registry_client_free(c);
                registry_ref_free(r);
        }
        _cleanup_free_ char *c5 = fresh_cache(work, "c5");
        _cleanup_free_ char *all = fmt("http://127.0.0.1:%d/test/multi:all", s.port);
        if (pull(all, NULL, &m, &st, &err) < 0)
                fail_msg("pull index: %s", err->msg);
        assert_string_equal(m.digest, img.manifest_digest);
        char index_digest[DIGEST_STR_LEN + 1];
        sha256_digest_of(index, strlen(index), index_digest);
        assert_true(cache_has(c5, index_digest));
        _cleanup_free_ char *plat = fmt("linux/%s", other_arch);
        assert_int_equal(pull(all, plat, &m, &st, &err), 0);
        assert_string_equal(m.digest, other.manifest_digest);
        assert_int_equal(pull(all, "linux/mips64le/v9", &m, &st, &err), -1);
        assert_non_null(strstr(err->msg, "no image for platform 'linux/mips64le/v9'"));
        error_free(err);
        err = NULL;

        /* a blob the registry serves wrong: error, nothing stored, no temp file left */
        _cleanup_free_ char *data = fmt("%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", s.root,
                                        digest_hex(img.digests[0]), digest_hex(img.digests[0]));
        {
                _cleanup_free_ char *buf = NULL;
                size_t len;
                assert_int_equal(read_file_at(AT_FDCWD, data, 1 << 20, &buf, &len), 0);
                buf[len / 2] ^= 1;
                int fd = open(data, O_WRONLY | O_TRUNC | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(write_full(fd, buf, len), 0);
                close(fd);
        }
        _cleanup_free_ char *c6 = fresh_cache(work, "c6");
        assert_int_equal(pull(url, NULL, &m, &st, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        assert_non_null(strstr(err->msg, "digest mismatch"));
        assert_non_null(strstr(err->msg, img.digests[0]));
        error_free(err);
        err = NULL;
        assert_false(cache_has(c6, img.digests[0]));
        assert_false(cache_has(c6, img.manifest_digest));
        _cleanup_free_ char *c6tmp = fmt("%s/smith/tmp", c6);
        assert_int_equal(count_entries(c6tmp), 0);

        server_stop(&s);

        /* nobody listening: retried, then a registry error naming the URL */
        _cleanup_free_ char *gone = fmt("http://127.0.0.1:%d/test/img:v1", s.port);
        assert_int_equal(pull(gone, NULL, &m, &st, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        assert_int_equal(st.retries, HTTP_RETRY_ATTEMPTS - 1);
        assert_non_null(strstr(err->msg, gone));
        error_free(err);

        image_free(&img);
        image_free(&other);
        image_free(&chunky);
        rm_tree(work);
        unsetenv("SMITH_NET_RETRY_BASE_MS");
        registry_forget_blobs();
}

static void test_registry_basic_auth(void **state) {
        struct registry_server s;
        struct test_image img;
        struct registry_manifest_ref m;
        struct registry_stats st;
        struct smith_error *err = NULL;
        _cleanup_free_ char *work = tmp_dir();
        const char *secret = "p@ss:w/rd%x";
        _cleanup_free_ char *htp = fmt("%s/htpasswd", work);
        _cleanup_free_ char *cmd = fmt("htpasswd -Bbn smith '%s' > %s", secret, htp);

        if (system("command -v htpasswd >/dev/null 2>&1") != 0)
                fail_msg("'htpasswd' is not installed (apache2-utils): this test needs it");
        assert_int_equal(run(cmd), 0);
        clear_cred_env();
        setenv("SMITH_NET_RETRY_BASE_MS", "5", 1);
        registry_forget_blobs();
        server_start(&s, htp);
        image_make(&img, oci_host_architecture(), 0);

        /* credentials in the URL, percent-encoded */
        _cleanup_free_ char *url = fmt("http://smith:p%%40ss%%3Aw%%2Frd%%25x@127.0.0.1:%d/test/img:v1", s.port);
        if (push(url, &img, &st, &err) < 0)
                fail_msg("push: %s", err->msg);
        assert_int_equal(st.blobs_uploaded, img.n);

        _cleanup_free_ char *c1 = fresh_cache(work, "c1");
        if (pull(url, NULL, &m, &st, &err) < 0)
                fail_msg("pull: %s", err->msg);
        assert_string_equal(m.digest, img.manifest_digest);
        for (size_t i = 0; i < img.n; i++)
                assert_true(cache_has(c1, img.digests[i]));

        /* anonymous and wrong credentials are refused, without leaking anything */
        _cleanup_free_ char *c2 = fresh_cache(work, "c2");
        _cleanup_free_ char *anon = fmt("http://127.0.0.1:%d/test/img:v1", s.port);
        assert_int_equal(pull(anon, NULL, &m, &st, &err), -1);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        assert_non_null(strstr(err->msg, "(401)"));
        error_free(err);
        err = NULL;
        _cleanup_free_ char *wrong = fmt("http://smith:wr0ngpw@127.0.0.1:%d/test/img:v1", s.port);
        assert_int_equal(pull(wrong, NULL, &m, &st, &err), -1);
        assert_non_null(strstr(err->msg, "(401)"));
        assert_no_secret(err->msg, "wr0ngpw");
        _cleanup_free_ char *expect = fmt("pull 'http://127.0.0.1:%d/test/img:v1'", s.port);
        assert_true(strneq(err->msg, expect, strlen(expect)));
        error_free(err);
        err = NULL;
        assert_int_equal(push(wrong, &img, &st, &err), -1);
        assert_no_secret(err->msg, "wr0ngpw");
        error_free(err);
        err = NULL;

        /* credentials from $REGISTRY_AUTH_FILE */
        _cleanup_free_ char *pair = fmt("smith:%s", secret);
        _cleanup_free_ char *b64 = registry_base64_encode(pair, strlen(pair));
        _cleanup_free_ char *af = fmt("%s/auth.json", work);
        _cleanup_free_ char *json = fmt("{\"auths\":{\"127.0.0.1:%d\":{\"auth\":\"%s\"}}}", s.port, b64);
        write_file(af, json, 0600);
        setenv("REGISTRY_AUTH_FILE", af, 1);
        _cleanup_free_ char *c3 = fresh_cache(work, "c3");
        if (pull(anon, NULL, &m, &st, &err) < 0)
                fail_msg("pull with auth file: %s", err->msg);
        assert_string_equal(m.digest, img.manifest_digest);
        assert_true(cache_has(c3, img.digests[0]));

        server_stop(&s);
        _cleanup_free_ char *log = NULL;
        image_free(&img);
        rm_tree(work);
        clear_cred_env();
        unsetenv("SMITH_NET_RETRY_BASE_MS");
        registry_forget_blobs();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ref_parse_table),      cmocka_unit_test(test_ref_display),
                cmocka_unit_test(test_ref_errors),           cmocka_unit_test(test_is_registry_package),
                cmocka_unit_test(test_challenges),           cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_link_target),          cmocka_unit_test(test_platform),
                cmocka_unit_test(test_error_message),        cmocka_unit_test(test_base64),
                cmocka_unit_test(test_credentials),          cmocka_unit_test(test_token_form),
                cmocka_unit_test(test_identity_token_scope), cmocka_unit_test(test_registry_push_pull),
                cmocka_unit_test(test_registry_basic_auth),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
