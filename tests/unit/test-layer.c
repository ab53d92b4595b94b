/* Tests for the streaming write side of layers: the blob writer (hashes,
 * gzip, zstd, sticky errors) and the deterministic tar writer (headers read
 * back with libarchive, long names, size checks, identical bytes). */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/blob.h"
#include "layer/tarw.h"

/* --- helpers --- */

/* An anonymous temp file to write blobs into. */
static int tmp_fd(void) {
        char path[] = "/tmp/test-layer-XXXXXX";
        int fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        unlink(path);
        return fd;
}

static void read_back(int fd, uint8_t **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;

        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(read_full_fd(fd, 256u << 20, &buf, &len), 0);
        *ret = (uint8_t *) buf;
        *ret_len = len;
}

/* Deterministic test data that compresses somewhat, but not trivially. */
static uint8_t *make_data(size_t len) {
        uint8_t *d = malloc(len);
        uint32_t x = 12345;
        assert_non_null(d);
        for (size_t i = 0; i < len; i++) {
                x = x * 1103515245u + 12345u;
                d[i] = (i % 7 == 0) ? (uint8_t) (x >> 24) : (uint8_t) ("smith layer "[i % 12]);
        }
        return d;
}

/* Writes data through a blob writer in uneven chunks; returns the output. */
static void blob_of(enum blob_compression c, const uint8_t *data, size_t len, struct blob_result *res, uint8_t **ret,
                    size_t *ret_len) {
        struct smith_error *err = NULL;
        struct blob_writer *w = NULL;
        int fd = tmp_fd();
        size_t off = 0, step = 1;

        assert_int_equal(blob_writer_new(fd, c, -1, &w, &err), 0);
        while (off < len) {
                size_t n = MIN(step, len - off);
                assert_int_equal(blob_writer_write(w, data + off, n, &err), 0);
                off += n;
                step = step * 3 + 1; /* 1, 4, 13, ... crosses every buffer boundary */
        }
        assert_int_equal(blob_writer_finish(w, res, &err), 0);
        assert_null(err);
        blob_writer_free(w);
        read_back(fd, ret, ret_len);
        close(fd);
}

static void assert_digest_of(const void *data, size_t len, const char *digest) {
        char d[DIGEST_STR_LEN + 1];
        sha256_digest_of(data, len, d);
        assert_string_equal(d, digest);
}

/* --- blob writer --- */

