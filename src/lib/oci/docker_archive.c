/* Writes a docker-archive; see docker_archive.h. */
#include <errno.h>
#include <fcntl.h>
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "docker_archive.h"
#include "layer/blob.h"
#include "layer/reader.h"
#include "layer/recompress.h"
#include "layer/tarw.h"
#include "oci/image.h"
#include "oci/media.h"
#include "store/cache.h"

/* The layer blob in fd decompressed into a new unnamed file (*ret_fd, at
 * offset 0, *ret_size bytes), checked against diff_id. */
static int plain_layer(int fd, const char *diff_id, int *ret_fd, int64_t *ret_size, struct smith_error **err) {
        _cleanup_close_ int out = -1;
        const char *tmp = getenv("TMPDIR");
        struct blob_result res;

        out = open(isempty(tmp) ? "/tmp" : tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (out < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "layer '%s': temporary file", diff_id);
        if (layer_recompress(fd, diff_id, BLOB_COMPRESS_NONE, -1, out, &res, err) < 0)
                return -1;
        if (lseek(out, 0, SEEK_SET) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "layer '%s'", diff_id);
        *ret_fd = TAKE_FD(out);
        *ret_size = res.size;
        return 0;
}

int docker_archive_write(const char *out_path, const char *config, size_t config_len,
                         const struct docker_archive_layer *layers, size_t n_layers, const char *repo_tag,
                         int64_t mtime, struct smith_error **err) {
        _cleanup_(blob_writer_freep) struct blob_writer *w = NULL;
        _cleanup_(tar_writer_freep) struct tar_writer *t = NULL;
        _cleanup_(json_decrefp) json_t *manifest = json_array(), *entry = json_object(), *names = json_array();
        _cleanup_free_ char *manifest_json = NULL, *repos_json = NULL;
        const struct tar_entry_meta dir = { .perm = 0755, .mtime = mtime };
        const struct tar_entry_meta file = { .perm = 0644, .mtime = mtime };
        char config_digest[DIGEST_STR_LEN + 1], config_name[SHA256_HEX_LEN + 6];
        struct atomic_file f;
        int r;

        if (!manifest || !entry || !names)
                return error_oom(err);
        sha256_digest_of(config, config_len, config_digest);
        snprintf(config_name, sizeof(config_name), "%s.json", digest_hex(config_digest));
        for (size_t i = 0; i < n_layers; i++) {
                char name[SHA256_HEX_LEN + 12];
                snprintf(name, sizeof(name), "%s/layer.tar", digest_hex(layers[i].diff_id));
                if (json_array_append_new(names, json_string(name)) < 0)
                        return error_oom(err);
        }
        if (json_object_set_new(entry, "Config", json_string(config_name)) < 0 ||
            json_object_set_new(entry, "RepoTags", repo_tag ? json_pack("[s]", repo_tag) : json_null()) < 0 ||
            json_object_set(entry, "Layers", names) < 0 || json_array_append(manifest, entry) < 0)
                return error_oom(err);
        manifest_json = json_dumps(manifest, JSON_COMPACT);
        if (!manifest_json)
                return error_oom(err);
        if (repo_tag && n_layers > 0) {
                /* the legacy file: name -> tag -> the top layer's id */
                const char *colon = strrchr(repo_tag, ':');
                _cleanup_free_ char *repo = colon ? strndup(repo_tag, (size_t) (colon - repo_tag)) : strdup(repo_tag);
                _cleanup_(json_decrefp) json_t *j = repo ? json_pack("{s:{s:s}}", repo, colon ? colon + 1 : "latest",
                                                                     digest_hex(layers[n_layers - 1].diff_id))
                                                         : NULL;
                repos_json = j ? json_dumps(j, JSON_COMPACT) : NULL;
                if (!repos_json)
                        return error_oom(err);
        }

        r = atomic_file_open(out_path, &f);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s': create temp file", out_path);
        r = blob_writer_new(f.fd, BLOB_COMPRESS_NONE, 0, &w, err);
        if (r >= 0) {
                blob_writer_no_digests(w);
                r = tar_writer_new(w, &t, err);
        }
        for (size_t i = 0; r >= 0 && i < n_layers; i++) {
                _cleanup_close_ int pfd = -1;
                char name[SHA256_HEX_LEN + 12];
                int64_t size = 0;

                snprintf(name, sizeof(name), "%s", digest_hex(layers[i].diff_id));
                r = plain_layer(layers[i].fd, layers[i].diff_id, &pfd, &size, err);
                if (r >= 0)
                        r = tar_writer_add_dir(t, name, &dir, err);
                snprintf(name, sizeof(name), "%s/layer.tar", digest_hex(layers[i].diff_id));
                if (r >= 0)
                        r = tar_writer_add_file_fd(t, name, pfd, size, &file, err);
        }
        if (r >= 0)
                r = tar_writer_add_data(t, config_name, config, config_len, &file, err);
        if (r >= 0)
                r = tar_writer_add_data(t, "manifest.json", manifest_json, strlen(manifest_json), &file, err);
        if (r >= 0 && repos_json)
                r = tar_writer_add_data(t, "repositories", repos_json, strlen(repos_json), &file, err);
        if (r >= 0)
                r = tar_writer_finish(t, err);
        tar_writer_free(TAKE_PTR(t));
        if (r >= 0)
                r = blob_writer_finish(w, NULL, err);
        if (r < 0) {
                atomic_file_abort(&f);
                return error_wrap(err, "write '%s'", out_path);
        }
        r = atomic_file_commit(&f, 0644);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "write '%s'", out_path);
        return 0;
}

