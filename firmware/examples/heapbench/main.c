/*
 * heapbench: instructions per allocator call, measured in QEMU (make bench,
 * bench/heap_bench.py). Run with -icount shift=0: every instruction then
 * takes exactly 1 ns of virtual time and timer 0 (25 MHz, the trace
 * timestamp) ticks every 40 instructions. Each case times N calls in a loop
 * and the same loop calling a two-instruction function (movs r0, #0; bx lr)
 * through the same function pointer; the difference / N + 2 is the
 * allocator's own instruction count per call, with its return.
 *
 * Each case also runs once between two calls of bench_mark(), so that a QEMU
 * instruction trace (-d exec with one instruction per block) shows the exact
 * path: bench/heap_bench.py prints it against the disassembly.
 *
 * Port 0: "heapbench <case> <instructions x 100>" per case; exit 0.
 * heapbench is built without tracing (COMB_HEAP_TRACE=0), heapbench_trace
 * with it; the latter also runs the common cases with port 31 enabled.
 */
#include <string.h>

#include "comb/board.h"
#include "comb/heap.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/trace.h"

#define N 1000u
#define INSNS_PER_TICK 40u /* 1 GHz virtual (icount shift=0) / 25 MHz timer */

typedef void *(*alloc_fn)(comb_heap_t *, size_t);
typedef void (*free_fn)(comb_heap_t *, void *);
typedef void *(*realloc_fn)(comb_heap_t *, void *, size_t);

__attribute__((naked, noinline)) static void *nop_alloc(comb_heap_t *h, size_t n)
{
    (void)h;
    (void)n;
    __asm__ volatile("movs r0, #0\n bx lr");
}
__attribute__((naked, noinline)) static void nop_free(comb_heap_t *h, void *p)
{
    (void)h;
    (void)p;
    __asm__ volatile("movs r0, #0\n bx lr");
}
__attribute__((naked, noinline)) static void *nop_realloc(comb_heap_t *h, void *p, size_t n)
{
    (void)h;
    (void)p;
    (void)n;
    __asm__ volatile("movs r0, #0\n bx lr");
}

/* The path tracer looks for calls of this function. */
__attribute__((noinline)) void bench_mark(unsigned id);
__attribute__((noinline)) void bench_mark(unsigned id)
{
    __asm__ volatile("" ::"r"(id) : "memory");
}

static void *blk[N], *fill[1200];
static comb_heap_t *const h = &comb_heap_main;
/* volatile: the compiler must call through the pointer in both loops */
static alloc_fn volatile f_alloc = comb_heap_alloc, f_nop_alloc = nop_alloc;
static free_fn volatile f_free = comb_heap_free, f_nop_free = nop_free;
static realloc_fn volatile f_realloc = comb_heap_realloc, f_nop_realloc = nop_realloc;

static uint32_t loop_alloc(alloc_fn f, size_t size)
{
    uint32_t t0 = comb_trace_timestamp();
    for (unsigned i = 0; i < N; i++)
        blk[i] = f(h, size);
    return comb_trace_timestamp() - t0;
}

static uint32_t loop_free(free_fn f)
{
    uint32_t t0 = comb_trace_timestamp();
    for (unsigned i = 0; i < N; i++)
        f(h, blk[i]);
    return comb_trace_timestamp() - t0;
}

static uint32_t loop_realloc(realloc_fn f, size_t size)
{
    uint32_t t0 = comb_trace_timestamp();
    for (unsigned i = 0; i < N; i++) {
        void *p = f(h, blk[i], size);
        if (p != NULL)
            blk[i] = p;
    }
    return comb_trace_timestamp() - t0;
}

static void report(const char *name, uint32_t ticks, uint32_t nop_ticks)
{
    /* x100, rounded; +200 for the nop's own two instructions */
    uint32_t x100 = ((ticks - nop_ticks) * INSNS_PER_TICK * 100u + N / 2u) / N + 200u;
    comb_printf("heapbench %s %lu\n", name, (unsigned long)x100);
}

static void fill_pools(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        fill[i] = comb_heap_alloc(h, 8);
}

/* One call of each case between bench_mark(id) and bench_mark(0). */
static void trace_once(unsigned id, void (*setup)(void), void (*call)(void))
{
    setup();
    bench_mark(id);
    call();
    bench_mark(0);
}

static void *one;
static void s_free_list(void) { comb_heap_reset(h); comb_heap_free(h, comb_heap_alloc(h, 8)); }
static void s_fresh(void) { comb_heap_reset(h); }
static void s_last_free(void) { comb_heap_reset(h); comb_heap_free(h, comb_heap_alloc(h, 64)); }
static void s_worst(void) { comb_heap_reset(h); fill_pools(1024u + 6u * 8u); }
static void s_full(void) { s_worst(); for (unsigned i = 0; i < 1024u; i++) (void)comb_heap_alloc(h, 64); }
static void s_one8(void) { comb_heap_reset(h); one = comb_heap_alloc(h, 8); }
static void s_one64(void) { comb_heap_reset(h); one = comb_heap_alloc(h, 64); }
static void s_one4(void) { comb_heap_reset(h); one = comb_heap_alloc(h, 4); }
static void c_alloc8(void) { one = f_alloc(h, 8); }
static void c_alloc64(void) { one = f_alloc(h, 64); }
static void c_free(void) { f_free(h, one); }
static void c_realloc8(void) { one = f_realloc(h, one, 8); }
static void c_realloc60(void) { one = f_realloc(h, one, 60); }

