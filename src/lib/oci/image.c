/* OCI JSON documents: descriptors, manifests, stable dumping; see image.h.
 *
 * Built with jansson, which keeps object keys in insertion order, so the
 * order below is the order on the wire. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/buf.h"
#include "image.h"

/* --- descriptors --- */

static bool annotations_valid(const json_t *a) {
        const char *k;
        json_t *v;

        if (!json_is_object(a))
                return false;
        json_object_foreach((json_t *) a, k, v) {
                if (!json_is_string(v))
                        return false;
        }
        return true;
}

static bool descriptor_valid(const struct oci_descriptor *d) {
        return d && !isempty(d->media_type) && digest_is_valid(d->digest) && d->size >= 0 &&
               (!d->annotations || annotations_valid(d->annotations)) && (!d->platform || json_is_object(d->platform));
}

/* Adds key = v to o, consuming v. */
static int set_new(json_t *o, const char *key, json_t *v) {
        if (!v)
                return -1;
        return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static int cmp_keys(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* A copy of an annotations object with its keys sorted, as Go writes a
 * map[string]string: the same set always gives the same bytes. */
static json_t *sorted_copy(const json_t *o) {
        _cleanup_free_ const char **keys = calloc(json_object_size(o) + 1, sizeof(*keys));
        _cleanup_(json_decrefp) json_t *r = json_object();
        const char *k;
        json_t *v;
        size_t n = 0;

        if (!keys || !r)
                return NULL;
        json_object_foreach((json_t *) o, k, v) {
                keys[n++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_keys);
        for (size_t i = 0; i < n; i++)
                if (json_object_set_new(r, keys[i], json_deep_copy(json_object_get(o, keys[i]))) < 0)
                        return NULL;
        return TAKE_PTR(r);
}

static json_t *descriptor_with_type(const struct oci_descriptor *d, const char *media_type) {
        _cleanup_(json_decrefp) json_t *o = NULL;

        o = json_object();
        if (!o || set_new(o, "mediaType", json_string(media_type)) < 0 ||
            (d->artifact_type && set_new(o, "artifactType", json_string(d->artifact_type)) < 0) ||
            set_new(o, "digest", json_string(d->digest)) < 0 ||
            set_new(o, "size", json_integer((json_int_t) d->size)) < 0)
                return NULL;
        /* an empty annotations object is left out, as Go's omitempty does */
        if (d->annotations && json_object_size(d->annotations) > 0 &&
            set_new(o, "annotations", sorted_copy(d->annotations)) < 0)
                return NULL;
        if (d->platform && set_new(o, "platform", json_deep_copy(d->platform)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

json_t *oci_descriptor_to_json(const struct oci_descriptor *d) {
        if (!descriptor_valid(d))
                return NULL;
        return descriptor_with_type(d, d->media_type);
}

/* --- manifests --- */

const char *oci_layer_media_type(const char *mt) {
        if (streq(mt, DOCKER_MT_LAYER_GZIP))
                return OCI_MT_LAYER_GZIP;
        if (streq(mt, DOCKER_MT_LAYER_TAR))
                return OCI_MT_LAYER_TAR;
        return mt;
}

static bool is_gzip_layer(const char *mt) {
        return mt && (streq(mt, OCI_MT_LAYER_GZIP) || streq(mt, DOCKER_MT_LAYER_GZIP));
}

/* Checks what descriptor_valid() checks, with a message. */
static int check_descriptor(const struct oci_descriptor *d, const char *what, struct smith_error **err) {
        if (!d)
                return error_set(err, SMITH_ERR_IO, "%s: missing descriptor", what);
        if (!digest_is_valid(d->digest))
                return error_set(err, SMITH_ERR_IO, "%s: invalid digest '%s'", what, d->digest);
        if (d->size < 0)
                return error_set(err, SMITH_ERR_IO, "%s '%s': negative size", what, d->digest);
        if (d->annotations && !annotations_valid(d->annotations))
                return error_set(err, SMITH_ERR_IO, "%s '%s': annotations must be an object of strings", what,
                                 d->digest);
        if (d->platform && !json_is_object(d->platform))
                return error_set(err, SMITH_ERR_IO, "%s '%s': platform must be an object", what, d->digest);
        return 0;
}

int oci_manifest_build(const struct oci_descriptor *config, const struct oci_descriptor *layers, size_t n, bool docker,
                       char **ret_json, size_t *ret_len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *m = NULL;
        json_t *arr;
        const char *config_mt;

        if (check_descriptor(config, "config", err) < 0)
                return error_wrap(err, "build manifest");
        config_mt = docker ? DOCKER_MT_CONFIG : (!isempty(config->media_type) ? config->media_type : OCI_MT_CONFIG);

        m = json_object();
        arr = json_array();
        if (!m || !arr || set_new(m, "schemaVersion", json_integer(2)) < 0 ||
            set_new(m, "mediaType", json_string(docker ? DOCKER_MT_MANIFEST : OCI_MT_MANIFEST)) < 0 ||
            set_new(m, "config", descriptor_with_type(config, config_mt)) < 0 || set_new(m, "layers", arr) < 0)
                return error_oom(err);

        for (size_t i = 0; i < n; i++) {
                const struct oci_descriptor *l = &layers[i];
                const char *mt = l->media_type;

                if (check_descriptor(l, "layer", err) < 0)
                        return error_wrap(err, "build manifest");
                if (isempty(mt))
                        return error_set(err, SMITH_ERR_IO, "build manifest: layer '%s' has no media type", l->digest);
                if (docker) {
                        if (!is_gzip_layer(mt))
                                return error_set(err, SMITH_ERR_IO,
                                                 "build manifest: layer '%s' is '%s', "
                                                 "docker manifests take gzip layers only",
                                                 l->digest, mt);
                        mt = DOCKER_MT_LAYER_GZIP;
                }
                if (json_array_append_new(arr, descriptor_with_type(l, mt)) < 0)
                        return error_oom(err);
        }
        if (oci_json_dump(m, ret_json, ret_len, err) < 0)
                return error_wrap(err, "build manifest");
        return 0;
}

int oci_artifact_manifest_build(const char *artifact_type, const struct oci_descriptor *blob,
                                const struct oci_descriptor *subject, const json_t *annotations, char **ret_json,
                                size_t *ret_len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *m = json_object(), *layers = json_array();
        struct oci_descriptor empty = { .media_type = (char *) OCI_MT_EMPTY, .digest = OCI_EMPTY_DIGEST, .size = 2 };

        if (isempty(artifact_type))
                return error_set(err, SMITH_ERR_IO, "build artifact manifest: no artifact type");
        if (check_descriptor(blob, "artifact", err) < 0 || check_descriptor(subject, "subject", err) < 0)
                return error_wrap(err, "build artifact manifest");
        if (annotations && !annotations_valid(annotations))
                return error_set(err, SMITH_ERR_IO, "build artifact manifest: annotations must be strings");
        if (!m || !layers || set_new(m, "schemaVersion", json_integer(2)) < 0 ||
            set_new(m, "mediaType", json_string(OCI_MT_MANIFEST)) < 0 ||
            set_new(m, "artifactType", json_string(artifact_type)) < 0 ||
            set_new(m, "config", descriptor_with_type(&empty, OCI_MT_EMPTY)) < 0 ||
            json_array_append_new(layers, descriptor_with_type(blob, blob->media_type)) < 0 ||
            json_object_set(m, "layers", layers) < 0 ||
            set_new(m, "subject", descriptor_with_type(subject, subject->media_type)) < 0 ||
            (annotations && json_object_size(annotations) > 0 &&
             set_new(m, "annotations", sorted_copy(annotations)) < 0))
                return error_oom(err);
        if (oci_json_dump(m, ret_json, ret_len, err) < 0)
                return error_wrap(err, "build artifact manifest");
        return 0;
}

int oci_index_build(const struct oci_descriptor *manifests, size_t n, const char *what, char **ret_json,
                    size_t *ret_len, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *idx = json_object();
        json_t *arr = json_array();

        if (!idx || !arr || set_new(idx, "schemaVersion", json_integer(2)) < 0 ||
            set_new(idx, "mediaType", json_string(OCI_MT_INDEX)) < 0 || set_new(idx, "manifests", arr) < 0)
                return error_oom(err);
        for (size_t i = 0; i < n; i++) {
                json_t *d = oci_descriptor_to_json(&manifests[i]);
                if (!d)
                        return error_set(err, SMITH_ERR_IO, "%s: invalid manifest descriptor '%s'", what,
                                         manifests[i].digest);
                if (json_array_append_new(arr, d) < 0)
                        return error_oom(err);
        }
        if (oci_json_dump(idx, ret_json, ret_len, err) < 0)
                return error_wrap(err, "%s", what);
        return 0;
}

/* --- dumping --- */

struct dump {
        struct buf b;
        int error; /* of the append that failed: -EFBIG or -ENOMEM */
};

static int dump_cb(const char *buf, size_t size, void *userdata) {
        struct dump *d = userdata;

        d->error = buf_append(&d->b, buf, size);
        return d->error < 0 ? -1 : 0;
}

int oci_json_dump(const json_t *j, char **ret, size_t *ret_len, struct smith_error **err) {
        struct dump d = { .b = BUF_INIT(OCI_JSON_MAX) };
        int r;

        if (!j)
                return error_set(err, SMITH_ERR_IO, "dump json: no document");
        r = json_dump_callback(j, dump_cb, &d, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (r < 0 || d.error < 0) {
                buf_release(&d.b);
                if (d.error == -EFBIG)
                        return error_set(err, SMITH_ERR_IO, "dump json: document larger than %u bytes", OCI_JSON_MAX);
                return error_set(err, SMITH_ERR_IO, "dump json: out of memory or invalid document");
        }
        *ret = buf_steal(&d.b, ret_len);
        return *ret ? 0 : error_oom(err);
}
