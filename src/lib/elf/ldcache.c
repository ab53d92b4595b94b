/* Reading a root's /etc/ld.so.cache, the index ldconfig writes and ld.so
 * consults before the default directories.
 *
 * glibc has written three layouts over the years: the old "ld.so-1.7.0"
 * table alone, that table followed (at the next 4- or 8-byte boundary) by
 * the new "glibc-ld.so.cache1.1" table, and the new table alone (the default
 * since glibc 2.32).  When a new table is present glibc uses only it, and so
 * do we.  String offsets are relative to the start of the new table, or for
 * an old-only file to the end of the old entry array.  A foreign root's
 * cache is in its own byte order: the new header says which, the old one is
 * recognised by which order gives a plausible entry count.  Every count and
 * offset is checked against the buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "elf.h"

#define CACHE_MAGIC_OLD "ld.so-1.7.0"
#define CACHE_MAGIC_NEW "glibc-ld.so.cache1.1"
#define OLD_HEADER_SIZE 16U /* magic[11], pad, uint32 nlibs */
#define OLD_ENTRY_SIZE 12U  /* int32 flags, uint32 key, value */
#define NEW_HEADER_SIZE 48U /* magic+version[20], nlibs, len_strings, flags, pad[3], ext, unused[3] */
#define NEW_ENTRY_SIZE 24U  /* flags, key, value, osversion, uint64 hwcap */
#define NEW_FLAGS_ENDIAN_MASK 3U
#define NEW_FLAGS_LITTLE 2U
#define NEW_FLAGS_BIG 3U

struct cache_buf {
        const uint8_t *p;
        size_t size;
        bool big; /* byte order of the cache */
        const char *name;
};

static uint32_t rd32(const struct cache_buf *b, size_t off) {
        const uint8_t *q = b->p + off;
        if (b->big)
                return ((uint32_t) q[0] << 24) | ((uint32_t) q[1] << 16) | ((uint32_t) q[2] << 8) | q[3];
        return ((uint32_t) q[3] << 24) | ((uint32_t) q[2] << 16) | ((uint32_t) q[1] << 8) | q[0];
}

static uint64_t rd64(const struct cache_buf *b, size_t off) {
        uint64_t x = rd32(b, off), y = rd32(b, off + 4);
        return b->big ? (x << 32) | y : (y << 32) | x;
}

static bool host_is_big(void) {
        const uint16_t one = 1;
        return *(const uint8_t *) &one == 0;
}

/* The string at base + off, which must be NUL-terminated inside the buffer
 * and not longer than a path may be. */
static int cache_string(const struct cache_buf *b, size_t base, uint32_t off, char **ret, struct smith_error **err) {
        size_t start, max;
        const char *s;
        size_t len;

        if (base > b->size || off >= b->size - base)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string offset %u outside the file", b->name, off);
        start = base + off;
        s = (const char *) b->p + start;
        max = MIN(b->size - start, (size_t) ELF_MAX_STRING + 1);
        len = strnlen(s, max);
        if (len == max)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string at offset %u not terminated", b->name, off);
        *ret = strndup(s, len);
        if (!*ret)
                return error_oom(err);
        return 0;
}

