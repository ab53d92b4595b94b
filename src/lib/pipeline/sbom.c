/* SPDX 2.3 and CycloneDX 1.5 documents of what a build shipped; see
 * sbom.h.  Built with jansson in insertion order, so the order below is the
 * order in the document; files come in the layer's (sorted) order and
 * packages by name. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/buf.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/strv.h"
#include "oci/layout_read.h"
#include "oci/media.h"
#include "pipeline/sbom.h"
#include "pkg/os-release.h"
#include "smith-version.h"
#include "store/cache.h"

#define COPYRIGHT_MAX (4U << 20)

const char *sbom_media_type(enum sbom_format format) {
        return format == SBOM_SPDX ? SBOM_MT_SPDX : SBOM_MT_CYCLONEDX;
}

/* The licenses pkg's machine-readable copyright file declares, or NULL
 * (NOASSERTION) when there is no such file. */
static char *package_license(int root_fd, const struct dpkg_package *pkg, char ***refs) {
        _cleanup_free_ char *path = NULL, *buf = NULL;
        size_t len = 0;

        if (root_fd < 0 || asprintf(&path, "usr/share/doc/%s/copyright", pkg->name) < 0)
                return NULL;
        if (root_read_file(root_fd, path, COPYRIGHT_MAX, &buf, &len) < 0)
                return NULL;
        return sbom_copyright_license(buf, len, refs);
}

/* --- what both formats need --- */

/* One package, dpkg's or rpm's. */
struct sbom_pkg {
        const struct dpkg_package *p;     /* dpkg's, or NULL */
        const struct rpm_db_package *rpm; /* rpm's, or NULL */
        const char *key;                  /* as plan entries name it: dpkg's info_name, rpm_db_owner()'s */
        const char *name, *arch;
        char *version;     /* dpkg's Version, rpm's [epoch:]version-release; NULL when there is none */
        char *source_info; /* SPDX sourceInfo, or NULL */
        char *purl;
        char *license;      /* an SPDX expression; NULL: NOASSERTION */
        char *license_name; /* rpm: a License tag that is no SPDX expression (CycloneDX: its name), or NULL */
        size_t id;          /* its index, for ids */
};

struct sbom {
        const struct sbom_input *in;
        struct sbom_pkg *pkgs;
        size_t n_pkgs;
        char **license_refs;     /* from Debian copyright files */
        char **rpm_license_refs; /* from rpm License tags */
        char *distro_id, *distro_version;
        char *base_purl;                  /* the parent image's, or NULL */
        const struct sbom_pkg **file_pkg; /* each file's package, or NULL */
};

static void sbom_release(struct sbom *s) {
        for (size_t i = 0; i < s->n_pkgs; i++)
                free_many(s->pkgs[i].version, s->pkgs[i].source_info, s->pkgs[i].purl, s->pkgs[i].license,
                          s->pkgs[i].license_name);
        free(s->pkgs);
        strv_free_many(s->license_refs, s->rpm_license_refs);
        free_many(s->distro_id, s->distro_version, s->base_purl, s->file_pkg);
}

/* ID and VERSION_ID of the source's os-release (/usr/lib/os-release
 * without /etc/os-release, as os-release(5) says), lowercased. */
/* A value for a purl: lowercase, and only what needs no encoding there. */
static char *purl_word(char *v) {
        for (char *c = v; c && *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
                else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
                        *c = '-';
        return v;
}

static void read_os_release(struct sbom *s) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (s->in->root_fd < 0 ||
            (root_read_file(s->in->root_fd, "etc/os-release", DPKG_OS_RELEASE_MAX, &buf, &len) < 0 &&
             root_read_file(s->in->root_fd, "usr/lib/os-release", DPKG_OS_RELEASE_MAX, &buf, &len) < 0))
                return;
        s->distro_id = purl_word(os_release_value(buf, len, "ID"));
        s->distro_version = purl_word(os_release_value(buf, len, "VERSION_ID"));
}

