/* The referrers API's answer, every page of it (OCI distribution 1.1): a
 * registry may split the index of an image's referrers into pages, each
 * pointing to the next with `Link: <url>; rel="next"` as tag lists do.
 *
 * The pages are followed on the registry's own origin only (a relative
 * link resolved against the URL asked; one to another host, or from https
 * to http, is not followed, with a warning: credentials go nowhere else),
 * at most REGISTRY_REFERRERS_MAX_PAGES of them, never one twice (a loop is
 * an error), all of them together within REGISTRY_MAX_MANIFEST bytes and
 * OCI_REFERRERS_MAX artifacts.  What comes out is one index listing every
 * page's entries in order, each digest once, which pull.c checks as it
 * checks a single answer. */
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "oci/media.h"
#include "oci/referrers.h"
#include "registry-internal.h"

int registry_get_listing(struct registry_client *c, const char *url, size_t max, char **ret_body, size_t *ret_len,
                         long *ret_status, char **ret_next, struct smith_error **err) {
        _cleanup_http_response_ struct http_response rs = { 0 };
        _cleanup_(json_decrefp) json_t *j = NULL;

        if (registry_get_document(c, url, "Accept: " OCI_MT_INDEX, max, &rs, err) < 0)
                return -1;
        *ret_status = rs.status;
        if (rs.status != 200)
                return 0;
        j = json_loadb(rs.body ? rs.body : "", rs.body_len, 0, NULL);
        if (!json_is_array(json_object_get(j, "manifests")))
                return 0;
        if (ret_next)
                *ret_next = rs.link ? http_link_target(rs.link, "next") : NULL;
        *ret_body = rs.body ? TAKE_PTR(rs.body) : strdup("");
        *ret_len = rs.body_len;
        return *ret_body ? 1 : error_oom(err);
}

/* Appends page's entries that all does not list yet. */
static int merge(json_t *all, json_t *page, struct smith_error **err) {
        size_t i, k;
        json_t *e, *o;

        json_array_foreach(page, i, e) {
                const char *dg = json_string_value(json_object_get(e, "digest"));
                bool seen = false;

                json_array_foreach(all, k, o) if (streq(json_string_value(json_object_get(o, "digest")), dg)) seen =
                        true;
                if (seen)
                        continue;
                if (json_array_size(all) >= OCI_REFERRERS_MAX)
                        return error_set(err, SMITH_ERR_REGISTRY, "referrers: more than %u artifacts",
                                         OCI_REFERRERS_MAX);
                if (json_array_append(all, e) < 0)
                        return error_oom(err);
        }
        return 0;
}

/* The page after the one at url, resolved against it: NULL (and a
 * warning) when it is not on the registry's origin. */
static char *next_url(struct registry_client *c, const char *url, const char *link) {
        _cleanup_free_ char *next = http_url_resolve(url, link), *origin = next ? http_url_origin(next) : NULL;
        _cleanup_free_ char *shown = next ? url_redact(next) : NULL;

        if (!origin || !streq(origin, c->origin)) {
                log_warn("referrers: the next page is not on '%s' ('%s'): not followed, the artifacts of the pages "
                         "before are kept",
                         c->origin, shown ? shown : "not an http(s) URL");
                return NULL;
        }
        return TAKE_PTR(next);
}

int registry_referrers_get(struct registry_client *c, const char *url, char **ret_body, size_t *ret_len,
                           long *ret_status, struct smith_error **err) {
        _cleanup_(json_decrefp) json_t *all = json_array(), *index = NULL;
        _cleanup_strv_free_ char **asked = NULL;
        _cleanup_free_ char *at = strdup(url);
        size_t budget = REGISTRY_MAX_MANIFEST;
        char *text;

        if (!all || !at)
                return error_oom(err);
        for (unsigned page = 0; at; page++) {
                _cleanup_free_ char *body = NULL, *link = NULL, *next = NULL;
                _cleanup_(json_decrefp) json_t *list = NULL;
                size_t len = 0;
                long status = 0;
                int q;

                if (page >= REGISTRY_REFERRERS_MAX_PAGES)
                        return error_set(err, SMITH_ERR_REGISTRY, "referrers: more than %u pages",
                                         REGISTRY_REFERRERS_MAX_PAGES);
                if (strv_contains(asked, at))
                        return error_set(err, SMITH_ERR_REGISTRY, "referrers: page %u links back to a page read before",
                                         page);
                if (strv_extend(&asked, at) < 0)
                        return error_oom(err);
                q = registry_get_listing(c, at, budget, &body, &len, &status, &link, err);
                if (q < 0)
                        return -1;
                if (q == 0 && page == 0) {
                        *ret_status = status; /* no referrers API: the caller tries the tag */
                        return 0;
                }
                if (q == 0) {
                        /* a page missing would lose artifacts without a word */
                        _cleanup_free_ char *m = registry_error_message(NULL, 0, status);
                        return error_set(err, SMITH_ERR_REGISTRY, "referrers: page %u: %s", page + 1,
                                         status == 200 ? "not an image index"
                                         : m           ? m
                                                       : "failed");
                }
                budget -= len < budget ? len : budget;
                if (oci_referrers_index_parse(body, len, "referrers", SMITH_ERR_REGISTRY, &list, err) < 0 ||
                    merge(all, list, err) < 0)
                        return -1;
                if (c->verbose)
                        log_info("referrers: page %u, %zu artifacts", page + 1, json_array_size(list));
                next = link ? next_url(c, at, link) : NULL;
                free(at);
                at = TAKE_PTR(next);
                if (at && budget == 0)
                        return error_set(err, SMITH_ERR_REGISTRY, "referrers: the pages are larger than %u bytes",
                                         REGISTRY_MAX_MANIFEST);
        }
        index = json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests", all);
        text = index ? json_dumps(index, JSON_COMPACT) : NULL;
        if (!text)
                return error_oom(err);
        *ret_status = 200;
        *ret_body = text;
        *ret_len = strlen(text);
        return 1;
}
