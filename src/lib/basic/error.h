/* Errors that carry context up to the top, where main prints them once.
 *
 * A function that can fail takes `struct smith_error **err` as its last
 * argument, returns a negative value on failure and fills *err (which must
 * be NULL on entry).  Callers add context with error_wrap(), so the user
 * reads "extract layer 'sha256:ab..': write 'usr/bin/cat': No space left".
 * The kind maps to the exit code (see error_exit_code()).  The library never
 * prints errors itself. */
#pragma once

#include <stdarg.h>

#include "macro.h"

enum smith_error_kind {
        SMITH_ERR_IO = 1,       /* local I/O and everything not below */
        SMITH_ERR_USAGE = 2,    /* bad command line */
        SMITH_ERR_CONFIG = 3,   /* smith.yaml invalid */
        SMITH_ERR_SOURCE = 4,   /* the package source is missing, bad or hostile */
        SMITH_ERR_REGISTRY = 5, /* talking to a registry failed */
};

struct smith_error {
        enum smith_error_kind kind;
        int errnum; /* errno behind the error, 0 if none */
        char *msg;
};

/* All of these return -1 so callers can `return error_set(...)`.
 * If *err is already set, error_set* keep the first error (and return -1). */
int error_set(struct smith_error **err, enum smith_error_kind kind, const char *fmt, ...) _printf_(3, 4);
/* Appends ": strerror(errnum)"; errnum may be given negative. */
int error_set_errno(struct smith_error **err, enum smith_error_kind kind, int errnum, const char *fmt, ...)
        _printf_(4, 5);
/* Prefixes "context: " to an existing error.  If *err is NULL (a callee
 * returned failure without filling it), creates an SMITH_ERR_IO error. */
int error_wrap(struct smith_error **err, const char *fmt, ...) _printf_(2, 3);
/* "out of memory" (SMITH_ERR_IO): the one way to report ENOMEM. */
int error_oom(struct smith_error **err);
void error_free(struct smith_error *e);
DEFINE_POINTER_CLEANUP(struct smith_error, error_free)

/* Exit code for an error kind: usage 2, config 3, source 4, registry 5, I/O 1. */
int error_exit_code(const struct smith_error *e);

/* Paths in messages: a path from an image or a deep tree may be thousands
 * of bytes, which drowns the message.  path_for_msg() puts p into buf as
 * is when it has at most PATH_FOR_MSG_MAX bytes, else its head and tail
 * with "..." between them (cut at UTF-8 character boundaries), within
 * PATH_FOR_MSG_MAX bytes; control characters become '?'.  Returns buf, or
 * "(none)" for NULL.  PATH_FOR_MSG(p) does the same in a buffer that lives
 * until the end of the enclosing block, for use in an argument list:
 *   error_set(err, SMITH_ERR_SOURCE, "open '%s'", PATH_FOR_MSG(path)); */
#define PATH_FOR_MSG_MAX 120
#define PATH_FOR_MSG_SIZE (PATH_FOR_MSG_MAX + 1)
const char *path_for_msg(const char *p, char buf[static PATH_FOR_MSG_SIZE]);
#define PATH_FOR_MSG(p) path_for_msg((p), (char[PATH_FOR_MSG_SIZE]){ 0 })

/* Text from outside (a server's error message, a library's detail) fit for
 * a one-line message: at most 200 bytes, control characters as spaces.
 * malloc'd; NULL only when memory ran out. */
char *text_for_msg(const char *s);

/* One converter per foreign library, so every foreign error reads the same.
 * Each formats "<what>: <library message>" and returns -1. */
struct archive;
int error_from_archive(struct smith_error **err, enum smith_error_kind kind, struct archive *a, const char *fmt, ...)
        _printf_(4, 5);