/* Path-only mode, for the QEMU instruction trace: bench/heap_bench.py sets
 * this word with -device loader (data=0xC0FFEE01) so that only the single
 * calls run (the log of the loops would be hundreds of MB). An address far
 * above the image's data and far below its stack. */
#define PATH_ONLY (*(volatile uint32_t *)0x20300000u)
#define PATH_ONLY_MAGIC 0xC0FFEE01u

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu & ~(1u << COMB_PORT_HEAP), COMB_TRANSPORT_SYNC_DEFAULT); /* heap trace off */
    if (PATH_ONLY == PATH_ONLY_MAGIC)
        goto single_calls;
    uint32_t t, n;

    /* alloc, common: the smallest pool's free list */
    comb_heap_reset(h);
    loop_alloc(f_alloc, 8);
    loop_free(f_free);
    t = loop_alloc(f_alloc, 8);
    n = loop_alloc(f_nop_alloc, 8);
    report("alloc_common", t, n);
    /* free, common: back to the smallest pool (blocks from the loop above) */
    comb_heap_reset(h);
    loop_alloc(f_alloc, 8);
    t = loop_free(f_free);
    n = loop_free(f_nop_free);
    report("free_common", t, n);
    /* alloc of a never-used block (bump pointer) */
    comb_heap_reset(h);
    t = loop_alloc(f_alloc, 8);
    report("alloc_bump", t, n = loop_alloc(f_nop_alloc, 8));
    /* alloc from the largest pool's free list: 7 pools skipped */
    comb_heap_reset(h);
    loop_alloc(f_alloc, 64);
    loop_free(f_free);
    t = loop_alloc(f_alloc, 64);
    report("alloc_last_pool", t, loop_alloc(f_nop_alloc, 64));
    comb_heap_reset(h);
    loop_alloc(f_alloc, 64);
    t = loop_free(f_free);
    report("free_last_pool", t, loop_free(f_nop_free));
    /* worst successful alloc: 8 bytes with pools 0-6 exhausted, the largest
     * pool's never-used blocks: 8 pops, 8 bumps, the pool start walk */
    comb_heap_reset(h);
    fill_pools(1024u + 6u * 8u);
    t = loop_alloc(f_alloc, 8);
    report("alloc_worst", t, loop_alloc(f_nop_alloc, 8));
    /* failing alloc: everything exhausted */
    for (unsigned i = 0; i < 1024u - N; i++)
        (void)comb_heap_alloc(h, 64);
    t = loop_alloc(f_alloc, 8);
    report("alloc_fail", t, loop_alloc(f_nop_alloc, 8));
    /* realloc in place (4 -> 8 in an 8-byte block) and moving (8 -> 60) */
    comb_heap_reset(h);
    loop_alloc(f_alloc, 4);
    t = loop_realloc(f_realloc, 8);
    report("realloc_in_place", t, loop_realloc(f_nop_realloc, 8));
    t = loop_realloc(f_realloc, 60);
    report("realloc_move", t, loop_realloc(f_nop_realloc, 60));

#if COMB_HEAP_TRACE
    /* with port 31 enabled: the cost of emitting the events */
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_heap_reset(h);
    loop_alloc(f_alloc, 8);
    loop_free(f_free);
    t = loop_alloc(f_alloc, 8);
    report("alloc_common_traced", t, loop_alloc(f_nop_alloc, 8));
    comb_heap_reset(h);
    loop_alloc(f_alloc, 8);
    t = loop_free(f_free);
    report("free_common_traced", t, loop_free(f_nop_free));
    comb_transport_init(0xFFFFFFFFu & ~(1u << COMB_PORT_HEAP), COMB_TRANSPORT_SYNC_DEFAULT);
#endif

single_calls:
    /* single calls for the path listing */
    trace_once(1, s_free_list, c_alloc8);   /* alloc_common */
    trace_once(2, s_one8, c_free);          /* free_common */
    trace_once(3, s_fresh, c_alloc8);       /* alloc_bump */
    trace_once(4, s_last_free, c_alloc64); /* alloc_last_pool */
    trace_once(5, s_one64, c_free);       /* free_last_pool */
    trace_once(6, s_worst, c_alloc8);       /* alloc_worst */
    trace_once(7, s_full, c_alloc8);        /* alloc_fail */
    trace_once(8, s_one4, c_realloc8);      /* realloc_in_place */
    trace_once(9, s_one8, c_realloc60);    /* realloc_move */
    comb_printf("heapbench done\n");
    return comb_transport_flush() ? 0 : 1;
}
