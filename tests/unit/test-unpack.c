/* Unit tests for layer unpacking (src/lib/layer/unpack.c): layers built
 * here with libarchive's writer (and zlib/zstd for compression), applied to
 * a temp root beside a sentinel directory that hostile layers must never
 * touch.
 *
 * The whole suite runs twice: once as started, then main() re-executes
 * itself with SMITH_NO_OPENAT2=1 (read once per process by root_openat), so
 * every containment case also covers the chase() fallback. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer-fixtures.h"
#include "layer/unpack.h"

/* --- fixtures --- */

/* type: 'f' file, 'd' dir, 'l' symlink (data = target), 'h' hardlink
 * (data = target), 'c' char device, 'p' fifo. */
struct tent {
        char type;
        const char *name;
        const char *data;
        mode_t mode;
};

static void tar_build(const struct tent *ents, size_t n, struct buf *out) {
        struct archive *a = archive_write_new();

        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                const struct tent *t = &ents[i];
                size_t len = 0;

                archive_entry_set_pathname(e, t->name);
                archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
                switch (t->type) {
                case 'f':
                        len = t->data ? strlen(t->data) : 0;
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_size(e, (la_int64_t) len);
                        break;
                case 'd':
                        archive_entry_set_filetype(e, AE_IFDIR);
                        break;
                case 'l':
                        archive_entry_set_filetype(e, AE_IFLNK);
                        archive_entry_set_symlink(e, t->data);
                        break;
                case 'h':
                        archive_entry_set_filetype(e, AE_IFREG);
                        archive_entry_set_hardlink(e, t->data);
                        archive_entry_set_size(e, 0);
                        break;
                case 'c':
                        archive_entry_set_filetype(e, AE_IFCHR);
                        archive_entry_set_rdev(e, makedev(1, 3));
                        break;
                case 'p':
                        archive_entry_set_filetype(e, AE_IFIFO);
                        break;
                }
                assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
                if (len)
                        assert_int_equal(archive_write_data(a, t->data, len), (la_ssize_t) len);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

struct layer {
        struct buf blob;
        struct layer_ref ref;
};

static void layer_build(const struct tent *ents, size_t n, int comp, struct layer *l) {
        struct buf tar = {};

        memset(l, 0, sizeof(*l));
        tar_build(ents, n, &tar);
        compress_buf(&tar, comp, &l->blob);
        sha256_digest_of(tar.data, tar.len, l->ref.diff_id);
        sha256_digest_of(l->blob.data, l->blob.len, l->ref.digest);
        l->ref.size = (int64_t) l->blob.len;
        l->ref.media_type = (char *) "application/vnd.oci.image.layer.v1.tar";
        free(tar.data);
}

static void layer_done(struct layer *l) {
        free(l->blob.data);
}

static int blob_fd(const struct layer *l) {
        int fd = memfd_create("blob", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, l->blob.data, l->blob.len), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

/* A test world: top/root (the root) and top/sentinel/sentinel (host data). */
struct world {
        char *top, *root, *sdir, *sfile;
        int root_fd;
        struct stat sst;
};

static int world_setup(void **state) {
        struct world *w = calloc(1, sizeof(*w));
        int fd;

        assert_int_equal(mkdtemp_in("/tmp", "smith-unpack-", &w->top), 0);
        w->root = path_join(w->top, "root");
        w->sdir = path_join(w->top, "sentinel");
        w->sfile = path_join(w->sdir, "sentinel");
        assert_int_equal(mkdir(w->root, 0755), 0);
        assert_int_equal(mkdir(w->sdir, 0755), 0);
        fd = open(w->sfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, "keep", 4), 0);
        close(fd);
        assert_int_equal(stat(w->sfile, &w->sst), 0);
        w->root_fd = open(w->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(w->root_fd >= 0);
        *state = w;
        return 0;
}

static size_t dir_count(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        size_t n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

/* The sentinel is untouched and nothing appeared beside the root. */
static void assert_sentinel(struct world *w) {
        struct stat st;
        char *data = NULL;
        size_t len;

        assert_int_equal(stat(w->sfile, &st), 0);
        assert_int_equal(st.st_ino, w->sst.st_ino);
        assert_int_equal(st.st_nlink, 1);
        assert_int_equal(st.st_mtim.tv_nsec, w->sst.st_mtim.tv_nsec);
        assert_int_equal(read_file_at(AT_FDCWD, w->sfile, 100, &data, &len), 0);
        assert_string_equal(data, "keep");
        free(data);
        assert_int_equal(dir_count(w->sdir), 1);
        assert_int_equal(dir_count(w->top), 2);
        assert_int_equal(access("/smith-unpack-escaped", F_OK), -1);
        assert_int_equal(access("/tmp/smith-unpack-escaped", F_OK), -1);
}

static int world_teardown(void **state) {
        struct world *w = *state;
        assert_sentinel(w);
        close(w->root_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, w->top), 0);
        free(w->top);
        free(w->root);
        free(w->sdir);
        free(w->sfile);
        free(w);
        return 0;
}

static int apply_opts(struct world *w, const struct tent *ents, size_t n, int comp, const struct unpack_opts *o,
                      struct unpack_stats *st, struct smith_error **err) {
        struct layer l;
        int fd, r;

        layer_build(ents, n, comp, &l);
        fd = blob_fd(&l);
        r = layer_unpack(w->root_fd, fd, &l.ref, o, st, err);
        close(fd);
        layer_done(&l);
        return r;
}

static int apply(struct world *w, const struct tent *ents, size_t n, int comp, struct unpack_stats *st,
                 struct smith_error **err) {
        struct unpack_opts o = {};
        return apply_opts(w, ents, n, comp, &o, st, err);
}

static void assert_ok(struct world *w, const struct tent *ents, size_t n, int comp, struct unpack_stats *st) {
        struct smith_error *err = NULL;
        int r = apply(w, ents, n, comp, st, &err);
        if (r < 0)
                fail_msg("unpack: %s", err ? err->msg : "?");
        assert_null(err);
}

/* Fails with a message containing what. */
static void assert_fails(struct world *w, const struct tent *ents, size_t n, const char *what) {
        struct smith_error *err = NULL;
        assert_true(apply(w, ents, n, PLAIN, NULL, &err) < 0);
        assert_non_null(err);
        if (!strstr(err->msg, what))
                fail_msg("error '%s' lacks '%s'", err->msg, what);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        error_free(err);
}

static char *root_read(struct world *w, const char *path) {
        char *data = NULL;
        size_t len;
        int r = root_read_file(w->root_fd, path, 1 << 20, &data, &len);
        if (r < 0)
                return NULL;
        return data;
}

static bool root_exists(struct world *w, const char *path) {
        struct stat st;
        _cleanup_free_ char *p = path_join(w->root, path);
        return lstat(p, &st) == 0;
}

static void assert_root_file(struct world *w, const char *path, const char *content) {
        _cleanup_free_ char *data = root_read(w, path);
        if (!data)
                fail_msg("'%s' missing in root", path);
        assert_string_equal(data, content);
}

/* --- positive cases --- */

static const struct tent basic_ents[] = {
        { 'd', "etc/", NULL, 0700 },
        { 'f', "etc/hostname", "box\n", 0600 },
        { 'f', "./usr/bin/tool", "#!/bin/sh\n", 04755 },
        { 'f', "usr/bin/userx", "x", 0700 },
        { 'l', "usr/bin/alias", "tool", 0 },
        { 'h', "usr/bin/tool2", "usr/bin/tool", 0 },
        { 'c', "dev/null", NULL, 0 },
        { 'p', "run/fifo", NULL, 0 },
        { 'd', "./", NULL, 0 },
};

static void check_basic(void **state, int comp) {
        struct world *w = *state;
        struct unpack_stats st = {};
        struct stat a, b;
        char target[64];
        _cleanup_free_ char *tool = path_join(w->root, "usr/bin/tool"), *tool2 = path_join(w->root, "usr/bin/tool2"),
                            *etc = path_join(w->root, "etc"), *host = path_join(w->root, "etc/hostname"),
                            *userx = path_join(w->root, "usr/bin/userx"), *alias = path_join(w->root, "usr/bin/alias");
        ssize_t n;

        assert_ok(w, basic_ents, ELEMENTSOF(basic_ents), comp, &st);
        assert_int_equal(st.files, 3);
        assert_int_equal(st.dirs, 1);
        assert_int_equal(st.symlinks, 1);
        assert_int_equal(st.hardlinks, 1);
        assert_int_equal(st.skipped, 3); /* device, fifo, "./" */
        assert_root_file(w, "etc/hostname", "box\n");
        assert_root_file(w, "usr/bin/tool", "#!/bin/sh\n");
        assert_false(root_exists(w, "dev/null"));
        assert_false(root_exists(w, "run"));

        /* exec bit mapping, setuid dropped, dirs 0755 */
        assert_int_equal(stat(tool, &a), 0);
        assert_int_equal(a.st_mode & 07777, 0755);
        assert_int_equal(stat(userx, &a), 0);
        assert_int_equal(a.st_mode & 07777, 0755);
        assert_int_equal(stat(host, &a), 0);
        assert_int_equal(a.st_mode & 07777, 0644);
        assert_int_equal(stat(etc, &a), 0);
        assert_int_equal(a.st_mode & 07777, 0755);

        /* hardlink: same inode */
        assert_int_equal(stat(tool, &a), 0);
        assert_int_equal(stat(tool2, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(a.st_nlink, 2);

        n = readlink(alias, target, sizeof(target) - 1);
        assert_int_equal(n, 4);
        target[n] = '\0';
        assert_string_equal(target, "tool");
}

static void test_plain(void **state) {
        check_basic(state, PLAIN);
}
static void test_gzip(void **state) {
        check_basic(state, GZIP);
}
static void test_zstd(void **state) {
        check_basic(state, ZSTD);
}

static void test_big_file_streams(void **state) {
        struct world *w = *state;
        /* bigger than the reader's buffers, several gzip/zstd blocks */
        size_t len = 3 * 1024 * 1024 + 17;
        char *data = malloc(len + 1);
        struct tent e[] = { { 'f', "big", data, 0644 } };
        _cleanup_free_ char *got = NULL;
        size_t glen;

        for (size_t i = 0; i < len; i++)
                data[i] = (char) ('a' + (i * 7919 % 26));
        data[len] = '\0';
        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                assert_ok(w, e, 1, comp, NULL);
                assert_int_equal(root_read_file(w->root_fd, "big", len + 1, &got, &glen), 0);
                assert_int_equal(glen, len);
                assert_memory_equal(got, data, len);
                free(got);
                got = NULL;
        }
        free(data);
}

static void test_whiteouts(void **state) {
        struct world *w = *state;
        struct unpack_stats st = {};
        const struct tent lower[] = {
                { 'f', "a/x", "x", 0 },        { 'f', "a/y", "y", 0 },    { 'f', "b/old", "o", 0 },
                { 'f', "b/sub/deep", "d", 0 }, { 'f', "c/old", "o", 0 },  { 'f', "d/keep", "k", 0 },
                { 'f', "e/lower", "l", 0 },    { 'd', "gone/", NULL, 0 }, { 'f', "gone/f", "f", 0 },
        };
        const struct tent upper[] = {
                { 'f', "a/.wh.x", NULL, 0 },
                { 'f', ".wh.gone", NULL, 0 },
                /* opaque first (the usual order) */
                { 'f', "b/.wh..wh..opq", NULL, 0 },
                { 'f', "b/new", "n", 0 },
                /* this layer's own entries before an opaque marker survive it */
                { 'f', "c/mine", "m", 0 },
                { 'f', "c/.wh..wh..opq", NULL, 0 },
                /* and before a whiteout of their own name */
                { 'f', "e/lower", "replaced", 0 },
                { 'f', "e/.wh.lower", NULL, 0 },
                /* whiteout of something that is not there */
                { 'f', "nothere/.wh.x", NULL, 0 },
                { 'f', "d/.wh..wh.plnk", NULL, 0 },
        };

        assert_ok(w, lower, ELEMENTSOF(lower), GZIP, NULL);
        assert_ok(w, upper, ELEMENTSOF(upper), ZSTD, &st);
        assert_false(root_exists(w, "a/x"));
        assert_root_file(w, "a/y", "y");
        assert_false(root_exists(w, "gone"));
        assert_false(root_exists(w, "b/old"));
        assert_false(root_exists(w, "b/sub"));
        assert_root_file(w, "b/new", "n");
        assert_false(root_exists(w, "c/old"));
        assert_root_file(w, "c/mine", "m");
        assert_root_file(w, "e/lower", "replaced");
        assert_root_file(w, "d/keep", "k");
        assert_false(root_exists(w, "nothere"));
        assert_false(root_exists(w, "a/.wh.x"));
        assert_false(root_exists(w, "b/.wh..wh..opq"));
        assert_false(root_exists(w, "d/.wh..wh.plnk"));
        assert_int_equal(st.whiteouts, 6);
}

static void test_replacements(void **state) {
        struct world *w = *state;
        const struct tent lower[] = {
                { 'd', "d/", NULL, 0 },     { 'f', "d/f", "f", 0 },    { 'f', "file", "x", 0 },
                { 'l', "link", "file", 0 }, { 'f', "shared", "s", 0 }, { 'h', "shared2", "shared", 0 },
        };
        const struct tent upper[] = {
                { 'f', "d", "now a file", 0 },          /* dir replaced by a file */
                { 'd', "file/", NULL, 0 },              /* file replaced by a dir */
                { 'f', "link", "no longer a link", 0 }, /* symlink replaced, target untouched */
                { 'f', "shared2", "new", 0 },           /* hardlinked file replaced, not written through */
        };
        struct stat st;
        _cleanup_free_ char *link = path_join(w->root, "link"), *file = path_join(w->root, "file");

        assert_ok(w, lower, ELEMENTSOF(lower), PLAIN, NULL);
        assert_ok(w, upper, ELEMENTSOF(upper), PLAIN, NULL);
        assert_root_file(w, "d", "now a file");
        assert_int_equal(lstat(file, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_root_file(w, "link", "no longer a link");
        assert_root_file(w, "shared", "s");
        assert_root_file(w, "shared2", "new");
}

/* --- hostile cases --- */

static void test_dotdot(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "../../smith-unpack-escaped", "x", 0 } };
        const struct tent e2[] = { { 'f', "a/../../sentinel/sentinel", "x", 0 } };
        struct layer l;
        struct smith_error *err = NULL;
        _cleanup_free_ char *want = NULL;
        int fd;

        layer_build(e, 1, PLAIN, &l);
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_true(asprintf(&want, "layer '%s': entry '../../smith-unpack-escaped' escapes the root", l.ref.digest) >
                    0);
        assert_string_equal(err->msg, want);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        error_free(err);
        close(fd);
        layer_done(&l);
        assert_fails(w, e2, 1, "escapes the root");
        assert_int_equal(dir_count(w->root), 0);
}

static void test_absolute(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "/smith-unpack-escaped", "x", 0 }, { 'f', "//etc/x", "y", 0 } };

        assert_ok(w, e, ELEMENTSOF(e), PLAIN, NULL);
        assert_root_file(w, "smith-unpack-escaped", "x");
        assert_root_file(w, "etc/x", "y");
}

static void test_symlink_abs_parent(void **state) {
        struct world *w = *state;
        const struct tent e[] = {
                { 'l', "evil", w->sdir, 0 },
                { 'f', "evil/f", "inside", 0 },
                { 'f', "evil/sentinel", "overwritten?", 0 },
        };
        _cleanup_free_ char *inside = path_join(w->sdir + 1, "f"), *inside2 = path_join(w->sdir + 1, "sentinel");

        assert_ok(w, e, ELEMENTSOF(e), PLAIN, NULL);
        /* contained: it landed in root/<that path> */
        assert_root_file(w, inside, "inside");
        assert_root_file(w, inside2, "overwritten?");
}

static void test_symlink_up_parent(void **state) {
        struct world *w = *state;
        const struct tent e[] = {
                { 'l', "up", "../../../..", 0 },
                { 'f', "up/smith-unpack-escaped", "f", 0 },
                { 'l', "a/b/rel", "../../../sentinel", 0 },
                { 'f', "a/b/rel/sentinel", "no", 0 },
                { 'f', "up/up/tmp/smith-unpack-escaped", "no", 0 },
        };

        assert_ok(w, e, ELEMENTSOF(e), PLAIN, NULL);
        assert_root_file(w, "smith-unpack-escaped", "f");
        assert_root_file(w, "sentinel/sentinel", "no");
        assert_root_file(w, "tmp/smith-unpack-escaped", "no");
}

static void test_hardlink_escape(void **state) {
        struct world *w = *state;
        const struct tent up[] = { { 'h', "h", "../sentinel/sentinel", 0 } };
        _cleanup_free_ char *abs_target = strdup(w->sfile);
        const struct tent abs[] = { { 'h', "h", abs_target, 0 } };
        const struct tent via_symlink[] = {
                { 'l', "s", w->sfile, 0 },
                { 'h', "h", "s", 0 },
        };
        const struct tent via_dir_symlink[] = {
                { 'l', "sd", w->sdir, 0 },
                { 'h', "h", "sd/sentinel", 0 },
        };

        assert_fails(w, up, 1, "hardlink target '../sentinel/sentinel' escapes the root");
        assert_fails(w, abs, 1, "No such file or directory");
        assert_fails(w, via_symlink, ELEMENTSOF(via_symlink), "is not a regular file");
        assert_fails(w, via_dir_symlink, ELEMENTSOF(via_dir_symlink), "No such file or directory");
        assert_false(root_exists(w, "h"));
}

static void test_hardlink_inside_via_symlink(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *inside = path_join(w->sdir + 1, "sentinel");
        const struct tent e[] = {
                { 'f', inside, "inner copy", 0 },
                { 'l', "sd", w->sdir, 0 },
                { 'h', "h", "sd/sentinel", 0 },
        };
        _cleanup_free_ char *h = path_join(w->root, "h"), *in = path_join(w->root, inside);
        struct stat a, b;

        assert_ok(w, e, ELEMENTSOF(e), PLAIN, NULL);
        assert_int_equal(stat(h, &a), 0);
        assert_int_equal(stat(in, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_root_file(w, "h", "inner copy");
}

static void test_whiteout_escape(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *inside = path_join(w->sdir + 1, "sentinel");
        const struct tent dotdot[] = { { 'f', "../.wh.sentinel", NULL, 0 } };
        const struct tent dotdot2[] = { { 'f', "a/.wh...", NULL, 0 } };
        const struct tent lower[] = {
                { 'f', inside, "inner copy", 0 },
                { 'l', "p", w->sdir, 0 },
                { 'l', "up", "../../..", 0 },
                { 'l', "rel", "../sentinel", 0 },
        };
        const struct tent upper[] = {
                { 'f', "p/.wh.sentinel", NULL, 0 },
                { 'f', "up/.wh.sentinel", NULL, 0 },
                { 'f', "rel/.wh.sentinel", NULL, 0 },
                { 'f', "up/.wh..wh..opq", NULL, 0 },
        };

        assert_fails(w, dotdot, 1, "escapes the root");
        assert_fails(w, dotdot2, 1, "escapes the root");
        assert_ok(w, lower, ELEMENTSOF(lower), PLAIN, NULL);
        assert_ok(w, upper, 3, PLAIN, NULL);
        /* the whiteout through the symlinked parent hit the root's copy */
        assert_false(root_exists(w, inside));
        /* an opaque root through "up" empties the root, not the host */
        assert_ok(w, upper + 3, 1, PLAIN, NULL);
        assert_int_equal(dir_count(w->root), 0);
}

static void test_long_pax_path(void **state) {
        struct world *w = *state;
        size_t n = 1024 * 1024;
        char *name = malloc(n + 1);
        struct tent e[1] = { { 'f', name, "x", 0 } };

        for (size_t i = 0; i < n; i++)
                name[i] = (i % 100 == 99) ? '/' : 'a';
        name[n] = '\0';
        {
                struct smith_error *err = NULL;
                assert_true(apply(w, e, 1, PLAIN, NULL, &err) < 0);
                assert_non_null(err);
                /* bounded: the message does not carry the megabyte */
                assert_true(strlen(err->msg) < 1000);
                error_free(err);
        }
        free(name);
        assert_int_equal(dir_count(w->root), 0);
}

static void test_long_component(void **state) {
        struct world *w = *state;
        char name[300];
        struct tent e[1] = { { 'f', name, "x", 0 } };

        memset(name, 'b', 256);
        name[256] = '\0';
        assert_fails(w, e, 1, "name too long");
}

static void test_long_name(void **state) {
        struct world *w = *state;
        char name[5000];
        struct tent e[1] = { { 'f', name, "x", 0 } };

        for (size_t i = 0; i < sizeof(name) - 1; i++)
                name[i] = (i % 10 == 9) ? '/' : 'c';
        memcpy(name + sizeof(name) - 9, "/end.txt", 9);
        /* the message keeps the head and the tail of the name */
        assert_fails(w, e, 1, "entry 'ccccccccc/ccccccccc/");
        assert_fails(w, e, 1, "...");
        assert_fails(w, e, 1, "/end.txt': name too long");
        assert_int_equal(dir_count(w->root), 0);
}

static void test_digest_mismatch(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello world", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        uint8_t *p;
        int fd;

        for (int comp = PLAIN; comp <= GZIP; comp++) {
                layer_build(e, 1, comp, &l);
                /* change one byte of the file's content (plain) or of the
                 * compressed stream's trailer crc (gzip) */
                if (comp == PLAIN) {
                        p = memmem(l.blob.data, l.blob.len, "hello", 5);
                        assert_non_null(p);
                        p[0] = 'j';
                } else
                        l.blob.data[l.blob.len - 6] ^= 1;
                fd = blob_fd(&l);
                assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
                if (comp == PLAIN && !strstr(err->msg, "digest mismatch"))
                        fail_msg("%s", err->msg);
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                error_free(err);
                err = NULL;
                close(fd);
                layer_done(&l);
        }
}

static void test_diff_id_mismatch(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        int fd;

        layer_build(e, 1, GZIP, &l);
        l.ref.diff_id[10] = l.ref.diff_id[10] == 'a' ? 'b' : 'a';
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "diff_id mismatch"));
        error_free(err);
        close(fd);
        layer_done(&l);
}

static void test_padding_counts_in_diff_id(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        uint8_t zeros[4096] = {};
        int fd;

        /* extra zeros after the end-of-archive marker: part of the diff_id */
        layer_build(e, 1, PLAIN, &l);
        buf_append(&l.blob, zeros, sizeof(zeros));
        sha256_digest_of(l.blob.data, l.blob.len, l.ref.digest);
        l.ref.size = (int64_t) l.blob.len;
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "diff_id mismatch"));
        error_free(err);
        err = NULL;
        close(fd);
        memcpy(l.ref.diff_id, l.ref.digest, sizeof(l.ref.diff_id));
        fd = blob_fd(&l);
        assert_int_equal(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err), 0);
        close(fd);
        layer_done(&l);
}

