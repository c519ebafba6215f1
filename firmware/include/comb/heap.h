/*
 * comb pool allocator: deterministic, lock-free, fixed-block pools with heap
 * tracing (trace-protocol SPEC v1, port 31). Design and measurements:
 * docs/heap.md.
 *
 * MODEL. A heap is one contiguous region split into pools; a pool is
 * `capacity` blocks of `block` bytes. Pools are ordered by block size
 * (ascending). There is no header per block: a block's pool is found from its
 * address. Pools hand out never-used blocks from a bump pointer, so a heap
 * needs no initialisation code at all (its state is static data), and freed
 * blocks go to a per-pool LIFO free list threaded through the blocks' first
 * word.
 *
 * LAYOUT. Heaps come from a Drone.toml-format file turned into a C header by
 * `comb heap header` (docs/heap-layout-header.md); the firmware build compiles
 * src/heap_layout.c against it, which defines every heap with
 * COMB_HEAP_DEFINE_ALL() below. `main` is always present: comb_alloc() and
 * friends use it; other heaps are reached as COMB_HEAP(name).
 *
 * UNITS. Sizes and blocks are bytes. size_t arguments; statistics are
 * uint32_t counts of blocks.
 *
 * ALLOCATION. comb_heap_alloc(h, n) takes the smallest pool whose block is
 * >= n; if it has no free block (free list and bump pointer both empty) it
 * tries every larger pool in ascending order ("borrowing"). Returns NULL when
 * all are exhausted or n is larger than the largest block (a failure: counted,
 * and traced as heap_fail; the system is not reset or halted).
 *   n == 0: returns NULL, no event, not a failure.
 * ALIGNMENT: every block of 8 bytes or more is 8-byte aligned; blocks of 1-4
 * bytes are 4-byte aligned. The heap base is 8-byte aligned and a pool's
 * blocks are `stride` apart, stride = 4 for blocks <= 4, else the block size
 * rounded up to a multiple of 8 (COMB_HEAP_STRIDE). Each pool starts at an
 * 8-byte boundary. A layout whose blocks are 4 or multiples of 8 wastes
 * nothing; other block sizes cost the padding (a 12-byte block occupies 16),
 * so the memory a heap occupies (its footprint, COMB_HEAP_FOOTPRINT) can be
 * larger than the layout's `size`. The usable size of a block is `block`.
 *
 * OWNERSHIP. A block belongs to the caller from alloc until free. Freeing a
 * block twice, or a pointer that is not the start of a block of this layout,
 * is undefined (a pointer outside every heap is ignored). comb_heap_free(h, p)
 * and comb_free(p) accept a block of any heap of the same layout.
 *
 * CONCURRENCY / IRQ SAFETY. Every function except comb_heap_init,
 * comb_heap_reset and comb_heap_reset_peaks may be called from thread mode and
 * from any interrupt priority at the same time, nested, without locks: on
 * ARMv7-M/ARMv8-M by LDREX/STREX (ABA-safe: the next link is read inside the
 * exclusive window), on ARMv6-M by critical sections of at most 6 instructions
 * (comb/port_atomic.h), on the host by C11 atomics with an ABA tag. Single
 * core. No function waits for anything.
 *
 * BOUNDS. With P pools in the heap and no preemption:
 *   alloc   at most P pool attempts (pop, else bump), each O(1); the bump
 *           path also walks the P pool descriptors once to find the pool's
 *           start. No loop depends on the number of blocks.
 *   free    at most P comparisons to find the pool, one push.
 *   realloc one lookup, then either nothing (fits) or alloc + copy of the old
 *           block + free: the copy is linear in the old block size.
 *   calloc  alloc + zeroing of n * size bytes.
 * Under preemption each LDREX/STREX or CAS loop repeats at most once per
 * handler that ran inside it (retries are bounded by preemptions).
 *
 * TRACING (COMB_HEAP_TRACE, default 1). Each call emits one event on port 31
 * with the *requested* size (not the block size): heap_alloc, heap_free,
 * heap_realloc (moved), heap_resize (kept in place), heap_fail. Events are
 * emitted outside the atomic operations: alloc after taking the block, free
 * before giving it back, so per block the events are in order both by
 * timestamp and in decode order. When port 31 is disabled the cost is one load
 * and one branch. COMB_HEAP_TRACE_CALLER=1 adds the caller's address (the
 * return address of the allocator call) to every event.
 *
 * STATISTICS, per pool: blocks in use, peak in use (resettable), failures
 * (allocations that returned NULL although this pool was the smallest that
 * fits), blocks ever touched by the bump pointer. Counters are updated with
 * atomics after the block operation: at any instant `in_use` may lag the
 * truth by the operations in flight (one per preempted context), so `peak`
 * can miss a transient maximum by as much; at rest they are exact.
 */
