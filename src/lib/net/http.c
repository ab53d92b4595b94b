/* The HTTP client on libcurl; see http.h.  One easy handle per client
 * (connections are reused), one request at a time, redirects followed here
 * so that the Authorization header only ever goes to the origin it belongs
 * to, and an https to http redirect is refused (with -k allowed only for a
 * request that carries no credentials and no body).  Bodies stream:
 * uploads are read from a file with pread(), 2xx downloads are written to
 * a file while they are hashed, and every body kept in memory is bounded
 * (the transfer is aborted past the bound). */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "basic/buf.h"
#include "basic/env.h"
#include "basic/fs.h"
#include "basic/strv.h"
#include "net/http.h"
#include "smith-version.h"

#define HTTP_MAX_HEADERS (256u << 10)
#define HTTP_MAX_CHALLENGES 16
#define PROGRESS_INTERVAL_MS 250

struct http {
        CURL *curl;
        bool insecure;
        char *ca_file;
        long stall_seconds;
        bool progress;
        enum smith_error_kind kind; /* of transport errors */
        int64_t retry_base_ms;
        int64_t timeout_ms;  /* one request with its retries, in all (0: none) */
        int64_t deadline_ms; /* CLOCK_MONOTONIC: the current request's end, or 0 */
        unsigned retries;
        char errbuf[CURL_ERROR_SIZE];
};

/* State of one transfer (one hop). */
struct xfer {
        const struct http_request *rq;
        struct http_response *rs;
        size_t header_bytes;
        bool too_large, header_overflow;
        int write_errno;
        int64_t body_pos;
        struct buf body; /* of this hop; the response gets it at the end */
        /* progress */
        struct timespec start, last;
        bool printed;
};

static int64_t now_ms(const struct timespec *t) {
        return (int64_t) t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

void http_request_init(struct http_request *rq, const char *method, const char *url) {
        *rq = (struct http_request){
                .method = method,
                .url = url,
                .body_fd = -1,
                .sink_fd = -1,
        };
}

static int file_sink_reset(struct http_request *rq, void *userdata) {
        struct http_file_sink *s = userdata;

        if (ftruncate(s->fd, 0) < 0 || lseek(s->fd, 0, SEEK_SET) < 0)
                return -1;
        sha256_free(s->hash);
        s->hash = sha256_new();
        if (!s->hash) {
                errno = ENOMEM;
                return -1;
        }
        rq->sink_hash = s->hash;
        return 0;
}

void http_request_sink_file(struct http_request *rq, struct http_file_sink *s, int fd, int64_t max) {
        *s = (struct http_file_sink){ .fd = fd };
        rq->sink_fd = fd;
        rq->sink_max = max;
        rq->reset = file_sink_reset;
        rq->reset_userdata = s;
}

void http_file_sink_release(struct http_file_sink *s) {
        sha256_free(s->hash);
        s->hash = NULL;
}

static void response_reset_headers(struct http_response *rs) {
        free_many(rs->location, rs->retry_after, rs->content_type, rs->content_digest, rs->etag, rs->last_modified,
                  rs->oci_subject, rs->link);
        strv_free(rs->www_authenticate);
        rs->location = rs->retry_after = rs->content_type = rs->content_digest = rs->oci_subject = rs->link = NULL;
        rs->etag = rs->last_modified = NULL;
        rs->www_authenticate = NULL;
}

void http_response_release(struct http_response *rs) {
        response_reset_headers(rs);
        free(rs->body);
        free(rs->url);
        *rs = (struct http_response){ 0 };
}

static int64_t http_timeout_override = -1;

void http_set_timeout(int64_t seconds) {
        http_timeout_override = seconds;
}

static int64_t mono_now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return now_ms(&t);
}

