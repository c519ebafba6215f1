/*
 * Replays a heap trace through the pool allocator's policy (drone-compat.md 6,
 * and comb's allocator, firmware/include/comb/heap.h):
 *  - a request of s > 0 bytes goes to the first pool, in ascending block
 *    order, whose block is >= s and that has a free block, trying every larger
 *    pool in turn; none free -> the request fails;
 *  - a free returns the block to the pool that served it;
 *  - a realloc/resize stays in place when the new size fits the block it has
 *    (policy.realloc_in_place: comb's allocator), else it moves: a new block is
 *    taken first, then the old one returned (Drone's allocator always moves);
 *  - requests of size 0 take no block;
 *  - a traced FAIL is checked against the layout: counted as a failure if it
 *    would fail here too, else as "would now succeed": the block is taken and
 *    returned at once (what the program would have done with it is not in the
 *    trace, but the layout must have had room for it at that moment).
 * After a failure the replay goes on as if the failed request had not been
 * made (later frees of that block are ignored).
 */
#ifndef COMB_HEAP_REPLAY_H
#define COMB_HEAP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_layout.h"
#include "comb/heap_trace.h"

typedef struct comb_replay_policy {
    bool realloc_in_place;
} comb_replay_policy;

#define COMB_REPLAY_UNBOUNDED UINT32_MAX /* a capacity that never runs out */

typedef struct comb_replay_pool {
    uint32_t block, capacity;
    uint32_t peak;        /* most blocks in use at once */
    size_t peak_op;       /* op index at which the peak was first reached */
    uint64_t served;      /* requests placed in this pool */
    uint64_t borrowed;    /* of which a smaller pool would have fitted (fallback) */
} comb_replay_pool;

typedef struct comb_replay_result {
    uint64_t requests;      /* allocations, moving reallocs and traced failures checked */
    uint64_t failures;      /* requests that found no free block */
    uint64_t too_large;     /* of which larger than every block */
    uint64_t fails_now_ok;  /* traced FAILs this layout would have served */
    bool failed;
    size_t first_fail_op;   /* op index of the first failure */
    uint32_t first_fail_size;
} comb_replay_result;

/*
 * Replays t against `pools` (any order; the stats come back in ascending block
 * order, one per pool, in out_pools[npools]). 0, or -1 when out of memory.
 * With stop_at_first the replay ends at the first failure.
 */
int comb_heap_replay(const comb_heap_trace *t, const comb_pool *pools, unsigned npools, const comb_replay_policy *policy,
                     bool stop_at_first, comb_replay_pool *out_pools, comb_replay_result *res);

#endif
