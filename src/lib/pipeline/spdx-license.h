/* The SPDX license list (spdx-license.c): a license or exception
 * identifier as the list spells it.  SPDX matches identifiers without
 * regard to case, so "mit" finds "MIT". */
#pragma once

/* The list's spelling of license id, or NULL when it is not on the list. */
const char *spdx_license_id(const char *id);
/* The same for a license exception ("Classpath-exception-2.0"), the right
 * side of WITH. */
const char *spdx_exception_id(const char *id);
