/* Bounds-checked parsing of ELF files from an untrusted root (what the
 * loader knows about each machine is machine.c's).
 *
 * Files are read with pread() into small native structs, converting from
 * either byte order and either class, so a big-endian 32-bit object parses
 * on a little-endian 64-bit host.  Every offset and size read from the file
 * is checked against the file size (with overflow checks) before anything
 * is allocated or read, and counts and string lengths have hard limits. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/strv.h"
#include "elf.h"

/* --- reading --- */

struct elf_file {
        int fd;
        const char *name;
        uint64_t size;
        int elf_class;
        int data;
};

/* Fixed-width fields in the file's byte order. */
static uint16_t get16(const struct elf_file *f, const uint8_t *p) {
        if (f->data == ELFDATA2MSB)
                return (uint16_t) ((p[0] << 8) | p[1]);
        return (uint16_t) ((p[1] << 8) | p[0]);
}

static uint32_t get32(const struct elf_file *f, const uint8_t *p) {
        if (f->data == ELFDATA2MSB)
                return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
        return ((uint32_t) p[3] << 24) | ((uint32_t) p[2] << 16) | ((uint32_t) p[1] << 8) | p[0];
}

static uint64_t get64(const struct elf_file *f, const uint8_t *p) {
        uint64_t hi, lo;
        if (f->data == ELFDATA2MSB) {
                hi = get32(f, p);
                lo = get32(f, p + 4);
        } else {
                lo = get32(f, p);
                hi = get32(f, p + 4);
        }
        return (hi << 32) | lo;
}

/* An address-sized field: 32 or 64 bits by class. */
static uint64_t getaddr(const struct elf_file *f, const uint8_t *p) {
        return f->elf_class == ELFCLASS64 ? get64(f, p) : get32(f, p);
}

static bool range_in_file(const struct elf_file *f, uint64_t off, uint64_t len) {
        return off <= f->size && len <= f->size - off;
}

/* Reads exactly len bytes at off, which the caller has checked lie inside
 * the file; a short read means the file shrank under us. */
static int read_at(const struct elf_file *f, void *buf, size_t len, uint64_t off, struct smith_error **err) {
        uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = pread(f->fd, p, len, (off_t) off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return error_set_errno(err, SMITH_ERR_IO, errno, "read '%s'", f->name);
                }
                if (n == 0)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': unexpected end of file", f->name);
                p += n;
                len -= (size_t) n;
                off += (uint64_t) n;
        }
        return 0;
}

/* Reads the NUL-terminated string at off in the string table [tab, tab+tabsz). */
static int read_string(const struct elf_file *f, uint64_t tab, uint64_t tabsz, uint64_t off, char **ret,
                       struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;
        uint64_t avail;
        size_t n;
        char *nul;
        int r;

        if (off >= tabsz)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string offset %" PRIu64 " outside the string table",
                                 f->name, off);
        avail = tabsz - off;
        n = (size_t) MIN(avail, (uint64_t) ELF_MAX_STRING + 1);
        buf = malloc(n);
        if (!buf)
                return error_oom(err);
        r = read_at(f, buf, n, tab + off, err);
        if (r < 0)
                return r;
        nul = memchr(buf, '\0', n);
        if (!nul) {
                if (avail > ELF_MAX_STRING)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': string at offset %" PRIu64 " too long", f->name,
                                         off);
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string at offset %" PRIu64 " not terminated", f->name,
                                 off);
        }
        *ret = strdup(buf);
        if (!*ret)
                return error_oom(err);
        return 0;
}

/* A search path string split at ':'; "" gives an empty (non-NULL) list. */
static int split_path(const struct elf_file *f, const char *s, char ***ret, struct smith_error **err) {
        char **l = isempty(s) ? calloc(1, sizeof(char *)) : strv_split(s, ":", false);
        if (!l)
                return error_oom(err);
        *ret = l;
        return 0;
}

struct phdr {
        uint32_t type;
        uint64_t offset, vaddr, filesz, align;
};

struct ehdr {
        unsigned type, machine, flags;
        uint64_t phoff, shoff;
        unsigned phentsize, phnum, shentsize;
};