#ifndef COMB_HEAP_H
#define COMB_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/port_atomic.h"

#ifndef COMB_HEAP_TRACE
#define COMB_HEAP_TRACE 1
#endif
#ifndef COMB_HEAP_TRACE_CALLER
#define COMB_HEAP_TRACE_CALLER 0
#endif

/* ---- Types --------------------------------------------------------------- */

/* One pool. All fields are private to the allocator; read them through
 * comb_heap_pool_stats(). */
typedef struct comb_pool {
    comb_lifo_t free;          /* freed blocks (LIFO) */
    volatile uint32_t used;    /* bytes handed out by the bump pointer, 0..limit */
    uint32_t limit;            /* stride * capacity */
    uint32_t span;             /* limit rounded up to 8: offset of the next pool */
    uint32_t block;            /* usable bytes per block */
    uint32_t stride;           /* distance between blocks */
    volatile uint32_t usage;   /* blocks in use | peak << 16 (one atomic word) */
    volatile uint32_t failures;
} comb_pool_t;

typedef struct comb_heap comb_heap_t;
struct comb_heap {
    comb_pool_t *pools;         /* ascending block size */
    comb_pool_t *pools_end;     /* pools + count */
    uint32_t count;             /* number of pools, >= 1 */
    uint8_t *base;              /* 8-byte aligned; pool i starts at base + sum of span[0..i-1] */
    uint32_t bytes;             /* footprint: sum of the pools' spans */
    comb_heap_t *const *all;    /* NULL-terminated heaps of the same layout, or NULL */
    const char *name;
    volatile uint32_t failures; /* NULL returns no pool could have served: larger than
                                 * every block, calloc overflow */
};

/* A pool of a layout given at run time (comb_heap_init). */
typedef struct comb_pool_layout {
    uint32_t block;
    uint32_t capacity;
} comb_pool_layout_t;

typedef struct comb_pool_stats {
    uint32_t block;    /* usable bytes per block */
    uint32_t stride;   /* bytes per block in memory (>= block, see ALIGNMENT) */
    uint32_t capacity; /* blocks */
    uint32_t in_use;   /* blocks allocated now */
    uint32_t peak;     /* most blocks in use at once since start / last reset */
    uint32_t failures; /* NULL returns with this pool as the smallest that fits */
    uint32_t touched;  /* blocks ever handed out (bump pointer high-water mark) */
} comb_pool_stats_t;

/* ---- Per-heap API --------------------------------------------------------- */

void *comb_heap_alloc(comb_heap_t *h, size_t size);
/* NULL: nothing. */
void comb_heap_free(comb_heap_t *h, void *ptr);
/* ptr NULL: comb_heap_alloc(h, size). size 0: frees ptr, returns NULL.
 * Keeps the block (returns ptr, traces heap_resize) when size <= its block
 * size, also when shrinking; otherwise allocates from the heap holding ptr,
 * copies the old block, frees it and returns the new one (heap_realloc). On
 * failure returns NULL, ptr stays valid and unchanged (heap_fail). */
void *comb_heap_realloc(comb_heap_t *h, void *ptr, size_t size);
/* Zeroed n * size bytes. n * size == 0: NULL, no event. Overflow of n * size:
 * NULL, counted as a failure of the heap, heap_fail with size 0xFFFFFFFF. */
void *comb_heap_calloc(comb_heap_t *h, size_t n, size_t size);

/* The same with an explicit caller address for the trace (wrappers such as
 * the newlib retarget pass their own return address). */
void *comb_heap_alloc_caller(comb_heap_t *h, size_t size, const void *caller);
void comb_heap_free_caller(comb_heap_t *h, void *ptr, const void *caller);
void *comb_heap_realloc_caller(comb_heap_t *h, void *ptr, size_t size, const void *caller);
void *comb_heap_calloc_caller(comb_heap_t *h, size_t n, size_t size, const void *caller);

/* Usable bytes of the block at ptr (its pool's block size); 0 if ptr is not
 * in a heap of h's layout. */
