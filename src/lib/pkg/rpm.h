/* RPM package files: the signature check and the payload.
 *
 * rpm_verify() checks an .rpm's header signature with librpm against the
 * repository's keys only (a keyring of our own set on a transaction set:
 * the host's rpmdb and keys are never consulted), requires that there is
 * one, and then checks the payload against the digest the signed header
 * gives, so a package whose payload was swapped is refused too.
 *
 * rpm_unpack() applies the payload (a cpio archive compressed with gzip, xz,
 * zstd, bzip2 or lzma) to a root exactly as a hostile image layer is
 * (layer_unpack_archive(): every name resolved inside the root, links never
 * followed out, limits on sizes); nothing of the package is run: no
 * scriptlets, no triggers.
 *
 * Errors are SMITH_ERR_SOURCE naming what failed; the caller adds which
 * package. */
#pragma once

#include <stdint.h>

#include "basic/error.h"

struct unpack_limits;

#define RPM_KEY_MAX_SIZE (1u << 20) /* bytes in one key file */

/* Verifies the .rpm read from fd (at offset 0) against the armored or
 * binary OpenPGP public keys in the files keyfiles (absolute paths). */
int rpm_verify(int fd, char *const *keyfiles, struct smith_error **err);
/* The same without the signature (gpgcheck off): the header's digests and
 * the payload's SHA256 against the one the header gives, so a damaged or
 * altered package is still refused. */
int rpm_verify_digests(int fd, struct smith_error **err);

/* Unpacks the payload of the .rpm read from fd (at offset 0) into root_fd;
 * *used and *ret_paths as deb_unpack(). */
int rpm_unpack(int root_fd, int fd, const struct unpack_limits *limits, uint64_t *used, char ***ret_paths,
               struct smith_error **err);