/* --- reading --- */

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && streq(s + n - k, suffix);
}

int docker_manifest_parse(const char *json, size_t len, char **ret_config, char ***ret_layers, char **ret_tag,
                          struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_free_ char *config = NULL, *tag = NULL;
        json_t *first = json_array_get(j, 0), *l, *tags;
        const char *c;
        size_t i;

        c = json_string_value(json_object_get(first, "Config"));
        l = json_object_get(first, "Layers");
        if (!json_is_array(j) || !json_is_object(first) || isempty(c) || !json_is_array(l))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "manifest.json: not a docker-archive manifest (a list of {Config, Layers})");
        if (json_array_size(l) > DOCKER_ARCHIVE_MAX_LAYERS)
                return error_set(err, SMITH_ERR_SOURCE, "manifest.json: more than %d layers",
                                 DOCKER_ARCHIVE_MAX_LAYERS);
        if (strlen(c) > 4096 || !(config = strdup(c)))
                return c && strlen(c) > 4096 ? error_set(err, SMITH_ERR_SOURCE, "manifest.json: a name too long")
                                             : error_oom(err);
        for (i = 0; i < json_array_size(l); i++) {
                const char *name = json_string_value(json_array_get(l, i));
                if (isempty(name) || strlen(name) > 4096)
                        return error_set(err, SMITH_ERR_SOURCE, "manifest.json: layer %zu is not a name", i);
                if (strv_extend(&layers, name) < 0)
                        return error_oom(err);
        }
        tags = json_object_get(first, "RepoTags");
        if (json_is_array(tags) && json_is_string(json_array_get(tags, 0))) {
                const char *t = json_string_value(json_array_get(tags, 0)), *colon = strrchr(t, ':');
                /* the tag, as an index.json ref.name: what follows the last ':' without a '/' after it */
                if (colon && !strchr(colon, '/') && colon[1] && strlen(colon + 1) < 128 && !(tag = strdup(colon + 1)))
                        return error_oom(err);
        }
        *ret_config = TAKE_PTR(config);
        *ret_layers = TAKE_PTR(layers);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}

/* One entry of the archive, kept: a layer stored by its digest, or a small
 * JSON file in memory. */
struct dentry {
        char *name;
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
        char *data; /* JSON files: the bytes */
};