static void test_blob_none_known_digest(void **state) {
        struct blob_result res;
        uint8_t *out;
        size_t out_len;

        blob_of(BLOB_COMPRESS_NONE, (const uint8_t *) "hello world", 11, &res, &out, &out_len);
        assert_string_equal(res.digest, "sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_string_equal(res.diff_id, res.digest);
        assert_int_equal(res.size, 11);
        assert_int_equal(out_len, 11);
        assert_memory_equal(out, "hello world", 11);
        free(out);

        /* the empty blob */
        blob_of(BLOB_COMPRESS_NONE, NULL, 0, &res, &out, &out_len);
        assert_string_equal(res.digest, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_int_equal(res.size, 0);
        free(out);
}

static void test_blob_gzip_roundtrip(void **state) {
        const size_t len = 3u * 1024u * 1024u + 17u; /* several output buffers */
        _cleanup_free_ uint8_t *data = make_data(len);
        _cleanup_free_ uint8_t *plain = malloc(len + 1);
        struct blob_result res;
        uint8_t *out;
        size_t out_len;
        z_stream z = {};

        blob_of(BLOB_COMPRESS_GZIP, data, len, &res, &out, &out_len);
        assert_int_equal(res.size, (int64_t) out_len);
        assert_digest_of(out, out_len, res.digest);
        assert_digest_of(data, len, res.diff_id);
        assert_string_not_equal(res.digest, res.diff_id);
        assert_true(out_len < len);

        /* fixed header: magic, deflate, no flags, mtime 0, OS byte 3 */
        assert_true(out_len > 10);
        assert_int_equal(out[0], 0x1f);
        assert_int_equal(out[1], 0x8b);
        assert_int_equal(out[2], 8);
        assert_int_equal(out[3], 0);
        assert_int_equal(out[4] | out[5] | out[6] | out[7], 0);
        assert_int_equal(out[9], 3);

        /* several gzip members (one per chunk of the parallel compressor),
         * read as every gzip reader does: member after member */
        assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
        z.next_in = out;
        z.avail_in = (uInt) out_len;
        z.next_out = plain;
        z.avail_out = (uInt) (len + 1);
        int members = 0;
        for (;;) {
                assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
                members++;
                if (z.avail_in == 0)
                        break;
                assert_int_equal(inflateReset(&z), Z_OK);
        }
        assert_int_equal(members, 4); /* 3 MiB + 17 bytes in 1 MiB chunks */
        assert_int_equal((size_t) (z.next_out - plain), len);
        inflateEnd(&z);
        assert_memory_equal(plain, data, len);
        free(out);
}

static void test_blob_zstd_roundtrip(void **state) {
        const size_t len = 2u * 1024u * 1024u + 3u;
        _cleanup_free_ uint8_t *data = make_data(len);
        _cleanup_free_ uint8_t *plain = malloc(len + 1);
        struct blob_result res;
        uint8_t *out;
        size_t out_len;
        ZSTD_DStream *ds = ZSTD_createDStream();
        ZSTD_inBuffer in;
        ZSTD_outBuffer o = { .dst = plain, .size = len + 1, .pos = 0 };
        size_t r;

        blob_of(BLOB_COMPRESS_ZSTD, data, len, &res, &out, &out_len);
        assert_int_equal(res.size, (int64_t) out_len);
        assert_digest_of(out, out_len, res.digest);
        assert_digest_of(data, len, res.diff_id);
        assert_true(out_len < len);
        assert_int_equal(out[0], 0x28); /* zstd frame magic, little endian */
        assert_int_equal(out[1], 0xb5);

        in = (ZSTD_inBuffer){ .src = out, .size = out_len, .pos = 0 };
        assert_non_null(ds);
        do {
                r = ZSTD_decompressStream(ds, &o, &in);
                assert_false(ZSTD_isError(r));
        } while (r != 0 && in.pos < in.size);
        assert_int_equal(r, 0);
        assert_int_equal(in.pos, out_len);
        assert_int_equal(o.pos, len);
        assert_memory_equal(plain, data, len);
        ZSTD_freeDStream(ds);
        free(out);
}

static void test_blob_deterministic(void **state) {
        const size_t len = 700u * 1024u;
        _cleanup_free_ uint8_t *data = make_data(len);
        enum blob_compression cs[] = { BLOB_COMPRESS_GZIP, BLOB_COMPRESS_ZSTD };

        for (size_t i = 0; i < ELEMENTSOF(cs); i++) {
                struct blob_result r1, r2;
                uint8_t *o1, *o2;
                size_t l1, l2;

                blob_of(cs[i], data, len, &r1, &o1, &l1);
                blob_of(cs[i], data, len, &r2, &o2, &l2);
                assert_int_equal(l1, l2);
                assert_memory_equal(o1, o2, l1);
                assert_string_equal(r1.digest, r2.digest);
                assert_string_equal(r1.diff_id, r2.diff_id);
                free(o1);
                free(o2);
        }
}

static void test_blob_empty_gzip_valid(void **state) {
        struct blob_result res;
        uint8_t *out, buf[16];
        size_t out_len;
        z_stream z = {};

        blob_of(BLOB_COMPRESS_GZIP, NULL, 0, &res, &out, &out_len);
        assert_string_equal(res.diff_id, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
        z.next_in = out;
        z.avail_in = (uInt) out_len;
        z.next_out = buf;
        z.avail_out = sizeof(buf);
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.total_out, 0);
        inflateEnd(&z);
        free(out);
}

static void test_blob_errors_sticky(void **state) {
        struct smith_error *err = NULL;
        struct blob_writer *w = NULL;
        struct blob_result res = { .size = 4242 };
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC); /* writes fail with EBADF */
        _cleanup_free_ uint8_t *data = make_data(600u * 1024u);

        assert_true(fd >= 0);
        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_NONE, -1, &w, &err), 0);
        /* more than the output buffer: the first flush fails here */
        assert_true(blob_writer_write(w, data, 600u * 1024u, &err) < 0);
        assert_non_null(err);
        assert_int_equal(err->errnum, EBADF);
        assert_non_null(strstr(err->msg, "write blob"));
        error_free(TAKE_PTR(err));
        /* sticky: even a tiny write and finish fail, result untouched */
        assert_true(blob_writer_write(w, "x", 1, &err) < 0);
        assert_non_null(err);
        error_free(TAKE_PTR(err));
        assert_true(blob_writer_finish(w, &res, &err) < 0);
        assert_non_null(err);
        assert_int_equal(err->errnum, EBADF);
        error_free(TAKE_PTR(err));
        assert_int_equal(res.size, 4242);
        blob_writer_free(w);

        /* a failure only seen at finish (small write, buffered) */
        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_GZIP, -1, &w, &err), 0);
        assert_int_equal(blob_writer_write(w, "abc", 3, &err), 0);
        assert_true(blob_writer_finish(w, &res, &err) < 0);
        assert_non_null(err);
        error_free(TAKE_PTR(err));
        blob_writer_free(w);
        close(fd);

        /* write after finish and bad levels */
        fd = tmp_fd();
        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_ZSTD, 19, &w, &err), 0);
        assert_int_equal(blob_writer_finish(w, &res, &err), 0);
        assert_true(blob_writer_write(w, "x", 1, &err) < 0);
        error_free(TAKE_PTR(err));
        blob_writer_free(w);
        w = NULL;
        assert_true(blob_writer_new(fd, BLOB_COMPRESS_GZIP, 10, &w, &err) < 0);
        assert_null(w);
        error_free(TAKE_PTR(err));
        assert_true(blob_writer_new(fd, BLOB_COMPRESS_ZSTD, 0, &w, &err) < 0);
        error_free(TAKE_PTR(err));
        close(fd);
}

