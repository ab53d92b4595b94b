/* ELF objects and the dynamic loader's search, read from a source root.
 *
 * This module answers two questions without running anything from the root
 * (so foreign architectures and hostile roots are safe): what does this ELF
 * file need (elf_read: interpreter, DT_NEEDED, RPATH, RUNPATH, SONAME, and
 * its build-id), and
 * where would glibc's ld.so find each needed library inside the root
 * (ld_env_*: the root's own ld.so.cache and ld.so.conf, LD_LIBRARY_PATH and
 * the default directories for the object's class and machine).
 *
 * Ownership: struct elf_info owns its members (elf_info_release() frees
 * them); struct ld_env owns a duplicate of the root fd and everything it
 * loaded.  Every file access inside the root goes through root_openat() /
 * root_read_file(); every count, offset and string read from a file is
 * bounded, so malformed input yields an SMITH_ERR_SOURCE error (or, for
 * an ld.so.cache, which ld.so itself may ignore, a warning), never a crash
 * or an unbounded allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/error.h"
#include "basic/macro.h"

/* Limits on what elf_read() accepts. */
#define ELF_MAX_PHDRS 65536U
#define ELF_MAX_DYN_ENTRIES 100000U
#define ELF_MAX_STRING 4096U
#define ELF_MAX_NOTES (64U * 1024U) /* bytes in one PT_NOTE segment read for the build-id */
#define ELF_MAX_NOTE_SEGMENTS 16U
#define ELF_MAX_BUILD_ID 64U /* bytes of a build-id (GNU ld writes 20: sha1) */
/* Limits on the loader configuration read from a root. */
#define LD_CACHE_MAX_SIZE (64U * 1024U * 1024U)
#define LD_CONF_MAX_SIZE (1024U * 1024U)
#define LD_CONF_MAX_DEPTH 16U

/* --- ELF objects (elf.c) --- */

struct elf_info {
        int elf_class;    /* ELFCLASS32 / ELFCLASS64 */
        int data;         /* ELFDATA2LSB / ELFDATA2MSB */
        unsigned machine; /* e_machine */
        unsigned type;    /* e_type: ET_EXEC, ET_DYN, ... */
        unsigned flags;   /* e_flags (ARM float ABI, MIPS ABI, ...) */
        bool is_dynamic;  /* has PT_DYNAMIC */
        char *interp;     /* PT_INTERP, or NULL */
        char **needed;    /* DT_NEEDED, in order (strv, never NULL after elf_read) */
        char **rpath;     /* DT_RPATH split at ':' (unexpanded, empty fields kept), NULL if none */
        char **runpath;   /* DT_RUNPATH split at ':' (unexpanded, empty fields kept), NULL if none;
                           * an empty DT_RUNPATH still gives a non-NULL (empty) strv, since its mere
                           * presence makes ld.so ignore DT_RPATH */
        char *soname;     /* DT_SONAME, or NULL */
        char *build_id;   /* the NT_GNU_BUILD_ID note of a PT_NOTE segment, lowercase hex, or NULL */
};

/* Parses the ELF file open on fd.  Returns 0 and fills *ret for an ELF; 1
 * for something that is not ELF (not a regular file, shorter than an ELF
 * header, or no magic: not an error, *ret untouched); <0 with err
 * (SMITH_ERR_SOURCE) for a malformed ELF ("'<name>': program header table
 * outside the file", ...), or SMITH_ERR_IO when reading fails.  Reads with
 * pread() only; nothing is mapped and nothing is allocated before it has
 * been checked against the file size.  name is only used in messages. */
int elf_read(int fd, const char *name, struct elf_info *ret, struct smith_error **err);
/* Frees the members and zeroes *e; accepts a zeroed struct. */
void elf_info_release(struct elf_info *e);

#define ELF_MAX_SHDRS 65536U /* sections read by elf_read_debugaltlink() */

/* The file a separate debug file's .gnu_debugaltlink section names (the
 * dwz file holding the debug data it shares with others: the path up to
 * the NUL, the build-id bytes after it are not returned).  Returns 0 with
 * *ret_path (NULL when there is no such section), 1 for something that is
 * not ELF, <0 with err (SMITH_ERR_SOURCE) for a malformed section table, as
 * elf_read().  Reads through the section headers with pread() only. */
int elf_read_debugaltlink(int fd, const char *name, char **ret_path, struct smith_error **err);

/* Reads only the identification of an ELF file: 0 and the class, byte order
 * and machine (the class and byte order as found, possibly invalid values);
 * 1 if it is not an ELF; -errno if reading failed. */
int elf_read_ident(int fd, int *ret_class, int *ret_data, unsigned *ret_machine);

/* The class, byte order and machine of the build machine, read from this
 * very program (/proc/self/exe), so no table of architectures can be
 * wrong or incomplete; the rest of *ret is zeroed.  -errno. */
int elf_host_info(struct elf_info *ret);

/* What the loader knows about a class/byte order/machine.  The triplets are
 * Debian multiarch names, most likely first, as a NULL-terminated static
 * array (empty for an unknown machine, never NULL).  The platform is what
 * $PLATFORM expands to, or NULL if unknown.  cache_flags_match tells whether
 * an ld.so.cache entry with these flags is meant for such objects. */
const char *const *elf_arch_triplets(int elf_class, int data, unsigned machine);
const char *elf_arch_platform(int elf_class, int data, unsigned machine);
bool elf_arch_cache_flags_match(int elf_class, unsigned machine, int32_t flags);
/* "x86-64", "aarch64", ... for messages; a number for unknown machines. */
const char *elf_machine_name(unsigned machine, char buf[static 16]);

