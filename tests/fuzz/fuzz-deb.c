/* Fuzz target for the .deb reader (pkg/deb.h): any bytes as a .deb file,
 * its control file read, its data tar decompressed ahead and unpacked into
 * a fresh root inside a fresh parent directory, with small limits.  A bug
 * is a crash, a leak, an overread, or anything appearing in the parent
 * beside the root: an escape.
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
#include "basic/strv.h"
#include "layer/reader.h"
#include "pkg/deb.h"
#include "fuzz-escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct unpack_limits limits = { .max_unpacked = 64 << 20, .max_entry = 16 << 20 };
        _cleanup_free_ char *parent = NULL, *root = NULL, *control = NULL;
        _cleanup_close_ int fd = memfd_create("fuzz-deb", MFD_CLOEXEC), tar = memfd_create("fuzz-deb-tar", MFD_CLOEXEC),
                            root_fd = -1;
        struct smith_error *err = NULL;
        const char *tmp = getenv("TMPDIR");
        char **paths = NULL;
        uint64_t used = 0;
        size_t len = 0;

        if (fd < 0 || tar < 0 || write_full(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        if (deb_read_control(fd, &control, &len, &err) == 0 && strlen(control) != len)
                abort();
        error_free(TAKE_PTR(err));
        if (mkdtemp_in(tmp && *tmp ? tmp : "/tmp", "smith-fuzz-deb-", &parent) < 0)
                abort();
        root = path_join(parent, "root");
        if (!root || mkdir(root, 0755) < 0)
                abort();
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 || lseek(fd, 0, SEEK_SET) != 0)
                abort();
        /* ahead, as a build with several packages does, then from the file itself */
        if (deb_data_decompress(fd, 32 << 20, tar) == 0 && lseek(fd, 0, SEEK_SET) == 0)
                (void) deb_unpack_tar(root_fd, fd, tar, 32 << 20, &limits, &used, &paths, &err);
        error_free(TAKE_PTR(err));
        strv_free(TAKE_PTR(paths));
        if (lseek(fd, 0, SEEK_SET) != 0)
                abort();
        used = 0;
        (void) deb_unpack(root_fd, fd, 32 << 20, &limits, &used, &paths, &err);
        error_free(err);
        strv_free(paths);
        fuzz_check_alone(parent);
        if (rm_rf_at(AT_FDCWD, parent) < 0)
                abort();
        return 0;
}

#include "replay.h"
