/* A Debian Packages index on its way into libsolv; see packages-stream.h.
 *
 * repo_add_debpackages() keeps no Size, which bounds every download.  So
 * the decompressed text passes through a cookie stream on its way to
 * libsolv that notes, for every stanza with a Package field, the name and
 * the Size: stanzas are split exactly as libsolv splits them (a newline
 * after a newline; NUL counts as a newline), and libsolv adds one solvable
 * per named stanza in order, so the n-th note belongs to the n-th
 * solvable (checked by name). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <solv/solv_xfopen.h>

#include "basic/fs.h"
#include "basic/macro.h"
#include "pkg/index-read.h"
#include "pkg/packages-stream.h"

#define NOTE_NAME_MAX 256
#define SCAN_RAW_MAX (1u << 16)

/* FNV-1a: the notes only check that the n-th stanza is the n-th solvable. */
uint64_t packages_name_hash(const char *s) {
        uint64_t h = 14695981039346656037ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

/* The fields libsolv keeps that no build reads (summary and description,
 * packager, URL): left out on the way, they are most of what a large
 * index costs in memory and in its saved form.  Whole fields go, their
 * continuation lines with them; blank lines (the stanza ends) always stay,
 * and the scan sees exactly what libsolv sees. */
static const char *const dropped_fields[] = { "description:", "maintainer:", "homepage:" };
#define FIELD_HEAD_MAX 12 /* strlen("description:") */

enum filter_state {
        FILTER_LINE_START,
        FILTER_HEAD, /* the line's first bytes, held until its field is known */
        FILTER_KEEP,
        FILTER_DROP,
};

/* The decompression runs in a thread of its own, ahead of libsolv's
 * parsing: xz and the parser each take about half the time of a large
 * index, and on two cores they overlap.  The thread reads the index
 * through solv_xfopen_fd() and writes the text into a pipe, which the
 * scan reads as before; the pipe is always read to its end, so the thread
 * always finishes.  Nothing more is held than the pipe's buffer. */

#define INFLATE_CHUNK (1u << 17)

struct inflater {
        FILE *in; /* solv_xfopen_fd()'s stream, owned by the thread */
        int out;  /* the pipe's write end, closed by the thread */
        bool failed;
        pthread_t thread;
};

struct packages_stream {
        FILE *in; /* the decompressed text: z's pipe, or the decompressing stream itself */
        struct inflater z;
        bool threaded;
        struct packages_notes notes;
        bool failed;
        uint64_t max, seen; /* decompressed bytes: at most max */
        bool too_large;
        struct index_progress *progress;
        /* the filter */
        enum filter_state fstate;
        bool dropping; /* the field being dropped: its continuation lines go too */
        char head[FIELD_HEAD_MAX];
        size_t head_len;
        char *raw; /* what is read from in, before the filter */
        /* the stanza */
        bool has_name;
        char name[NOTE_NAME_MAX + 1];
        uint64_t size;
        /* the line */
        bool prev_newline, at_line_start;
        char line[NOTE_NAME_MAX + 16];
        size_t line_len;
        bool line_long;
};

static void scan_end_stanza(struct packages_stream *sc) {
        if (sc->has_name && !sc->failed) {
                struct packages_notes *ns = &sc->notes;
                if (ns->n == ns->cap) {
                        size_t c = ns->cap ? ns->cap * 2 : 1024;
                        struct packages_note *n = realloc(ns->v, c * sizeof(*n));
                        if (!n) {
                                sc->failed = true;
                                return;
                        }
                        ns->v = n;
                        ns->cap = c;
                }
                ns->v[ns->n].name = packages_name_hash(sc->name);
                ns->v[ns->n].size = sc->size;
                ns->n++;
        }
        sc->has_name = false;
        sc->size = UINT64_MAX;
}

/* A whole line (its first bytes): Package and Size are all we need. */
static void scan_end_line(struct packages_stream *sc) {
        char *l = sc->line, *v;
        size_t n = sc->line_len;

        l[n] = '\0';
        if (strncasecmp(l, "package:", 8) == 0) {
                v = l + 8 + strspn(l + 8, " \t");
                while (n > (size_t) (v - l) && (l[n - 1] == ' ' || l[n - 1] == '\t'))
                        l[--n] = '\0';
                sc->has_name = true;
                snprintf(sc->name, sizeof(sc->name), "%s", sc->line_long ? "" : v);
        } else if (strncasecmp(l, "size:", 5) == 0 && !sc->line_long) {
                char *end;
                v = l + 5 + strspn(l + 5, " \t");
                errno = 0;
                sc->size = strtoull(v, &end, 10);
                end += strspn(end, " \t");
                if (errno || *end || v[0] < '0' || v[0] > '9')
                        sc->size = UINT64_MAX;
        }
        sc->line_len = 0;
        sc->line_long = false;
}

/* The offset of the first line end ('\n' or NUL) in p, or n. */
static size_t line_end(const char *p, size_t n) {
        const char *nl = memchr(p, '\n', n);
        size_t m = nl ? (size_t) (nl - p) : n;
        const char *z = memchr(p, '\0', m);

        return z ? (size_t) (z - p) : m;
}

static void scan_bytes(struct packages_stream *sc, const char *buf, size_t n) {
        size_t i = 0;

        while (i < n) {
                size_t end = line_end(buf + i, n - i);

                if (end > 0) {
                        /* the line's bytes: its first ones kept, the rest only noted */
                        size_t room = sizeof(sc->line) - 1 - sc->line_len, k = MIN(end, room);

                        memcpy(sc->line + sc->line_len, buf + i, k);
                        sc->line_len += k;
                        if (end > room)
                                sc->line_long = true;
                        sc->prev_newline = false;
                        i += end;
                        if (i == n)
                                break;
                }
                /* buf[i] ends a line */
                scan_end_line(sc);
                if (sc->prev_newline) {
                        scan_end_stanza(sc);
                        sc->prev_newline = false;
                } else
                        sc->prev_newline = true;
                i++;
        }
}

static bool is_dropped_field(const char *head, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(dropped_fields); i++)
                if (strlen(dropped_fields[i]) == n && strncasecmp(head, dropped_fields[i], n) == 0)
                        return true;
        return false;
}

