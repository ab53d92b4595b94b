/* Platform names and index entries; see platform.h. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
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

#ifndef EM_RISCV
#define EM_RISCV 243
#endif

/* Every architecture smith builds for, in OCI's canonical naming (arm64 is
 * arm64/v8, arm is arm/v7), with Debian's and RPM's names for it and its
 * ELF identity; arm/v6 and arm/v5 are Debian's armel. */
static const struct oci_arch arches[] = {
        { "amd64", "", "amd64", "x86_64", EM_X86_64, ELFCLASS64, ELFDATA2LSB },
        { "arm64", "v8", "arm64", "aarch64", EM_AARCH64, ELFCLASS64, ELFDATA2LSB },
        { "arm", "v7", "armhf", "armv7hl", EM_ARM, ELFCLASS32, ELFDATA2LSB },
        { "arm", "v6", "armel", "armv6l", EM_ARM, ELFCLASS32, ELFDATA2LSB },
        { "arm", "v5", "armel", "armv5tel", EM_ARM, ELFCLASS32, ELFDATA2LSB },
        { "386", "", "i386", "i686", EM_386, ELFCLASS32, ELFDATA2LSB },
        { "ppc64le", "", "ppc64el", "ppc64le", EM_PPC64, ELFCLASS64, ELFDATA2LSB },
        { "s390x", "", "s390x", "s390x", EM_S390, ELFCLASS64, ELFDATA2MSB },
        { "riscv64", "", "riscv64", "riscv64", EM_RISCV, ELFCLASS64, ELFDATA2LSB },
        { "mips64le", "", "mips64el", "mips64el", EM_MIPS, ELFCLASS64, ELFDATA2LSB },
};

/* containerd's normalisation: other tools' names for an architecture, and
 * each architecture's canonical variant. */
static void normalize(char arch[static 32], char variant[static 32]) {
        static const struct {
                const char *from, *arch, *variant; /* variant NULL: keep */
        } names[] = {
                { "x86_64", "amd64", NULL }, { "x86-64", "amd64", NULL },    { "aarch64", "arm64", NULL },
                { "armhf", "arm", "v7" },    { "armel", "arm", "v6" },       { "i386", "386", NULL },
                { "i686", "386", NULL },     { "ppc64el", "ppc64le", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (streq(arch, names[i].from)) {
                        snprintf(arch, 32, "%s", names[i].arch);
                        if (names[i].variant)
                                snprintf(variant, 32, "%s", names[i].variant);
                        break;
                }
        /* "8" is "v8" */
        if (variant[0] >= '0' && variant[0] <= '9' && strlen(variant) < 31) {
                memmove(variant + 1, variant, strlen(variant) + 1);
                variant[0] = 'v';
        }
        if (streq(arch, "arm64") && (variant[0] == '\0' || streq(variant, "v8.0")))
                snprintf(variant, 32, "v8");
        else if (streq(arch, "arm") && variant[0] == '\0')
                snprintf(variant, 32, "v7");
        else if (streq(arch, "amd64") && streq(variant, "v1"))
                variant[0] = '\0';
}

const struct oci_arch *oci_platform_arch(const struct oci_platform *p) {
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (streq(p->arch, arches[i].arch) &&
                    (streq(p->variant, arches[i].variant) || (isempty(arches[i].variant) && !streq(p->arch, "arm"))))
                        return &arches[i];
        return NULL;
}

const struct oci_arch *oci_arch_for_elf(int elf_class, int data, unsigned machine) {
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (arches[i].elf_machine == machine && arches[i].elf_class == elf_class && arches[i].elf_data == data)
                        return &arches[i];
        return NULL;
}

void oci_platform_from_arch(const struct oci_arch *a, struct oci_platform *ret) {
        *ret = (struct oci_platform){};
        snprintf(ret->os, sizeof(ret->os), "linux");
        snprintf(ret->arch, sizeof(ret->arch), "%s", a->arch);
        snprintf(ret->variant, sizeof(ret->variant), "%s", a->variant);
}

int oci_platform_parse(const char *s, struct oci_platform *ret, struct smith_error **err) {
        struct oci_platform p = { 0 };
        const char *a, *v;

        if (!s) {
                snprintf(p.os, sizeof(p.os), "linux");
                snprintf(p.arch, sizeof(p.arch), "%s", oci_host_architecture());
                normalize(p.arch, p.variant);
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
        normalize(p.arch, p.variant);
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
        normalize(ret->arch, ret->variant);
}

/* "v7" -> 7; -1 for anything else. */
static int variant_level(const char *v) {
        char *end;
        long n;

        if (!v || v[0] != 'v' || v[1] < '0' || v[1] > '9')
                return -1;
        n = strtol(v + 1, &end, 10);
        return *end || n > 100 ? -1 : (int) n;
}

/* 2: the same platform; 1: one want runs (an older arm or amd64 level,
 * as containerd's matcher has it); 0: not. */
static int platform_score(const struct oci_platform *want, const char *os, const char *arch, const char *variant) {
        char a[32], v[32];
        int lw, le;

        if (!os || !arch || !streq(os, want->os) || strlen(arch) >= 32 || (variant && strlen(variant) >= 32))
                return 0;
        snprintf(a, sizeof(a), "%s", arch);
        snprintf(v, sizeof(v), "%s", variant ? variant : "");
        normalize(a, v);
        if (!streq(a, want->arch))
                return 0;
        if (streq(v, want->variant))
                return 2;
        if (want->variant[0] == '\0')
                return 1;
        if (!streq(a, "arm") && !streq(a, "amd64"))
                return 0;
        lw = variant_level(want->variant);
        le = v[0] == '\0' ? 1 : variant_level(v);
        return lw > 0 && le > 0 && le <= lw ? 1 : 0;
}

bool oci_platform_matches(const struct oci_platform *want, const char *os, const char *arch, const char *variant) {
        return platform_score(want, os, arch, variant) > 0;
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
        const json_t *best = NULL;
        int best_score = 0;
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
                int score = platform_score(want, os, arch, var);
                bool serves = score > 0;

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
                /* the first of the best: the same platform before one it can run */
                if (score > best_score) {
                        best = e;
                        best_score = score;
                }
        }
        if (best) {
                const char *mt = json_string_value(json_object_get(best, "mediaType"));
                snprintf(ret->media_type, sizeof(ret->media_type), "%s", mt && strlen(mt) < 128 ? mt : "");
                memcpy(ret->digest, json_string_value(json_object_get(best, "digest")), DIGEST_STR_LEN + 1);
                ret->size = json_integer_value(json_object_get(best, "size"));
                return 0;
        }
        if (nested)
                return error_set(err, kind, "index '%s' -> index '%s': nested indexes are not followed (depth 2)",
                                 index_digest, nested);
        return error_set(err, kind, "index '%s' has no image for platform '%s' (it has: %s)", index_digest,
                         oci_platform_format(want, shown), avail.len > 0 ? avail.data : "nothing");
}
