/* OCI 1.1 artifacts that refer to an image: checking the indexes that list
 * them and the artifact manifests themselves, reading them from a layout
 * and building the nested index a layout keeps them in.  See referrers.h.
 *
 * The same checks serve a layout (SMITH_ERR_SOURCE) and a registry's
 * answers (SMITH_ERR_REGISTRY): the caller names the kind. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hash.h"
#include "oci/image.h"
#include "oci/layout-internal.h"
#include "oci/layout_read.h"
#include "oci/referrers.h"

void oci_referrers_release(struct oci_referrers *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++) {
                json_decref(r->artifacts[i].descriptor);
                free(r->artifacts[i].manifest);
                free(r->artifacts[i].blobs);
        }
        free(r->artifacts);
        *r = (struct oci_referrers){};
}

bool oci_referrers_has(const struct oci_referrers *r, const char *digest) {
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->artifacts[i].digest, digest))
                        return true;
        return false;
}

/* --- descriptors from hostile documents --- */

static const char *str_of(const json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* A descriptor's digest and size, checked. */
static int check_descriptor(const json_t *d, const char *what, int64_t max, enum smith_error_kind kind,
                            const char **ret_digest, int64_t *ret_size, struct smith_error **err) {
        const char *dg = str_of(d, "digest");
        json_t *sz = json_object_get(d, "size");

        if (!json_is_object(d))
                return error_set(err, kind, "%s: not a descriptor", what);
        if (!digest_is_valid(dg))
                return error_set(err, kind, "%s: invalid digest '%s'", what, PATH_FOR_MSG(dg));
        if (!json_is_integer(sz) || json_integer_value(sz) < 0)
                return error_set(err, kind, "%s '%s': 'size' is not a non-negative integer", what, dg);
        if (json_integer_value(sz) > max)
                return error_set(err, kind, "%s '%s' is too large (%" PRId64 " bytes, at most %" PRId64 ")", what, dg,
                                 (int64_t) json_integer_value(sz), max);
        if (json_object_get(d, "mediaType") && !json_is_string(json_object_get(d, "mediaType")))
                return error_set(err, kind, "%s '%s': 'mediaType' is not a string", what, dg);
        *ret_digest = dg;
        *ret_size = json_integer_value(sz);
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The annotations object a, checked (strings only) and copied with its
 * keys sorted; NULL in *ret when there is none or it is empty. */
static int copy_annotations(const json_t *a, const char *what, const char *digest, enum smith_error_kind kind,
                            json_t **ret, struct smith_error **err) {
        _cleanup_free_ const char **keys = NULL;
        _cleanup_(json_decrefp) json_t *c = NULL;
        const char *k;
        json_t *v;
        size_t n = 0;

        *ret = NULL;
        if (!a)
                return 0;
        if (!json_is_object(a))
                return error_set(err, kind, "%s '%s': 'annotations' is not an object", what, digest);
        if (json_object_size(a) == 0)
                return 0;
        keys = calloc(json_object_size(a), sizeof(*keys));
        c = json_object();
        if (!keys || !c)
                return error_oom(err);
        json_object_foreach((json_t *) a, k, v) {
                if (!json_is_string(v))
                        return error_set(err, kind, "%s '%s': annotation '%s' is not a string", what, digest,
                                         PATH_FOR_MSG(k));
                keys[n++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_str);
        for (size_t i = 0; i < n; i++)
                if (json_object_set_new(c, keys[i], json_string(json_string_value(json_object_get(a, keys[i])))) < 0)
                        return error_oom(err);
        *ret = TAKE_PTR(c);
        return 0;
}

/* {mediaType, digest, size[, annotations][, artifactType]}: the keys of an
 * image-spec descriptor a referrers answer carries, in the Go struct's
 * order; annotations is taken. */
static json_t *artifact_descriptor(const char *digest, int64_t size, json_t *annotations, const char *artifact_type) {
        _cleanup_(json_decrefp) json_t *o = json_object(), *a = annotations;

        if (!o || json_object_set_new(o, "mediaType", json_string(OCI_MT_MANIFEST)) < 0 ||
            json_object_set_new(o, "digest", json_string(digest)) < 0 ||
            json_object_set_new(o, "size", json_integer((json_int_t) size)) < 0)
                return NULL;
        if (a && json_object_set_new(o, "annotations", TAKE_PTR(a)) < 0)
                return NULL;
        if (artifact_type && json_object_set_new(o, "artifactType", json_string(artifact_type)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

int oci_referrers_index_parse(const char *buf, size_t len, const char *what, enum smith_error_kind kind, json_t **ret,
                              struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = NULL, *out = json_array();
        json_t *manifests, *e;
        json_error_t jerr;
        size_t i;

        if (!out)
                return error_oom(err);
        doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(doc))
                return error_set(err, kind, "%s: not a JSON object", what);
        manifests = json_object_get(doc, "manifests");
        if (json_integer_value(json_object_get(doc, "schemaVersion")) != 2 || !json_is_array(manifests))
                return error_set(err, kind, "%s: not an image index", what);
        if (json_object_get(doc, "mediaType") && !streq(str_of(doc, "mediaType") ?: "", OCI_MT_INDEX))
                return error_set(err, kind, "%s: not an image index", what);
        json_array_foreach(manifests, i, e) {
                _cleanup_(json_decrefp) json_t *ann = NULL;
                json_t *at = json_object_get(e, "artifactType"), *d, *x;
                const char *dg;
                int64_t sz;
                size_t k;
                bool dup = false;

                if (!json_is_object(e))
                        return error_set(err, kind, "%s: entry %zu is not a descriptor", what, i);
                if (!streq(str_of(e, "mediaType") ?: "", OCI_MT_MANIFEST))
                        continue; /* an index as an artifact: not followed */
                if (check_descriptor(e, "artifact", OCI_JSON_MAX, kind, &dg, &sz, err) < 0)
                        return error_wrap(err, "%s", what);
                if (at && (!json_is_string(at) || isempty(json_string_value(at))))
                        return error_set(err, kind, "%s: artifact '%s': 'artifactType' is not a media type", what, dg);
                json_array_foreach(out, k, x) {
                        if (streq(str_of(x, "digest"), dg))
                                dup = true;
                }
                if (dup)
                        continue;
                if (json_array_size(out) >= OCI_REFERRERS_MAX)
                        return error_set(err, kind, "%s: more than %u artifacts", what, OCI_REFERRERS_MAX);
                if (copy_annotations(json_object_get(e, "annotations"), "artifact", dg, kind, &ann, err) < 0)
                        return error_wrap(err, "%s", what);
                d = artifact_descriptor(dg, sz, TAKE_PTR(ann), json_string_value(at));
                if (!d || json_array_append_new(out, d) < 0)
                        return error_oom(err);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* --- artifact manifests --- */

static int add_blob(struct oci_artifact *a, const json_t *d, const char *what, enum smith_error_kind kind,
                    struct smith_error **err) {
        struct oci_artifact_blob *n;
        const char *dg;
        int64_t sz;

        if (check_descriptor(d, what, OCI_ARTIFACT_MAX_BLOB, kind, &dg, &sz, err) < 0)
                return error_wrap(err, "artifact '%s'", a->digest);
        for (size_t i = 0; i < a->n_blobs; i++)
                if (streq(a->blobs[i].digest, dg)) {
                        if (a->blobs[i].size != sz)
                                return error_set(err, kind, "artifact '%s': blob '%s' is listed with two sizes",
                                                 a->digest, dg);
                        return 0;
                }
        if (a->n_blobs >= OCI_ARTIFACT_MAX_BLOBS)
                return error_set(err, kind, "artifact '%s': more than %u blobs", a->digest, OCI_ARTIFACT_MAX_BLOBS);
        n = realloc(a->blobs, (a->n_blobs + 1) * sizeof(*n));
        if (!n)
                return error_oom(err);
        a->blobs = n;
        memcpy(a->blobs[a->n_blobs].digest, dg, DIGEST_STR_LEN + 1);
        a->blobs[a->n_blobs++].size = sz;
        return 0;
}

static void artifact_release(struct oci_artifact *a) {
        json_decref(a->descriptor);
        free(a->manifest);
        free(a->blobs);
}

int oci_referrers_add(struct oci_referrers *r, const json_t *desc, char *manifest, size_t len, const char *subject,
                      enum smith_error_kind kind, struct smith_error **err) {
        _cleanup_free_ char *buf = manifest;
        _cleanup_(json_decrefp) json_t *doc = NULL, *ann = NULL;
        struct oci_artifact a = {};
        const char *dg = str_of(desc, "digest"), *listed = str_of(desc, "artifactType"), *type, *sd;
        char got[DIGEST_STR_LEN + 1];
        json_t *layers, *l, *subj;
        int64_t ss;
        size_t i;
        int q = -1;

        if (!digest_is_valid(dg))
                return error_set(err, kind, "artifact: invalid digest");
        memcpy(a.digest, dg, sizeof(a.digest));
        a.size = json_integer_value(json_object_get(desc, "size"));
        sha256_digest_of(buf ? buf : "", len, got);
        if (!streq(got, dg))
                return error_set(err, kind, "artifact '%s' does not match its digest (content is '%s')", dg, got);
        if ((int64_t) len != a.size)
                return error_set(err, kind, "artifact '%s' has %zu bytes, its descriptor says %" PRId64, dg, len,
                                 a.size);
        doc = json_loadb(buf ? buf : "", len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "schemaVersion")) != 2 ||
            (json_object_get(doc, "mediaType") && !streq(str_of(doc, "mediaType") ?: "", OCI_MT_MANIFEST)))
                return error_set(err, kind, "artifact '%s' is not an OCI image manifest", dg);
        subj = json_object_get(doc, "subject");
        if (!subj)
                return error_set(err, kind, "artifact '%s' has no subject", dg);
        if (check_descriptor(subj, "subject", OCI_JSON_MAX, kind, &sd, &ss, err) < 0)
                return error_wrap(err, "artifact '%s'", dg);
        if (!streq(sd, subject))
                return error_set(err, kind, "artifact '%s' refers to '%s', not to the image '%s'", dg, sd, subject);
        type = str_of(doc, "artifactType");
        if (isempty(type))
                type = str_of(json_object_get(doc, "config"), "mediaType"); /* the image-spec's rule */
        if (isempty(type) || streq(type, OCI_MT_EMPTY))
                return error_set(err, kind, "artifact '%s' has no artifactType", dg);
        if (listed && !streq(listed, type))
                return error_set(err, kind, "artifact '%s' is listed as '%s' but is '%s'", dg, PATH_FOR_MSG(listed),
                                 PATH_FOR_MSG(type));
        layers = json_object_get(doc, "layers");
        if (!json_is_array(layers))
                return error_set(err, kind, "artifact '%s': 'layers' is not a list", dg);
        if (add_blob(&a, json_object_get(doc, "config"), "config", kind, err) < 0)
                goto out;
        json_array_foreach(layers, i, l) {
                if (add_blob(&a, l, "layer", kind, err) < 0)
                        goto out;
        }
        if (json_object_get(desc, "annotations"))
                ann = json_deep_copy(json_object_get(desc, "annotations"));
        a.descriptor = artifact_descriptor(dg, a.size, TAKE_PTR(ann), type);
        if (!a.descriptor) {
                error_oom(err);
                goto out;
        }
        if (oci_referrers_has(r, dg)) {
                q = 0; /* listed twice: once is enough */
                goto out;
        }
        if (r->n >= OCI_REFERRERS_MAX) {
                error_set(err, kind, "more than %u artifacts", OCI_REFERRERS_MAX);
                goto out;
        }
        {
                struct oci_artifact *n = realloc(r->artifacts, (r->n + 1) * sizeof(*n));
                if (!n) {
                        error_oom(err);
                        goto out;
                }
                r->artifacts = n;
        }
        a.manifest = TAKE_PTR(buf);
        a.manifest_len = len;
        r->artifacts[r->n++] = a;
        return 0;
out:
        artifact_release(&a);
        return q;
}

/* --- layouts --- */

int oci_image_referrers(const struct oci_image *img, struct oci_referrers *ret, struct smith_error **err) {
        _cleanup_(oci_referrers_release) struct oci_referrers r = {};
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *buf = NULL;
        json_t *manifests = json_object_get(img->index, "manifests"), *e, *found = NULL;
        const char *src = img->source ? img->source : "image";
        struct oci_desc d;
        size_t len, i;

        *ret = (struct oci_referrers){};
        json_array_foreach(manifests, i, e) {
                const char *for_digest = str_of(json_object_get(e, "annotations"), OCI_ANNOTATION_REFERRERS);
                if (for_digest && streq(for_digest, img->manifest_digest) &&
                    streq(str_of(e, "mediaType") ?: "", OCI_MT_INDEX)) {
                        found = e;
                        break;
                }
        }
        if (!found)
                return 0;
        if (oci_parse_descriptor(found, "index.json", &d, err) < 0 ||
            oci_read_blob_verified(img->blobs_fd, "referrers index", &d, OCI_LAYOUT_MAX_JSON, &buf, &len, err) < 0 ||
            oci_referrers_index_parse(buf, len, "referrers index", SMITH_ERR_SOURCE, &list, err) < 0)
                return error_wrap(err, "'%s'", src);
        json_array_foreach(list, i, e) {
                struct oci_desc md;
                char *m = NULL;
                size_t mlen;

                if (oci_parse_descriptor(e, "artifact", &md, err) < 0 ||
                    oci_read_blob_verified(img->blobs_fd, "artifact", &md, OCI_LAYOUT_MAX_JSON, &m, &mlen, err) < 0 ||
                    oci_referrers_add(&r, e, m, mlen, img->manifest_digest, SMITH_ERR_SOURCE, err) < 0)
                        return error_wrap(err, "'%s'", src);
        }
        *ret = r;
        r = (struct oci_referrers){};
        return 0;
}

int oci_referrers_index_build(const struct oci_referrers *r, const char *subject, char **ret, size_t *ret_len,
                              struct oci_descriptor *ret_entry, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *idx = json_object(), *arr = json_array(), *ann = json_object();
        _cleanup_free_ char *s = NULL;
        size_t len;

        if (!idx || !arr || !ann || json_object_set_new(idx, "schemaVersion", json_integer(2)) < 0 ||
            json_object_set_new(idx, "mediaType", json_string(OCI_MT_INDEX)) < 0)
                return error_oom(err);
        for (size_t i = 0; i < r->n; i++)
                if (json_array_append(arr, r->artifacts[i].descriptor) < 0)
                        return error_oom(err);
        if (json_object_set(idx, "manifests", arr) < 0 ||
            json_object_set_new(ann, OCI_ANNOTATION_REFERRERS, json_string(subject)) < 0)
                return error_oom(err);
        if (oci_json_dump(idx, &s, &len, err) < 0)
                return error_wrap(err, "referrers index");
        *ret_entry = (struct oci_descriptor){ .media_type = (char *) OCI_MT_INDEX,
                                              .size = (int64_t) len,
                                              .annotations = TAKE_PTR(ann) };
        sha256_digest_of(s, len, ret_entry->digest);
        *ret = TAKE_PTR(s);
        *ret_len = len;
        return 0;
}
