/* mock.debuginfo: the debug files of the ELF files the image holds.
 *
 * After the selection, every ELF file copied from the package root with a
 * GNU build-id note names its package; the source installs those
 * packages' -debuginfo packages (and mock.debugdeps) into a second root
 * (source_ops.debuginfo), and from it the plan gains, per build-id,
 * /usr/lib/debug/.build-id/xx/yyyy.debug (the link and the .debug file it
 * points to) and the .build-id/xx/yyyy link, plus mock.debugpaths'
 * patterns.  Debug files are copied as they are: no ELF closure, as the
 * original copied them.  A package without a debuginfo package is a
 * warning; a build-id without a debug file a -v note. */
#pragma once

#include "basic/error.h"
#include "config/config.h"
#include "source/source.h"
#include "tree/plan.h"

int debuginfo_plan(struct plan *plan, struct source *src, const struct smith_config *cfg, struct smith_error **err);
