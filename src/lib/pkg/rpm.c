/* RPM signatures with librpm, payloads with libarchive; see rpm.h. */
#include <archive.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rpm/header.h>
#include <rpm/rpmcrypto.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmlog.h>
#include <rpm/rpmpgp.h>
#include <rpm/rpmts.h>

#include "basic/fs.h"
#include "basic/hash.h"
#include "basic/strv.h"
#include "layer/unpack.h"
#include "rpm.h"

/* --- signatures --- */

/* librpm reports through rpmlog, which prints; smith's library never
 * does, so its messages are kept (the last one) for the error instead. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[256];

static int log_quiet(rpmlogRec rec, rpmlogCallbackData data) {
        const char *m = rpmlogRecMessage(rec);
        size_t n;

        (void) data;
        if (m) {
                snprintf(last_log, sizeof(last_log), "%s", m);
                n = strlen(last_log);
                while (n > 0 && (last_log[n - 1] == '\n' || last_log[n - 1] == ' '))
                        last_log[--n] = '\0';
        }
        return 0;
}

static void init_once(void) {
        rpmInitCrypto();
        rpmlogSetCallback(log_quiet, NULL);
}

static int add_key_file(rpmKeyring kr, const char *path, struct smith_error **err) {
        _cleanup_free_ char *text = NULL;
        uint8_t *pkt = NULL;
        size_t len = 0, pktlen = 0;
        rpmPubkey key, *subs;
        int r, n = 0;

        r = read_file_at(AT_FDCWD, path, RPM_KEY_MAX_SIZE, &text, &len);
        if (r < 0)
                return error_set_errno(err, r == -ENOENT ? SMITH_ERR_SOURCE : SMITH_ERR_IO, r, "gpgkey '%s'", path);
        if (memmem(text, len, "-----BEGIN PGP", 14)) {
                if (pgpParsePkts(text, &pkt, &pktlen) != PGPARMOR_PUBKEY)
                        return error_set(err, SMITH_ERR_SOURCE, "gpgkey '%s': not an armored public key", path);
        } else {
                pkt = malloc(len ? len : 1);
                if (!pkt)
                        return error_oom(err);
                memcpy(pkt, text, len);
                pktlen = len;
        }
        key = rpmPubkeyNew(pkt, pktlen);
        free(pkt);
        if (!key)
                return error_set(err, SMITH_ERR_SOURCE, "gpgkey '%s': not an OpenPGP public key", path);
        rpmKeyringAddKey(kr, key);
        subs = rpmGetSubkeys(key, &n);
        for (int i = 0; i < n; i++) {
                rpmKeyringAddKey(kr, subs[i]);
                rpmPubkeyFree(subs[i]);
        }
        free(subs);
        rpmPubkeyFree(key);
        return 0;
}

/* The payload from the current offset of fd against the signed header's
 * digest (RPMTAG_PAYLOADDIGEST, sha256 in every rpm since 4.14). */
static int check_payload(int fd, Header h, struct smith_error **err) {
        _cleanup_(sha256_freep) struct sha256 *s = sha256_new();
        char got[DIGEST_STR_LEN + 1];
        const char *want;
        struct rpmtd_s td;
        int r;

        if (!s)
                return error_oom(err);
        if (headerGetNumber(h, RPMTAG_PAYLOADDIGESTALGO) != RPM_HASH_SHA256 ||
            !headerGet(h, RPMTAG_PAYLOADDIGEST, &td, HEADERGET_MINMEM))
                return error_set(err, SMITH_ERR_SOURCE, "its signed header has no SHA256 payload digest");
        want = rpmtdGetString(&td);
        if (!want || strlen(want) != SHA256_HEX_LEN) {
                rpmtdFreeData(&td);
                return error_set(err, SMITH_ERR_SOURCE, "its signed header has no SHA256 payload digest");
        }
        r = copy_bytes(fd, -1, 0, s, NULL);
        if (r < 0) {
                rpmtdFreeData(&td);
                return error_set_errno(err, SMITH_ERR_IO, r, "read");
        }
        sha256_final_digest(s, got);
        if (!streq(digest_hex(got), want)) {
                rpmtdFreeData(&td);
                return error_set(err, SMITH_ERR_SOURCE, "payload digest mismatch (the signed header says '%.64s')",
                                 want);
        }
        rpmtdFreeData(&td);
        return 0;
}

/* With signature, the header's signature against keyfiles (required);
 * without, only the header's digests.  The payload digest either way. */
