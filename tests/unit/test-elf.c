/* Unit tests for the ELF module: parsing real host binaries and in-memory
 * ELF images of both classes and byte orders (valid, truncated, corrupted,
 * randomly mutated), ld.so.cache in all its layouts (host and synthetic),
 * ld.so.conf with include globs, hostile symlinks in a source root, and the
 * library search order, in temp roots filled with fake libraries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fs.h"
#include "basic/strv.h"
#include "elf/elf.h"

/* --- building ELF images in memory --- */

#define FAKE_BASE 0x10000U

struct fake_elf {
        int cls, data;
        unsigned machine;
        const char *interp;
        const char *needed[4];
        const char *rpath, *runpath, *soname;
        bool no_dynamic;
};

struct fake_layout {
        size_t size;
        size_t phoff_field, phnum_field, phentsize_field;
        size_t strtab_val, strsz_val; /* where DT_STRTAB's and DT_STRSZ's values are */
        size_t strtab_off, strtab_len;
        size_t last_string; /* offset of the last string in the table */
        size_t dyn_phdr;    /* the PT_DYNAMIC program header */
        size_t interp_phdr;
};

struct writer {
        uint8_t *buf;
        int data;
};

static void put(const struct writer *w, size_t off, uint64_t v, unsigned width) {
        for (unsigned i = 0; i < width; i++) {
                unsigned shift = w->data == ELFDATA2MSB ? 8 * (width - 1 - i) : 8 * i;
                w->buf[off + i] = (uint8_t) (v >> shift);
        }
}

/* Writes an ELF image into buf (zeroed, at least 4096 bytes). */
static struct fake_layout build_elf(const struct fake_elf *f, uint8_t *buf) {
        struct writer w = { .buf = buf, .data = f->data };
        bool is64 = f->cls == ELFCLASS64;
        unsigned aw = is64 ? 8 : 4;
        size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32, dynsize = is64 ? 16 : 8;
        size_t phnum = 1 + (f->interp ? 1 : 0) + (f->no_dynamic ? 0 : 1);
        size_t off = ehsize + phnum * phsize, strtab, interp_off = 0, interp_len = 0, dyn, nd = 0, ph;
        size_t needed_off[4], rpath_off = 0, runpath_off = 0, soname_off = 0;
        struct fake_layout l = {};

        memset(buf, 0, 4096);
        memcpy(buf, ELFMAG, SELFMAG);
        buf[EI_CLASS] = (uint8_t) f->cls;
        buf[EI_DATA] = (uint8_t) f->data;
        buf[EI_VERSION] = EV_CURRENT;

        if (f->interp) {
                interp_off = off;
                interp_len = strlen(f->interp) + 1;
                memcpy(buf + off, f->interp, interp_len);
                off += interp_len;
        }

        strtab = off;
        buf[off++] = '\0';
#define ADD_STRING(s, where)                           \
        do {                                           \
                (where) = off - strtab;                \
                l.last_string = (where);               \
                memcpy(buf + off, (s), strlen(s) + 1); \
                off += strlen(s) + 1;                  \
        } while (0)
        for (size_t i = 0; i < ELEMENTSOF(f->needed) && f->needed[i]; i++)
                ADD_STRING(f->needed[i], needed_off[i]);
        if (f->soname)
                ADD_STRING(f->soname, soname_off);
        if (f->rpath)
                ADD_STRING(f->rpath, rpath_off);
        if (f->runpath)
                ADD_STRING(f->runpath, runpath_off);
#undef ADD_STRING
        l.strtab_off = strtab;
        l.strtab_len = off - strtab;
        off = (off + 7) & ~(size_t) 7;

        dyn = off;
        if (!f->no_dynamic) {
#define DYN(tag, val)                                        \
        do {                                                 \
                put(&w, dyn + nd * dynsize, (tag), aw);      \
                put(&w, dyn + nd * dynsize + aw, (val), aw); \
                nd++;                                        \
        } while (0)
                for (size_t i = 0; i < ELEMENTSOF(f->needed) && f->needed[i]; i++)
                        DYN(DT_NEEDED, needed_off[i]);
                if (f->soname)
                        DYN(DT_SONAME, soname_off);
                if (f->rpath)
                        DYN(DT_RPATH, rpath_off);
                if (f->runpath)
                        DYN(DT_RUNPATH, runpath_off);
                l.strtab_val = dyn + nd * dynsize + aw;
                DYN(DT_STRTAB, FAKE_BASE + strtab);
                l.strsz_val = dyn + nd * dynsize + aw;
                DYN(DT_STRSZ, l.strtab_len);
                DYN(DT_NULL, 0);
#undef DYN
        }
        l.size = dyn + nd * dynsize;

        /* ELF header */
        put(&w, 16, ET_DYN, 2);
        put(&w, 18, f->machine, 2);
        put(&w, 20, EV_CURRENT, 4);
        l.phoff_field = is64 ? 32 : 28;
        put(&w, l.phoff_field, ehsize, aw);
        put(&w, is64 ? 52 : 40, ehsize, 2);
        l.phentsize_field = is64 ? 54 : 42;
        put(&w, l.phentsize_field, phsize, 2);
        l.phnum_field = is64 ? 56 : 44;
        put(&w, l.phnum_field, phnum, 2);

        /* program headers: PT_LOAD of the whole file at FAKE_BASE, PT_INTERP, PT_DYNAMIC */
        ph = ehsize;
#define PHDR(type, o, va, sz)                      \
        do {                                       \
                put(&w, ph, (type), 4);            \
                if (is64) {                        \
                        put(&w, ph + 8, (o), 8);   \
                        put(&w, ph + 16, (va), 8); \
                        put(&w, ph + 24, (va), 8); \
                        put(&w, ph + 32, (sz), 8); \
                        put(&w, ph + 40, (sz), 8); \
                } else {                           \
                        put(&w, ph + 4, (o), 4);   \
                        put(&w, ph + 8, (va), 4);  \
                        put(&w, ph + 12, (va), 4); \
                        put(&w, ph + 16, (sz), 4); \
                        put(&w, ph + 20, (sz), 4); \
                }                                  \
                ph += phsize;                      \
        } while (0)
        PHDR(PT_LOAD, 0, FAKE_BASE, l.size);
        if (f->interp) {
                l.interp_phdr = ph;
                PHDR(PT_INTERP, interp_off, FAKE_BASE + interp_off, interp_len);
        }
        if (!f->no_dynamic) {
                l.dyn_phdr = ph;
                PHDR(PT_DYNAMIC, dyn, FAKE_BASE + dyn, nd * dynsize);
        }
#undef PHDR
        return l;
}

static int memfd_with(const void *data, size_t len) {
        int fd = memfd_create("test-elf", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, data, len), 0);
        return fd;
}

/* elf_read() of an in-memory image; returns its result, err left for the caller. */
static int read_image(const uint8_t *buf, size_t len, struct elf_info *info, struct smith_error **err) {
        _cleanup_close_ int fd = memfd_with(buf, len);
        return elf_read(fd, "image", info, err);
}

static void expect_malformed(const uint8_t *buf, size_t len, const char *what) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct elf_info info = {};
        int r = read_image(buf, len, &info, &err);

        if (r >= 0)
                fail_msg("expected an error containing '%s', got %d", what, r);
        assert_non_null(err);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        if (!strstr(err->msg, what))
                fail_msg("error '%s' does not mention '%s'", err->msg, what);
        assert_non_null(strstr(err->msg, "'image'"));
        elf_info_release(&info);
}

static const struct fake_elf sample64 = {
        .cls = ELFCLASS64,
        .data = ELFDATA2LSB,
        .machine = EM_X86_64,
        .interp = "/lib64/ld-linux-x86-64.so.2",
        .needed = { "libfoo.so.1", "libc.so.6" },
        .rpath = "/opt/a:$ORIGIN/../lib",
        .runpath = "/opt/b",
        .soname = "libsample.so.1",
};

