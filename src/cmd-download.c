/* `smith download -r URL [-i image.tar.gz]`: pulls an image from a registry
 * and writes it as the same OCI image layout packed as tar.gz that a build
 * writes, so a downloaded image works as `package:` (and runs).
 *
 * The registry client pulls the manifest (resolving an index to the platform
 * asked for), the config and the layers into the cache's verified blob store;
 * the layout is then written from those files.  An OCI manifest is kept byte
 * for byte (its digest is the registry's); a Docker v2 manifest is rewritten
 * with OCI media types (same config and layer bytes, so the same image), as
 * the original smith did.  The index entry is named after the tag.  The
 * image's OCI 1.1 artifacts (SBOMs, provenance: the registry's referrers)
 * are kept as a build keeps them, in an index beside the image
 * (oci/referrers.h).  With --platform all, an index is kept byte for byte
 * with every platform's image (and artifacts) it names. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "basic/strv.h"
#include "cmd.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/layout_write.h"
#include "oci/media.h"
#include "oci/platform.h"
#include "oci/referrers.h"
#include "registry/registry.h"
#include "store/cache.h"

/* What goes into the layout: blobs (and the buffers some point into),
 * and index.json's entries. */
struct layout_out {
        struct layout_blob *blobs;
        size_t n_blobs, cap;
        struct oci_descriptor entries[64];
        size_t n_entries;
        char **owned; /* strv: manifests and nested indexes the blobs point into */
};

static void layout_out_release(struct layout_out *l) {
        for (size_t i = 0; i < l->n_entries; i++)
                layout_index_entry_release(&l->entries[i]);
        free(l->blobs);
        strv_free(l->owned);
}

static int add_blob(struct layout_out *l, struct layout_blob b, struct smith_error **err) {
        if (l->n_blobs == l->cap) {
                size_t c = l->cap ? l->cap * 2 : 64;
                struct layout_blob *v = realloc(l->blobs, c * sizeof(*v));
                if (!v)
                        return error_oom(err);
                l->blobs = v;
                l->cap = c;
        }
        l->blobs[l->n_blobs++] = b;
        return 0;
}

static int add_entry(struct layout_out *l, struct oci_descriptor d, struct smith_error **err) {
        if (l->n_entries == ELEMENTSOF(l->entries)) {
                layout_index_entry_release(&d);
                return error_set(err, SMITH_ERR_REGISTRY, "more than %zu images in the index",
                                 ELEMENTSOF(l->entries) - 1);
        }
        l->entries[l->n_entries++] = d;
        return 0;
}

/* One image into l: its layers, config and manifest (the manifest entry
 * into index.json when tag is given, else to *ret_entry, the caller's),
 * and its artifacts, kept with their index beside it. */
static int collect_image(struct layout_out *l, const struct transfer_opts *o, const struct oci_image *img,
                         const struct oci_referrers *refs, const char *tag, struct oci_descriptor *ret_entry,
                         struct smith_error **err) {
        _cleanup_free_ char *manifest = NULL, *nested = NULL;
        struct oci_descriptor entry = {}, refs_entry = {};
        struct oci_platform platform;
        char digest[DIGEST_STR_LEN + 1];
        const char *media_type;
        size_t len = 0, nested_len = 0;
        int r;

        /* an OCI manifest is kept byte for byte (its digest is the
         * registry's); a Docker one is described the OCI way */
        r = oci_image_manifest(img, OCI_MANIFEST_OCI, &manifest, &len, &media_type, err);
        if (r < 0)
                return error_wrap(err, "'%s'", o->remote);
        for (size_t i = 0; i < img->n_layers; i++)
                if (add_blob(l,
                             (struct layout_blob){ .desc = oci_image_layer_descriptor(img, i),
                                                   .in_blobs_dir = true,
                                                   .dir_fd = img->blobs_fd,
                                                   .fd = -1 },
                             err) < 0)
                        return -1;
        if (add_blob(l,
                     (struct layout_blob){ .desc = oci_image_config_descriptor(img),
                                           .in_blobs_dir = true,
                                           .dir_fd = img->blobs_fd,
                                           .fd = -1 },
                     err) < 0)
                return -1;
        sha256_digest_of(manifest, len, digest);
        oci_platform_from_config(img->config, &platform);
        r = layout_index_entry(&entry, digest, (int64_t) len, tag ? tag : "latest", &platform, err);
        if (r < 0)
                return r;
        if (add_blob(l, (struct layout_blob){ .desc = entry, .data = manifest, .len = len, .fd = -1 }, err) < 0 ||
            strv_consume(&l->owned, TAKE_PTR(manifest)) < 0) {
                layout_index_entry_release(&entry);
                return error_oom(err);
        }
        if (tag) {
                if (add_entry(l, entry, err) < 0)
                        return -1;
        } else
                *ret_entry = entry;
        /* the artifacts refer to the registry's manifest: kept only when it is
         * the one written (registry_pull_image_referrers() says when) */
        if (refs->n == 0 || !streq(digest, img->manifest_digest))
                return 0;
        r = oci_referrers_index_build(refs, digest, &nested, &nested_len, &refs_entry, err);
        if (r < 0)
                return r;
        if (add_blob(l, (struct layout_blob){ .desc = refs_entry, .data = nested, .len = nested_len, .fd = -1 }, err) <
                    0 ||
            strv_consume(&l->owned, TAKE_PTR(nested)) < 0 || add_entry(l, refs_entry, err) < 0)
                return -1;
        for (size_t i = 0; i < refs->n; i++) {
                const struct oci_artifact *a = &refs->artifacts[i];
                struct oci_descriptor d = { .media_type = (char *) OCI_MT_MANIFEST, .size = a->size };

                memcpy(d.digest, a->digest, sizeof(d.digest));
                if (add_blob(l,
                             (struct layout_blob){ .desc = d, .data = a->manifest, .len = a->manifest_len, .fd = -1 },
                             err) < 0)
                        return -1;
                for (size_t b = 0; b < a->n_blobs; b++) {
                        struct oci_descriptor bd = { .size = a->blobs[b].size };
                        memcpy(bd.digest, a->blobs[b].digest, sizeof(bd.digest));
                        if (add_blob(l,
                                     (struct layout_blob){
                                             .desc = bd, .in_blobs_dir = true, .dir_fd = img->blobs_fd, .fd = -1 },
                                     err) < 0)
                                return -1;
                }
        }
        return 0;
}

