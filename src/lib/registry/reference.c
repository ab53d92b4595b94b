/* Image references: the original smith's URL form
 * ("https://user:pass@host:port/repo/path:tag@sha256:..."), docker's
 * reference syntax ("host:5000/repo:tag", "debian", "docker.io/x/y"), the
 * Docker Hub mapping and the redacted forms used in every message.
 *
 * The userinfo is split off at the right-most '@' that is followed by a '/'
 * (a digest's '@' never is) or that comes before any '/': so an unencoded
 * '@', ':' or '/' in a password still ends up in the password, and the
 * redaction (the same split) never lets any of it into a message. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "registry-internal.h"

#define DOCKER_HUB_HOST "registry-1.docker.io"

/* --- splitting and redaction --- */

/* --- validation --- */

static int percent_decode(const char *s, size_t len, char **ret) {
        _cleanup_free_ char *out = malloc(len + 1);
        size_t o = 0;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        char hex[3];
                        char *end;
                        if (i + 2 >= len)
                                return -EINVAL;
                        if (!isxdigit((unsigned char) s[i + 1]) || !isxdigit((unsigned char) s[i + 2]))
                                return -EINVAL;
                        hex[0] = s[i + 1];
                        hex[1] = s[i + 2];
                        hex[2] = 0;
                        long v = strtol(hex, &end, 16);
                        if (v == 0)
                                return -EINVAL; /* no NUL in credentials */
                        out[o++] = (char) v;
                        i += 2;
                } else
                        out[o++] = s[i];
        }
        out[o] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* host[:port] or [v6][:port]; lowercased into a new string. */