/* --- elf_read: host files --- */

static void test_read_host_id(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_close_ int fd = open("/usr/bin/id", O_RDONLY | O_CLOEXEC);
        struct elf_info info = {};

#if !defined(__x86_64__)
        skip();
#endif
        if (fd < 0)
                skip();
        assert_int_equal(elf_read(fd, "/usr/bin/id", &info, &err), 0);
        assert_null(err);
        assert_int_equal(info.elf_class, ELFCLASS64);
        assert_int_equal(info.data, ELFDATA2LSB);
        assert_int_equal(info.machine, EM_X86_64);
        assert_true(info.is_dynamic);
        assert_string_equal(info.interp, "/lib64/ld-linux-x86-64.so.2");
        assert_true(strv_contains(info.needed, "libc.so.6"));
        assert_true(strv_contains(info.needed, "libselinux.so.1"));
        assert_null(info.soname);
        /* Debian links with --build-id=sha1 */
        assert_non_null(info.build_id);
        assert_int_equal(strlen(info.build_id), 40);
        assert_int_equal(strspn(info.build_id, "0123456789abcdef"), 40);
        elf_info_release(&info);
        assert_null(info.needed);
}

/* The build-id note read from /usr/bin/id, then the same file with the
 * note's sizes made hostile: elf_read() still succeeds, without one. */
static void test_read_build_id(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_free_ char *data = NULL, *hex = NULL;
        static const uint8_t head[] = { 4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0 };
        struct elf_info info = {};
        size_t len = 0;
        uint8_t *p;

#if !defined(__x86_64__)
        skip();
#endif
        if (read_file_at(AT_FDCWD, "/usr/bin/id", 16 * 1024 * 1024, &data, &len) < 0)
                skip();
        p = memmem(data, len, head, sizeof(head));
        assert_non_null(p);
        hex = malloc(41);
        assert_non_null(hex);
        for (size_t i = 0; i < 20; i++)
                snprintf(hex + i * 2, 3, "%02x", p[16 + i]);
        assert_int_equal(read_image((const uint8_t *) data, len, &info, &err), 0);
        assert_string_equal(info.build_id, hex);
        elf_info_release(&info);

        p[4] = 0xff, p[5] = 0xff, p[6] = 0xff, p[7] = 0x7f; /* descsz past the segment */
        assert_int_equal(read_image((const uint8_t *) data, len, &info, &err), 0);
        assert_null(info.build_id);
        elf_info_release(&info);
        p[4] = 0, p[5] = 0, p[6] = 0, p[7] = 0; /* empty */
        assert_int_equal(read_image((const uint8_t *) data, len, &info, &err), 0);
        assert_null(info.build_id);
        elf_info_release(&info);
        p[4] = 20, p[0] = 0xf0; /* namesz past the segment */
        assert_int_equal(read_image((const uint8_t *) data, len, &info, &err), 0);
        assert_null(info.build_id);
        elf_info_release(&info);
        assert_null(err);
}

static void test_read_host_libc(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_close_ int fd = open("/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY | O_CLOEXEC);
        struct elf_info info = {};

        if (fd < 0)
                skip();
        assert_int_equal(elf_read(fd, "libc.so.6", &info, &err), 0);
        assert_string_equal(info.soname, "libc.so.6");
        assert_int_equal(info.type, ET_DYN);
        assert_true(info.is_dynamic);
        /* libc needs the loader and nothing else */
        assert_int_equal(strv_length(info.needed), 1);
        assert_non_null(strstr(info.needed[0], "ld-linux"));
        elf_info_release(&info);
}

static void test_read_not_elf(void **state) {
        static const char text[] = "#!/bin/sh\necho this is a script, not an ELF object\n";
        static const uint8_t short_magic[] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct elf_info info = {};
        uint8_t buf[4096];
        struct fake_layout l = build_elf(&sample64, buf);
        _cleanup_close_ int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_int_equal(read_image((const uint8_t *) text, sizeof(text) - 1, &info, &err), 1);
        assert_int_equal(read_image((const uint8_t *) "", 0, &info, &err), 1);
        assert_int_equal(read_image(short_magic, sizeof(short_magic), &info, &err), 1);
        /* magic and class, but shorter than the header */
        assert_int_equal(read_image(buf, 40, &info, &err), 1);
        /* a directory is not an ELF either */
        assert_int_equal(elf_read(dfd, "/", &info, &err), 1);
        assert_null(err);
        assert_null(info.needed);
        /* and the full image is */
        assert_int_equal(read_image(buf, l.size, &info, &err), 0);
        elf_info_release(&info);
}

/* --- elf_read: in-memory images --- */

static void test_read_image64(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct elf_info info = {};
        uint8_t buf[4096];
        struct fake_layout l = build_elf(&sample64, buf);

        assert_int_equal(read_image(buf, l.size, &info, &err), 0);
        assert_int_equal(info.elf_class, ELFCLASS64);
        assert_int_equal(info.machine, EM_X86_64);
        assert_string_equal(info.interp, "/lib64/ld-linux-x86-64.so.2");
        assert_int_equal(strv_length(info.needed), 2);
        assert_string_equal(info.needed[0], "libfoo.so.1");
        assert_string_equal(info.needed[1], "libc.so.6");
        assert_int_equal(strv_length(info.rpath), 2);
        assert_string_equal(info.rpath[0], "/opt/a");
        assert_string_equal(info.rpath[1], "$ORIGIN/../lib");
        assert_int_equal(strv_length(info.runpath), 1);
        assert_string_equal(info.runpath[0], "/opt/b");
        assert_string_equal(info.soname, "libsample.so.1");
        elf_info_release(&info);
}

static void test_read_big_endian32(void **state) {
        static const struct fake_elf f = {
                .cls = ELFCLASS32,
                .data = ELFDATA2MSB,
                .machine = EM_PPC,
                .interp = "/lib/ld.so.1",
                .needed = { "libm.so.6", "libc.so.6" },
                .runpath = "",
                .soname = "libbe.so.2",
        };
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct elf_info info = {};
        uint8_t buf[4096];
        struct fake_layout l = build_elf(&f, buf);

        assert_int_equal(read_image(buf, l.size, &info, &err), 0);
        assert_int_equal(info.elf_class, ELFCLASS32);
        assert_int_equal(info.data, ELFDATA2MSB);
        assert_int_equal(info.machine, EM_PPC);
        assert_int_equal(info.type, ET_DYN);
        assert_string_equal(info.interp, "/lib/ld.so.1");
        assert_int_equal(strv_length(info.needed), 2);
        assert_string_equal(info.needed[0], "libm.so.6");
        assert_string_equal(info.needed[1], "libc.so.6");
        assert_string_equal(info.soname, "libbe.so.2");
        assert_null(info.rpath);
        /* an empty DT_RUNPATH is present, and empty */
        assert_non_null(info.runpath);
        assert_int_equal(strv_length(info.runpath), 0);
        elf_info_release(&info);
}

static void test_read_static(void **state) {
        static const struct fake_elf f = {
                .cls = ELFCLASS64,
                .data = ELFDATA2MSB,
                .machine = EM_S390,
                .no_dynamic = true,
        };
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct elf_info info = {};
        uint8_t buf[4096];
        struct fake_layout l = build_elf(&f, buf);

        assert_int_equal(read_image(buf, l.size, &info, &err), 0);
        assert_false(info.is_dynamic);
        assert_null(info.interp);
        assert_non_null(info.needed);
        assert_int_equal(strv_length(info.needed), 0);
        assert_int_equal(info.machine, EM_S390);
        elf_info_release(&info);
}

static void test_read_malformed(void **state) {
        uint8_t good[4096], buf[4096];
        struct fake_layout l = build_elf(&sample64, good);
        struct writer w = { .buf = buf, .data = ELFDATA2LSB };

        /* program header table past the end of the file */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.phoff_field, l.size + 100, 8);
        expect_malformed(buf, l.size, "program header table outside the file");
        /* ... or wrapping around */
        put(&w, l.phoff_field, UINT64_MAX - 8, 8);
        expect_malformed(buf, l.size, "program header table outside the file");

        /* a huge e_phnum */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.phnum_field, 0xfffe, 2);
        expect_malformed(buf, l.size, "program header table outside the file");
        /* PN_XNUM without a section header to hold the real count */
        put(&w, l.phnum_field, PN_XNUM, 2);
        expect_malformed(buf, l.size, "extended program header count");

        /* a wrong e_phentsize */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.phentsize_field, 12, 2);
        expect_malformed(buf, l.size, "bad program header size");

        /* DT_STRTAB pointing outside every loaded segment */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.strtab_val, FAKE_BASE + 0x100000, 8);
        expect_malformed(buf, l.size, "not in any loaded segment");
        /* DT_STRSZ larger than the file */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.strsz_val, 0x7fffffffffffULL, 8);
        expect_malformed(buf, l.size, "string table outside the file");
        /* the last string runs off the end of the table */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.strsz_val, l.last_string + 2, 8);
        expect_malformed(buf, l.size, "not terminated");

        /* the dynamic section outside the file */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.dyn_phdr + 8, l.size - 8, 8);
        expect_malformed(buf, l.size, "dynamic section outside the file");
        /* a dynamic section claiming millions of entries */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.dyn_phdr + 32, 16ULL * 2000000, 8);
        expect_malformed(buf, l.size, "dynamic section outside the file");

        /* an interpreter path without its NUL */
        memcpy(buf, good, sizeof(buf));
        put(&w, l.interp_phdr + 32, strlen(sample64.interp), 8);
        expect_malformed(buf, l.size, "interpreter path not terminated");

        /* bad class, bad byte order */
        memcpy(buf, good, sizeof(buf));
        buf[EI_CLASS] = 7;
        expect_malformed(buf, l.size, "unknown ELF class");
        memcpy(buf, good, sizeof(buf));
        buf[EI_DATA] = 0;
        expect_malformed(buf, l.size, "unknown ELF byte order");

        /* truncated in the middle of the dynamic section */
        expect_malformed(good, l.size - 20, "dynamic section outside the file");
        /* truncated in the middle of the program headers */
        expect_malformed(good, 64 + 20, "program header table outside the file");
}