/* Byte offsets of the header fields we use, by class. */
static void decode_ehdr(const struct elf_file *f, const uint8_t *b, struct ehdr *h) {
        h->type = get16(f, b + 16);
        h->machine = get16(f, b + 18);
        if (f->elf_class == ELFCLASS64) {
                h->phoff = get64(f, b + 32);
                h->shoff = get64(f, b + 40);
                h->flags = get32(f, b + 48);
                h->phentsize = get16(f, b + 54);
                h->phnum = get16(f, b + 56);
                h->shentsize = get16(f, b + 58);
        } else {
                h->phoff = get32(f, b + 28);
                h->shoff = get32(f, b + 32);
                h->flags = get32(f, b + 36);
                h->phentsize = get16(f, b + 42);
                h->phnum = get16(f, b + 44);
                h->shentsize = get16(f, b + 46);
        }
}

static void decode_phdr(const struct elf_file *f, const uint8_t *b, struct phdr *p) {
        p->type = get32(f, b);
        if (f->elf_class == ELFCLASS64) {
                p->offset = get64(f, b + 8);
                p->vaddr = get64(f, b + 16);
                p->filesz = get64(f, b + 32);
                p->align = get64(f, b + 48);
        } else {
                p->offset = get32(f, b + 4);
                p->vaddr = get32(f, b + 8);
                p->filesz = get32(f, b + 16);
                p->align = get32(f, b + 28);
        }
}

/* With PN_XNUM in e_phnum the real count is sh_info of section 0. */
static int read_xnum(const struct elf_file *f, const struct ehdr *h, unsigned *ret, struct smith_error **err) {
        size_t shsize = f->elf_class == ELFCLASS64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
        size_t info_off = f->elf_class == ELFCLASS64 ? offsetof(Elf64_Shdr, sh_info) : offsetof(Elf32_Shdr, sh_info);
        uint8_t b[sizeof(Elf64_Shdr)];
        uint32_t n;
        int r;

        if (h->shoff == 0 || h->shentsize < shsize || !range_in_file(f, h->shoff, shsize))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': extended program header count outside the file",
                                 f->name);
        r = read_at(f, b, shsize, h->shoff, err);
        if (r < 0)
                return r;
        n = get32(f, b + info_off);
        if (n > ELF_MAX_PHDRS)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': too many program headers (%" PRIu32 ")", f->name, n);
        *ret = n;
        return 0;
}

/* File offset of a virtual address, through the PT_LOAD segment holding it. */
static bool vaddr_to_offset(const struct phdr *ph, size_t n, uint64_t addr, uint64_t *ret) {
        for (size_t i = 0; i < n; i++) {
                if (ph[i].type != PT_LOAD || addr < ph[i].vaddr)
                        continue;
                if (addr - ph[i].vaddr >= ph[i].filesz)
                        continue;
                if (ph[i].offset > UINT64_MAX - (addr - ph[i].vaddr))
                        return false;
                *ret = ph[i].offset + (addr - ph[i].vaddr);
                return true;
        }
        return false;
}

struct dyn_refs {
        uint64_t *needed; /* string offsets */
        size_t n_needed;
        bool has_strtab, has_strsz, has_rpath, has_runpath, has_soname;
        uint64_t strtab, strsz, rpath, runpath, soname;
};

/* A tag that may appear once: the first of them wins, as in ld.so. */
static void first_wins(bool *has, uint64_t *field, uint64_t val) {
        if (!*has)
                *field = val;
        *has = true;
}

