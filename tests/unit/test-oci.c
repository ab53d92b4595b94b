/* Unit tests for reading OCI image layouts (src/lib/oci/layout_read.c),
 * the cache (src/lib/store/cache.c) and the cached unpacked root
 * (oci_image_root in src/lib/layer/unpack.c).  Layouts are built here:
 * layers with libarchive's writer, JSON with jansson, digests with hash.h;
 * tarballs of them with libarchive again.  Every test gets its own
 * XDG_CACHE_HOME. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "layer-fixtures.h"
#include "layer/unpack.h"
#include "oci/image.h"
#include "layer/stage.h"
#include "oci/layout_read.h"
#include "store/cache.h"

/* --- fixtures --- */

/* A tar of regular files (name, data, len). */
struct member {
        const char *name;
        const void *data;
        size_t len;
};

static void tar_files(const struct member *m, size_t n, struct buf *out) {
        struct archive *a = archive_write_new();

        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                archive_entry_set_pathname(e, m[i].name);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t) m[i].len);
                assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
                if (m[i].len)
                        assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t) m[i].len);
                archive_entry_free(e);
        }
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* blobs/sha256/<hex> in the layout dir. */
static void put_blob(int dfd, const void *data, size_t len, char digest[static DIGEST_STR_LEN + 1]) {
        char name[sizeof("blobs/sha256/") + SHA256_HEX_LEN];
        sha256_digest_of(data, len, digest);
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(digest));
        assert_int_equal(mkdirat(dfd, "blobs", 0755) == 0 || errno == EEXIST, 1);
        assert_int_equal(mkdirat(dfd, "blobs/sha256", 0755) == 0 || errno == EEXIST, 1);
        assert_int_equal(write_file_atomic_at(dfd, name, data, len, 0644), 0);
}

static void put_json(int dfd, json_t *j, char digest[static DIGEST_STR_LEN + 1], size_t *ret_len) {
        char *s = json_dumps(j, JSON_COMPACT);
        put_blob(dfd, s, strlen(s), digest);
        *ret_len = strlen(s);
        free(s);
        json_decref(j);
}

static json_t *desc(const char *mt, const char *digest, size_t size) {
        return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t) size);
}

/* One layer: a tar of files, compressed. */
static json_t *put_layer(int dfd, const struct member *m, size_t n, int comp, json_t *diff_ids) {
        struct buf tar = {}, blob = {};
        char diff_id[DIGEST_STR_LEN + 1], digest[DIGEST_STR_LEN + 1];
        static const char *const mts[] = { OCI_MT_LAYER_TAR, OCI_MT_LAYER_GZIP, OCI_MT_LAYER_ZSTD };
        json_t *d;

        tar_files(m, n, &tar);
        compress_buf(&tar, comp, &blob);
        sha256_digest_of(tar.data, tar.len, diff_id);
        put_blob(dfd, blob.data, blob.len, digest);
        json_array_append_new(diff_ids, json_string(diff_id));
        d = desc(mts[comp], digest, blob.len);
        free(tar.data);
        free(blob.data);
        return d;
}

static const struct member lower_files[] = {
        { "etc/os-release", "ID=test\n", 8 },
        { "etc/old", "old", 3 },
        { "usr/bin/tool", "tool-v1", 7 },
};
static const struct member upper_files[] = {
        { "etc/.wh.old", "", 0 },
        { "usr/bin/tool", "tool-v2", 7 },
};

/* An image with two layers (gzip, zstd) whose files say which image it is
 * (/id); returns the manifest's descriptor (annotated with ref_name). */
static json_t *make_image(int dfd, const char *id, const char *ref_name) {
        json_t *diff_ids = json_array(), *layers = json_array(), *config, *manifest, *d;
        char cdigest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1];
        struct member idm[] = { { "id", id, strlen(id) } };
        size_t clen, mlen;

        json_array_append_new(layers, put_layer(dfd, lower_files, ELEMENTSOF(lower_files), GZIP, diff_ids));
        json_array_append_new(layers, put_layer(dfd, upper_files, ELEMENTSOF(upper_files), ZSTD, diff_ids));
        json_array_append_new(layers, put_layer(dfd, idm, 1, PLAIN, diff_ids));
        config = json_pack("{s:s, s:s, s:{s:s, s:o}}", "architecture", oci_host_architecture(), "os", "linux", "rootfs",
                           "type", "layers", "diff_ids", diff_ids);
        put_json(dfd, config, cdigest, &clen);
        manifest = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                             desc(OCI_MT_CONFIG, cdigest, clen), "layers", layers);
        put_json(dfd, manifest, mdigest, &mlen);
        d = desc(OCI_MT_MANIFEST, mdigest, mlen);
        if (ref_name)
                json_object_set_new(d, "annotations", json_pack("{s:s}", OCI_ANNOTATION_REF_NAME, ref_name));
        return d;
}

static void write_index(int dfd, json_t *manifests) {
        json_t *index =
                json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", manifests);
        char *s = json_dumps(index, JSON_COMPACT);
        assert_int_equal(write_file_atomic_at(dfd, "index.json", s, strlen(s), 0644), 0);
        assert_int_equal(write_file_atomic_at(dfd, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, 0644), 0);
        free(s);
        json_decref(index);
}

/* Tars the layout dir (index.json, oci-layout, blobs) into file. */
static void tar_layout(const char *dir, int comp, const char *file, const char *prefix) {
        struct member m[64];
        char *names[64], *datas[64];
        size_t n = 0;
        struct buf tar = {}, out = {};
        _cleanup_free_ char *bdir = path_join(dir, "blobs/sha256");
        DIR *d;
        struct dirent *de;

        for (int i = 0; i < 2; i++) {
                const char *f = i ? "oci-layout" : "index.json";
                _cleanup_free_ char *p = path_join(dir, f);
                size_t len;
                assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 24, &datas[n], &len), 0);
                assert_true(asprintf(&names[n], "%s%s", prefix, f) > 0);
                m[n] = (struct member){ names[n], datas[n], len };
                n++;
        }
        d = opendir(bdir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                size_t len;
                if (de->d_name[0] == '.')
                        continue;
                p = path_join(bdir, de->d_name);
                assert_int_equal(read_file_at(AT_FDCWD, p, 1 << 24, &datas[n], &len), 0);
                assert_true(asprintf(&names[n], "%sblobs/sha256/%s", prefix, de->d_name) > 0);
                m[n] = (struct member){ names[n], datas[n], len };
                n++;
                assert_true(n < 64);
        }
        closedir(d);
        tar_files(m, n, &tar);
        compress_buf(&tar, comp, &out);
        assert_int_equal(write_file_atomic_at(AT_FDCWD, file, out.data, out.len, 0644), 0);
        for (size_t i = 0; i < n; i++) {
                free(names[i]);
                free(datas[i]);
        }
        free(tar.data);
        free(out.data);
}

