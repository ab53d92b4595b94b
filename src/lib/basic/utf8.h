/* UTF-8 checked the way jansson checks it before it takes a string: no
 * overlong forms, no surrogates, nothing past U+10FFFF.  Strings from
 * images and package headers are checked before they go into a JSON
 * document, so that one bad byte cannot fail the whole document. */
#pragma once

#include <stdbool.h>

/* s is valid UTF-8; with printable, also free of the C0 and C1 controls
 * and DEL. */
bool utf8_valid(const char *s, bool printable);