static int read_dynamic(const struct elf_file *f, const struct phdr *dyn, struct dyn_refs *d,
                        struct smith_error **err) {
        size_t entsize = f->elf_class == ELFCLASS64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
        size_t half = entsize / 2;
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t count;
        int r;

        if (!range_in_file(f, dyn->offset, dyn->filesz))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': dynamic section outside the file", f->name);
        count = dyn->filesz / entsize;
        if (count > ELF_MAX_DYN_ENTRIES)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': dynamic section has too many entries (%" PRIu64 ")",
                                 f->name, count);
        if (count == 0)
                return 0;
        buf = malloc(count * entsize);
        if (!buf)
                return error_oom(err);
        r = read_at(f, buf, count * entsize, dyn->offset, err);
        if (r < 0)
                return r;
        d->needed = calloc(count, sizeof(uint64_t));
        if (!d->needed)
                return error_oom(err);

        for (uint64_t i = 0; i < count; i++) {
                const uint8_t *e = buf + i * entsize;
                uint64_t tag = getaddr(f, e), val = getaddr(f, e + half);

                /* The first of each singular tag wins, as in ld.so. */
                switch (tag) {
                case DT_NULL:
                        return 0;
                case DT_NEEDED:
                        d->needed[d->n_needed++] = val;
                        break;
                case DT_STRTAB:
                        first_wins(&d->has_strtab, &d->strtab, val);
                        break;
                case DT_STRSZ:
                        first_wins(&d->has_strsz, &d->strsz, val);
                        break;
                case DT_RPATH:
                        first_wins(&d->has_rpath, &d->rpath, val);
                        break;
                case DT_RUNPATH:
                        first_wins(&d->has_runpath, &d->runpath, val);
                        break;
                case DT_SONAME:
                        first_wins(&d->has_soname, &d->soname, val);
                        break;
                default:
                        break;
                }
        }
        return 0;
}

/* DT_RPATH or DT_RUNPATH: the string at off of the table, split at ':'. */
static int read_path_list(const struct elf_file *f, uint64_t tab, uint64_t tabsz, uint64_t off, char ***ret,
                          struct smith_error **err) {
        _cleanup_free_ char *s = NULL;
        int r = read_string(f, tab, tabsz, off, &s, err);

        return r < 0 ? r : split_path(f, s, ret, err);
}

static int resolve_strings(const struct elf_file *f, const struct phdr *ph, size_t n_ph, const struct dyn_refs *d,
                           struct elf_info *info, struct smith_error **err) {
        uint64_t tab, tabsz;
        int r;

        if (d->n_needed == 0 && !d->has_rpath && !d->has_runpath && !d->has_soname)
                return 0;
        if (!d->has_strtab)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': dynamic section has strings but no DT_STRTAB", f->name);
        if (!vaddr_to_offset(ph, n_ph, d->strtab, &tab))
                return error_set(err, SMITH_ERR_SOURCE,
                                 "'%s': string table address 0x%" PRIx64 " not in any loaded segment", f->name,
                                 d->strtab);
        if (tab >= f->size)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string table outside the file", f->name);
        /* Without DT_STRSZ, the table runs to the end of the file at most;
         * read_string() still stops each string at ELF_MAX_STRING. */
        tabsz = d->has_strsz ? d->strsz : f->size - tab;
        if (!range_in_file(f, tab, tabsz))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': string table outside the file", f->name);

        for (size_t i = 0; i < d->n_needed; i++) {
                char *s = NULL;
                r = read_string(f, tab, tabsz, d->needed[i], &s, err);
                if (r < 0)
                        return r;
                if (strv_consume(&info->needed, s) < 0)
                        return error_oom(err);
        }
        if (d->has_soname) {
                r = read_string(f, tab, tabsz, d->soname, &info->soname, err);
                if (r < 0)
                        return r;
        }
        if (d->has_rpath && read_path_list(f, tab, tabsz, d->rpath, &info->rpath, err) < 0)
                return -1;
        if (d->has_runpath && read_path_list(f, tab, tabsz, d->runpath, &info->runpath, err) < 0)
                return -1;
        return 0;
}

static int read_interp(const struct elf_file *f, const struct phdr *p, char **ret, struct smith_error **err) {
        _cleanup_free_ char *buf = NULL;

        if (!range_in_file(f, p->offset, p->filesz))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': interpreter path outside the file", f->name);
        if (p->filesz == 0 || p->filesz > ELF_MAX_STRING + 1)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': bad interpreter path size %" PRIu64, f->name, p->filesz);
        buf = malloc((size_t) p->filesz);
        if (!buf)
                return error_oom(err);
        if (read_at(f, buf, (size_t) p->filesz, p->offset, err) < 0)
                return -1;
        if (!memchr(buf, '\0', (size_t) p->filesz))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': interpreter path not terminated", f->name);
        *ret = strdup(buf);
        if (!*ret)
                return error_oom(err);
        return 0;
}