int http_new(const struct http_opts *o, struct http **ret, struct smith_error **err) {
        static bool global_done;
        _cleanup_(http_freep) struct http *h = NULL;

        if (!global_done) {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                        return error_set(err, o->error_kind, "initialise libcurl");
                global_done = true;
        }
        h = calloc(1, sizeof(*h));
        if (!h)
                return error_oom(err);
        h->curl = curl_easy_init();
        if (!h->curl)
                return error_set(err, o->error_kind, "initialise libcurl");
        h->insecure = o->insecure;
        if (o->ca_file && !(h->ca_file = strdup(o->ca_file)))
                return error_oom(err);
        h->stall_seconds = (long) env_int("SMITH_NET_STALL_SECONDS", HTTP_STALL_SECONDS, 1, 86400);
        h->timeout_ms =
                (http_timeout_override >= 0 ? http_timeout_override
                                            : env_int("SMITH_NET_TIMEOUT", HTTP_TIMEOUT_SECONDS, 0, 86400 * 7)) *
                1000;
        h->retry_base_ms = env_int("SMITH_NET_RETRY_BASE_MS", HTTP_RETRY_BASE_MS, 0, 60000);
        h->progress = o->progress;
        h->kind = o->error_kind ? o->error_kind : SMITH_ERR_IO;
        *ret = TAKE_PTR(h);
        return 0;
}

void http_free(struct http *h) {
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->ca_file);
        free(h);
}

/* --- error bodies --- */

/* --- callbacks --- */

static char *header_value(const char *v, size_t len) {
        while (len > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                len--;
        }
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
        return strndup(v, len);
}

static void set_header(char **field, const char *v, size_t len) {
        free(*field);
        *field = header_value(v, len);
}

/* Several Link headers are one list (RFC 9110 5.3), joined with ", ";
 * HTTP_MAX_HEADERS bounds them all. */
static void add_link(char **field, const char *v, size_t len) {
        _cleanup_free_ char *value = header_value(v, len);
        char *joined = NULL;

        if (!value)
                return;
        if (!*field) {
                *field = TAKE_PTR(value);
                return;
        }
        if (asprintf(&joined, "%s, %s", *field, value) < 0)
                return;
        free(*field);
        *field = joined;
}

/* The headers a response keeps, the last of each (Link and
 * WWW-Authenticate, which may come several times, are kept apart). */
static const struct {
        const char *name;
        size_t field; /* offsetof(struct http_response, ...), a char * */
} kept_headers[] = {
        { "location", offsetof(struct http_response, location) },
        { "retry-after", offsetof(struct http_response, retry_after) },
        { "content-type", offsetof(struct http_response, content_type) },
        { "docker-content-digest", offsetof(struct http_response, content_digest) },
        { "etag", offsetof(struct http_response, etag) },
        { "last-modified", offsetof(struct http_response, last_modified) },
        { "oci-subject", offsetof(struct http_response, oci_subject) },
};

static size_t header_cb(char *buf, size_t size, size_t n, void *ud) {
        struct xfer *x = ud;
        size_t len = size * n;
        const char *colon;
        size_t nl;

        x->header_bytes += len;
        if (x->header_bytes > HTTP_MAX_HEADERS) {
                x->header_overflow = true;
                return 0;
        }
        if (len >= 5 && strneq(buf, "HTTP/", 5)) {
                const char *sp = memchr(buf, ' ', len);
                x->rs->status = 0;
                if (sp && (size_t) (sp - buf) + 4 <= len) {
                        long st = 0;
                        for (int i = 1; i <= 3; i++)
                                st = st * 10 + (sp[i] >= '0' && sp[i] <= '9' ? sp[i] - '0' : 0);
                        x->rs->status = st;
                }
                response_reset_headers(x->rs);
                return len;
        }
        colon = memchr(buf, ':', len);
        if (!colon)
                return len;
        nl = (size_t) (colon - buf);
        colon++;
        for (size_t i = 0; i < ELEMENTSOF(kept_headers); i++)
                if (nl == strlen(kept_headers[i].name) && strncasecmp(buf, kept_headers[i].name, nl) == 0) {
                        set_header((char **) ((char *) x->rs + kept_headers[i].field), colon, len - nl - 1);
                        return len;
                }
        if (nl == 4 && strncasecmp(buf, "link", 4) == 0)
                add_link(&x->rs->link, colon, len - nl - 1);
        else if (nl == 16 && strncasecmp(buf, "www-authenticate", 16) == 0 &&
                 strv_length(x->rs->www_authenticate) < HTTP_MAX_CHALLENGES) {
                char *v = header_value(colon, len - nl - 1);
                if (v)
                        (void) strv_consume(&x->rs->www_authenticate, v);
        }
        return len;
}

