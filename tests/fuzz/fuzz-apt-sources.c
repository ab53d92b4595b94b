/* Fuzz target for the apt sources parsers: any bytes as a sources.list
 * (one-line form) and as a deb822 .sources file.  Errors are expected;
 * crashes, leaks, hangs and overreads (under ASan/UBSan) are the bugs, and
 * so is an error message of more than one line.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "pkg/apt-sources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, struct smith_error *err, const struct apt_sources *s) {
        if (r < 0 && (!err || !err->msg || strchr(err->msg, '\n')))
                abort(); /* every error is one line */
        for (size_t i = 0; r == 0 && i < s->n; i++)
                if (!s->items[i].uri || !s->items[i].suite || !s->items[i].where)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct apt_sources s = {};
        struct smith_error *err = NULL;
        int r;

        if (size > APT_SOURCES_MAX_FILE)
                return 0;
        r = apt_sources_parse_list("fuzz.list", (const char *) data, size, &s, &err);
        check(r, err, &s);
        error_free(err);
        err = NULL;
        apt_sources_release(&s);
        r = apt_sources_parse_deb822("fuzz.sources", (const char *) data, size, &s, &err);
        check(r, err, &s);
        error_free(err);
        apt_sources_release(&s);
        return 0;
}

#include "replay.h"
