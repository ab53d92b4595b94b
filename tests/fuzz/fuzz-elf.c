/* Fuzz target for elf_read() and elf_read_debugaltlink(): the input becomes the contents of a memfd,
 * which is parsed as an ELF file.  Errors are expected; crashes, leaks and
 * overreads (under ASan/UBSan) are the bugs we look for.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments, so a crash found
 * in CI can be reproduced with an ordinary build:
 *   fuzz-elf crash-0123abcd */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fs.h"
#include "elf/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_close_ int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);
        struct elf_info info = {};
        char *alt = NULL;

        if (fd < 0 || write_full(fd, data, size) < 0)
                abort();
        if (elf_read(fd, "fuzz", &info, &err) == 0)
                elf_info_release(&info);
        error_free(TAKE_PTR(err));
        (void) elf_read_debugaltlink(fd, "fuzz", &alt, &err);
        free(alt);
        return 0;
}

#include "replay.h"
