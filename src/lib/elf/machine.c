/* What the loader knows about each machine: its multiarch triplets, the
 * $PLATFORM ld.so expands, the ld.so.cache flags its libraries carry, and
 * a name for messages; see elf.h. */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "elf.h"

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

/* ld.so.cache entry flags, as glibc's ldconfig.h defines them. */
#define FLAG_ELF 0x0001
#define FLAG_ELF_LIBC6 0x0003
#define FLAG_SPARC_LIB64 0x0100
#define FLAG_IA64_LIB64 0x0200
#define FLAG_X8664_LIB64 0x0300
#define FLAG_S390_LIB64 0x0400
#define FLAG_POWERPC_LIB64 0x0500
#define FLAG_MIPS64_LIBN32 0x0600
#define FLAG_MIPS64_LIBN64 0x0700
#define FLAG_X8664_LIBX32 0x0800
#define FLAG_ARM_LIBHF 0x0900
#define FLAG_AARCH64_LIB64 0x0a00
#define FLAG_ARM_LIBSF 0x0b00
#define FLAG_MIPS_LIB32_NAN2008 0x0c00
#define FLAG_MIPS64_LIBN32_NAN2008 0x0d00
#define FLAG_MIPS64_LIBN64_NAN2008 0x0e00
#define FLAG_RISCV_FLOAT_ABI_SOFT 0x0f00
#define FLAG_RISCV_FLOAT_ABI_DOUBLE 0x1000
#define FLAG_LARCH_FLOAT_ABI_SOFT 0x1100
#define FLAG_LARCH_FLOAT_ABI_DOUBLE 0x1200

const char *const *elf_arch_triplets(int elf_class, int data, unsigned machine) {
        static const char *const none[] = { NULL };
        static const char *const x86_64[] = { "x86_64-linux-gnu", NULL };
        static const char *const x32[] = { "x86_64-linux-gnux32", NULL };
        static const char *const i386[] = { "i386-linux-gnu", "i686-linux-gnu", NULL };
        static const char *const aarch64[] = { "aarch64-linux-gnu", NULL };
        static const char *const aarch64_be[] = { "aarch64_be-linux-gnu", NULL };
        static const char *const arm[] = { "arm-linux-gnueabihf", "arm-linux-gnueabi", NULL };
        static const char *const armeb[] = { "armeb-linux-gnueabihf", "armeb-linux-gnueabi", NULL };
        static const char *const ppc64le[] = { "powerpc64le-linux-gnu", NULL };
        static const char *const ppc64[] = { "powerpc64-linux-gnu", NULL };
        static const char *const ppc[] = { "powerpc-linux-gnu", NULL };
        static const char *const s390x[] = { "s390x-linux-gnu", NULL };
        static const char *const s390[] = { "s390-linux-gnu", NULL };
        static const char *const riscv64[] = { "riscv64-linux-gnu", NULL };
        static const char *const riscv32[] = { "riscv32-linux-gnu", NULL };
        static const char *const mips64el[] = { "mips64el-linux-gnuabi64", "mips64el-linux-gnuabin32", NULL };
        static const char *const mips64[] = { "mips64-linux-gnuabi64", "mips64-linux-gnuabin32", NULL };
        static const char *const mipsel[] = { "mipsel-linux-gnu", "mips64el-linux-gnuabin32", NULL };
        static const char *const mips[] = { "mips-linux-gnu", "mips64-linux-gnuabin32", NULL };
        static const char *const sparc64[] = { "sparc64-linux-gnu", NULL };
        static const char *const sparc[] = { "sparc-linux-gnu", NULL };
        static const char *const loong64[] = { "loongarch64-linux-gnu", NULL };
        static const char *const alpha[] = { "alpha-linux-gnu", NULL };
        static const char *const m68k[] = { "m68k-linux-gnu", NULL };
        static const char *const hppa[] = { "hppa-linux-gnu", NULL };
        static const char *const ia64[] = { "ia64-linux-gnu", NULL };
        static const char *const sh4[] = { "sh4-linux-gnu", NULL };
        bool is64 = elf_class == ELFCLASS64, le = data == ELFDATA2LSB;

        switch (machine) {
        case EM_X86_64:
                return is64 ? x86_64 : x32;
        case EM_386:
                return i386;
        case EM_AARCH64:
                return le ? aarch64 : aarch64_be;
        case EM_ARM:
                return le ? arm : armeb;
        case EM_PPC64:
                return le ? ppc64le : ppc64;
        case EM_PPC:
                return ppc;
        case EM_S390:
                return is64 ? s390x : s390;
        case EM_RISCV:
                return is64 ? riscv64 : riscv32;
        case EM_MIPS:
                if (is64)
                        return le ? mips64el : mips64;
                return le ? mipsel : mips;
        case EM_SPARCV9:
                return sparc64;
        case EM_SPARC:
        case EM_SPARC32PLUS:
                return sparc;
        case EM_LOONGARCH:
                return loong64;
        case EM_ALPHA:
                return alpha;
        case EM_68K:
                return m68k;
        case EM_PARISC:
                return hppa;
        case EM_IA_64:
                return ia64;
        case EM_SH:
                return sh4;
        default:
                return none;
        }
}

