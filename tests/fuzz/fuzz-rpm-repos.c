/* Fuzz target for yum's .repo parser (pkg/rpm-repo.h) and the $variable
 * expansion: any bytes as a .repo file.  Errors are expected; crashes,
 * leaks, hangs and overreads (under ASan/UBSan) are the bugs, and so is an
 * error message of more than one line or a repository missing its id or
 * baseurl.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "pkg/rpm-repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const struct rpm_vars v = { .basearch = "x86_64", .releasever = "9" };
        struct rpm_repos s = {};
        struct smith_error *err = NULL;
        char *text, *expanded;
        int r;

        if (size > RPM_REPOS_MAX_FILE)
                return 0;
        r = rpm_repos_parse_ini("fuzz.repo", (const char *) data, size, &v, &s, &err);
        if (r < 0 && (!err || !err->msg || strchr(err->msg, '\n')))
                abort(); /* every error is one line */
        for (size_t i = 0; r == 0 && i < s.n; i++)
                if (!s.items[i].id || !s.items[i].baseurl || !s.items[i].where || strchr(s.items[i].baseurl, '$'))
                        abort();
        error_free(err);
        rpm_repos_release(&s);

        text = strndup((const char *) data, size);
        if (text) {
                expanded = rpm_expand_vars(text, &v);
                free(expanded);
                free(text);
        }
        return 0;
}

#include "replay.h"
