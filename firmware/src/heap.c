/*
 * Pool allocator core (comb/heap.h): alloc, free, realloc, calloc on any heap,
 * statistics, run-time setup. Layout-agnostic: the heaps themselves are
 * defined by src/heap_layout.c (or a test) from a layout header.
 *
 * Per pool: a LIFO free list of freed blocks and a bump offset `used` over
 * the never-used blocks. Both are changed only by the atomics of
 * comb/port_atomic.h; everything else in a pool descriptor is constant.
 *
 * Where a block's pool is: pool i occupies [base + S_i, base + S_i + limit_i)
 * with S_i = span_0 + ... + span_{i-1}. Free subtracts spans from the block's
 * offset until it is below the current pool's span; the bump path computes
 * S_i the same way. Nothing is stored per block.
 */
#include <string.h>

#include "comb/heap.h"
#include "comb/port.h"
#if COMB_HEAP_TRACE
#include "comb/trace.h"
#endif

/* The port test is written out here rather than through the inline helpers
 * of comb/trace.h, so that the compiler cannot move it out of line: with port
 * 31 disabled an event costs one load of the port mask and one branch. */
#if COMB_HEAP_TRACE
#define TRACE_ON() comb_transport_enabled(COMB_PORT_HEAP)
#define TRACE_ALLOC(p, n, c)                                                  \
    do {                                                                      \
        if (TRACE_ON())                                                       \
            comb_trace_heap_alloc_at((p), (n), comb_trace_timestamp(), (c));  \
    } while (0)
#define TRACE_FREE(p, c)                                                      \
    do {                                                                      \
        if (TRACE_ON())                                                       \
            comb_trace_heap_free_at((p), comb_trace_timestamp(), (c));        \
    } while (0)
#define TRACE_REALLOC(o, p, n, c)                                             \
    do {                                                                      \
        if (TRACE_ON())                                                       \
            comb_trace_heap_realloc_at((o), (p), (n), comb_trace_timestamp(), (c)); \
    } while (0)
#define TRACE_FAIL(n, c)                                                      \
    do {                                                                      \
        if (TRACE_ON())                                                       \
            comb_trace_heap_fail_at((n), comb_trace_timestamp(), (c));        \
    } while (0)
#else
#define TRACE_ALLOC(p, n, c) ((void)(c))
#define TRACE_FREE(p, c) ((void)(c))
#define TRACE_REALLOC(o, p, n, c) ((void)(c))
#define TRACE_FAIL(n, c) ((void)(c))
#endif

#if defined(COMB_PORT_HOST)
void (*volatile comb_host_atomic_stall)(unsigned where);
#endif

/* The size reported by heap_fail for a calloc whose n * size overflows. */
#define CALLOC_OVERFLOW_SIZE 0xFFFFFFFFu

static inline bool in_heap(const comb_heap_t *h, const void *ptr)
{
    return (uintptr_t)ptr - (uintptr_t)h->base < h->bytes;
}

/* The heap of h's layout that holds ptr, or NULL. Not the common path. */
static __attribute__((noinline)) comb_heap_t *other_heap(comb_heap_t *h, const void *ptr)
{
    if (h->all != NULL)
        for (comb_heap_t *const *a = h->all; *a != NULL; a++)
            if (in_heap(*a, ptr))
                return *a;
    return NULL;
}

static inline comb_heap_t *heap_of(comb_heap_t *h, const void *ptr)
{
    return in_heap(h, ptr) ? h : other_heap(h, ptr);
}

/* The pool holding ptr (ptr inside h): at most count - 1 steps. */
static inline comb_pool_t *pool_of(const comb_heap_t *h, const void *ptr)
{
    uint32_t off = (uint32_t)((uintptr_t)ptr - (uintptr_t)h->base);
    comb_pool_t *p = h->pools;
    while (off >= p->span) {
        off -= p->span;
        p++;
    }
    return p;
}

/* Start of pool p: at most count - 1 steps. */
static uint8_t *pool_start(const comb_heap_t *h, const comb_pool_t *p)
{
    uint8_t *s = h->base;
    for (const comb_pool_t *q = h->pools; q != p; q++)
        s += q->span;
    return s;
}

/* Count a block taken from p: in_use + 1, peak raised with it. */
static inline __attribute__((always_inline)) void counted(comb_pool_t *p)
{
    comb_atomic_count_up(&p->usage);
}