/* The GNU build-id note in the PT_NOTE segment p, as lowercase hex in
 * *ret (left NULL when the segment has none).  Notes are what the linker
 * wrote, but the file is untrusted: a segment too large or outside the
 * file, or a malformed note, is simply not read further (a build-id is
 * optional, and elf_read() must not fail on notes it does not need). */
static int read_build_id(const struct elf_file *f, const struct phdr *p, char **ret, struct smith_error **err) {
        _cleanup_free_ uint8_t *buf = NULL;
        uint64_t align = p->align == 8 ? 8 : 4, off = 0;
        int r;

        if (p->filesz < 12 || p->filesz > ELF_MAX_NOTES || !range_in_file(f, p->offset, p->filesz))
                return 0;
        buf = malloc(p->filesz);
        if (!buf)
                return error_oom(err);
        r = read_at(f, buf, p->filesz, p->offset, err);
        if (r < 0)
                return r;
        while (off + 12 <= p->filesz) {
                uint64_t namesz = get32(f, buf + off), descsz = get32(f, buf + off + 4), name_off, desc_off;
                uint32_t type = get32(f, buf + off + 8);

                name_off = off + 12;
                desc_off = name_off + ((namesz + align - 1) & ~(align - 1));
                if (namesz > p->filesz || descsz > p->filesz || desc_off > p->filesz || descsz > p->filesz - desc_off)
                        return 0;
                if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(buf + name_off, "GNU", 4) == 0 && descsz > 0 &&
                    descsz <= ELF_MAX_BUILD_ID) {
                        char *hex = malloc(descsz * 2 + 1);
                        if (!hex)
                                return error_oom(err);
                        for (uint64_t i = 0; i < descsz; i++)
                                snprintf(hex + i * 2, 3, "%02x", buf[desc_off + i]);
                        *ret = hex;
                        return 0;
                }
                off = desc_off + ((descsz + align - 1) & ~(align - 1));
        }
        return 0;
}

/* Reads e_ident and the rest of the header; 1 if this is not an ELF. */
static int read_header(int fd, const char *name, struct elf_file *f, uint8_t b[static sizeof(Elf64_Ehdr)],
                       struct smith_error **err) {
        struct stat st;
        size_t ehsize;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "stat '%s'", name);
        if (!S_ISREG(st.st_mode))
                return 1;
        *f = (struct elf_file){ .fd = fd, .name = name, .size = (uint64_t) st.st_size };
        if (f->size < EI_NIDENT)
                return 1;
        do
                n = pread(fd, b, EI_NIDENT, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return error_set_errno(err, SMITH_ERR_IO, errno, "read '%s'", name);
        if (n < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG) != 0)
                return 1;
        f->elf_class = b[EI_CLASS];
        f->data = b[EI_DATA];
        if (f->elf_class != ELFCLASS32 && f->elf_class != ELFCLASS64)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': unknown ELF class %d", name, f->elf_class);
        if (f->data != ELFDATA2LSB && f->data != ELFDATA2MSB)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': unknown ELF byte order %d", name, f->data);
        if (b[EI_VERSION] != EV_CURRENT)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': unknown ELF version %d", name, b[EI_VERSION]);
        ehsize = f->elf_class == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (f->size < ehsize)
                return 1; /* too short to be an ELF object */
        return read_at(f, b, ehsize, 0, err);
}

