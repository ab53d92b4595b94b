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
#include "layer/unpack.h"
#include "oci/image.h"
#include "oci/layout_read.h"
#include "oci/referrers.h"
#include "registry/registry.h"
#include "store/cache.h"

static int upload(const struct transfer_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *shown = NULL, *manifest = NULL;
        _cleanup_free_ int64_t *sizes = NULL;
        _cleanup_strv_free_ char **digests = NULL;
        _cleanup_(oci_referrers_release) struct oci_referrers refs = {};
        char digest[DIGEST_STR_LEN + 1];
        struct registry_opts ro;
        struct unpack_limits limits = {};
        const char *media_type = NULL;
        size_t manifest_len = 0, n = 0;
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
        /* OCI media types: the manifest goes up byte for byte (the registry's
         * digest is the file's); Docker's: rewritten */
        r = oci_image_manifest(img, o->docker || ref->docker_hub ? OCI_MANIFEST_DOCKER : OCI_MANIFEST_AS_IS, &manifest,
                               &manifest_len, &media_type, err);
        if (r < 0)
                return r;
        sha256_digest_of(manifest, manifest_len, digest);
        /* the artifacts are read (and checked) before anything is pushed */
        r = oci_image_referrers(img, &refs, err);
        if (r < 0)
                return r;
        if (refs.n > 0 && !streq(digest, img->manifest_digest)) {
                /* they name the layout's manifest, not the rewritten one */
                log_warn("'%s': %zu artifact%s not uploaded: they refer to the OCI manifest, not the docker one",
                         o->image, refs.n, refs.n == 1 ? "" : "s");
                oci_referrers_release(&refs);
        }

        /* layers first, then the config, as registries expect */
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

        cmd_registry_opts(o, &ro);
        r = registry_client_new(ref, &ro, &client, err);
        if (r < 0)
                return r;
        r = registry_push(client, img->blobs_fd, digests, sizes, manifest, manifest_len, media_type, err);
        if (r >= 0)
                r = registry_push_referrers(client, img->blobs_fd, digest, &refs, err);
        if (r < 0)
                return error_wrap(err, "upload '%s'", o->image); /* the client's errors name the ref */
        if (o->verbose)
                log_info("uploaded '%s' to '%s': %s%s", o->image, shown, digest,
                         refs.n > 0 ? " (with its artifacts)" : "");
        return 0;
}

static struct transfer_opts opts;

static const struct cmd_option options[] = {
        { "remote", 'r', CMD_STRING, &opts.remote, "where to upload (required)" },
        { "image", 'i', CMD_STRING, &opts.image, "image file[:tag] to upload (default \"image.tar.gz\")" },
        { "docker", 'd', CMD_FLAG, &opts.docker, "use docker media types (automatic for Docker Hub)" },
        { "insecure", 'k', CMD_FLAG, &opts.insecure, "skip tls verification" },
        CMD_TIMEOUT_OPTION(opts.timeout),
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
