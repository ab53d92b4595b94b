/* The `registry` source: `package:` names an image in a registry
 * (https://host/repo:tag, or a docker-style host:5000/repo:tag).  The
 * registry client pulls it into the cache's verified blob store (blobs that
 * are already there are not fetched again), then it is unpacked once into
 * the cache keyed by its manifest digest, exactly as an `oci` image is.
 * The image's config later fills what smith.yaml leaves empty.
 *
 * Every pull leaves a note in the cache (refs/, keyed by the reference)
 * naming the manifest it resolved to; with -f the build uses that image
 * without asking the registry again, as the original's -f skipped the
 * package install. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/progress.h"
#include "basic/fs.h"
#include "basic/hash.h"

#include "layer/unpack.h"
#include "oci/image.h"
#include "lock.h"
#include "registry/registry.h"
#include "source.h"

#define NOTE_MAX 4096

static int note_name(const char *shown, const char *platform, char ret[static 5 + SHA256_HEX_LEN + 1]) {
        _cleanup_free_ char *id = NULL;
        char d[DIGEST_STR_LEN + 1];

        /* the platform is part of what a pull resolved (none: this machine's, as before) */
        if (asprintf(&id, "registry\n%s%s%s", shown, platform ? "\nplatform " : "", platform ? platform : "") < 0)
                return -ENOMEM;
        sha256_digest_of(id, strlen(id), d);
        snprintf(ret, 5 + SHA256_HEX_LEN + 1, "refs/%s", digest_hex(d));
        return 0;
}

static void note_write(struct cache *cache, const char *name, const struct oci_image *img) {
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:s, s:s, s:I}", "mediaType", img->manifest_media_type, "digest", img->manifest_digest,
                          "size", (json_int_t) img->manifest_size);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

        /* only a shortcut for -f: failing to write it is not an error */
        if (text)
                (void) write_file_atomic_at(cache->fd, name, text, strlen(text), 0600);
}

/* The image the last pull of this reference resolved to, when it and all
 * its layers are still in the cache; 0 and *ret NULL otherwise. */
static int note_image(struct cache *cache, const char *name, const char *shown, struct oci_image **ret) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        _cleanup_(error_freep) struct smith_error *e = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *text = NULL;
        const char *mt, *digest;

        *ret = NULL;
        if (read_file_at(cache->fd, name, NOTE_MAX, &text, NULL) < 0)
                return 0;
        j = json_loads(text, 0, NULL);
        mt = json_string_value(json_object_get(j, "mediaType"));
        digest = json_string_value(json_object_get(j, "digest"));
        if (!mt || !digest || !json_is_integer(json_object_get(j, "size")))
                return 0;
        if (oci_image_from_store(cache->blobs_fd, mt, digest, json_integer_value(json_object_get(j, "size")), shown,
                                 &img, &e) < 0)
                return 0;
        for (size_t i = 0; i < img->n_layers; i++)
                if (!cache_has_blob(cache, img->layers[i].digest))
                        return 0;
        *ret = TAKE_PTR(img);
        return 0;
}

/* `smith lock`: the manifest digest the reference resolves to for this
 * platform, asked of the registry; nothing is pulled. */
static int lock_image(const struct registry_ref *ref, const char *shown, const struct registry_opts *ro,
                      struct smith_lock *out, struct smith_error **err) {
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        struct registry_manifest_ref m;

        if (registry_client_new(ref, ro, &client, err) < 0 || registry_resolve(client, &m, err) < 0)
                return -1;
        out->image =
                (struct lock_image){ .reference = strdup(shown), .media_type = strdup(m.media_type), .size = m.size };
        memcpy(out->image.digest, m.digest, sizeof(out->image.digest));
        if (!out->image.reference || !out->image.media_type)
                return error_oom(err);
        return 0;
}

/* A locked build: the image the lock names, from the cache when it is all
 * there, else pulled by its digest (which the registry's answer must hash
 * to), never by the tag. */
