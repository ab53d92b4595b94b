/* Fuzz target for docker_manifest_parse(): any bytes as a docker-archive's
 * manifest.json.  A bug is a crash, a leak or an overread; when it parses,
 * every name it gives back must be a non-empty string.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/strv.h"
#include "oci/docker_archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *config = NULL, *tag = NULL, **layers = NULL;
        struct smith_error *err = NULL;

        if (docker_manifest_parse((const char *) data, size, &config, &layers, &tag, &err) == 0) {
                if (!config || !*config)
                        abort();
                for (size_t i = 0; layers && layers[i]; i++)
                        if (!*layers[i])
                                abort();
                if (tag && !*tag)
                        abort();
        } else if (!err)
                abort();
        free(config);
        free(tag);
        strv_free(layers);
        error_free(err);
        return 0;
}

#include "replay.h"
