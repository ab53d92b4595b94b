/* Tests for the OCI documents and the packed image layout: exact manifest
 * and index JSON, a tiny real image (one layer from the tar writer, a
 * config, a manifest) packed with layout_write_targz() and checked by
 * tar, oci-image-tool and umoci, identical bytes on rewrite, and failures
 * that leave neither an output nor a temp file behind. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "test-util.h"
#include "layer/blob.h"
#include "layer/tarw.h"
#include "oci/image.h"
#include "oci/layout_write.h"

/* --- helpers --- */

static char *tmp_dir(void) {
        return test_tmp_dir("test-layout-");
}

/* Output of a command, all of it. */
static char *run_output(const char *cmd) {
        FILE *f = popen(cmd, "r");
        char *buf = NULL;
        size_t len = 0;
        assert_non_null(f);
        FILE *m = open_memstream(&buf, &len);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                fwrite(chunk, 1, n, m);
        fclose(m);
        assert_int_equal(pclose(f), 0);
        return buf;
}

static void require_tool(const char *name) {
        _cleanup_free_ char *cmd = fmt("command -v %s >/dev/null 2>&1", name);
        if (system(cmd) != 0)
                fail_msg("'%s' is not installed: this test needs it", name);
}

static bool file_exists(const char *p) {
        return access(p, F_OK) == 0;
}

/* Number of entries in dir whose name starts with prefix. */
static int count_prefixed(const char *dir, const char *prefix) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strneq(de->d_name, prefix, strlen(prefix)))
                        n++;
        closedir(d);
        return n;
}

static char *slurp(const char *path, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        assert_int_equal(read_file_at(AT_FDCWD, path, 64u << 20, &buf, &len), 0);
        if (ret_len)
                *ret_len = len;
        return buf;
}

/* --- a tiny real image --- */

struct image {
        char *dir;
        char *layer_path;
        struct oci_descriptor layer, config, manifest;
        char *config_json, *manifest_json;
        size_t config_len, manifest_len;
        json_t *annotations, *platform;
};

static const char hello[] = "hello from smith\n";

static void image_build(struct image *img) {
        struct smith_error *err = NULL;
        struct blob_writer *b = NULL;
        struct tar_writer *t = NULL;
        struct blob_result res;
        const struct tar_entry_meta dm = { .perm = 0755 }, fm = { .perm = 0644 }, lm = { .perm = 0777 };
        _cleanup_(json_decrefp) json_t *cfg = NULL;
        _cleanup_close_ int fd = -1;

        *img = (struct image){};
        img->dir = tmp_dir();
        img->layer_path = path_join(img->dir, "layer.bin");
        fd = open(img->layer_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(blob_writer_new(fd, BLOB_COMPRESS_GZIP, -1, &b, &err), 0);
        assert_int_equal(tar_writer_new(b, &t, &err), 0);
        assert_int_equal(tar_writer_add_dir(t, "etc", &dm, &err), 0);
        assert_int_equal(tar_writer_add_data(t, "etc/hello.txt", hello, strlen(hello), &fm, &err), 0);
        assert_int_equal(tar_writer_add_symlink(t, "etc/greeting", "hello.txt", &lm, &err), 0);
        assert_int_equal(tar_writer_finish(t, &err), 0);
        tar_writer_free(t);
        assert_int_equal(blob_writer_finish(b, &res, &err), 0);
        blob_writer_free(b);
        assert_null(err);

        img->layer = (struct oci_descriptor){ .media_type = (char *) OCI_MT_LAYER_GZIP, .size = res.size };
        memcpy(img->layer.digest, res.digest, sizeof(res.digest));

        cfg = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "created", "1970-01-01T00:00:00Z",
                        "architecture", oci_host_architecture(), "os", "linux", "config", "Cmd", "/bin/sh", "rootfs",
                        "type", "layers", "diff_ids", res.diff_id, "history", "created", "1970-01-01T00:00:00Z",
                        "created_by", "smith test");
        assert_non_null(cfg);
        assert_int_equal(oci_json_dump(cfg, &img->config_json, &img->config_len, &err), 0);
        img->config =
                (struct oci_descriptor){ .media_type = (char *) OCI_MT_CONFIG, .size = (int64_t) img->config_len };
        sha256_digest_of(img->config_json, img->config_len, img->config.digest);

        assert_int_equal(
                oci_manifest_build(&img->config, &img->layer, 1, false, &img->manifest_json, &img->manifest_len, &err),
                0);
        img->annotations = json_pack("{s:s}", OCI_ANNOTATION_REF_NAME, "latest");
        img->platform = json_pack("{s:s, s:s}", "architecture", oci_host_architecture(), "os", "linux");
        img->manifest = (struct oci_descriptor){ .media_type = (char *) OCI_MT_MANIFEST,
                                                 .size = (int64_t) img->manifest_len,
                                                 .annotations = img->annotations,
                                                 .platform = img->platform };
        sha256_digest_of(img->manifest_json, img->manifest_len, img->manifest.digest);
}