static int write_layout(const struct transfer_opts *o, const struct registry_ref *ref, const struct oci_image *img,
                        const struct oci_referrers *refs, struct smith_error **err) {
        _cleanup_(layout_out_release) struct layout_out l = {};
        struct layout_writer_opts lo = { .gzip_level = LAYOUT_GZIP_STORED }; /* the blobs are compressed already */
        int r;

        r = collect_image(&l, o, img, refs, ref->tag ? ref->tag : "latest", NULL, err);
        if (r >= 0)
                r = layout_write_targz(o->image, l.blobs, l.n_blobs, l.entries, l.n_entries, &lo, err);
        if (r < 0)
                return r; /* its errors name the file */
        log_info("wrote '%s': %s (%zu layer%s, %zu artifact%s)", o->image, l.entries[0].digest, img->n_layers,
                 img->n_layers == 1 ? "" : "s", refs->n, refs->n == 1 ? "" : "s");
        return 0;
}

/* --platform all: the index as the registry has it, byte for byte, and
 * every platform's image it names, each with its artifacts. */
static int download_all(const struct transfer_opts *o, const struct registry_ref *ref, struct cache *cache,
                        const struct registry_opts *ro, struct smith_error **err) {
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_(layout_out_release) struct layout_out l = {};
        _cleanup_(json_decrefp) json_t *doc = NULL;
        _cleanup_free_ char *body = NULL, *mt = NULL;
        struct oci_image *imgs[63] = {};
        struct oci_referrers refs[63] = {}; /* the blobs point into their manifests: kept to the end */
        struct layout_writer_opts lo = { .gzip_level = LAYOUT_GZIP_STORED };
        struct oci_descriptor top = {};
        char digest[DIGEST_STR_LEN + 1];
        size_t len = 0, n = 0, i;
        struct registry_opts any = *ro;
        json_t *e;
        int r = -1;

        any.platform = NULL; /* the index itself, whatever it holds */
        if (registry_client_new(ref, &any, &client, err) < 0 ||
            registry_get_manifest(client, &body, &len, &mt, digest, err) < 0)
                return -1;
        if (!streq(mt, OCI_MT_INDEX) && !streq(mt, DOCKER_MT_MANIFEST_LIST)) {
                /* one image: as without --platform */
                _cleanup_(oci_image_freep) struct oci_image *img = NULL;
                _cleanup_(oci_referrers_release) struct oci_referrers img_refs = {};
                if (registry_pull_image_referrers(ref, &any, cache, &img, &img_refs, err) < 0)
                        return -1;
                return write_layout(o, ref, img, &img_refs, err);
        }
        doc = json_loadb(body, len, 0, NULL);
        if (!json_is_array(json_object_get(doc, "manifests")))
                return error_set(err, SMITH_ERR_REGISTRY, "'%s': the index has no manifests", o->remote);
        json_array_foreach(json_object_get(doc, "manifests"), i, e) {
                struct registry_opts one = *ro;
                struct oci_platform p = {};
                struct oci_descriptor entry = {};
                char shown[100];

                if (!json_is_object(json_object_get(e, "platform")) ||
                    streq(json_string_value(json_object_get(json_object_get(e, "platform"), "os")) ?: "", "unknown"))
                        continue; /* an attestation or other non-image entry */
                if (n == ELEMENTSOF(imgs)) {
                        error_set(err, SMITH_ERR_REGISTRY, "'%s': more than %zu images in the index", o->remote,
                                  ELEMENTSOF(imgs));
                        goto out;
                }
                oci_platform_from_config(json_object_get(e, "platform"), &p);
                one.platform = oci_platform_format(&p, shown);
                if (registry_pull_image_referrers(ref, &one, cache, &imgs[n], &refs[n], err) < 0 ||
                    collect_image(&l, o, imgs[n], &refs[n], NULL, &entry, err) < 0) {
                        n++;
                        goto out;
                }
                layout_index_entry_release(&entry); /* the index names it, as the registry wrote it */
                n++;
        }
        top = (struct oci_descriptor){ .media_type = (char *) OCI_MT_INDEX, .size = (int64_t) len };
        memcpy(top.digest, digest, sizeof(digest));
        top.annotations = json_pack("{s:s}", OCI_ANNOTATION_REF_NAME, ref->tag ? ref->tag : "latest");
        if (!top.annotations) {
                error_oom(err);
                goto out;
        }
        if (add_blob(&l, (struct layout_blob){ .desc = top, .data = body, .len = len, .fd = -1 }, err) < 0)
                goto out;
        /* the index first in index.json: what its tag names */
        if (l.n_entries == ELEMENTSOF(l.entries)) {
                error_set(err, SMITH_ERR_REGISTRY, "too many entries");
                goto out;
        }
        memmove(&l.entries[1], &l.entries[0], l.n_entries * sizeof(l.entries[0]));
        l.entries[0] = top;
        l.n_entries++;
        top.annotations = NULL;
        r = layout_write_targz(o->image, l.blobs, l.n_blobs, l.entries, l.n_entries, &lo, err);
        if (r >= 0)
                log_info("wrote '%s': index %s (%zu images)", o->image, digest, n);
out:
        json_decref(top.annotations);
        for (size_t k = 0; k < n; k++) {
                oci_image_free(imgs[k]);
                oci_referrers_release(&refs[k]);
        }
        return r;
}