static void test_read_long_string(void **state) {
        _cleanup_free_ char *longname = malloc(ELF_MAX_STRING + 100);
        _cleanup_free_ uint8_t *big = NULL;
        struct fake_elf f = sample64;
        uint8_t buf[4096];
        struct fake_layout l;

        /* Build with a placeholder and splice a long string at the end of
         * the file, the string table reaching up to it. */
        assert_non_null(longname);
        memset(longname, 'x', ELF_MAX_STRING + 50);
        longname[ELF_MAX_STRING + 50] = '\0';
        f.needed[0] = "p";
        f.needed[1] = NULL;
        f.rpath = f.runpath = f.soname = NULL;
        l = build_elf(&f, buf);
        big = calloc(1, l.size + ELF_MAX_STRING + 100);
        assert_non_null(big);
        memcpy(big, buf, l.size);
        memcpy(big + l.size, longname, ELF_MAX_STRING + 51);
        {
                struct writer w = { .buf = big, .data = ELFDATA2LSB };
                size_t total = l.size + ELF_MAX_STRING + 51;
                /* the PT_LOAD covers everything; DT_NEEDED points at the long string */
                put(&w, 64 + 32, total, 8);
                put(&w, l.strsz_val, total - l.strtab_off, 8);
                put(&w, l.strtab_val - 16, l.size - l.strtab_off, 8); /* DT_NEEDED's value */
                expect_malformed(big, total, "too long");
        }
}

/* Random mutations of valid images: errors are fine, crashes are not
 * (the ASan build turns any overread into a failure). */
static void test_read_mutations(void **state) {
        static const struct fake_elf variants[] = {
                { .cls = ELFCLASS64,
                  .data = ELFDATA2LSB,
                  .machine = EM_X86_64,
                  .interp = "/lib/ld.so",
                  .needed = { "a.so", "b.so" },
                  .rpath = "x:y",
                  .runpath = "z",
                  .soname = "s.so" },
                { .cls = ELFCLASS32,
                  .data = ELFDATA2MSB,
                  .machine = EM_MIPS,
                  .interp = "/lib/ld.so",
                  .needed = { "a.so" },
                  .rpath = "x",
                  .soname = "s.so" },
        };
        _cleanup_close_ int fd = memfd_create("mut", MFD_CLOEXEC);
        uint32_t seed = 12345;
        unsigned ok = 0, bad = 0;

        assert_true(fd >= 0);
        for (unsigned v = 0; v < ELEMENTSOF(variants); v++) {
                uint8_t good[4096], buf[4096];
                struct fake_layout l = build_elf(&variants[v], good);

                for (unsigned iter = 0; iter < 3000; iter++) {
                        _cleanup_(error_freep) struct smith_error *err = NULL;
                        struct elf_info info = {};
                        size_t len = l.size;
                        unsigned flips;
                        int r;

                        memcpy(buf, good, sizeof(buf));
                        seed = seed * 1103515245 + 12345;
                        flips = 1 + (seed >> 16) % 4;
                        for (unsigned k = 0; k < flips; k++) {
                                seed = seed * 1103515245 + 12345;
                                size_t at = (seed >> 8) % l.size;
                                seed = seed * 1103515245 + 12345;
                                buf[at] = (uint8_t) (seed >> 16);
                        }
                        seed = seed * 1103515245 + 12345;
                        if ((seed >> 16) % 8 == 0)
                                len = (seed >> 4) % l.size;
                        assert_int_equal(ftruncate(fd, 0), 0);
                        assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t) len);
                        r = elf_read(fd, "mut", &info, &err);
                        if (r < 0) {
                                assert_non_null(err);
                                bad++;
                        } else {
                                assert_null(err);
                                ok++;
                        }
                        elf_info_release(&info);
                }
        }
        /* both outcomes happen, so the mutations reach the checks */
        assert_true(ok > 100);
        assert_true(bad > 100);
}

/* --- temp roots --- */

struct troot {
        char *top;  /* temp dir */
        char *root; /* top/root, the source root */
        int fd;
};

static void troot_new(struct troot *t) {
        assert_int_equal(mkdtemp_in("/tmp", "test-elf-", &t->top), 0);
        assert_true(asprintf(&t->root, "%s/root", t->top) > 0);
        assert_int_equal(mkdir(t->root, 0755), 0);
        t->fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->fd >= 0);
}

static void troot_free(struct troot *t) {
        close(t->fd);
        assert_int_equal(rm_rf_at(AT_FDCWD, t->top), 0);
        free(t->top);
        free(t->root);
}

/* Writes a file at rel below base (the root or the temp dir), creating parents. */
static void put_file_in(const char *base, const char *rel, const void *data, size_t len) {
        _cleanup_free_ char *p = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1;

        assert_true(asprintf(&p, "%s/%s", base, rel) > 0);
        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p(dir, 0755), 0);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_full(fd, data, len), 0);
}

static void put_text(const struct troot *t, const char *rel, const char *text) {
        put_file_in(t->root, rel, text, strlen(text));
}

static void put_symlink_in(const char *base, const char *rel, const char *target) {
        _cleanup_free_ char *p = NULL, *dir = NULL;

        assert_true(asprintf(&p, "%s/%s", base, rel) > 0);
        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(mkdir_p(dir, 0755), 0);
        assert_int_equal(symlink(target, p), 0);
}

/* A fake shared library of the given kind. */
static void put_lib_in(const char *base, const char *rel, int cls, int data, unsigned machine) {
        struct fake_elf f = { .cls = cls, .data = data, .machine = machine, .soname = strrchr(rel, '/') + 1 };
        uint8_t buf[4096];
        struct fake_layout l = build_elf(&f, buf);
        put_file_in(base, rel, buf, l.size);
}