static void image_free(struct image *img) {
        _cleanup_free_ char *cmd = fmt("rm -rf '%s'", img->dir);
        assert_int_equal(run(cmd), 0);
        free(img->dir);
        free(img->layer_path);
        free(img->config_json);
        free(img->manifest_json);
        json_decref(img->annotations);
        json_decref(img->platform);
}

/* The blobs of img; the config is listed twice to check it is written once. */
static size_t image_blobs(const struct image *img, struct layout_blob b[static 4]) {
        b[0] = (struct layout_blob){
                .desc = img->manifest, .fd = -1, .data = img->manifest_json, .len = img->manifest_len
        };
        b[1] = (struct layout_blob){ .desc = img->layer, .path = "layer.bin", .dir_fd = -1, .fd = -1 };
        b[2] = (struct layout_blob){ .desc = img->config, .fd = -1, .data = img->config_json, .len = img->config_len };
        b[3] = b[2];
        return 4;
}

static int write_image(const struct image *img, const char *out, const struct layout_writer_opts *o,
                       struct smith_error **err) {
        struct layout_blob b[4];
        size_t n = image_blobs(img, b);
        _cleanup_close_ int dfd = open(img->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        assert_true(dfd >= 0);
        b[1].dir_fd = dfd;
        r = layout_write_targz(out, b, n, &img->manifest, 1, o, err);
        return r;
}

static void set_digest(char d[static DIGEST_STR_LEN + 1], const char *s) {
        snprintf(d, DIGEST_STR_LEN + 1, "%s", s);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* --- documents --- */

static void test_manifest_json(void **state) {
        struct smith_error *err = NULL;
        struct oci_descriptor cfg = { .media_type = (char *) OCI_MT_CONFIG, .size = 7 };
        struct oci_descriptor layers[2] = {
                { .media_type = (char *) OCI_MT_LAYER_GZIP, .size = 100 },
                { .media_type = (char *) OCI_MT_LAYER_ZSTD, .size = 200 },
        };
        _cleanup_free_ char *m = NULL, *d = NULL, *expect = NULL;
        size_t len = 0;
        const char *a = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        const char *b = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        const char *c = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

        set_digest(cfg.digest, a);
        set_digest(layers[0].digest, b);
        set_digest(layers[1].digest, c);

        assert_int_equal(oci_manifest_build(&cfg, layers, 2, false, &m, &len, &err), 0);
        expect = fmt("{\"schemaVersion\":2,\"mediaType\":\"%s\","
                     "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":7},"
                     "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":100},"
                     "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":200}]}",
                     OCI_MT_MANIFEST, OCI_MT_CONFIG, a, OCI_MT_LAYER_GZIP, b, OCI_MT_LAYER_ZSTD, c);
        assert_string_equal(m, expect);
        assert_int_equal(len, strlen(expect));

        /* docker: docker media types; a zstd layer has none */
        free(TAKE_PTR(m));
        assert_true(oci_manifest_build(&cfg, layers, 2, true, &m, &len, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "gzip"));
        error_free(TAKE_PTR(err));
        assert_null(m);
        assert_int_equal(oci_manifest_build(&cfg, layers, 1, true, &m, &len, &err), 0);
        free(TAKE_PTR(expect));
        expect = fmt("{\"schemaVersion\":2,\"mediaType\":\"%s\","
                     "\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":7},"
                     "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":100}]}",
                     DOCKER_MT_MANIFEST, DOCKER_MT_CONFIG, a, DOCKER_MT_LAYER_GZIP, b);
        assert_string_equal(m, expect);

        /* bad digests and sizes are refused */
        set_digest(layers[0].digest, "sha256:XYZ");
        assert_true(oci_manifest_build(&cfg, layers, 1, false, &d, &len, &err) < 0);
        error_free(TAKE_PTR(err));
        set_digest(layers[0].digest, b);
        layers[0].size = -1;
        assert_true(oci_manifest_build(&cfg, layers, 1, false, &d, &len, &err) < 0);
        error_free(TAKE_PTR(err));
        assert_null(d);
}