static void test_size_mismatch(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        int fd;

        layer_build(e, 1, ZSTD, &l);
        l.ref.size--;
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        if (!strstr(err->msg, "larger than its descriptor's size"))
                fail_msg("%s", err->msg);
        error_free(err);
        err = NULL;
        close(fd);
        l.ref.size += 2;
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, "does not match its descriptor's size"));
        error_free(err);
        close(fd);
        layer_done(&l);
}

static void test_truncated(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        int fd;

        for (int comp = GZIP; comp <= ZSTD; comp++) {
                layer_build(e, 1, comp, &l);
                l.blob.len -= 5;
                sha256_digest_of(l.blob.data, l.blob.len, l.ref.digest);
                l.ref.size = (int64_t) l.blob.len;
                fd = blob_fd(&l);
                assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
                assert_non_null(err);
                error_free(err);
                err = NULL;
                close(fd);
                layer_done(&l);
        }
}

/* --- the reader's pipeline: errors and early stops in both directions --- */

#define BIG_LEN (12 * 1024 * 1024 + 5) /* more than the reader's queue of buffers */

static char *big_data(void) {
        char *data = malloc(BIG_LEN + 1);
        assert_non_null(data);
        for (size_t i = 0; i < BIG_LEN; i++)
                data[i] = (char) ('a' + (i * 7919 % 26));
        data[BIG_LEN] = '\0';
        return data;
}