static int store_entry(struct cache *cache, struct archive *a, int64_t size, struct dentry *d,
                       struct smith_error **err) {
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        const void *buf;
        size_t len;
        la_int64_t off;
        int64_t done = 0;
        int r;

        if (!h)
                return error_oom(err);
        if (cache_tmpfile(cache, &tmp, &fd, err) < 0)
                return -1;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                sha256_update(h, buf, len);
                if (write_full(fd, buf, len) < 0) {
                        unlinkat(cache->tmp_fd, tmp, 0);
                        return error_set_errno(err, SMITH_ERR_IO, errno, "store '%s'", d->name);
                }
                done += (int64_t) len;
        }
        if (r != ARCHIVE_EOF || done != size) {
                unlinkat(cache->tmp_fd, tmp, 0);
                return error_set(err, SMITH_ERR_SOURCE, "'%s': %s", d->name,
                                 r != ARCHIVE_EOF ? archive_error_string(a) ?: "read error" : "short");
        }
        sha256_final_digest(h, d->digest);
        d->size = size;
        return cache_blob_commit(cache, fd, tmp, d->digest, err);
}

static const struct dentry *dentry_find(const struct dentry *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, name))
                        return &v[i];
        return NULL;
}

#define MAX_ENTRIES 4096
#define DOCKER_ARCHIVE_MAX_JSON (4U << 20) /* manifest.json, a config: as a layout's JSON */

