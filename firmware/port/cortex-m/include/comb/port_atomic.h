/*
 * Cortex-M atomics for the pool allocator (comb/heap.h): an intrusive LIFO
 * free list (Treiber stack), a bounded bump pointer and statistics counters.
 * All inline, so the allocator's common path has no calls.
 *
 * Single core: everything that can preempt this code is an exception handler
 * on the same core that runs to completion before the preempted code resumes.
 *
 * ARMv7-M, ARMv8-M Baseline and Mainline (LDREX/STREX): lock-free. Taking an
 * exception clears the local exclusive monitor (ARMv7-M ARM A3.4.4; Cortex-M4
 * Generic User Guide 2.2.7), so an interrupt anywhere between LDREX and STREX
 * makes the STREX fail and the sequence restarts from the LDREX.
 *   - pop loads the next link *between* LDREX and STREX. An interrupt that pops
 *     A, pops B and pushes A back (ABA) necessarily lands in that window or
 *     before the LDREX; in both cases the STREX cannot commit a stale next.
 *     (Drone OS and heapless before PR #285 read next before the exclusive
 *     window: a CAS on the head then succeeds and hands out B twice.)
 *   - push writes the block's link with a plain store *before* the LDREX (a
 *     plain store inside the window may clear the monitor on some cores, which
 *     could make the STREX fail forever), then checks under LDREX that the head
 *     is still the one it linked to.
 *   - retries: each failed STREX or head re-check needs at least one exception
 *     taken inside the sequence, so a loop runs at most 1 + (number of
 *     preempting handlers that ran during it) times. Lock-free, not wait-free.
 * Each asm block is one statement: the compiler cannot place a spill (a
 * store) between LDREX and STREX. Low registers only (valid on ARMv8-M
 * Baseline). No DMB: single core, Normal memory, and the asm "memory" clobber
 * keeps the compiler from moving block accesses across the operations.
 *
 * ARMv6-M (Cortex-M0/M0+, no exclusives): short PRIMASK critical sections
 * (save PRIMASK, CPSID i, ..., restore). Instructions executed with
 * interrupts masked, counted after CPSID up to and including the MSR that
 * restores PRIMASK: pop 6 (empty list 4), push 4, bump 6, add 4, count_up
 * 10. At 1-2 cycles each (loads/stores 2) that is at most ~13 cycles of added
 * interrupt latency. Nothing waits while masked.
 */
#ifndef COMB_PORT_ATOMIC_H
#define COMB_PORT_ATOMIC_H

#include <stddef.h>
#include <stdint.h>

#if defined(__ARM_ARCH_6M__)
#define COMB_ATOMIC_PRIMASK 1 /* ARMv6-M: critical sections */
#else
#define COMB_ATOMIC_PRIMASK 0 /* LDREX/STREX */
#endif

/* Free-list head: address of the first free block, 0 = empty. The first word
 * of a free block holds the address of the next one (0 at the end). */
/* Always inlined: the allocator's fast paths must not call. */
#define COMB_ATOMIC_INLINE static inline __attribute__((always_inline))

/* GCC passes inline asm in divided syntax on Thumb-1 targets (ARMv6-M,
 * ARMv8-M Baseline) and switches back to unified after each block. */
#define COMB_ASM_UNIFIED ".syntax unified\n"

typedef struct {
    volatile uint32_t head;
} comb_lifo_t;
#define COMB_LIFO_INIT {0u}

/* Pop the first block, or NULL when the list is empty. `base` (the heap base)
 * is used by the host implementation only. */
COMB_ATOMIC_INLINE void *comb_lifo_pop(comb_lifo_t *l, void *base)
{
    (void)base;
    uint32_t blk, next;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "   mrs  %[pm], primask\n"
                     "   cpsid i\n"
                     "   ldr  %[blk], [%[h]]\n"
                     "   cmp  %[blk], #0\n"
                     "   beq  1f\n"
                     "   ldr  %[next], [%[blk]]\n"
                     "   str  %[next], [%[h]]\n"
                     "1: msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [blk] "=&l"(blk), [next] "=&l"(next)
                     : [h] "l"(&l->head)
                     : "cc", "memory");
    return (void *)blk;