static void put_lib(const struct troot *t, const char *rel) {
        put_lib_in(t->root, rel, ELFCLASS64, ELFDATA2LSB, EM_X86_64);
}

static struct elf_info obj_x86_64(const char *rpath, const char *runpath) {
        return (struct elf_info){
                .elf_class = ELFCLASS64,
                .data = ELFDATA2LSB,
                .machine = EM_X86_64,
                .is_dynamic = true,
                .rpath = rpath ? strv_split(rpath, ":", false) : NULL,
                .runpath = runpath ? strv_split(runpath, ":", false) : NULL,
        };
}

/* ld_env_find() that must succeed; returns the path. */
static char *find_ok(struct ld_env *env, const struct ld_request *req, const char *needed) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        char *path = NULL;
        int r = ld_env_find(env, req, needed, &path, &err);
        if (r < 0)
                fail_msg("find '%s': %d %s", needed, r, err ? err->msg : "");
        return path;
}

static void find_none(struct ld_env *env, const struct ld_request *req, const char *needed) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_free_ char *path = NULL;
        int r = ld_env_find(env, req, needed, &path, &err);
        if (r != -ENOENT)
                fail_msg("find '%s': expected -ENOENT, got %d '%s'", needed, r, path ? path : "");
        assert_null(err);
        assert_null(path);
}

static struct ld_env *env_new(const struct troot *t, const char *llp) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        struct ld_env *env = NULL;
        int r = ld_env_new(t->fd, llp, &env, &err);
        if (r < 0)
                fail_msg("ld_env_new: %s", err ? err->msg : "?");
        return env;
}

/* --- ld.so.cache --- */

struct fake_cache_entry {
        int32_t flags;
        const char *name, *path;
        uint64_t hwcap;
};

enum cache_layout { CACHE_OLD, CACHE_COMPAT, CACHE_NEW };

/* Writes a cache in the given layout and byte order; returns its size. */
static size_t build_cache(enum cache_layout layout, int data, const struct fake_cache_entry *e, size_t n, uint8_t *buf,
                          size_t cap) {
        struct writer w = { .buf = buf, .data = data };
        size_t newoff = 0, strbase, off, old_end = 16 + n * 12;

        memset(buf, 0, cap);
        if (layout != CACHE_NEW) {
                memcpy(buf, "ld.so-1.7.0", 11);
                put(&w, 12, n, 4);
                newoff = (old_end + 7) & ~(size_t) 7;
        }
        if (layout == CACHE_OLD) {
                strbase = old_end;
                off = old_end;
        } else {
                memcpy(buf + newoff, "glibc-ld.so.cache1.1", 20);
                put(&w, newoff + 20, n, 4);
                buf[newoff + 28] = data == ELFDATA2MSB ? 3 : 2;
                strbase = newoff;
                off = newoff + 48 + n * 24;
        }
        for (size_t i = 0; i < n; i++) {
                size_t k = off - strbase, v;
                memcpy(buf + off, e[i].name, strlen(e[i].name) + 1);
                off += strlen(e[i].name) + 1;
                v = off - strbase;
                memcpy(buf + off, e[i].path, strlen(e[i].path) + 1);
                off += strlen(e[i].path) + 1;
                assert_true(off < cap);
                if (layout == CACHE_OLD) {
                        put(&w, 16 + i * 12, (uint32_t) e[i].flags, 4);
                        put(&w, 16 + i * 12 + 4, k, 4);
                        put(&w, 16 + i * 12 + 8, v, 4);
                } else {
                        size_t ent = newoff + 48 + i * 24;
                        put(&w, ent, (uint32_t) e[i].flags, 4);
                        put(&w, ent + 4, k, 4);
                        put(&w, ent + 8, v, 4);
                        put(&w, ent + 16, e[i].hwcap, 8);
                        if (layout == CACHE_COMPAT) {
                                /* the old table points at the new one's strings */
                                put(&w, 16 + i * 12, (uint32_t) e[i].flags, 4);
                                put(&w, 16 + i * 12 + 4, k, 4);
                                put(&w, 16 + i * 12 + 8, v, 4);
                        }
                }
        }
        if (layout != CACHE_OLD)
                put(&w, newoff + 24, off - newoff - 48 - n * 24, 4);
        return off;
}

static const struct fake_cache_entry cache_entries[] = {
        { 0x0303, "libfoo.so.1", "/weird/x86_64/libfoo.so.1", 0 },
        { 0x0003, "libfoo.so.1", "/weird/i386/libfoo.so.1", 0 },
        { 0x0a03, "libfoo.so.1", "/weird/aarch64/libfoo.so.1", 0 },
        { 0x0303, "libbar.so.2", "/weird/hwcaps/v3/libbar.so.2", 1ULL << 62 },
        { 0x0303, "libbar.so.2", "/weird/base/libbar.so.2", 0 },
};

static void check_lookup(const struct ld_cache *c, const char *name, int cls, unsigned machine, const char *expect0,
                         const char *expect1) {
        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(ld_cache_lookup(c, name, cls, machine, &l), 0);
        assert_non_null(l);
        if (!expect0) {
                assert_null(l[0]);
                return;
        }
        assert_non_null(l[0]);
        assert_string_equal(l[0], expect0);
        if (expect1) {
                assert_non_null(l[1]);
                assert_string_equal(l[1], expect1);
        } else
                assert_null(l[1]);
}

static void test_cache_synthetic(void **state) {
        static const enum cache_layout layouts[] = { CACHE_OLD, CACHE_COMPAT, CACHE_NEW };
        static const int orders[] = { ELFDATA2LSB, ELFDATA2MSB };
        uint8_t buf[8192];

        for (size_t li = 0; li < ELEMENTSOF(layouts); li++)
                for (size_t oi = 0; oi < ELEMENTSOF(orders); oi++) {
                        _cleanup_(error_freep) struct smith_error *err = NULL;
                        _cleanup_(ld_cache_freep) struct ld_cache *c = NULL;
                        size_t n = build_cache(layouts[li], orders[oi], cache_entries, ELEMENTSOF(cache_entries), buf,
                                               sizeof(buf));
                        int r = ld_cache_parse(buf, n, "cache", &c, &err);

                        if (r != 0)
                                fail_msg("layout %zu order %d: %d %s", li, orders[oi], r, err ? err->msg : "");
                        assert_int_equal(c->n_entries, ELEMENTSOF(cache_entries));
                        assert_string_equal(c->entries[0].name, "libfoo.so.1");
                        check_lookup(c, "libfoo.so.1", ELFCLASS64, EM_X86_64, "/weird/x86_64/libfoo.so.1", NULL);
                        check_lookup(c, "libfoo.so.1", ELFCLASS32, EM_386, "/weird/i386/libfoo.so.1", NULL);
                        check_lookup(c, "libfoo.so.1", ELFCLASS64, EM_AARCH64, "/weird/aarch64/libfoo.so.1", NULL);
                        check_lookup(c, "libfoo.so.1", ELFCLASS64, EM_RISCV, NULL, NULL);
                        check_lookup(c, "libnone.so", ELFCLASS64, EM_X86_64, NULL, NULL);
                        if (layouts[li] == CACHE_OLD) /* no hwcap field there */
                                check_lookup(c, "libbar.so.2", ELFCLASS64, EM_X86_64, "/weird/hwcaps/v3/libbar.so.2",
                                             "/weird/base/libbar.so.2");
                        else /* the baseline library first */
                                check_lookup(c, "libbar.so.2", ELFCLASS64, EM_X86_64, "/weird/base/libbar.so.2",
                                             "/weird/hwcaps/v3/libbar.so.2");
                }
}