int elf_read(int fd, const char *name, struct elf_info *ret, struct smith_error **err) {
        _cleanup_(elf_info_release) struct elf_info info = {};
        _cleanup_free_ uint8_t *phbuf = NULL;
        _cleanup_free_ struct phdr *ph = NULL;
        _cleanup_free_ uint64_t *needed = NULL;
        uint8_t b[sizeof(Elf64_Ehdr)];
        struct dyn_refs d = {};
        const struct phdr *dyn = NULL, *interp = NULL;
        struct elf_file f;
        struct ehdr h;
        unsigned phnum;
        size_t phsize;
        int r;

        r = read_header(fd, name, &f, b, err);
        if (r != 0)
                return r;
        decode_ehdr(&f, b, &h);

        phnum = h.phnum;
        if (phnum == PN_XNUM) {
                r = read_xnum(&f, &h, &phnum, err);
                if (r < 0)
                        return r;
        }
        phsize = f.elf_class == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
        if (phnum > 0) {
                if (h.phentsize != phsize)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': bad program header size %u", name, h.phentsize);
                if (phnum > ELF_MAX_PHDRS)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': too many program headers (%u)", name, phnum);
                if (!range_in_file(&f, h.phoff, (uint64_t) phnum * phsize))
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': program header table outside the file", name);
                phbuf = malloc((size_t) phnum * phsize);
                ph = calloc(phnum, sizeof(struct phdr));
                if (!phbuf || !ph)
                        return error_oom(err);
                r = read_at(&f, phbuf, (size_t) phnum * phsize, h.phoff, err);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < phnum; i++) {
                decode_phdr(&f, phbuf + (size_t) i * phsize, &ph[i]);
                if (ph[i].type == PT_DYNAMIC && !dyn)
                        dyn = &ph[i];
                else if (ph[i].type == PT_INTERP && !interp)
                        interp = &ph[i];
        }
        for (unsigned i = 0, n_notes = 0; i < phnum && !info.build_id && n_notes < ELF_MAX_NOTE_SEGMENTS; i++)
                if (ph[i].type == PT_NOTE) {
                        n_notes++;
                        r = read_build_id(&f, &ph[i], &info.build_id, err);
                        if (r < 0)
                                return r;
                }

        info.elf_class = f.elf_class;
        info.data = f.data;
        info.machine = h.machine;
        info.type = h.type;
        info.flags = h.flags;
        info.is_dynamic = dyn != NULL;
        info.needed = calloc(1, sizeof(char *));
        if (!info.needed)
                return error_oom(err);

        if (interp) {
                r = read_interp(&f, interp, &info.interp, err);
                if (r < 0)
                        return r;
        }
        if (dyn) {
                r = read_dynamic(&f, dyn, &d, err);
                needed = d.needed;
                if (r < 0)
                        return r;
                r = resolve_strings(&f, ph, phnum, &d, &info, err);
                if (r < 0)
                        return r;
        }

        *ret = info;
        info = (struct elf_info){};
        return 0;
}

/* --- the sections of a separate debug file --- */

struct shdr {
        uint32_t name, type, link;
        uint64_t offset, size;
};

static void decode_shdr(const struct elf_file *f, const uint8_t *b, struct shdr *s) {
        s->name = get32(f, b);
        s->type = get32(f, b + 4);
        if (f->elf_class == ELFCLASS64) {
                s->offset = get64(f, b + 24);
                s->size = get64(f, b + 32);
                s->link = get32(f, b + 40);
        } else {
                s->offset = get32(f, b + 16);
                s->size = get32(f, b + 20);
                s->link = get32(f, b + 24);
        }
}