static void assert_msg(struct smith_error *err, const char *a, const char *b) {
        assert_non_null(err);
        if (!strstr(err->msg, a) && (!b || !strstr(err->msg, b)))
                fail_msg("error '%s' lacks '%s'", err->msg, a);
}

/* The caller fails early while the worker, far ahead, waits for room. */
static void test_pipeline_early_stop(void **state) {
        struct world *w = *state;
        char *data = big_data();
        struct tent e[] = { { 'f', "a", "x", 0 }, { 'f', "../escape", "x", 0 }, { 'f', "big", data, 0 } };

        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                struct smith_error *err = NULL;
                assert_true(apply(w, e, ELEMENTSOF(e), comp, NULL, &err) < 0);
                assert_msg(err, "escapes the root", NULL);
                error_free(err);
        }
        assert_false(root_exists(w, "big"));
        free(data);
}

/* libarchive fails in the middle of the stream (a damaged header after
 * several MiB); the blob's digest is right, so the tar error is reported. */
static void test_pipeline_tar_error(void **state) {
        struct world *w = *state;
        char *data = big_data();
        struct tent e[] = { { 'f', "big", data, 0 }, { 'f', "after", "x", 0 } };

        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                struct buf tar = {};
                struct smith_error *err = NULL;
                struct layer l;
                uint8_t *h;
                int fd;

                memset(&l, 0, sizeof(l));
                tar_build(e, ELEMENTSOF(e), &tar);
                /* the checksum field of the header of "after" */
                h = memmem(tar.data + BIG_LEN, tar.len - BIG_LEN, "after", 5);
                assert_non_null(h);
                h[148] ^= 0x01;
                compress_buf(&tar, comp, &l.blob);
                sha256_digest_of(tar.data, tar.len, l.ref.diff_id);
                sha256_digest_of(l.blob.data, l.blob.len, l.ref.digest);
                l.ref.size = (int64_t) l.blob.len;
                free(tar.data);
                fd = blob_fd(&l);
                assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
                assert_msg(err, "read tar", NULL);
                assert_null(strstr(err->msg, "digest mismatch"));
                error_free(err);
                close(fd);
                layer_done(&l);
                assert_true(root_exists(w, "big"));
                assert_false(root_exists(w, "after"));
        }
        free(data);
}