static void expect_cache_error(const uint8_t *buf, size_t n, const char *what) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(ld_cache_freep) struct ld_cache *c = NULL;
        int r = ld_cache_parse(buf, n, "cache", &c, &err);
        if (r >= 0)
                fail_msg("expected '%s', got %d", what, r);
        assert_null(c);
        assert_int_equal(err->kind, SMITH_ERR_SOURCE);
        if (!strstr(err->msg, what))
                fail_msg("'%s' does not mention '%s'", err->msg, what);
}

static void test_cache_malformed(void **state) {
        uint8_t buf[8192];
        struct writer w = { .buf = buf, .data = ELFDATA2LSB };
        _cleanup_(ld_cache_freep) struct ld_cache *c = NULL;
        _cleanup_(error_freep) struct smith_error *err = NULL;
        size_t n;

        /* not a cache at all: ignored, as glibc does */
        assert_int_equal(ld_cache_parse("hello", 5, "cache", &c, &err), 1);
        assert_int_equal(ld_cache_parse("", 0, "cache", &c, &err), 1);
        assert_null(c);
        assert_null(err);

        n = build_cache(CACHE_NEW, ELFDATA2LSB, cache_entries, ELEMENTSOF(cache_entries), buf, sizeof(buf));
        put(&w, 20, 100000, 4); /* nlibs */
        expect_cache_error(buf, n, "do not fit");
        n = build_cache(CACHE_NEW, ELFDATA2LSB, cache_entries, ELEMENTSOF(cache_entries), buf, sizeof(buf));
        put(&w, 48 + 2 * 24 + 8, 0x7ffffff0, 4); /* a value offset */
        expect_cache_error(buf, n, "outside the file");
        n = build_cache(CACHE_NEW, ELFDATA2LSB, cache_entries, ELEMENTSOF(cache_entries), buf, sizeof(buf));
        expect_cache_error(buf, n - 3, "not terminated"); /* the last path cut */
        n = build_cache(CACHE_OLD, ELFDATA2LSB, cache_entries, ELEMENTSOF(cache_entries), buf, sizeof(buf));
        put(&w, 16 + 4, 0xfffffff0, 4);
        expect_cache_error(buf, n, "outside the file");
        expect_cache_error(buf, 30, "do not fit");
        expect_cache_error(buf, 13, "truncated header");
        n = build_cache(CACHE_NEW, ELFDATA2LSB, cache_entries, ELEMENTSOF(cache_entries), buf, sizeof(buf));
        expect_cache_error(buf, 40, "truncated header");
}

static void test_cache_host(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(ld_cache_freep) struct ld_cache *c = NULL;
        _cleanup_strv_free_ char **l = NULL, **l32 = NULL;
        _cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len;

#if !defined(__x86_64__)
        skip();
#endif
        if (root_read_file(root, "/etc/ld.so.cache", LD_CACHE_MAX_SIZE, &buf, &len) < 0)
                skip();
        assert_int_equal(ld_cache_parse(buf, len, "/etc/ld.so.cache", &c, &err), 0);
        assert_true(c->n_entries > 10);
        assert_int_equal(ld_cache_lookup(c, "libc.so.6", ELFCLASS64, EM_X86_64, &l), 0);
        assert_non_null(l[0]);
        assert_true(strv_contains(l, "/lib/x86_64-linux-gnu/libc.so.6") ||
                    strv_contains(l, "/usr/lib/x86_64-linux-gnu/libc.so.6") || strv_contains(l, "/lib64/libc.so.6") ||
                    strv_contains(l, "/usr/lib64/libc.so.6"));
        /* a 32-bit request never gets the 64-bit library */
        assert_int_equal(ld_cache_lookup(c, "libc.so.6", ELFCLASS32, EM_386, &l32), 0);
        for (size_t i = 0; l32[i]; i++)
                assert_false(strv_contains(l, l32[i]));
}

/* --- ld.so.conf --- */

static void test_conf_include(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        struct troot t;

        troot_new(&t);
        put_text(&t, "etc/ld.so.conf",
                 "# the top\n"
                 "include ld.so.conf.d/*.conf\n"
                 "/opt/top   # trailing comment\n"
                 "\n"
                 "   /opt/spaced//dir/  \n"
                 "include /etc/other/*.conf /etc/more.conf\n"
                 "hwcap 1 foo\n"
                 "relative/dir\n"
                 "/usr/old=libc5, /opt/comma\n");
        put_text(&t, "etc/ld.so.conf.d/b.conf", "/opt/b\n/opt/top\n");
        put_text(&t, "etc/ld.so.conf.d/a.conf", "/opt/a\ninclude ../ld.so.conf\n"); /* a loop */
        put_text(&t, "etc/ld.so.conf.d/.hidden.conf", "/opt/hidden\n");
        put_text(&t, "etc/ld.so.conf.d/c.txt", "/opt/txt\n");
        put_text(&t, "etc/other/x.conf", "/opt/x\n");
        put_text(&t, "etc/more.conf", "/opt/more\n");
        put_symlink_in(t.root, "etc/ld.so.conf.d/d.conf", "/etc/other/x.conf");

        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        {
                _cleanup_free_ char *joined = strv_join(dirs, " ");
                assert_string_equal(joined, "/opt/a /opt/b /opt/top /opt/x /opt/spaced/dir /opt/more /usr/old "
                                            "/opt/comma");
        }
        troot_free(&t);
}

static void test_conf_missing_and_deep(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        struct troot t;

        troot_new(&t);
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_non_null(dirs);
        assert_null(dirs[0]);
        strv_free(dirs);
        dirs = NULL;

        /* a chain of distinct files deeper than the limit */
        for (unsigned i = 0; i <= LD_CONF_MAX_DEPTH + 1; i++) {
                char name[64], text[64];
                snprintf(name, sizeof(name), "etc/c%u.conf", i);
                snprintf(text, sizeof(text), "/opt/%u\ninclude c%u.conf\n", i, i + 1);
                put_text(&t, name, text);
        }
        assert_true(ld_conf_load(t.fd, "/etc/c0.conf", &dirs, &err) < 0);
        assert_null(dirs);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "nested too deeply"));
        troot_free(&t);
}

static void test_conf_hostile(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        _cleanup_free_ char *abs_target = NULL;
        struct troot t;

        troot_new(&t);
        /* Files outside the root that a naive resolver would reach. */
        put_file_in(t.top, "outside/evil.conf", "/evil\n", 6);
        put_file_in(t.top, "outside/conf.d/x.conf", "/evil-glob\n", 11);
        assert_true(asprintf(&abs_target, "%s/outside/evil.conf", t.top) > 0);

        /* relative escape: root/etc/../../outside is t.top/outside on the host */
        put_symlink_in(t.root, "etc/ld.so.conf", "../../outside/evil.conf");
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_null(dirs[0]);
        strv_free(dirs);

        /* absolute host path */
        assert_int_equal(unlinkat(t.fd, "etc/ld.so.conf", 0), 0);
        put_symlink_in(t.root, "etc/ld.so.conf", abs_target);
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_null(dirs[0]);
        strv_free(dirs);

        /* the host's own /etc/passwd, whose fields look like directories */
        assert_int_equal(unlinkat(t.fd, "etc/ld.so.conf", 0), 0);
        put_symlink_in(t.root, "etc/ld.so.conf", "/../../../../../../../etc/passwd");
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_null(dirs[0]);
        strv_free(dirs);

        /* "/../../.." and a glob through a symlinked directory */
        assert_int_equal(unlinkat(t.fd, "etc/ld.so.conf", 0), 0);
        put_text(&t, "etc/ld.so.conf",
                 "include /../../../../../outside/*.conf\n"
                 "include ../../outside/*.conf\n"
                 "include ld.so.conf.d/*.conf\n");
        put_symlink_in(t.root, "etc/ld.so.conf.d", "../../outside/conf.d");
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_null(dirs[0]);
        strv_free(dirs);
        dirs = NULL;

        /* Control: the same content inside the root is found, so the checks above can fail. */
        put_file_in(t.root, "outside/conf.d/x.conf", "/inside\n", 8);
        assert_int_equal(ld_conf_load(t.fd, "/etc/ld.so.conf", &dirs, &err), 0);
        assert_non_null(dirs[0]);
        assert_string_equal(dirs[0], "/inside");
        troot_free(&t);
}

