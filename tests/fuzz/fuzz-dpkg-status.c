/* Fuzz target for dpkg_status_parse(): any bytes as a dpkg status file (or
 * one distroless status.d file, chosen by the first byte) read from a
 * source root (outside input).  Errors are expected and must be one line;
 * crashes, leaks and overreads (under ASan/UBSan) are the bugs.  Every
 * package parsed must have dpkg's characters in the names its files are
 * made from, and its stanza must say it is installed.
 *
 * Built with -fsanitize=fuzzer -DSMITH_LIBFUZZER it is a libFuzzer target;
 * without, main() replays the files given as arguments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "pkg/dpkg-db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct dpkg_package *pkgs = NULL;
        bool status_d = size > 0 && (data[0] & 1) && data[0] != 'P';
        size_t n = 0;

        if (dpkg_status_parse((const char *) data, size, status_d, &pkgs, &n, &err) < 0) {
                if (!err || !err->msg || strchr(err->msg, '\n'))
                        abort(); /* every error is one line */
                return 0;
        }
        for (size_t i = 0; i < n; i++) {
                const struct dpkg_package *p = &pkgs[i];
                if (!p->name || !p->info_name || !p->source || !p->stanza || strchr(p->info_name, '/') ||
                    !strstr(p->stanza, "install ok installed") || p->stanza[strlen(p->stanza) - 1] != '\n')
                        abort();
                if (i > 0 && strcmp(pkgs[i - 1].info_name, p->info_name) >= 0)
                        abort(); /* sorted, unique */
        }
        dpkg_packages_free(pkgs, n);
        return 0;
}

#include "replay.h"
