/* Warnings and verbose notes on stderr; see log.h.  Each line is written
 * under stderr's lock, so lines from threads (repositories are loaded in
 * parallel) never run into each other. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "progress.h"

static bool verbose;

void log_set_verbose(bool v) {
        verbose = v;
}

bool log_is_verbose(void) {
        return verbose;
}

void log_warn(const char *fmt, ...) {
        va_list ap;
        if (progress_quiet())
                return; /* -q: errors only */
        va_start(ap, fmt);
        flockfile(stderr);
        fputs("smith: warning: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        funlockfile(stderr);
        va_end(ap);
}

void log_info(const char *fmt, ...) {
        va_list ap;
        if (!verbose)
                return;
        va_start(ap, fmt);
        flockfile(stderr);
        fputs("smith: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        funlockfile(stderr);
        va_end(ap);
}