static size_t append_body(struct xfer *x, const char *buf, size_t len, size_t max) {
        int r;

        x->body.max = max;
        r = buf_append(&x->body, buf, len);
        if (r == -EFBIG)
                x->too_large = true;
        else if (r < 0)
                x->write_errno = -r;
        return r < 0 ? 0 : len;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *ud) {
        struct xfer *x = ud;
        const struct http_request *rq = x->rq;
        size_t len = size * n;
        long st = x->rs->status;
        int r;

        if (st >= 300 && st < 400)
                return len;
        if (st >= 200 && st < 300) {
                if (rq->sink_fd >= 0) {
                        if (x->rs->sink_written + (int64_t) len > rq->sink_max) {
                                x->too_large = true;
                                return 0;
                        }
                        if (rq->sink_hash)
                                sha256_update(rq->sink_hash, buf, len);
                        r = write_full(rq->sink_fd, buf, len);
                        if (r < 0) {
                                x->write_errno = -r;
                                return 0;
                        }
                        x->rs->sink_written += (int64_t) len;
                        return len;
                }
                if (rq->max_body == 0)
                        return len;
                return append_body(x, buf, len, rq->max_body);
        }
        return append_body(x, buf, len, HTTP_MAX_ERROR_BODY);
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ud) {
        struct xfer *x = ud;
        const struct http_request *rq = x->rq;
        size_t max = size * n;
        int64_t total = rq->body_fd >= 0 ? rq->body_size : (int64_t) rq->body_len;
        size_t want = (size_t) MIN((int64_t) max, total - x->body_pos);
        ssize_t k;

        if (want == 0)
                return 0;
        if (rq->body_fd < 0) {
                memcpy(buf, (const char *) rq->body + x->body_pos, want);
                x->body_pos += (int64_t) want;
                return want;
        }
        do
                k = pread(rq->body_fd, buf, want, rq->body_offset + x->body_pos);
        while (k < 0 && errno == EINTR);
        if (k <= 0) {
                x->write_errno = k < 0 ? errno : EIO; /* the file shrank under us */
                return CURL_READFUNC_ABORT;
        }
        x->body_pos += k;
        return (size_t) k;
}

static int seek_cb(void *ud, curl_off_t offset, int origin) {
        struct xfer *x = ud;
        if (origin != SEEK_SET || offset < 0)
                return CURL_SEEKFUNC_CANTSEEK;
        x->body_pos = offset;
        return CURL_SEEKFUNC_OK;
}

