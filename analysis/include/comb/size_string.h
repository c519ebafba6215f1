/*
 * Drone size strings (drone-compat.md 5.2), as used by Drone.toml
 * (`size = "10K"`, `block = "32"`) and by the --size option.
 *
 * Parse: an optional suffix `K` (x 1024) or `M` (x 1048576), upper case only;
 * then `0x`/`0X` + hex digits, or a leading `0` followed by more digits (octal:
 * "010" = 8, "08" is an error), or decimal digits. The result must fit in 32
 * bits. No sign, no spaces, no underscores.
 * Format: "{n}M" when the value is a non-zero multiple of 1 MiB, "{n}K" when a
 * non-zero multiple of 1 KiB, else decimal.
 */
#ifndef COMB_SIZE_STRING_H
#define COMB_SIZE_STRING_H

#include <stddef.h>
#include <stdint.h>

/* Parses `len` bytes of `s`. Returns 0, or -1 with a reason in err
 * ("empty", "not a number", "does not fit in 32 bits", ...). */
int comb_size_parse(const char *s, size_t len, uint32_t *out, char *err, size_t errlen);

/* Formats v into buf (at least COMB_SIZE_STRING_MAX bytes) and returns buf. */
#define COMB_SIZE_STRING_MAX 16
char *comb_size_format(uint32_t v, char *buf);

#endif
