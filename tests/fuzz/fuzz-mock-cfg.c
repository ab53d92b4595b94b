/* Fuzz target for the mock configuration reader (config/mock-cfg.h) and
 * the ini parser it hands the repositories to (pkg/rpm-repo.h): any bytes
 * as a mock .cfg file (include()s not followed).  Errors are expected; crashes,
 * leaks, hangs and overreads (under ASan/UBSan) are the bugs, and so are an
 * error message of more than one line and a line map that does not match
 * the repository text.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/strv.h"
#include "config/mock-cfg.h"
#include "pkg/rpm-repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct rpm_vars v = { .basearch = "x86_64", .releasever = "9" };
        struct mock_cfg c = {};
        struct rpm_repos repos = {};
        struct smith_error *err = NULL;
        size_t lines = 0, n_files;
        int r;

        if (size > MOCK_CFG_MAX_FILE)
                return 0;
        r = mock_cfg_parse("fuzz.cfg", (const char *) data, size, false, &c, &err);
        if (r < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                error_free(err);
                return 0;
        }
        if (c.repos) {
                n_files = strv_length(c.files);
                for (size_t i = 0; i < c.repos_len; i++)
                        if (c.repos[i] == '\n' || i + 1 == c.repos_len)
                                lines++;
                if (lines != c.n_lines)
                        abort(); /* one origin per line of the text */
                for (size_t i = 0; i < c.n_lines; i++)
                        if (c.line_file[i] >= n_files || c.line_no[i] == 0 || c.line_no[i] > size + 1)
                                abort();
                if (c.releasever)
                        v.releasever = c.releasever;
                if (c.target_arch)
                        v.basearch = c.target_arch;
                struct rpm_ini_origin o = {
                        .files = c.files, .line_file = c.line_file, .line_no = c.line_no, .n = c.n_lines
                };
                r = rpm_repos_parse_ini_origin("fuzz.cfg", c.repos, c.repos_len, &o, &v, &repos, &err);
                if (r < 0 && (!err || !err->msg || strchr(err->msg, '\n')))
                        abort();
                error_free(err);
                rpm_repos_release(&repos);
        }
        mock_cfg_release(&c);
        return 0;
}

#include "replay.h"
