/* Fuzz target for os_release_value() (pkg/os-release.h): any bytes as an
 * os-release file (outside input: it comes from an image's or a package's
 * root), asked for ID and VERSION_ID as the SBOMs and $releasever do.  A
 * value is never longer than the text and never holds a newline; crashes,
 * leaks and overreads (under ASan/UBSan) are the bugs.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "pkg/os-release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = { "ID", "VERSION_ID", "NAME" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_free_ char *v = os_release_value((const char *) data, size, keys[i]);

                if (v && (strlen(v) > size || strchr(v, '\n')))
                        abort();
        }
        return 0;
}

#include "replay.h"