/* --- DSTs and paths --- */

static void check_expand(const struct elf_info *obj, const char *origin, const char *entry, const char *expect) {
        _cleanup_strv_free_ char **l = ld_expand_dst(obj, origin, entry);
        _cleanup_free_ char *joined = NULL;

        assert_non_null(l);
        joined = strv_join(l, " ");
        if (!streq(joined, expect))
                fail_msg("'%s': got '%s', expected '%s'", entry, joined, expect);
}

static void test_expand_dst(void **state) {
        struct elf_info x64 = obj_x86_64(NULL, NULL);
        struct elf_info arm64 = { .elf_class = ELFCLASS64, .data = ELFDATA2LSB, .machine = EM_AARCH64 };
        struct elf_info i386 = { .elf_class = ELFCLASS32, .data = ELFDATA2LSB, .machine = EM_386 };

        check_expand(&x64, "/usr/bin", "$ORIGIN/../lib", "/usr/lib");
        check_expand(&x64, "/usr/bin", "${ORIGIN}/../lib", "/usr/lib");
        check_expand(&x64, "/usr/bin", "$ORIGIN", "/usr/bin");
        check_expand(&x64, "/a/b", "$ORIGIN/../../../../x", "/x");
        check_expand(&x64, NULL, "$ORIGIN/lib", "");
        check_expand(&x64, "/opt/$LIB", "$ORIGIN/x", "/opt/$LIB/x"); /* values are not rescanned */
        check_expand(&x64, "/o", "/usr/$LIB", "/usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib");
        check_expand(&x64, "/o", "/usr/${LIB}/$PLATFORM",
                     "/usr/lib/x86_64-linux-gnu/x86_64 /usr/lib64/x86_64 /usr/lib/x86_64");
        check_expand(&arm64, "/o", "/p/$PLATFORM", "/p/aarch64");
        check_expand(&i386, "/o", "/p/${PLATFORM}/$LIB",
                     "/p/i686/lib/i386-linux-gnu /p/i686/lib/i686-linux-gnu /p/i686/lib32 /p/i686/lib");
        check_expand(&x64, "/o", "/p/$LIBRARY/$FOO", "/p/$LIBRARY/$FOO");
        check_expand(&x64, "/o", "relative/dir", "");
        check_expand(&x64, "/o", "", "");
        check_expand(&x64, "/o", "/a//b/./c/", "/a/b/c");
}

static void test_normalize(void **state) {
        static const char *const cases[][2] = {
                { "/", "/" },          { "", "/" },      { "/a/b/../c", "/a/c" }, { "/../../x", "/x" },
                { "a/./b//", "/a/b" }, { "/a/..", "/" }, { "/a/b/..", "/a" },     { "/.../x", "/.../x" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *n = path_normalized(cases[i][0], PATH_ABSOLUTE);
                assert_string_equal(n, cases[i][1]);
        }
}

/* --- the search --- */

static void test_search_order(void **state) {
        struct troot t;
        struct ld_env *env;
        struct elf_info rpath_only = obj_x86_64("/r1", NULL);
        struct elf_info both = obj_x86_64("/r1", "/r3");
        struct elf_info runpath_only = obj_x86_64(NULL, "/r3");
        struct elf_info plain = obj_x86_64(NULL, NULL);
        char loader[] = "/loader";
        char *loaders[] = { loader, NULL };
        char *p;

        troot_new(&t);
        put_lib(&t, "r1/libx.so");
        put_lib(&t, "r2/libx.so");
        put_lib(&t, "r3/libx.so");
        put_lib(&t, "loader/libx.so");
        put_lib(&t, "usr/lib/x86_64-linux-gnu/libx.so");
        env = env_new(&t, "/nowhere;/r2:relative:");

        /* RPATH comes before LD_LIBRARY_PATH */
        p = find_ok(env, &(struct ld_request){ .obj = &rpath_only, .origin = "/usr/bin" }, "libx.so");
        assert_string_equal(p, "/r1/libx.so");
        free(p);
        /* ... but a RUNPATH disables RPATH, and LD_LIBRARY_PATH comes before RUNPATH */
        p = find_ok(env, &(struct ld_request){ .obj = &both, .origin = "/usr/bin" }, "libx.so");
        assert_string_equal(p, "/r2/libx.so");
        free(p);
        /* the loaders' RPATH: after the object's own, before LD_LIBRARY_PATH ... */
        p = find_ok(env, &(struct ld_request){ .obj = &plain, .loader_rpaths = loaders }, "libx.so");
        assert_string_equal(p, "/loader/libx.so");
        free(p);
        /* ... and ignored when the object has a RUNPATH */
        p = find_ok(env, &(struct ld_request){ .obj = &runpath_only, .loader_rpaths = loaders }, "libx.so");
        assert_string_equal(p, "/r2/libx.so");
        free(p);
        ld_env_free(env);

        /* without LD_LIBRARY_PATH: RUNPATH, then the default directories */
        env = env_new(&t, NULL);
        p = find_ok(env, &(struct ld_request){ .obj = &runpath_only }, "libx.so");
        assert_string_equal(p, "/r3/libx.so");
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &plain }, "libx.so");
        assert_string_equal(p, "/usr/lib/x86_64-linux-gnu/libx.so");
        free(p);
        find_none(env, &(struct ld_request){ .obj = &plain }, "libmissing.so");
        ld_env_free(env);

        elf_info_release(&rpath_only);
        elf_info_release(&both);
        elf_info_release(&runpath_only);
        troot_free(&t);
}

static void test_search_origin_and_slash(void **state) {
        struct troot t;
        struct ld_env *env;
        struct elf_info obj = obj_x86_64(NULL, "$ORIGIN/../lib:${ORIGIN}/../other");
        struct elf_info libobj = obj_x86_64(NULL, "/opt/$LIB");
        struct ld_request req = { .obj = &obj, .origin = "/app/bin" };
        char *p;

        troot_new(&t);
        put_lib(&t, "app/lib/liba.so");
        put_lib(&t, "app/other/libb.so");
        put_lib(&t, "app/plugins/libp.so");
        put_lib(&t, "opt/lib64/libl.so");
        put_lib(&t, "abs/libabs.so");
        env = env_new(&t, NULL);

        p = find_ok(env, &req, "liba.so");
        assert_string_equal(p, "/app/lib/liba.so");
        free(p);
        p = find_ok(env, &req, "libb.so");
        assert_string_equal(p, "/app/other/libb.so");
        free(p);
        /* names with a slash: relative to the origin, or absolute */
        p = find_ok(env, &req, "../plugins/libp.so");
        assert_string_equal(p, "/app/plugins/libp.so");
        free(p);
        p = find_ok(env, &req, "/abs/libabs.so");
        assert_string_equal(p, "/abs/libabs.so");
        free(p);
        find_none(env, &req, "plugins/libp.so");
        find_none(env, &req, "/abs/../../../libabs.so");
        /* $ORIGIN without an origin drops the entry */
        find_none(env, &(struct ld_request){ .obj = &obj }, "liba.so");
        /* $LIB tries lib/<triplet>, lib64, lib */
        p = find_ok(env, &(struct ld_request){ .obj = &libobj }, "libl.so");
        assert_string_equal(p, "/opt/lib64/libl.so");
        free(p);
        ld_env_free(env);
        elf_info_release(&obj);
        elf_info_release(&libobj);
        troot_free(&t);
}

