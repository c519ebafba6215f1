/*
 * Host atomics for the pool allocator (comb/heap.h), on C11 <stdatomic.h>, so
 * the allocator's logic runs under sanitizers and real threads.
 *
 * Free list: a Treiber stack whose head is one 64-bit word: the low 32 bits
 * hold the first block's offset from the heap base plus one (0 = empty), the
 * high 32 bits an ABA tag incremented by every successful pop. A pop that
 * read head A and next B fails its CAS if anyone popped in between, even when
 * the head is A again (pop A, pop B, push A): the tag moved. This is the host
 * equivalent of the LDREX/STREX window on Cortex-M (a tag wrap needs 2^32
 * pops during one preempted pop). Links inside free blocks are 32-bit offsets
 * too, so a 4-byte block holds its link on a 64-bit host as on the target.
 *
 * Preemption points (comb/port.h, COMB_PP_HEAP_*) mark the places where an
 * interrupt would matter, so single-threaded tests can run a nested
 * allocation exactly there (comb_host_set_preempt_hook).
 *
 * Retries: a CAS fails only when another thread (or a simulated interrupt)
 * changed the word since it was read: lock-free, not wait-free.
 */
#ifndef COMB_PORT_ATOMIC_H
#define COMB_PORT_ATOMIC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/port.h"

#define COMB_ATOMIC_PRIMASK 0

#if defined(COMB_PORT_HOST)
/* Test builds: threaded stress tests widen the race windows: when set, this
 * is called (from any thread) at every point where a preemption would matter,
 * after the preemption hook. Defined in src/heap.c. */
extern void (*volatile comb_host_atomic_stall)(unsigned where);
#define COMB_ATOMIC_WINDOW(where)                                   \
    do {                                                            \
        COMB_PREEMPT_POINT(where);                                  \
        void (*comb_stall_)(unsigned) = comb_host_atomic_stall;     \
        if (comb_stall_ != NULL)                                    \
            comb_stall_(where);                                     \
    } while (0)
#else
/* Other host builds (benchmarks): no test hooks. */
#define COMB_ATOMIC_WINDOW(where) ((void)0)
#endif

/* Always inlined: the allocator's fast paths must not call. */
#define COMB_ATOMIC_INLINE static inline __attribute__((always_inline))

typedef struct {
    _Atomic uint64_t head; /* tag << 32 | (offset + 1) */
} comb_lifo_t;
#define COMB_LIFO_INIT {0u}

/* The link word at the start of a free block. Blocks are at least 4-byte
 * aligned (comb/heap.h), so the cast is aligned. */
static inline _Atomic uint32_t *comb_lifo__link(void *blk)
{
    return (_Atomic uint32_t *)blk;
}

COMB_ATOMIC_INLINE void *comb_lifo_pop(comb_lifo_t *l, void *base)
{
    uint64_t old = atomic_load_explicit(&l->head, memory_order_acquire);
    for (;;) {
        uint32_t first = (uint32_t)old;
        if (first == 0u)
            return NULL;
        uint8_t *blk = (uint8_t *)base + (first - 1u);
        /* May read a block another thread has taken meanwhile: the value is
         * then garbage, and the CAS below fails because the tag moved. */
        uint32_t next = atomic_load_explicit(comb_lifo__link(blk), memory_order_relaxed);
        COMB_ATOMIC_WINDOW(COMB_PP_HEAP_POP);
        uint64_t desired = (((old >> 32) + 1u) << 32) | next;
        if (atomic_compare_exchange_weak_explicit(&l->head, &old, desired, memory_order_acq_rel,
                                                  memory_order_acquire))
            return blk;
    }
}

COMB_ATOMIC_INLINE void comb_lifo_push(comb_lifo_t *l, void *base, void *blk)
{
    uint32_t self = (uint32_t)((uint8_t *)blk - (uint8_t *)base) + 1u;
    uint64_t old = atomic_load_explicit(&l->head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(comb_lifo__link(blk), (uint32_t)old, memory_order_relaxed);
        COMB_ATOMIC_WINDOW(COMB_PP_HEAP_PUSH);
        uint64_t desired = (old & 0xFFFFFFFF00000000u) | self;
        if (atomic_compare_exchange_weak_explicit(&l->head, &old, desired, memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
}

/* Bounded bump: if *p < limit, *p += step and return the old value; else
 * return `limit`. *p only grows, so there is no ABA. */
COMB_ATOMIC_INLINE uint32_t comb_atomic_bump(volatile uint32_t *p, uint32_t limit, uint32_t step)
{
    volatile _Atomic uint32_t *a = (volatile _Atomic uint32_t *)p;
    uint32_t old = atomic_load_explicit(a, memory_order_relaxed);
    for (;;) {
        if (old >= limit)
            return limit;
        COMB_ATOMIC_WINDOW(COMB_PP_HEAP_BUMP);
        if (atomic_compare_exchange_weak_explicit(a, &old, old + step, memory_order_relaxed,
                                                  memory_order_relaxed))
            return old;
    }
}

/* *p += delta (modulo 2^32). */
COMB_ATOMIC_INLINE void comb_atomic_add32(volatile uint32_t *p, uint32_t delta)
{
    COMB_ATOMIC_WINDOW(COMB_PP_HEAP_COUNTER);
    atomic_fetch_add_explicit((volatile _Atomic uint32_t *)p, delta, memory_order_relaxed);
}

/* Usage counter: low half = count, high half = peak; count + 1 and the peak
 * raised with it, in one atomic step. */
COMB_ATOMIC_INLINE void comb_atomic_count_up(volatile uint32_t *p)
{
    volatile _Atomic uint32_t *a = (volatile _Atomic uint32_t *)p;
    uint32_t old = atomic_load_explicit(a, memory_order_relaxed);
    for (;;) {
        uint32_t v = old + 1u, lo = v & 0xFFFFu;
        if (lo > v >> 16)
            v = lo << 16 | lo;
        COMB_ATOMIC_WINDOW(COMB_PP_HEAP_COUNTER);
        if (atomic_compare_exchange_weak_explicit(a, &old, v, memory_order_relaxed, memory_order_relaxed))
            return;
    }
}

COMB_ATOMIC_INLINE void comb_atomic_count_down(volatile uint32_t *p)
{
    comb_atomic_add32(p, 0xFFFFFFFFu);
}

#endif /* COMB_PORT_ATOMIC_H */
