/* Unit tests for OCI 1.1 artifacts (src/lib/oci/referrers.c): the checks
 * on indexes listing artifacts and on the artifact manifests themselves,
 * as a registry's referrers answer or a layout's nested index brings them,
 * and the nested index built back.  Documents are built here with
 * jansson. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "basic/hash.h"
#include "oci/image.h"
#include "oci/referrers.h"
#include "test-util.h"

#define IMAGE "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define OTHER "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define LAYER "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static char *dump(json_t *j, size_t *len) {
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(s);
        *len = strlen(s);
        json_decref(j);
        return s;
}

/* An artifact manifest of type at referring to subject. */
static char *artifact(const char *at, const char *subject, size_t *len) {
        return dump(json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:i}], s:{s:s, s:s, s:i}}",
                              "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "artifactType", at, "config",
                              "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST, "size", 2, "layers", "mediaType",
                              at, "digest", LAYER, "size", 10, "subject", "mediaType", OCI_MT_MANIFEST, "digest",
                              subject, "size", 400),
                    len);
}

static json_t *descriptor_of(const char *m, size_t len, const char *at) {
        char d[DIGEST_STR_LEN + 1];
        sha256_digest_of(m, len, d);
        return at ? json_pack("{s:s, s:s, s:I, s:s}", "mediaType", OCI_MT_MANIFEST, "digest", d, "size",
                              (json_int_t) len, "artifactType", at)
                  : json_pack("{s:s, s:s, s:I}", "mediaType", OCI_MT_MANIFEST, "digest", d, "size", (json_int_t) len);
}

static char *index_of(json_t *manifests, size_t *len) {
        return dump(json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", manifests),
                    len);
}

static void test_round_trip(void **state) {
        struct oci_referrers r = {};
        struct smith_error *err = NULL;
        struct oci_descriptor entry;
        size_t l1, l2, il, nl;
        char *m1 = artifact("application/spdx+json", IMAGE, &l1),
             *m2 = artifact("application/vnd.cyclonedx+json", IMAGE, &l2);
        json_t *list = NULL, *arr = json_array();
        char *idx, *nested;

        (void) state;
        json_array_append_new(arr, descriptor_of(m1, l1, "application/spdx+json"));
        json_array_append_new(arr, descriptor_of(m2, l2, NULL));                    /* artifactType from the manifest */
        json_array_append_new(arr, descriptor_of(m1, l1, "application/spdx+json")); /* listed twice */
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i}", "mediaType", OCI_MT_INDEX, "digest", OTHER, "size",
                                             10)); /* an index as an artifact: passed over */
        idx = index_of(arr, &il);
        assert_int_equal(oci_referrers_index_parse(idx, il, "referrers", SMITH_ERR_REGISTRY, &list, &err), 0);
        assert_int_equal(json_array_size(list), 2);
        assert_int_equal(oci_referrers_add(&r, json_array_get(list, 0), m1, l1, IMAGE, SMITH_ERR_REGISTRY, &err), 0);
        assert_int_equal(oci_referrers_add(&r, json_array_get(list, 1), m2, l2, IMAGE, SMITH_ERR_REGISTRY, &err), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.artifacts[0].n_blobs, 2);
        assert_string_equal(r.artifacts[0].blobs[0].digest, OCI_EMPTY_DIGEST);
        assert_string_equal(r.artifacts[0].blobs[1].digest, LAYER);
        assert_string_equal(json_string_value(json_object_get(r.artifacts[1].descriptor, "artifactType")),
                            "application/vnd.cyclonedx+json");
        assert_true(oci_referrers_has(&r, r.artifacts[1].digest));
        assert_false(oci_referrers_has(&r, OTHER));

        assert_int_equal(oci_referrers_index_build(&r, IMAGE, &nested, &nl, &entry, &err), 0);
        assert_string_equal(entry.media_type, OCI_MT_INDEX);
        assert_string_equal(json_string_value(json_object_get(entry.annotations, OCI_ANNOTATION_REFERRERS)), IMAGE);
        {
                json_t *back = NULL;
                assert_int_equal(oci_referrers_index_parse(nested, nl, "nested", SMITH_ERR_SOURCE, &back, &err), 0);
                assert_true(json_equal(json_array_get(back, 0), r.artifacts[0].descriptor));
                assert_true(json_equal(json_array_get(back, 1), r.artifacts[1].descriptor));
                json_decref(back);
        }
        json_decref(entry.annotations);
        free(nested);
        free(idx);
        json_decref(list);
        oci_referrers_release(&r);
        oci_referrers_release(&r); /* a released one again */
}

/* oci_referrers_add() of manifest m (taken) listed as desc: fails with a
 * message holding want. */