static void test_search_wrong_class(void **state) {
        struct troot t;
        struct ld_env *env;
        struct elf_info obj = obj_x86_64(NULL, "/mixed");
        struct elf_info obj32 = { .elf_class = ELFCLASS32, .data = ELFDATA2LSB, .machine = EM_386 };
        char *p;

        troot_new(&t);
        /* earlier candidates of the wrong class, byte order or machine */
        put_lib_in(t.root, "mixed/libw.so", ELFCLASS32, ELFDATA2LSB, EM_386);
        put_lib_in(t.root, "lib/x86_64-linux-gnu/libw.so", ELFCLASS64, ELFDATA2LSB, EM_AARCH64);
        put_lib_in(t.root, "usr/lib/x86_64-linux-gnu/libw.so", ELFCLASS64, ELFDATA2MSB, EM_X86_64);
        put_lib_in(t.root, "lib64/libw.so", ELFCLASS64, ELFDATA2LSB, EM_X86_64);
        put_lib_in(t.root, "lib32/libw.so", ELFCLASS32, ELFDATA2LSB, EM_386);
        /* a directory and a FIFO with the library's name are not libraries */
        put_lib(&t, "usr/lib64/libd.so/inner");
        put_lib(&t, "usr/lib/libd.so");
        {
                _cleanup_free_ char *fifo = NULL;
                assert_true(asprintf(&fifo, "%s/lib/x86_64-linux-gnu/libf.so", t.root) > 0);
                assert_int_equal(mkfifo(fifo, 0644), 0);
        }
        put_lib(&t, "usr/lib/x86_64-linux-gnu/libf.so");
        /* not an ELF at all (a linker script or placeholder) still counts */
        put_text(&t, "lib/x86_64-linux-gnu/libs.so", "GROUP ( libs.so.1 )\n");
        env = env_new(&t, NULL);

        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libw.so");
        assert_string_equal(p, "/lib64/libw.so");
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &obj32 }, "libw.so");
        assert_string_equal(p, "/lib32/libw.so"); /* /mixed is only in obj's RUNPATH */
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libd.so");
        assert_string_equal(p, "/usr/lib/libd.so");
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libf.so");
        assert_string_equal(p, "/usr/lib/x86_64-linux-gnu/libf.so");
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libs.so");
        assert_string_equal(p, "/lib/x86_64-linux-gnu/libs.so");
        free(p);
        ld_env_free(env);
        elf_info_release(&obj);
        troot_free(&t);
}

