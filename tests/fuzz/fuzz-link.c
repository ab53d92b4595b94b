/* Fuzz target for the Link header of a registry's answer (outside input:
 * the referrers API's pages point to the next one with it): any bytes as
 * the header's value, its "next" target taken with http_link_target() and
 * resolved against the URL asked with http_url_resolve(), whose origin
 * http_url_origin() then gives, as registry/referrers-pages.c does.  A
 * target never holds the '<' or '>' around it, and a resolved URL is
 * http(s) with an origin; crashes, leaks and overreads (under ASan/UBSan)
 * are the bugs.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments (each line of one
 * a header value of its own, then the whole file as one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/macro.h"
#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *value) {
        static const char *const rels[] = { "next", "prev", "NEXT" };

        for (size_t i = 0; i < ELEMENTSOF(rels); i++) {
                _cleanup_free_ char *target = http_link_target(value, rels[i]), *url = NULL, *origin = NULL;

                if (!target)
                        continue;
                if (strpbrk(target, "<>"))
                        abort();
                url = http_url_resolve("https://registry.example:5000/v2/t/cat/referrers/sha256:00?n=1", target);
                if (!url)
                        continue;
                if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
                        abort();
                origin = http_url_origin(url);
                (void) origin;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = strndup((const char *) data, size);

        if (!s)
                return 0;
        one(s);
        for (char *l = s, *eol; l; l = eol ? eol + 1 : NULL) {
                eol = strchr(l, '\n');
                if (eol)
                        *eol = '\0';
                one(l);
        }
        return 0;
}

#include "replay.h"