static void format_bytes(char *buf, size_t len, double b) {
        const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;
        while (b >= 1024 && u + 1 < ELEMENTSOF(units)) {
                b /= 1024;
                u++;
        }
        snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        struct xfer *x = ud;
        struct timespec t;
        char done[32], total[32], rate[32], eta[32] = "";
        bool up = ultotal > 0 || ulnow > 0;
        curl_off_t now = up ? ulnow : dlnow, tot = up ? ultotal : dltotal;
        int64_t ms;

        if (x->rs->status < 200 || x->rs->status >= 300) {
                if (!up || x->rs->status != 0)
                        return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (x->printed && now_ms(&t) - now_ms(&x->last) < PROGRESS_INTERVAL_MS)
                return 0;
        x->last = t;
        ms = MAX(now_ms(&t) - now_ms(&x->start), (int64_t) 1);
        format_bytes(done, sizeof(done), (double) now);
        format_bytes(total, sizeof(total), (double) tot);
        format_bytes(rate, sizeof(rate), (double) now * 1000.0 / (double) ms);
        if (tot > 0 && now > 0 && now < tot)
                snprintf(eta, sizeof(eta), "  ETA %.0f s", (double) (tot - now) * (double) ms / 1000.0 / (double) now);
        fprintf(stderr, "\r%.19s  %s / %s  %s/s%s\033[K", x->rq->progress_label, done, tot > 0 ? total : "?", rate,
                eta);
        x->printed = true;
        return 0;
}

/* --- performing --- */

static bool code_retryable(CURLcode c) {
        switch (c) {
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_OUT_OF_MEMORY:
        case CURLE_NOT_BUILT_IN:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_FILESIZE_EXCEEDED:
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
        /* a server that stalled or trickled (or the deadline passed) would
         * only do it again: retries are for what can pass */
        case CURLE_OPERATION_TIMEDOUT:
                return false;
        default:
                return true;
        }
}

static int error_from_curl(struct smith_error **err, enum smith_error_kind kind, CURLcode c, const char *detail,
                           const char *method, const char *url) {
        _cleanup_free_ char *red = url_redact(url);
        _cleanup_free_ char *d = text_for_msg(isempty(detail) ? "" : detail);
        if (!isempty(d))
                return error_set(err, kind, "%s '%s': %s", method, red ? red : "(url)", d);
        return error_set(err, kind, "%s '%s': %s", method, red ? red : "(url)", curl_easy_strerror(c));
}

static int setup(struct http *h, struct xfer *x, const char *method, const char *url, struct curl_slist *headers) {
        CURL *c = h->curl;
        const struct http_request *rq = x->rq;
        bool upload = (rq->body_fd >= 0 && rq->body_size >= 0) || rq->body;
        int64_t body_size = rq->body_fd >= 0 ? rq->body_size : (int64_t) rq->body_len;
        CURLcode r = CURLE_OK;

        curl_easy_reset(c);
#define SET(opt, val)                                      \
        do {                                               \
                if (r == CURLE_OK)                         \
                        r = curl_easy_setopt(c, opt, val); \
        } while (0)
        SET(CURLOPT_URL, url);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 0L);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, h->errbuf);
        SET(CURLOPT_USERAGENT, "smith/" SMITH_VERSION);
        SET(CURLOPT_CONNECTTIMEOUT, 30L);
        /* a server that stalls, or trickles (a slowloris), is given up
         * on; the deadline bounds everything else */
        SET(CURLOPT_LOW_SPEED_LIMIT, (long) HTTP_LOW_SPEED_BYTES);
        SET(CURLOPT_LOW_SPEED_TIME, h->stall_seconds);
        if (h->deadline_ms > 0)
                SET(CURLOPT_TIMEOUT_MS, (long) MAX(h->deadline_ms - mono_now_ms(), (int64_t) 1));
        SET(CURLOPT_SSL_VERIFYPEER, h->insecure ? 0L : 1L);
        SET(CURLOPT_SSL_VERIFYHOST, h->insecure ? 0L : 2L);
        if (h->ca_file)
                SET(CURLOPT_CAINFO, h->ca_file);
        SET(CURLOPT_HEADERFUNCTION, header_cb);
        SET(CURLOPT_HEADERDATA, x);
        SET(CURLOPT_WRITEFUNCTION, write_cb);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_HTTPHEADER, headers);
        SET(CURLOPT_ACCEPT_ENCODING, NULL);
        if (h->progress && rq->progress_label) {
                SET(CURLOPT_NOPROGRESS, 0L);
                SET(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
                SET(CURLOPT_XFERINFODATA, x);
        }
        if (streq(method, "HEAD"))
                SET(CURLOPT_NOBODY, 1L);
        else if (streq(method, "GET"))
                SET(CURLOPT_HTTPGET, 1L);
        else if (upload) {
                SET(CURLOPT_UPLOAD, 1L);
                SET(CURLOPT_READFUNCTION, read_cb);
                SET(CURLOPT_READDATA, x);
                SET(CURLOPT_SEEKFUNCTION, seek_cb);
                SET(CURLOPT_SEEKDATA, x);
                SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t) body_size);
                SET(CURLOPT_CUSTOMREQUEST, method);
        } else {
                SET(CURLOPT_POST, 1L);
                SET(CURLOPT_POSTFIELDS, "");
                SET(CURLOPT_POSTFIELDSIZE, 0L);
                SET(CURLOPT_CUSTOMREQUEST, method);
        }
