/* SBOMs of the image a build writes: SPDX 2.3 JSON and CycloneDX 1.5 JSON,
 * file-level.  Every regular file of smith's layer is listed with its
 * SHA-256 (hashed as the layer was written, pipeline/emit.h) and the
 * package it came from (pkg/dpkg-db.h): name, version, architecture,
 * source package, the licenses its machine-readable
 * /usr/share/doc/<pkg>/copyright declares (else NOASSERTION) and a purl
 * (pkg:deb/debian/coreutils@9.1-1?arch=amd64&distro=debian-12, the distro
 * from the source's os-release).  An rpm package (pkg/rpm-db.h) the same
 * from its header: epoch:version-release, architecture, the source rpm,
 * the vendor as supplier, the License tag when it is an SPDX expression
 * (else NOASSERTION, and in CycloneDX a license name), and
 * pkg:rpm/fedora/bash@5.2.15-3.fc38?arch=x86_64&epoch=1&distro=fedora-38
 * (the namespace the os-release ID, as syft writes it: rhel is redhat,
 * opensuse-* opensuse; none without an os-release; no epoch when it is
 * 0).  A parent image is a package too
 * (pkg:oci/<name>@sha256%3A<hex>).  The image DESCRIBES/CONTAINS each
 * package (SPDX; CycloneDX lists them as components the image dependsOn),
 * each package CONTAINS its files (CycloneDX: its nested components);
 * files of no package belong to the image.
 *
 * Deterministic: files in the layer's (sorted) order, packages by name,
 * the one timestamp is the build's (SOURCE_DATE_EPOCH when set), the SPDX
 * documentNamespace and the CycloneDX serialNumber derived from the image
 * manifest's digest, which covers every byte of the layer.  The build
 * stores each as an OCI 1.1 artifact whose subject is the image manifest
 * (pipeline/build.c); `smith sbom` prints them back (sbom_read()). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "pipeline/emit.h"
#include "pkg/dpkg-db.h"
#include "pkg/rpm-db.h"

#define SBOM_MAX_SIZE (256U << 20) /* bytes of one SBOM read back */
#define SBOM_MAX_LICENSES 256      /* distinct License: values taken from one copyright file */
#define SBOM_LICENSE_VALUE_MAX 512 /* bytes of one; a longer one is left out */
#define SBOM_EXPRESSION_MAX 4096   /* bytes of an rpm License tag read as an SPDX expression */

struct sbom_input {
        const char *name;            /* the image's name, for the documents */
        const char *manifest_digest; /* of the image manifest described */
        const struct layer_files *files;
        const struct dpkg_db *db;    /* NULL: no packages */
        const struct rpm_db *rpm_db; /* NULL: no rpm packages (a name dpkg's db has is dpkg's) */
        int root_fd;                 /* the source root (copyright files, os-release), or -1 */
        const char *created;         /* the build's time, "YYYY-MM-DDTHH:MM:SSZ" (SOURCE_DATE_EPOCH's) */
        const char *base_name;       /* the parent image (its layers are the image's first ones), or NULL */
        const char *base_digest;     /* ... and its manifest's digest */
};

/* The licenses a machine-readable Debian copyright file (text, len bytes,
 * from a package: hostile) declares, as one SPDX expression: each distinct
 * "License:" value (at most SBOM_MAX_LICENSES of at most
 * SBOM_LICENSE_VALUE_MAX bytes), sorted, ANDed; a name SPDX
 * does not know becomes "LicenseRef-<name>" (only [A-Za-z0-9.-]), added to
 * *refs once.  NULL when the file is not machine-readable (no "Format:"
 * first) or declares none, or memory ran out. */
char *sbom_copyright_license(const char *text, size_t len, char ***refs);

/* value (an rpm's License tag: hostile) as an SPDX license expression,
 * the identifiers spelled as the SPDX license list does (spdx-license.h),
 * operators and parentheses as given ("MIT AND (LGPL-2.1-or-later OR
 * BSD-3-Clause)", "GPL-2.0-only WITH Linux-syscall-note"): 1 and *ret;
 * 0 (*ret NULL) when it is not one (an unknown id, lowercase "and", a
 * Callaway name such as "GPLv2+", more than SBOM_EXPRESSION_MAX bytes or
 * parentheses nested deeper than 32); -ENOMEM.  The LicenseRef-s of an
 * expression are added to *refs once. */
int sbom_spdx_expression(const char *value, char ***refs, char **ret);

enum sbom_format {
        SBOM_SPDX,
        SBOM_CYCLONEDX,
};

/* The document; *ret is NUL-terminated (not counted in *ret_len). */
int sbom_write(const struct sbom_input *in, enum sbom_format format, char **ret, size_t *ret_len,
               struct smith_error **err);
/* Its media type (and artifactType): SBOM_MT_SPDX or SBOM_MT_CYCLONEDX. */
const char *sbom_media_type(enum sbom_format format);

/* The document of that format stored in the image at ref (a layout
 * tarball or directory, path[:tag], as oci_image_open_layout() takes it),
 * read through its referrers and verified, at most SBOM_MAX_SIZE bytes.
 * An image without one is a SMITH_ERR_SOURCE error. */
int sbom_read(const char *ref, enum sbom_format format, char **ret, size_t *ret_len, struct smith_error **err);
