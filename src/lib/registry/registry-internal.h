/* What the registry module's files share and the unit tests reach into:
 * the HTTP layer (http.c), challenge parsing and tokens (auth.c), the
 * credential stores (credentials.c) and the client state (client.c).
 *
 * Ownership: struct registry_client owns its http handle, credentials,
 * token and the strings it copied from the ref and the options.  An
 * http_response owns its header copies and body; http_response_release()
 * frees them.  Nothing in here prints except the progress lines. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/error.h"
#include "basic/hash.h"
#include "net/http.h"
#include "registry.h"

/* Blobs larger than this are pushed in PATCH chunks of this size
 * (SMITH_REGISTRY_CHUNK overrides it, for tests). */
#define REGISTRY_CHUNK_SIZE ((int64_t) 64 << 20)
#define REGISTRY_HELPER_TIMEOUT_MS 30000

/* --- references (reference.c) --- */

struct registry_ref *registry_ref_dup(const struct registry_ref *r);

/* --- challenges and tokens (auth.c) --- */

struct registry_challenge {
        char *scheme; /* lowercased: "basic", "bearer", ... */
        char *realm;
        char *service;
        char *scope;
};

/* The client_id smith names itself with in OAuth2 token requests. */
#define REGISTRY_CLIENT_ID "smith"

/* The body of an OAuth2 refresh-token request (docker/distribution's
 * client, application/x-www-form-urlencoded):
 * "grant_type=refresh_token&refresh_token=T&service=S&scope=A&scope=B&client_id=smith",
 * every value percent-encoded (all but ALPHA DIGIT "-._~"), "service" only
 * when given, one "scope" per entry of scopes (NULL-terminated, may be
 * NULL).  The caller erases it (it holds the token).  NULL on ENOMEM. */
char *registry_token_form(const char *refresh_token, const char *service, char *const *scopes);

/* Parses one WWW-Authenticate value (which may hold several challenges) and
 * appends what it finds to *list / *n.  Returns 0, or -EINVAL for a value it
 * cannot parse (whatever was parsed before stays appended), -ENOMEM. */
int registry_challenges_parse(const char *value, struct registry_challenge **list, size_t *n);
void registry_challenges_free(struct registry_challenge *list, size_t n);

/* --- credentials (credentials.c) --- */

/* What a store holds for a registry: a username and password, an identity
 * token, or both (docker login keeps the username next to the token).  An
 * identity token is an OAuth2 refresh token ("identitytoken" in an auth
 * file, or a helper's answer with Username "<token>"): it is only ever
 * posted to the token realm (auth.c), never sent as Basic credentials.
 * Every field is NULL when nothing was found. */
struct registry_credentials {
        char *username;
        char *password; /* "" when the entry had a username only */
        char *identity_token;
};

/* Erases and frees the strings; accepts a zeroed struct. */
void registry_credentials_release(struct registry_credentials *cr);

/* Looks host (as in URLs, "host:port"; Docker Hub as "registry-1.docker.io"
 * with docker_hub set) up in the auth files and credential helpers, in the
 * order registry.h describes.  *ret is all NULL when nothing was found (not
 * an error) and untouched on errors: an unreadable or malformed file, a
 * failing helper (other than "not found"). */
int registry_credentials_lookup(const char *host, bool docker_hub, const char *repository,
                                struct registry_credentials *ret, struct smith_error **err);

/* Standard base64 (with padding) of len bytes. */
char *registry_base64_encode(const void *data, size_t len);
/* Decodes standard base64; the result is NUL-terminated.  -EINVAL, -ENOMEM. */
int registry_base64_decode(const char *s, char **ret, size_t *ret_len);

/* --- error answers (answer.c) --- */

/* One-line message for a registry's error answer: the first of
 * {"errors":[{"code","message"}]} (or "message", OAuth2's
 * "error_description", "error", "details"), control
 * characters replaced and length bounded, then " (status)". */
char *registry_error_message(const char *body, size_t len, long status);

/* --- the client (client.c) --- */

struct registry_stats {
        unsigned blobs_downloaded, blobs_cached;                        /* pull */
        unsigned blobs_uploaded, blobs_existing, blobs_mounted, chunks; /* push */
        unsigned token_fetches, retries;
};

enum auth_mode {
        AUTH_NONE,
        AUTH_BASIC,
        AUTH_BEARER,
};

struct registry_client {
        struct registry_ref *ref;
        bool insecure, verbose, progress;
        char *ca_file;
        char *platform;
        char *base;   /* "https://host" */
        char *origin; /* http_url_origin(base) */
        struct http *http;

