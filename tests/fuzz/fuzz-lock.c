/* Fuzz target for the smith.lock parser (source/lock.h): any bytes as a
 * lock file.  Errors are expected; crashes, leaks, hangs and overreads
 * (under ASan/UBSan) are the bugs, and so are an error message of more
 * than one line, a lock that parses but does not survive being written and
 * read back unchanged, and a URL lock_url_inside() accepts with a '..'
 * component.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "source/lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const uint8_t *data, size_t size) {
        char *url = strndup((const char *) data, size);

        if (url && lock_url_inside(url, "http://h/r") &&
            (strstr(url, "/../") || strstr(url, "/./") || strstr(url, "//h/r/..") || strstr(url, "%2e") ||
             strstr(url, "%2E") || strchr(url, '?')))
                abort();
        free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct smith_lock *l = NULL, *again = NULL;
        struct smith_error *err = NULL;
        char *text = NULL, *text2 = NULL;

        if (size > LOCK_MAX_FILE)
                return 0;
        check_url(data, size);
        if (lock_parse("fuzz.lock", (const char *) data, size, &l, &err) < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                error_free(err);
                return 0;
        }
        /* what was read writes back, and reads back the same */
        if (lock_to_json(l, &text, &err) < 0 || lock_parse("again.lock", text, strlen(text), &again, &err) < 0 ||
            lock_to_json(again, &text2, &err) < 0 || !streq(text, text2))
                abort();
        free(text);
        free(text2);
        lock_free(l);
        lock_free(again);
        return 0;
}

#include "replay.h"