int elf_read_debugaltlink(int fd, const char *name, char **ret_path, struct smith_error **err) {
        static const char want[] = ".gnu_debugaltlink";
        _cleanup_free_ uint8_t *tab = NULL;
        _cleanup_free_ char *data = NULL;
        uint8_t b[sizeof(Elf64_Ehdr)];
        size_t shsize;
        struct elf_file f;
        struct shdr strs, s;
        struct ehdr h;
        unsigned shnum, shstrndx;
        int r;

        *ret_path = NULL;
        r = read_header(fd, name, &f, b, err);
        if (r != 0)
                return r;
        decode_ehdr(&f, b, &h);
        shnum = get16(&f, b + (f.elf_class == ELFCLASS64 ? 60 : 48));
        shstrndx = get16(&f, b + (f.elf_class == ELFCLASS64 ? 62 : 50));
        shsize = f.elf_class == ELFCLASS64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
        if (h.shoff == 0)
                return 0; /* no section headers */
        if (h.shentsize != shsize || !range_in_file(&f, h.shoff, shsize))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': section header table outside the file", name);
        if (shnum == 0 || shstrndx == SHN_XINDEX) {
                /* the real values in section 0: sh_size and sh_link */
                uint8_t s0[sizeof(Elf64_Shdr)];

                r = read_at(&f, s0, shsize, h.shoff, err);
                if (r < 0)
                        return r;
                decode_shdr(&f, s0, &s);
                if (shnum == 0)
                        shnum = s.size > ELF_MAX_SHDRS ? ELF_MAX_SHDRS + 1 : (unsigned) s.size;
                if (shstrndx == SHN_XINDEX)
                        shstrndx = s.link;
        }
        if (shnum > ELF_MAX_SHDRS)
                return error_set(err, SMITH_ERR_SOURCE, "'%s': too many sections", name);
        if (shstrndx == SHN_UNDEF || shstrndx >= shnum || !range_in_file(&f, h.shoff, (uint64_t) shnum * shsize))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': section header table outside the file", name);
        tab = malloc((size_t) shnum * shsize);
        if (!tab)
                return error_oom(err);
        r = read_at(&f, tab, (size_t) shnum * shsize, h.shoff, err);
        if (r < 0)
                return r;
        decode_shdr(&f, tab + (size_t) shstrndx * shsize, &strs);
        if (strs.type != SHT_STRTAB || !range_in_file(&f, strs.offset, strs.size))
                return error_set(err, SMITH_ERR_SOURCE, "'%s': section names outside the file", name);
        for (unsigned i = 1; i < shnum; i++) {
                char sname[sizeof(want)];
                char *nul;

                decode_shdr(&f, tab + (size_t) i * shsize, &s);
                if (s.type == SHT_NOBITS || s.name >= strs.size || strs.size - s.name < sizeof(want))
                        continue;
                r = read_at(&f, sname, sizeof(want), strs.offset + s.name, err);
                if (r < 0)
                        return r;
                if (memcmp(sname, want, sizeof(want)) != 0)
                        continue;
                /* the path, its NUL, and the dwz file's build-id */
                if (s.size < 2 || s.size > ELF_MAX_STRING + 1 + ELF_MAX_BUILD_ID ||
                    !range_in_file(&f, s.offset, s.size))
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': malformed .gnu_debugaltlink", name);
                data = malloc(s.size);
                if (!data)
                        return error_oom(err);
                r = read_at(&f, data, s.size, s.offset, err);
                if (r < 0)
                        return r;
                nul = memchr(data, '\0', s.size);
                if (!nul || nul == data || nul - data > (ptrdiff_t) ELF_MAX_STRING)
                        return error_set(err, SMITH_ERR_SOURCE, "'%s': malformed .gnu_debugaltlink", name);
                *ret_path = strdup(data);
                return *ret_path ? 0 : error_oom(err);
        }
        return 0;
}

int elf_host_info(struct elf_info *ret) {
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        *ret = (struct elf_info){};
        r = elf_read_ident(fd, &ret->elf_class, &ret->data, &ret->machine);
        return r < 0 ? r : r > 0 ? -ENOEXEC : 0;
}

void elf_info_release(struct elf_info *e) {
        if (!e)
                return;
        free_many(e->interp, e->soname, e->build_id);
        strv_free_many(e->needed, e->rpath, e->runpath);
        *e = (struct elf_info){};
}

int elf_read_ident(int fd, int *ret_class, int *ret_data, unsigned *ret_machine) {
        uint8_t b[EI_NIDENT + 4];
        struct elf_file f = {};
        size_t got = 0;

        while (got < sizeof(b)) {
                ssize_t n = pread(fd, b + got, sizeof(b) - got, (off_t) got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        if (got < sizeof(b) || memcmp(b, ELFMAG, SELFMAG) != 0)
                return 1;
        f.data = b[EI_DATA];
        *ret_class = b[EI_CLASS];
        *ret_data = b[EI_DATA];
        *ret_machine = get16(&f, b + EI_NIDENT + 2);
        return 0;
}