/* --- tar writer --- */

/* 120-char directory chain + 150-char name: 280 bytes, too long even for
 * ustar's prefix/name split, so it needs a pax header. */
static char *long_path(void) {
        char *p = NULL;
        char dir[121], name[151];
        memset(dir, 'd', 120);
        dir[120] = '\0';
        dir[60] = '/';
        memset(name, 'n', 150);
        name[150] = '\0';
        assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
        return p;
}

static char *long_target(void) {
        char *p = malloc(201);
        assert_non_null(p);
        for (int i = 0; i < 200; i++)
                p[i] = (i % 10 == 9) ? '/' : 't';
        p[200] = '\0';
        return p;
}

/* Writes the fixture tar (gzip or not) to a fresh fd and returns its bytes. */
static void build_tar(enum blob_compression c, uint8_t **ret, size_t *ret_len, struct blob_result *res) {
        struct smith_error *err = NULL;
        struct blob_writer *b = NULL;
        struct tar_writer *t = NULL;
        const struct tar_entry_meta dm = { .uid = 0, .gid = 0, .perm = 0755, .mtime = 1000 };
        const struct tar_entry_meta fm = { .uid = 1000, .gid = 100, .perm = 04711, .mtime = 2000 };
        const struct tar_entry_meta lm = { .uid = 7, .gid = 8, .perm = 0777, .mtime = 3000 };
        _cleanup_free_ char *lp = long_path(), *lt = long_target();
        _cleanup_free_ uint8_t *big = make_data(300000);
        int src = tmp_fd();
        int fd = tmp_fd();

        assert_int_equal(write_full(src, big, 300000), 0);
        assert_int_equal(lseek(src, 0, SEEK_SET), 0);

        assert_int_equal(blob_writer_new(fd, c, -1, &b, &err), 0);
        assert_int_equal(tar_writer_new(b, &t, &err), 0);
        assert_int_equal(tar_writer_add_dir(t, "usr", &dm, &err), 0);
        assert_int_equal(tar_writer_add_dir(t, "usr/bin/", &dm, &err), 0);
        assert_int_equal(tar_writer_add_file_fd(t, "usr/bin/cat", src, 300000, &fm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "etc/hostname", "smith\n", 6, &fm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "empty", NULL, 0, &fm, &err), 0);
        assert_int_equal(tar_writer_add_symlink(t, "bin", "usr/bin", &lm, &err), 0);
        assert_int_equal(tar_writer_add_hardlink(t, "usr/bin/dog", "usr/bin/cat", &fm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, lp, "long", 4, &fm, &err), 0);
        assert_int_equal(tar_writer_add_symlink(t, "longlink", lt, &lm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "caf\xc3\xa9", "", 0, &fm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "bin\xff", "", 0, &fm, &err), 0);
        assert_int_equal(tar_writer_finish(t, &err), 0);
        tar_writer_free(t);
        assert_int_equal(blob_writer_finish(b, res, &err), 0);
        blob_writer_free(b);
        assert_null(err);
        read_back(fd, ret, ret_len);
        close(fd);
        close(src);
}

struct expect {
        const char *name;
        mode_t type;
        mode_t perm;
        uid_t uid;
        gid_t gid;
        int64_t mtime;
        int64_t size;
        const char *symlink;
        const char *hardlink;
};

