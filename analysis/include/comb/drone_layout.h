/*
 * Drone's statistics and layout generator, reproduced exactly
 * (drone-compat.md 3 and 4, drone v0.14.0 `src/heap/layout.rs`), for
 * byte-compatible output and as the baseline of the benchmark:
 *  - statistics keyed by the exact requested size: per-size peak (`max`, not a
 *    simultaneous peak) and total allocations; a resize counts as a dealloc of
 *    the old size then an alloc of the new;
 *  - `optimize`: sizes aligned to 4 and merged, grouped into at most N
 *    contiguous pools by Drone's branch-and-bound search with its two quirks,
 *    capacity = sum of the per-size peaks of the group; spare memory shared out
 *    with Drone's bell-shaped ratios, then filled up from the largest pool down;
 *  - `empty`: the layout Drone generates without a trace.
 * Arithmetic is done in 32 bits with wrap-around and float-to-integer
 * conversions saturate, as in Drone's release build; NaN converts to 0.
 * Deliberate difference: zero-size requests are left out of `optimize` (Drone
 * panics on them).
 */
#ifndef COMB_DRONE_LAYOUT_H
#define COMB_DRONE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_layout.h"
#include "comb/heap_trace.h"

typedef struct comb_drone_stat {
    uint32_t size;
    uint32_t max;   /* per-size peak */
    uint32_t total; /* allocations (resizes included) */
    uint32_t cur;   /* live at the end */
} comb_drone_stat;

typedef struct comb_drone_stats {
    size_t n;
    comb_drone_stat *v; /* ascending size */
    uint64_t load;      /* Σ size × max over raw sizes: "Maximum heap load" */
} comb_drone_stats;

/* Statistics of a trace (failed requests are not allocations). 0 or -1 (memory). */
int comb_drone_stats_of(const comb_heap_trace *t, comb_drone_stats *out);
void comb_drone_stats_free(comb_drone_stats *s);

/* Drone's optimize(): layout for `size` bytes and at most `pools` pools
 * (pools >= 1), pools in ascending block order, some possibly of capacity 0;
 * *frag = Drone's fragmentation. 0 or -1 (memory, or pools == 0). */
int comb_drone_layout_optimize(const comb_drone_stats *st, uint32_t size, uint32_t pools, comb_heap_layout *out,
                               uint32_t *frag);

/* Only Drone's grouping and capacity rule (sum of per-size peaks), without
 * the spare memory: the smallest heap Drone's rule asks for. cutoff = Drone's
 * initial search bound (heap size - used bytes; UINT32_MAX for an unlimited
 * heap). Drone's search is exponential: it gives up after max_steps search
 * nodes (0: never) and returns 1 then. 0, 1 or -1 (memory, pools == 0). */
int comb_drone_layout_shrink(const comb_drone_stats *st, uint32_t pools, uint32_t cutoff, uint64_t max_steps,
                             comb_heap_layout *out, uint32_t *frag);

/* Drone's capacity rule (sum of per-size peaks) with the grouping that is
 * optimal for it (exact DP on Drone's own objective, at most `pools` pools):
 * never larger than what Drone's search finds. 0 or -1. */
int comb_drone_rule_optimal(const comb_drone_stats *st, uint32_t pools, comb_heap_layout *out);

/* Drone's empty(): the layout without a trace. 0 or -1. */
int comb_drone_layout_empty(uint32_t size, uint32_t pools, comb_heap_layout *out);

/* Drone's ratios(n) (exposed for tests): r_i, normalised; NaN for n = 1. */
double comb_drone_ratio(uint32_t n, uint32_t i);

/* "Maximum heap load: 225 / 2.20%" and the table above it, as Drone prints
 * them (drone-compat.md 3), appended to out. size = the heap size for the
 * percentage (0: the percentage is left out). */
#include "comb/strbuf.h"
void comb_drone_stats_render(const comb_drone_stats *st, uint32_t size, comb_strbuf *out);

#endif
