/* Authentication against a registry: parsing WWW-Authenticate challenges,
 * Basic credentials, and docker's Bearer token flow (GET realm?service=
 * &scope=, with Basic credentials when we have them, answer {"token"} or
 * {"access_token"} with "expires_in"), or, with an identity token, the
 * OAuth2 refresh-token grant docker/distribution's client uses (POST realm,
 * form grant_type=refresh_token&refresh_token=..&service=..&scope=..
 * &client_id=smith, answer {"access_token","expires_in","refresh_token"}).
 *
 * The registry's challenge names the realm; it may be another host, and we
 * send the user's credentials there because the registry told us to (as
 * docker does), but never over plain http when the registry is https: the
 * user asked for TLS, and a challenge must not downgrade it (-k does not
 * either: it only skips certificate checks).  Without credentials an http
 * realm is still asked: nothing secret goes there.  An identity token goes
 * to the realm only: never to the registry, not even as Basic credentials.
 * The Bearer token itself only ever goes to the registry's origin (http.c
 * enforces that per request, and refuses https to http redirects of
 * requests that carry credentials).  Token answers are bounded
 * (HTTP_MAX_ERROR_BODY). */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "basic/strv.h"
#include "registry-internal.h"

/* --- challenges --- */

static bool is_tchar(char c) {
        return c && (isalnum((unsigned char) c) || strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

void registry_challenges_free(struct registry_challenge *list, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free_many(list[i].scheme, list[i].realm, list[i].service, list[i].scope);
        }
        free(list);
}

/* Reads a token or quoted-string value at *p into a new string. */
static int read_value(const char **p, char **ret) {
        const char *s = *p;
        _cleanup_free_ char *v = NULL;
        size_t o = 0;

        if (*s == '"') {
                v = malloc(strlen(s) + 1);
                if (!v)
                        return -ENOMEM;
                for (s++; *s && *s != '"'; s++) {
                        if (*s == '\\' && s[1])
                                s++;
                        v[o++] = *s;
                }
                if (*s != '"')
                        return -EINVAL;
                v[o] = 0;
                s++;
        } else {
                const char *b = s;
                /* lenient: unquoted URLs ("realm=https://h/t?x=1") are common */
                while (*s && *s != ',' && *s != ' ' && *s != '\t' && *s != '"')
                        s++;
                v = strndup(b, (size_t) (s - b));
                if (!v)
                        return -ENOMEM;
        }
        *p = s;
        *ret = TAKE_PTR(v);
        return 0;
}

static void challenge_release(struct registry_challenge *ch) {
        free_many(ch->scheme, ch->realm, ch->service, ch->scope);
        *ch = (struct registry_challenge){ 0 };
}

/* Parses the auth-params after a scheme: name=value pairs separated by
 * commas, up to a token not followed by '=' (the next challenge). */
static int parse_params(const char **pp, struct registry_challenge *ch) {
        const char *p = *pp;

        for (;;) {
                const char *save = p, *nb, *ne;
                _cleanup_free_ char *name = NULL, *val = NULL;
                int r;

                p = skip_ws(p);
                while (*p == ',')
                        p = skip_ws(p + 1);
                nb = p;
                while (is_tchar(*p))
                        p++;
                ne = p;
                p = skip_ws(p);
                if (ne == nb) {
                        if (*p)
                                return -EINVAL;
                        break;
                }
                if (*p != '=') {
                        p = save; /* the next challenge's scheme */
                        break;
                }
                p = skip_ws(p + 1);
                r = read_value(&p, &val);
                if (r < 0)
                        return r;
                name = strndup(nb, (size_t) (ne - nb));
                if (!name)
                        return -ENOMEM;
                if (strcasecmp(name, "realm") == 0) {
                        free(ch->realm);
                        ch->realm = TAKE_PTR(val);
                } else if (strcasecmp(name, "service") == 0) {
                        free(ch->service);
                        ch->service = TAKE_PTR(val);
                } else if (strcasecmp(name, "scope") == 0) {
                        free(ch->scope);
                        ch->scope = TAKE_PTR(val);
                }
                p = skip_ws(p);
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EINVAL; /* garbage after a value */
        }
        *pp = p;
        return 0;
}

int registry_challenges_parse(const char *value, struct registry_challenge **list, size_t *n) {
        const char *p = value;

        for (;;) {
                struct registry_challenge ch = { 0 };
                struct registry_challenge *nl;
                const char *b;
                int r;

                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (!*p)
                        return 0;
                b = p;
                while (is_tchar(*p))
                        p++;
                if (p == b)
                        return -EINVAL;
                ch.scheme = strndup(b, (size_t) (p - b));
                if (!ch.scheme)
                        return -ENOMEM;
                for (char *c = ch.scheme; *c; c++)
                        *c = (char) tolower((unsigned char) *c);
                r = parse_params(&p, &ch);
                if (r < 0) {
                        challenge_release(&ch);
                        return r;
                }
                nl = realloc(*list, (*n + 1) * sizeof(**list));
                if (!nl) {
                        challenge_release(&ch);
                        return -ENOMEM;
                }
                nl[*n] = ch;
                *list = nl;
                (*n)++;
        }
}

/* --- Basic and Bearer --- */

static char *basic_header(const char *user, const char *pass) {
        _cleanup_(erase_and_freep) char *pair = NULL, *b64 = NULL;
        char *h = NULL;

        if (asprintf(&pair, "%s:%s", user, pass ? pass : "") < 0) {
                pair = NULL;
                return NULL;
        }
        b64 = registry_base64_encode(pair, strlen(pair));
        if (!b64 || asprintf(&h, "Basic %s", b64) < 0)
                return NULL;
        return h;
}

static int set_basic(struct registry_client *c) {
        char *h = basic_header(c->username, c->password);

        if (!h)
                return -ENOMEM;
        erase_and_freep(&c->authorization);
        c->authorization = h;
        return 0;
}

/* The scopes to ask for: the challenge's, then the operation's, deduplicated. */
static char *scopes_key(struct registry_client *c, const char *challenge_scope) {
        _cleanup_strv_free_ char **l = NULL;
        if (challenge_scope) {
                _cleanup_strv_free_ char **s = strv_split(challenge_scope, " ", true);
                for (char **p = s; p && *p; p++)
                        if (!strv_contains(l, *p) && strv_extend(&l, *p) < 0)
                                return NULL;
        }
        for (char **p = c->scopes; p && *p; p++)
                if (!strv_contains(l, *p) && strv_extend(&l, *p) < 0)
                        return NULL;
        return l ? strv_join(l, " ") : strdup("");
}

/* --- the OAuth2 refresh-token form --- */

static bool form_unreserved(unsigned char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
               ch == '.' || ch == '_' || ch == '~';
}

/* Puts "[&]name=<value percent-encoded>" at out + *pos, or only counts when
 * out is NULL: one pass to size the buffer, one to fill it, so that the
 * token is never in a buffer that was reallocated (and left behind). */
static void form_pair(char *out, size_t *pos, const char *name, const char *value) {
        static const char hex[] = "0123456789ABCDEF";
        size_t o = *pos;

        if (o > 0) {
                if (out)
                        out[o] = '&';
                o++;
        }
        for (const char *p = name; *p; p++, o++)
                if (out)
                        out[o] = *p;
        if (out)
                out[o] = '=';
        o++;
        for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
                if (form_unreserved(*p)) {
                        if (out)
                                out[o] = (char) *p;
                        o++;
                } else {
                        if (out) {
                                out[o] = '%';
                                out[o + 1] = hex[*p >> 4];
                                out[o + 2] = hex[*p & 15];
                        }
                        o += 3;
                }
        }
        *pos = o;
}