/* A block of at least `size` (>= 1) bytes, or NULL (counted); traced when
 * `traced` (a constant at each use).
 * The smallest pool that fits (the i-th pool is found in i steps), then each
 * larger one: freed block (pop), else never-used block (bump). At most
 * count pools, one pop and one bump each. Common path: the first pool tried
 * has a freed block. The event is emitted after the block was taken. */
static inline __attribute__((always_inline)) void *take_impl(comb_heap_t *h, size_t size,
                                                             const void *caller, bool traced)
{
    comb_pool_t *p = h->pools;
    volatile uint32_t *failures = &h->failures; /* larger than every block */
    while (p->block < size)
        if (++p == h->pools_end)
            goto fail;
    failures = &p->failures; /* the smallest pool that fits */
    void *b;
    for (;;) {
        b = comb_lifo_pop(&p->free, h->base);
        if (b != NULL)
            break;
        uint32_t off = comb_atomic_bump(&p->used, p->limit, p->stride);
        if (off < p->limit) {
            b = pool_start(h, p) + off;
            break;
        }
        if (++p == h->pools_end)
            goto fail;
    }
    counted(p);
    if (traced)
        TRACE_ALLOC(b, size, caller);
    return b;
fail:
    comb_atomic_add32(failures, 1u);
    if (traced)
        TRACE_FAIL(size, caller);
    return NULL;
}

static inline __attribute__((always_inline)) void *alloc_impl(comb_heap_t *h, size_t size,
                                                              const void *caller)
{
    if (size == 0u)
        return NULL;
    return take_impl(h, size, caller, true);
}

/* Untraced take for realloc and calloc (they emit their own events). Without
 * tracing that is comb_heap_alloc itself: one copy of the code. */
#if COMB_HEAP_TRACE
static __attribute__((noinline)) void *take(comb_heap_t *h, size_t size)
{
    return take_impl(h, size, NULL, false);
}
#else
#define take(h, size) comb_heap_alloc((h), (size))
#endif

/* Give a block back to its pool, untraced. The count drops first, so in_use
 * never exceeds the blocks really out. */
static inline __attribute__((always_inline)) void give(comb_heap_t *h, comb_pool_t *p, void *ptr)
{
    comb_atomic_count_down(&p->usage);
    comb_lifo_push(&p->free, h->base, ptr);
}

/* ---- alloc / free / realloc / calloc ----------------------------------------
 * The *_caller functions are the implementation when caller tracing is on;
 * otherwise the plain ones are, and the *_caller forms forward to them. Either
 * way one copy of each. */

static inline __attribute__((always_inline)) void free_impl(comb_heap_t *h, void *ptr, const void *caller)
{
    if (ptr == NULL)
        return;
    uint32_t off = (uint32_t)((uintptr_t)ptr - (uintptr_t)h->base);
    if ((uintptr_t)ptr - (uintptr_t)h->base >= h->bytes) {
        h = other_heap(h, ptr);
        if (h == NULL)
            return; /* not a block of this layout: ignored */
        off = (uint32_t)((uintptr_t)ptr - (uintptr_t)h->base);
    }
    comb_pool_t *p = h->pools;
    while (off >= p->span) {
        off -= p->span;
        p++;
    }
    TRACE_FREE(ptr, caller); /* before the block can be handed out again */
    give(h, p, ptr);
}

#if COMB_HEAP_TRACE_CALLER
void *comb_heap_alloc_caller(comb_heap_t *h, size_t size, const void *caller)
{
    return alloc_impl(h, size, caller);
}
void *comb_heap_alloc(comb_heap_t *h, size_t size)
{
    return comb_heap_alloc_caller(h, size, __builtin_return_address(0));
}
void comb_heap_free_caller(comb_heap_t *h, void *ptr, const void *caller)
{
    free_impl(h, ptr, caller);
}
void comb_heap_free(comb_heap_t *h, void *ptr)
{
    comb_heap_free_caller(h, ptr, __builtin_return_address(0));
}
#else
void *comb_heap_alloc(comb_heap_t *h, size_t size)
{
    return alloc_impl(h, size, NULL);
}
void *comb_heap_alloc_caller(comb_heap_t *h, size_t size, const void *caller)
{
    (void)caller;
    return comb_heap_alloc(h, size);
}
void comb_heap_free(comb_heap_t *h, void *ptr)
{
    free_impl(h, ptr, NULL);
}
void comb_heap_free_caller(comb_heap_t *h, void *ptr, const void *caller)
{
    (void)caller;
    comb_heap_free(h, ptr);
}
#endif