/* purl's percent-encoding of a version ("1:1.2.13.dfsg-1" -> "1%3A1.2.13.dfsg-1"). */
static int append_encoded(struct buf *b, const char *s) {
        for (; *s; s++) {
                char hex[4];
                if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                    strchr(".-_~", *s)) {
                        if (buf_append(b, s, 1) < 0)
                                return -ENOMEM;
                        continue;
                }
                snprintf(hex, sizeof(hex), "%%%02X", (unsigned char) *s);
                if (buf_append_str(b, hex) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static char *make_purl(const struct sbom *s, const struct dpkg_package *p) {
        _cleanup_buf_ struct buf b = BUF_INIT(4096);
        const char *ns = s->distro_id ?: "debian";

        if (buf_append_str(&b, "pkg:deb/") < 0 || buf_append_str(&b, ns) < 0 || buf_append_str(&b, "/") < 0 ||
            append_encoded(&b, p->name) < 0)
                return NULL;
        if (p->version && (buf_append_str(&b, "@") < 0 || append_encoded(&b, p->version) < 0))
                return NULL;
        if (p->arch && (buf_append_str(&b, "?arch=") < 0 || append_encoded(&b, p->arch) < 0))
                return NULL;
        if (s->distro_id && s->distro_version &&
            (buf_append_str(&b, p->arch ? "&distro=" : "?distro=") < 0 || buf_append_str(&b, s->distro_id) < 0 ||
             buf_append_str(&b, "-") < 0 || buf_append_str(&b, s->distro_version) < 0))
                return NULL;
        return buf_steal(&b, NULL);
}

/* The purl type rpm's namespace (its vendor) for an os-release ID, as
 * syft writes it: Red Hat's packages are "redhat", every openSUSE's
 * "opensuse". */
static const char *rpm_namespace(const char *distro_id) {
        if (!distro_id)
                return NULL;
        if (streq(distro_id, "rhel"))
                return "redhat";
        if (strneq(distro_id, "opensuse", 8))
                return "opensuse";
        return distro_id;
}

/* pkg:rpm/<namespace>/<name>@<version>-<release>?arch=<arch>&epoch=<e>&distro=<id>-<version_id>,
 * the qualifiers in syft's order (its own sorted, then distro). */
static char *make_rpm_purl(const struct sbom *s, const struct rpm_db_package *p) {
        _cleanup_buf_ struct buf b = BUF_INIT(4096);
        const char *ns = rpm_namespace(s->distro_id);
        char epoch[16];
        bool q = false;

        if (buf_append_str(&b, "pkg:rpm/") < 0 || (ns && (buf_append_str(&b, ns) < 0 || buf_append_str(&b, "/") < 0)) ||
            append_encoded(&b, p->name) < 0)
                return NULL;
        if (p->version && (buf_append_str(&b, "@") < 0 || append_encoded(&b, p->version) < 0 ||
                           (p->release && (buf_append_str(&b, "-") < 0 || append_encoded(&b, p->release) < 0))))
                return NULL;
        if (p->arch && (buf_append_str(&b, "?arch=") < 0 || append_encoded(&b, p->arch) < 0))
                return NULL;
        q = p->arch;
        snprintf(epoch, sizeof(epoch), "%" PRIu32, p->epoch);
        if (p->epoch > 0 && (buf_append_str(&b, q ? "&epoch=" : "?epoch=") < 0 || buf_append_str(&b, epoch) < 0))
                return NULL;
        q = q || p->epoch > 0;
        if (s->distro_id && s->distro_version &&
            (buf_append_str(&b, q ? "&distro=" : "?distro=") < 0 || buf_append_str(&b, s->distro_id) < 0 ||
             buf_append_str(&b, "-") < 0 || buf_append_str(&b, s->distro_version) < 0))
                return NULL;
        return buf_steal(&b, NULL);
}

/* pkg:oci/<name>@sha256%3A<hex>: purl's oci type names an image by its
 * manifest digest, the name lowercased. */
static char *make_base_purl(const char *name, const char *digest) {
        _cleanup_buf_ struct buf b = BUF_INIT(4096);
        _cleanup_free_ char *lower = strdup(name);

        if (!lower)
                return NULL;
        for (char *c = lower; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                        *c = (char) (*c - 'A' + 'a');
        if (buf_append_str(&b, "pkg:oci/") < 0 || append_encoded(&b, lower) < 0 || buf_append_str(&b, "@") < 0 ||
            append_encoded(&b, digest) < 0)
                return NULL;
        return buf_steal(&b, NULL);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int cmp_pkg(const void *a, const void *b) {
        return strcmp(((const struct sbom_pkg *) a)->key, ((const struct sbom_pkg *) b)->key);
}

static int cmp_pkg_key(const void *key, const void *b) {
        return strcmp(key, ((const struct sbom_pkg *) b)->key);
}

static int deb_pkg(struct sbom *s, struct sbom_pkg *sp, const struct dpkg_package *p) {
        *sp = (struct sbom_pkg){ .p = p, .key = p->info_name, .name = p->name, .arch = p->arch };
        if ((p->version && !(sp->version = strdup(p->version))) ||
            asprintf(&sp->source_info, "built package from: %s %s", p->source, p->source_version ?: "") < 0) {
                sp->source_info = NULL;
                return -ENOMEM;
        }
        sp->purl = make_purl(s, p);
        sp->license = package_license(s->in->root_fd, p, &s->license_refs);
        return sp->purl ? 0 : -ENOMEM;
}

static int rpm_pkg(struct sbom *s, struct sbom_pkg *sp, const char *key, const struct rpm_db_package *p) {
        int r;

        *sp = (struct sbom_pkg){ .rpm = p, .key = key, .name = p->name, .arch = p->arch };
        if (p->version) {
                char epoch[16] = "";
                if (p->epoch > 0)
                        snprintf(epoch, sizeof(epoch), "%" PRIu32 ":", p->epoch);
                if (asprintf(&sp->version, "%s%s%s%s", epoch, p->version, p->release ? "-" : "", p->release ?: "") <
                    0) {
                        sp->version = NULL;
                        return -ENOMEM;
                }
        }
        if (p->sourcerpm && asprintf(&sp->source_info, "built package from: %s", p->sourcerpm) < 0) {
                sp->source_info = NULL;
                return -ENOMEM;
        }
        sp->purl = make_rpm_purl(s, p);
        if (!sp->purl)
                return -ENOMEM;
        r = p->license ? sbom_spdx_expression(p->license, &s->rpm_license_refs, &sp->license) : 0;
        if (r < 0)
                return r;
        if (r == 0 && p->license && !(sp->license_name = strdup(p->license)))
                return -ENOMEM;
        return 0;
}

/* The packages the files name, sorted by key, and each file's. */
static int sbom_collect(struct sbom *s, const struct sbom_input *in) {
        const struct layer_files *files = in->files;
        _cleanup_free_ const char **names = calloc(files->n + 1, sizeof(*names));
        size_t n_names = 0;

        s->in = in;
        read_os_release(s);
        if (in->base_name && in->base_digest) {
                s->base_purl = make_base_purl(in->base_name, in->base_digest);
                if (!s->base_purl)
                        return -ENOMEM;
        }
        s->file_pkg = calloc(files->n + 1, sizeof(*s->file_pkg));
        if (!names || !s->file_pkg)
                return -ENOMEM;
        for (size_t f = 0; f < files->n; f++)
                if (files->v[f].package)
                        names[n_names++] = files->v[f].package;
        qsort(names, n_names, sizeof(*names), cmp_str);
        s->pkgs = calloc(n_names + 1, sizeof(*s->pkgs));
        if (!s->pkgs)
                return -ENOMEM;
        for (size_t i = 0; i < n_names; i++) {
                const struct dpkg_package *p;
                const struct rpm_db_package *rp = NULL;
                int r;

                if (i > 0 && streq(names[i], names[i - 1]))
                        continue;
                p = in->db ? dpkg_db_find(in->db, names[i]) : NULL;
                if (!p)
                        rp = in->rpm_db ? rpm_db_package(in->rpm_db, names[i]) : NULL;
                if (!p && (!rp || !rp->name))
                        continue;
                r = p ? deb_pkg(s, &s->pkgs[s->n_pkgs], p) : rpm_pkg(s, &s->pkgs[s->n_pkgs], names[i], rp);
                s->n_pkgs++;
                if (r < 0)
                        return r;
        }
        /* sorted already (names were); bsearch needs it for certain */
        qsort(s->pkgs, s->n_pkgs, sizeof(*s->pkgs), cmp_pkg);
        for (size_t i = 0; i < s->n_pkgs; i++)
                s->pkgs[i].id = i + 1;
        for (size_t f = 0; f < files->n; f++)
                s->file_pkg[f] = files->v[f].package ? bsearch(files->v[f].package, s->pkgs, s->n_pkgs,
                                                               sizeof(*s->pkgs), cmp_pkg_key)
                                                     : NULL;
        strv_sort(s->license_refs);
        strv_sort(s->rpm_license_refs);
        return 0;
}

/* The package file i came from, or NULL (the image's own). */
static const struct sbom_pkg *pkg_of(const struct sbom *s, size_t i) {
        return s->file_pkg[i];
}

static int set_str(json_t *o, const char *k, const char *v) {
        return json_object_set_new(o, k, v ? json_string(v) : json_null());
}

/* --- SPDX 2.3 --- */

static json_t *spdx_relationship(const char *a, const char *type, const char *b) {
        _cleanup_(json_decrefp) json_t *r = json_object();
        if (!r || set_str(r, "spdxElementId", a) < 0 || set_str(r, "relationshipType", type) < 0 ||
            set_str(r, "relatedSpdxElement", b) < 0)
                return NULL;
        return TAKE_PTR(r);
}

/* SPDX 2.3 7.9's package verification code: the SHA-1 of the package's
 * files' SHA-1s (hex), sorted and concatenated. */
static int verification_code(const struct sbom *s, const struct sbom_pkg *sp, char out[static SHA1_HEX_LEN + 1]) {
        const struct layer_files *files = s->in->files;
        _cleanup_free_ const char **sums = calloc(files->n + 1, sizeof(*sums));
        _cleanup_(sha1_freep) struct sha1 *h = sha1_new();
        size_t n = 0;

        if (!sums || !h)
                return -ENOMEM;
        for (size_t i = 0; i < files->n; i++)
                if (pkg_of(s, i) == sp)
                        sums[n++] = files->v[i].sha1;
        qsort(sums, n, sizeof(*sums), cmp_str);
        for (size_t i = 0; i < n; i++)
                sha1_update(h, sums[i], strlen(sums[i]));
        sha1_final_hex(h, out);
        return 0;
}

static json_t *spdx_document(const struct sbom *s, const char *created) {
        const struct sbom_input *in = s->in;
        _cleanup_(json_decrefp) json_t *doc = json_object(), *ci = json_object(), *creators = json_array(),
                                       *pkgs = json_array(), *files = json_array(), *rels = json_array(),
                                       *image = json_object(), *refs = json_array();
        _cleanup_free_ char *ns = NULL, *tool = NULL;
        bool ok = doc && ci && creators && pkgs && files && rels && image && refs;

        if (!ok || asprintf(&ns, "https://smith.invalid/spdx/%s/%s", in->name, digest_hex(in->manifest_digest)) < 0 ||
            asprintf(&tool, "Tool: smith-%s", SMITH_VERSION) < 0)
                return NULL;
        ok = set_str(doc, "spdxVersion", "SPDX-2.3") >= 0 && set_str(doc, "dataLicense", "CC0-1.0") >= 0 &&
             set_str(doc, "SPDXID", "SPDXRef-DOCUMENT") >= 0 && set_str(doc, "name", in->name) >= 0 &&
             set_str(doc, "documentNamespace", ns) >= 0 && json_array_append_new(creators, json_string(tool)) >= 0 &&
             json_object_set(ci, "creators", creators) >= 0 && set_str(ci, "created", created) >= 0 &&
             json_object_set(doc, "creationInfo", ci) >= 0;
        /* the image, as the package the document describes */
        ok = ok && set_str(image, "SPDXID", "SPDXRef-Image") >= 0 && set_str(image, "name", in->name) >= 0 &&
             set_str(image, "versionInfo", in->manifest_digest) >= 0 &&
             set_str(image, "downloadLocation", "NOASSERTION") >= 0 &&
             set_str(image, "primaryPackagePurpose", "CONTAINER") >= 0 && json_array_append(pkgs, image) >= 0;
        ok = ok &&
             json_array_append_new(rels, spdx_relationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")) >= 0;
        if (ok && s->base_purl) {
                _cleanup_(json_decrefp) json_t *p = json_object(), *ext = json_array(), *ref = json_object();
                ok = p && ext && ref && set_str(p, "SPDXID", "SPDXRef-Base") >= 0 &&
                     set_str(p, "name", in->base_name) >= 0 && set_str(p, "versionInfo", in->base_digest) >= 0 &&
                     set_str(p, "downloadLocation", "NOASSERTION") >= 0 &&
                     json_object_set_new(p, "filesAnalyzed", json_false()) >= 0 &&
                     set_str(ref, "referenceCategory", "PACKAGE-MANAGER") >= 0 &&
                     set_str(ref, "referenceType", "purl") >= 0 &&
                     set_str(ref, "referenceLocator", s->base_purl) >= 0 && json_array_append(ext, ref) >= 0 &&
                     json_object_set(p, "externalRefs", ext) >= 0 &&
                     set_str(p, "primaryPackagePurpose", "CONTAINER") >= 0 && json_array_append(pkgs, p) >= 0 &&
                     json_array_append_new(rels, spdx_relationship("SPDXRef-Image", "CONTAINS", "SPDXRef-Base")) >= 0;
        }
        for (size_t i = 0; ok && i < s->n_pkgs; i++) {
                const struct sbom_pkg *sp = &s->pkgs[i];
                _cleanup_(json_decrefp) json_t *p = json_object(), *ext = json_array(), *ref = json_object();
                _cleanup_free_ char *supplier = NULL, *comment = NULL;
                char id[64], code[SHA1_HEX_LEN + 1];
                snprintf(id, sizeof(id), "SPDXRef-Package-%zu", sp->id);
                if (sp->rpm && sp->rpm->vendor && asprintf(&supplier, "Organization: %s", sp->rpm->vendor) < 0)
                        supplier = NULL, ok = false;
                if (sp->license_name && asprintf(&comment, "the License tag: %s", sp->license_name) < 0)
                        comment = NULL, ok = false;
                ok = ok && p && ext && ref && set_str(p, "SPDXID", id) >= 0 && set_str(p, "name", sp->name) >= 0 &&
                     (!sp->version || set_str(p, "versionInfo", sp->version) >= 0) &&
                     (!supplier || set_str(p, "supplier", supplier) >= 0) &&
                     set_str(p, "downloadLocation", "NOASSERTION") >= 0 && verification_code(s, sp, code) >= 0 &&
                     json_object_set_new(p, "filesAnalyzed", json_true()) >= 0 &&
                     json_object_set_new(p, "packageVerificationCode",
                                         json_pack("{s:s}", "packageVerificationCodeValue", code)) >= 0 &&
                     (!sp->source_info || set_str(p, "sourceInfo", sp->source_info) >= 0) &&
                     set_str(p, "licenseConcluded", "NOASSERTION") >= 0 &&
                     set_str(p, "licenseDeclared", sp->license ?: "NOASSERTION") >= 0 &&
                     (!comment || set_str(p, "licenseComments", comment) >= 0) &&
                     set_str(p, "copyrightText", "NOASSERTION") >= 0 &&
                     set_str(ref, "referenceCategory", "PACKAGE-MANAGER") >= 0 &&
                     set_str(ref, "referenceType", "purl") >= 0 && set_str(ref, "referenceLocator", sp->purl) >= 0 &&
                     json_array_append(ext, ref) >= 0 && json_object_set(p, "externalRefs", ext) >= 0 &&
                     json_array_append(pkgs, p) >= 0 &&
                     json_array_append_new(rels, spdx_relationship("SPDXRef-Image", "CONTAINS", id)) >= 0;
        }
        for (size_t i = 0; ok && i < in->files->n; i++) {
                const struct layer_file *lf = &in->files->v[i];
                const struct sbom_pkg *sp = pkg_of(s, i);
                _cleanup_(json_decrefp) json_t *f = json_object(), *sums = json_array(), *sum = json_object(),
                                               *sum1 = json_object();
                _cleanup_free_ char *name = NULL;
                char id[64], owner[64];
                snprintf(id, sizeof(id), "SPDXRef-File-%zu", i + 1);
                if (sp)
                        snprintf(owner, sizeof(owner), "SPDXRef-Package-%zu", sp->id);
                else
                        snprintf(owner, sizeof(owner), "SPDXRef-Image");
                ok = f && sums && sum && sum1 && asprintf(&name, "/%s", lf->path) >= 0 &&
                     set_str(f, "SPDXID", id) >= 0 && set_str(f, "fileName", name) >= 0 &&
                     set_str(sum1, "algorithm", "SHA1") >= 0 && set_str(sum1, "checksumValue", lf->sha1) >= 0 &&
                     json_array_append(sums, sum1) >= 0 && set_str(sum, "algorithm", "SHA256") >= 0 &&
                     set_str(sum, "checksumValue", digest_hex(lf->digest)) >= 0 && json_array_append(sums, sum) >= 0 &&
                     json_object_set(f, "checksums", sums) >= 0 && set_str(f, "licenseConcluded", "NOASSERTION") >= 0 &&
                     set_str(f, "copyrightText", "NOASSERTION") >= 0 && json_array_append(files, f) >= 0 &&
                     json_array_append_new(rels, spdx_relationship(owner, "CONTAINS", id)) >= 0;
        }
        /* the LicenseRefs of both kinds, sorted, each once (Debian's first) */
        for (size_t i = 0, j = 0;
             ok && ((s->license_refs && s->license_refs[i]) || (s->rpm_license_refs && s->rpm_license_refs[j]));) {
                const char *deb = s->license_refs ? s->license_refs[i] : NULL;
                const char *rpm = s->rpm_license_refs ? s->rpm_license_refs[j] : NULL;
                int c = !deb ? 1 : !rpm ? -1 : strcmp(deb, rpm);
                const char *id = c <= 0 ? deb : rpm;
                _cleanup_(json_decrefp) json_t *r = json_object();
                _cleanup_free_ char *text = NULL;
                i += c <= 0;
                j += c >= 0;
                if (c <= 0)
                        ok = asprintf(&text,
                                      "The license called '%s' in a Debian copyright file (/usr/share/doc/*/copyright)",
                                      id + 11) >= 0;
                else
                        ok = asprintf(&text, "The license '%s' an rpm package's License tag names", id) >= 0;
                if (!ok)
                        text = NULL;
                ok = ok && r && set_str(r, "licenseId", id) >= 0 && set_str(r, "extractedText", text) >= 0 &&
                     json_array_append(refs, r) >= 0;
        }
        ok = ok && (json_array_size(refs) == 0 || json_object_set(doc, "hasExtractedLicensingInfos", refs) >= 0) &&
             json_object_set(doc, "packages", pkgs) >= 0 && json_object_set(doc, "files", files) >= 0 &&
             json_object_set(doc, "relationships", rels) >= 0;
        return ok ? TAKE_PTR(doc) : NULL;
}

/* --- CycloneDX 1.5 --- */

/* urn:uuid: from the digest's first 128 bits, as a version 5 (name-based) uuid would look */
static void uuid_of(const char *digest, char out[static 37]) {
        const char *h = digest_hex(digest);
        char x[33];

        memcpy(x, h, 32);
        x[32] = '\0';
        x[12] = '5';
        x[16] = "89ab"[(x[16] >= 'a' ? x[16] - 'a' + 10 : x[16] - '0') & 3];
        snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16, x + 20);
}

static json_t *cdx_file(const struct layer_file *lf) {
        _cleanup_(json_decrefp) json_t *f = json_object(), *hashes = json_array(), *h = json_object();
        _cleanup_free_ char *name = NULL, *ref = NULL;

        if (!f || !hashes || !h || asprintf(&name, "/%s", lf->path) < 0 || asprintf(&ref, "file:/%s", lf->path) < 0 ||
            set_str(f, "type", "file") < 0 || set_str(f, "bom-ref", ref) < 0 || set_str(f, "name", name) < 0 ||
            set_str(h, "alg", "SHA-256") < 0 || set_str(h, "content", digest_hex(lf->digest)) < 0 ||
            json_array_append(hashes, h) < 0 || json_object_set(f, "hashes", hashes) < 0)
                return NULL;
        return TAKE_PTR(f);
}

static json_t *cdx_document(const struct sbom *s, const char *timestamp) {
        const struct sbom_input *in = s->in;
        _cleanup_(json_decrefp) json_t *doc = json_object(), *meta = json_object(), *tools = json_object(),
                                       *tcomps = json_array(), *tool = json_object(), *image = json_object(),
                                       *comps = json_array();
        char uuid[37], serial[64];
        bool ok = doc && meta && tools && tcomps && tool && image && comps;

        uuid_of(in->manifest_digest, uuid);
        snprintf(serial, sizeof(serial), "urn:uuid:%s", uuid);
        ok = ok && set_str(doc, "bomFormat", "CycloneDX") >= 0 && set_str(doc, "specVersion", "1.5") >= 0 &&
             set_str(doc, "serialNumber", serial) >= 0 && json_object_set_new(doc, "version", json_integer(1)) >= 0 &&
             (!timestamp || set_str(meta, "timestamp", timestamp) >= 0) && set_str(tool, "type", "application") >= 0 &&
             set_str(tool, "name", "smith") >= 0 && set_str(tool, "version", SMITH_VERSION) >= 0 &&
             json_array_append(tcomps, tool) >= 0 && json_object_set(tools, "components", tcomps) >= 0 &&
             json_object_set(meta, "tools", tools) >= 0 && set_str(image, "type", "container") >= 0 &&
             set_str(image, "bom-ref", "image") >= 0 && set_str(image, "name", in->name) >= 0 &&
             set_str(image, "version", in->manifest_digest) >= 0 && json_object_set(meta, "component", image) >= 0 &&
             json_object_set(doc, "metadata", meta) >= 0;
        for (size_t i = 0; ok && i < s->n_pkgs; i++) {
                const struct sbom_pkg *sp = &s->pkgs[i];
                _cleanup_(json_decrefp) json_t *c = json_object(), *sub = json_array(), *props = json_array(),
                                               *lic = json_array();
                char epoch[16];
                ok = c && sub && props && lic && set_str(c, "type", "library") >= 0 &&
                     set_str(c, "bom-ref", sp->purl) >= 0 &&
                     (!sp->rpm || !sp->rpm->vendor ||
                      json_object_set_new(c, "supplier", json_pack("{s:s}", "name", sp->rpm->vendor)) >= 0) &&
                     set_str(c, "name", sp->name) >= 0 && (!sp->version || set_str(c, "version", sp->version) >= 0);
                if (ok && (sp->license || sp->license_name)) {
                        json_t *e = sp->license ? json_pack("{s:s}", "expression", sp->license)
                                                : json_pack("{s:{s:s}}", "license", "name", sp->license_name);
                        ok = e && json_array_append_new(lic, e) >= 0 && json_object_set(c, "licenses", lic) >= 0;
                }
                ok = ok && set_str(c, "purl", sp->purl) >= 0;
                snprintf(epoch, sizeof(epoch), "%" PRIu32, sp->rpm ? sp->rpm->epoch : 0);
                {
                        const char *deb_names[] = { "smith:deb:architecture", "smith:deb:source",
                                                    "smith:deb:source-version" };
                        const char *rpm_names[] = { "smith:rpm:architecture", "smith:rpm:epoch",
                                                    "smith:rpm:sourcerpm" };
                        const char *const *names = sp->p ? deb_names : rpm_names;
                        const char *values[3];
                        if (sp->p)
                                values[0] = sp->p->arch, values[1] = sp->p->source, values[2] = sp->p->source_version;
                        else
                                values[0] = sp->rpm->arch, values[1] = sp->rpm->epoch > 0 ? epoch : NULL,
                                values[2] = sp->rpm->sourcerpm;
                        for (size_t k = 0; ok && k < ELEMENTSOF(values); k++) {
                                json_t *pr = values[k] ? json_object() : NULL;
                                if (!values[k])
                                        continue;
                                ok = pr && set_str(pr, "name", names[k]) >= 0 && set_str(pr, "value", values[k]) >= 0 &&
                                     json_array_append_new(props, pr) >= 0;
                        }
                }
                for (size_t f = 0; ok && f < in->files->n; f++)
                        if (pkg_of(s, f) == sp)
                                ok = json_array_append_new(sub, cdx_file(&in->files->v[f])) >= 0;
                ok = ok && json_object_set(c, "properties", props) >= 0 && json_object_set(c, "components", sub) >= 0 &&
                     json_array_append(comps, c) >= 0;
        }
        for (size_t f = 0; ok && f < in->files->n; f++)
                if (!pkg_of(s, f))
                        ok = json_array_append_new(comps, cdx_file(&in->files->v[f])) >= 0;
        if (ok && s->base_purl) {
                _cleanup_(json_decrefp) json_t *c = json_object();
                ok = c && set_str(c, "type", "container") >= 0 && set_str(c, "bom-ref", s->base_purl) >= 0 &&
                     set_str(c, "name", in->base_name) >= 0 && set_str(c, "version", in->base_digest) >= 0 &&
                     set_str(c, "purl", s->base_purl) >= 0 && json_array_append(comps, c) >= 0;
        }
        ok = ok && json_object_set(doc, "components", comps) >= 0;
        /* the image depends on its packages and its base, they on nothing listed */
        {
                _cleanup_(json_decrefp) json_t *deps = json_array(), *top = json_object(), *on = json_array();
                ok = ok && deps && top && on && set_str(top, "ref", "image") >= 0 &&
                     (!s->base_purl || json_array_append_new(on, json_string(s->base_purl)) >= 0);
                for (size_t i = 0; ok && i < s->n_pkgs; i++)
                        ok = json_array_append_new(on, json_string(s->pkgs[i].purl)) >= 0;
                ok = ok && json_object_set(top, "dependsOn", on) >= 0 && json_array_append(deps, top) >= 0;
                for (size_t i = 0; ok && i < s->n_pkgs + (s->base_purl ? 1 : 0); i++) {
                        json_t *d = json_pack("{s:s, s:[]}", "ref", i < s->n_pkgs ? s->pkgs[i].purl : s->base_purl,
                                              "dependsOn");
                        ok = d && json_array_append_new(deps, d) >= 0;
                }
                ok = ok && json_object_set(doc, "dependencies", deps) >= 0;
        }
        return ok ? TAKE_PTR(doc) : NULL;
}

int sbom_write(const struct sbom_input *in, enum sbom_format format, char **ret, size_t *ret_len,
               struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *doc = NULL;
        struct sbom s = {};
        const char *when = in->created ?: "1970-01-01T00:00:00Z";
        char *out;

        if (sbom_collect(&s, in) < 0) {
                sbom_release(&s);
                return error_oom(err);
        }
        doc = format == SBOM_SPDX ? spdx_document(&s, when) : cdx_document(&s, when);
        sbom_release(&s);
        if (!doc)
                return error_oom(err);
        out = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        if (!out)
                return error_oom(err);
        *ret_len = strlen(out);
        *ret = out;
        return 0;
}

/* --- reading them back --- */

int sbom_read(const char *ref, enum sbom_format format, char **ret, size_t *ret_len, struct smith_error **err) {
        _cleanup_(cache_freep) struct cache *cache = NULL;
        _cleanup_(oci_image_freep) struct oci_image *img = NULL;
        int r;

        if (cache_open(&cache, err) < 0 || oci_image_open_layout(cache, AT_FDCWD, ref, NULL, &img, err) < 0)
                return -1;
        r = oci_image_read_index_blob(img, sbom_media_type(format), SBOM_MAX_SIZE, ret, ret_len, err);
        if (r < 0)
                return -1;
        if (r == 0)
                return error_set(err, SMITH_ERR_SOURCE, "'%s' has no %s SBOM (built before smith wrote them?)",
                                 PATH_FOR_MSG(ref), format == SBOM_SPDX ? "SPDX" : "CycloneDX");
        return 0;
}