static void test_descriptor_json(void **state) {
        struct smith_error *err = NULL;
        struct oci_descriptor d = { .media_type = (char *) OCI_MT_MANIFEST, .size = 42 };
        _cleanup_(json_decrefp) json_t *j = NULL, *ann = json_pack("{s:s}", "k", "v"),
                                       *plat = json_pack("{s:s,s:s}", "architecture", "amd64", "os", "linux"),
                                       *bad = json_pack("{s:i}", "k", 1);
        _cleanup_free_ char *s = NULL;

        set_digest(d.digest, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        d.annotations = ann;
        d.platform = plat;
        j = oci_descriptor_to_json(&d);
        assert_non_null(j);
        assert_int_equal(oci_json_dump(j, &s, NULL, &err), 0);
        assert_string_equal(s, "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                               "\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
                               "\"size\":42,\"annotations\":{\"k\":\"v\"},"
                               "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}");
        /* a deep copy: changing the source later does not change j */
        json_object_set_new(ann, "k2", json_string("v2"));
        assert_null(json_object_get(json_object_get(j, "annotations"), "k2"));

        d.annotations = bad;
        assert_null(oci_descriptor_to_json(&d));
        d.annotations = NULL;
        d.media_type = NULL;
        assert_null(oci_descriptor_to_json(&d));
}

static void test_json_dump_bounded(void **state) {
        struct smith_error *err = NULL;
        size_t n = OCI_JSON_MAX + 10;
        _cleanup_free_ char *big = malloc(n + 1), *s = (char *) 0x1;
        _cleanup_(json_decrefp) json_t *j = NULL;
        size_t len = 0;

        assert_non_null(big);
        memset(big, 'x', n);
        big[n] = '\0';
        j = json_pack("{s:s}", "k", big);
        assert_non_null(j);
        assert_true(oci_json_dump(j, &s, &len, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "larger"));
        error_free(TAKE_PTR(err));
        assert_ptr_equal(s, (char *) 0x1); /* untouched on failure */
        s = NULL;

        json_decref(j);
        j = json_pack("{s:s, s:[i, b, n]}", "b", "/x\"y", "a", 1, 1);
        assert_int_equal(oci_json_dump(j, &s, &len, &err), 0);
        assert_string_equal(s, "{\"b\":\"/x\\\"y\",\"a\":[1,true,null]}");
        assert_int_equal(len, strlen(s));
}

static void test_host_architecture(void **state) {
        struct utsname u;
        const char *a = oci_host_architecture();
        static const struct {
                const char *machine, *go;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" },   { "ppc64le", "ppc64le" },
                { "s390x", "s390x" },  { "riscv64", "riscv64" },
        };

        assert_false(isempty(a));
        assert_int_equal(uname(&u), 0);
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine))
                        assert_string_equal(a, map[i].go);
}

/* --- the packed layout --- */

