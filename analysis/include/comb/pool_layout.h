/*
 * Optimal pool layouts from a heap trace (docs/heap-analysis.md,
 * allocators.md 7.2).
 *
 * Model. The requested sizes, rounded up to the allocator's granule (4 bytes;
 * for comb's allocator 4 or a multiple of 8), are s_1 < ... < s_m. A layout of
 * at most N pools groups them into contiguous classes; a class's block is its
 * largest size (any other block only wastes memory). The capacity a class
 * needs is its time-aware peak: the most blocks of its sizes live at the same
 * moment of the trace (a realloc holds the old and the new block for an
 * instant; a traced failed request counts for an instant) -- not the sum of
 * the per-size peaks Drone uses. --margin adds ceil(peak x pct / 100).
 *
 * Objective. The DP minimises the heap size, Σ block x capacity over the
 * pools, exactly: cost(j, k) = s_k x capacity(j, k) for every interval,
 * F(p, k) = min_j F(p-1, j-1) + cost(j, k), answer min over p <= N of F(p, m);
 * ties go to fewer pools. The interval peaks come from one sweep over the
 * trace: only the states at the end of a run of allocations can be maxima,
 * identical states are processed once (128-bit hash), and each new state
 * updates all O(m^2) interval maxima from its prefix sums.
 *
 * Capacities. The chosen blocks' capacities are then taken from a replay of
 * the trace with unbounded pools through the allocator's exact policy
 * (heap_replay.h), so in-place reallocs are accounted as the allocator does
 * them; a replay with those capacities cannot fail (nothing ever falls back).
 * Without in-place reallocs this equals the DP's capacities.
 */
#ifndef COMB_POOL_LAYOUT_H
#define COMB_POOL_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "comb/drone_layout.h"
#include "comb/heap_layout.h"
#include "comb/heap_replay.h"
#include "comb/heap_trace.h"

#define COMB_LAYOUT_MAX_SIZES 4096 /* distinct aligned request sizes */

typedef struct comb_layout_options {
    unsigned max_pools;        /* N >= 1 */
    double margin_pct;         /* >= 0 */
    comb_replay_policy policy;
    unsigned granule;          /* block sizes: 4 (Drone's allocator, and the default) or 8 (comb's
                                  allocator: blocks of 1-4 bytes sit 4 apart, larger ones a
                                  multiple of 8 apart, so 4 or multiples of 8 waste nothing) */
} comb_layout_options;

typedef struct comb_layout_info {
    unsigned nsizes;           /* m: distinct aligned request sizes */
    uint64_t states;           /* candidate peak states seen */
    uint64_t distinct_states;  /* of which processed (not seen before) */
    uint64_t model_bytes;      /* the DP optimum */
    uint64_t bytes;            /* Σ block x capacity of the layout returned */
} comb_layout_info;

/* The optimal layout (pools ascending, all with capacity >= 1), named `main`,
 * size = its pool bytes. A trace without requests gives no pools. 0, or -1
 * with a reason in err (memory, too many sizes, bytes beyond 32 bits). */
int comb_pool_layout_optimal(const comb_heap_trace *t, const comb_layout_options *o, comb_heap_layout *out,
                             comb_layout_info *info, char *err, size_t errlen);

/* Capacities for given blocks: replay with unbounded pools, plus the margin.
 * pools[i].block in, pools[i].capacity out. 0 or -1 (memory). */
int comb_pool_layout_capacities(const comb_heap_trace *t, comb_pool *pools, unsigned npools, double margin_pct,
                                const comb_replay_policy *policy);

/* Shares the memory between the layout's bytes and `size` out (documented rule,
 * docs/heap-analysis.md): every pool grows by the same fraction of its
 * capacity, rounded down, then what is left goes to the pools from the
 * largest block down, as many blocks as fit. l->size becomes the pool sum
 * (<= size). Requires size >= the layout's bytes. */
void comb_layout_share_spare(comb_heap_layout *l, uint32_t size);

/* Drone's fragmentation measure for any layout: Σ over aligned sizes of
 * per-size peak x (block serving it - size) (drone-compat.md 4.2). */
uint64_t comb_layout_drone_frag(const comb_drone_stats *st, const comb_heap_layout *l);

/* margin(c) = c + ceil(c x pct / 100) */
uint64_t comb_layout_margin(uint64_t c, double pct);

#endif