#else
    /* asm goto: the empty case leaves the asm by a branch, so the common
     * path falls through with no test after it. */
    uint32_t failed;
    __asm__ goto(COMB_ASM_UNIFIED "1: ldrex %[blk], [%[h]]\n"
                 "   cbnz  %[blk], 2f\n"
                 "   b     %l[empty]\n"
                 "2: ldr   %[next], [%[blk]]\n" /* next read inside the window */
                 "   strex %[failed], %[next], [%[h]]\n"
                 "   cmp   %[failed], #0\n"
                 "   bne   1b\n" /* an exception was taken: start again */
                 : [blk] "=&l"(blk), [next] "=&l"(next), [failed] "=&l"(failed)
                 : [h] "l"(&l->head)
                 : "cc", "memory"
                 : empty);
    if (blk == 0u)
        __builtin_unreachable();
    return (void *)blk;
empty:
    /* The reservation stays open (no CLREX): harmless, every STREX anywhere
     * is paired with its own LDREX, and exception entry clears it anyway. */
    return NULL;
#endif
}

/* Push `blk` (a block not on any list). */
COMB_ATOMIC_INLINE void comb_lifo_push(comb_lifo_t *l, void *base, void *blk)
{
    (void)base;
    uint32_t old;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "mrs   %[pm], primask\n"
                     "cpsid i\n"
                     "ldr   %[old], [%[h]]\n"
                     "str   %[old], [%[b]]\n"
                     "str   %[b], [%[h]]\n"
                     "msr   primask, %[pm]\n"
                     : [pm] "=&l"(pm), [old] "=&l"(old)
                     : [h] "l"(&l->head), [b] "l"(blk)
                     : "memory");
#else
    uint32_t cur, failed;
    __asm__ volatile(COMB_ASM_UNIFIED "1: ldr   %[old], [%[h]]\n"
                     "   str   %[old], [%[b]]\n" /* link first, outside the window */
                     "   ldrex %[cur], [%[h]]\n"
                     "   cmp   %[cur], %[old]\n"
                     "   bne   1b\n" /* head moved since we linked: relink */
                     "   strex %[failed], %[b], [%[h]]\n"
                     "   cmp   %[failed], #0\n"
                     "   bne   1b\n"
                     : [old] "=&l"(old), [cur] "=&l"(cur), [failed] "=&l"(failed)
                     : [h] "l"(&l->head), [b] "l"(blk)
                     : "cc", "memory");
#endif
}

/* Bounded bump: if *p < limit, *p += step and return the old value; else
 * return `limit` and leave *p alone. (*p only grows in steps of `step` up to
 * `limit`, a multiple of `step`.) */
COMB_ATOMIC_INLINE uint32_t comb_atomic_bump(volatile uint32_t *p, uint32_t limit, uint32_t step)
{
    uint32_t old, next;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "   mrs  %[pm], primask\n"
                     "   cpsid i\n"
                     "   ldr  %[old], [%[p]]\n"
                     "   cmp  %[old], %[lim]\n"
                     "   bhs  1f\n"
                     "   adds %[next], %[old], %[step]\n"
                     "   str  %[next], [%[p]]\n"
                     "1: msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [old] "=&l"(old), [next] "=&l"(next)
                     : [p] "l"(p), [lim] "l"(limit), [step] "l"(step)
                     : "cc", "memory");
    return old < limit ? old : limit;
#else
    uint32_t failed;
    __asm__ volatile(COMB_ASM_UNIFIED "1: ldrex %[old], [%[p]]\n"
                     "   cmp   %[old], %[lim]\n"
                     "   bhs   2f\n"
                     "   adds  %[next], %[old], %[step]\n"
                     "   strex %[failed], %[next], [%[p]]\n"
                     "   cmp   %[failed], #0\n"
                     "   bne   1b\n"
                     "   b     3f\n"
                     "2: mov   %[old], %[lim]\n" /* full (reservation left open, see pop) */
                     "3:\n"
                     : [old] "=&l"(old), [next] "=&l"(next), [failed] "=&l"(failed)
                     : [p] "l"(p), [lim] "l"(limit), [step] "l"(step)
                     : "cc", "memory");
    return old;
#endif
}