static size_t dir_count_for_test(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        size_t n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

struct world {
        char *top, *cache_dir, *layout;
        int layout_fd;
        struct cache *cache;
};

static int world_setup(void **state) {
        struct world *w = calloc(1, sizeof(*w));
        struct smith_error *err = NULL;

        assert_int_equal(mkdtemp_in("/tmp", "smith-oci-", &w->top), 0);
        w->cache_dir = path_join(w->top, "cache");
        w->layout = path_join(w->top, "layout");
        assert_int_equal(mkdir(w->layout, 0755), 0);
        w->layout_fd = open(w->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(w->layout_fd >= 0);
        setenv("XDG_CACHE_HOME", w->cache_dir, 1);
        assert_int_equal(cache_open(&w->cache, &err), 0);
        *state = w;
        return 0;
}

static int world_teardown(void **state) {
        struct world *w = *state;
        /* nothing left behind in tmp/ */
        _cleanup_free_ char *tmp = path_join(w->cache->path, "tmp");
        DIR *d = opendir(tmp);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        fail_msg("left in tmp/: %s", de->d_name);
        closedir(d);
        cache_free(w->cache);
        close(w->layout_fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, w->top), 0);
        free(w->top);
        free(w->cache_dir);
        free(w->layout);
        free(w);
        return 0;
}

static struct oci_image *open_ok(struct world *w, const char *ref) {
        struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        if (oci_image_open_layout(w->cache, AT_FDCWD, ref, NULL, &img, &err) < 0)
                fail_msg("open '%s': %s", ref, err ? err->msg : "?");
        return img;
}

static struct oci_image *open_staged_ok(struct world *w, const char *ref, struct layer_stage **ret_stage) {
        struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        if (oci_image_open_layout_staged(w->cache, AT_FDCWD, ref, NULL, NULL, &img, ret_stage, &err) < 0)
                fail_msg("open '%s': %s", ref, err ? err->msg : "?");
        return img;
}

static void open_fails(struct world *w, int base, const char *ref, const char *msg, bool exact) {
        struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        assert_true(oci_image_open_layout(w->cache, base, ref, NULL, &img, &err) < 0);
        assert_null(img);
        assert_non_null(err);
        if (exact ? !streq(err->msg, msg) : !strstr(err->msg, msg))
                fail_msg("error '%s', wanted '%s'", err->msg, msg);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        error_free(err);
}

static char *root_file(int root_fd, const char *path) {
        char *data = NULL;
        size_t len;
        if (root_read_file(root_fd, path, 1 << 20, &data, &len) < 0)
                return NULL;
        return data;
}

static void check_root(int root_fd, const char *id) {
        _cleanup_free_ char *a = root_file(root_fd, "usr/bin/tool"), *b = root_file(root_fd, "id"),
                            *c = root_file(root_fd, "etc/os-release"), *d = root_file(root_fd, "etc/old");
        assert_non_null(a);
        assert_string_equal(a, "tool-v2");
        assert_non_null(b);
        assert_string_equal(b, id);
        assert_non_null(c);
        assert_null(d);
}

/* --- tests --- */

static void test_dir_layout(void **state) {
        struct world *w = *state;
        json_t *ms = json_array();
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        _cleanup_free_ char *ref = NULL, *path = NULL, *path2 = NULL, *done = NULL;
        int fd = -1, fd2 = -1;

        json_array_append_new(ms, make_image(w->layout_fd, "one", "v1"));
        json_array_append_new(ms, make_image(w->layout_fd, "two", "v2"));
        write_index(w->layout_fd, ms);
        assert_true(asprintf(&ref, "%s:v2", w->layout) > 0);
        img = open_ok(w, ref);
        assert_int_equal(img->n_layers, 3);
        assert_string_equal(img->manifest_media_type, OCI_MT_MANIFEST);
        assert_string_equal(img->layers[0].media_type, OCI_MT_LAYER_GZIP);
        assert_string_equal(img->layers[1].media_type, OCI_MT_LAYER_ZSTD);
        assert_true(digest_is_valid(img->config_digest));
        assert_string_equal(json_string_value(json_object_get(img->annotations, OCI_ANNOTATION_REF_NAME)), "v2");
        assert_string_equal(json_string_value(json_object_get(img->config, "os")), "linux");
        assert_false(img->from_cache);
        /* directory layouts are used in place: nothing copied */
        assert_false(cache_has_blob(w->cache, img->layers[0].digest));

        assert_int_equal(oci_image_root(w->cache, img, NULL, NULL, &fd, &path, &err), 0);
        check_root(fd, "two");
        assert_true(asprintf(&done, "%s.done", path) > 0);
        assert_int_equal(access(done, F_OK), 0);
        assert_non_null(strstr(path, w->cache_dir));

        /* cached: even with the layout's layers gone it is not rebuilt */
        for (size_t i = 0; i < img->n_layers; i++) {
                char name[100];
                snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->layers[i].digest));
                assert_int_equal(unlinkat(w->layout_fd, name, 0), 0);
        }
        assert_int_equal(oci_image_root(w->cache, img, NULL, NULL, &fd2, &path2, &err), 0);
        assert_string_equal(path, path2);
        check_root(fd2, "two");
        close(fd);
        close(fd2);
}