static int host_normalize(const char *s, size_t len, char **ret) {
        size_t i = 0;
        _cleanup_free_ char *h = NULL;

        if (len == 0 || len > 255)
                return -EINVAL;
        if (s[0] == '[') {
                for (i = 1; i < len && s[i] != ']'; i++)
                        if (!isxdigit((unsigned char) s[i]) && s[i] != ':' && s[i] != '.')
                                return -EINVAL;
                if (i >= len || i == 1)
                        return -EINVAL;
                i++;
        } else {
                for (; i < len && s[i] != ':'; i++)
                        if (!isalnum((unsigned char) s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_')
                                return -EINVAL;
                if (i == 0 || s[0] == '.' || s[0] == '-' || s[i - 1] == '.' || s[i - 1] == '-')
                        return -EINVAL;
        }
        if (i < len) {
                if (s[i] != ':' || i + 1 == len || len - i - 1 > 5)
                        return -EINVAL;
                long port = 0;
                for (size_t j = i + 1; j < len; j++) {
                        if (!isdigit((unsigned char) s[j]))
                                return -EINVAL;
                        port = port * 10 + (s[j] - '0');
                }
                if (port < 1 || port > 65535)
                        return -EINVAL;
        }
        h = strndup(s, len);
        if (!h)
                return -ENOMEM;
        for (char *p = h; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        *ret = TAKE_PTR(h);
        return 0;
}

static bool is_alnum_lower(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Distribution's path components: [a-z0-9]+ joined by '.', '_', '__' or
 * runs of '-', components separated by '/'. */
static bool repository_valid(const char *s) {
        size_t len = strlen(s);
        if (len == 0 || len > 255)
                return false;
        for (const char *c = s; *c;) {
                const char *e = strchrnul(c, '/');
                if (e == c || !is_alnum_lower(c[0]) || !is_alnum_lower(e[-1]))
                        return false;
                for (const char *p = c; p < e; p++) {
                        if (is_alnum_lower(*p) || *p == '-')
                                continue;
                        if (*p == '.' && is_alnum_lower(p[1]))
                                continue;
                        if (*p == '_' && (is_alnum_lower(p[1]) || (p[1] == '_' && is_alnum_lower(p[2])))) {
                                if (p[1] == '_')
                                        p++;
                                continue;
                        }
                        return false;
                }
                c = *e ? e + 1 : e;
                if (*e && !*c)
                        return false; /* trailing '/' */
        }
        return true;
}

static bool tag_valid(const char *s) {
        size_t len = strlen(s);
        if (len == 0 || len > 128)
                return false;
        if (!isalnum((unsigned char) s[0]) && s[0] != '_')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

static bool host_is_docker_hub(const char *h) {
        return streq(h, "docker.io") || streq(h, "index.docker.io") || streq(h, DOCKER_HUB_HOST);
}

/* A docker-style first component that names a registry. */
static bool component_is_host(const char *s, size_t len) {
        return memchr(s, '.', len) || memchr(s, ':', len) || (len == 9 && strneq(s, "localhost", 9));
}

/* --- parsing --- */

void registry_ref_free(struct registry_ref *r) {
        if (!r)
                return;
        free_many(r->scheme, r->host, r->repository, r->tag, r->digest, r->username);
        erase_and_free(r->password);
        free(r);
}

/* The redacted input with control characters replaced: a message is one line. */
static char *redact_for_message(const char *input) {
        char *red = url_redact(input);
        for (char *p = red; p && *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        *p = '?';
        return red;
}

static int usage(struct smith_error **err, const char *input, const char *what) {
        _cleanup_free_ char *red = redact_for_message(input);
        return error_set(err, SMITH_ERR_USAGE, "'%s': %s", red ? red : "(reference)", what);
}

/* Parses "repo[:tag][@digest]" into r. */
static int parse_path(struct registry_ref *r, const char *path, const char *input, struct smith_error **err) {
        _cleanup_free_ char *p = strdup(path);
        char *at, *slash, *colon;

        if (!p)
                return error_oom(err);
        at = strrchr(p, '@');
        if (at) {
                *at = 0;
                if (!digest_is_valid(at + 1))
                        return usage(err, input, "invalid digest (expected sha256:<64 lowercase hex digits>)");
                r->digest = strdup(at + 1);
                if (!r->digest)
                        return error_oom(err);
        }
        slash = strrchr(p, '/');
        colon = strrchr(p, ':');
        if (colon && (!slash || colon > slash)) {
                *colon = 0;
                if (!tag_valid(colon + 1))
                        return usage(err, input, "invalid tag");
                r->tag = strdup(colon + 1);
                if (!r->tag)
                        return error_oom(err);
        }
        if (isempty(p)) {
                _cleanup_free_ char *red = redact_for_message(input);
                return error_set(err, SMITH_ERR_USAGE, "'%s' has no repository", red ? red : "(reference)");
        }
        if (r->docker_hub && !strchr(p, '/')) {
                if (asprintf(&r->repository, "library/%s", p) < 0) {
                        r->repository = NULL;
                        return error_oom(err);
                }
        } else {
                r->repository = strdup(p);
                if (!r->repository)
                        return error_oom(err);
        }
        if (!repository_valid(r->repository))
                return usage(err, input,
                             "invalid repository name (lowercase letters, digits and '.', '_', '-' "
                             "separators, components joined by '/')");
        if (!r->tag && !r->digest) {
                r->tag = strdup("latest");
                if (!r->tag)
                        return error_oom(err);
        }
        return 0;
}

static int set_host(struct registry_ref *r, const char *s, size_t len, const char *input, struct smith_error **err) {
        int k = host_normalize(s, len, &r->host);
        if (k == -ENOMEM)
                return error_oom(err);
        if (k < 0)
                return usage(err, input, "invalid registry host");
        if (host_is_docker_hub(r->host)) {
                free(r->host);
                r->host = strdup(DOCKER_HUB_HOST);
                if (!r->host)
                        return error_oom(err);
                r->docker_hub = true;
        }
        return 0;
}

int registry_ref_parse(const char *s, unsigned flags, struct registry_ref **ret, struct smith_error **err) {
        _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
        size_t sl;
        const char *rest, *at, *slash;

        if (isempty(s))
                return error_set(err, SMITH_ERR_USAGE, "empty image reference");
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return usage(err, s, "white space or control character in the reference");
        r = calloc(1, sizeof(*r));
        if (!r)
                return error_oom(err);

        sl = url_scheme_len(s);
        if (sl > 0) {
                if (strneq(s, "https://", 8))
                        r->scheme = strdup("https");
                else if (strneq(s, "http://", 7))
                        r->scheme = strdup("http");
                else
                        return usage(err, s, "unsupported scheme (use http:// or https://)");
                if (!r->scheme)
                        return error_oom(err);
                rest = s + sl;
                at = url_userinfo_end(rest);
                if (at) {
                        const char *colon = memchr(rest, ':', (size_t) (at - rest));
                        size_t ulen = colon ? (size_t) (colon - rest) : (size_t) (at - rest);
                        if (percent_decode(rest, ulen, &r->username) < 0 ||
                            (colon && percent_decode(colon + 1, (size_t) (at - colon - 1), &r->password) < 0))
                                return usage(err, s, "invalid percent-encoding in the credentials");
                        if (isempty(r->username))
                                return usage(err, s, "empty user name in the credentials");
                        rest = at + 1;
                }
                slash = strchr(rest, '/');
                if (set_host(r, rest, slash ? (size_t) (slash - rest) : strlen(rest), s, err) < 0)
                        return -1;
                if (!slash || isempty(slash + 1)) {
                        _cleanup_free_ char *red = redact_for_message(s);
                        return error_set(err, SMITH_ERR_USAGE, "'%s' has no repository", red ? red : "(reference)");
                }
                if (parse_path(r, slash + 1, s, err) < 0)
                        return -1;
        } else {
                if (!(flags & REGISTRY_REF_DOCKER_STYLE))
                        return usage(err, s, "not an http:// or https:// URL");
                if (url_userinfo_end(s) && strchr(url_userinfo_end(s), '/'))
                        return usage(err, s, "credentials are only accepted in http:// and https:// URLs");
                r->scheme = strdup("https");
                if (!r->scheme)
                        return error_oom(err);
                slash = strchr(s, '/');
                if (slash && component_is_host(s, (size_t) (slash - s))) {
                        if (set_host(r, s, (size_t) (slash - s), s, err) < 0)
                                return -1;
                        rest = slash + 1;
                } else {
                        if (set_host(r, DOCKER_HUB_HOST, strlen(DOCKER_HUB_HOST), s, err) < 0)
                                return -1;
                        rest = s;
                }
                if (parse_path(r, rest, s, err) < 0)
                        return -1;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

char *registry_ref_display(const struct registry_ref *r) {
        char *s = NULL;
        if (asprintf(&s, "%s://%s/%s%s%s%s%s", r->scheme, r->host, r->repository, r->tag ? ":" : "",
                     r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
                return NULL;
        return s;
}

struct registry_ref *registry_ref_dup(const struct registry_ref *r) {
        _cleanup_(registry_ref_freep) struct registry_ref *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->docker_hub = r->docker_hub;
#define DUP(f)                               \
        do {                                 \
                if (r->f) {                  \
                        n->f = strdup(r->f); \
                        if (!n->f)           \
                                return NULL; \
                }                            \
        } while (0)
        DUP(scheme);
        DUP(host);
        DUP(repository);
        DUP(tag);
        DUP(digest);
        DUP(username);
        DUP(password);
#undef DUP
        return TAKE_PTR(n);
}

static bool ends_with(const char *s, size_t len, const char *suffix) {
        size_t sl = strlen(suffix);
        return len >= sl && strneq(s + len - sl, suffix, sl);
}

bool registry_ref_is_registry_package(const char *s) {
        _cleanup_(registry_ref_freep) struct registry_ref *r = NULL;
        _cleanup_(error_freep) struct smith_error *e = NULL;
        const char *slash, *last;
        size_t len;

        if (isempty(s))
                return false;
        if (strneq(s, "https://", 8) || strneq(s, "http://", 7))
                return true;
        if (s[0] == '/' || s[0] == '.' || s[0] == '~' || url_scheme_len(s) > 0)
                return false;
        slash = strchr(s, '/');
        if (!slash || !component_is_host(s, (size_t) (slash - s)))
                return false;
        /* "dir.d/base.tar.gz:tag" is a file beside smith.yaml */
        last = strrchr(s, '/') + 1;
        len = strcspn(last, ":@");
        if (ends_with(last, len, ".tar") || ends_with(last, len, ".tar.gz") || ends_with(last, len, ".tgz") ||
            ends_with(last, len, ".tar.zst") || ends_with(last, len, ".tar.xz"))
                return false;
        return registry_ref_parse(s, REGISTRY_REF_DOCKER_STYLE, &r, &e) == 0;
}