/* The worker fails in the middle of the stream: corrupt compressed data,
 * or content that does not match the digest, found only at the end. */
static void test_pipeline_worker_error(void **state) {
        struct world *w = *state;
        char *data = big_data();
        struct tent e[] = { { 'f', "big", data, 0 }, { 'f', "after", "x", 0 } };

        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                struct smith_error *err = NULL;
                struct layer l;
                int fd;

                layer_build(e, ELEMENTSOF(e), comp, &l);
                if (comp == PLAIN) {
                        l.blob.data[l.blob.len / 2] ^= 0x01; /* inside "big": only the digest shows it */
                } else
                        for (size_t i = l.blob.len / 3; i < l.blob.len / 3 + 64; i++)
                                l.blob.data[i] = (uint8_t) (i * 31);
                fd = blob_fd(&l);
                assert_true(layer_unpack(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
                if (comp == PLAIN)
                        assert_msg(err, "digest mismatch", NULL);
                else
                        assert_msg(err, "corrupt", "digest mismatch");
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                error_free(err);
                close(fd);
                layer_done(&l);
        }
        free(data);
}

/* A reader dropped at once, and one dropped after one header, with the
 * worker's queue full. */
static void test_pipeline_free_early(void **state) {
        char *data = big_data();
        struct tent e[] = { { 'f', "big", data, 0 } };
        struct layer l;
        struct smith_error *err = NULL;

        layer_build(e, 1, GZIP, &l);
        for (int i = 0; i < 2; i++) {
                struct layer_reader *rd = NULL;
                struct archive_entry *ae;
                int fd = blob_fd(&l);

                assert_int_equal(layer_reader_new(fd, UINT64_MAX, UINT64_MAX, NULL, LAYER_READER_HASH_IN, &rd, &err),
                                 0);
                if (i == 1) {
                        assert_int_equal(archive_read_next_header(layer_reader_archive(rd), &ae), ARCHIVE_OK);
                        usleep(100 * 1000); /* let the worker fill its queue */
                }
                layer_reader_free(rd);
                close(fd);
        }
        layer_done(&l);
        free(data);
        (void) state;
}

/* A blob from the verified store: not hashed again, but its size and
 * diff_id still checked. */
static void test_unpack_stored(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 } };
        struct smith_error *err = NULL;
        struct layer l;
        int fd;

        layer_build(e, 1, GZIP, &l);
        l.ref.digest[10] = l.ref.digest[10] == 'a' ? 'b' : 'a';
        fd = blob_fd(&l);
        assert_int_equal(layer_unpack_stored(w->root_fd, fd, &l.ref, NULL, NULL, &err), 0);
        close(fd);
        assert_root_file(w, "f", "hello");

        l.ref.size++;
        fd = blob_fd(&l);
        assert_true(layer_unpack_stored(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_msg(err, "does not match its descriptor's size", NULL);
        error_free(err);
        err = NULL;
        close(fd);
        l.ref.size--;

        l.ref.diff_id[10] = l.ref.diff_id[10] == 'a' ? 'b' : 'a';
        fd = blob_fd(&l);
        assert_true(layer_unpack_stored(w->root_fd, fd, &l.ref, NULL, NULL, &err) < 0);
        assert_msg(err, "diff_id mismatch", NULL);
        error_free(err);
        close(fd);
        layer_done(&l);
}

static void test_unpack_unchecked(void **state) {
        struct world *w = *state;
        const struct tent e[] = { { 'f', "f", "hello", 0 }, { 'f', "../x", "", 0 } };
        struct smith_error *err = NULL;
        char diff_id[DIGEST_STR_LEN + 1];
        uint64_t size = 0;
        struct layer l;
        int fd;

        layer_build(e, 1, ZSTD, &l);
        fd = blob_fd(&l);
        assert_int_equal(
                layer_unpack_unchecked(w->root_fd, fd, (uint64_t) l.ref.size, NULL, NULL, &size, diff_id, &err), 0);
        assert_int_equal(size, (uint64_t) l.ref.size);
        assert_string_equal(diff_id, l.ref.diff_id);
        close(fd);
        fd = blob_fd(&l);
        assert_true(layer_unpack_unchecked(w->root_fd, fd, (uint64_t) l.ref.size - 1, NULL, NULL, &size, diff_id,
                                           &err) < 0);
        assert_msg(err, "larger than its descriptor's size", NULL);
        error_free(err);
        err = NULL;
        close(fd);
        layer_done(&l);

        layer_build(e, 2, ZSTD, &l);
        fd = blob_fd(&l);
        assert_true(layer_unpack_unchecked(w->root_fd, fd, UINT64_MAX, NULL, NULL, &size, diff_id, &err) < 0);
        assert_msg(err, "escapes the root", NULL);
        error_free(err);
        close(fd);
        layer_done(&l);
}

/* --- limits --- */

static char *filled(size_t n) {
        char *p = malloc(n + 1);
        assert_non_null(p);
        memset(p, 'z', n);
        p[n] = '\0';
        return p;
}

/* A file larger than max_entry is refused by its header, before anything
 * is created; one of exactly max_entry is fine. */
static void test_limit_entry(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *over = filled(1001), *at = filled(1000);
        struct tent e1[] = { { 'f', "big", over, 0 } }, e2[] = { { 'f', "fits", at, 0 } };
        struct unpack_opts o = { .limits.max_entry = 1000 };
        struct smith_error *err = NULL;

        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                assert_true(apply_opts(w, e1, 1, comp, &o, NULL, &err) < 0);
                assert_msg(err, "entry 'big' is larger than the 1000 bytes limit (--max-entry, SMITH_MAX_ENTRY)", NULL);
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                error_free(err);
                err = NULL;
                assert_false(root_exists(w, "big"));
        }
        assert_int_equal(apply_opts(w, e2, 1, GZIP, &o, NULL, &err), 0);
        assert_root_file(w, "fits", at);
}

