/* Settings read from the environment: numbers with bounds, where a value
 * that does not parse or is out of range means the default (these are
 * knobs for tests and operators, not user input worth an error). */
#pragma once

#include <stdint.h>

/* The integer in $name when it is one in [min, max], else def. */
int64_t env_int(const char *name, int64_t def, int64_t min, int64_t max);