static void add_fails(json_t *desc, char *m, size_t len, const char *want) {
        struct oci_referrers r = {};
        struct smith_error *err = NULL;

        assert_int_equal(oci_referrers_add(&r, desc, m, len, IMAGE, SMITH_ERR_REGISTRY, &err), -1);
        assert_non_null(err);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        if (!strstr(err->msg, want))
                fail_msg("'%s' does not say '%s'", err->msg, want);
        assert_int_equal(r.n, 0);
        error_free(err);
        json_decref(desc);
}

static void test_hostile_artifacts(void **state) {
        size_t len;
        char *m;

        (void) state;
        /* another image's artifact */
        m = artifact("application/spdx+json", OTHER, &len);
        add_fails(descriptor_of(m, len, NULL), m, len, "refers to '" OTHER "', not to the image '" IMAGE "'");
        /* bytes that are not what the descriptor says */
        m = artifact("application/spdx+json", IMAGE, &len);
        {
                json_t *d = descriptor_of(m, len, NULL);
                m[len - 2] = m[len - 2] == '0' ? '1' : '0';
                add_fails(d, m, len, "does not match its digest");
        }
        /* listed as another type than it is */
        m = artifact("application/spdx+json", IMAGE, &len);
        add_fails(descriptor_of(m, len, "application/vnd.cyclonedx+json"), m, len, "is listed as");
        /* no subject at all */
        m = dump(json_pack("{s:i, s:s, s:{s:s, s:s, s:i}, s:[]}", "schemaVersion", 2, "artifactType", "x/y", "config",
                           "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST, "size", 2, "layers"),
                 &len);
        add_fails(descriptor_of(m, len, NULL), m, len, "has no subject");
        /* no artifactType: the empty config says nothing */
        m = dump(json_pack("{s:i, s:{s:s, s:s, s:i}, s:[], s:{s:s, s:s, s:i}}", "schemaVersion", 2, "config",
                           "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST, "size", 2, "layers", "subject",
                           "mediaType", OCI_MT_MANIFEST, "digest", IMAGE, "size", 1),
                 &len);
        add_fails(descriptor_of(m, len, NULL), m, len, "has no artifactType");
        /* a layer that claims too much */
        m = dump(json_pack("{s:i, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:I}], s:{s:s, s:s, s:i}}", "schemaVersion", 2,
                           "artifactType", "x/y", "config", "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST,
                           "size", 2, "layers", "mediaType", "x/y", "digest", LAYER, "size",
                           (json_int_t) OCI_ARTIFACT_MAX_BLOB + 1, "subject", "mediaType", OCI_MT_MANIFEST, "digest",
                           IMAGE, "size", 1),
                 &len);
        add_fails(descriptor_of(m, len, NULL), m, len, "is too large");
        /* an image index pretending to be an artifact manifest */
        m = index_of(json_array(), &len);
        add_fails(descriptor_of(m, len, NULL), m, len, "is not an OCI image manifest");
}

/* oci_referrers_index_parse() of doc fails with want. */
static void parse_fails(const char *doc, const char *want) {
        struct smith_error *err = NULL;
        json_t *list = NULL;

        assert_int_equal(oci_referrers_index_parse(doc, strlen(doc), "referrers", SMITH_ERR_REGISTRY, &list, &err), -1);
        assert_null(list);
        assert_int_equal(err->kind, SMITH_ERR_REGISTRY);
        if (!strstr(err->msg, want))
                fail_msg("'%s' does not say '%s'", err->msg, want);
        error_free(err);
}

static void test_hostile_indexes(void **state) {
        json_t *many = json_array();
        size_t len;
        char *doc;

        (void) state;
        parse_fails("[]", "not a JSON object");
        parse_fails("{\"schemaVersion\":2}", "not an image index");
        parse_fails("{\"schemaVersion\":2,\"mediaType\":\"x\",\"manifests\":[]}", "not an image index");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}", "not a JSON object");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[7]}", "entry 0 is not a descriptor");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"" OTHER
                    "\",\"size\":1,\"annotations\":\"x\"}]}",
                    "'annotations' is not an object");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_MANIFEST
                    "\",\"digest\":\"sha256:../../etc\",\"size\":1}]}",
                    "invalid digest");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"" OTHER
                    "\",\"size\":99999999}]}",
                    "is too large");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"" OTHER
                    "\",\"size\":1,\"artifactType\":7}]}",
                    "'artifactType' is not a media type");
        parse_fails("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MT_MANIFEST "\",\"digest\":\"" OTHER
                    "\",\"size\":1,\"annotations\":{\"a\":1}}]}",
                    "annotation 'a' is not a string");
        for (unsigned i = 0; i <= OCI_REFERRERS_MAX; i++) {
                char d[DIGEST_STR_LEN + 1];
                sha256_digest_of(&i, sizeof(i), d);
                json_array_append_new(
                        many, json_pack("{s:s, s:s, s:i}", "mediaType", OCI_MT_MANIFEST, "digest", d, "size", 100));
        }
        doc = index_of(many, &len);
        parse_fails(doc, "more than 256 artifacts");
        free(doc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_hostile_artifacts),
                cmocka_unit_test(test_hostile_indexes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
