/* Fuzz target for sbom_spdx_expression(): any bytes as an rpm header's
 * License tag (outside input: it comes from the source's rpm database),
 * read as an SPDX license expression.  A result must be made of SPDX's
 * characters, and reading it again must give it back unchanged; crashes,
 * leaks and overreads (under ASan/UBSan) are the bugs.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments (each line of one
 * a tag of its own, then the whole file as one). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "pipeline/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *value) {
        _cleanup_strv_free_ char **refs = NULL, **again_refs = NULL;
        _cleanup_free_ char *expr = NULL, *again = NULL;
        int r = sbom_spdx_expression(value, &refs, &expr);

        if (r < 0)
                return;
        if ((r == 1) != (expr != NULL) || (r == 0 && refs))
                abort();
        for (const char *c = expr; c && *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr(".-+() ", *c)))
                        abort();
        if (expr && (sbom_spdx_expression(expr, &again_refs, &again) != 1 || strcmp(expr, again) != 0 ||
                     strv_length(refs) != strv_length(again_refs)))
                abort();
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
