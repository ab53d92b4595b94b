/* The one HTTP client: libcurl underneath, used by registries and package
 * repositories alike.
 *
 * What every caller gets without asking: TLS verified unless the user said
 * -k (or a CA file given), only http and https spoken, proxies from the
 * environment (http_proxy, https_proxy, no_proxy, as curl reads them),
 * redirects followed here rather than by curl so that an Authorization
 * header only ever goes to the origin it belongs to, stalled transfers
 * timed out, every body kept in memory bounded, 2xx bodies streamed to a
 * file while they are hashed, uploads read from a file with pread(), and
 * live progress on a TTY.  Retries (http_perform_retry()) back off
 * exponentially, capped, on what can pass on another try: connection
 * errors, 408, 429 with a Retry-After (honoured) and 5xx; never on a
 * server that stalled or trickled below HTTP_LOW_SPEED_BYTES a second.
 * Every request, with its retries, has one deadline
 * (HTTP_TIMEOUT_SECONDS).  Headers are never logged and URLs in messages carry
 * no userinfo.
 *
 * Ownership: a struct http owns one curl easy handle (connections are
 * reused, one request at a time); an http_response owns its header copies
 * and body (http_response_release()).  Nothing here prints except the
 * progress line. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "basic/error.h"
#include "basic/hash.h"

#define HTTP_MAX_ERROR_BODY (1u << 20) /* non-2xx bodies kept for the message */
#define HTTP_MAX_REDIRECTS 10
#define HTTP_RETRY_ATTEMPTS 5
#define HTTP_RETRY_BASE_MS 200 /* SMITH_NET_RETRY_BASE_MS overrides it (tests) */
#define HTTP_RETRY_CAP_MS 5000 /* backoff doubles up to this */
#define HTTP_RETRY_AFTER_MAX_MS 10000
#define HTTP_STALL_SECONDS 30 /* SMITH_NET_STALL_SECONDS overrides it */
/* A transfer slower than this over HTTP_STALL_SECONDS is given up on: a
 * server that stalls or trickles (a slowloris) is refused in 30 s. */
#define HTTP_LOW_SPEED_BYTES 1024
/* One request with all its retries must be done within this (the
 * deadline; SMITH_NET_TIMEOUT, or --timeout, overrides it, 0 for none):
 * an hour takes 2 GB over a slow link of 600 kB/s. */
#define HTTP_TIMEOUT_SECONDS 3600

struct http;

struct http_opts {
        bool insecure;                    /* -k: do not verify TLS certificates */
        const char *ca_file;              /* trust these CAs instead of the system store, or NULL */
        bool progress;                    /* live progress lines for requests with a progress_label */
        enum smith_error_kind error_kind; /* of transport errors: the caller's floor says what failed */
};

struct http_request;
/* Called before every attempt of http_perform_retry() (the first too), so
 * that a download sink can start over; returns < 0 with errno set to give
 * up. */
typedef int (*http_reset_fn)(struct http_request *rq, void *userdata);

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
         * HTTP_MAX_ERROR_BODY for the error message. */
        int sink_fd; /* -1 when none */
        struct sha256 *sink_hash;
        int64_t sink_max;
        size_t max_body;
        const char *progress_label; /* "sha256:abcd1234" for progress lines, or NULL */
        /* http_perform_retry(): attempts in all (0: HTTP_RETRY_ATTEMPTS, 1: no
         * retry, for requests that are not idempotent) and the reset hook */
        unsigned attempts;
        http_reset_fn reset;
        void *reset_userdata;
};

struct http_response {
        long status;
        char *url; /* the last URL asked (after redirects) */
        char *location, *retry_after, *content_type, *content_digest;
        char *etag, *last_modified; /* validators for conditional requests, or NULL */
        char *oci_subject;          /* OCI-Subject: a registry that keeps referrers (OCI distribution 1.1) */
        char *link;                 /* every Link header's value, joined with ", " (RFC 8288), or NULL */
        char **www_authenticate;
        char *body; /* NUL-terminated */
        size_t body_len;
        int64_t sink_written;
};

void http_request_init(struct http_request *rq, const char *method, const char *url);