size_t comb_heap_usable_size(comb_heap_t *h, const void *ptr);

/* ---- Statistics ------------------------------------------------------------ */

unsigned comb_heap_pool_count(const comb_heap_t *h);
/* false if i >= pool count. */
bool comb_heap_pool_stats(const comb_heap_t *h, unsigned i, comb_pool_stats_t *out);
/* Blocks in use over all pools. */
uint32_t comb_heap_in_use(const comb_heap_t *h);
/* Allocations that returned NULL (exhaustion, size too large, calloc overflow):
 * the pools' failures plus the requests no pool could serve. */
uint32_t comb_heap_failures(const comb_heap_t *h);
/* peak = in_use for every pool. An allocation racing with the reset may be
 * missing from the new peak. */
void comb_heap_reset_peaks(comb_heap_t *h);

/* ---- Setup (not needed for heaps from a layout header) --------------------- */

enum comb_heap_error {
    COMB_HEAP_OK = 0,
    COMB_HEAP_ENOPOOLS = -1,  /* no pools */
    COMB_HEAP_EBLOCK = -2,    /* a block size of 0, or blocks not strictly ascending */
    COMB_HEAP_ECAPACITY = -3, /* a capacity of 0 */
    COMB_HEAP_ERANGE = -4,    /* > 65535 blocks in a pool, or more than 2^32 - 8 bytes */
    COMB_HEAP_EALIGN = -5,    /* memory not 8-byte aligned */
    COMB_HEAP_ESPACE = -6,    /* memory smaller than the footprint */
};
const char *comb_heap_strerror(int err);

/* Bytes of memory n pools need (sum of their spans), or 0 if the layout is
 * invalid (the error, if `err` is not NULL). */
size_t comb_heap_footprint(const comb_pool_layout_t *layout, unsigned n, int *err);

/* Set up heap h over `mem` (8-byte aligned, mem_size >= footprint) with
 * `pools` (n entries, owned by h from now on) shaped as `layout`. Returns
 * COMB_HEAP_OK or an error, leaving h unusable. Not thread safe. */
int comb_heap_init(comb_heap_t *h, comb_pool_t *pools, const comb_pool_layout_t *layout, unsigned n,
                   void *mem, size_t mem_size, const char *name);

/* Back to the initial state: every block free and never used, statistics 0.
 * Only when no block is in use and nothing else runs on h. */
void comb_heap_reset(comb_heap_t *h);

/* Consistency of the descriptors (ascending blocks, spans, footprint), for
 * tests and start-up checks: COMB_HEAP_OK or an error. */
int comb_heap_check(const comb_heap_t *h);

/* ---- The main heap and the heaps of the layout ------------------------------ */

/* Defined by the layout (src/heap_layout.c or COMB_HEAP_DEFINE_ALL). */
extern comb_heap_t comb_heap_main;
/* Every heap of the layout, main first, NULL-terminated. */
extern comb_heap_t *const comb_heaps[];

#define COMB_HEAP(name) (&comb_heap_##name)

/* malloc-style API on the main heap. comb_free and comb_realloc accept
 * blocks of any heap of the layout. */
void *comb_alloc(size_t size);
void comb_free(void *ptr);
void *comb_realloc(void *ptr, size_t size);
void *comb_calloc(size_t n, size_t size);

/* ---- Defining heaps from a layout header ------------------------------------
 *
 * With a header in the format of docs/heap-layout-header.md included:
 *
 *   #include "heap_layout.h"
 *   COMB_HEAP_DEFINE_ALL()
 *
 * defines comb_heap_<name> for every heap, their memory (8-byte aligned,
 * COMB_HEAP_FOOTPRINT(NAME) bytes, in .bss unless COMB_HEAP_MEM_ATTR says
 * otherwise; a heap with a non-zero ORIGIN uses the memory at that address
 * instead), and comb_heaps. Checked at compile time: every heap has pools,
 * no block or capacity is 0, the pools add up to the heap's SIZE (as
 * Drone.toml requires), and a heap at a fixed ORIGIN fits its SIZE. All state
 * is static data: there is nothing to initialise at run time. */

/* Blocks per pool at most (the usage counter packs count and peak in 16 bits each). */
#define COMB_HEAP_CAPACITY_MAX 65535u

#define COMB_HEAP_STRIDE(block) ((block) <= 4u ? 4u : ((uint32_t)(block) + 7u) / 8u * 8u)
#define COMB_HEAP_SPAN(block, capacity) ((COMB_HEAP_STRIDE(block) * (uint32_t)(capacity) + 7u) / 8u * 8u)

