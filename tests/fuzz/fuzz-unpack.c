/* Fuzz target for layer_unpack(): any bytes as a layer blob (gzip, zstd or
 * plain tar, by magic), unpacked into a fresh root inside a fresh parent
 * directory.  The blob's own sha256 and size are given as its descriptor
 * so extraction runs to the end; the diff_id never matches, so every run
 * ends in an error, which is expected.  A bug is a crash, a leak, an
 * overread, or anything appearing in the parent beside the root: an
 * escape.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fs.h"
#include "basic/hash.h"
#include "layer/unpack.h"
#include "fuzz-escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_free_ char *parent = NULL, *root = NULL;
        _cleanup_close_ int blob = memfd_create("fuzz-unpack", MFD_CLOEXEC), root_fd = -1;
        struct layer_ref layer = { .size = (int64_t) size, .media_type = (char *) "fuzz" };
        struct unpack_opts o = {};
        const char *tmp = getenv("TMPDIR");

        if (blob < 0 || write_full(blob, data, size) < 0 || lseek(blob, 0, SEEK_SET) != 0)
                abort();
        sha256_digest_of(data, size, layer.digest);
        sha256_digest_of("", 0, layer.diff_id);
        if (mkdtemp_in(tmp && *tmp ? tmp : "/tmp", "smith-fuzz-unpack-", &parent) < 0)
                abort();
        root = path_join(parent, "root");
        if (!root || mkdir(root, 0755) < 0)
                abort();
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                abort();
        (void) layer_unpack(root_fd, blob, &layer, &o, NULL, &err);
        fuzz_check_alone(parent);
        if (rm_rf_at(AT_FDCWD, parent) < 0)
                abort();
        return 0;
}

#include "replay.h"