/* max_unpacked holds for the layers of an image together (stats carry
 * what the lower ones took), and stops the layer that passes it while it
 * streams. */
static void test_limit_total(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *data = filled(40000);
        struct tent e1[] = { { 'f', "a", data, 0 } }, e2[] = { { 'f', "b", data, 0 } };
        struct unpack_opts o = { .limits.max_unpacked = 64 << 10 };

        for (int comp = PLAIN; comp <= ZSTD; comp++) {
                struct unpack_stats st = {};
                struct smith_error *err = NULL;
                struct stat sb;

                assert_int_equal(apply_opts(w, e1, 1, comp, &o, &st, &err), 0);
                assert_true(st.unpacked >= 40000 && st.unpacked < 64 << 10);
                assert_true(apply_opts(w, e2, 1, comp, &o, &st, &err) < 0);
                assert_msg(err, "the image unpacks to more than 64 KiB (--max-unpacked, SMITH_MAX_UNPACKED)", NULL);
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                error_free(err);
                /* cut off at the limit, not written in full first */
                assert_true(fstatat(w->root_fd, "b", &sb, 0) < 0 || sb.st_size < 40000);
                assert_int_equal(rm_rf_at(w->root_fd, "b"), 0);
                assert_int_equal(rm_rf_at(w->root_fd, "a"), 0);
        }
}

