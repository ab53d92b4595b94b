/* Helpers shared by unit tests that work with temp directories and real
 * tools: a fresh temp dir, asprintf that cannot fail, and running a shell
 * command.  Header-only, for tests; include after <cmocka.h>. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "basic/fs.h"
#include "basic/macro.h"

/* A new directory below $TMPDIR (or /tmp) named <prefix>XXXXXX. */
static inline char *test_tmp_dir(const char *prefix) {
        char *d = NULL;
        const char *base = getenv("TMPDIR");
        assert_int_equal(mkdtemp_in(isempty(base) ? "/tmp" : base, prefix, &d), 0);
        return d;
}

_printf_(1, 2) static inline char *fmt(const char *f, ...) {
        char *s = NULL;
        va_list ap;
        va_start(ap, f);
        assert_true(vasprintf(&s, f, ap) >= 0);
        va_end(ap);
        return s;
}

/* Runs a shell command (paths are the test's own temp dirs, no quoting
 * issues); returns its exit status, printing it when it is not 0. */
static inline int run(const char *cmd) {
        int st = system(cmd);
        assert_true(st != -1);
        if (!WIFEXITED(st))
                return 128;
        if (WEXITSTATUS(st) != 0)
                print_message("command failed (%d): %s\n", WEXITSTATUS(st), cmd);
        return WEXITSTATUS(st);
}