static void test_missing_tag(void **state) {
        struct world *w = *state;
        json_t *ms = json_array();
        _cleanup_free_ char *ref = NULL, *msg = NULL, *ref2 = NULL, *msg2 = NULL;

        json_array_append_new(ms, make_image(w->layout_fd, "one", "v1"));
        json_array_append_new(ms, make_image(w->layout_fd, "three", "v3"));
        write_index(w->layout_fd, ms);
        assert_true(asprintf(&ref, "%s:v2", w->layout) > 0);
        assert_true(asprintf(&msg, "'%s': no image named 'v2' in index.json", w->layout) > 0);
        open_fails(w, AT_FDCWD, ref, msg, true);
        /* no tag, two images, none named latest */
        assert_true(asprintf(&msg2, "'%s': no image named 'latest' in index.json", w->layout) > 0);
        open_fails(w, AT_FDCWD, w->layout, msg2, true);
        /* relative to base_dirfd */
        assert_true(asprintf(&ref2, "layout:v2") > 0);
        {
                int base = open(w->top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                open_fails(w, base, ref2, "'layout': no image named 'v2' in index.json", true);
                close(base);
        }
}

static void test_default_tag(void **state) {
        struct world *w = *state;
        json_t *ms = json_array();
        _cleanup_(oci_image_freep) struct oci_image *img = NULL, *img2 = NULL;
        _cleanup_free_ char *ref = NULL;

        /* the only image is taken without a tag, whatever its name */
        json_array_append_new(ms, make_image(w->layout_fd, "one", "v1"));
        write_index(w->layout_fd, ms);
        img = open_ok(w, w->layout);
        assert_string_equal(json_string_value(json_object_get(img->annotations, OCI_ANNOTATION_REF_NAME)), "v1");
        /* ... but not when a tag is given */
        assert_true(asprintf(&ref, "%s:latest", w->layout) > 0);
        open_fails(w, AT_FDCWD, ref, "no image named 'latest' in index.json", false);

        /* "latest" wins over "only one" when there are several */
        ms = json_array();
        json_array_append_new(ms, make_image(w->layout_fd, "one", "v1"));
        json_array_append_new(ms, make_image(w->layout_fd, "newest", "latest"));
        write_index(w->layout_fd, ms);
        img2 = open_ok(w, w->layout);
        assert_string_equal(json_string_value(json_object_get(img2->annotations, OCI_ANNOTATION_REF_NAME)), "latest");
}

static void test_ref_split(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *odd = path_join(w->top, "x:y"), *ref = NULL, *ref2 = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL, *img2 = NULL;
        int dfd;
        json_t *ms = json_array();

        assert_int_equal(mkdir(odd, 0755), 0);
        dfd = open(odd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        json_array_append_new(ms, make_image(dfd, "odd", "1"));
        write_index(dfd, ms);
        close(dfd);
        /* "<top>/x:y:2" splits at the last ':' only */
        assert_true(asprintf(&ref, "%s:2", odd) > 0);
        open_fails(w, AT_FDCWD, ref, "x:y': no image named '2'", false);
        ref[strlen(ref) - 1] = '1';
        img2 = open_ok(w, ref);
        /* a '/' after the colon: no tag; the only image is taken */
        assert_true(asprintf(&ref2, "%s/", odd) > 0);
        img = open_ok(w, ref2);
        assert_int_equal(img->n_layers, 3);
        /* without it, "y" is taken as the tag of "<top>/x" */
        open_fails(w, AT_FDCWD, odd, "open: No such file or directory", false);
}

static void check_tarball(struct world *w, int comp, const char *file_name, const char *prefix) {
        json_t *ms = json_array();
        _cleanup_free_ char *file = path_join(w->top, file_name), *ref = NULL, *path = NULL, *refs = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL, *img2 = NULL, *img3 = NULL;
        struct smith_error *err = NULL;
        struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };
        int fd = -1;

        json_array_append_new(ms, make_image(w->layout_fd, "one", "v1"));
        json_array_append_new(ms, make_image(w->layout_fd, "two", "v2"));
        write_index(w->layout_fd, ms);
        tar_layout(w->layout, comp, file, prefix);
        assert_true(asprintf(&ref, "%s:v1", file) > 0);

        img = open_ok(w, ref);
        assert_false(img->from_cache);
        assert_int_equal(img->n_layers, 3);
        for (size_t i = 0; i < img->n_layers; i++)
                assert_true(cache_has_blob(w->cache, img->layers[i].digest));
        assert_true(cache_has_blob(w->cache, img->manifest_digest));
        assert_true(cache_has_blob(w->cache, img->config_digest));
        assert_int_equal(oci_image_root(w->cache, img, NULL, NULL, &fd, &path, &err), 0);
        check_root(fd, "one");
        close(fd);

        /* warm: not read again (refs/ remembers it) */
        refs = path_join(w->cache->path, "refs");
        assert_int_equal(dir_count_for_test(refs), 1);
        img2 = open_ok(w, ref);
        assert_true(img2->from_cache);
        assert_string_equal(img2->manifest_digest, img->manifest_digest);
        assert_string_equal(img2->config_digest, img->config_digest);
        assert_int_equal(img2->n_layers, img->n_layers);
        assert_string_equal(img2->layers[2].diff_id, img->layers[2].diff_id);
        assert_string_equal(json_string_value(json_object_get(img2->annotations, OCI_ANNOTATION_REF_NAME)), "v1");

        /* changed (even only its times): read again */
        assert_int_equal(utimensat(AT_FDCWD, file, ts, 0), 0);
        img3 = open_ok(w, ref);
        assert_false(img3->from_cache);
        assert_string_equal(img3->manifest_digest, img->manifest_digest);
}

static void test_tarball_gz(void **state) {
        check_tarball(*state, GZIP, "layout.tar.gz", "");
}
static void test_tarball_plain(void **state) {
        check_tarball(*state, PLAIN, "layout.tar", "./");
}
static void test_tarball_zstd(void **state) {
        check_tarball(*state, ZSTD, "layout.tar.zst", "");
}

static void test_dir_blob_mismatch(void **state) {
        struct world *w = *state;
        json_t *ms = json_array(), *d;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        _cleanup_free_ char *roots = NULL;
        char name[100], *data = NULL;
        size_t len;
        int fd = -1;

        d = make_image(w->layout_fd, "one", "v1");
        json_array_append(ms, d);
        write_index(w->layout_fd, ms);
        /* a manifest whose content does not match its name */
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(json_string_value(json_object_get(d, "digest"))));
        assert_int_equal(read_file_at(w->layout_fd, name, 1 << 20, &data, &len), 0);
        data[len - 2] = data[len - 2] == ' ' ? '\t' : ' ';
        assert_int_equal(write_file_atomic_at(w->layout_fd, name, data, len, 0644), 0);
        open_fails(w, AT_FDCWD, w->layout, "does not match its digest", false);
        free(data);
        json_decref(d);

        /* a layer whose content does not match: caught when unpacking,
         * and no root, marker or temp dir is left */
        ms = json_array();
        json_array_append_new(ms, make_image(w->layout_fd, "two", "v2"));
        write_index(w->layout_fd, ms);
        img = open_ok(w, w->layout);
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->layers[2].digest));
        assert_int_equal(write_file_atomic_at(w->layout_fd, name, "not a tar", 9, 0644), 0);
        assert_true(oci_image_root(w->cache, img, NULL, NULL, &fd, NULL, &err) < 0);
        if (!strstr(err->msg, img->layers[2].digest))
                fail_msg("%s", err->msg);
        error_free(err);
        roots = path_join(w->cache->path, "roots");
        assert_int_equal(dir_count_for_test(roots), 0);
}

static void test_tarball_blob_mismatch(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *file = path_join(w->top, "bad.tar"), *good = NULL;
        char fake[DIGEST_STR_LEN + 1], name[100];
        struct buf tar = {};
        struct member m[3];

        sha256_digest_of("something else", 14, fake);
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(fake));
        /* before index.json: it might be the manifest, so it is read */
        m[0] = (struct member){ name, "tampered!", 9 };
        m[1] = (struct member){ "index.json", "{\"schemaVersion\":2,\"manifests\":[]}", 34 };
        /* names that are not digests are never used as paths */
        m[2] = (struct member){ "blobs/sha256/../../../../smith-oci-escaped", "x", 1 };
        tar_files(m, 3, &tar);
        assert_int_equal(write_file_atomic_at(AT_FDCWD, file, tar.data, tar.len, 0644), 0);
        free(tar.data);
        open_fails(w, AT_FDCWD, file, "corrupt or tampered", false);
        assert_false(cache_has_blob(w->cache, fake));
        assert_int_equal(access("/smith-oci-escaped", F_OK), -1);
        good = path_join(w->top, "smith-oci-escaped");
        assert_int_equal(access(good, F_OK), -1);

        /* after an index.json that does not reference it: skipped unread */
        tar = (struct buf){};
        tar_files((const struct member[]){ m[1], m[0], m[2] }, 3, &tar);
        assert_int_equal(write_file_atomic_at(AT_FDCWD, file, tar.data, tar.len, 0644), 0);
        free(tar.data);
        open_fails(w, AT_FDCWD, file, "no image named 'latest' in index.json", false);
        assert_false(cache_has_blob(w->cache, fake));
}