/* Filters n bytes of in into out (room for n + FIELD_HEAD_MAX); returns
 * the bytes written. */
static size_t filter_bytes(struct packages_stream *sc, const char *in, size_t n, char *out) {
        size_t o = 0, i = 0;

        while (i < n) {
                char c = in[i];
                bool end = c == '\n' || c == '\0';

                switch (sc->fstate) {
                case FILTER_LINE_START:
                        if (end) {
                                /* a blank line: the stanza ends */
                                sc->dropping = false;
                                out[o++] = c;
                        } else if (c == ' ' || c == '\t') {
                                sc->fstate = sc->dropping ? FILTER_DROP : FILTER_KEEP;
                                if (!sc->dropping)
                                        out[o++] = c;
                        } else {
                                sc->head[0] = c;
                                sc->head_len = 1;
                                sc->fstate = FILTER_HEAD;
                                if (c == ':') {
                                        sc->dropping = false;
                                        memcpy(out + o, sc->head, sc->head_len);
                                        o += sc->head_len;
                                        sc->fstate = FILTER_KEEP;
                                }
                        }
                        i++;
                        break;
                case FILTER_HEAD:
                        sc->head[sc->head_len++] = c;
                        if (c == ':' && is_dropped_field(sc->head, sc->head_len)) {
                                sc->dropping = true;
                                sc->fstate = FILTER_DROP;
                        } else if (c == ':' || end || sc->head_len == FIELD_HEAD_MAX) {
                                sc->dropping = false;
                                memcpy(out + o, sc->head, sc->head_len);
                                o += sc->head_len;
                                sc->fstate = end ? FILTER_LINE_START : FILTER_KEEP;
                        }
                        i++;
                        break;
                case FILTER_KEEP:
                case FILTER_DROP: {
                        /* the rest of the line, and its end if it is here */
                        size_t k = line_end(in + i, n - i);

                        bool whole = i + k < n;

                        if (whole)
                                k++;
                        if (sc->fstate == FILTER_KEEP) {
                                memcpy(out + o, in + i, k);
                                o += k;
                        }
                        if (whole)
                                sc->fstate = FILTER_LINE_START;
                        i += k;
                        break;
                }
                }
        }
        return o;
}