void *comb_heap_realloc_caller(comb_heap_t *h, void *ptr, size_t size, const void *caller)
{
#if !COMB_HEAP_TRACE_CALLER
    caller = NULL;
#endif
    if (ptr == NULL)
        return comb_heap_alloc_caller(h, size, caller);
    if (size == 0u) {
        free_impl(h, ptr, caller);
        return NULL;
    }
    comb_heap_t *hh = heap_of(h, ptr);
    if (hh == NULL)
        return NULL; /* not a block of this layout */
    comb_pool_t *p = pool_of(hh, ptr);
    if (size <= p->block) {
        TRACE_REALLOC(ptr, ptr, size, caller); /* heap_resize */
        return ptr;
    }
    void *n = take(hh, size);
    if (n == NULL) {
        TRACE_FAIL(size, caller);
        return NULL;
    }
    memcpy(n, ptr, p->block);
    TRACE_REALLOC(ptr, n, size, caller); /* before ptr can be handed out again */
    give(hh, p, ptr);
    return n;
}

void *comb_heap_realloc(comb_heap_t *h, void *ptr, size_t size)
{
#if COMB_HEAP_TRACE_CALLER
    return comb_heap_realloc_caller(h, ptr, size, __builtin_return_address(0));
#else
    return comb_heap_realloc_caller(h, ptr, size, NULL);
#endif
}

void *comb_heap_calloc_caller(comb_heap_t *h, size_t n, size_t size, const void *caller)
{
#if !COMB_HEAP_TRACE_CALLER
    caller = NULL;
#endif
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        comb_atomic_add32(&h->failures, 1u);
        TRACE_FAIL(CALLOC_OVERFLOW_SIZE, caller);
        return NULL;
    }
    if (total == 0u)
        return NULL;
    void *b = take(h, total);
    if (b == NULL) {
        TRACE_FAIL(total, caller);
        return NULL;
    }
    memset(b, 0, total);
    TRACE_ALLOC(b, total, caller);
    return b;
}

void *comb_heap_calloc(comb_heap_t *h, size_t n, size_t size)
{
#if COMB_HEAP_TRACE_CALLER
    return comb_heap_calloc_caller(h, n, size, __builtin_return_address(0));
#else
    return comb_heap_calloc_caller(h, n, size, NULL);
#endif
}

size_t comb_heap_usable_size(comb_heap_t *h, const void *ptr)
{
    comb_heap_t *hh = heap_of(h, ptr);
    return hh == NULL ? 0u : pool_of(hh, ptr)->block;
}

/* ---- statistics -------------------------------------------------------------- */

unsigned comb_heap_pool_count(const comb_heap_t *h)
{
    return h->count;
}

bool comb_heap_pool_stats(const comb_heap_t *h, unsigned i, comb_pool_stats_t *out)
{
    if (i >= h->count)
        return false;
    const comb_pool_t *p = &h->pools[i];
    out->block = p->block;
    out->stride = p->stride;
    out->capacity = p->limit / p->stride;
    uint32_t usage = p->usage;
    out->in_use = usage & 0xFFFFu;
    out->peak = usage >> 16;
    out->failures = p->failures;
    uint32_t used = p->used;
    out->touched = used / p->stride;
    return true;
}

uint32_t comb_heap_in_use(const comb_heap_t *h)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < h->count; i++)
        n += h->pools[i].usage & 0xFFFFu;
    return n;
}

uint32_t comb_heap_failures(const comb_heap_t *h)
{
    uint32_t n = h->failures;
    for (unsigned i = 0; i < h->count; i++)
        n += h->pools[i].failures;
    return n;
}

void comb_heap_reset_peaks(comb_heap_t *h)
{
    for (unsigned i = 0; i < h->count; i++) {
        volatile uint32_t *u = &h->pools[i].usage;
        uint32_t v;
        do
            v = *u;
        while (!comb_port_cas32(u, v, (v & 0xFFFFu) * 0x10001u));
    }
}

/* ---- setup ------------------------------------------------------------------- */