static size_t form_build(char *out, const char *refresh_token, const char *service, char *const *scopes) {
        size_t n = 0;

        form_pair(out, &n, "grant_type", "refresh_token");
        form_pair(out, &n, "refresh_token", refresh_token);
        if (service)
                form_pair(out, &n, "service", service);
        for (char *const *s = scopes; s && *s; s++)
                form_pair(out, &n, "scope", *s);
        form_pair(out, &n, "client_id", REGISTRY_CLIENT_ID);
        return n;
}

char *registry_token_form(const char *refresh_token, const char *service, char *const *scopes) {
        size_t n = form_build(NULL, refresh_token, service, scopes);
        char *out = malloc(n + 1);

        if (!out)
                return NULL;
        form_build(out, refresh_token, service, scopes);
        out[n] = 0;
        return out;
}

/* --- token requests --- */

static bool token_well_formed(const char *t) {
        if (isempty(t))
                return false;
        for (const char *p = t; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* True if an answer echoes one of our secrets: then its message is not shown. */
static bool leaks_secret(const struct registry_client *c, const char *body) {
        if (!body)
                return false;
        return (!isempty(c->identity_token) && strstr(body, c->identity_token)) ||
               (!isempty(c->password) && strstr(body, c->password));
}

/* The realm?service=..&scope=..&scope=.. of docker's GET flow. */
static char *token_get_url(const struct registry_client *c, char *const *scope_list) {
        _cleanup_free_ char *url = NULL;
        FILE *f;
        size_t len;
        bool ok = true;

        f = open_memstream(&url, &len);
        if (!f)
                return NULL;
        fputs(c->realm, f);
        char sep = strchr(c->realm, '?') ? '&' : '?';
        if (c->service) {
                _cleanup_free_ char *svc = http_escape(c->service);
                ok = ok && svc;
                fprintf(f, "%cservice=%s", sep, svc ? svc : "");
                sep = '&';
        }
        for (char *const *s = scope_list; s && *s; s++) {
                _cleanup_free_ char *e = http_escape(*s);
                ok = ok && e;
                fprintf(f, "%cscope=%s", sep, e ? e : "");
                sep = '&';
        }
        if (fclose(f) != 0 || !ok)
                return NULL;
        return TAKE_PTR(url);
}

/* Asks the realm for a token for scopes.  With an identity token, the
 * OAuth2 refresh-token grant (POST, as docker/distribution's client does;
 * the token goes in the form body, to the realm only, and a failure is an
 * error: there is no falling back to Basic credentials we do not have);
 * else docker's GET, with Basic credentials when we have them. */
static int fetch_token(struct registry_client *c, const char *scopes, struct smith_error **err) {
        _cleanup_free_ char *url = NULL, *realm_red = NULL;
        _cleanup_(erase_and_freep) char *basic = NULL, *form = NULL;
        _cleanup_strv_free_ char **scope_list = strv_split(scopes, " ", true);
        _cleanup_free_ char *realm_origin = http_url_origin(c->realm);
        char *form_headers[] = { (char *) "Content-Type: application/x-www-form-urlencoded",
                                 (char *) "Accept: application/json", NULL };
        struct http_request rq;
        _cleanup_http_response_ struct http_response rs = { 0 };
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *tok, *refresh = NULL;
        int64_t expires = 60;
        bool oauth;
        int r;

        realm_red = url_redact(c->realm);
        if (!realm_origin)
                return error_set(err, SMITH_ERR_REGISTRY, "token realm '%s' is not an http or https URL",
                                 realm_red ? realm_red : "(realm)");
        if (registry_client_load_credentials(c, err) < 0)
                return -1;
        oauth = c->identity_token != NULL;
        if ((oauth || c->username) && strneq(c->origin, "https:", 6) && !strneq(realm_origin, "https:", 6))
                return error_set(err, SMITH_ERR_REGISTRY,
                                 "token realm '%s' is plain http but the registry is https: refusing to send "
                                 "credentials",
                                 realm_red ? realm_red : "(realm)");

        if (oauth) {
                form = registry_token_form(c->identity_token, c->service, scope_list);
                if (!form)
                        return error_oom(err);
                http_request_init(&rq, "POST", c->realm);
                rq.headers = form_headers;
                rq.body = form;
                rq.body_len = strlen(form);
        } else {
                url = token_get_url(c, scope_list);
                if (!url)
                        return error_oom(err);
                if (c->username && !(basic = basic_header(c->username, c->password)))
                        return error_oom(err);
                http_request_init(&rq, "GET", url);
                rq.authorization = basic;
                rq.auth_origin = realm_origin; /* the realm only, never where it redirects */
                rq.follow = true;
        }
        rq.max_body = HTTP_MAX_ERROR_BODY;
        c->stats.token_fetches++;

        r = http_perform_retry(c->http, &rq, &rs, err);
        if (r < 0)
                return error_wrap(err, "get a token from '%s'", realm_red ? realm_red : "(realm)");
        if (rs.status != 200) {
                bool leak = leaks_secret(c, rs.body);
                _cleanup_free_ char *m =
                        registry_error_message(leak ? NULL : rs.body, leak ? 0 : rs.body_len, rs.status);
                return error_set(err, SMITH_ERR_REGISTRY, "get a token from '%s': %s",
                                 realm_red ? realm_red : "(realm)", m ? m : "failed");
        }
        j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL);
        if (rs.body)
                explicit_bzero(rs.body, rs.body_len);
        /* the OAuth2 answer has access_token; docker's GET answer token (and
         * often access_token too) */
        if (oauth) {
                tok = json_string_value(json_object_get(j, "access_token"));
                if (isempty(tok))
                        tok = json_string_value(json_object_get(j, "token"));
                refresh = json_string_value(json_object_get(j, "refresh_token"));
        } else {
                tok = json_string_value(json_object_get(j, "token"));
                if (isempty(tok))
                        tok = json_string_value(json_object_get(j, "access_token"));
        }
        if (isempty(tok))
                return error_set(err, SMITH_ERR_REGISTRY, "get a token from '%s': no token in the answer",
                                 realm_red ? realm_red : "(realm)");
        if (!token_well_formed(tok) || (!isempty(refresh) && !token_well_formed(refresh)))
                return error_set(err, SMITH_ERR_REGISTRY, "get a token from '%s': malformed token",
                                 realm_red ? realm_red : "(realm)");
        json_t *ex = json_object_get(j, "expires_in");
        if (json_is_integer(ex) && json_integer_value(ex) > 0)
                expires = json_integer_value(ex);
        else if (json_is_real(ex) && json_real_value(ex) > 0)
                expires = (int64_t) json_real_value(ex);
        if (expires > 86400 * 30)
                expires = 86400 * 30;

        _cleanup_(erase_and_freep) char *h = NULL, *next_refresh = NULL;
        bool rotated = !isempty(refresh);
        if (asprintf(&h, "Bearer %s", tok) < 0)
                h = NULL;
        if (rotated)
                next_refresh = strdup(refresh);
        json_decref(TAKE_PTR(j)); /* tok and refresh point into j: not used after this */
        if (!h || (rotated && !next_refresh))
                return error_oom(err);
        erase_and_freep(&c->authorization);
        c->authorization = TAKE_PTR(h);
        /* the realm rotated the refresh token: the old one may be dead now */
        if (next_refresh) {
                erase_and_freep(&c->identity_token);
                c->identity_token = TAKE_PTR(next_refresh);
        }
        c->mode = AUTH_BEARER;
        free(c->token_scopes);
        c->token_scopes = strdup(scopes);
        /* a little early, so that a token does not expire in flight */
        c->token_expires = time(NULL) + (time_t) (expires > 20 ? expires - 10 : expires);
        return 0;
}

int registry_client_load_credentials(struct registry_client *c, struct smith_error **err) {
        struct registry_credentials cr = { 0 };

        if (c->username || c->identity_token || c->creds_looked_up)
                return 0;
        c->creds_looked_up = true;
        if (registry_credentials_lookup(c->ref->host, c->ref->docker_hub, c->ref->repository, &cr, err) < 0)
                return error_wrap(err, "credentials for '%s'", c->ref->host);
        c->username = TAKE_PTR(cr.username);
        c->password = TAKE_PTR(cr.password);
        c->identity_token = TAKE_PTR(cr.identity_token);
        return 0;
}

int registry_auth_from_challenges(struct registry_client *c, char *const *www_authenticate, struct smith_error **err) {
        struct registry_challenge *list = NULL;
        size_t n = 0;
        const struct registry_challenge *bearer = NULL, *basic = NULL;
        int r = 1;

        for (char *const *h = www_authenticate; h && *h; h++)
                if (registry_challenges_parse(*h, &list, &n) == -ENOMEM) {
                        registry_challenges_free(list, n);
                        return error_oom(err);
                }
        for (size_t i = 0; i < n; i++) {
                if (!bearer && streq(list[i].scheme, "bearer") && !isempty(list[i].realm))
                        bearer = &list[i];
                if (!basic && streq(list[i].scheme, "basic"))
                        basic = &list[i];
        }
        if (bearer) {
                _cleanup_free_ char *scopes = scopes_key(c, bearer->scope);
                free(c->realm);
                free(c->service);
                c->realm = strdup(bearer->realm);
                c->service = bearer->service ? strdup(bearer->service) : NULL;
                if (!scopes || !c->realm || (bearer->service && !c->service))
                        r = error_oom(err);
                else
                        r = fetch_token(c, scopes, err) < 0 ? -1 : 0;
        } else if (basic) {
                if (registry_client_load_credentials(c, err) < 0)
                        r = -1;
                else if (!c->username || c->mode == AUTH_BASIC)
                        /* nothing to send (an identity token is no Basic
                         * password), or what we sent was refused */
                        r = 1;
                else if (set_basic(c) < 0)
                        r = error_oom(err);
                else {
                        c->mode = AUTH_BASIC;
                        r = 0;
                }
        }
        registry_challenges_free(list, n);
        return r;
}

int registry_auth_refresh(struct registry_client *c, struct smith_error **err) {
        _cleanup_free_ char *scopes = NULL;

        if (c->mode != AUTH_BEARER || !c->realm)
                return 0;
        scopes = scopes_key(c, NULL);
        if (!scopes)
                return error_oom(err);
        /* a token for other scopes, or one about to expire: ask again */
        if (time(NULL) < c->token_expires && c->token_scopes) {
                _cleanup_strv_free_ char **have = strv_split(c->token_scopes, " ", true);
                _cleanup_strv_free_ char **want = strv_split(scopes, " ", true);
                bool covered = true;
                for (char **w = want; w && *w; w++)
                        if (!strv_contains(have, *w))
                                covered = false;
                if (covered)
                        return 0;
                /* keep what the registry's challenge asked for as well */
                free(scopes);
                scopes = NULL;
                _cleanup_strv_free_ char **all = strv_copy(have);
                for (char **w = want; w && *w; w++)
                        if (!strv_contains(all, *w) && strv_extend(&all, *w) < 0)
                                return error_oom(err);
                scopes = all ? strv_join(all, " ") : strdup("");
                if (!scopes)
                        return error_oom(err);
        }
        return fetch_token(c, scopes, err);
}
