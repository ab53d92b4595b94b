/* Reading bounded numbers from the environment; see env.h. */
#include <errno.h>
#include <stdlib.h>

#include "env.h"
#include "macro.h"

int64_t env_int(const char *name, int64_t def, int64_t min, int64_t max) {
        const char *v = getenv(name);
        char *end;
        long long n;

        if (isempty(v))
                return def;
        errno = 0;
        n = strtoll(v, &end, 10);
        if (errno || *end || n < min || n > max)
                return def;
        return n;
}
