/*
 * A heap layout: Drone's `[heap.NAME]` section (drone-compat.md 5.1) as data.
 * Pools are (block size, capacity) pairs; the allocator serves a request from
 * the first pool, in ascending block order, whose block fits it and that has a
 * free block, trying every larger pool in turn (drone-compat.md 6).
 */
#ifndef COMB_HEAP_LAYOUT_H
#define COMB_HEAP_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/strbuf.h"

typedef struct comb_pool {
    uint32_t block;
    uint32_t capacity;
} comb_pool;

typedef struct comb_heap_layout {
    char name[64];     /* NAME of [heap.NAME] */
    uint32_t size;     /* the section's `size` */
    bool has_origin;
    uint32_t origin;   /* `origin` (extra heaps) */
    unsigned npools;
    comb_pool *pools;  /* in file order (the allocator sorts by block) */
    unsigned line;     /* line of the [heap.NAME] header (0: not from a file) */
    unsigned size_line, pools_line;
} comb_heap_layout;

/* Σ block × capacity, in 64 bits (a file may overflow 32). */
uint64_t comb_layout_bytes(const comb_heap_layout *l);

/* Sorts the pools by ascending block size (stable for equal blocks). */
void comb_layout_sort(comb_heap_layout *l);

/* Deep copy; 0 or -1 (out of memory). */
int comb_layout_copy(comb_heap_layout *dst, const comb_heap_layout *src);
void comb_layout_free(comb_heap_layout *l);

/*
 * Drone's TOML rendering of a layout (drone-compat.md 4.1):
 *   [heap.NAME]
 *   size = "<format_size(Σ block × capacity)>"
 *   pools = [
 *       { block = "<format_size(block)>", capacity = N },
 *   ]
 * ascending block order, capacity-0 pools omitted. `size` is the pool sum, as
 * Drone writes it. Appends to out.
 */
void comb_layout_render_toml(const comb_heap_layout *l, comb_strbuf *out);

#endif
