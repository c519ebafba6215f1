/*
 * Caller addresses to names for `comb heap report --elf FIRMWARE.elf`: the
 * ELF's own symbol table (function symbols; ELF32 and ELF64, little-endian),
 * also data objects and absolute symbols for `comb fibers report --elf`,
 * plus file:line from `arm-none-eabi-addr2line` (or `addr2line` for non-ARM
 * files) when it is installed.
 *
 * A caller address is a return address: the call sits just before it, so the
 * lookup uses address - 1 (with the Thumb bit cleared), and the name printed
 * is "function+0xOFFSET" of the return address, e.g. "main+0x1a (main.c:42)".
 */
#ifndef COMB_ELF_SYMBOLS_H
#define COMB_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

typedef struct comb_elf_symbols comb_elf_symbols;

/* 0, or -1 with "FILE: problem" in err. */
int comb_elf_symbols_load(const char *path, comb_elf_symbols **out, char *err, size_t errlen);

/* Asks addr2line for the file:line of these addresses, in one run (optional;
 * without it names carry no file:line). */
void comb_elf_symbols_lines(comb_elf_symbols *s, const uint32_t *addrs, size_t n);

/* "func+0x1a (file.c:42)" into buf; NULL when no function contains it. */
const char *comb_elf_symbolize(comb_elf_symbols *s, uint32_t addr, char *buf, size_t cap);

/* The data object (STT_OBJECT symbol) containing addr: "name", or "name+0x10"
 * inside it, into buf; NULL when none does. For `comb fibers report --elf`,
 * which names fibers by their object's address. */
const char *comb_elf_object_at(const comb_elf_symbols *s, uint32_t addr, char *buf, size_t cap);

/* The absolute symbol (SHN_ABS) whose name starts with prefix and whose value
 * is `value`: the rest of its name after the prefix (owned by s), or NULL.
 * With several, the first in name order. The firmware names thread N with
 * `comb_thr_name_<name> = N`, which costs no flash. */
const char *comb_elf_absolute_named(const comb_elf_symbols *s, const char *prefix, uint64_t value);

void comb_elf_symbols_free(comb_elf_symbols *s);

#endif
