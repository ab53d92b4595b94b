/* `smith upload -r URL -i image.tar.gz[:tag]`: pushes an image (an OCI
 * layout, packed or a directory, as a build writes it) to a registry.
 *
 * The layout is opened as a build's `package:` is (a tarball's blobs are
 * imported into the cache's verified store once), then the registry client
 * pushes the layers and the config and PUTs the manifest.  With OCI media
 * types the manifest goes up byte for byte, so the registry's digest is the
 * file's; with -d, or for Docker Hub as in the original, it is rewritten with
 * Docker v2 media types (the same config and layer bytes).  The tag is the
 * URL's (default latest).  Then the image's OCI 1.1 artifacts (SBOMs,
 * provenance), which a layout keeps in an index beside the image
 * (oci/referrers.h): pushed with the referrers API where the registry has
 * it, else listed in the index tagged sha256-<hex> of the manifest. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "cmd.h"
#include "layer/recompress.h"
#include "layer/unpack.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/media.h"
#include "oci/platform.h"
#include "oci/referrers.h"
#include "registry/registry.h"
#include "store/cache.h"

/* --compression: every layer of img decompressed and compressed again into
 * the cache's store, its config there too, and the manifest that names
 * them (the config, and so the image's diff_ids, unchanged). */
static int recompress(const struct transfer_opts *o, struct cache *cache, struct oci_image *img, char **ret_manifest,
                      size_t *ret_len, char ***ret_digests, int64_t **ret_sizes, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *m = json_deep_copy(img->manifest);
        _cleanup_strv_free_ char **digests = NULL;
        _cleanup_free_ int64_t *sizes = calloc(img->n_layers + 1, sizeof(*sizes));
        json_t *layers = json_object_get(m, "layers");
        size_t n = 0;

        if (!m || !sizes)
                return error_oom(err);
        if (json_array_size(layers) != img->n_layers)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': the manifest's layers are not the image's", o->image);
        for (size_t i = 0; i <= img->n_layers; i++) {
                _cleanup_close_ int in = -1, out = -1;
                _cleanup_free_ char *tmp = NULL;
                struct blob_result res;
                bool config = i == img->n_layers;
                const char *digest = config ? img->config_digest : img->layers[i].digest;

                if (oci_image_open_blob(img, digest, &in, err) < 0 || cache_tmpfile(cache, &tmp, &out, err) < 0)
                        return -1;
                if (config) {
                        /* the same bytes, beside the layers */
                        struct sha256 *h = sha256_new();
                        uint64_t got = 0;
                        int r = h ? copy_bytes(in, out, (uint64_t) img->config_size, h, &got) : -ENOMEM;
                        char d[DIGEST_STR_LEN + 1];
                        if (r >= 0)
                                sha256_final_digest(h, d);
                        sha256_free(h);
                        if (r < 0 || got != (uint64_t) img->config_size || !streq(d, digest)) {
                                unlinkat(cache->tmp_fd, tmp, 0);
                                return error_set(err, SMITH_ERR_SOURCE, "'%s': config '%s' does not verify", o->image,
                                                 digest);
                        }
                        res = (struct blob_result){ .size = img->config_size };
                        memcpy(res.digest, digest, sizeof(res.digest));
                } else if (layer_recompress(in, img->layers[i].diff_id,
                                            o->zstd ? BLOB_COMPRESS_ZSTD : BLOB_COMPRESS_GZIP, o->level, out, &res,
                                            err) < 0) {
                        unlinkat(cache->tmp_fd, tmp, 0);
                        return error_wrap(err, "'%s'", o->image);
                }
                if (cache_blob_commit(cache, out, tmp, res.digest, err) < 0)
                        return -1;
                if (!config) {
                        json_t *l = json_array_get(layers, i);
                        if (json_object_set_new(l, "mediaType",
                                                json_string(o->zstd ? OCI_MT_LAYER_ZSTD : OCI_MT_LAYER_GZIP)) < 0 ||
                            json_object_set_new(l, "digest", json_string(res.digest)) < 0 ||
                            json_object_set_new(l, "size", json_integer(res.size)) < 0)
                                return error_oom(err);
                }
                if (!strv_contains(digests, res.digest)) {
                        if (strv_extend(&digests, res.digest) < 0)
                                return error_oom(err);
                        sizes[n++] = res.size;
                }
        }
        if (json_object_set_new(m, "mediaType", json_string(OCI_MT_MANIFEST)) < 0)
                return error_oom(err);
        if (oci_json_dump(m, ret_manifest, ret_len, err) < 0)
                return -1;
        *ret_digests = TAKE_PTR(digests);
        *ret_sizes = TAKE_PTR(sizes);
        return 0;
}

