/* os-release(5), read for one value: the distribution's ID and VERSION_ID
 * name the purls of an SBOM (pipeline/sbom.c) and $releasever of an RPM
 * host (rpm-repo.c).  The text may come from an image or a package: it is
 * read as bytes, bounded by its length, and nothing in it is run or
 * expanded (a value's shell escapes are left as they are). */
#pragma once

#include <stddef.h>

/* The value of the first KEY= line of text (len bytes), without the one
 * pair of quotes around it; NULL when there is none or memory ran out. */
char *os_release_value(const char *text, size_t len, const char *key);