static void test_manifest_list(void **state) {
        struct world *w = *state;
        json_t *other = make_image(w->layout_fd, "other", NULL), *mine = make_image(w->layout_fd, "mine", NULL);
        json_t *list, *ms = json_array(), *d;
        char digest[DIGEST_STR_LEN + 1];
        size_t len;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *ref = NULL;

        json_object_set_new(other, "platform", json_pack("{s:s, s:s}", "os", "linux", "architecture", "sparc"));
        json_object_set_new(mine, "platform",
                            json_pack("{s:s, s:s}", "os", "linux", "architecture", oci_host_architecture()));
        list = json_pack("{s:i, s:s, s:[o, o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", other,
                         mine);
        put_json(w->layout_fd, list, digest, &len);
        d = desc(OCI_MT_INDEX, digest, len);
        json_object_set_new(d, "annotations", json_pack("{s:s}", OCI_ANNOTATION_REF_NAME, "multi"));
        json_array_append_new(ms, d);
        write_index(w->layout_fd, ms);
        assert_true(asprintf(&ref, "%s:multi", w->layout) > 0);
        img = open_ok(w, ref);
        assert_string_equal(json_string_value(json_object_get(img->annotations, OCI_ANNOTATION_REF_NAME)), "multi");
        {
                int fd = -1;
                struct smith_error *err = NULL;
                assert_int_equal(oci_image_root(w->cache, img, NULL, NULL, &fd, NULL, &err), 0);
                check_root(fd, "mine");
                close(fd);
        }

        /* no image for this host */
        other = make_image(w->layout_fd, "other", NULL);
        json_object_set_new(other, "platform", json_pack("{s:s, s:s}", "os", "linux", "architecture", "sparc"));
        list = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", other);
        put_json(w->layout_fd, list, digest, &len);
        ms = json_array();
        json_array_append_new(ms, desc(OCI_MT_INDEX, digest, len));
        write_index(w->layout_fd, ms);
        open_fails(w, AT_FDCWD, w->layout, "has no image for platform 'linux/", false);

        /* index.json -> index -> index -> this host's image: the second index
         * is not followed, and the error says so (and where) */
        {
                char inner[DIGEST_STR_LEN + 1], outer[DIGEST_STR_LEN + 1];
                _cleanup_free_ char *msg = NULL;
                size_t ilen;

                mine = make_image(w->layout_fd, "mine", NULL);
                json_object_set_new(mine, "platform",
                                    json_pack("{s:s, s:s}", "os", "linux", "architecture", oci_host_architecture()));
                list = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", mine);
                put_json(w->layout_fd, list, inner, &ilen);
                list = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests",
                                 desc(OCI_MT_INDEX, inner, ilen));
                put_json(w->layout_fd, list, outer, &len);
                ms = json_array();
                json_array_append_new(ms, desc(OCI_MT_INDEX, outer, len));
                write_index(w->layout_fd, ms);
                assert_true(asprintf(&msg, "'%s': index '%s' -> index '%s': nested indexes are not followed (depth 2)",
                                     w->layout, outer, inner) > 0);
                open_fails(w, AT_FDCWD, w->layout, msg, true);
        }
}

/* Rewrites the only image's manifest (and index) with edit() applied. */
static void edit_manifest(struct world *w, void (*edit)(int dfd, json_t *manifest)) {
        json_t *d = make_image(w->layout_fd, "one", NULL), *m, *ms = json_array();
        char name[100], digest[DIGEST_STR_LEN + 1], *data = NULL;
        size_t len;
        json_error_t jerr;

        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(json_string_value(json_object_get(d, "digest"))));
        assert_int_equal(read_file_at(w->layout_fd, name, 1 << 20, &data, &len), 0);
        m = json_loads(data, 0, &jerr);
        free(data);
        edit(w->layout_fd, m);
        put_json(w->layout_fd, m, digest, &len);
        json_array_append_new(ms, desc(OCI_MT_MANIFEST, digest, len));
        write_index(w->layout_fd, ms);
        json_decref(d);
}

static void edit_layer_type(int dfd, json_t *m) {
        json_object_set_new(json_array_get(json_object_get(m, "layers"), 1), "mediaType",
                            json_string("application/x-foo"));
}

static void edit_drop_layer(int dfd, json_t *m) {
        json_array_remove(json_object_get(m, "layers"), 0);
}

static void edit_bad_digest(int dfd, json_t *m) {
        json_object_set_new(json_array_get(json_object_get(m, "layers"), 0), "digest",
                            json_string("sha256:../../../../etc/passwd"));
}

static void edit_config_size(int dfd, json_t *m) {
        json_t *c = json_object_get(m, "config");
        json_object_set_new(c, "size", json_integer(json_integer_value(json_object_get(c, "size")) + 1));
}

static void test_bad_manifests(void **state) {
        struct world *w = *state;

        edit_manifest(w, edit_layer_type);
        open_fails(w, AT_FDCWD, w->layout, "unsupported media type 'application/x-foo'", false);
        edit_manifest(w, edit_drop_layer);
        open_fails(w, AT_FDCWD, w->layout, "has 2 layers but its config lists 3 diff_ids", false);
        edit_manifest(w, edit_bad_digest);
        open_fails(w, AT_FDCWD, w->layout, "invalid digest 'sha256:../../../../etc/passwd'", false);
        edit_manifest(w, edit_config_size);
        open_fails(w, AT_FDCWD, w->layout, "bytes, its descriptor says", false);
}

static void test_index_bounds(void **state) {
        struct world *w = *state;
        size_t n = OCI_LAYOUT_MAX_JSON + 10;
        char *big = malloc(n);

        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        assert_int_equal(write_file_atomic_at(w->layout_fd, "index.json", big, n, 0644), 0);
        free(big);
        open_fails(w, AT_FDCWD, w->layout, "index.json is too large", false);
        assert_int_equal(write_file_atomic_at(w->layout_fd, "index.json", "{\"manifests\":[1]}", 17, 0644), 0);
        open_fails(w, AT_FDCWD, w->layout, "index.json: manifest 0 is not an object", false);
        assert_int_equal(write_file_atomic_at(w->layout_fd, "index.json", "{\"a\":1,\"a\":2}", 13, 0644), 0);
        open_fails(w, AT_FDCWD, w->layout, "invalid JSON", false);
        open_fails(w, AT_FDCWD, "/nonexistent-smith", "'/nonexistent-smith': open: No such file or directory", true);
}

/* An image of one layer (comp), optionally with a wrong diff_id in its
 * config; returns the manifest's descriptor, tagged "latest". */