static void test_layout_valid_image(void **state) {
        struct smith_error *err = NULL;
        struct image img;
        _cleanup_free_ char *out = NULL, *ex = NULL, *bundle = NULL, *cmd = NULL, *list = NULL, *index = NULL,
                            *expect_index = NULL, *content = NULL, *tmp_glob = NULL;
        char *want[7], *blob_names[3];

        require_tool("tar");
        require_tool("oci-image-tool");
        require_tool("umoci");
        image_build(&img);
        out = path_join(img.dir, "image.tar.gz");
        assert_int_equal(write_image(&img, out, NULL, &err), 0);
        assert_null(err);
        assert_true(file_exists(out));
        assert_int_equal(count_prefixed(img.dir, "image.tar.gz.tmp"), 0);

        /* members and their order */
        want[0] = (char *) "blobs/";
        want[1] = (char *) "blobs/sha256/";
        blob_names[0] = fmt("blobs/sha256/%s", digest_hex(img.layer.digest));
        blob_names[1] = fmt("blobs/sha256/%s", digest_hex(img.config.digest));
        blob_names[2] = fmt("blobs/sha256/%s", digest_hex(img.manifest.digest));
        qsort(blob_names, 3, sizeof(char *), cmp_str);
        memcpy(want + 2, blob_names, sizeof(blob_names));
        want[5] = (char *) "oci-layout";
        want[6] = (char *) "index.json";
        cmd = fmt("tar tzf '%s'", out);
        list = run_output(cmd);
        {
                _cleanup_free_ char *expect = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&expect, &len);
                for (size_t i = 0; i < ELEMENTSOF(want); i++)
                        fprintf(m, "%s\n", want[i]);
                fclose(m);
                assert_string_equal(list, expect);
        }
        for (size_t i = 0; i < ELEMENTSOF(blob_names); i++)
                free(blob_names[i]);

        /* extract and let the reference tools judge it */
        ex = path_join(img.dir, "layout");
        assert_int_equal(mkdir(ex, 0755), 0);
        free(cmd);
        cmd = fmt("tar xzf '%s' -C '%s'", out, ex);
        assert_int_equal(run(cmd), 0);

        free(cmd);
        cmd = fmt("%s/index.json", ex);
        index = slurp(cmd, NULL);
        expect_index = fmt("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\","
                           "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"%s\":\"latest\"},"
                           "\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
                           OCI_MT_INDEX, OCI_MT_MANIFEST, img.manifest.digest, img.manifest_len,
                           OCI_ANNOTATION_REF_NAME, oci_host_architecture());
        assert_string_equal(index, expect_index);
        free(cmd);
        cmd = fmt("%s/oci-layout", ex);
        free(content);
        content = slurp(cmd, NULL);
        assert_string_equal(content, "{\"imageLayoutVersion\":\"1.0.0\"}");

        free(cmd);
        /* this oci-image-tool calls a layout "image" ("imageLayout" is unimplemented) */
        cmd = fmt("oci-image-tool validate --type image --ref name=latest '%s' >/dev/null 2>&1 || "
                  "oci-image-tool validate --type image --ref name=latest '%s'",
                  ex, ex);
        assert_int_equal(run(cmd), 0);
        free(cmd);
        cmd = fmt("umoci stat --image '%s:latest' >/dev/null 2>&1 || umoci stat --image '%s:latest'", ex, ex);
        assert_int_equal(run(cmd), 0);

        /* umoci unpacks our layer to the file we put in */
        bundle = path_join(img.dir, "bundle");
        free(cmd);
        cmd = fmt("umoci unpack --rootless --image '%s:latest' '%s' >/dev/null 2>&1 || "
                  "umoci unpack --rootless --image '%s:latest' '%s'",
                  ex, bundle, ex, bundle);
        assert_int_equal(run(cmd), 0);
        free(cmd);
        cmd = fmt("%s/rootfs/etc/hello.txt", bundle);
        free(content);
        content = slurp(cmd, NULL);
        assert_string_equal(content, hello);

        image_free(&img);
}

static void test_layout_deterministic(void **state) {
        struct smith_error *err = NULL;
        struct image img;
        const struct layout_writer_opts o = { .mtime = 1700000000, .gzip_level = 9 };
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *da = NULL, *db = NULL, *dc = NULL, *cmd = NULL,
                            *list = NULL;
        size_t la, lb, lc;

        image_build(&img);
        a = path_join(img.dir, "a.tar.gz");
        b = path_join(img.dir, "b.tar.gz");
        c = path_join(img.dir, "c.tar.gz");
        assert_int_equal(write_image(&img, a, NULL, &err), 0);
        assert_int_equal(write_image(&img, b, NULL, &err), 0);
        assert_int_equal(write_image(&img, c, &o, &err), 0);
        da = slurp(a, &la);
        db = slurp(b, &lb);
        dc = slurp(c, &lc);
        assert_int_equal(la, lb);
        assert_memory_equal(da, db, la);
        assert_false(la == lc && memcmp(da, dc, la) == 0);

        /* the layer given as an open fd (offset at its end) gives the same bytes */
        {
                struct layout_blob bl[4];
                size_t n = image_blobs(&img, bl);
                _cleanup_close_ int lfd = open(img.layer_path, O_RDONLY | O_CLOEXEC);
                _cleanup_free_ char *d = path_join(img.dir, "d.tar.gz"), *dd = NULL;
                size_t ld;

                assert_true(lfd >= 0);
                assert_true(lseek(lfd, 0, SEEK_END) > 0);
                bl[1].path = NULL;
                bl[1].fd = lfd;
                bl[3] = bl[1];
                assert_int_equal(layout_write_targz(d, bl, n, &img.manifest, 1, NULL, &err), 0);
                dd = slurp(d, &ld);
                assert_int_equal(ld, la);
                assert_memory_equal(dd, da, la);

                /* and its size is checked too */
                bl[1].desc.size++;
                bl[3] = bl[1];
                assert_true(layout_write_targz(d, bl, n, &img.manifest, 1, NULL, &err) < 0);
                assert_non_null(err);
                assert_non_null(strstr(err->msg, img.layer.digest));
                error_free(TAKE_PTR(err));
                assert_int_equal(count_prefixed(img.dir, "d.tar.gz.tmp"), 0);
        }

        /* the mtime option reaches every header; owners are root */
        cmd = fmt("tar tzvf '%s' --numeric-owner --full-time | awk '{print $2, $4, $5}' | sort -u", c);
        list = run_output(cmd);
        assert_string_equal(list, "0/0 2023-11-14 22:13:20\n");
        free(TAKE_PTR(cmd));
        free(TAKE_PTR(list));
        cmd = fmt("TZ=UTC tar tzvf '%s' | awk '{print $1}' | LC_ALL=C sort | uniq -c | awk '{print $1, $2}'", a);
        list = run_output(cmd);
        assert_string_equal(list, "5 -rw-r--r--\n2 drwxr-xr-x\n");
        image_free(&img);
}