/* glibc takes $PLATFORM from the kernel's AT_PLATFORM; these are the values
 * a typical machine of each architecture reports. */
const char *elf_arch_platform(int elf_class, int data, unsigned machine) {
        bool is64 = elf_class == ELFCLASS64, le = data == ELFDATA2LSB;

        switch (machine) {
        case EM_X86_64:
                return "x86_64";
        case EM_386:
                return "i686";
        case EM_AARCH64:
                return le ? "aarch64" : "aarch64_be";
        case EM_ARM:
                return le ? "v7l" : "v7b";
        case EM_PPC64:
                return "power9";
        case EM_PPC:
                return "ppc";
        case EM_S390:
                return is64 ? "z13" : "s390";
        case EM_RISCV:
                return is64 ? "riscv64" : "riscv32";
        case EM_MIPS:
                return is64 ? "mips64" : "mips";
        case EM_SPARCV9:
                return "sparc64";
        case EM_LOONGARCH:
                return "loongarch64";
        default:
                return NULL;
        }
}

bool elf_arch_cache_flags_match(int elf_class, unsigned machine, int32_t flags) {
        bool is64 = elf_class == ELFCLASS64;
        int32_t abi = flags & 0xff00;

        /* libc5 and older entries are never used by glibc's ld.so. */
        if ((flags & 0xff) != FLAG_ELF_LIBC6 && (flags & 0xff) != FLAG_ELF)
                return false;

        switch (machine) {
        case EM_X86_64:
                return abi == (is64 ? FLAG_X8664_LIB64 : FLAG_X8664_LIBX32);
        case EM_AARCH64:
                return is64 && abi == FLAG_AARCH64_LIB64;
        case EM_ARM:
                return abi == FLAG_ARM_LIBHF || abi == FLAG_ARM_LIBSF || abi == 0;
        case EM_PPC64:
                return abi == FLAG_POWERPC_LIB64;
        case EM_S390:
                return abi == (is64 ? FLAG_S390_LIB64 : 0);
        case EM_SPARCV9:
                return abi == FLAG_SPARC_LIB64;
        case EM_IA_64:
                return abi == FLAG_IA64_LIB64;
        case EM_RISCV:
                return abi == FLAG_RISCV_FLOAT_ABI_DOUBLE || abi == FLAG_RISCV_FLOAT_ABI_SOFT;
        case EM_LOONGARCH:
                return abi == FLAG_LARCH_FLOAT_ABI_DOUBLE || abi == FLAG_LARCH_FLOAT_ABI_SOFT;
        case EM_MIPS:
                if (is64)
                        return abi == FLAG_MIPS64_LIBN64 || abi == FLAG_MIPS64_LIBN64_NAN2008;
                return abi == 0 || abi == FLAG_MIPS_LIB32_NAN2008 || abi == FLAG_MIPS64_LIBN32 ||
                       abi == FLAG_MIPS64_LIBN32_NAN2008;
        default:
                /* Everything else (i386, ppc32, sparc32, m68k, ...) uses plain
                 * libc6 entries; ldconfig marks no sub-ABI for them. */
                return abi == 0;
        }
}

const char *elf_machine_name(unsigned machine, char buf[static 16]) {
        switch (machine) {
        case EM_X86_64:
                return "x86-64";
        case EM_386:
                return "i386";
        case EM_AARCH64:
                return "aarch64";
        case EM_ARM:
                return "arm";
        case EM_PPC64:
                return "ppc64";
        case EM_PPC:
                return "ppc";
        case EM_S390:
                return "s390";
        case EM_RISCV:
                return "riscv";
        case EM_MIPS:
                return "mips";
        case EM_SPARCV9:
                return "sparc64";
        case EM_SPARC:
                return "sparc";
        case EM_LOONGARCH:
                return "loongarch";
        default:
                snprintf(buf, 16, "machine %u", machine);
                return buf;
        }
}