        /* credentials: from the URL at once, from the stores on first need;
         * identity_token (an OAuth2 refresh token, replaced when the realm
         * hands out a new one) goes to the token realm only */
        char *username, *password;
        char *identity_token;
        bool creds_looked_up;

        enum auth_mode mode;
        char *authorization; /* header value in use */
        char *realm, *service;
        char *token_scopes; /* the scopes the current token was asked for */
        time_t token_expires;
        char **scopes;     /* what the current operation needs */
        char **mount_from; /* registry_client_add_mount_source() */

        int64_t chunk_size;
        struct registry_stats stats;
};

/* The token for the client's scopes (fetched anew when missing, expired or
 * for other scopes), or Basic credentials, as the challenges ask.  Called
 * after a 401: returns 0 when the request is worth retrying with
 * c->authorization, 1 when nothing can be done (no credentials for Basic, no
 * challenge we understand), -1 with err when a token request failed. */
int registry_auth_from_challenges(struct registry_client *c, char *const *www_authenticate, struct smith_error **err);
/* Refreshes a Bearer token before a request if it expired or the scopes
 * changed.  0 or -1 with err. */
int registry_auth_refresh(struct registry_client *c, struct smith_error **err);
/* Loads credentials from the stores once, if the URL had none. */
int registry_client_load_credentials(struct registry_client *c, struct smith_error **err);

/* --- requests, for pull.c and push.c (client.c) --- */

/* The scopes the next requests need: "repository:<repo>:<action>". */
int registry_set_scopes(struct registry_client *c, const char *action);
/* One line per blob on stderr with -v. */
void registry_verbose(struct registry_client *c, const char *what, const char *digest, int64_t size, const char *extra);
/* One request with authentication and retries.  0 with rs->status set for
 * any final answer (the caller judges it and releases rs), -1 with err (rs
 * released). */
int registry_request(struct registry_client *c, struct http_request *rq, struct http_response *rs,
                     struct smith_error **err);
/* registry_request() of a GET for a manifest or an index at url (redirects
 * followed, the body bounded by max, or REGISTRY_MAX_MANIFEST when max is
 * 0), accept being the whole Accept header line. */
int registry_get_document(struct registry_client *c, const char *url, const char *accept, size_t max,
                          struct http_response *rs, struct smith_error **err);
/* A GET of an image index listing artifacts (the referrers API's answer,
 * or the referrers tag): 1 and the body when the answer is an index, 0
 * when there is none (*ret_status says why), -1 on errors.  With ret_next,
 * the target of its Link rel="next" as written, or NULL. */
int registry_get_listing(struct registry_client *c, const char *url, size_t max, char **ret_body, size_t *ret_len,
                         long *ret_status, char **ret_next, struct smith_error **err);
/* "[what: ]<the registry's message> (status)", SMITH_ERR_REGISTRY.  -1. */
int registry_status_error(struct smith_error **err, const struct http_response *rs, const char *what);
/* "<base>/v2/<repository>/<kind>/<what>". */
char *registry_url_for(struct registry_client *c, const char *kind, const char *what);
/* A blob is where it should be: count it (*counter), say so with -v
 * (what: "pulled", "exists", ...) and remember where it was seen. */
void registry_blob_done(struct registry_client *c, unsigned *counter, const char *what, const char *digest,
                        int64_t size, const char *extra);
/* Blobs this process saw in a repository of a registry, for mounts. */
void registry_seen_add(const char *host, const char *repository, const char *digest);
const char *registry_seen_elsewhere(const char *host, const char *repository, const char *digest);

/* The client's counters, retries (made by its HTTP client) included. */
void registry_client_stats(const struct registry_client *c, struct registry_stats *ret);

/* Forgets which repositories this process saw blobs in (for tests). */
void registry_forget_blobs(void);

/* --- the referrers API, paged (referrers-pages.c) --- */

#define REGISTRY_REFERRERS_MAX_PAGES 256u /* pages of one referrers answer: one artifact each at most */

/* GET url, a referrers answer, and the pages its Link rel="next" headers
 * lead to on the registry's origin: 1 and one index listing them all (each
 * digest once, OCI_REFERRERS_MAX at most, REGISTRY_MAX_MANIFEST bytes of
 * pages at most), 0 when the first answer is no image index (*ret_status
 * says why), -1 with err (a later page that fails, a loop, too many). */
int registry_referrers_get(struct registry_client *c, const char *url, char **ret_body, size_t *ret_len,
                           long *ret_status, struct smith_error **err);