static json_t *make_single_image(int dfd, const struct member *m, size_t n, int comp, bool bad_diff_id) {
        json_t *diff_ids = json_array(), *layers = json_array(), *config, *manifest, *d;
        char cdigest[DIGEST_STR_LEN + 1], mdigest[DIGEST_STR_LEN + 1], bad[DIGEST_STR_LEN + 1];
        size_t clen, mlen;

        json_array_append_new(layers, put_layer(dfd, m, n, comp, diff_ids));
        if (bad_diff_id) {
                sha256_digest_of("other", 5, bad);
                json_array_set_new(diff_ids, 0, json_string(bad));
        }
        config = json_pack("{s:s, s:s, s:{s:s, s:o}}", "architecture", oci_host_architecture(), "os", "linux", "rootfs",
                           "type", "layers", "diff_ids", diff_ids);
        put_json(dfd, config, cdigest, &clen);
        manifest = json_pack("{s:i, s:s, s:o, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                             desc(OCI_MT_CONFIG, cdigest, clen), "layers", layers);
        put_json(dfd, manifest, mdigest, &mlen);
        d = desc(OCI_MT_MANIFEST, mdigest, mlen);
        json_object_set_new(d, "annotations", json_pack("{s:s}", OCI_ANNOTATION_REF_NAME, "latest"));
        return d;
}

/* A single-layer tarball: its layer is unpacked while it is imported, and
 * that root is the image's, without reading the stored blob again. */
static void test_tarball_staged(void **state) {
        struct world *w = *state;
        static const struct member files[] = { { "etc/os-release", "ID=staged\n", 10 }, { "id", "staged", 6 } };

        for (int comp = GZIP; comp <= ZSTD; comp++) {
                _cleanup_free_ char *file = path_join(w->top, comp == GZIP ? "s1.tar" : "s2.tar"), *roots = NULL,
                                    *tmp = NULL;
                _cleanup_(oci_image_freep) struct oci_image *img = NULL;
                _cleanup_(layer_stage_freep) struct layer_stage *stage = NULL;
                struct smith_error *err = NULL;
                char name[100];
                int fd = -1;

                assert_int_equal(rm_rf_at(AT_FDCWD, w->layout), 0);
                assert_int_equal(mkdir(w->layout, 0755), 0);
                close(w->layout_fd);
                w->layout_fd = open(w->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                write_index(w->layout_fd, json_pack("[o]", make_single_image(w->layout_fd, files, 2, comp, false)));
                tar_layout(w->layout, PLAIN, file, "");
                img = open_staged_ok(w, file, &stage);
                assert_non_null(stage);
                /* the stored blob is not needed any more: prove it */
                snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(img->layers[0].digest));
                assert_int_equal(unlinkat(w->cache->blobs_fd, name, 0), 0);
                assert_int_equal(oci_image_root(w->cache, img, stage, NULL, &fd, NULL, &err), 0);
                {
                        _cleanup_free_ char *id = root_file(fd, "id");
                        assert_non_null(id);
                        assert_string_equal(id, "staged");
                }
                close(fd);
                tmp = path_join(w->cache->path, "tmp");
                assert_int_equal(dir_count_for_test(tmp), 0);
                roots = path_join(w->cache->path, "roots");
                assert_int_equal(dir_count_for_test(roots), 2 * (comp - GZIP + 1)); /* <hex> and <hex>.done */
        }
}

/* A staged root that does not match the config is never used: the normal
 * path reports the mismatch, and nothing is left behind. */
static void test_tarball_staged_mismatch(void **state) {
        struct world *w = *state;
        static const struct member files[] = { { "id", "x", 1 } };
        static const struct member hostile[] = { { "id", "x", 1 }, { "../../escaped", "x", 1 } };
        _cleanup_free_ char *file = path_join(w->top, "m.tar"), *roots = path_join(w->cache->path, "roots"),
                            *tmp = path_join(w->cache->path, "tmp"), *escaped = path_join(w->top, "escaped");

        for (int i = 0; i < 2; i++) {
                _cleanup_(oci_image_freep) struct oci_image *img = NULL;
                struct layer_stage *stage = NULL;
                struct smith_error *err = NULL;
                int fd = -1;

                assert_int_equal(rm_rf_at(AT_FDCWD, w->layout), 0);
                assert_int_equal(mkdir(w->layout, 0755), 0);
                close(w->layout_fd);
                w->layout_fd = open(w->layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                write_index(w->layout_fd,
                            json_pack("[o]", i == 0 ? make_single_image(w->layout_fd, files, 1, GZIP, true)
                                                    : make_single_image(w->layout_fd, hostile, 2, GZIP, false)));
                tar_layout(w->layout, PLAIN, file, "");
                img = open_staged_ok(w, file, &stage);
                assert_true(oci_image_root(w->cache, img, stage, NULL, &fd, NULL, &err) < 0);
                if (!strstr(err->msg, i == 0 ? "diff_id mismatch" : "escapes the root"))
                        fail_msg("%s", err->msg);
                error_free(err);
                assert_int_equal(dir_count_for_test(roots), 0);
                oci_image_free(TAKE_PTR(img));
                layer_stage_free(stage);
                assert_int_equal(dir_count_for_test(tmp), 0);
        }
        assert_int_equal(access(escaped, F_OK), -1);
}

/* --- what a tarball import keeps --- */

/* A one-layer image as tarball members, in memory: oci-layout, index.json,
 * manifest, config, layer (gzip), in that order in m[]. */
enum { P_LAYOUT, P_INDEX, P_MANIFEST, P_CONFIG, P_LAYER, P_N };
struct parts {
        struct member m[P_N];
        char *names[P_N], *datas[P_N];
        char digest[P_N][DIGEST_STR_LEN + 1];
};

static void part_set(struct parts *p, int i, char *data, size_t len) {
        p->datas[i] = data;
        if (i == P_LAYOUT || i == P_INDEX) {
                p->names[i] = strdup(i == P_LAYOUT ? "oci-layout" : "index.json");
        } else {
                sha256_digest_of(data, len, p->digest[i]);
                assert_true(asprintf(&p->names[i], "blobs/sha256/%s", digest_hex(p->digest[i])) > 0);
        }
        p->m[i] = (struct member){ p->names[i], data, len };
}

static char *json_text(json_t *j, size_t *len) {
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        *len = strlen(s);
        return s;
}

static void parts_build(struct parts *p) {
        static const struct member files[] = { { "id", "parts", 5 } };
        struct buf tar = {}, gz = {};
        char diff_id[DIGEST_STR_LEN + 1];
        size_t len;
        char *s;

        memset(p, 0, sizeof(*p));
        tar_files(files, 1, &tar);
        compress_buf(&tar, GZIP, &gz);
        sha256_digest_of(tar.data, tar.len, diff_id);
        free(tar.data);
        part_set(p, P_LAYER, (char *) gz.data, gz.len);
        s = json_text(json_pack("{s:s, s:s, s:{s:s, s:[s]}}", "architecture", oci_host_architecture(), "os", "linux",
                                "rootfs", "type", "layers", "diff_ids", diff_id),
                      &len);
        part_set(p, P_CONFIG, s, len);
        s = json_text(json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                                desc(OCI_MT_CONFIG, p->digest[P_CONFIG], p->m[P_CONFIG].len), "layers",
                                desc(OCI_MT_LAYER_GZIP, p->digest[P_LAYER], p->m[P_LAYER].len)),
                      &len);
        part_set(p, P_MANIFEST, s, len);
        s = json_text(json_pack("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests", "mediaType",
                                OCI_MT_MANIFEST, "digest", p->digest[P_MANIFEST], "size",
                                (json_int_t) p->m[P_MANIFEST].len, "annotations", OCI_ANNOTATION_REF_NAME, "latest"),
                      &len);
        part_set(p, P_INDEX, s, len);
        part_set(p, P_LAYOUT, strdup("{\"imageLayoutVersion\":\"1.0.0\"}"), 30);
}

static void parts_free(struct parts *p) {
        for (int i = 0; i < P_N; i++) {
                free(p->names[i]);
                free(p->datas[i]);
        }
}

/* A blob of n bytes (named by its digest, or tampered: by another), as a
 * member; *ret_digest is its name. */
static struct member junk_member(char *data, size_t n, bool tampered, char **ret_name,
                                 char ret_digest[static DIGEST_STR_LEN + 1]) {
        sha256_digest_of(data, n, ret_digest);
        if (tampered)
                sha256_digest_of("not this", 8, ret_digest);
        assert_true(asprintf(ret_name, "blobs/sha256/%s", digest_hex(ret_digest)) > 0);
        return (struct member){ *ret_name, data, n };
}

/* Pseudo-random bytes: they do not compress. */
static char *noise(size_t n) {
        char *p = malloc(n);
        uint32_t x = 2463534242u;
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                p[i] = (char) x;
        }
        return p;
}

