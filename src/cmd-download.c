/* `smith download -r URL [-i image.tar.gz]`: pulls an image from a registry
 * and writes it as the same OCI image layout packed as tar.gz that a build
 * writes, so a downloaded image works as `package:` (and runs).
 *
 * The registry client pulls the manifest (resolving an index to the platform
 * asked for), the config and the layers into the cache's verified blob store;
 * the layout is then written from those files.  An OCI manifest is kept byte
 * for byte (its digest is the registry's); a Docker v2 manifest is rewritten
 * with OCI media types (same config and layer bytes, so the same image), as
 * the original smith did.  The index entry is named after the tag. */
#include <fcntl.h>
#include <getopt.h>
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
#include "registry/registry.h"
#include "source/cache.h"

enum { OPT_CA_FILE = 0x100, OPT_PLATFORM };

struct download_opts {
        const char *remote;
        const char *image;
        const char *ca_file;
        const char *platform;
        bool insecure;
        bool verbose;
};

static void usage(FILE *f) {
        fputs("smith download - download an image from a registry as an OCI layout (tar.gz)\n"
              "\n"
              "Usage:\n"
              "  smith download -r URL [flags]\n"
              "\n"
              "URL is https://[user:pass@]host[:port]/repo[:tag][@sha256:...], http://... for a\n"
              "registry without TLS, or a docker-style reference (host:5000/repo:tag, debian).\n"
              "\n"
              "Flags:\n"
              "  -r, --remote string        image to download (required)\n"
              "  -i, --image string         file to write (default \"image.tar.gz\")\n"
              "  -k, --insecure             skip tls verification\n"
              "      --ca-file string       trust the CA certificates in this file (default $SSL_CERT_FILE)\n"
              "      --platform string      os/arch[/variant] to pick from a multi-platform image\n"
              "                             (default this machine's)\n"
              "  -v, --verbose              one line per blob\n"
              "  -h, --help                 help for download\n",
              f);
}

/* Docker v2 layer types named the OCI way; everything else is kept. */
static const char *oci_layer_type(const char *mt) {
        if (streq(mt, DOCKER_MT_LAYER_GZIP))
                return OCI_MT_LAYER_GZIP;
        if (streq(mt, "application/vnd.docker.image.rootfs.diff.tar"))
                return OCI_MT_LAYER_TAR;
        return mt;
}

/* {"architecture","os"[,"variant"]} of the image, from its config. */
static json_t *image_platform(const struct oci_image *img) {
        json_t *p = json_object(), *v;

        if (!p)
                return NULL;
        v = json_object_get(img->config, "architecture");
        json_object_set_new(p, "architecture",
                            json_string(json_is_string(v) ? json_string_value(v) : oci_host_architecture()));
        v = json_object_get(img->config, "os");
        json_object_set_new(p, "os", json_string(json_is_string(v) ? json_string_value(v) : "linux"));
        v = json_object_get(img->config, "variant");
        if (json_is_string(v) && json_string_length(v) > 0)
                json_object_set_new(p, "variant", json_string(json_string_value(v)));
        return p;
}

