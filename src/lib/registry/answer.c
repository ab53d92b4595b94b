/* A registry's (or token realm's) error answer as one line: the first of
 * {"errors":[{"code","message"}]}, "message", OAuth2's
 * "error_description" or "error", or "details"; else the status in words. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "registry-internal.h"

static const char *status_text(long status) {
        switch (status) {
        case 400:
                return "bad request";
        case 401:
                return "authentication required";
        case 403:
                return "access denied";
        case 404:
                return "not found";
        case 405:
                return "operation not supported by the registry";
        case 413:
                return "too large for the registry";
        case 416:
                return "range not satisfiable";
        case 429:
                return "too many requests";
        case 500:
                return "internal server error";
        case 502:
                return "bad gateway";
        case 503:
                return "service unavailable";
        case 504:
                return "gateway timeout";
        default:
                return "unexpected answer";
        }
}

char *registry_error_message(const char *body, size_t len, long status) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        const char *msg = NULL;
        _cleanup_free_ char *clean = NULL, *code_text = NULL;
        char *r = NULL;

        if (body && len > 0)
                j = json_loadb(body, len, 0, NULL);
        if (json_is_object(j)) {
                json_t *errors = json_object_get(j, "errors");
                json_t *first = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
                if (json_is_object(first)) {
                        msg = json_string_value(json_object_get(first, "message"));
                        if (isempty(msg)) {
                                const char *code = json_string_value(json_object_get(first, "code"));
                                if (!isempty(code)) {
                                        code_text = strdup(code);
                                        for (char *p = code_text; p && *p; p++)
                                                *p = *p == '_' ? ' '
                                                               : (char) (*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
                                        msg = code_text;
                                }
                        }
                }
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "message"));
                /* OAuth2 (RFC 6749 5.2): the description says more than the code */
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "error_description"));
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "error"));
                if (isempty(msg))
                        msg = json_string_value(json_object_get(j, "details"));
        }
        if (!isempty(msg))
                clean = text_for_msg(msg);
        if (asprintf(&r, "%s (%ld)", clean ? clean : status_text(status), status) < 0)
                r = NULL;
        return r;
}