static void test_search_cache_and_conf(void **state) {
        static const struct fake_cache_entry entries[] = {
                { 0x0303, "libc.so.6", "/stale/libc.so.6", 0 },   /* the cache is stale: gone */
                { 0x0003, "libc.so.6", "/cache32/libc.so.6", 0 }, /* wrong flags for x86-64 */
                { 0x0303, "libc.so.6", "/cache64/libc.so.6", 0 },
                { 0x0303, "libq.so.1", "/cache64/libq.so.1", 0 }, /* wrong class on disk */
        };
        struct troot t;
        struct ld_env *env;
        struct elf_info obj = obj_x86_64(NULL, NULL);
        uint8_t buf[4096];
        size_t n = build_cache(CACHE_NEW, ELFDATA2LSB, entries, ELEMENTSOF(entries), buf, sizeof(buf));
        char *p;

        troot_new(&t);
        put_file_in(t.root, "etc/ld.so.cache", buf, n);
        put_text(&t, "etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
        put_text(&t, "etc/ld.so.conf.d/x.conf", "/confdir\n");
        put_lib_in(t.root, "cache32/libc.so.6", ELFCLASS64, ELFDATA2LSB, EM_X86_64);
        put_lib(&t, "cache64/libc.so.6");
        put_lib(&t, "lib/x86_64-linux-gnu/libc.so.6");
        put_lib_in(t.root, "cache64/libq.so.1", ELFCLASS32, ELFDATA2LSB, EM_386);
        put_lib(&t, "confdir/libq.so.1");
        put_lib(&t, "lib/x86_64-linux-gnu/libq.so.1");
        env = env_new(&t, NULL);
        assert_non_null(ld_env_get_cache(env));
        assert_string_equal(ld_env_get_conf_dirs(env)[0], "/confdir");

        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libc.so.6");
        assert_string_equal(p, "/cache64/libc.so.6");
        free(p);
        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libq.so.1");
        assert_string_equal(p, "/confdir/libq.so.1");
        free(p);
        ld_env_free(env);

        /* a corrupt cache is ignored, as ld.so ignores it, with one warning
         * naming it and why; the conf and default directories still serve */
        {
                _cleanup_(error_freep) struct smith_error *err = NULL;
                _cleanup_free_ char *warned = NULL;
                int saved = dup(STDERR_FILENO);
                FILE *cap = tmpfile();
                size_t wlen;

                assert_true(saved >= 0 && cap);
                env = NULL;
                put_file_in(t.root, "etc/ld.so.cache", buf, 60);
                fflush(stderr);
                assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
                int r = ld_env_new(t.fd, NULL, &env, &err);
                fflush(stderr);
                assert_true(dup2(saved, STDERR_FILENO) >= 0);
                close(saved);
                if (r < 0)
                        fail_msg("ld_env_new: %s", err ? err->msg : "?");
                assert_int_equal(fseek(cap, 0, SEEK_SET), 0);
                warned = calloc(1, 4096);
                wlen = fread(warned, 1, 4095, cap);
                fclose(cap);
                assert_string_equal(warned, "smith: warning: '/etc/ld.so.cache': 4 entries do not fit in the file: "
                                            "searching without it\n");
                assert_true(wlen > 0);
                assert_null(ld_env_get_cache(env));
                p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libc.so.6");
                assert_string_equal(p, "/lib/x86_64-linux-gnu/libc.so.6");
                free(p);
                p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libq.so.1");
                assert_string_equal(p, "/confdir/libq.so.1");
                free(p);
                ld_env_free(env);
        }
        troot_free(&t);
}

static void test_search_unresolved_symlinks(void **state) {
        struct troot t;
        struct ld_env *env;
        struct elf_info obj = obj_x86_64(NULL, NULL);
        char *p;

        troot_new(&t);
        /* a merged-/usr root: /lib -> usr/lib */
        put_lib(&t, "usr/lib/x86_64-linux-gnu/libq.so.2.0");
        put_symlink_in(t.root, "usr/lib/x86_64-linux-gnu/libq.so.2", "libq.so.2.0");
        put_symlink_in(t.root, "lib", "usr/lib");
        env = env_new(&t, NULL);
        p = find_ok(env, &(struct ld_request){ .obj = &obj }, "libq.so.2");
        assert_string_equal(p, "/lib/x86_64-linux-gnu/libq.so.2");
        free(p);
        ld_env_free(env);
        troot_free(&t);
}

static void test_search_hostile(void **state) {
        struct troot t;
        struct ld_env *env;
        struct elf_info obj = obj_x86_64(NULL, NULL);
        _cleanup_free_ char *abs_target = NULL;
        char *p;

        troot_new(&t);
        put_lib_in(t.top, "outside/lib/libevil.so.1", ELFCLASS64, ELFDATA2LSB, EM_X86_64);
        assert_true(asprintf(&abs_target, "%s/outside/lib", t.top) > 0);
        put_symlink_in(t.root, "lib/x86_64-linux-gnu", "../../../outside/lib");
        put_symlink_in(t.root, "usr/lib/x86_64-linux-gnu", abs_target);
        put_symlink_in(t.root, "lib64/libevil.so.1", "/../../../../outside/lib/libevil.so.1");
        put_text(&t, "etc/ld.so.conf", "/../../outside/lib\n");
        env = env_new(&t, "/../../outside/lib");
        find_none(env, &(struct ld_request){ .obj = &obj, .origin = "/" }, "libevil.so.1");
        find_none(env, &(struct ld_request){ .obj = &obj, .origin = "/" }, "../../outside/lib/libevil.so.1");
        find_none(env, &(struct ld_request){ .obj = &obj, .origin = "/" }, "..");
        find_none(env, &(struct ld_request){ .obj = &obj, .origin = "/" }, "");
        /* Control: with the library inside the root the same lookup succeeds. */
        put_lib(&t, "outside/lib/libevil.so.1");
        p = find_ok(env, &(struct ld_request){ .obj = &obj, .origin = "/" }, "libevil.so.1");
        assert_string_equal(p, "/outside/lib/libevil.so.1");
        free(p);
        ld_env_free(env);
        troot_free(&t);
}

static void test_search_host(void **state) {
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_(ld_env_freep) struct ld_env *env = NULL;
        _cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = open("/usr/bin/id", O_RDONLY | O_CLOEXEC);
        struct elf_info info = {};
        struct ld_request req = { .obj = &info, .origin = "/usr/bin" };

#if !defined(__x86_64__)
        skip();
#endif
        if (fd < 0 || access("/lib/x86_64-linux-gnu/libc.so.6", F_OK) < 0)
                skip();
        assert_int_equal(elf_read(fd, "/usr/bin/id", &info, &err), 0);
        assert_int_equal(ld_env_new(root, NULL, &env, &err), 0);
        for (size_t i = 0; info.needed[i]; i++) {
                _cleanup_free_ char *p = NULL;
                _cleanup_close_ int lfd = -1;
                struct elf_info lib = {};

                assert_int_equal(ld_env_find(env, &req, info.needed[i], &p, &err), 0);
                assert_non_null(p);
                assert_true(p[0] == '/');
                if (streq(info.needed[i], "libc.so.6"))
                        assert_true(streq(p, "/lib/x86_64-linux-gnu/libc.so.6") ||
                                    streq(p, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
                lfd = open(p, O_RDONLY | O_CLOEXEC);
                assert_true(lfd >= 0);
                assert_int_equal(elf_read(lfd, p, &lib, &err), 0);
                assert_int_equal(lib.elf_class, ELFCLASS64);
                assert_string_equal(lib.soname, info.needed[i]);
                elf_info_release(&lib);
        }
        elf_info_release(&info);
}

/* A separate debug file as dwz leaves it, by hand (ELF64, little-endian):
 * the header, the section names, the .gnu_debugaltlink contents (path, NUL,
 * a 20-byte build-id), then three section headers. */
#define ALT_PATH "/usr/lib/debug/.dwz/x-1.0-1.x86_64"
static size_t build_altlink(uint8_t *buf, bool with_link) {
        static const char names[] = "\0.shstrtab\0.gnu_debugaltlink";
        size_t names_off = 64, data_off = names_off + sizeof(names), data_len = sizeof(ALT_PATH) + 20;
        size_t sh_off = (data_off + data_len + 7) & ~(size_t) 7, n = with_link ? 3 : 2;
        Elf64_Ehdr *h = (Elf64_Ehdr *) buf;
        Elf64_Shdr *sh = (Elf64_Shdr *) (buf + sh_off);

        memset(buf, 0, sh_off + n * sizeof(Elf64_Shdr));
        memcpy(h->e_ident, ELFMAG, SELFMAG);
        h->e_ident[EI_CLASS] = ELFCLASS64;
        h->e_ident[EI_DATA] = ELFDATA2LSB;
        h->e_ident[EI_VERSION] = EV_CURRENT;
        h->e_type = ET_DYN;
        h->e_machine = EM_X86_64;
        h->e_version = EV_CURRENT;
        h->e_ehsize = sizeof(Elf64_Ehdr);
        h->e_shoff = sh_off;
        h->e_shentsize = sizeof(Elf64_Shdr);
        h->e_shnum = (uint16_t) n;
        h->e_shstrndx = 1;
        memcpy(buf + names_off, names, sizeof(names));
        memcpy(buf + data_off, ALT_PATH, sizeof(ALT_PATH));
        memset(buf + data_off + sizeof(ALT_PATH), 0xab, 20);
        sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_STRTAB, .sh_offset = names_off, .sh_size = sizeof(names) };
        if (with_link)
                sh[2] = (Elf64_Shdr){
                        .sh_name = 11, .sh_type = SHT_PROGBITS, .sh_offset = data_off, .sh_size = data_len
                };
        return sh_off + n * sizeof(Elf64_Shdr);
}

static int read_altlink(const uint8_t *buf, size_t len, char **ret, struct smith_error **err) {
        _cleanup_close_ int fd = memfd_with(buf, len);
        return elf_read_debugaltlink(fd, "image", ret, err);
}

static void test_debugaltlink(void **state) {
        _Alignas(8) uint8_t buf[1024];
        _cleanup_(error_freep) struct smith_error *err = NULL;
        _cleanup_free_ char *path = NULL;
        Elf64_Ehdr *h = (Elf64_Ehdr *) buf;
        size_t len = build_altlink(buf, true), sh_off = h->e_shoff;
        Elf64_Shdr *sh = (Elf64_Shdr *) (buf + sh_off);
        (void) state;

        assert_int_equal(read_altlink(buf, len, &path, &err), 0);
        assert_string_equal(path, ALT_PATH);
        free(TAKE_PTR(path));
        /* no such section: no path, no error */
        len = build_altlink(buf, false);
        assert_int_equal(read_altlink(buf, len, &path, &err), 0);
        assert_null(path);
        /* not an ELF */
        assert_int_equal(read_altlink((const uint8_t *) "#!/bin/sh\n", 10, &path, &err), 1);
        /* hostile: the table past the end, a name table past the end, no NUL in the path, an empty path */
        len = build_altlink(buf, true);
        h->e_shoff = len;
        assert_true(read_altlink(buf, len, &path, &err) < 0);
        assert_non_null(strstr(err->msg, "'image'"));
        error_free(TAKE_PTR(err));
        h->e_shoff = sh_off;
        sh[1].sh_size = 1u << 20;
        assert_true(read_altlink(buf, len, &path, &err) < 0);
        error_free(TAKE_PTR(err));
        sh[1].sh_size = sizeof("\0.shstrtab\0.gnu_debugaltlink");
        sh[2].sh_size = sizeof(ALT_PATH) - 1;
        assert_true(read_altlink(buf, len, &path, &err) < 0);
        assert_non_null(strstr(err->msg, "gnu_debugaltlink"));
        error_free(TAKE_PTR(err));
        sh[2].sh_size = sizeof(ALT_PATH) + 20;
        buf[sh[2].sh_offset] = '\0';
        assert_true(read_altlink(buf, len, &path, &err) < 0);
        error_free(TAKE_PTR(err));
        assert_null(path);
        /* every truncation of a good one: an answer, never a crash */
        len = build_altlink(buf, true);
        for (size_t n = 0; n < len; n++) {
                int r = read_altlink(buf, n, &path, &err);
                assert_true(r == 1 || r < 0 || (r == 0 && !path));
                error_free(TAKE_PTR(err));
                free(TAKE_PTR(path));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_host_id),
                cmocka_unit_test(test_read_build_id),
                cmocka_unit_test(test_debugaltlink),
                cmocka_unit_test(test_read_host_libc),
                cmocka_unit_test(test_read_not_elf),
                cmocka_unit_test(test_read_image64),
                cmocka_unit_test(test_read_big_endian32),
                cmocka_unit_test(test_read_static),
                cmocka_unit_test(test_read_malformed),
                cmocka_unit_test(test_read_long_string),
                cmocka_unit_test(test_read_mutations),
                cmocka_unit_test(test_cache_synthetic),
                cmocka_unit_test(test_cache_malformed),
                cmocka_unit_test(test_cache_host),
                cmocka_unit_test(test_conf_include),
                cmocka_unit_test(test_conf_missing_and_deep),
                cmocka_unit_test(test_conf_hostile),
                cmocka_unit_test(test_expand_dst),
                cmocka_unit_test(test_normalize),
                cmocka_unit_test(test_search_order),
                cmocka_unit_test(test_search_origin_and_slash),
                cmocka_unit_test(test_search_wrong_class),
                cmocka_unit_test(test_search_cache_and_conf),
                cmocka_unit_test(test_search_unresolved_symlinks),
                cmocka_unit_test(test_search_hostile),
                cmocka_unit_test(test_search_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