/* A layer with one sparse file: size bytes, one byte of data at 0. */
static void sparse_layer(int64_t size, struct layer *l) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        struct buf tar = {};

        assert_non_null(a);
        assert_non_null(e);
        assert_int_equal(archive_write_set_format_pax(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open(a, &tar, NULL, buf_write, NULL), ARCHIVE_OK);
        archive_entry_set_pathname(e, "sparse");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, size);
        archive_entry_sparse_add_entry(e, 0, 1);
        assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
        assert_int_equal(archive_write_data(a, "x", 1), 1);
        archive_entry_free(e);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
        assert_true(tar.len < 64 << 10); /* the hole takes no room */

        memset(l, 0, sizeof(*l));
        compress_buf(&tar, GZIP, &l->blob);
        sha256_digest_of(tar.data, tar.len, l->ref.diff_id);
        sha256_digest_of(l->blob.data, l->blob.len, l->ref.digest);
        l->ref.size = (int64_t) l->blob.len;
        l->ref.media_type = (char *) "application/vnd.oci.image.layer.v1.tar+gzip";
        free(tar.data);
}

/* A sparse file's holes count in full: against max_entry by its size, and
 * against max_unpacked before the file is extended. */
static void test_limit_sparse(void **state) {
        struct world *w = *state;
        const struct unpack_opts small_total = { .limits.max_unpacked = 1 << 20 };
        const struct unpack_opts small_entry = { .limits.max_entry = 1 << 20 };
        struct unpack_stats st = {};
        struct smith_error *err = NULL;
        struct layer l;
        struct stat sb;
        int fd;

        sparse_layer(10 << 20, &l);
        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, &small_total, NULL, &err) < 0);
        close(fd);
        assert_msg(err, "the image unpacks to more than 1 MiB", NULL);
        error_free(err);
        err = NULL;
        assert_true(fstatat(w->root_fd, "sparse", &sb, 0) < 0 || sb.st_size <= 1 << 20);

        fd = blob_fd(&l);
        assert_true(layer_unpack(w->root_fd, fd, &l.ref, &small_entry, NULL, &err) < 0);
        close(fd);
        assert_msg(err, "entry 'sparse' is larger than the 1 MiB limit", NULL);
        error_free(err);
        err = NULL;

        fd = blob_fd(&l);
        assert_int_equal(layer_unpack(w->root_fd, fd, &l.ref, NULL, &st, &err), 0);
        close(fd);
        assert_int_equal(fstatat(w->root_fd, "sparse", &sb, 0), 0);
        assert_int_equal(sb.st_size, 10 << 20);
        assert_true(st.unpacked >= 10 << 20);
        layer_done(&l);
}