static void write_members(const char *file, const struct member *m, size_t n) {
        struct buf tar = {};
        tar_files(m, n, &tar);
        assert_int_equal(write_file_atomic_at(AT_FDCWD, file, tar.data, tar.len, 0644), 0);
        free(tar.data);
}

static void assert_image_stored(struct world *w, const struct parts *p, bool stored) {
        for (int i = P_MANIFEST; i < P_N; i++)
                assert_int_equal(cache_has_blob(w->cache, p->digest[i]), stored);
}

/* Blobs nothing references are never stored, whatever the order: skipped
 * unread once index.json says what it needs, or when they cannot be
 * anything smith reads; kept until the end and dropped when they might
 * have been a layer. */
static void test_tarball_unreferenced(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *file = path_join(w->top, "u.tar");
        const size_t big = (OCI_LAYOUT_MAX_JSON) + 4096;
        char *plain = malloc(big), *gz_data = NULL, *small = strdup("small junk");
        char dplain[DIGEST_STR_LEN + 1], dgz[DIGEST_STR_LEN + 1], dsmall[DIGEST_STR_LEN + 1];
        struct buf raw = { .data = (uint8_t *) noise(big), .len = big }, gz = {};
        struct parts p;

        memset(plain, 'j', big);
        compress_buf(&raw, GZIP, &gz);
        gz_data = (char *) gz.data;
        assert_true(gz.len > OCI_LAYOUT_MAX_JSON);
        parts_build(&p);
        for (int tampered = 0; tampered < 2; tampered++)
                for (int index_first = 0; index_first < 2; index_first++) {
                        _cleanup_free_ char *n1 = NULL, *n2 = NULL, *n3 = NULL;
                        struct member junk[3] = {
                                junk_member(plain, big, tampered, &n1, dplain),
                                junk_member(gz_data, gz.len, tampered, &n2, dgz),
                                junk_member(small, strlen(small), false, &n3, dsmall),
                        };
                        struct member m[P_N + 3];
                        size_t k = 0;
                        struct oci_image *img = NULL;
                        struct smith_error *err = NULL;
                        int r;

                        /* index_first: index.json and the manifest, all
                         * it needs to know what is referenced, come first */
                        if (index_first) {
                                m[k++] = p.m[P_LAYOUT];
                                m[k++] = p.m[P_INDEX];
                                m[k++] = p.m[P_MANIFEST];
                        }
                        for (int i = 0; i < 3; i++)
                                m[k++] = junk[i];
                        m[k++] = p.m[P_LAYER];
                        m[k++] = p.m[P_CONFIG];
                        if (!index_first) {
                                m[k++] = p.m[P_MANIFEST];
                                m[k++] = p.m[P_LAYOUT];
                                m[k++] = p.m[P_INDEX];
                        }
                        write_members(file, m, k);
                        r = oci_image_open_layout(w->cache, AT_FDCWD, file, NULL, &img, &err);
                        if (tampered && !index_first) {
                                /* it might have been the layer: read, and refused */
                                assert_true(r < 0);
                                assert_non_null(strstr(err->msg, "corrupt or tampered"));
                                assert_non_null(strstr(err->msg, dgz));
                                error_free(err);
                                assert_image_stored(w, &p, false);
                        } else {
                                if (r < 0)
                                        fail_msg("%s", err->msg);
                                assert_image_stored(w, &p, true);
                                oci_image_free(img);
                        }
                        assert_false(cache_has_blob(w->cache, dplain));
                        assert_false(cache_has_blob(w->cache, dgz));
                        assert_false(cache_has_blob(w->cache, dsmall));
                        assert_int_equal(rm_rf_at(w->cache->fd, "blobs/sha256"), 0);
                        assert_int_equal(mkdirat(w->cache->fd, "blobs/sha256", 0700), 0);
                        assert_int_equal(rm_rf_at(w->cache->fd, "refs"), 0);
                        assert_int_equal(mkdirat(w->cache->fd, "refs", 0700), 0);
                }
        parts_free(&p);
        free(plain);
        free(gz_data);
        free(raw.data);
        free(small);
}

/* A blob already in the store is left alone, referenced or not. */
static void test_tarball_keeps_store(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *file = path_join(w->top, "k.tar"), *name = NULL;
        char data[] = "already here", digest[DIGEST_STR_LEN + 1];
        struct member m[P_N + 1];
        struct parts p;
        struct oci_image *img;

        parts_build(&p);
        put_blob(w->cache->fd, data, strlen(data), digest);
        memcpy(m, p.m, sizeof(p.m));
        m[P_N] = junk_member(data, strlen(data), false, &name, digest);
        write_members(file, m, P_N + 1);
        img = open_ok(w, file);
        assert_true(cache_has_blob(w->cache, digest));
        assert_image_stored(w, &p, true);
        oci_image_free(img);
        parts_free(&p);
}

/* A member whose tar header disagrees with its descriptor's size is
 * refused before any of it is written. */
