/* Platforms: what "linux/arm64/v8" means, which one this machine is, and
 * which entry of an image index serves it.  The only place that knows
 * architecture names and the variant rules, for layouts and registries
 * alike. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "basic/error.h"
#include "basic/hash.h"

struct oci_platform {
        char os[32];
        char arch[32];
        char variant[32]; /* "" when none */
};

/* The build machine's architecture in Go/OCI naming: amd64, arm64, 386,
 * arm, ppc64le, ppc64, s390x, riscv64, mips64le, loong64 ... */
const char *oci_host_architecture(void);

/* "os/arch[/variant]"; NULL means this host (linux/<oci_host_architecture()>).
 * Normalised as containerd does: aarch64 is arm64, x86_64 amd64, armhf
 * arm/v7, armel arm/v6, ppc64el ppc64le, i386 386; arm64 means arm64/v8,
 * arm arm/v7, amd64/v1 amd64.  SMITH_ERR_USAGE on a malformed string. */
int oci_platform_parse(const char *s, struct oci_platform *ret, struct smith_error **err);

/* "os/arch[/variant]" of p, for messages. */
const char *oci_platform_format(const struct oci_platform *p, char buf[static 100]);

/* {"architecture","os"[,"variant"]}, as an index entry's platform. */
json_t *oci_platform_to_json(const struct oci_platform *p);
/* The platform an image config names (architecture, os, variant); what it
 * leaves out is this host's. */
void oci_platform_from_config(const json_t *config, struct oci_platform *ret);

/* What smith builds for: an architecture in OCI's names, Debian's and
 * RPM's names for it, and the ELF identity of its programs. */
struct oci_arch {
        const char *arch, *variant;
        const char *debian, *rpm;
        unsigned elf_machine;
        int elf_class, elf_data;
};
/* p's architecture, or NULL for one smith does not know. */
const struct oci_arch *oci_platform_arch(const struct oci_platform *p);
/* The architecture of an ELF file's identity, or NULL. */
const struct oci_arch *oci_arch_for_elf(int elf_class, int data, unsigned machine);
/* linux/<a's arch>[/<variant>]. */
void oci_platform_from_arch(const struct oci_arch *a, struct oci_platform *ret);

/* True if an entry for os/arch/variant serves want (both normalised): the
 * same os and architecture, and the same variant, or for arm and amd64 an
 * older level want runs (arm/v7 runs arm/v6 and v5; amd64/v3 runs v2 and
 * v1).  oci_index_pick() takes the same platform before an older level. */
bool oci_platform_matches(const struct oci_platform *want, const char *os, const char *arch, const char *variant);

struct oci_index_choice {
        char media_type[128];
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
};

/* Picks want's image manifest from the index document index_digest names
 * (its "manifests"): the first entry whose platform serves want and that
 * is an image manifest (or says no media type).  Indexes inside it are not
 * followed: when one is what serves want (or one has no platform), that is
 * the error, "index 'A' -> index 'B': nested indexes are not followed
 * (depth 2)"; else it lists what the index has: "index 'A' has no image
 * for platform 'linux/s390x' (it has: linux/amd64, linux/arm64/v8)".
 * Errors are of the given kind. */
int oci_index_pick(const json_t *index, const char *index_digest, const struct oci_platform *want,
                   enum smith_error_kind kind, struct oci_index_choice *ret, struct smith_error **err);