static int write_layout(const struct download_opts *o, const struct registry_ref *ref, const struct oci_image *img,
                        const struct registry_manifest_ref *m, struct smith_error **err) {
        _cleanup_free_ struct layout_blob *blobs = NULL;
        _cleanup_free_ struct oci_descriptor *layers = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        _cleanup_free_ char *manifest_json = NULL;
        _cleanup_(json_decrefp) json_t *ann = NULL, *plat = NULL;
        struct oci_descriptor config = {}, index = {};
        struct layout_writer_opts lo = { .gzip_level = LAYOUT_GZIP_STORED }; /* the blobs are compressed already */
        json_t *cfg = json_object_get(img->manifest, "config"), *v;
        size_t n = 0, manifest_len = 0;
        bool docker = !streq(m->media_type, OCI_MT_MANIFEST);
        char *p;
        int r;

        blobs = calloc(img->n_layers + 2, sizeof(*blobs));
        layers = calloc(img->n_layers + 1, sizeof(*layers));
        if (!blobs || !layers)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");

        /* the config: its size is the manifest's (oci_image_from_store checked it) */
        v = json_object_get(cfg, "size");
        config.media_type =
                docker ? (char *) OCI_MT_CONFIG : (char *) json_string_value(json_object_get(cfg, "mediaType"));
        if (!config.media_type)
                config.media_type = (char *) OCI_MT_CONFIG;
        memcpy(config.digest, img->config_digest, sizeof(config.digest));
        config.size = json_integer_value(v);

        for (size_t i = 0; i < img->n_layers; i++) {
                const struct oci_layer_ref *l = &img->layers[i];
                layers[i] = (struct oci_descriptor){ .media_type = (char *) oci_layer_type(l->media_type),
                                                     .size = l->size };
                memcpy(layers[i].digest, l->digest, sizeof(l->digest));
                if (asprintf(&p, "blobs/sha256/%s", digest_hex(l->digest)) < 0 || strv_consume(&paths, p) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");
                blobs[n++] = (struct layout_blob){ .desc = layers[i], .path = p, .dir_fd = img->blobs_fd, .fd = -1 };
        }
        if (asprintf(&p, "blobs/sha256/%s", digest_hex(config.digest)) < 0 || strv_consume(&paths, p) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");
        blobs[n++] = (struct layout_blob){ .desc = config, .path = p, .dir_fd = img->blobs_fd, .fd = -1 };

        index.media_type = (char *) OCI_MT_MANIFEST;
        if (docker) {
                /* same config and layer bytes, described the OCI way */
                r = oci_manifest_build(&config, layers, img->n_layers, false, &manifest_json, &manifest_len, err);
                if (r < 0)
                        return error_wrap(err, "convert the Docker manifest of '%s'", o->remote);
                sha256_digest_of(manifest_json, manifest_len, index.digest);
                index.size = (int64_t) manifest_len;
                blobs[n++] =
                        (struct layout_blob){ .desc = index, .data = manifest_json, .len = manifest_len, .fd = -1 };
        } else {
                memcpy(index.digest, m->digest, sizeof(index.digest));
                index.size = m->size;
                if (asprintf(&p, "blobs/sha256/%s", digest_hex(m->digest)) < 0 || strv_consume(&paths, p) < 0)
                        return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");
                blobs[n++] = (struct layout_blob){ .desc = index, .path = p, .dir_fd = img->blobs_fd, .fd = -1 };
        }

        ann = json_object();
        plat = image_platform(img);
        if (!ann || !plat ||
            json_object_set_new(ann, OCI_ANNOTATION_REF_NAME, json_string(ref->tag ? ref->tag : "latest")) < 0)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");
        index.annotations = ann;
        index.platform = plat;

        r = layout_write_targz(o->image, blobs, n, &index, 1, &lo, err);
        if (r < 0)
                return r; /* its errors name the file */
        log_info("wrote '%s': %s (%zu layer%s)", o->image, index.digest, img->n_layers, img->n_layers == 1 ? "" : "s");
        return 0;
}

static int download(const struct download_opts *o, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *ref = NULL;
        _cleanup_(registry_client_freep) struct registry_client *client = NULL;
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        _cleanup_free_ char *shown = NULL;
        struct registry_opts ro = {
                .insecure = o->insecure,
                .ca_file = o->ca_file,
                .platform = o->platform,
                .verbose = o->verbose,
                .progress = isatty(STDERR_FILENO) == 1,
        };
        struct registry_manifest_ref m = {};
        int r;

        r = registry_ref_parse(o->remote, REGISTRY_REF_DOCKER_STYLE, &ref, err);
        if (r < 0)
                return r;
        shown = registry_ref_display(ref);
        if (!shown)
                return error_set_errno(err, SMITH_ERR_IO, ENOMEM, "download");
        r = cache_open(&cache, err);
        if (r < 0)
                return r;
        r = registry_client_new(ref, &ro, &client, err);
        if (r < 0)
                return r;
        r = registry_pull(client, cache, &m, err); /* its errors name the image */
        if (r < 0)
                return r;
        r = oci_image_from_store(cache->blobs_fd, m.media_type, m.digest, m.size, shown, &img, err);
        if (r < 0)
                return r;
        return write_layout(o, ref, img, &m, err);
}

int cmd_download(int argc, char **argv, struct smith_error **err) {
        static const struct option options[] = {
                { "remote", required_argument, NULL, 'r' },
                { "image", required_argument, NULL, 'i' },
                { "insecure", no_argument, NULL, 'k' },
                { "verbose", no_argument, NULL, 'v' },
                { "ca-file", required_argument, NULL, OPT_CA_FILE },
                { "platform", required_argument, NULL, OPT_PLATFORM },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct download_opts o = { .image = "image.tar.gz" };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":r:i:kvh", options, NULL)) >= 0) {
                switch (c) {
                case 'r':
                        o.remote = optarg;
                        break;
                case 'i':
                        o.image = optarg;
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
                case OPT_PLATFORM:
                        o.platform = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case ':':
                        return cmd_usage_error("download", err, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return cmd_usage_error("download", err, "unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return cmd_usage_error("download", err, "unexpected argument '%s'", argv[optind]);
        if (isempty(o.remote))
                return cmd_usage_error("download", err, "-r/--remote is required");
        if (isempty(o.image))
                return cmd_usage_error("download", err, "empty file name");
        if (o.platform && (isempty(o.platform) || !strchr(o.platform, '/')))
                return error_set(err, SMITH_ERR_USAGE, "download: platform '%s' is not os/arch[/variant]", o.platform);
        log_set_verbose(o.verbose);
        return download(&o, err);
}
