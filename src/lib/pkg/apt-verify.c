/* gpgv for InRelease files; see apt-verify.h.  The decision follows apt's
 * gpgv method: a GOODSIG (with a VALIDSIG using neither MD5 nor SHA-1) and
 * no BADSIG is a pass; without one, the first reason gpgv gave, in order of
 * how much it tells (bad, revoked, expired, unknown key), is the error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fs.h"
#include "basic/strv.h"
#include "apt-verify.h"

#define GPGV_STATUS_MAX (1u << 20)

/* --- armor --- */

static int b64_value(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int apt_dearmor(const char *text, size_t len, unsigned char **ret, size_t *ret_len) {
        static const char begin[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
        const char *p = memmem(text, len, begin, sizeof(begin) - 1), *end = text + len;
        _cleanup_free_ unsigned char *out = NULL;
        size_t n = 0;
        unsigned acc = 0;
        int bits = 0;
        bool body = false;

        if (!p)
                return -EINVAL;
        out = malloc(len / 4 * 3 + 3);
        if (!out)
                return -ENOMEM;
        p = memchr(p, '\n', (size_t) (end - p));
        while (p && p < end) {
                const char *line = p + 1, *eol = memchr(line, '\n', (size_t) (end - line));
                const char *q;

                if (line >= end)
                        break;
                if (!eol)
                        eol = end;
                p = eol;
                for (q = line; q < eol && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
                        ;
                if (!body) {
                        /* armor headers ("Comment: ...") end at a blank line */
                        if (q == eol)
                                body = true;
                        else if (!memchr(line, ':', (size_t) (eol - line))) {
                                body = true; /* no headers at all: this is data */
                                p = line - 1;
                        }
                        continue;
                }
                if (q < eol && (*q == '=' || *q == '-')) {
                        /* the CRC line or the END line: done */
                        if (n == 0)
                                return -EINVAL;
                        *ret_len = n;
                        *ret = TAKE_PTR(out);
                        return 0;
                }
                for (; q < eol; q++) {
                        int v;
                        if (*q == ' ' || *q == '\t' || *q == '\r')
                                continue;
                        if (*q == '=')
                                break; /* padding: the data ends in this line */
                        v = b64_value((unsigned char) *q);
                        if (v < 0)
                                return -EINVAL;
                        acc = (acc << 6) | (unsigned) v;
                        bits += 6;
                        if (bits >= 8) {
                                bits -= 8;
                                out[n++] = (unsigned char) (acc >> bits);
                        }
                }
        }
        return -EINVAL; /* no end */
}

/* --- clearsigned text --- */

int apt_clearsigned_text(const char *data, size_t len, char **ret_text, size_t *ret_len) {
        static const char begin[] = "-----BEGIN PGP SIGNED MESSAGE-----";
        static const char sig[] = "-----BEGIN PGP SIGNATURE-----";
        const char *p = data, *end = data + len;
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        bool first = true;

        out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        if (len < sizeof(begin) - 1 || memcmp(data, begin, sizeof(begin) - 1) != 0) {
                memcpy(out, data, len);
                out[len] = '\0';
                *ret_len = len;
                *ret_text = TAKE_PTR(out);
                return 0;
        }
        /* skip the BEGIN line and the "Hash:" headers up to a blank line */
        for (;;) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol)
                        return -EINVAL;
                p = eol + 1;
                if (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))) {
                        p = (const char *) memchr(p, '\n', (size_t) (end - p)) + 1;
                        break;
                }
        }
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t l;

                if (!eol)
                        return -EINVAL;
                l = (size_t) (eol - p);
                if (l >= sizeof(sig) - 1 && memcmp(p, sig, sizeof(sig) - 1) == 0) {
                        /* the newline before the signature belongs to it */
                        out[n] = '\0';
                        *ret_len = n;
                        *ret_text = TAKE_PTR(out);
                        return 0;
                }
                if (!first)
                        out[n++] = '\n';
                first = false;
                if (l >= 2 && p[0] == '-' && p[1] == ' ') {
                        p += 2;
                        l -= 2;
                }
                if (l > 0 && p[l - 1] == '\r')
                        l--;
                memcpy(out + n, p, l);
                n += l;
                p = eol + 1;
        }
        return -EINVAL; /* no signature */
}

