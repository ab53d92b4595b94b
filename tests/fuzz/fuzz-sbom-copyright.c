/* Fuzz target for sbom_copyright_license(): any bytes as a package's
 * /usr/share/doc/<pkg>/copyright (outside input: it comes from the source
 * root), turned into the SPDX license expression the SBOMs declare.  A
 * result must be made of SPDX ids and LicenseRefs of SPDX's characters
 * only; crashes, leaks and overreads (under ASan/UBSan) are the bugs.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "pipeline/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool id_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **refs = NULL;
        _cleanup_free_ char *expr = sbom_copyright_license((const char *) data, size, &refs);

        for (const char *c = expr; c && *c; c++)
                if (!id_char(*c) && !strchr(" ()+", *c))
                        abort();
        for (size_t i = 0; refs && refs[i]; i++) {
                if (strncmp(refs[i], "LicenseRef-", 11) != 0 || !refs[i][11])
                        abort();
                for (const char *c = refs[i] + 11; *c; c++)
                        if (!id_char(*c))
                                abort();
                if (!expr || !strstr(expr, refs[i]))
                        abort(); /* a ref nobody uses */
        }
        return 0;
}

#include "replay.h"