#undef SET
        return r == CURLE_OK ? 0 : -1;
}

static int perform(struct http *h, const struct http_request *rq, struct http_response *rs, bool *ret_retryable,
                   struct smith_error **err) {
        _cleanup_free_ char *url = strdup(rq->url);
        const char *method = rq->method;
        bool retryable = false;
        int r = 0;

        if (!url)
                return error_oom(err);
        http_response_release(rs);
        for (unsigned hop = 0;; hop++) {
                struct xfer x = { .rq = rq, .rs = rs };
                struct curl_slist *headers = NULL, *t;
                _cleanup_free_ char *origin = http_url_origin(url), *auth = NULL;
                CURLcode code;
                bool ok = true;

                response_reset_headers(rs);
                free(rs->body);
                rs->body = NULL;
                rs->body_len = 0;
                rs->status = 0;
                rs->sink_written = 0;
                if (!origin) {
                        _cleanup_free_ char *red = url_redact(url);
                        r = error_set(err, h->kind, "'%s' is not an http or https URL", red ? red : "(url)");
                        break;
                }
                for (char *const *l = rq->headers; l && *l && ok; l++) {
                        t = curl_slist_append(headers, *l);
                        ok = t != NULL;
                        headers = t ? t : headers;
                }
                if (ok) {
                        t = curl_slist_append(headers, "Expect:");
                        ok = t != NULL;
                        headers = t ? t : headers;
                }
                if (ok && rq->authorization && rq->auth_origin && streq(origin, rq->auth_origin)) {
                        ok = asprintf(&auth, "Authorization: %s", rq->authorization) >= 0;
                        if (ok) {
                                t = curl_slist_append(headers, auth);
                                ok = t != NULL;
                                headers = t ? t : headers;
                                explicit_bzero(auth, strlen(auth));
                        } else
                                auth = NULL;
                }
                if (!ok || setup(h, &x, method, url, headers) < 0) {
                        curl_slist_free_all(headers);
                        r = error_oom(err);
                        break;
                }
                h->errbuf[0] = 0;
                clock_gettime(CLOCK_MONOTONIC, &x.start);
                code = curl_easy_perform(h->curl);
                curl_slist_free_all(headers);
                /* the header list is gone: do not leave curl pointing at it */
                curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
                if (x.printed)
                        fputs("\r\033[K", stderr);
                free(rs->url);
                rs->url = strdup(url);
                rs->body = x.body.data;
                rs->body_len = x.body.len;
                x.body = (struct buf){};

                if (code != CURLE_OK) {
                        _cleanup_free_ char *red = url_redact(url);
                        if (x.too_large && rs->status > 0 && (rs->status < 200 || rs->status >= 300)) {
                                free(rs->body); /* an oversized error body: report the status alone */
                                rs->body = NULL;
                                rs->body_len = 0;
                        } else if (x.too_large && rq->sink_fd >= 0) {
                                r = error_set(err, h->kind, "%s '%s': more data than the %lld bytes expected", method,
                                              red ? red : "(url)", (long long) rq->sink_max);
                                break;
                        } else if (x.too_large) {
                                r = error_set(err, h->kind, "%s '%s': answer larger than %zu bytes", method,
                                              red ? red : "(url)", rq->max_body);
                                break;
                        } else if (x.header_overflow) {
                                r = error_set(err, h->kind, "%s '%s': headers larger than %u bytes", method,
                                              red ? red : "(url)", HTTP_MAX_HEADERS);
                                break;
                        } else if (x.write_errno) {
                                r = error_set_errno(err, SMITH_ERR_IO, x.write_errno, "%s '%s'", method,
                                                    red ? red : "(url)");
                                break;
                        } else if (code == CURLE_OPERATION_TIMEDOUT && h->deadline_ms > 0 &&
                                   mono_now_ms() >= h->deadline_ms) {
                                r = error_set(err, h->kind,
                                              "%s '%s': not done within the %llds deadline (--timeout, "
                                              "SMITH_NET_TIMEOUT)",
                                              method, red ? red : "(url)", (long long) (h->timeout_ms / 1000));
                                break;
                        } else {
                                retryable = code_retryable(code);
                                r = error_from_curl(err, h->kind, code, h->errbuf, method, url);
                                break;
                        }
                }
                if (rq->follow && rs->location &&
                    (rs->status == 301 || rs->status == 302 || rs->status == 303 || rs->status == 307 ||
                     rs->status == 308)) {
                        char *next;
                        if (hop + 1 >= HTTP_MAX_REDIRECTS) {
                                _cleanup_free_ char *red = url_redact(rq->url);
                                r = error_set(err, h->kind, "%s '%s': too many redirects", method, red ? red : "(url)");
                                break;
                        }
                        next = http_url_resolve(url, rs->location);
                        if (!next) {
                                _cleanup_free_ char *red = url_redact(rs->location);
                                r = error_set(err, h->kind, "%s: bad redirect to '%s'", method, red ? red : "(url)");
                                break;
                        }
                        /* -k skips certificate checks, it does not ask for
                         * plain http: a request that carries credentials
                         * (or a body) is never taken from https to http */
                        if (strneq(url, "https:", 6) && strneq(next, "http:", 5) &&
                            (rq->authorization || rq->body || rq->body_fd >= 0)) {
                                _cleanup_free_ char *red = url_redact(next);
                                free(next);
                                r = error_set(err, h->kind,
                                              "%s: refusing the redirect from https to plain http '%s': the request "
                                              "carries credentials",
                                              method, red ? red : "(url)");
                                break;
                        }
                        if (strneq(url, "https:", 6) && strneq(next, "http:", 5) && !h->insecure) {
                                _cleanup_free_ char *red = url_redact(next);
                                free(next);
                                r = error_set(err, h->kind,
                                              "%s: refusing the redirect from https to '%s' (use -k to allow it)",
                                              method, red ? red : "(url)");
                                break;
                        }
                        free(url);
                        url = next;
                        if (rs->status == 303 && !streq(method, "HEAD"))
                                method = "GET";
                        continue;
                }
                break;
        }
        if (ret_retryable)
                *ret_retryable = retryable;
        return r;
}