/* --- keyrings --- */

int apt_default_keyrings(char ***ret, struct smith_error **err) {
        _cleanup_strv_free_ char **l = NULL, **names = NULL;
        struct stat st;
        int r;

        if (stat("/etc/apt/trusted.gpg", &st) == 0 && S_ISREG(st.st_mode) &&
            strv_extend(&l, "/etc/apt/trusted.gpg") < 0)
                return error_oom(err);
        r = dir_list_configs("/etc/apt/trusted.gpg.d", (const char *const[]){ ".gpg", ".asc", NULL }, &names);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_SOURCE, r, "read '/etc/apt/trusted.gpg.d'");
        for (size_t i = 0; names && names[i]; i++) {
                char *p = path_join("/etc/apt/trusted.gpg.d", names[i]);
                if (strv_consume(&l, p) < 0)
                        return error_oom(err);
        }
        if (!l && stat("/usr/share/keyrings/debian-archive-keyring.gpg", &st) == 0 &&
            strv_extend(&l, "/usr/share/keyrings/debian-archive-keyring.gpg") < 0)
                return error_oom(err);
        *ret = TAKE_PTR(l);
        return 0;
}

static int memfd_with(const char *name, const void *data, size_t len, int *ret) {
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (len > 0 && write_full(fd, data, len) < 0)
                return -errno ?: -EIO;
        *ret = TAKE_FD(fd);
        return 0;
}

/* Adds one keyring file: binary OpenPGP data is appended to the combined
 * keyring, armored data dearmored first, keybox files kept by path. */
static int add_keyring(int combined_fd, const char *data, size_t len, const char *shown, bool *ret_keybox,
                       struct smith_error **err) {
        _cleanup_free_ unsigned char *bin = NULL;
        size_t bin_len = 0;

        *ret_keybox = len >= 12 && memcmp(data + 8, "KBXf", 4) == 0;
        if (*ret_keybox)
                return 0;
        if (memmem(data, len, "-----BEGIN PGP", 14)) {
                int r = apt_dearmor(data, len, &bin, &bin_len);
                if (r == -ENOMEM)
                        return error_oom(err);
                if (r < 0)
                        return error_set(err, SMITH_ERR_SOURCE, "keyring '%s': malformed armor", shown);
                data = (const char *) bin;
                len = bin_len;
        }
        if (write_full(combined_fd, data, len) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "keyring '%s'", shown);
        return 0;
}

/* --- gpgv --- */

struct status {
        bool good, good_strong, bad, nodata;
        char *bad_key, *expired_key, *revoked_key, *unknown_key, *good_key;
};

static void status_release(struct status *s) {
        free_many(s->bad_key, s->expired_key, s->revoked_key, s->unknown_key, s->good_key);
}

/* The key id after a keyword, made safe for a message. */
static void take_key(char **slot, const char *args) {
        size_t n = strspn(args, "0123456789ABCDEFabcdef");
        if (*slot || n == 0 || n > 64)
                return;
        *slot = strndup(args, n);
}

static void status_parse(struct status *s, char *text) {
        char *line = text, *next;

        for (; line && *line; line = next) {
                char *kw, *args;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!strneq(line, "[GNUPG:] ", 9))
                        continue;
                kw = line + 9;
                args = strchr(kw, ' ');
                if (args)
                        *args++ = '\0';
                else
                        args = kw + strlen(kw);
                if (streq(kw, "GOODSIG")) {
                        s->good = true;
                        take_key(&s->good_key, args);
                } else if (streq(kw, "VALIDSIG")) {
                        _cleanup_strv_free_ char **w = strv_split(args, " ", true);
                        /* the hash algorithm is the 8th field: 1 MD5, 2 SHA-1 */
                        if (w && strv_length(w) >= 8 && !streq(w[7], "1") && !streq(w[7], "2"))
                                s->good_strong = true;
                } else if (streq(kw, "BADSIG")) {
                        s->bad = true;
                        take_key(&s->bad_key, args);
                } else if (streq(kw, "EXPKEYSIG"))
                        take_key(&s->expired_key, args);
                else if (streq(kw, "REVKEYSIG"))
                        take_key(&s->revoked_key, args);
                else if (streq(kw, "NO_PUBKEY") || streq(kw, "ERRSIG"))
                        take_key(&s->unknown_key, args);
                else if (streq(kw, "NODATA"))
                        s->nodata = true;
        }
}

