/* Phase progress on a TTY; see progress.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "progress.h"

#define INTERVAL_MS 200
#define MAX_PHASES 16

static bool quiet;
static int tty = -1; /* unknown yet */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
        const char *name;
        uint64_t total;
        _Atomic uint64_t done;
        int64_t start_ms;
        _Atomic int64_t last_ms;
        bool active, printed;
} phase;

static struct {
        const char *name;
        int64_t ms;
} done_phases[MAX_PHASES];
static size_t n_done;
static int64_t first_ms = -1;

static int64_t now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool on(void) {
        if (tty < 0)
                tty = isatty(STDERR_FILENO) == 1;
        return tty && !quiet;
}

void progress_set_quiet(bool q) {
        quiet = q;
        if (first_ms < 0)
                first_ms = now_ms(); /* the build starts: the summary counts from here */
}

bool progress_quiet(void) {
        return quiet;
}

static void human(double bytes, char *buf, size_t len) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (bytes >= 1024 && u + 1 < ELEMENTSOF(units)) {
                bytes /= 1024;
                u++;
        }
        snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

void progress_start(const char *name, uint64_t total) {
        pthread_mutex_lock(&lock);
        phase.name = name;
        phase.total = total;
        atomic_store(&phase.done, 0);
        phase.start_ms = now_ms();
        atomic_store(&phase.last_ms, phase.start_ms);
        phase.active = true;
        phase.printed = false;
        if (first_ms < 0)
                first_ms = phase.start_ms;
        pthread_mutex_unlock(&lock);
}

void progress_add(uint64_t n) {
        int64_t now, last;
        uint64_t done;
        char a[32], b[32], r[32], eta[32] = "";
        double rate;

        if (!phase.active)
                return;
        done = atomic_fetch_add(&phase.done, n) + n;
        if (!on() || phase.total == 0)
                return;
        now = now_ms();
        last = atomic_load(&phase.last_ms);
        if (now - last < INTERVAL_MS || !atomic_compare_exchange_strong(&phase.last_ms, &last, now))
                return;
        if (pthread_mutex_trylock(&lock) != 0)
                return;
        rate = now > phase.start_ms ? (double) done * 1000.0 / (double) (now - phase.start_ms) : 0;
        human((double) done, a, sizeof(a));
        human((double) phase.total, b, sizeof(b));
        human(rate, r, sizeof(r));
        if (rate > 0 && done < phase.total)
                snprintf(eta, sizeof(eta), "  ETA %.0f s", (double) (phase.total - done) / rate);
        flockfile(stderr);
        fprintf(stderr, "\r%-7s %s / %s  %s/s%s\033[K", phase.name, a, b, r, eta);
        fflush(stderr);
        funlockfile(stderr);
        phase.printed = true;
        pthread_mutex_unlock(&lock);
}

void progress_stop(void) {
        pthread_mutex_lock(&lock);
        if (phase.active) {
                if (phase.printed) {
                        fputs("\r\033[K", stderr);
                        fflush(stderr);
                }
                if (n_done < MAX_PHASES) {
                        done_phases[n_done].name = phase.name;
                        done_phases[n_done].ms = now_ms() - phase.start_ms;
                        n_done++;
                }
        }
        phase.active = phase.printed = false;
        pthread_mutex_unlock(&lock);
}

void progress_summary(const char *what) {
        char line[512];
        size_t len;

        if (!on() || first_ms < 0)
                return;
        len = (size_t) snprintf(line, sizeof(line), "smith: %s in %.1f s", what,
                                (double) (now_ms() - first_ms) / 1000.0);
        for (size_t i = 0; i < n_done && len < sizeof(line); i++)
                len += (size_t) snprintf(line + len, sizeof(line) - len, "%s%s %.1f s", i == 0 ? " (" : ", ",
                                         done_phases[i].name, (double) done_phases[i].ms / 1000.0);
        if (n_done > 0 && len < sizeof(line))
                snprintf(line + len, sizeof(line) - len, ")");
        fprintf(stderr, "%s\n", line);
}