/* *p += delta (modulo 2^32). For rarely updated counters. */
COMB_ATOMIC_INLINE void comb_atomic_add32(volatile uint32_t *p, uint32_t delta)
{
    uint32_t v;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "mrs  %[pm], primask\n"
                     "cpsid i\n"
                     "ldr  %[v], [%[p]]\n"
                     "adds %[v], %[v], %[d]\n"
                     "str  %[v], [%[p]]\n"
                     "msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [v] "=&l"(v)
                     : [p] "l"(p), [d] "l"(delta)
                     : "cc", "memory");
#else
    uint32_t failed;
    __asm__ volatile(COMB_ASM_UNIFIED "1: ldrex %[v], [%[p]]\n"
                     "   adds  %[v], %[v], %[d]\n"
                     "   strex %[failed], %[v], [%[p]]\n"
                     "   cmp   %[failed], #0\n"
                     "   bne   1b\n"
                     : [v] "=&l"(v), [failed] "=&l"(failed)
                     : [p] "l"(p), [d] "l"(delta)
                     : "cc", "memory");
#endif
}

/* Usage counter: one word, low half = current count, high half = peak.
 * Increment the count and raise the peak with it, in one atomic step. The
 * count must stay below 65536. */
COMB_ATOMIC_INLINE void comb_atomic_count_up(volatile uint32_t *p)
{
    uint32_t v, lo, hi;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "   mrs  %[pm], primask\n"
                     "   cpsid i\n"
                     "   ldr  %[v], [%[p]]\n"
                     "   adds %[v], %[v], #1\n"
                     "   uxth %[lo], %[v]\n"
                     "   lsrs %[hi], %[v], #16\n"
                     "   cmp  %[lo], %[hi]\n"
                     "   bls  1f\n"
                     "   lsls %[hi], %[lo], #16\n"
                     "   adds %[v], %[hi], %[lo]\n" /* new peak = new count */
                     "1: str  %[v], [%[p]]\n"
                     "   msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [v] "=&l"(v), [lo] "=&l"(lo), [hi] "=&l"(hi)
                     : [p] "l"(p)
                     : "cc", "memory");
#else
    uint32_t failed;
    __asm__ volatile(COMB_ASM_UNIFIED "1: ldrex %[v], [%[p]]\n"
                     "   adds  %[v], %[v], #1\n"
                     "   uxth  %[lo], %[v]\n"
                     "   lsrs  %[hi], %[v], #16\n"
                     "   cmp   %[lo], %[hi]\n"
                     "   bls   2f\n"
                     "   lsls  %[hi], %[lo], #16\n"
                     "   adds  %[v], %[hi], %[lo]\n" /* new peak = new count */
                     "2: strex %[failed], %[v], [%[p]]\n"
                     "   cmp   %[failed], #0\n"
                     "   bne   1b\n"
                     : [v] "=&l"(v), [lo] "=&l"(lo), [hi] "=&l"(hi), [failed] "=&l"(failed)
                     : [p] "l"(p)
                     : "cc", "memory");
#endif
}

/* Decrement the count half of a usage counter (count > 0). */
COMB_ATOMIC_INLINE void comb_atomic_count_down(volatile uint32_t *p)
{
    uint32_t v;
#if COMB_ATOMIC_PRIMASK
    uint32_t pm;
    __asm__ volatile(COMB_ASM_UNIFIED "mrs  %[pm], primask\n"
                     "cpsid i\n"
                     "ldr  %[v], [%[p]]\n"
                     "subs %[v], %[v], #1\n"
                     "str  %[v], [%[p]]\n"
                     "msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [v] "=&l"(v)
                     : [p] "l"(p)
                     : "cc", "memory");
#else
    uint32_t failed;
    __asm__ volatile(COMB_ASM_UNIFIED "1: ldrex %[v], [%[p]]\n"
                     "   subs  %[v], %[v], #1\n"
                     "   strex %[failed], %[v], [%[p]]\n"
                     "   cmp   %[failed], #0\n"
                     "   bne   1b\n"
                     : [v] "=&l"(v), [failed] "=&l"(failed)
                     : [p] "l"(p)
                     : "cc", "memory");
#endif
}

#endif /* COMB_PORT_ATOMIC_H */
