/*
 * The C header the firmware allocator is built from (docs/heap-layout-header.md,
 * the contract): COMB_HEAPS(H), and per heap _SIZE, _ORIGIN, _POOL_COUNT and
 * _POOLS(P) with pools in ascending block order, capacity-0 pools omitted.
 */
#ifndef COMB_LAYOUT_HEADER_H
#define COMB_LAYOUT_HEADER_H

#include <stddef.h>

#include "comb/heap_layout.h"
#include "comb/strbuf.h"

/*
 * Appends the header for `n` heaps to out. `main` goes first, the others keep
 * their order. `source` names what it was generated from (first comment line).
 * Returns 0, or -1 with a reason in err: a heap name that is not a C identifier
 * once '-' becomes '_', two names that map to the same macro, a block that is not
 * a multiple of 4 (the allocator's free list keeps a pointer in each free block),
 * or pools that do not add up to the heap's size.
 */
int comb_layout_header(const comb_heap_layout *heaps, unsigned n, const char *source, comb_strbuf *out, char *err,
                       size_t errlen);

#endif
