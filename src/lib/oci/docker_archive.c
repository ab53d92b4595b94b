/* Writes a docker-archive; see docker_archive.h. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "docker_archive.h"
#include "layer/blob.h"
#include "layer/recompress.h"
#include "layer/tarw.h"
#include "oci/image.h"

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