static void test_tar_readback(void **state) {
        _cleanup_free_ char *lp = long_path(), *lt = long_target();
        _cleanup_free_ uint8_t *big = make_data(300000);
        const struct expect ex[] = {
                { "usr/", AE_IFDIR, 0755, 0, 0, 1000, 0, NULL, NULL },
                { "usr/bin/", AE_IFDIR, 0755, 0, 0, 1000, 0, NULL, NULL },
                { "usr/bin/cat", AE_IFREG, 04711, 1000, 100, 2000, 300000, NULL, NULL },
                { "etc/hostname", AE_IFREG, 04711, 1000, 100, 2000, 6, NULL, NULL },
                { "empty", AE_IFREG, 04711, 1000, 100, 2000, 0, NULL, NULL },
                { "bin", AE_IFLNK, 0777, 7, 8, 3000, 0, "usr/bin", NULL },
                { "usr/bin/dog", AE_IFREG, 04711, 1000, 100, 2000, 0, NULL, "usr/bin/cat" },
                { lp, AE_IFREG, 04711, 1000, 100, 2000, 4, NULL, NULL },
                { "longlink", AE_IFLNK, 0777, 7, 8, 3000, 0, lt, NULL },
                { "caf\xc3\xa9", AE_IFREG, 04711, 1000, 100, 2000, 0, NULL, NULL }, /* UTF-8 */
                { "bin\xff", AE_IFREG, 04711, 1000, 100, 2000, 0, NULL, NULL },     /* not UTF-8 */
        };
        struct blob_result res;
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        uint8_t *tar;
        size_t tar_len, i = 0;
        int r;

        build_tar(BLOB_COMPRESS_NONE, &tar, &tar_len, &res);
        assert_int_equal(tar_len % 512, 0);
        /* ends with two zero records, no 10240 blocking */
        for (size_t k = tar_len - 1024; k < tar_len; k++)
                assert_int_equal(tar[k], 0);
        /* the first header is plain ustar with empty uname/gname */
        assert_memory_equal(tar + 257, "ustar\00000", 8);
        for (size_t k = 265; k < 265 + 64; k++)
                assert_int_equal(tar[k], 0);
        assert_string_equal(res.digest, res.diff_id);

        archive_read_support_format_tar(a);
        assert_int_equal(archive_read_open_memory(a, tar, tar_len), ARCHIVE_OK);
        /* ARCHIVE_WARN: a UTF-8 name that the C locale cannot represent */
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                assert_true(i < ELEMENTSOF(ex));
                assert_string_equal(archive_entry_pathname(e), ex[i].name);
                if (ex[i].hardlink) {
                        assert_non_null(archive_entry_hardlink(e));
                        assert_string_equal(archive_entry_hardlink(e), ex[i].hardlink);
                } else {
                        assert_null(archive_entry_hardlink(e));
                        assert_int_equal(archive_entry_filetype(e), ex[i].type);
                }
                assert_int_equal(archive_entry_perm(e), ex[i].perm);
                assert_int_equal(archive_entry_uid(e), ex[i].uid);
                assert_int_equal(archive_entry_gid(e), ex[i].gid);
                assert_int_equal(archive_entry_mtime(e), ex[i].mtime);
                assert_int_equal(archive_entry_size(e), ex[i].size);
                if (ex[i].symlink)
                        assert_string_equal(archive_entry_symlink(e), ex[i].symlink);
                else
                        assert_null(archive_entry_symlink(e));
                assert_true(isempty(archive_entry_uname(e)));
                assert_true(isempty(archive_entry_gname(e)));
                assert_false(archive_entry_atime_is_set(e));
                assert_false(archive_entry_ctime_is_set(e));
                assert_int_equal(archive_entry_rdevmajor(e), 0);
                assert_null(archive_entry_xattr_count(e) ? "xattrs" : NULL);
                if (i == 2) { /* the streamed file's content */
                        _cleanup_free_ uint8_t *got = malloc(300000);
                        assert_int_equal(archive_read_data(a, got, 300000), 300000);
                        assert_memory_equal(got, big, 300000);
                }
                if (i == 7) {
                        char got[8] = {};
                        assert_int_equal(archive_read_data(a, got, sizeof(got)), 4);
                        assert_string_equal(got, "long");
                }
                i++;
        }
        assert_int_equal(i, ELEMENTSOF(ex));
        archive_read_free(a);
        free(tar);
}