static void test_tarball_member_sizes(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *file = path_join(w->top, "s.tar");
        struct parts p;

        parts_build(&p);
        for (int longer = 0; longer < 2; longer++) {
                struct member m[P_N];
                size_t n = p.m[P_LAYER].len;
                char *data = calloc(1, n + (1 << 20));

                memcpy(data, p.m[P_LAYER].data, n);
                memcpy(m, p.m, sizeof(m));
                m[P_LAYER].data = data;
                m[P_LAYER].len = longer ? n + (1 << 20) : n - 1;
                write_members(file, m, P_N);
                open_fails(w, AT_FDCWD, file,
                           longer ? "is larger than its descriptor's size" : "is smaller than its descriptor's size",
                           false);
                assert_image_stored(w, &p, false);
                free(data);
        }
        parts_free(&p);
}

/* The import keeps within max_unpacked: the tarball's decompressed
 * stream, and what it stores. */
static void test_tarball_budget(void **state) {
        struct world *w = *state;
        _cleanup_free_ char *file = path_join(w->top, "b.tar"), *name = NULL;
        const struct unpack_limits small = { .max_unpacked = 64 << 10 };
        char *data = noise(100 << 10), digest[DIGEST_STR_LEN + 1];
        struct member m[P_N + 1];
        struct oci_image *img = NULL;
        struct smith_error *err = NULL;
        struct parts p;

        parts_build(&p);
        memcpy(m, p.m, sizeof(p.m));
        m[P_N] = junk_member(data, 100 << 10, false, &name, digest);
        write_members(file, m, P_N + 1);
        assert_true(oci_image_open_layout(w->cache, AT_FDCWD, file, &small, &img, &err) < 0);
        assert_non_null(strstr(err->msg, "the image unpacks to more than 64 KiB (--max-unpacked, SMITH_MAX_UNPACKED)"));
        error_free(err);
        assert_false(cache_has_blob(w->cache, digest));
        assert_image_stored(w, &p, false);
        /* the same without the junk fits */
        write_members(file, m, P_N);
        assert_int_equal(oci_image_open_layout(w->cache, AT_FDCWD, file, &small, &img, &err), 0);
        oci_image_free(img);
        parts_free(&p);
        free(data);
}

