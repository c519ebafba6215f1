/*
 * Heap usage one operation at a time: the streaming form of the replay in
 * heap_replay.h (the same placement policy, the same peaks), for sessions too
 * large to hold in memory (comb dashboard, docs/dashboards.md). Feed it the
 * normalised operations of a trace in order, as comb_heap_builder_add appends
 * them; after each step it knows which pool every live block occupies, the
 * bytes in use per pool and requested by the program, and the peaks so far.
 *
 * Pools: a layout's (capacity-limited: requests that find no free block fail
 * as in the replay), or COMB_REPLAY_UNBOUNDED capacities, which makes every
 * request land in the first pool whose block fits it (size classes).
 *
 * Memory: 2 bytes per block id seen (the pool that holds it) plus one entry per
 * distinct requested size; nothing per operation. Not thread-safe.
 */
#ifndef COMB_HEAP_USAGE_H
#define COMB_HEAP_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/drone_layout.h"
#include "comb/heap_layout.h"
#include "comb/heap_replay.h"
#include "comb/heap_trace.h"

typedef struct comb_usage_pool {
    uint32_t block, capacity; /* capacity COMB_REPLAY_UNBOUNDED: no limit */
    uint32_t in_use;          /* blocks in use now */
    uint32_t peak;            /* most blocks in use at once */
    uint64_t served;          /* requests placed here */
    uint64_t borrowed;        /* of which a smaller pool would have fitted (fallback) */
} comb_usage_pool;

typedef struct comb_heap_usage {
    comb_usage_pool *pools;   /* ascending block order */
    unsigned npools;
    bool realloc_in_place;
    /* now */
    uint64_t requested;       /* bytes the program asked for, of the blocks live in the trace */
    uint64_t live_blocks;     /* blocks live in the trace */
    uint64_t pool_bytes;      /* Σ in_use × block over the pools (what the layout spends) */
    /* peaks (op = 0-based index of the operation that first reached them); a
     * moving realloc holds both blocks for a moment, as in heap_report.h */
    uint64_t peak_requested, peak_requested_blocks;
    uint64_t peak_requested_op;
    uint64_t peak_pool_bytes, peak_pool_bytes_op;
    /* counts */
    uint64_t ops, allocs, frees, reallocs, resizes, fails; /* operations of the trace, by kind */
    uint64_t requests;        /* placements tried: allocations, moving reallocs, traced failures checked */
    uint64_t failures;        /* of which found no free block in the pools */
    uint64_t too_large;       /* of which larger than every block */
    uint64_t fails_now_ok;    /* traced failures the pools would have served */
    bool failed;
    uint64_t first_fail_op;
    uint32_t first_fail_size;
    /* Drone's per-size statistics (drone_layout.h: max = per-size peak, total = allocations) */
    comb_drone_stats sizes;
    /* private */
    uint16_t *where;          /* pool of each block id, or none */
    size_t nwhere;
    size_t size_cap;
} comb_heap_usage;

/* Pools in any order (kept in ascending block order). 0, or -1 (memory, or
 * 65535 pools or more). */
int comb_heap_usage_init(comb_heap_usage *u, const comb_pool *pools, unsigned npools, const comb_replay_policy *policy);

/* One operation; block_size is the trace's per-block requested size table
 * (comb_heap_trace.block_size) as it stands right after the operation was
 * appended. 0, or -1 when out of memory (the state is then unusable). */
int comb_heap_usage_step(comb_heap_usage *u, const comb_heap_op *op, const uint32_t *block_size);

void comb_heap_usage_free(comb_heap_usage *u);

/* Power-of-two size classes covering requests up to max_size (8, 16, 32, ...,
 * at least 8), unbounded: the "pools" when no layout is given. Fills out[]
 * (room for 33) and returns the count. */
unsigned comb_usage_size_classes(uint32_t max_size, comb_pool *out);

#endif