/* With sig_fd >= 0 a detached signature (fd 6) over the data (fd 4) is
 * checked and nothing is written out; else the clearsigned data's text
 * goes to out_fd. */
static int run_gpgv(int data_fd, int sig_fd, int keyring_fd, char *const *keybox_paths, int status_fd, int out_fd,
                    int *ret_status, struct smith_error **err) {
        _cleanup_strv_free_ char **argv = NULL;
        const int src[] = { out_fd, status_fd, data_fd, keyring_fd, sig_fd >= 0 ? sig_fd : data_fd };
        _cleanup_close_ int h0 = -1, h1 = -1, h2 = -1, h3 = -1, h4 = -1;
        int *high[] = { &h0, &h1, &h2, &h3, &h4 };
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, st;
        char path[64];

        if (strv_extend(&argv, "gpgv") < 0 || strv_extend(&argv, "--homedir") < 0 ||
            strv_extend(&argv, "/nonexistent") < 0 || strv_extend(&argv, "--status-fd") < 0 ||
            strv_extend(&argv, "3") < 0 || strv_extend(&argv, "--keyring") < 0 ||
            strv_extend(&argv, "/proc/self/fd/5") < 0)
                return error_oom(err);
        for (size_t i = 0; keybox_paths && keybox_paths[i]; i++)
                if (strv_extend(&argv, "--keyring") < 0 || strv_extend(&argv, keybox_paths[i]) < 0)
                        return error_oom(err);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", 4);
        if (sig_fd >= 0) {
                if (strv_extend(&argv, "/proc/self/fd/6") < 0 || strv_extend(&argv, path) < 0)
                        return error_oom(err);
        } else if (strv_extend(&argv, "--output") < 0 || strv_extend(&argv, "-") < 0 || strv_extend(&argv, path) < 0)
                return error_oom(err);

        /* above every target first, so no dup2 below overwrites a source */
        for (size_t i = 0; i < ELEMENTSOF(src); i++) {
                *high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
                if (*high[i] < 0)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "run 'gpgv'");
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, h0, 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, h1, 3);
        posix_spawn_file_actions_adddup2(&fa, h2, 4);
        posix_spawn_file_actions_adddup2(&fa, h3, 5);
        if (sig_fd >= 0)
                posix_spawn_file_actions_adddup2(&fa, h4, 6);
        r = posix_spawnp(&pid, "gpgv", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "run 'gpgv' (is it installed?)");
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return error_set_errno(err, SMITH_ERR_IO, errno, "wait for 'gpgv'");
        *ret_status = st;
        return 0;
}

static int read_back(int fd, size_t max, char **ret, size_t *ret_len) {
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_len);
}

/* what names the signed file in messages ("InRelease", "repomd.xml"); sig
 * is a detached signature over data, or NULL for clearsigned data whose
 * signed text is returned (ret_text may be NULL with sig). */
