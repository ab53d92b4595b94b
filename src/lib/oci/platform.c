/* Platform names and index entries; see platform.h. */
#include <stdio.h>
#include <string.h>

#include "basic/buf.h"
#include "oci/media.h"
#include "oci/platform.h"

const char *oci_host_architecture(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__arm__)
        return "arm";
#elif defined(__powerpc64__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__powerpc64__)
        return "ppc64";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
        return "riscv64";
#elif defined(__loongarch64)
        return "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
        return "mips64le";
#elif defined(__mips64)
        return "mips64";
#elif defined(__mips__) && defined(__MIPSEL__)
        return "mipsle";
#elif defined(__mips__)
        return "mips";
#else
#error "unknown architecture: add its Go/OCI name to oci_host_architecture()"
#endif
}

static bool word_valid(const char *s, size_t len) {
        if (len == 0 || len >= 32)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
                      s[i] == '.'))
                        return false;
        return true;
}

int oci_platform_parse(const char *s, struct oci_platform *ret, struct smith_error **err) {
        struct oci_platform p = { 0 };
        const char *a, *v;

        if (!s) {
                snprintf(p.os, sizeof(p.os), "linux");
                snprintf(p.arch, sizeof(p.arch), "%s", oci_host_architecture());
                *ret = p;
                return 0;
        }
        a = strchr(s, '/');
        v = a ? strchr(a + 1, '/') : NULL;
        if (!a || !word_valid(s, (size_t) (a - s)) || !word_valid(a + 1, v ? (size_t) (v - a - 1) : strlen(a + 1)) ||
            (v && (!word_valid(v + 1, strlen(v + 1)) || strchr(v + 1, '/'))))
                return error_set(err, SMITH_ERR_USAGE, "invalid platform '%.64s': expected os/arch[/variant]", s);
        snprintf(p.os, sizeof(p.os), "%.*s", (int) (a - s), s);
        snprintf(p.arch, sizeof(p.arch), "%.*s", (int) (v ? v - a - 1 : (long) strlen(a + 1)), a + 1);
        if (v)
                snprintf(p.variant, sizeof(p.variant), "%s", v + 1);
        *ret = p;
        return 0;
}

const char *oci_platform_format(const struct oci_platform *p, char buf[static 100]) {
        snprintf(buf, 100, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
        return buf;
}

json_t *oci_platform_to_json(const struct oci_platform *p) {
        _cleanup_(json_decrefp) json_t *j = json_object();

        if (!j || json_object_set_new(j, "architecture", json_string(p->arch)) < 0 ||
            json_object_set_new(j, "os", json_string(p->os)) < 0 ||
            (p->variant[0] && json_object_set_new(j, "variant", json_string(p->variant)) < 0))
                return NULL;
        return TAKE_PTR(j);
}

static void copy_word(char dst[static 32], const json_t *v, const char *def) {
        const char *s = json_string_value(v);
        snprintf(dst, 32, "%s", !isempty(s) && strlen(s) < 32 ? s : def);
}

void oci_platform_from_config(const json_t *config, struct oci_platform *ret) {
        copy_word(ret->arch, json_object_get(config, "architecture"), oci_host_architecture());
        copy_word(ret->os, json_object_get(config, "os"), "linux");
        copy_word(ret->variant, json_object_get(config, "variant"), "");
}

bool oci_platform_matches(const struct oci_platform *want, const char *os, const char *arch, const char *variant) {
        if (!os || !arch || !streq(os, want->os) || !streq(arch, want->arch))
                return false;
        if (isempty(want->variant))
                return true;
        if (!isempty(variant))
                return streq(want->variant, variant);
        return streq(arch, "arm64") && streq(want->variant, "v8");
}

static bool is_index_type(const char *mt) {
        return mt && (streq(mt, OCI_MT_INDEX) || streq(mt, DOCKER_MT_MANIFEST_LIST));
}

static bool is_manifest_type(const char *mt) {
        return !mt || streq(mt, OCI_MT_MANIFEST) || streq(mt, DOCKER_MT_MANIFEST);
}

int oci_index_pick(const json_t *index, const char *index_digest, const struct oci_platform *want,
                   enum smith_error_kind kind, struct oci_index_choice *ret, struct smith_error **err) {
        _cleanup_buf_ struct buf avail = BUF_INIT(4096);
        const json_t *manifests = json_object_get(index, "manifests"), *e;
        const char *nested = NULL;
        char shown[100];
        size_t i;

        if (!json_is_array(manifests))
                return error_set(err, kind, "index '%s' has no \"manifests\" list", index_digest);
        json_array_foreach(manifests, i, e) {
                const json_t *p = json_object_get(e, "platform");
                const char *os = json_string_value(json_object_get(p, "os"));
                const char *arch = json_string_value(json_object_get(p, "architecture"));
                const char *var = json_string_value(json_object_get(p, "variant"));
                const char *mt = json_string_value(json_object_get(e, "mediaType"));
                const char *d = json_string_value(json_object_get(e, "digest"));
                const json_t *sz = json_object_get(e, "size");
                bool serves = oci_platform_matches(want, os, arch, var);

                if (is_index_type(mt) && !nested && digest_is_valid(d) && (serves || !json_is_object(p)))
                        nested = d;
                if (os && arch && !streq(os, "unknown")) {
                        char one[110];
                        snprintf(one, sizeof(one), "%s%.32s/%.32s%s%.32s", avail.len > 0 ? ", " : "", os, arch,
                                 var ? "/" : "", var ? var : "");
                        (void) buf_append_str(&avail, one); /* the list is for the message only */
                }
                if (!serves || !is_manifest_type(mt))
                        continue;
                if (!digest_is_valid(d) || !json_is_integer(sz) || json_integer_value(sz) < 0)
                        return error_set(err, kind, "index '%s': the entry for '%.32s/%.32s' has a bad digest or size",
                                         index_digest, os, arch);
                snprintf(ret->media_type, sizeof(ret->media_type), "%s", mt && strlen(mt) < 128 ? mt : "");
                memcpy(ret->digest, d, DIGEST_STR_LEN + 1);
                ret->size = json_integer_value(sz);
                return 0;
        }
        if (nested)
                return error_set(err, kind, "index '%s' -> index '%s': nested indexes are not followed (depth 2)",
                                 index_digest, nested);
        return error_set(err, kind, "index '%s' has no image for platform '%s' (it has: %s)", index_digest,
                         oci_platform_format(want, shown), avail.len > 0 ? avail.data : "nothing");
}
