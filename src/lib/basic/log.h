/* Warnings and verbose notes.  Errors are never printed here: they travel
 * up as smith_error and main prints them once.  Warnings (a missing library,
 * a skipped device node) go to stderr as "smith: warning: ..."; notes only
 * with -v. */
#pragma once

#include <stdbool.h>

#include "macro.h"

void log_set_verbose(bool v);
bool log_is_verbose(void);
void log_warn(const char *fmt, ...) _printf_(1, 2);
void log_info(const char *fmt, ...) _printf_(1, 2); /* only with -v */
