/* Fuzz target for provenance_parse(): any bytes as the provenance blob
 * read back from an image (outside input).  Errors are expected and must
 * be one line; crashes, leaks and overreads (under ASan/UBSan) are the
 * bugs.  A parsed blob is also looked up and every reason put in words.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "tree/provenance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(provenance_freep) struct provenance *pv = NULL;

        if (provenance_parse((const char *) data, size, &pv, &err) < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                return 0;
        }
        for (size_t i = 0; i < pv->n; i++) {
                char *t = plan_reason_text(&pv->records[i].why, pv->config);
                if (!t || provenance_find(pv, pv->records[i].path) != &pv->records[i])
                        abort();
                free(t);
        }
        return 0;
}

#include "replay.h"