static int verify(int fd, char *const *keyfiles, bool signature, struct smith_error **err) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        rpmKeyring kr = NULL;
        rpmts ts = NULL;
        Header h = NULL;
        FD_t rfd = NULL;
        rpmRC rc;
        int r = -1, dfd = -1;

        pthread_once(&once, init_once);
        if (signature && (!keyfiles || !keyfiles[0]))
                return error_set(err, SMITH_ERR_SOURCE, "gpgcheck is on but the repository has no gpgkey");
        pthread_mutex_lock(&log_lock);
        last_log[0] = '\0';
        kr = rpmKeyringNew();
        ts = rpmtsCreate();
        if (!kr || !ts) {
                error_oom(err);
                goto out;
        }
        for (size_t i = 0; signature && keyfiles[i]; i++)
                if (add_key_file(kr, keyfiles[i], err) < 0)
                        goto out;
        rpmtsSetKeyring(ts, kr);
        /* every digest and signature the package has, or its digests only */
        rpmtsSetVSFlags(ts, signature ? 0 : RPMVSF_MASK_NOSIGNATURES);
        dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dfd < 0 || lseek(dfd, 0, SEEK_SET) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "read");
                goto out;
        }
        rfd = fdDup(dfd);
        if (!rfd) {
                error_set_errno(err, SMITH_ERR_IO, errno, "read");
                goto out;
        }
        rc = rpmReadPackageFile(ts, rfd, "package", &h);
        switch (rc) {
        case RPMRC_OK:
                break;
        case RPMRC_NOKEY:
                error_set(err, SMITH_ERR_SOURCE, "signed by a key not in the repository's gpgkey%s%s",
                          last_log[0] ? ": " : "", last_log);
                goto out;
        case RPMRC_NOTTRUSTED:
                error_set(err, SMITH_ERR_SOURCE, "signed by an untrusted key%s%s", last_log[0] ? ": " : "", last_log);
                goto out;
        case RPMRC_NOTFOUND:
                error_set(err, SMITH_ERR_SOURCE, "not an RPM package");
                goto out;
        default:
                error_set(err, SMITH_ERR_SOURCE, "bad signature or digest%s%s", last_log[0] ? ": " : "", last_log);
                goto out;
        }
        if (signature && !headerIsEntry(h, RPMTAG_RSAHEADER) && !headerIsEntry(h, RPMTAG_DSAHEADER)) {
                error_set(err, SMITH_ERR_SOURCE, "not signed (gpgcheck is on)");
                goto out;
        }
        /* rpmReadPackageFile() left rfd at the payload */
        if (lseek(dfd, Ftell(rfd), SEEK_SET) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "read");
                goto out;
        }
        if (check_payload(dfd, h, err) < 0)
                goto out;
        r = 0;
out:
        headerFree(h);
        if (rfd)
                Fclose(rfd);
        if (dfd >= 0)
                close(dfd);
        rpmtsFree(ts);
        rpmKeyringFree(kr);
        pthread_mutex_unlock(&log_lock);
        return r;
}

int rpm_verify(int fd, char *const *keyfiles, struct smith_error **err) {
        return verify(fd, keyfiles, true, err);
}

int rpm_verify_digests(int fd, struct smith_error **err) {
        return verify(fd, NULL, false, err);
}

/* --- payload --- */

int rpm_unpack(int root_fd, int fd, const struct unpack_limits *limits, uint64_t *used, char ***ret_paths,
               struct smith_error **err) {
        struct unpack_stats stats = { .unpacked = *used };
        struct archive *a = archive_read_new();
        int r = -1;

        if (!a)
                return error_oom(err);
        if (lseek(fd, 0, SEEK_SET) < 0) {
                error_set_errno(err, SMITH_ERR_IO, errno, "read");
                goto out;
        }
        if (archive_read_support_filter_rpm(a) != ARCHIVE_OK || archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
            archive_read_support_filter_xz(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
            archive_read_support_filter_bzip2(a) != ARCHIVE_OK || archive_read_support_filter_lzma(a) != ARCHIVE_OK ||
            archive_read_support_format_cpio(a) != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_IO, a, "libarchive");
                goto out;
        }
        if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
                error_from_archive(err, SMITH_ERR_SOURCE, a, "payload");
                goto out;
        }
        r = layer_unpack_archive(root_fd, a,
                                 UNPACK_NO_WHITEOUTS | UNPACK_KEEP_DIR_SYMLINKS | (ret_paths ? UNPACK_LIST_PATHS : 0),
                                 limits, &stats, err);
        *used = stats.unpacked;
        if (r >= 0 && ret_paths)
                *ret_paths = TAKE_PTR(stats.paths);
out:
        strv_free(stats.paths);
        archive_read_free(a);
        return r < 0 ? -1 : 0;
}