static void test_cache(void **state) {
        struct world *w = *state;
        struct cache *c = NULL;
        struct smith_error *err = NULL;
        _cleanup_free_ char *home = path_join(w->top, "home"), *want = path_join(home, ".cache/smith"),
                            *lock = path_join(w->cache->path, "locks/k1");
        int fd = -1;
        struct stat st;

        assert_int_equal(cache_lock(w->cache, "k1", &fd, &err), 0);
        assert_int_equal(access(lock, F_OK), 0);
        close(fd);
        assert_true(cache_lock(w->cache, "../k", &fd, &err) < 0);
        error_free(err);
        err = NULL;
        assert_int_equal(stat(w->cache->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        /* HOME fallback; relative XDG_CACHE_HOME ignored */
        assert_int_equal(mkdir(home, 0755), 0);
        setenv("XDG_CACHE_HOME", "relative", 1);
        setenv("HOME", home, 1);
        assert_int_equal(cache_open(&c, &err), 0);
        assert_string_equal(c->path, want);
        cache_free(c);
        c = NULL;
        unsetenv("HOME");
        assert_true(cache_open(&c, &err) < 0);
        assert_non_null(strstr(err->msg, "no cache directory"));
        error_free(err);
        setenv("XDG_CACHE_HOME", w->cache_dir, 1);
}

/* What a killed builder leaves in tmp/ is removed by the next cache_open();
 * what a live one holds (flock), or just made, is not. */
static void test_cache_sweep(void **state) {
        struct world *w = *state;
        struct cache *c = NULL;
        struct smith_error *err = NULL;
        _cleanup_free_ char *tmp = path_join(w->cache->path, "tmp");
        const char *names[] = { "root-stale", "blob-stale", "root-held", "root-new" };
        struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
        int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC), held;

        assert_true(tfd >= 0);
        assert_int_equal(mkdirat(tfd, "root-stale", 0755), 0);
        assert_int_equal(mkdirat(tfd, "root-stale/usr", 0755), 0);
        assert_int_equal(write_file_atomic_at(tfd, "root-stale/usr/f", "x", 1, 0644), 0);
        assert_int_equal(write_file_atomic_at(tfd, "blob-stale", "x", 1, 0644), 0);
        assert_int_equal(mkdirat(tfd, "root-held", 0755), 0);
        assert_int_equal(mkdirat(tfd, "root-new", 0755), 0);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(utimensat(tfd, names[i], old, AT_SYMLINK_NOFOLLOW), 0);
        held = openat(tfd, "root-held", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(held >= 0);
        assert_int_equal(flock(held, LOCK_EX), 0);

        assert_int_equal(cache_open(&c, &err), 0);
        assert_int_equal(faccessat(tfd, "root-stale", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(faccessat(tfd, "blob-stale", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(faccessat(tfd, "root-held", F_OK, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(faccessat(tfd, "root-new", F_OK, AT_SYMLINK_NOFOLLOW), 0);
        cache_free(c);

        /* leave tmp/ empty for the teardown's check */
        close(held);
        assert_int_equal(unlinkat(tfd, "root-held", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(tfd, "root-new", AT_REMOVEDIR), 0);
        close(tfd);
}

/* A blob listed in index.json beside the image (as smith's spec and
 * provenance blobs are): found by media type, verified, bounded, and still
 * found when a tarball is reopened through refs/. */
static void test_index_blob(void **state) {
        struct world *w = *state;
        static const char extra[] = "{\"beside\":\"the image\"}";
        json_t *ms = json_array();
        _cleanup_free_ char *file = path_join(w->top, "layout.tar.gz"), *ref = NULL;
        char digest[DIGEST_STR_LEN + 1], name[sizeof("blobs/sha256/") + SHA256_HEX_LEN];
        struct smith_error *err = NULL;
        char *buf = NULL;
        size_t len = 0;

        put_blob(w->layout_fd, extra, strlen(extra), digest);
        json_array_append_new(ms, desc("application/vnd.smith.test+json", digest, strlen(extra)));
        json_array_append_new(ms, make_image(w->layout_fd, "one", "latest"));
        write_index(w->layout_fd, ms);
        tar_layout(w->layout, GZIP, file, "");

        for (int round = 0; round < 3; round++) {
                /* the directory, the tarball cold, the tarball warm */
                _cleanup_(oci_image_freep) struct oci_image *img = open_ok(w, round == 0 ? w->layout : file);
                assert_int_equal(img->from_cache, round == 2);
                assert_int_equal(
                        oci_image_read_index_blob(img, "application/vnd.smith.test+json", 1024, &buf, &len, &err), 1);
                assert_int_equal(len, strlen(extra));
                assert_string_equal(buf, extra);
                free(buf);
                buf = NULL;
                assert_int_equal(oci_image_read_index_blob(img, "application/x-none", 1024, &buf, &len, &err), 0);
                assert_null(buf);
                /* bounded */
                assert_int_equal(oci_image_read_index_blob(img, "application/vnd.smith.test+json", 8, &buf, &len, &err),
                                 -1);
                assert_non_null(strstr(err->msg, "is too large"));
                error_free(err);
                err = NULL;
        }
        /* verified: a changed blob is refused */
        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(digest));
        assert_int_equal(write_file_atomic_at(w->layout_fd, name, "{\"beside\":\"the other\"}", strlen(extra), 0644),
                         0);
        {
                _cleanup_(oci_image_freep) struct oci_image *img = open_ok(w, w->layout);
                assert_int_equal(
                        oci_image_read_index_blob(img, "application/vnd.smith.test+json", 1024, &buf, &len, &err), -1);
                assert_non_null(strstr(err->msg, "does not match its digest"));
                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                error_free(err);
        }
}

/* Writes an artifact manifest (artifactType type, the blob doc, subject the
 * image d) and returns its descriptor as a referrers index lists it. */
static json_t *put_artifact(int dfd, const char *type, const char *doc, const json_t *subject, const char *as_type) {
        struct oci_descriptor blob = { .media_type = (char *) type, .size = (int64_t) strlen(doc) };
        struct oci_descriptor sub = { .media_type = (char *) OCI_MT_MANIFEST,
                                      .size = json_integer_value(json_object_get(subject, "size")) };
        struct smith_error *err = NULL;
        char digest[DIGEST_STR_LEN + 1];
        char *m = NULL;
        size_t len = 0;
        json_t *d;

        put_blob(dfd, doc, strlen(doc), blob.digest);
        put_blob(dfd, "{}", 2, digest);
        snprintf(sub.digest, sizeof(sub.digest), "%s", json_string_value(json_object_get(subject, "digest")));
        assert_int_equal(oci_artifact_manifest_build(type, &blob, &sub, NULL, &m, &len, &err), 0);
        put_blob(dfd, m, len, digest);
        free(m);
        d = desc(OCI_MT_MANIFEST, digest, len);
        json_object_set_new(d, "artifactType", json_string(as_type ? as_type : type));
        return d;
}

/* index.json = [image, the nested index of its referrers annotated with
 * subject_digest (NULL: the image's)]. */
static void put_referrers(int dfd, json_t *image, json_t *artifacts, const char *subject_digest) {
        json_t *ms = json_array(), *nested = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX,
                                                       "manifests", artifacts);
        char digest[DIGEST_STR_LEN + 1];
        size_t len;
        json_t *d;

        put_json(dfd, nested, digest, &len); /* takes nested */
        d = desc(OCI_MT_INDEX, digest, len);
        json_object_set_new(
                d, "annotations",
                json_pack("{s:s}", OCI_ANNOTATION_REFERRERS,
                          subject_digest ? subject_digest : json_string_value(json_object_get(image, "digest"))));
        json_array_append_new(ms, image);
        json_array_append_new(ms, d);
        write_index(dfd, ms);
}

/* Documents stored as OCI 1.1 artifacts referring to the image, in the
 * nested index beside it (smith's layout): found by artifactType, from a
 * directory, a tarball cold and warm; the nested index is no image. */
static void test_referrers(void **state) {
        struct world *w = *state;
        static const char doc[] = "{\"a\":\"document\"}";
        _cleanup_free_ char *file = path_join(w->top, "layout.tar.gz");
        json_t *image = make_image(w->layout_fd, "one", "one"), *arts = json_array();
        struct smith_error *err = NULL;
        char *buf = NULL;
        size_t len = 0;

        json_array_append_new(arts, put_artifact(w->layout_fd, "application/vnd.smith.test+json", doc, image, NULL));
        put_referrers(w->layout_fd, image, arts, NULL);
        tar_layout(w->layout, GZIP, file, "");
        for (int round = 0; round < 3; round++) {
                /* no tag and none named latest: the one image (the nested index is none) */
                _cleanup_(oci_image_freep) struct oci_image *img = open_ok(w, round == 0 ? w->layout : file);
                assert_int_equal(img->from_cache, round == 2);
                assert_int_equal(
                        oci_image_read_index_blob(img, "application/vnd.smith.test+json", 1024, &buf, &len, &err), 1);
                assert_int_equal(len, strlen(doc));
                assert_string_equal(buf, doc);
                free(buf);
                buf = NULL;
                assert_int_equal(oci_image_read_index_blob(img, "application/x-none", 1024, &buf, &len, &err), 0);
                assert_int_equal(oci_image_read_index_blob(img, "application/vnd.smith.test+json", 4, &buf, &len, &err),
                                 -1);
                assert_non_null(strstr(err->msg, "is too large"));
                error_free(err);
                err = NULL;
        }
}

/* Hostile referrers: an artifact about another image, one whose manifest
 * says another artifactType, a nested index annotated for another image. */
static void test_referrers_hostile(void **state) {
        struct world *w = *state;
        static const char doc[] = "{}";
        json_t *image = make_image(w->layout_fd, "one", "latest"), *other = make_image(w->layout_fd, "two", NULL);
        struct smith_error *err = NULL;
        char *buf = NULL;
        size_t len = 0;
        static const struct {
                bool other_subject;
                const char *as_type;
                bool other_index;
                const char *msg;
        } cases[] = {
                { true, NULL, false, "its subject is not the image" },
                { false, "application/vnd.smith.lie+json", false, "artifactType is not" },
                { false, NULL, true, NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_t *arts = json_array();
                const char *type = cases[i].as_type ?: "application/vnd.smith.test+json";
                json_array_append_new(arts, put_artifact(w->layout_fd, "application/vnd.smith.test+json", doc,
                                                         cases[i].other_subject ? other : image, type));
                put_referrers(w->layout_fd, json_incref(image), arts,
                              cases[i].other_index ? json_string_value(json_object_get(other, "digest")) : NULL);
                {
                        _cleanup_(oci_image_freep) struct oci_image *img = open_ok(w, w->layout);
                        int r = oci_image_read_index_blob(img, type, 1024, &buf, &len, &err);
                        assert_int_equal(r, cases[i].msg ? -1 : 0);
                        assert_null(buf);
                        if (cases[i].msg) {
                                assert_non_null(strstr(err->msg, cases[i].msg));
                                assert_int_equal(err->kind, SMITH_ERR_SOURCE);
                                error_free(err);
                                err = NULL;
                        }
                }
        }
        json_decref(image);
        json_decref(other);
}

int main(void) {
#define T(f) cmocka_unit_test_setup_teardown(f, world_setup, world_teardown)
        const struct CMUnitTest tests[] = {
                T(test_dir_layout),
                T(test_missing_tag),
                T(test_default_tag),
                T(test_ref_split),
                T(test_tarball_gz),
                T(test_tarball_plain),
                T(test_tarball_zstd),
                T(test_dir_blob_mismatch),
                T(test_tarball_blob_mismatch),
                T(test_manifest_list),
                T(test_bad_manifests),
                T(test_index_bounds),
                T(test_cache),
                T(test_tarball_staged),
                T(test_tarball_staged_mismatch),
                T(test_cache_sweep),
                T(test_tarball_unreferenced),
                T(test_tarball_keeps_store),
                T(test_tarball_member_sizes),
                T(test_tarball_budget),
                T(test_index_blob),
                T(test_referrers),
                T(test_referrers_hostile),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