static ssize_t scan_read(void *cookie, char *buf, size_t size) {
        struct packages_stream *sc = cookie;
        size_t n, o;

        if (size <= FIELD_HEAD_MAX) {
                sc->failed = true;
                return -1;
        }
        do {
                n = fread(sc->raw, 1, MIN(size - FIELD_HEAD_MAX, (size_t) SCAN_RAW_MAX), sc->in);
                if (n == 0 && ferror(sc->in)) {
                        sc->failed = true;
                        return -1;
                }
                sc->seen += n;
                if (sc->seen > sc->max) {
                        /* more than the bound (the size its Release lists): stop here */
                        sc->too_large = sc->failed = true;
                        return -1;
                }
                if (sc->progress)
                        index_progress_add(sc->progress, n);
                if (n == 0 && sc->fstate == FILTER_HEAD) {
                        /* the end, in a line's first bytes: they stay */
                        o = sc->head_len;
                        memcpy(buf, sc->head, o);
                        sc->fstate = FILTER_KEEP;
                } else
                        o = filter_bytes(sc, sc->raw, n, buf);
        } while (o == 0 && n > 0); /* all dropped: 0 would be the end */
        scan_bytes(sc, buf, o);
        return (ssize_t) o;
}

static void *inflate_thread(void *ud) {
        struct inflater *z = ud;
        char *buf = malloc(INFLATE_CHUNK);

        for (;;) {
                size_t n;

                if (!buf) {
                        z->failed = true;
                        break;
                }
                n = fread(buf, 1, INFLATE_CHUNK, z->in);
                if (n > 0 && write_full(z->out, buf, n) < 0) {
                        z->failed = true;
                        break;
                }
                if (n < INFLATE_CHUNK) {
                        if (ferror(z->in))
                                z->failed = true;
                        break;
                }
        }
        free(buf);
        fclose(z->in);
        close(z->out);
        return NULL;
}

/* A stream of the decompressed index: *z started when it returns non-NULL
 * with z->thread set; without a thread (or a pipe), the stream itself. */
static FILE *inflate_open(const char *hint, int fd, struct inflater *z, bool *threaded) {
        int pipefd[2];
        FILE *in = solv_xfopen_fd(hint, fd, "r"), *out;

        *threaded = false;
        if (!in)
                return NULL;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return in;
        (void) fcntl(pipefd[0], F_SETPIPE_SZ, 1 << 20);
        out = fdopen(pipefd[0], "r");
        if (!out) {
                close(pipefd[0]);
                close(pipefd[1]);
                return in;
        }
        *z = (struct inflater){ .in = in, .out = pipefd[1] };
        if (pthread_create(&z->thread, NULL, inflate_thread, z) != 0) {
                fclose(out);
                close(pipefd[1]);
                return in;
        }
        *threaded = true;
        return out;
}

/* Reads the rest, waits for the thread; false when anything failed. */
static bool inflate_close(FILE *f, struct inflater *z, bool threaded) {
        bool ok = !ferror(f);

        if (threaded) {
                char buf[1 << 14];
                while (fread(buf, 1, sizeof(buf), f) > 0)
                        ;
                ok = ok && !ferror(f);
                pthread_join(z->thread, NULL);
                ok = ok && !z->failed;
        }
        fclose(f);
        return ok;
}

int packages_stream_open(int fd, const char *hint, uint64_t max, struct index_progress *progress,
                         struct packages_stream **ret, FILE **ret_f) {
        cookie_io_functions_t io = { .read = scan_read };
        _cleanup_free_ struct packages_stream *sc = calloc(1, sizeof(*sc));
        _cleanup_free_ char *raw = malloc(SCAN_RAW_MAX);

        if (!sc || !raw) {
                close(fd);
                return -ENOMEM;
        }
        sc->size = UINT64_MAX;
        sc->max = max;
        sc->progress = progress;
        sc->in = inflate_open(hint, fd, &sc->z, &sc->threaded);
        if (!sc->in) {
                close(fd);
                return -EINVAL;
        }
        sc->raw = raw;
        *ret_f = fopencookie(sc, "r", io);
        if (!*ret_f) {
                inflate_close(sc->in, &sc->z, sc->threaded);
                return -ENOMEM;
        }
        TAKE_PTR(raw);
        *ret = TAKE_PTR(sc);
        return 0;
}

bool packages_stream_close(struct packages_stream *sc, FILE *f, struct packages_notes *ret, bool *ret_too_large) {
        bool ok;

        fclose(f);
        if (!inflate_close(sc->in, &sc->z, sc->threaded))
                sc->failed = true;
        scan_end_line(sc);
        scan_end_stanza(sc);
        ok = !sc->failed;
        *ret = sc->notes;
        if (ret_too_large)
                *ret_too_large = sc->too_large;
        free_many(sc->raw, sc);
        return ok;
}
