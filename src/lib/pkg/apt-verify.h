/* Signature checks of repository metadata, as apt makes them: gpgv(1) runs
 * on the clearsigned InRelease with the repository's keyrings, its status
 * lines decide, and only the text gpgv wrote out (--output, the part that
 * was signed) is used afterwards.
 *
 * gpgv is run without a shell (posix_spawnp), with every input and output
 * in a memfd: no temporary files, and the output is read back bounded.
 * Armored (.asc) keyrings are dearmored here first, as apt does, since
 * gpgv 2.2 reads binary keyrings only; all keyrings are concatenated into
 * one (OpenPGP keyrings are packet sequences), keybox files are passed as
 * they are.
 *
 * Errors are SMITH_ERR_SOURCE (a bad, missing or expired signature, an
 * unknown key: the key id from gpgv's status lines is named) or
 * SMITH_ERR_IO (gpgv missing, a keyring unreadable); the caller adds which
 * repository. */
#pragma once

#include <stddef.h>

#include "basic/error.h"

#define APT_KEYRING_MAX_SIZE (16u << 20) /* bytes in one keyring file */

/* The keyrings apt trusts for a source without Signed-By:
 * /etc/apt/trusted.gpg and /etc/apt/trusted.gpg.d/ *.gpg and *.asc, or when
 * there are none /usr/share/keyrings/debian-archive-keyring.gpg.  A strv,
 * possibly empty (NULL). */
int apt_default_keyrings(char ***ret, struct smith_error **err);

/* Verifies data (a clearsigned InRelease, len bytes) against the keyring
 * files (and/or an inline armored key block, may be NULL).  Returns the
 * signed text, NUL-terminated. */
int apt_verify_inrelease(const char *data, size_t len, char *const *keyrings, const char *inline_key, char **ret_text,
                         size_t *ret_len, struct smith_error **err);

/* Verifies a detached signature (sig, binary or armored, as
 * repomd.xml.asc or Release.gpg) over data against the keyring files
 * (and/or an inline armored key block, may be NULL); what names the
 * signed file in messages ("repomd.xml: bad signature from key ..."). */
int apt_verify_detached(const char *what, const char *data, size_t len, const char *sig, size_t sig_len,
                        char *const *keyrings, const char *inline_key, struct smith_error **err);

/* The text of a clearsigned message, dash-escaping undone, without any
 * check (for trusted=yes); a message that is not clearsigned is returned
 * whole.  -EINVAL if it is malformed, -ENOMEM. */
int apt_clearsigned_text(const char *data, size_t len, char **ret_text, size_t *ret_len);

/* Decodes the first ASCII-armored block in text into binary OpenPGP data.
 * -EINVAL if there is none or it is malformed. */
int apt_dearmor(const char *text, size_t len, unsigned char **ret, size_t *ret_len);
