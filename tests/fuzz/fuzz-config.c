/* Fuzz target for config_parse(): any bytes as smith.yaml.  Errors are
 * expected; crashes, leaks, hangs and overreads (under ASan/UBSan) are the
 * bugs.  A successful parse is also serialised as the spec JSON.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/fs.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(config_freep) struct smith_config *c = NULL;
        _cleanup_free_ char *json = NULL;
        size_t len;

        if (config_parse("fuzz.yaml", (const char *) data, size, &c, &err) < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                return 0;
        }
        if (config_to_spec_json(c, &json, &len, &err) < 0)
                abort();
        return 0;
}

#include "replay.h"