/* The speculative unpack keeps the limits too. */
static void test_limit_unchecked(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *data = filled(5000);
        const struct tent e[] = { { 'f', "f", data, 0 } };
        const struct unpack_limits entry = { .max_entry = 4096 }, total = { .max_unpacked = 4096 };
        struct smith_error *err = NULL;
        char diff_id[DIGEST_STR_LEN + 1];
        uint64_t size = 0;
        struct layer l;
        int fd;

        layer_build(e, 1, GZIP, &l);
        fd = blob_fd(&l);
        assert_true(layer_unpack_unchecked(w->root_fd, fd, UINT64_MAX, &entry, NULL, &size, diff_id, &err) < 0);
        close(fd);
        assert_msg(err, "larger than the 4 KiB limit", NULL);
        error_free(err);
        err = NULL;
        assert_int_equal(rm_rf_at(w->root_fd, "f"), 0);
        fd = blob_fd(&l);
        assert_true(layer_unpack_unchecked(w->root_fd, fd, UINT64_MAX, &total, NULL, &size, diff_id, &err) < 0);
        close(fd);
        assert_msg(err, "the image unpacks to more than 4 KiB", NULL);
        error_free(err);
        assert_int_equal(rm_rf_at(w->root_fd, "f"), 0);
        layer_done(&l);
}

