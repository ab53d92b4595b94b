/* The media types of OCI image layouts and registries, OCI's and Docker
 * schema 2's: named here only, so that one place knows them. */
#pragma once

/* index.json's annotation on the nested index of the artifacts (OCI 1.1
 * manifests with a subject) that refer to the image manifest whose digest
 * is its value: smith's spec, packages, provenance and SBOMs (oci/referrers.h) */
#define OCI_ANNOTATION_REFERRERS "vnd.smith.referrers"

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define OCI_MT_EMPTY "application/vnd.oci.empty.v1+json" /* "{}", the config of artifacts */
#define OCI_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define OCI_MT_LAYOUT "1.0.0" /* imageLayoutVersion of the oci-layout file */

#define DOCKER_MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_MT_MANIFEST_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MT_CONFIG "application/vnd.docker.container.image.v1+json"
#define DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MT_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

/* smith's own documents, as artifacts referring to the image (artifactType
 * and their blob's media type) */
#define SMITH_MT_PROVENANCE "application/vnd.smith.provenance+json" /* tree/provenance.h */

/* SBOMs, as OCI 1.1 artifacts referring to the image (pipeline/sbom.h) */
#define SBOM_MT_SPDX "application/spdx+json"
#define SBOM_MT_CYCLONEDX "application/vnd.cyclonedx+json"