int docker_archive_import(struct cache *cache, int fd, const struct unpack_limits *limits, char **ret_index,
                          size_t *ret_len, struct smith_error **err) {
        _cleanup_(layer_reader_freep) struct layer_reader *rd = NULL;
        _cleanup_strv_free_ char **layers = NULL;
        _cleanup_free_ char *config_name = NULL, *tag = NULL, *manifest = NULL;
        _cleanup_(json_decrefp) json_t *m = NULL, *cfg = NULL, *index = NULL, *ls = json_array();
        struct unpack_limits l = unpack_limits_resolve(limits);
        struct dentry *v = calloc(MAX_ENTRIES, sizeof(*v));
        const struct dentry *mf = NULL, *cd;
        char config_digest[DIGEST_STR_LEN + 1], manifest_digest[DIGEST_STR_LEN + 1];
        size_t n = 0, manifest_len = 0;
        json_t *diff_ids;
        struct archive *a;
        int r = -1;

        if (!v || !ls) {
                free(v);
                return error_oom(err);
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "read the archive");
                goto out;
        }
        if (layer_reader_new_limited(fd, UINT64_MAX, &l, 0, 0, &rd, err) < 0)
                goto out;
        a = layer_reader_archive(rd);
        for (;;) {
                struct archive_entry *e;
                const char *name;
                int64_t size;
                int q = archive_read_next_header(a, &e);

                if (q == ARCHIVE_EOF)
                        break;
                if (q != ARCHIVE_OK && q != ARCHIVE_WARN) {
                        layer_reader_error(rd, err, "read the archive");
                        goto out;
                }
                name = archive_entry_pathname(e);
                size = archive_entry_size(e);
                if (!name || archive_entry_filetype(e) != AE_IFREG || size < 0)
                        continue;
                if (strneq(name, "./", 2))
                        name += 2;
                if (n == MAX_ENTRIES) {
                        error_set(err, SMITH_ERR_SOURCE, "more than %d files in the archive", MAX_ENTRIES);
                        goto out;
                }
                if ((uint64_t) size > l.max_entry) {
                        char sz[UNPACK_SIZE_STR_MAX];
                        error_set(err, SMITH_ERR_SOURCE, "'%s' is larger than the %s limit (--max-entry)", name,
                                  unpack_size_str(l.max_entry, sz));
                        goto out;
                }
                v[n].name = strdup(name);
                if (!v[n].name) {
                        error_oom(err);
                        goto out;
                }
                if (ends_with(name, ".json")) {
                        /* a config, or manifest.json: small, read whole */
                        if ((uint64_t) size > DOCKER_ARCHIVE_MAX_JSON) {
                                n++;
                                continue;
                        }
                        v[n].data = malloc((size_t) size + 1);
                        if (!v[n].data || archive_read_data(a, v[n].data, (size_t) size) != (la_ssize_t) size) {
                                error_set(err, SMITH_ERR_SOURCE, "'%s': cannot read it", name);
                                n++;
                                goto out;
                        }
                        v[n].data[size] = '\0';
                        v[n].size = size;
                } else if (ends_with(name, ".tar") && store_entry(cache, a, size, &v[n], err) < 0) {
                        n++;
                        goto out;
                }
                n++;
        }
        mf = dentry_find(v, n, "manifest.json");
        if (!mf || !mf->data) {
                error_set(err, SMITH_ERR_SOURCE,
                          "no index.json in the archive (not an OCI layout), nor manifest.json (not a "
                          "docker-archive)");
                goto out;
        }
        if (docker_manifest_parse(mf->data, (size_t) mf->size, &config_name, &layers, &tag, err) < 0)
                goto out;
        cd = dentry_find(v, n, config_name);
        if (!cd || !cd->data) {
                error_set(err, SMITH_ERR_SOURCE, "manifest.json names config '%.200s', not in the archive",
                          config_name);
                goto out;
        }
        cfg = json_loadb(cd->data, (size_t) cd->size, 0, NULL);
        diff_ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
        if (!json_is_array(diff_ids) || json_array_size(diff_ids) != strv_length(layers)) {
                error_set(err, SMITH_ERR_SOURCE, "'%.200s': rootfs.diff_ids does not list the %zu layers", config_name,
                          strv_length(layers));
                goto out;
        }
        for (size_t i = 0; layers[i]; i++) {
                const struct dentry *ld = dentry_find(v, n, layers[i]);
                json_t *one;
                if (!ld || !digest_is_valid(ld->digest)) {
                        error_set(err, SMITH_ERR_SOURCE, "manifest.json names layer '%.200s', not in the archive",
                                  layers[i]);
                        goto out;
                }
                /* a plain tar's digest is its diff_id */
                if (!streq(ld->digest, json_string_value(json_array_get(diff_ids, i)) ?: "")) {
                        error_set(err, SMITH_ERR_SOURCE, "layer '%.200s' is '%s', not the config's diff_id '%s'",
                                  layers[i], ld->digest, json_string_value(json_array_get(diff_ids, i)) ?: "?");
                        goto out;
                }
                one = json_pack("{s:s, s:s, s:I}", "mediaType", OCI_MT_LAYER_TAR, "digest", ld->digest, "size",
                                (json_int_t) ld->size);
                if (!one || json_array_append_new(ls, one) < 0) {
                        error_oom(err);
                        goto out;
                }
        }
        sha256_digest_of(cd->data, (size_t) cd->size, config_digest);
        if (cache_store_bytes(cache, config_digest, cd->data, (size_t) cd->size, err) < 0)
                goto out;
        m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "config",
                      "mediaType", OCI_MT_CONFIG, "digest", config_digest, "size", (json_int_t) cd->size, "layers", ls);
        if (!m) {
                error_oom(err);
                goto out;
        }
        if (oci_json_dump(m, &manifest, &manifest_len, err) < 0)
                goto out;
        sha256_digest_of(manifest, manifest_len, manifest_digest);
        if (cache_store_bytes(cache, manifest_digest, manifest, manifest_len, err) < 0)
                goto out;
        index = json_pack("{s:i, s:[{s:s, s:s, s:I, s:{s:s}}]}", "schemaVersion", 2, "manifests", "mediaType",
                          OCI_MT_MANIFEST, "digest", manifest_digest, "size", (json_int_t) manifest_len, "annotations",
                          OCI_ANNOTATION_REF_NAME, tag ? tag : "latest");
        if (!index) {
                error_oom(err);
                goto out;
        }
        if (oci_json_dump(index, ret_index, ret_len, err) < 0)
                goto out;
        r = 0;
out:
        for (size_t i = 0; i < n; i++)
                free_many(v[i].name, v[i].data);
        free(v);
        return r;
}