static void test_size_str(void **state) {
        char b[UNPACK_SIZE_STR_MAX];
        const struct unpack_limits d = unpack_limits_resolve(NULL);
        const struct unpack_limits half = unpack_limits_resolve(&(struct unpack_limits){ .max_entry = 7 });

        assert_string_equal(unpack_size_str(16ULL << 30, b), "16 GiB");
        assert_string_equal(unpack_size_str(100 << 20, b), "100 MiB");
        assert_string_equal(unpack_size_str(2ULL << 40, b), "2 TiB");
        assert_string_equal(unpack_size_str(1536, b), "1536 bytes");
        assert_string_equal(unpack_size_str(3072, b), "3 KiB");
        assert_string_equal(unpack_size_str(0, b), "0 bytes");
        assert_int_equal(d.max_unpacked, UNPACK_DEFAULT_MAX_UNPACKED);
        assert_int_equal(d.max_entry, UNPACK_DEFAULT_MAX_ENTRY);
        assert_int_equal(half.max_entry, 7);
        assert_int_equal(half.max_unpacked, UNPACK_DEFAULT_MAX_UNPACKED);
        (void) state;
}

/* The chase() resolutions behind the symlink cases, checked directly. */
static void test_chase_contained(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *p1 = NULL, *p2 = NULL, *p3 = NULL, *want = path_join(w->sdir, "f");

        assert_int_equal(symlinkat(w->sdir, w->root_fd, "evil"), 0);
        assert_int_equal(symlinkat("../../../..", w->root_fd, "up"), 0);
        assert_int_equal(symlinkat(w->sfile, w->root_fd, "s"), 0);
        /* evil/f: the host's sentinel dir is not in the root: missing */
        assert_int_equal(chase(w->root_fd, "evil/f", CHASE_NONEXIST_OK, NULL, NULL, &p1, NULL, NULL), -ENOENT);
        assert_int_equal(root_mkdir_p(w->root_fd, w->sdir, 0755), 0);
        assert_true(chase(w->root_fd, "evil/f", CHASE_NONEXIST_OK, NULL, NULL, &p1, NULL, NULL) >= 0);
        assert_string_equal(p1, want);
        assert_true(chase(w->root_fd, "up/f", CHASE_NONEXIST_OK, NULL, NULL, &p2, NULL, NULL) >= 0);
        assert_string_equal(p2, "/f");
        assert_int_equal(chase(w->root_fd, "s", CHASE_NOFOLLOW_LAST, NULL, NULL, &p3, NULL, NULL), 0);
        assert_string_equal(p3, "/s");
        assert_int_equal(chase(w->root_fd, "s", 0, NULL, NULL, NULL, NULL, NULL), -ENOENT);
        assert_int_equal(root_openat(w->root_fd, "up/up/sentinel/sentinel", O_RDONLY, 0), -ENOENT);
        assert_int_equal(root_openat(w->root_fd, "s", O_RDONLY, 0), -ENOENT);
}

int main(int argc, char **argv) {
#define T(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)
        const struct CMUnitTest tests[] = {
                T(test_plain),
                T(test_gzip),
                T(test_zstd),
                T(test_big_file_streams),
                T(test_whiteouts),
                T(test_replacements),
                T(test_dotdot),
                T(test_absolute),
                T(test_symlink_abs_parent),
                T(test_symlink_up_parent),
                T(test_hardlink_escape),
                T(test_hardlink_inside_via_symlink),
                T(test_whiteout_escape),
                T(test_long_pax_path),
                T(test_long_component),
                T(test_long_name),
                T(test_digest_mismatch),
                T(test_diff_id_mismatch),
                T(test_padding_counts_in_diff_id),
                T(test_size_mismatch),
                T(test_truncated),
                T(test_chase_contained),
                T(test_pipeline_early_stop),
                T(test_pipeline_tar_error),
                T(test_pipeline_worker_error),
                T(test_pipeline_free_early),
                T(test_unpack_stored),
                T(test_unpack_unchecked),
                T(test_limit_entry),
                T(test_limit_total),
                T(test_limit_sparse),
                T(test_limit_unchecked),
                T(test_size_str),
        };
        const char *fallback = getenv("SMITH_NO_OPENAT2");
        int r;

        r = cmocka_run_group_tests_name(fallback ? "unpack (chase fallback)" : "unpack (openat2)", tests, NULL, NULL);
        if (r != 0 || (fallback && streq(fallback, "1")))
                return r;
        /* Again, through the fallback. */
        setenv("SMITH_NO_OPENAT2", "1", 1);
        execv("/proc/self/exe", argv);
        perror("re-exec");
        return 1;
}