int http_perform(struct http *h, const struct http_request *rq, struct http_response *rs, bool *ret_retryable,
                 struct smith_error **err) {
        bool own_deadline = h->deadline_ms == 0 && h->timeout_ms > 0;
        int r;

        if (own_deadline)
                h->deadline_ms = mono_now_ms() + h->timeout_ms;
        r = perform(h, rq, rs, ret_retryable, err);
        if (own_deadline)
                h->deadline_ms = 0;
        return r;
}

/* --- retries --- */

bool http_status_transient(long st) {
        return st == 408 || st == 429 || st >= 500;
}

static const char *skip_ws(const char *p) {
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

int http_retry_after_parse(const char *value, time_t now, int64_t *ret_ms) {
        const char *p;
        struct tm tm = { 0 };
        char *end;

        if (!value)
                return -EINVAL;
        p = skip_ws(value);
        if (isdigit((unsigned char) *p)) {
                int64_t s = 0;
                for (; isdigit((unsigned char) *p); p++) {
                        s = s * 10 + (*p - '0');
                        if (s > 86400 * 365)
                                s = 86400 * 365;
                }
                if (*skip_ws(p))
                        return -EINVAL;
                *ret_ms = s * 1000;
                return 0;
        }
        end = strptime(p, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || *skip_ws(end))
                return -EINVAL;
        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret_ms = t > now ? (int64_t) (t - now) * 1000 : 0;
        return 0;
}

/* The backoff before attempt + 1 in milliseconds, Retry-After
 * (retry_after_ms >= 0) bounded. */
static int64_t backoff_ms(const struct http *h, unsigned attempt, int64_t retry_after_ms) {
        int64_t ms = h->retry_base_ms;

        for (unsigned i = 0; i < attempt && ms < HTTP_RETRY_CAP_MS; i++)
                ms *= 2;
        ms = MIN(ms, (int64_t) HTTP_RETRY_CAP_MS);
        if (retry_after_ms >= 0)
                ms = MIN(retry_after_ms, (int64_t) HTTP_RETRY_AFTER_MAX_MS);
        return ms;
}

void http_backoff(struct http *h, unsigned attempt, int64_t retry_after_ms) {
        int64_t ms = backoff_ms(h, attempt, retry_after_ms);
        struct timespec ts;

        h->retries++;
        ts.tv_sec = (time_t) (ms / 1000);
        ts.tv_nsec = (long) (ms % 1000) * 1000000;
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

unsigned http_retries(const struct http *h) {
        return h->retries;
}

/* Whether there is time for a wait of ms and another attempt before the
 * deadline (none: always). */
static bool time_left(const struct http *h, int64_t ms) {
        return h->deadline_ms == 0 || mono_now_ms() + ms < h->deadline_ms;
}

static int perform_retry(struct http *h, const struct http_request *rq, struct http_response *rs,
                         struct smith_error **err) {
        unsigned attempts = rq->attempts ? rq->attempts : HTTP_RETRY_ATTEMPTS;

        for (unsigned attempt = 0;; attempt++) {
                bool retryable = false, last = attempt + 1 >= attempts;
                int64_t ra = -1;

                if (rq->reset && rq->reset((struct http_request *) rq, rq->reset_userdata) < 0) {
                        http_response_release(rs);
                        return error_set_errno(err, SMITH_ERR_IO, errno, "%s: start over", rq->method);
                }
                if (perform(h, rq, rs, &retryable, err) < 0) {
                        if (!retryable || last || !time_left(h, backoff_ms(h, attempt, -1))) {
                                http_response_release(rs);
                                return -1;
                        }
                        error_free(TAKE_PTR(*err));
                        http_backoff(h, attempt, -1);
                        continue;
                }
                if (!http_status_transient(rs->status) || last)
                        return 0;
                if (rs->retry_after && http_retry_after_parse(rs->retry_after, time(NULL), &ra) < 0)
                        ra = -1;
                /* a 429 says when to come back; without that, asking again
                 * at once only adds to the load it complains of */
                if ((rs->status == 429 && ra < 0) || !time_left(h, backoff_ms(h, attempt, ra)))
                        return 0;
                http_backoff(h, attempt, ra);
        }
}

int http_perform_retry(struct http *h, const struct http_request *rq, struct http_response *rs,
                       struct smith_error **err) {
        bool own_deadline = h->deadline_ms == 0 && h->timeout_ms > 0;
        int r;

        if (own_deadline)
                h->deadline_ms = mono_now_ms() + h->timeout_ms;
        r = perform_retry(h, rq, rs, err);
        if (own_deadline)
                h->deadline_ms = 0;
        return r;
}