#define COMB_HEAP__POOL(b, c) \
    {COMB_LIFO_INIT, 0u, COMB_HEAP_STRIDE(b) * (c), COMB_HEAP_SPAN(b, c), (b), COMB_HEAP_STRIDE(b), 0u, 0u},
#define COMB_HEAP__SPAN_SUM(b, c) +COMB_HEAP_SPAN(b, c)
#define COMB_HEAP__BYTE_SUM(b, c) +(b) * (c)
#define COMB_HEAP__NONZERO(b, c) &&(b) > 0u && (c) > 0u
#define COMB_HEAP__CAP_OK(b, c) &&(c) <= COMB_HEAP_CAPACITY_MAX
#define COMB_HEAP__PTR(name, NAME) &comb_heap_##name,
#define COMB_HEAP__DECLARE(name, NAME) extern comb_heap_t comb_heap_##name;

#ifndef COMB_HEAP_MEM_ATTR
#define COMB_HEAP_MEM_ATTR
#endif

/* Footprint in bytes of heap NAME of the included layout. */
#define COMB_HEAP_FOOTPRINT(NAME) (0u COMB_HEAP_##NAME##_POOLS(COMB_HEAP__SPAN_SUM))

#define COMB_HEAP_DEFINE(name, NAME)                                                                 \
    _Static_assert(COMB_HEAP_##NAME##_POOL_COUNT > 0u, "heap '" #name "' has no pools");             \
    _Static_assert(1 COMB_HEAP_##NAME##_POOLS(COMB_HEAP__NONZERO),                                   \
                   "heap '" #name "': a pool has block or capacity 0");                              \
    _Static_assert(1 COMB_HEAP_##NAME##_POOLS(COMB_HEAP__CAP_OK),                                    \
                   "heap '" #name "': a pool has more than 65535 blocks");                           \
    _Static_assert((0u COMB_HEAP_##NAME##_POOLS(COMB_HEAP__BYTE_SUM)) == COMB_HEAP_##NAME##_SIZE,    \
                   "heap '" #name "': pools (block * capacity) do not add up to its size");          \
    _Static_assert(COMB_HEAP_##NAME##_ORIGIN == 0u ||                                               \
                       COMB_HEAP_FOOTPRINT(NAME) <= COMB_HEAP_##NAME##_SIZE,                         \
                   "heap '" #name "' at a fixed origin: padded pools (see ALIGNMENT) exceed its "    \
                   "size");                                                                          \
    static comb_pool_t comb_heap__pools_##name[] = {COMB_HEAP_##NAME##_POOLS(COMB_HEAP__POOL)};      \
    _Static_assert(sizeof comb_heap__pools_##name / sizeof(comb_pool_t) ==                           \
                       COMB_HEAP_##NAME##_POOL_COUNT,                                                \
                   "heap '" #name "': POOL_COUNT does not match POOLS");                             \
    COMB_HEAP_MEM_ATTR static uint64_t                                                               \
        comb_heap__mem_##name[COMB_HEAP_##NAME##_ORIGIN ? 1u : COMB_HEAP_FOOTPRINT(NAME) / 8u];      \
    comb_heap_t comb_heap_##name = {                                                                 \
        comb_heap__pools_##name,                                                                     \
        comb_heap__pools_##name + COMB_HEAP_##NAME##_POOL_COUNT,                                     \
        COMB_HEAP_##NAME##_POOL_COUNT,                                                               \
        COMB_HEAP_##NAME##_ORIGIN ? (uint8_t *)(uintptr_t)COMB_HEAP_##NAME##_ORIGIN                  \
                                  : (uint8_t *)comb_heap__mem_##name,                                \
        COMB_HEAP_FOOTPRINT(NAME),                                                                   \
        comb_heaps,                                                                                  \
        #name,                                                                                       \
        0u};

#define COMB_HEAP_DEFINE_ALL()                                                 \
    COMB_HEAPS(COMB_HEAP__DECLARE)                                             \
    comb_heap_t *const comb_heaps[] = {COMB_HEAPS(COMB_HEAP__PTR) NULL};       \
    COMB_HEAPS(COMB_HEAP_DEFINE)                                               \
    _Static_assert(sizeof comb_heaps > sizeof(comb_heap_t *), "no heaps")

#endif /* COMB_HEAP_H */