const char *comb_heap_strerror(int err)
{
    switch (err) {
    case COMB_HEAP_OK: return "ok";
    case COMB_HEAP_ENOPOOLS: return "no pools";
    case COMB_HEAP_EBLOCK: return "block sizes must be > 0 and strictly ascending";
    case COMB_HEAP_ECAPACITY: return "a pool has capacity 0";
    case COMB_HEAP_ERANGE: return "heap larger than 4 GiB";
    case COMB_HEAP_EALIGN: return "heap memory not 8-byte aligned";
    case COMB_HEAP_ESPACE: return "heap memory smaller than the pools' footprint";
    default: return "unknown error";
    }
}

#define SPAN_MAX 0xFFFFFFF8u

size_t comb_heap_footprint(const comb_pool_layout_t *layout, unsigned n, int *err)
{
    int e = COMB_HEAP_OK;
    uint64_t total = 0;
    if (n == 0u)
        e = COMB_HEAP_ENOPOOLS;
    for (unsigned i = 0; i < n && e == COMB_HEAP_OK; i++) {
        uint32_t b = layout[i].block, c = layout[i].capacity;
        if (b == 0u || (i > 0u && b <= layout[i - 1].block))
            e = COMB_HEAP_EBLOCK;
        else if (c == 0u)
            e = COMB_HEAP_ECAPACITY;
        else if (c > COMB_HEAP_CAPACITY_MAX || b > SPAN_MAX - 8u)
            e = COMB_HEAP_ERANGE;
        else {
            uint64_t stride = COMB_HEAP_STRIDE(b);
            total += (stride * c + 7u) / 8u * 8u;
            if (total > SPAN_MAX)
                e = COMB_HEAP_ERANGE;
        }
    }
    if (err != NULL)
        *err = e;
    return e == COMB_HEAP_OK ? (size_t)total : 0u;
}

static void reset_pool(comb_pool_t *p)
{
    p->free.head = 0u;
    p->used = 0u;
    p->usage = 0u;
    p->failures = 0u;
}

int comb_heap_init(comb_heap_t *h, comb_pool_t *pools, const comb_pool_layout_t *layout, unsigned n,
                   void *mem, size_t mem_size, const char *name)
{
    int err;
    size_t bytes = comb_heap_footprint(layout, n, &err);
    if (err != COMB_HEAP_OK)
        return err;
    if ((uintptr_t)mem % 8u != 0u)
        return COMB_HEAP_EALIGN;
    if (mem_size < bytes)
        return COMB_HEAP_ESPACE;
    for (unsigned i = 0; i < n; i++) {
        comb_pool_t *p = &pools[i];
        p->block = layout[i].block;
        p->stride = COMB_HEAP_STRIDE(layout[i].block);
        p->limit = p->stride * layout[i].capacity;
        p->span = (p->limit + 7u) / 8u * 8u;
        reset_pool(p);
    }
    h->pools = pools;
    h->pools_end = pools + n;
    h->count = n;
    h->base = mem;
    h->bytes = (uint32_t)bytes;
    h->all = NULL;
    h->name = name;
    h->failures = 0u;
    return COMB_HEAP_OK;
}

void comb_heap_reset(comb_heap_t *h)
{
    for (unsigned i = 0; i < h->count; i++)
        reset_pool(&h->pools[i]);
    h->failures = 0u;
}

int comb_heap_check(const comb_heap_t *h)
{
    if (h->count == 0u || h->pools == NULL || h->pools_end != h->pools + h->count)
        return COMB_HEAP_ENOPOOLS;
    if ((uintptr_t)h->base % 8u != 0u)
        return COMB_HEAP_EALIGN;
    uint64_t total = 0;
    for (unsigned i = 0; i < h->count; i++) {
        const comb_pool_t *p = &h->pools[i];
        if (p->block == 0u || (i > 0u && p->block <= h->pools[i - 1].block) ||
            p->stride != COMB_HEAP_STRIDE(p->block))
            return COMB_HEAP_EBLOCK;
        if (p->limit == 0u || p->limit % p->stride != 0u)
            return COMB_HEAP_ECAPACITY;
        if (p->limit / p->stride > COMB_HEAP_CAPACITY_MAX)
            return COMB_HEAP_ERANGE;
        if (p->span != (uint64_t)(p->limit + 7u) / 8u * 8u)
            return COMB_HEAP_ERANGE;
        total += p->span;
    }
    if (total != h->bytes)
        return COMB_HEAP_ERANGE;
    return COMB_HEAP_OK;
}