static void assert_failed_cleanly(const struct image *img, const char *out, const char *old_content,
                                  struct smith_error **err, const char *needle) {
        assert_non_null(*err);
        if (needle && !strstr((*err)->msg, needle))
                fail_msg("error '%s' does not mention '%s'", (*err)->msg, needle);
        error_free(TAKE_PTR(*err));
        assert_int_equal(count_prefixed(img->dir, "out.tar.gz.tmp"), 0);
        if (old_content) {
                _cleanup_free_ char *now = slurp(out, NULL);
                assert_string_equal(now, old_content);
        } else
                assert_false(file_exists(out));
}

static void test_layout_failures(void **state) {
        struct smith_error *err = NULL;
        struct image img;
        struct layout_blob b[4];
        size_t n;
        _cleanup_free_ char *out = NULL;
        _cleanup_close_ int dfd = -1;

        image_build(&img);
        out = path_join(img.dir, "out.tar.gz");
        dfd = open(img.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);

        /* a missing blob file: no output, no temp file */
        n = image_blobs(&img, b);
        b[1].dir_fd = dfd;
        b[1].path = "no-such-layer.bin";
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, NULL, &err, "no-such-layer.bin");

        /* an existing output is left alone on failure */
        assert_int_equal(write_file_atomic_at(AT_FDCWD, out, "old", 3, 0644), 0);
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, "no-such-layer.bin");

        /* a blob file shorter or longer than its descriptor */
        b[1].path = "layer.bin";
        b[1].desc.size = img.layer.size + 1;
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, "layer.bin");
        b[1].desc.size = img.layer.size - 1;
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, "layer.bin");
        b[1].desc.size = img.layer.size;

        /* in-memory data that does not match its digest */
        b[2].len--;
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, img.config.digest);
        b[2].len++;
        b[0].desc.digest[10] = b[0].desc.digest[10] == 'a' ? 'b' : 'a';
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, "hashes to");
        b[0].desc = img.manifest;

        /* the same digest listed with two sizes */
        b[3] = b[1];
        b[3].desc.size++;
        assert_true(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err) < 0);
        assert_failed_cleanly(&img, out, "old", &err, "sizes");
        b[3] = b[1]; /* a duplicate file blob is fine too */

        /* an invalid index descriptor */
        {
                struct oci_descriptor bad = img.manifest;
                set_digest(bad.digest, "sha256:nothex");
                assert_true(layout_write_targz(out, b, n, &bad, 1, NULL, &err) < 0);
                assert_failed_cleanly(&img, out, "old", &err, "index.json");
        }

        /* an output directory that does not exist */
        {
                _cleanup_free_ char *nodir = path_join(img.dir, "nope/out.tar.gz");
                assert_true(layout_write_targz(nodir, b, n, &img.manifest, 1, NULL, &err) < 0);
                assert_non_null(err);
                error_free(TAKE_PTR(err));
        }

        /* and with everything right, it replaces the old file */
        assert_int_equal(layout_write_targz(out, b, n, &img.manifest, 1, NULL, &err), 0);
        assert_int_equal(count_prefixed(img.dir, "out.tar.gz.tmp"), 0);
        {
                struct stat st;
                assert_int_equal(stat(out, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);
                assert_true(st.st_size > 100);
        }
        image_free(&img);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_json),      cmocka_unit_test(test_descriptor_json),
                cmocka_unit_test(test_json_dump_bounded),  cmocka_unit_test(test_host_architecture),
                cmocka_unit_test(test_layout_valid_image), cmocka_unit_test(test_layout_deterministic),
                cmocka_unit_test(test_layout_failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
