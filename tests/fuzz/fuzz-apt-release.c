/* Fuzz target for Release files: any bytes as an InRelease whose
 * clearsigned text is taken out (apt_clearsigned_text(), as for
 * trusted=yes) and as Release text (apt_release_parse()), every listed
 * path then looked up again.  Errors are expected; crashes, leaks, hangs
 * and overreads (under ASan/UBSan) are the bugs, and so is an error message
 * of more than one line.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "pkg/apt-release.h"
#include "pkg/apt-verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse(const char *text, size_t len) {
        struct apt_release r = {};
        struct smith_error *err = NULL;

        if (apt_release_parse(text, len, &r, &err) < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                error_free(err);
                return;
        }
        for (size_t i = 0; i < r.n_files; i++)
                if (apt_release_find(&r, r.files[i].path) != &r.files[i] || strlen(r.files[i].sha256) != 64)
                        abort();
        apt_release_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = NULL;
        unsigned char *bin = NULL;
        size_t len = 0;

        parse((const char *) data, size);
        if (apt_clearsigned_text((const char *) data, size, &text, &len) == 0) {
                if (len > size)
                        abort();
                parse(text, len);
                free(text);
        }
        if (apt_dearmor((const char *) data, size, &bin, &len) == 0) {
                if (len > size)
                        abort();
                free(bin);
        }
        return 0;
}

#include "replay.h"
