/* An image's manifest for someone else: the own bytes for a push or a
 * download that keeps the registry's digest, or a rewrite with the other
 * family's media types (the same config and layer bytes, so the same
 * image).  See layout_read.h. */
#include <stdlib.h>
#include <string.h>

#include "basic/fs.h"
#include "oci/image.h"
#include "oci/layout_read.h"

struct oci_descriptor oci_image_config_descriptor(const struct oci_image *img) {
        struct oci_descriptor d = { .media_type = (char *) OCI_MT_CONFIG, .size = img->config_size };

        memcpy(d.digest, img->config_digest, sizeof(d.digest));
        return d;
}

struct oci_descriptor oci_image_layer_descriptor(const struct oci_image *img, size_t i) {
        const struct layer_ref *l = &img->layers[i];
        struct oci_descriptor d = { .media_type = (char *) oci_layer_media_type(l->media_type), .size = l->size };

        memcpy(d.digest, l->digest, sizeof(d.digest));
        return d;
}

static int own_bytes(const struct oci_image *img, char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char digest[DIGEST_STR_LEN + 1];
        size_t len = 0;
        int r;

        r = oci_image_open_blob(img, img->manifest_digest, &fd, err);
        if (r < 0)
                return r;
        r = read_full_fd(fd, OCI_JSON_MAX, &buf, &len);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "'%s': manifest '%s'", img->source,
                                       img->manifest_digest);
        sha256_digest_of(buf, len, digest);
        if (!streq(digest, img->manifest_digest) || (int64_t) len != img->manifest_size)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': manifest '%s' changed while reading it", img->source,
                                 img->manifest_digest);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int oci_image_manifest(const struct oci_image *img, enum oci_manifest_form form, char **ret, size_t *ret_len,
                       const char **ret_media_type, struct smith_error **err) {
        _cleanup_free_ struct oci_descriptor *layers = NULL;
        struct oci_descriptor config = oci_image_config_descriptor(img);
        bool docker = form == OCI_MANIFEST_DOCKER;

        if (form == OCI_MANIFEST_AS_IS ||
            (form == OCI_MANIFEST_OCI && streq(img->manifest_media_type, OCI_MT_MANIFEST))) {
                if (own_bytes(img, ret, ret_len, err) < 0)
                        return -1;
                *ret_media_type =
                        streq(img->manifest_media_type, OCI_MT_MANIFEST) ? OCI_MT_MANIFEST : DOCKER_MT_MANIFEST;
                return 0;
        }
        layers = calloc(img->n_layers + 1, sizeof(*layers));
        if (!layers)
                return error_oom(err);
        for (size_t i = 0; i < img->n_layers; i++)
                layers[i] = oci_image_layer_descriptor(img, i);
        if (oci_manifest_build(&config, layers, img->n_layers, docker, ret, ret_len, err) < 0)
                return error_wrap(err, "%s manifest for '%s'", docker ? "docker" : "OCI", img->source);
        *ret_media_type = docker ? DOCKER_MT_MANIFEST : OCI_MT_MANIFEST;
        return 0;
}
