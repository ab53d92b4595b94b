/* One value of an os-release file; see os-release.h. */
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "pkg/os-release.h"

char *os_release_value(const char *text, size_t len, const char *key) {
        size_t kl = strlen(key);

        for (const char *l = text, *end = text + len; l < end;) {
                const char *eol = memchr(l, '\n', (size_t) (end - l));
                size_t n = eol ? (size_t) (eol - l) : (size_t) (end - l);

                if (n > kl && strneq(l, key, kl) && l[kl] == '=') {
                        const char *v = l + kl + 1;
                        size_t vn = n - kl - 1;

                        if (vn > 0 && (v[0] == '"' || v[0] == '\'')) {
                                const char *q = memchr(v + 1, v[0], vn - 1);
                                vn = q ? (size_t) (q - v - 1) : vn - 1;
                                v++;
                        }
                        return strndup(v, vn);
                }
                l += n + 1;
        }
        return NULL;
}