static int verify(const char *what, const char *data, size_t len, const char *sig, size_t sig_len,
                  char *const *keyrings, const char *inline_key, char **ret_text, size_t *ret_len,
                  struct smith_error **err) {
        _cleanup_close_ int data_fd = -1, keyring_fd = -1, status_fd = -1, out_fd = -1, sig_fd = -1;
        _cleanup_strv_free_ char **keyboxes = NULL;
        _cleanup_free_ char *status_text = NULL, *out = NULL;
        _cleanup_(status_release) struct status s = {};
        size_t out_len = 0;
        int r, wstatus = 0;

        if (memfd_with("smith-inrelease", data, len, &data_fd) < 0 ||
            memfd_with("smith-keyring", NULL, 0, &keyring_fd) < 0 ||
            memfd_with("smith-gpgv-status", NULL, 0, &status_fd) < 0 ||
            memfd_with("smith-gpgv-out", NULL, 0, &out_fd) < 0 ||
            (sig && memfd_with("smith-signature", sig, sig_len, &sig_fd) < 0))
                return error_set_errno(err, SMITH_ERR_IO, errno, "verify: memfd");
        for (size_t i = 0; keyrings && keyrings[i]; i++) {
                _cleanup_free_ char *k = NULL;
                size_t klen = 0;
                bool keybox;

                r = read_file_at(AT_FDCWD, keyrings[i], APT_KEYRING_MAX_SIZE, &k, &klen);
                if (r < 0)
                        return error_set_errno(err, r == -ENOENT ? SMITH_ERR_SOURCE : SMITH_ERR_IO, r, "keyring '%s'",
                                               keyrings[i]);
                if (add_keyring(keyring_fd, k, klen, keyrings[i], &keybox, err) < 0)
                        return -1;
                if (keybox && strv_extend(&keyboxes, keyrings[i]) < 0)
                        return error_oom(err);
        }
        if (inline_key) {
                bool keybox;
                if (add_keyring(keyring_fd, inline_key, strlen(inline_key), "Signed-By", &keybox, err) < 0)
                        return -1;
        }
        if (lseek(data_fd, 0, SEEK_SET) < 0 || (sig_fd >= 0 && lseek(sig_fd, 0, SEEK_SET) < 0))
                return error_set_errno(err, SMITH_ERR_IO, errno, "verify");
        if (run_gpgv(data_fd, sig_fd, keyring_fd, keyboxes, status_fd, out_fd, &wstatus, err) < 0)
                return -1;
        r = read_back(status_fd, GPGV_STATUS_MAX, &status_text, NULL);
        if (r < 0)
                return error_set_errno(err, SMITH_ERR_IO, r, "read gpgv's status");
        status_parse(&s, status_text);

        if (s.good && s.good_strong && !s.bad) {
                if (!ret_text)
                        return 0;
                r = read_back(out_fd, len + 1, &out, &out_len);
                if (r < 0)
                        return error_set_errno(err, SMITH_ERR_IO, r, "read gpgv's output");
                *ret_text = TAKE_PTR(out);
                if (ret_len)
                        *ret_len = out_len;
                return 0;
        }
        if (s.bad)
                return error_set(err, SMITH_ERR_SOURCE, "%s: bad signature from key '%s'", what,
                                 s.bad_key ? s.bad_key : "?");
        if (s.revoked_key)
                return error_set(err, SMITH_ERR_SOURCE, "%s: signed by revoked key '%s'", what, s.revoked_key);
        if (s.expired_key)
                return error_set(err, SMITH_ERR_SOURCE, "%s: signed by expired key '%s'", what, s.expired_key);
        if (s.unknown_key)
                return error_set(err, SMITH_ERR_SOURCE, "%s: signed by unknown key '%s' (not in %s)", what,
                                 s.unknown_key, strv_length(keyrings) == 1 ? keyrings[0] : "the trusted keyrings");
        if (s.good)
                return error_set(err, SMITH_ERR_SOURCE,
                                 "%s: signed by key '%s' with a weak digest (MD5 or "
                                 "SHA-1)",
                                 what, s.good_key ? s.good_key : "?");
        if (s.nodata || !WIFEXITED(wstatus))
                return error_set(err, SMITH_ERR_SOURCE, "%s: not signed", what);
        return error_set(err, SMITH_ERR_SOURCE, "%s: signature check failed (gpgv exit %d)", what,
                         WEXITSTATUS(wstatus));
}

int apt_verify_inrelease(const char *data, size_t len, char *const *keyrings, const char *inline_key, char **ret_text,
                         size_t *ret_len, struct smith_error **err) {
        return verify("InRelease", data, len, NULL, 0, keyrings, inline_key, ret_text, ret_len, err);
}

int apt_verify_detached(const char *what, const char *data, size_t len, const char *sig, size_t sig_len,
                        char *const *keyrings, const char *inline_key, struct smith_error **err) {
        return verify(what, data, len, sig, sig_len, keyrings, inline_key, NULL, NULL, err);
}
