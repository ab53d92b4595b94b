/* The main() of every fuzz target built without libFuzzer: feeds each file
 * named on the command line to LLVMFuzzerTestOneInput(), so a crash found
 * by fuzzing replays with an ordinary (or sanitizer) build, and `make
 * check` replays seeds.  Include once, at the end of a fuzz target. */
#pragma once

#ifndef SMITH_LIBFUZZER
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "basic/fs.h"

#define FUZZ_REPLAY_MAX_INPUT (64U * 1024U * 1024U)

int main(int argc, char *argv[]) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                _cleanup_free_ char *buf = NULL;
                size_t len;
                int r = read_file_at(AT_FDCWD, argv[i], FUZZ_REPLAY_MAX_INPUT, &buf, &len);

                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return 1;
                }
                LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
        }
        return 0;
}
#endif