static int locked_image(struct registry_ref *ref, const char *shown, const struct registry_opts *ro,
                        const struct source_ctx *ctx, struct oci_image **ret, struct smith_error **err) {
        const struct lock_image *li = &ctx->lock->image;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(error_freep) struct smith_error *ignored = NULL;

        if (!li->reference || !streq(li->reference, shown))
                return error_set(err, SMITH_ERR_CONFIG, "%s: does not lock the image '%s': run 'smith lock'",
                                 ctx->lock->path, shown);
        if (oci_image_from_store(ctx->cache->blobs_fd, li->media_type, li->digest, li->size, shown, &img, &ignored) ==
            0) {
                bool all = true;
                for (size_t i = 0; i < img->n_layers; i++)
                        if (!cache_has_blob(ctx->cache, img->layers[i].digest))
                                all = false;
                if (all) {
                        *ret = TAKE_PTR(img);
                        return 0;
                }
                oci_image_free(TAKE_PTR(img));
        }
        free(ref->digest);
        ref->digest = strdup(li->digest);
        if (!ref->digest)
                return error_oom(err);
        if (registry_pull_image(ref, ro, ctx->cache, &img, err) < 0)
                return error_wrap(err, "%s", ctx->lock->path);
        if (!streq(img->manifest_digest, li->digest))
                return error_set(err, SMITH_ERR_REGISTRY, "%s: '%s' is not an image manifest of '%s'", ctx->lock->path,
                                 li->digest, shown);
        *ret = TAKE_PTR(img);
        return 0;
}

static int registry_open(struct source *s, const struct smith_config *c, const struct source_ctx *ctx,
                         struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_free_ char *shown = NULL;
        struct registry_opts ro = {
                .insecure = ctx->insecure,
                .verbose = ctx->verbose,
                .progress = isatty(STDERR_FILENO) == 1,
        };
        struct unpack_opts uo = { .verbose = ctx->verbose, .limits = ctx->limits };
        char note[5 + SHA256_HEX_LEN + 1], platform[100];
        int r;

        r = registry_ref_parse(c->package, REGISTRY_REF_DOCKER_STYLE, &ref, err);
        if (r < 0) {
                /* a bad reference in smith.yaml is a bad package, not a bad command line */
                if (*err)
                        (*err)->kind = SMITH_ERR_SOURCE;
                return error_wrap(err, "package");
        }
        shown = registry_ref_display(ref);
        if (!shown)
                return error_oom(err);
        if (ctx->platform)
                ro.platform = oci_platform_format(ctx->platform, platform);
        if (note_name(shown, ro.platform, note) < 0)
                return error_oom(err);
        if (ctx->lock_out)
                return lock_image(ref, shown, &ro, ctx->lock_out, err);
        if (ctx->lock) {
                r = locked_image(ref, shown, &ro, ctx, &s->image, err);
                if (r < 0)
                        return r;
        }
        if (ctx->fast && !s->image)
                note_image(ctx->cache, note, shown, &s->image);
        if (!s->image) {
                /* its blobs show their own progress: the phase keeps the time */
                progress_start("pull", 0);
                r = registry_pull_image(ref, &ro, ctx->cache, &s->image, err);
                progress_stop();
                if (r < 0)
                        return r;
                note_write(ctx->cache, note, s->image);
        }
        r = source_check_platform(ctx, s->image, shown, err);
        if (r < 0)
                return r;
        r = oci_image_root(ctx->cache, s->image, NULL, &uo, &s->root_fd, &s->root_path, err);
        if (r < 0)
                return error_wrap(err, "unpack '%s'", shown);
        return 0;
}

/* Named "oci" as the original did for registry packages: the spec blob
 * records the same type for the same smith.yaml. */
const struct source_ops source_registry_ops = {
        .kind = "oci",
        .open = registry_open,
        .locks = true,
};