static int download(const struct transfer_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(oci_referrers_release) struct oci_referrers refs = {};
        struct registry_opts ro;

        cmd_registry_opts(o, &ro);
        if (registry_ref_parse(o->remote, REGISTRY_REF_DOCKER_STYLE, &ref, err) < 0 || cache_open(&cache, err) < 0)
                return -1;
        if (o->platform && streq(o->platform, "all"))
                return download_all(o, ref, cache, &ro, err);
        if (registry_pull_image_referrers(ref, &ro, cache, &img, &refs, err) < 0)
                return -1;
        return write_layout(o, ref, img, &refs, err);
}

static struct transfer_opts opts;

static const struct cmd_option options[] = {
        { "remote", 'r', CMD_STRING, &opts.remote, "image to download (required)" },
        { "image", 'i', CMD_STRING, &opts.image, "file to write (default \"image.tar.gz\")" },
        { "insecure", 'k', CMD_FLAG, &opts.insecure, "skip tls verification" },
        CMD_TIMEOUT_OPTION(opts.timeout),
        { "ca-file", 0, CMD_STRING, &opts.ca_file, "trust the CA certificates in this file (default $SSL_CERT_FILE)" },
        { "platform", 0, CMD_STRING, &opts.platform,
          "os/arch[/variant] to pick from a multi-platform image (default this machine's), or all: keep them all" },
        { "verbose", 'v', CMD_FLAG, &opts.verbose, "one line per blob" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        int r = cmd_parse_transfer(cmd, &opts, argc, argv, err);

        if (r != 0)
                return r < 0 ? r : 0;
        if (opts.platform && !streq(opts.platform, "all") && (isempty(opts.platform) || !strchr(opts.platform, '/')))
                return cmd_usage_error(cmd, err, "platform '%s' is not os/arch[/variant]", opts.platform);
        return download(&opts, err);
}

const struct command cmd_download = {
        .name = "download",
        .summary = "download an image from a registry as an OCI layout (tar.gz)",
        .usage = "  smith download -r URL [flags]\n",
        .details = "URL is https://[user:pass@]host[:port]/repo[:tag][@sha256:...], http://... for a\n"
                   "registry without TLS, or a docker-style reference (host:5000/repo:tag, debian).\n",
        .options = options,
        .run = run,
};