static int add_entries(struct ld_cache *c, const struct cache_buf *b, size_t table, uint32_t n, size_t entsize,
                       size_t strbase, struct smith_error **err) {
        c->entries = calloc(n > 0 ? n : 1, sizeof(struct ld_cache_entry));
        if (!c->entries)
                return error_oom(err);
        for (uint32_t i = 0; i < n; i++) {
                size_t e = table + (size_t) i * entsize;
                struct ld_cache_entry *ce = &c->entries[c->n_entries];
                int r;

                ce->flags = (int32_t) rd32(b, e);
                if (entsize == NEW_ENTRY_SIZE)
                        ce->hwcap = rd64(b, e + 16);
                c->n_entries++;
                r = cache_string(b, strbase, rd32(b, e + 4), &ce->name, err);
                if (r < 0)
                        return r;
                r = cache_string(b, strbase, rd32(b, e + 8), &ce->path, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Checks the new header at off; on success leaves the byte order in *b. */
static bool new_header_at(struct cache_buf *b, size_t off, uint32_t *ret_n) {
        uint8_t order;
        uint32_t n;

        if (off > b->size || b->size - off < NEW_HEADER_SIZE)
                return false;
        if (memcmp(b->p + off, CACHE_MAGIC_NEW, strlen(CACHE_MAGIC_NEW)) != 0)
                return false;
        order = b->p[off + 28] & NEW_FLAGS_ENDIAN_MASK;
        if (order == NEW_FLAGS_LITTLE || order == NEW_FLAGS_BIG)
                b->big = order == NEW_FLAGS_BIG;
        else {
                /* Unset (older ldconfig): whichever order gives a count that fits. */
                b->big = host_is_big();
                n = rd32(b, off + 20);
                if ((uint64_t) n * NEW_ENTRY_SIZE > b->size - off - NEW_HEADER_SIZE)
                        b->big = !b->big;
        }
        *ret_n = rd32(b, off + 20);
        return true;
}

int ld_cache_parse(const void *data, size_t size, const char *name, struct ld_cache **ret, struct smith_error **err) {
        _cleanup_(ld_cache_freep) struct ld_cache *c = NULL;
        struct cache_buf b = { .p = data, .size = size, .name = name, .big = host_is_big() };
        size_t newoff = 0;
        uint32_t n;
        int r;

        if (size >= strlen(CACHE_MAGIC_NEW) && memcmp(data, CACHE_MAGIC_NEW, strlen(CACHE_MAGIC_NEW)) == 0)
                newoff = 0;
        else if (size >= strlen(CACHE_MAGIC_OLD) && memcmp(data, CACHE_MAGIC_OLD, strlen(CACHE_MAGIC_OLD)) == 0) {
                uint64_t end;

                if (size < OLD_HEADER_SIZE)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': truncated header", name);
                n = rd32(&b, 12);
                if ((uint64_t) n * OLD_ENTRY_SIZE > size - OLD_HEADER_SIZE) {
                        b.big = !b.big;
                        n = rd32(&b, 12);
                }
                end = OLD_HEADER_SIZE + (uint64_t) n * OLD_ENTRY_SIZE;
                if (end > size)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': %u entries do not fit in the file", name, n);
                /* The new table follows at the next boundary of its alignment,
                 * 8 bytes where uint64_t is 8-aligned, 4 on i386 and m68k. */
                if (new_header_at(&b, (size_t) ((end + 7) & ~(uint64_t) 7), &n))
                        newoff = (size_t) ((end + 7) & ~(uint64_t) 7);
                else if (new_header_at(&b, (size_t) end, &n))
                        newoff = (size_t) end;
                else {
                        c = calloc(1, sizeof(*c));
                        if (!c)
                                return error_oom(err);
                        r = add_entries(c, &b, OLD_HEADER_SIZE, rd32(&b, 12), OLD_ENTRY_SIZE, (size_t) end, err);
                        if (r < 0)
                                return r;
                        *ret = TAKE_PTR(c);
                        return 0;
                }
        } else {
                *ret = NULL;
                return 1;
        }

        if (!new_header_at(&b, newoff, &n))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': truncated header", name);
        if ((uint64_t) n * NEW_ENTRY_SIZE > size - newoff - NEW_HEADER_SIZE)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': %u entries do not fit in the file", name, n);
        c = calloc(1, sizeof(*c));
        if (!c)
                return error_oom(err);
        r = add_entries(c, &b, newoff + NEW_HEADER_SIZE, n, NEW_ENTRY_SIZE, newoff, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

void ld_cache_free(struct ld_cache *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].name);
                free(c->entries[i].path);
        }
        free(c->entries);
        free(c);
}

int ld_cache_lookup(const struct ld_cache *c, const char *soname, int elf_class, unsigned machine, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **hw = NULL;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; c && i < c->n_entries; i++) {
                const struct ld_cache_entry *e = &c->entries[i];
                if (!streq(e->name, soname) || !elf_arch_cache_flags_match(elf_class, machine, e->flags))
                        continue;
                /* Entries for glibc-hwcaps subdirectories (and legacy hwcap
                 * dirs) only suit some CPUs of the architecture; the baseline
                 * library runs everywhere, so it goes first. */
                if (strv_extend(e->hwcap != 0 ? &hw : &l, e->path) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; hw && hw[i]; i++)
                if (strv_extend(&l, hw[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
