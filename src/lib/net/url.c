/* URLs and Link headers as the HTTP client and its users need them: an
 * origin to compare (so credentials go nowhere else), a reference
 * resolved against the URL it came from, the target of a Link relation
 * (RFC 8288), escaping, and the userinfo of a URL found and redacted for
 * messages; see http.h.  All of it reads text from servers: nothing here
 * trusts a length or a form it has not checked. */
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "net/http.h"

/* --- URLs --- */

char *http_url_origin(const char *url) {
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL, *r = NULL;

        if (!u)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
                goto out;
        if (!streq(scheme, "http") && !streq(scheme, "https"))
                goto out;
        for (char *p = host; *p; p++)
                *p = (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        if (asprintf(&r, "%s://%s:%s", scheme, host, port) < 0)
                r = NULL;
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return r;
}

char *http_url_resolve(const char *base, const char *location) {
        CURLU *u = curl_url();
        char *s = NULL, *r = NULL;
        _cleanup_free_ char *origin = NULL;

        if (!u)
                return NULL;
        if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
            curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
                origin = http_url_origin(s);
                if (origin)
                        r = strdup(s);
        }
        curl_free(s);
        curl_url_cleanup(u);
        return r;
}

/* --- Link headers (RFC 8288) --- */

static const char *skip_ws(const char *p) {
        return p + strspn(p, " \t");
}

/* Whether the space-separated list of relation types rels (len bytes)
 * holds relation. */
static bool rels_have(const char *rels, size_t len, const char *relation) {
        size_t want = strlen(relation);

        for (size_t i = 0; i < len;) {
                size_t k = i;
                while (k < len && rels[k] != ' ' && rels[k] != '\t')
                        k++;
                if (k - i == want && strncasecmp(rels + i, relation, want) == 0)
                        return true;
                i = k + 1;
        }
        return false;
}

char *http_link_target(const char *value, const char *relation) {
        const char *p = value;

        while (p && *(p = skip_ws(p))) {
                const char *target, *end;
                bool match = false;

                if (*p == ',') { /* empty list elements are allowed */
                        p++;
                        continue;
                }
                if (*p != '<')
                        return NULL;
                target = p + 1;
                end = strchr(target, '>');
                if (!end)
                        return NULL;
                p = skip_ws(end + 1);
                /* ; name[=value], value a token or a quoted string */
                while (*p == ';') {
                        const char *name = p = skip_ws(p + 1), *v = NULL;
                        size_t name_len, v_len = 0;

                        while (*p && !strchr("=;, \t", *p))
                                p++;
                        name_len = (size_t) (p - name);
                        p = skip_ws(p);
                        if (*p == '=') {
                                p = skip_ws(p + 1);
                                if (*p == '"') {
                                        v = ++p;
                                        while (*p && *p != '"') {
                                                if (*p == '\\' && p[1])
                                                        p++;
                                                p++;
                                        }
                                        if (*p != '"')
                                                return NULL;
                                        v_len = (size_t) (p - v);
                                        p++;
                                } else {
                                        v = p;
                                        while (*p && !strchr(";, \t", *p))
                                                p++;
                                        v_len = (size_t) (p - v);
                                }
                                p = skip_ws(p);
                        }
                        if (name_len == 3 && strncasecmp(name, "rel", 3) == 0 && v && rels_have(v, v_len, relation))
                                match = true;
                }
                if (*p && *p != ',')
                        return NULL;
                if (match)
                        return strndup(target, (size_t) (end - target));
        }
        return NULL;
}

char *http_escape(const char *s) {
        char *e = curl_easy_escape(NULL, s, 0);
        char *r;
        if (!e)
                return NULL;
        r = strdup(e);
        curl_free(e);
        return r;
}

bool http_url_is_plain(const char *url) {
        return url && strncasecmp(url, "http://", 7) == 0;
}

/* Length of the scheme prefix "http://" / "https://" (or "xyz://"), 0 if none. */
size_t url_scheme_len(const char *s) {
        const char *p = strstr(s, "://");
        if (!p)
                return 0;
        for (const char *q = s; q < p; q++)
                if (!isalpha((unsigned char) *q) && *q != '+' && *q != '-' && *q != '.')
                        return 0;
        return p == s ? 0 : (size_t) (p - s) + 3;
}

/* Position of the '@' that ends the userinfo in rest (after "scheme://"), or NULL. */
const char *url_userinfo_end(const char *rest) {
        const char *first_slash = strchr(rest, '/');
        for (const char *p = rest + strlen(rest); p > rest; p--) {
                if (p[-1] != '@')
                        continue;
                const char *at = p - 1;
                if (strchr(at, '/'))
                        return at; /* followed by a path: a host comes next */
                if (!first_slash || first_slash > at)
                        return at; /* in the authority: "https://u:p@host" */
        }
        return NULL;
}

char *url_redact(const char *s) {
        size_t sl = url_scheme_len(s);
        const char *rest = s + sl;
        const char *at = url_userinfo_end(rest);
        char *r = NULL;

        if (!at)
                return strdup(s);
        if (asprintf(&r, "%.*s%s", (int) sl, s, at + 1) < 0)
                return NULL;
        return r;
}
