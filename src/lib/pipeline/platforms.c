/* Several platforms in one build (README "Platforms"): each platform is
 * built as a build of its own (build_run() with a stash), so each is byte
 * for byte its single-platform image; their blobs and index.json entries
 * gather in a stash in the cache's tmp/, and one layout is written whose
 * "latest" is an image index naming each platform's manifest with its
 * platform, beside each platform's index of artifacts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "build-internal.h"
#include "build.h"
#include "config/config.h"
#include "oci/image.h"
#include "oci/layout_write.h"
#include "oci/media.h"
#include "oci/platform.h"
#include "store/cache.h"

/* What the platforms of one build have written so far: their blobs as
 * blobs/sha256/<hex> in a directory of the cache's tmp/ (shared blobs
 * once), and each one's index.json entries (its image, with its platform;
 * the index of its artifacts). */
struct build_stash {
        struct cache *cache;
        int dir_fd;
        char *dir_name;
        struct oci_descriptor *entries;
        size_t n_entries;
};

static int stash_blob(struct build_stash *st, const struct layout_blob *bl, struct smith_error **err) {
        char name[sizeof("blobs/sha256/") + SHA256_HEX_LEN];

        snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(bl->desc.digest));
        if (faccessat(st->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0; /* the same content, from another platform */
        return layout_copy_blob(st->dir_fd, bl, err);
}

int build_stash_image(struct build_stash *st, const struct layout_blob *blobs, size_t n_blobs,
                      const struct oci_descriptor *entries, size_t n_entries, struct smith_error **err) {
        struct oci_descriptor *v = realloc(st->entries, (st->n_entries + n_entries) * sizeof(*v));

        if (!v)
                return error_oom(err);
        st->entries = v;
        for (size_t i = 0; i < n_blobs; i++)
                if (stash_blob(st, &blobs[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < n_entries; i++) {
                struct oci_descriptor d = entries[i];
                d.media_type = strdup(d.media_type);
                d.annotations = d.annotations ? json_deep_copy(d.annotations) : NULL;
                d.platform = d.platform ? json_deep_copy(d.platform) : NULL;
                st->entries[st->n_entries++] = d;
                if (!d.media_type)
                        return error_oom(err);
        }
        return 0;
}

static void stash_release(struct build_stash *st) {
        for (size_t i = 0; i < st->n_entries; i++) {
                free(st->entries[i].media_type);
                layout_index_entry_release(&st->entries[i]);
        }
        free(st->entries);
        if (st->dir_fd >= 0)
                close(st->dir_fd);
        if (st->dir_name)
                (void) rm_rf_at(st->cache->tmp_fd, st->dir_name);
        free(st->dir_name);
}

/* The platforms of a multi-platform build (--platform given more than
 * once, else smith.yaml's platforms: with more than one), or NULL. */
char *const *build_platforms(const struct build_opts *o, const struct smith_config *cfg) {
        if (o->platforms && strv_length(o->platforms) > 1)
                return o->platforms;
        if (!o->platform && !o->platforms && strv_length(cfg->platforms) > 1)
                return cfg->platforms;
        return NULL;
}

static int stash_dir_blobs(struct build_stash *st, struct layout_blob **ret, size_t *ret_n, struct smith_error **err) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ struct layout_blob *v = NULL;
        _cleanup_close_ int dfd = openat(st->dir_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        size_t n;

        if (dfd < 0 || !(d = fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3))))
                return error_set_errno(err, SMITH_ERR_IO, errno, "read the stash");
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0) {
                        closedir(d);
                        return error_oom(err);
                }
        closedir(d);
        n = strv_length(names);
        strv_sort(names); /* the layout's order is the blobs', whatever readdir gives */
        v = calloc(n + 1, sizeof(*v));
        if (!v)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                struct stat sst;
                if (fstatat(dfd, names[i], &sst, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "stash '%s'", names[i]);
                v[i] = (struct layout_blob){
                        .desc = { .size = sst.st_size }, .in_blobs_dir = true, .dir_fd = st->dir_fd, .fd = -1
                };
                snprintf(v[i].desc.digest, sizeof(v[i].desc.digest), "sha256:%s", names[i]);
        }
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* Each platform built as a build of its own (so each is byte for byte its
 * single-platform image) into one stash, then one layout: index.json's
 * "latest" is an image index naming each platform's manifest with its
 * platform, beside each platform's index of artifacts. */
int build_multi(const struct build_opts *bo, char *const *platforms, struct cache *cache, int64_t epoch,
                struct smith_error **err) {
        _cleanup_(stash_release) struct build_stash st = { .dir_fd = -1 };
        _cleanup_(json_decrefp) json_t *nested = json_object(), *list = json_array();
        _cleanup_free_ struct layout_blob *blobs = NULL;
        _cleanup_free_ struct oci_descriptor *top = NULL;
        _cleanup_free_ char *index_json = NULL;
        struct layout_writer_opts lo = { .mtime = epoch >= 0 ? epoch : 0, .gzip_level = LAYOUT_GZIP_STORED };
        size_t n_blobs = 0, index_len = 0, n_top = 0;
        char index_digest[DIGEST_STR_LEN + 1];
        int r;

        if (!nested || !list)
                return error_oom(err);
        if (bo->format == BUILD_FORMAT_DOCKER)
                return error_set(err, SMITH_ERR_USAGE,
                                 "docker-archive holds one image of one platform: give one --platform, or another "
                                 "--format");
        st.cache = cache;
        if (cache_tmpdir(cache, "platforms-", &st.dir_name, &st.dir_fd, err) < 0)
                return -1;
        if (mkdirat(st.dir_fd, "blobs", 0755) < 0 || mkdirat(st.dir_fd, "blobs/sha256", 0755) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stash");
        for (size_t i = 0; platforms[i]; i++) {
                struct build_opts o = *bo;
                struct oci_platform p;

                for (size_t k = 0; k < i; k++) {
                        struct oci_platform q;
                        if (oci_platform_parse(platforms[k], &q, NULL) == 0 &&
                            oci_platform_parse(platforms[i], &p, NULL) == 0 && streq(p.arch, q.arch) &&
                            streq(p.variant, q.variant) && streq(p.os, q.os))
                                return error_set(err, SMITH_ERR_USAGE, "platform '%s' is named twice", platforms[i]);
                }
                o.platform = platforms[i];
                o.platforms = NULL;
                o.stash = &st;
                log_info("platform %s", platforms[i]);
                r = build_run(&o, err);
                if (r < 0)
                        return error_wrap(err, "platform '%s'", platforms[i]);
        }
        /* the image index: each platform's manifest, as its entry named it */
        for (size_t i = 0; i < st.n_entries; i++) {
                const struct oci_descriptor *d = &st.entries[i];
                json_t *e;
                if (!d->platform)
                        continue; /* an index of artifacts */
                e = json_pack("{s:s, s:s, s:I, s:O}", "mediaType", d->media_type, "digest", d->digest, "size",
                              (json_int_t) d->size, "platform", d->platform);
                if (!e || json_array_append_new(list, e) < 0)
                        return error_oom(err);
        }
        if (json_object_set_new(nested, "schemaVersion", json_integer(2)) < 0 ||
            json_object_set_new(nested, "mediaType", json_string(OCI_MT_INDEX)) < 0 ||
            json_object_set(nested, "manifests", list) < 0)
                return error_oom(err);
        r = oci_json_dump(nested, &index_json, &index_len, err);
        if (r < 0)
                return error_wrap(err, "image index");
        sha256_digest_of(index_json, index_len, index_digest);
        {
                char name[sizeof("blobs/sha256/") + SHA256_HEX_LEN];
                _cleanup_close_ int fd = -1;
                snprintf(name, sizeof(name), "blobs/sha256/%s", digest_hex(index_digest));
                fd = openat(st.dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write_full(fd, index_json, index_len) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "stash the image index");
        }
        top = calloc(st.n_entries + 1, sizeof(*top));
        if (!top)
                return error_oom(err);
        /* "latest" is the index, with the first platform's annotations (the build's) */
        top[n_top] = (struct oci_descriptor){ .media_type = (char *) OCI_MT_INDEX, .size = (int64_t) index_len };
        memcpy(top[n_top].digest, index_digest, sizeof(index_digest));
        for (size_t i = 0; i < st.n_entries; i++)
                if (st.entries[i].platform) {
                        top[n_top].annotations = st.entries[i].annotations;
                        break;
                }
        n_top++;
        for (size_t i = 0; i < st.n_entries; i++)
                if (!st.entries[i].platform)
                        top[n_top++] = st.entries[i];
        r = stash_dir_blobs(&st, &blobs, &n_blobs, err);
        if (r < 0)
                return r;
        return build_write_layout(bo, blobs, n_blobs, top, n_top, &lo, err);
}
