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
#include "registry.h"

/* Blobs larger than this are pushed in PATCH chunks of this size
 * (SMITH_REGISTRY_CHUNK overrides it, for tests). */
#define REGISTRY_CHUNK_SIZE ((int64_t) 64 << 20)
#define REGISTRY_RETRY_ATTEMPTS 5
#define REGISTRY_RETRY_BASE_MS 200 /* SMITH_REGISTRY_RETRY_BASE_MS overrides it */
#define REGISTRY_RETRY_CAP_MS 5000 /* backoff doubles up to this */
#define REGISTRY_RETRY_AFTER_MAX_MS 10000
#define REGISTRY_STALL_SECONDS 30 /* SMITH_REGISTRY_STALL_SECONDS overrides it */
#define REGISTRY_MAX_REDIRECTS 10
#define REGISTRY_HELPER_TIMEOUT_MS 30000

/* --- references (reference.c) --- */

/* s with any URL userinfo removed ("https://u:p@h/r" -> "https://h/r"); the
 * same split registry_ref_parse() makes, so nothing that could be a password
 * survives.  NULL only when memory ran out. */
char *registry_url_redact(const char *s);
struct registry_ref *registry_ref_dup(const struct registry_ref *r);

/* --- platforms (client.c) --- */

struct registry_platform {
        char os[32];
        char arch[32];
        char variant[32]; /* "" when none */
};

/* "os/arch[/variant]"; NULL means this host (linux/<oci_host_architecture()>).
 * SMITH_ERR_USAGE on a malformed string. */
int registry_platform_parse(const char *s, struct registry_platform *ret, struct smith_error **err);

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

/* Retry-After: delta seconds or an HTTP date (relative to now).  Returns 0
 * and the delay in milliseconds (>= 0, not capped), or -EINVAL. */
int registry_retry_after_parse(const char *value, time_t now, int64_t *ret_ms);

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

/* --- HTTP (http.c) --- */

struct http;

struct http_request {
        const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH" */
        const char *url;
        char **headers; /* extra "Name: value" lines, or NULL */
        /* Sent only to URLs whose origin (scheme, host, port) is auth_origin:
         * never to a redirect target or an upload location elsewhere. */
        const char *authorization; /* full header value, or NULL */
        const char *auth_origin;
        bool follow; /* follow redirects (GET and HEAD only) */
        /* request body: memory, or body_size bytes of body_fd from body_offset */
        const void *body;
        size_t body_len;
        int body_fd; /* -1 when none */
        off_t body_offset;
        int64_t body_size;
        /* a 2xx response body goes to sink_fd (hashed into sink_hash, at
         * most sink_max bytes), else to memory (at most max_body bytes; 0
         * drops it).  Other responses' bodies are kept up to
         * REGISTRY_MAX_SMALL for the error message. */
        int sink_fd; /* -1 when none */
        struct sha256 *sink_hash;
        int64_t sink_max;
        size_t max_body;
        const char *progress_label; /* "sha256:abcd1234" for progress lines, or NULL */
};

struct http_response {
        long status;
        char *url; /* the last URL asked (after redirects) */
        char *location, *retry_after, *content_type, *content_digest;
        char **www_authenticate;
        char *body; /* NUL-terminated */
        size_t body_len;
        int64_t sink_written;
};

void http_request_init(struct http_request *rq, const char *method, const char *url);
void http_response_release(struct http_response *rs);

int http_new(bool insecure, const char *ca_file, bool progress, struct http **ret, struct smith_error **err);
void http_free(struct http *h);

/* Performs the request (following redirects when asked; Authorization only
 * to its origin; never from https to http when the request carries
 * credentials or a body, -k or not, else only with -k).  Returns 0 with rs->status set for any HTTP answer, or -1
 * with err on a transport failure; *ret_retryable then says whether trying
 * again could help (connection errors and timeouts, not TLS verification or
 * an oversized answer). */
int http_perform(struct http *h, const struct http_request *rq, struct http_response *rs, bool *ret_retryable,
                 struct smith_error **err);

/* "scheme://host:port" with the default port made explicit and the host
 * lowercased, or NULL for something that is not an http(s) URL. */
char *http_url_origin(const char *url);
/* Resolves location relative to base; NULL unless the result is http(s). */
char *http_url_resolve(const char *base, const char *location);
/* "%-escapes" s for a query value. */
char *http_escape(const char *s);

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
        int64_t retry_base_ms;
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

/* Sleeps the backoff for attempt (0-based), or retry_after_ms when >= 0. */
void registry_backoff(struct registry_client *c, unsigned attempt, int64_t retry_after_ms);

/* Forgets which repositories this process saw blobs in (for tests). */
void registry_forget_blobs(void);
