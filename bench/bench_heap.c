/*
 * bench_heap: the pool allocator on the host (docs/heap.md). Built from the
 * allocator's sources without the unit-test hooks (no COMB_PORT_HOST) and
 * without tracing, so the figures are the allocator's own: C11 atomics with
 * the ABA-tagged free-list head.
 *
 *   bench_heap [--pairs N]     default 1,000,000
 *
 * Runs N alloc/free pairs on the smallest pool's free list (the common path)
 * inside bench_pairs(), and prints ns per pair. scripts/bench.sh also runs it
 * under valgrind --tool=callgrind --toggle-collect=bench_pairs and divides the
 * inclusive instruction counts of comb_heap_alloc and comb_heap_free by N.
 * Checks its result: every pair must get the same block back (LIFO).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comb/heap.h"
#include "comb/port.h"

#define COMB_HEAPS(H) H(main, MAIN)
#define COMB_HEAP_MAIN_SIZE 75456u
#define COMB_HEAP_MAIN_ORIGIN 0u
#define COMB_HEAP_MAIN_POOL_COUNT 8u
#define COMB_HEAP_MAIN_POOLS(P) \
    P(8u, 1024u) P(16u, 8u) P(24u, 8u) P(32u, 8u) P(40u, 8u) P(48u, 8u) P(56u, 8u) P(64u, 1024u)

COMB_HEAP_DEFINE_ALL();

/* comb_heap_reset_peaks uses the port's CAS; not measured. */
bool comb_port_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
    return atomic_compare_exchange_strong((volatile _Atomic uint32_t *)p, &expected, desired);
}

__attribute__((noinline)) static unsigned bench_pairs(unsigned long n, void *expect)
{
    unsigned bad = 0;
    for (unsigned long i = 0; i < n; i++) {
        void *p = comb_heap_alloc(&comb_heap_main, 8);
        bad += p != expect;
        comb_heap_free(&comb_heap_main, p);
    }
    return bad;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    unsigned long n = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_heap [--pairs N]\n");
            return 2;
        }
    }
    void *first = comb_heap_alloc(&comb_heap_main, 8); /* leave one block on the free list */
    comb_heap_free(&comb_heap_main, first);
    double t0 = now();
    unsigned bad = bench_pairs(n, first);
    double t1 = now();
    if (bad != 0 || comb_heap_in_use(&comb_heap_main) != 0) {
        fprintf(stderr, "bench_heap: wrong result (%u pairs did not get the block back)\n", bad);
        return 1;
    }
    printf("bench_heap: %lu alloc/free pairs on the smallest pool: %.1f ns per pair\n", n,
           (t1 - t0) * 1e9 / (double)n);
    return 0;
}