/* Pushes img: its blobs, its manifest (to the reference's tag, or with
 * by_digest untagged), its artifacts; *ret_digest gets the manifest's. */
static int push_image(const struct transfer_opts *o, struct registry_client *client, const struct registry_ref *ref,
                      const char *shown, struct cache *cache, struct oci_image *img, bool by_digest,
                      char ret_digest[static DIGEST_STR_LEN + 1], struct smith_error **err) {
        _cleanup_free_ char *manifest = NULL;
        _cleanup_free_ int64_t *sizes = NULL;
        _cleanup_strv_free_ char **digests = NULL;
        _cleanup_(oci_referrers_release) struct oci_referrers refs = {};
        const char *media_type = NULL;
        size_t manifest_len = 0, n = 0;
        int r;

        int blobs_fd = img->blobs_fd;

        /* OCI media types: the manifest goes up byte for byte (the registry's
         * digest is the file's); Docker's: rewritten; --compression: every
         * layer compressed again */
        if (o->compression) {
                r = recompress(o, cache, img, &manifest, &manifest_len, &digests, &sizes, err);
                media_type = OCI_MT_MANIFEST;
                blobs_fd = cache->blobs_fd;
        } else
                r = oci_image_manifest(img, o->docker || ref->docker_hub ? OCI_MANIFEST_DOCKER : OCI_MANIFEST_AS_IS,
                                       &manifest, &manifest_len, &media_type, err);
        if (r < 0)
                return r;
        sha256_digest_of(manifest, manifest_len, ret_digest);
        /* the artifacts are read (and checked) before anything is pushed */
        r = oci_image_referrers(img, &refs, err);
        if (r < 0)
                return r;
        if (refs.n > 0 && !streq(ret_digest, img->manifest_digest)) {
                /* they name the layout's manifest, not the rewritten one */
                log_warn("'%s': %zu artifact%s not uploaded: they refer to the image's own manifest, not the "
                         "rewritten one",
                         o->image, refs.n, refs.n == 1 ? "" : "s");
                oci_referrers_release(&refs);
        }

        /* layers first, then the config, as registries expect */
        if (!o->compression) {
                sizes = calloc(img->n_layers + 1, sizeof(*sizes));
                if (!sizes)
                        return error_oom(err);
                for (size_t i = 0; i < img->n_layers; i++) {
                        if (strv_contains(digests, img->layers[i].digest))
                                continue;
                        if (strv_extend(&digests, img->layers[i].digest) < 0)
                                return error_oom(err);
                        sizes[n++] = img->layers[i].size;
                }
                if (strv_extend(&digests, img->config_digest) < 0)
                        return error_oom(err);
                sizes[n++] = img->config_size;
        }

        r = by_digest
                    ? registry_push_by_digest(client, blobs_fd, digests, sizes, manifest, manifest_len, media_type, err)
                    : registry_push(client, blobs_fd, digests, sizes, manifest, manifest_len, media_type, err);
        if (r >= 0)
                r = registry_push_referrers(client, img->blobs_fd, ret_digest, &refs, err);
        if (r < 0)
                return error_wrap(err, "upload '%s'", o->image); /* the client's errors name the ref */
        if (o->verbose)
                log_info("uploaded '%s' to '%s': %s%s", o->image, shown, ret_digest,
                         refs.n > 0 ? " (with its artifacts)" : "");
        return 0;
}

/* A multi-platform layout: every platform's image, untagged (blobs the
 * platforms share go up once: the registry has them by then), then the
 * index, byte for byte, to the tag. */
