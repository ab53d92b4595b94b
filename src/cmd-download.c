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
 * (oci/referrers.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "basic/log.h"
#include "cmd.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/layout_write.h"
#include "oci/referrers.h"
#include "registry/registry.h"
#include "store/cache.h"

static int write_layout(const struct transfer_opts *o, const struct registry_ref *ref, const struct oci_image *img,
                        const struct oci_referrers *refs, struct smith_error **err) {
        _cleanup_free_ struct layout_blob *blobs = NULL;
        _cleanup_free_ char *manifest = NULL, *nested = NULL;
        struct layout_writer_opts lo = { .gzip_level = LAYOUT_GZIP_STORED }; /* the blobs are compressed already */
        struct oci_descriptor index[2] = {};
        struct oci_platform platform;
        char digest[DIGEST_STR_LEN + 1];
        const char *media_type;
        size_t n = 0, len = 0, nested_len = 0, n_blobs = img->n_layers + 3, n_index = 1;
        int r;

        /* an OCI manifest is kept byte for byte (its digest is the
         * registry's); a Docker one is described the OCI way */
        r = oci_image_manifest(img, OCI_MANIFEST_OCI, &manifest, &len, &media_type, err);
        if (r < 0)
                return error_wrap(err, "'%s'", o->remote);
        for (size_t i = 0; i < refs->n; i++)
                n_blobs += 1 + refs->artifacts[i].n_blobs;
        blobs = calloc(n_blobs, sizeof(*blobs));
        if (!blobs)
                return error_oom(err);
        for (size_t i = 0; i < img->n_layers; i++)
                blobs[n++] = (struct layout_blob){ .desc = oci_image_layer_descriptor(img, i),
                                                   .in_blobs_dir = true,
                                                   .dir_fd = img->blobs_fd,
                                                   .fd = -1 };
        blobs[n++] = (struct layout_blob){
                .desc = oci_image_config_descriptor(img), .in_blobs_dir = true, .dir_fd = img->blobs_fd, .fd = -1
        };
        sha256_digest_of(manifest, len, digest);
        oci_platform_from_config(img->config, &platform);
        r = layout_index_entry(&index[0], digest, (int64_t) len, ref->tag ? ref->tag : "latest", &platform, err);
        if (r < 0)
                return r;
        blobs[n++] = (struct layout_blob){ .desc = index[0], .data = manifest, .len = len, .fd = -1 };
        /* the artifacts refer to the registry's manifest: kept only when it is
         * the one written (registry_pull_image_referrers() says when) */
        if (refs->n > 0 && streq(digest, img->manifest_digest)) {
                r = oci_referrers_index_build(refs, digest, &nested, &nested_len, &index[1], err);
                if (r < 0) {
                        layout_index_entry_release(&index[0]);
                        return r;
                }
                n_index = 2;
                blobs[n++] = (struct layout_blob){ .desc = index[1], .data = nested, .len = nested_len, .fd = -1 };
                for (size_t i = 0; i < refs->n; i++) {
                        const struct oci_artifact *a = &refs->artifacts[i];
                        struct oci_descriptor d = { .media_type = (char *) OCI_MT_MANIFEST, .size = a->size };

                        memcpy(d.digest, a->digest, sizeof(d.digest));
                        blobs[n++] = (struct layout_blob){
                                .desc = d, .data = a->manifest, .len = a->manifest_len, .fd = -1
                        };
                        for (size_t b = 0; b < a->n_blobs; b++) {
                                struct oci_descriptor bd = { .size = a->blobs[b].size };
                                memcpy(bd.digest, a->blobs[b].digest, sizeof(bd.digest));
                                blobs[n++] = (struct layout_blob){
                                        .desc = bd, .in_blobs_dir = true, .dir_fd = img->blobs_fd, .fd = -1
                                };
                        }
                }
        }

        r = layout_write_targz(o->image, blobs, n, index, n_index, &lo, err);
        layout_index_entry_release(&index[0]);
        layout_index_entry_release(&index[1]);
        if (r < 0)
                return r; /* its errors name the file */
        if (n_index > 1)
                log_info("wrote '%s': %s (%zu layer%s, %zu artifact%s)", o->image, digest, img->n_layers,
                         img->n_layers == 1 ? "" : "s", refs->n, refs->n == 1 ? "" : "s");
        else
                log_info("wrote '%s': %s (%zu layer%s)", o->image, digest, img->n_layers,
                         img->n_layers == 1 ? "" : "s");
        return 0;
}

static int download(const struct transfer_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_(oci_referrers_release) struct oci_referrers refs = {};
        struct registry_opts ro;

        cmd_registry_opts(o, &ro);
        if (registry_ref_parse(o->remote, REGISTRY_REF_DOCKER_STYLE, &ref, err) < 0 || cache_open(&cache, err) < 0 ||
            registry_pull_image_referrers(ref, &ro, cache, &img, &refs, err) < 0)
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
          "os/arch[/variant] to pick from a multi-platform image (default this machine's)" },
        { "verbose", 'v', CMD_FLAG, &opts.verbose, "one line per blob" },
        {},
};

static int run(const struct command *cmd, int argc, char **argv, struct smith_error **err) {
        int r = cmd_parse_transfer(cmd, &opts, argc, argv, err);

        if (r != 0)
                return r < 0 ? r : 0;
        if (opts.platform && (isempty(opts.platform) || !strchr(opts.platform, '/')))
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
