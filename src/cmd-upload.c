/* `smith upload -r URL -i image.tar.gz[:tag]`: pushes an image (an OCI
 * layout, packed or a directory, as a build writes it) to a registry.
 *
 * The layout is opened as a build's `package:` is (a tarball's blobs are
 * imported into the cache's verified store once), then the registry client
 * pushes the layers and the config and PUTs the manifest.  With OCI media
 * types the manifest goes up byte for byte, so the registry's digest is the
 * file's; with -d, or for Docker Hub as in the original, it is rewritten with
 * Docker v2 media types (the same config and layer bytes).  The tag is the
 * URL's (default latest). */
#include <fcntl.h>
#include <getopt.h>
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
#include "registry/registry.h"
#include "source/cache.h"

enum { OPT_CA_FILE = 0x100 };

struct upload_opts {
        const char *remote;
        const char *image;
        const char *ca_file;
        bool docker;
        bool insecure;
        bool verbose;
};

static void usage(FILE *f) {
        fputs("smith upload - upload an image to a registry\n"
              "\n"
              "Usage:\n"
              "  smith upload -r URL [flags]\n"
              "\n"
              "URL is https://[user:pass@]host[:port]/repo[:tag] (default tag latest), http://... for a\n"
              "registry without TLS, or a docker-style reference (host:5000/repo:tag).\n"
              "\n"
              "Flags:\n"
              "  -r, --remote string        where to upload (required)\n"
              "  -i, --image string         image file[:tag] to upload (default \"image.tar.gz\")\n"
              "  -d, --docker               use docker media types (automatic for Docker Hub)\n"
              "  -k, --insecure             skip tls verification\n"
              "      --ca-file string       trust the CA certificates in this file (default $SSL_CERT_FILE)\n"
              "  -v, --verbose              one line per blob\n"
              "  -h, --help                 help for upload\n",
              f);
}

/* The manifest to PUT: the image's own bytes (verified against its
 * digest), or a Docker v2 rewrite of it. */
static int upload_manifest(const struct oci_image *img, bool docker, char **ret, size_t *ret_len,
                           const char **ret_media_type, struct smith_error **err) {
        _cleanup_free_ struct oci_descriptor *layers = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        struct oci_descriptor config = { .media_type = (char *) OCI_MT_CONFIG };
        char digest[DIGEST_STR_LEN + 1];
        size_t len = 0;
        int r;

        if (docker) {
                layers = calloc(img->n_layers + 1, sizeof(*layers));
                if (!layers)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "manifest");
                for (size_t i = 0; i < img->n_layers; i++) {
                        layers[i] = (struct oci_descriptor){ .media_type = img->layers[i].media_type,
                                                             .size = img->layers[i].size };
                        memcpy(layers[i].digest, img->layers[i].digest, sizeof(layers[i].digest));
                }
                memcpy(config.digest, img->config_digest, sizeof(config.digest));
                config.size = json_integer_value(json_object_get(json_object_get(img->manifest, "config"), "size"));
                r = oci_manifest_build(&config, layers, img->n_layers, true, ret, ret_len, err);
                if (r < 0)
                        return error_wrap(err, "docker manifest for '%s'", img->source);
                *ret_media_type = DOCKER_MT_MANIFEST;
                return 0;
        }

        r = oci_image_open_blob(img, img->manifest_digest, &fd, err);
        if (r < 0)
                return r;
        r = read_full_fd(fd, REGISTRY_MAX_MANIFEST, &buf, &len);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "'%s': manifest '%s'", img->source,
                                       img->manifest_digest);
        sha256_digest_of(buf, len, digest);
        if (!streq(digest, img->manifest_digest) || (int64_t) len != img->manifest_size)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': manifest '%s' changed while reading it", img->source,
                                 img->manifest_digest);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        *ret_media_type = img->manifest_media_type;
        return 0;
}

static int upload(const struct upload_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *shown = NULL, *manifest = NULL;
        _cleanup_free_ int64_t *sizes = NULL;
        _cleanup_strv_free_ char **digests = NULL;
        struct registry_opts ro = {
                .insecure = o->insecure,
                .ca_file = o->ca_file,
                .verbose = o->verbose,
                .progress = isatty(STDERR_FILENO) == 1,
        };
        struct unpack_limits limits = {};
        const char *media_type = NULL;
        size_t manifest_len = 0, n = 0;
        int r;

        r = registry_ref_parse(o->remote, REGISTRY_REF_DOCKER_STYLE, &ref, err);
        if (r < 0)
                return r;
        shown = registry_ref_display(ref);
        if (!shown)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
        r = cmd_limits_from_env(&limits, err);
        if (r < 0)
                return r;
        r = cache_open(&cache, err);
        if (r < 0)
                return r;
        r = oci_image_open_layout(cache, AT_FDCWD, o->image, &limits, &img, err);
        if (r < 0)
                return r;
        r = upload_manifest(img, o->docker || ref->docker_hub, &manifest, &manifest_len, &media_type, err);
        if (r < 0)
                return r;

        /* layers first, then the config, as registries expect */
        sizes = calloc(img->n_layers + 1, sizeof(*sizes));
        if (!sizes)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
        for (size_t i = 0; i < img->n_layers; i++) {
                if (strv_contains(digests, img->layers[i].digest))
                        continue;
                if (strv_extend(&digests, img->layers[i].digest) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
                sizes[n++] = img->layers[i].size;
        }
        if (strv_extend(&digests, img->config_digest) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "upload");
        sizes[n++] = json_integer_value(json_object_get(json_object_get(img->manifest, "config"), "size"));

        r = registry_client_new(ref, &ro, &client, err);
        if (r < 0)
                return r;
        r = registry_push(client, img->blobs_fd, digests, sizes, manifest, manifest_len, media_type, err);
        if (r < 0)
                return error_wrap(err, "upload '%s'", o->image); /* the client's errors name the ref */
        if (o->verbose) {
                char digest[DIGEST_STR_LEN + 1];
                sha256_digest_of(manifest, manifest_len, digest);
                log_info("uploaded '%s' to '%s': %s", o->image, shown, digest);
        }
        return 0;
}

int cmd_upload(int argc, char **argv, struct smith_error **err) {
        static const struct option options[] = {
                { "remote", required_argument, NULL, 'r' }, { "image", required_argument, NULL, 'i' },
                { "docker", no_argument, NULL, 'd' },       { "insecure", no_argument, NULL, 'k' },
                { "verbose", no_argument, NULL, 'v' },      { "ca-file", required_argument, NULL, OPT_CA_FILE },
                { "help", no_argument, NULL, 'h' },         {},
        };
        struct upload_opts o = { .image = "image.tar.gz" };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:i:dkvh", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        o.remote = optarg;
                        break;
                case 'i':
                        o.image = optarg;
                        break;
                case 'd':
                        o.docker = true;
                        break;
                case 'k':
                        o.insecure = true;
                        break;
                case 'v':
                        o.verbose = true;
                        break;
                case OPT_CA_FILE:
                        o.ca_file = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case ':':
                        return cmd_usage_error("upload", err, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return cmd_usage_error("upload", err, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cmd_usage_error("upload", err, "unexpected argument '%s'", argv[optind]);
        if (isempty(o.remote))
                return cmd_usage_error("upload", err, "-r/--remote is required");
        if (isempty(o.image))
                return cmd_usage_error("upload", err, "empty file name");
        log_set_verbose(o.verbose);
        return upload(&o, err);
}