static int push_platforms(const struct transfer_opts *o, struct registry_client *client, const struct registry_ref *ref,
                          const char *shown, struct cache *cache, const struct unpack_limits *limits, const char *index,
                          size_t index_len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = json_loads(index, 0, NULL);
        json_t *e;
        size_t i;

        if (o->docker || ref->docker_hub)
                return error_set(err, SMITH_ERR_USAGE,
                                 "'%s' is a multi-platform image: it goes up with OCI media types only", o->image);
        if (o->compression)
                return error_set(err, SMITH_ERR_USAGE,
                                 "'%s' is a multi-platform image: its index names the images as they are (no "
                                 "--compression)",
                                 o->image);
        if (!json_is_array(json_object_get(doc, "manifests")))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': the image index has no manifests", o->image);
        json_array_foreach(json_object_get(doc, "manifests"), i, e) {
                _cleanup_(oci_image_freep) struct oci_image *img = NULL;
                struct oci_platform p = {};
                char digest[DIGEST_STR_LEN + 1];

                oci_platform_from_config(json_object_get(e, "platform"), &p);
                if (oci_image_open_layout_staged(cache, AT_FDCWD, o->image, &p, limits, &img, NULL, err) < 0 ||
                    push_image(o, client, ref, shown, cache, img, true, digest, err) < 0)
                        return -1;
                if (!streq(digest, json_string_value(json_object_get(e, "digest")) ?: ""))
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': the image index names '%s', not '%s'", o->image,
                                         json_string_value(json_object_get(e, "digest")), digest);
        }
        if (registry_push(client, -1, NULL, NULL, index, index_len, OCI_MT_INDEX, err) < 0)
                return error_wrap(err, "upload '%s'", o->image);
        return 0;
}

static int upload(const struct transfer_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *shown = NULL, *index = NULL;
        char digest[DIGEST_STR_LEN + 1];
        struct registry_opts ro;
        struct unpack_limits limits = {};
        size_t index_len = 0;
        int r;

        r = registry_ref_parse(o->remote, REGISTRY_REF_DOCKER_STYLE, &ref, err);
        if (r < 0)
                return r;
        shown = registry_ref_display(ref);
        if (!shown)
                return error_oom(err);
        r = cmd_limits_from_env(&limits, err);
        if (r < 0)
                return r;
        r = cache_open(&cache, err);
        if (r < 0)
                return r;
        r = oci_image_open_layout(cache, AT_FDCWD, o->image, &limits, &img, err);
        if (r < 0)
                return r;
        r = oci_image_platform_index(img, &index, &index_len, err);
        if (r < 0)
                return r;
        cmd_registry_opts(o, &ro);
        r = registry_client_new(ref, &ro, &client, err);
        if (r < 0)
                return r;
        if (index) {
                r = push_platforms(o, client, ref, shown, cache, &limits, index, index_len, err);
                if (r >= 0 && o->verbose) {
                        sha256_digest_of(index, index_len, digest);
                        log_info("uploaded '%s' to '%s': image index %s", o->image, shown, digest);
                }
                return r;
        }
        return push_image(o, client, ref, shown, cache, img, false, digest, err);
}

static struct transfer_opts opts;

static const struct cmd_option options[] = {
        { "remote", 'r', CMD_STRING, &opts.remote, "where to upload (required)" },
        { "image", 'i', CMD_STRING, &opts.image, "image file[:tag] to upload (default \"image.tar.gz\")" },
        { "docker", 'd', CMD_FLAG, &opts.docker, "use docker media types (automatic for Docker Hub)" },
        { "insecure", 'k', CMD_FLAG, &opts.insecure, "skip tls verification" },
        CMD_TIMEOUT_OPTION(opts.timeout),
        { "compression", 0, CMD_STRING, &opts.compression,
          "compress the layers again with gzip or zstd, at level (the artifacts stay behind)", "gzip|zstd[:level]" },
        { "ca-file", 0, CMD_STRING, &opts.ca_file, "trust the CA certificates in this file (default $SSL_CERT_FILE)" },
        { "verbose", 'v', CMD_FLAG, &opts.verbose, "one line per blob" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        int r = cmd_parse_transfer(cmd, &opts, argc, argv, err);

        if (r != 0)
                return r < 0 ? r : 0;
        return upload(&opts, err);
}

const struct command cmd_upload = {
        .name = "upload",
        .summary = "upload an image to a registry",
        .usage = "  smith upload -r URL [flags]\n",
        .details = "URL is https://[user:pass@]host[:port]/repo[:tag] (default tag latest), http://... for a\n"
                   "registry without TLS, or a docker-style reference (host:5000/repo:tag).\n",
        .options = options,
        .run = run,
};
