/* smith.yaml's mock.pre-build and mock.post-build: programs run on the
 * build machine around the package install, as the original ran them
 * around `mock --install`.
 *
 * Each is one program, run directly (posix_spawn, so execve: no shell, no
 * arguments), found on PATH when its name has no '/', else relative to the
 * build directory, which is also its working directory (the original ran
 * it from there).  It inherits smith's environment, standard streams and
 * user; the post-build program also gets SMITH_ROOT, the absolute path of
 * the installed package root (the cached root smith selects the image's
 * files from: it is shared by every build of the same packages, so the
 * program must only read it).  A program that cannot be started, exits
 * non-zero or is killed fails the build (SMITH_ERR_SOURCE), before
 * anything is written. */
#pragma once

#include "basic/error.h"
#include "source.h"

/* what: "pre-build" or "post-build" (messages say "mock.pre-build 'prog'");
 * root: SMITH_ROOT for the program, or NULL. */
int mock_hook_run(const char *what, const char *prog, const struct source_ctx *ctx, const char *root,
                  struct smith_error **err);