/* A download into a file, hashed as it streams, that starts over cleanly
 * on every attempt of http_perform_retry() (the file truncated, the hash
 * restarted).  http_request_sink_file() points rq's sink at s (fd, at most
 * max bytes); the digest is sha256_final_digest(s->hash, ...) after a 2xx;
 * http_file_sink_release() frees the hash (the fd stays the caller's). */
struct http_file_sink {
        int fd;
        struct sha256 *hash;
};
void http_request_sink_file(struct http_request *rq, struct http_file_sink *s, int fd, int64_t max);
void http_file_sink_release(struct http_file_sink *s);
void http_response_release(struct http_response *rs);
static inline void http_response_releasep(struct http_response *rs) {
        http_response_release(rs);
}
#define _cleanup_http_response_ _cleanup_(http_response_releasep)

int http_new(const struct http_opts *o, struct http **ret, struct smith_error **err);
/* The deadline of every request of clients made from now on, in seconds
 * (0: none), over SMITH_NET_TIMEOUT: a command's --timeout. */
void http_set_timeout(int64_t seconds);
void http_free(struct http *h);
DEFINE_POINTER_CLEANUP(struct http, http_free)

/* Performs the request once (following redirects when asked;
 * Authorization only to its origin; never from https to http when the
 * request carries credentials or a body, -k or not, else only with -k).  Returns 0 with rs->status set for any
 * HTTP answer, or -1 with err (of the client's error_kind) on a transport failure;
 * *ret_retryable then says whether trying again could help (connection
 * errors and timeouts, not TLS verification or an oversized answer). */
int http_perform(struct http *h, const struct http_request *rq, struct http_response *rs, bool *ret_retryable,
                 struct smith_error **err);

/* http_perform() with retries: transport errors that may pass (not a
 * timeout), and answers 408, 429 with Retry-After and 5xx, are tried again
 * up to rq->attempts times with capped exponential backoff (Retry-After
 * honoured, bounded), all within one deadline.  Returns 0 with the
 * last answer (which may still be a 5xx), or -1 with err and rs released. */
int http_perform_retry(struct http *h, const struct http_request *rq, struct http_response *rs,
                       struct smith_error **err);

/* 408, 429 and 5xx: answers worth trying again later. */
bool http_status_transient(long status);
/* Sleeps the backoff for attempt (0-based), or retry_after_ms when >= 0
 * (capped at HTTP_RETRY_AFTER_MAX_MS), and counts a retry. */
void http_backoff(struct http *h, unsigned attempt, int64_t retry_after_ms);
/* Retries made so far by this client (for statistics and tests). */
unsigned http_retries(const struct http *h);

/* Retry-After: delta seconds or an HTTP date (relative to now).  Returns 0
 * and the delay in milliseconds (>= 0, not capped), or -EINVAL. */
int http_retry_after_parse(const char *value, time_t now, int64_t *ret_ms);

/* --- URLs --- */

/* "scheme://host:port" with the default port made explicit and the host
 * lowercased, or NULL for something that is not an http(s) URL. */
char *http_url_origin(const char *url);
/* Resolves location relative to base; NULL unless the result is http(s). */
char *http_url_resolve(const char *base, const char *location);
/* The target of the first link in a Link header value (RFC 8288:
 * `<uri-reference>; rel="next", <...>; rel=prev`) whose rel names
 * relation (case-insensitive; rel may list several, space-separated), as
 * written (relative references are the caller's to resolve), or NULL when
 * there is none or the value does not parse. */
char *http_link_target(const char *value, const char *relation);
/* "%-escapes" s for a query value. */
char *http_escape(const char *s);
/* True if url's scheme is plain http (case-insensitive). */
bool http_url_is_plain(const char *url);

/* Length of the "scheme://" prefix of s, 0 if none. */
size_t url_scheme_len(const char *s);
/* In rest (what follows "scheme://"), the '@' that ends a userinfo, or
 * NULL: the right-most '@' that is followed by a '/' or comes before any
 * '/', so an unencoded '@', ':' or '/' in a password stays in the
 * password. */
const char *url_userinfo_end(const char *rest);
/* s with any userinfo removed ("https://u:p@h/r" -> "https://h/r"), split
 * as url_userinfo_end() does, so nothing that could be a password survives.
 * NULL only when memory ran out. */
char *url_redact(const char *s);