/* --- ld.so.cache (ldcache.c) --- */

struct ld_cache_entry {
        int32_t flags;  /* FLAG_ELF_LIBC6 | FLAG_X8664_LIB64, ... */
        char *name;     /* the soname, "libc.so.6" */
        char *path;     /* where it lives, "/lib/x86_64-linux-gnu/libc.so.6" */
        uint64_t hwcap; /* non-zero for glibc-hwcaps / legacy hwcap subdirectories */
};

struct ld_cache {
        struct ld_cache_entry *entries; /* in file order */
        size_t n_entries;
};

/* Parses an ld.so.cache image held in memory: the old "ld.so-1.7.0" format,
 * that format followed by the new one (only the new part is then used, as
 * glibc does), or the new "glibc-ld.so.cache1.1" format alone, in either
 * byte order.  Returns 0 and *ret; 1 (and *ret = NULL) for data that is not
 * a cache at all (empty, unknown magic), which glibc ignores too; <0 with
 * err (SMITH_ERR_SOURCE, naming name) when a count, offset or string is out
 * of bounds. */
int ld_cache_parse(const void *data, size_t size, const char *name, struct ld_cache **ret, struct smith_error **err);
void ld_cache_free(struct ld_cache *c);
DEFINE_POINTER_CLEANUP(struct ld_cache, ld_cache_free)
/* Paths of the entries named soname whose flags suit objects of that class
 * and machine, in cache order, except that entries with a hwcap (libraries
 * only some CPUs can run) come after the baseline ones.  Returns 0 and a
 * strv (possibly empty) or -ENOMEM. */
int ld_cache_lookup(const struct ld_cache *c, const char *soname, int elf_class, unsigned machine, char ***ret);

/* --- ld.so.conf (ldconf.c) --- */

/* Reads the ld.so.conf at path inside root_fd and the files it includes
 * ("include" lines take globs, matched here with readdir() and fnmatch() in
 * root_openat()ed directories; relative patterns are relative to the
 * including file's directory).  Returns 0 and the library directories in
 * order, without duplicates (an empty strv if the file is missing).
 * Include loops are skipped; nesting deeper than LD_CONF_MAX_DEPTH, files
 * larger than LD_CONF_MAX_SIZE and unreadable files are errors. */
int ld_conf_load(int root_fd, const char *path, char ***ret_dirs, struct smith_error **err);

/* --- the search (search.c) --- */

struct ld_env;

/* Loads the root's /etc/ld.so.cache and /etc/ld.so.conf (either may be
 * missing; a cache that is corrupt or too large is ignored, as ld.so
 * ignores it, with one log_warn() naming it and why; an unreadable one is
 * an SMITH_ERR_SOURCE error) and keeps
 * ld_library_path (the build's LD_LIBRARY_PATH, split at ':' and ';' as
 * ld.so does, may be NULL).  The env keeps its own duplicate of root_fd. */
int ld_env_new(int root_fd, const char *ld_library_path, struct ld_env **ret, struct smith_error **err);
void ld_env_free(struct ld_env *env);
DEFINE_POINTER_CLEANUP(struct ld_env, ld_env_free)

/* The loaded configuration, for tests and diagnostics (may be NULL/empty). */
const struct ld_cache *ld_env_get_cache(const struct ld_env *env);
char *const *ld_env_get_conf_dirs(const struct ld_env *env);

struct ld_request {
        const struct elf_info *obj; /* the object that has the DT_NEEDED */
        const char *origin;         /* directory of obj inside the root, e.g. "/usr/bin", for $ORIGIN;
                                     * may be NULL (entries using $ORIGIN are then dropped) */
        char *const *loader_rpaths; /* already-expanded DT_RPATH dirs of the objects that loaded obj,
                                     * outermost last (glibc searches them after obj's own RPATH),
                                     * may be NULL */
};

/* Finds needed the way glibc's ld.so would, inside the root:
 *   a name with '/' is that path (relative to origin if relative);
 *   DT_RPATH of obj, then loader_rpaths, only when obj has no DT_RUNPATH;
 *   LD_LIBRARY_PATH; DT_RUNPATH; ld.so.cache entries whose flags suit obj;
 *   the ld.so.conf directories (in case the cache is stale or missing);
 *   /lib/<triplet> /usr/lib/<triplet>, /lib64 /usr/lib64 (64-bit) or
 *   /lib32 /usr/lib32 (32-bit), /lib /usr/lib, /usr/local/lib.
 * A candidate counts only if it is a regular file in the root and, when it
 * is a readable ELF, its class, byte order and machine match obj's (glibc
 * skips wrong-class libraries the same way).  Relative and empty search
 * path entries (which glibc would take relative to the working directory)
 * are ignored.  Returns 0 and *ret_path, the path inside the root,
 * absolute and normalised lexically but with symlinks NOT resolved (the
 * caller records the chain); -ENOENT (no err) when not found; other <0
 * with err. */
int ld_env_find(struct ld_env *env, const struct ld_request *req, const char *needed, char **ret_path,
                struct smith_error **err);

/* Expands the dynamic string tokens $ORIGIN ${ORIGIN} $LIB ${LIB} $PLATFORM
 * ${PLATFORM} in one rpath/runpath entry into candidate directories ($LIB
 * stands for "lib/<triplet>", "lib64" or "lib32", and "lib"), normalised.
 * Entries that cannot be expanded ($ORIGIN without origin, unknown
 * $PLATFORM) and results that are not absolute are dropped.  Returns a strv
 * (possibly empty), NULL only when out of memory. */
char **ld_expand_dst(const struct elf_info *obj, const char *origin, const char *entry);