static void test_tar_deterministic(void **state) {
        struct blob_result r1, r2, r3;
        uint8_t *t1, *t2, *t3;
        size_t l1, l2, l3;
        int pfd[2];
        pid_t pid;

        build_tar(BLOB_COMPRESS_GZIP, &t1, &l1, &r1);
        build_tar(BLOB_COMPRESS_GZIP, &t2, &l2, &r2);
        assert_int_equal(l1, l2);
        assert_memory_equal(t1, t2, l1);
        assert_string_equal(r1.digest, r2.digest);

        /* another process (another pid) gives the same bytes too */
        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* ... and another locale: non-ASCII names must not depend on it */
                close(pfd[0]);
                if (!setlocale(LC_ALL, "C.UTF-8"))
                        _exit(2);
                build_tar(BLOB_COMPRESS_GZIP, &t3, &l3, &r3);
                _exit(write_full(pfd[1], r3.digest, sizeof(r3.digest)) < 0 ? 1 : 0);
        }
        close(pfd[1]);
        char child_digest[DIGEST_STR_LEN + 1] = {};
        assert_int_equal(read(pfd[0], child_digest, sizeof(child_digest)), (ssize_t) sizeof(child_digest));
        close(pfd[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_string_equal(child_digest, r1.digest);
        free(t1);
        free(t2);
}

static void size_mismatch(int64_t declared) {
        struct smith_error *err = NULL;
        struct blob_writer *b = NULL;
        struct tar_writer *t = NULL;
        const struct tar_entry_meta m = { .perm = 0644 };
        int src = tmp_fd(), fd = tmp_fd();

        assert_int_equal(write_full(src, "0123456789", 10), 0);
        assert_int_equal(lseek(src, 0, SEEK_SET), 0);
        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_NONE, -1, &b, &err), 0);
        assert_int_equal(tar_writer_new(b, &t, &err), 0);
        assert_true(tar_writer_add_file_fd(t, "f", src, declared, &m, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "'f'"));
        error_free(TAKE_PTR(err));
        /* the writer is poisoned: the archive would be corrupt */
        assert_true(tar_writer_add_data(t, "g", "x", 1, &m, &err) < 0);
        error_free(TAKE_PTR(err));
        assert_true(tar_writer_finish(t, &err) < 0);
        error_free(TAKE_PTR(err));
        tar_writer_free(t);
        blob_writer_free(b);
        close(src);
        close(fd);
}

static void test_tar_size_mismatch(void **state) {
        size_mismatch(11); /* file shorter than declared */
        size_mismatch(9);  /* file longer than declared */
        size_mismatch(0);
}

static void test_tar_bad_paths(void **state) {
        struct smith_error *err = NULL;
        struct blob_writer *b = NULL;
        struct tar_writer *t = NULL;
        const struct tar_entry_meta m = { .perm = 0644 };
        const char *bad[] = { "/etc/passwd", "../x", "a/../../b", "" };
        int fd = tmp_fd();

        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_NONE, -1, &b, &err), 0);
        assert_int_equal(tar_writer_new(b, &t, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_true(tar_writer_add_data(t, bad[i], "x", 1, &m, &err) < 0);
                assert_non_null(err);
                error_free(TAKE_PTR(err));
        }
        assert_true(tar_writer_add_hardlink(t, "ok", "/etc/shadow", &m, &err) < 0);
        error_free(TAKE_PTR(err));
        /* rejected names were caught before any header: the writer still works */
        assert_int_equal(tar_writer_add_data(t, "ok", "x", 1, &m, &err), 0);
        assert_int_equal(tar_writer_finish(t, &err), 0);
        tar_writer_free(t);
        blob_writer_free(b);
        close(fd);
}

/* Freeing an unfinished tar writer after its blob writer is gone must not
 * touch the blob writer (it would write the end-of-archive records). */
static void test_tar_free_unfinished(void **state) {
        struct smith_error *err = NULL;
        struct blob_writer *b = NULL;
        struct tar_writer *t = NULL;
        const struct tar_entry_meta m = { .perm = 0644 };
        struct blob_result res;
        uint8_t *out;
        size_t out_len;
        int fd = tmp_fd();

        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_NONE, -1, &b, &err), 0);
        assert_int_equal(tar_writer_new(b, &t, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "a", "x", 1, &m, &err), 0);
        tar_writer_free(t);
        assert_int_equal(blob_writer_finish(b, &res, &err), 0);
        blob_writer_free(b);
        read_back(fd, &out, &out_len);
        assert_int_equal(out_len, 1024); /* header + one data record, no trailer */
        free(out);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_blob_none_known_digest), cmocka_unit_test(test_blob_gzip_roundtrip),
                cmocka_unit_test(test_blob_zstd_roundtrip),    cmocka_unit_test(test_blob_deterministic),
                cmocka_unit_test(test_blob_empty_gzip_valid),  cmocka_unit_test(test_blob_errors_sticky),
                cmocka_unit_test(test_tar_readback),           cmocka_unit_test(test_tar_deterministic),
                cmocka_unit_test(test_tar_size_mismatch),      cmocka_unit_test(test_tar_bad_paths),
                cmocka_unit_test(test_tar_free_unfinished),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
