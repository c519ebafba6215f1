/*
 * Pool allocator under real concurrency: threads allocate, reallocate and
 * free at random on a small heap (so pools run empty, borrow and fail all the
 * time). The host atomics (ABA-tagged free-list head, CAS bump pointer,
 * atomic counters) are the same logic the Cortex-M port runs with
 * LDREX/STREX. Checked:
 *   - no block is ever handed to two owners: an ownership table indexed by
 *     block address is claimed by CAS on every alloc and released on every
 *     free, and each block carries its owner's tag, verified on free;
 *   - at the end every block is back: in_use 0 in every pool, and draining
 *     the heap yields exactly its capacity in distinct blocks.
 */
#define _POSIX_C_SOURCE 200809L /* pthread_barrier_t */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/heap.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"

#define COMB_HEAPS(H) H(main, MAIN)
#define COMB_HEAP_MAIN_SIZE 5120u
#define COMB_HEAP_MAIN_ORIGIN 0u
#define COMB_HEAP_MAIN_POOL_COUNT 4u
#define COMB_HEAP_MAIN_POOLS(P) P(4u, 64u) P(8u, 64u) P(24u, 64u) P(64u, 44u)

COMB_HEAP_DEFINE_ALL();

#define THREADS 4
#define OPS 300000
#define HOLD 48
#define CAPACITY (64u + 64u + 64u + 44u)

static _Atomic uint32_t owner[COMB_HEAP_FOOTPRINT(MAIN) / 4u];
static atomic_uint double_owner, bad_tag, wrong_pool, ok_allocs, null_allocs;

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static size_t slot(const void *p)
{
    return ((uintptr_t)p - (uintptr_t)comb_heap_main.base) / 4u;
}

static void claim(void *p, uint32_t me, size_t size, uint32_t tag)
{
    uint32_t expected = 0;
    if (!atomic_compare_exchange_strong(&owner[slot(p)], &expected, me))
        atomic_fetch_add(&double_owner, 1u);
    if (comb_heap_usable_size(&comb_heap_main, p) < size)
        atomic_fetch_add(&wrong_pool, 1u);
    uint8_t *b = p;
    memcpy(b, &tag, 4);
    memcpy(b + (size >= 8 ? size - 4 : 0), &tag, 4);
}

static void release(void *p, uint32_t me, size_t size, uint32_t tag)
{
    uint32_t a, z;
    const uint8_t *b = p;
    memcpy(&a, b, 4);
    memcpy(&z, b + (size >= 8 ? size - 4 : 0), 4);
    if (a != tag || z != tag)
        atomic_fetch_add(&bad_tag, 1u);
    uint32_t expected = me;
    if (!atomic_compare_exchange_strong(&owner[slot(p)], &expected, 0u))
        atomic_fetch_add(&double_owner, 1u);
}

struct held {
    void *p;
    size_t size;
    uint32_t tag;
};

static pthread_barrier_t start;

/* Widen the race windows: now and then a thread stalls between reading a
 * free-list head (or counter, or bump pointer) and its CAS, as a preempted
 * Cortex-M context would, so the others pop and push meanwhile. */
static void stall(unsigned where)
{
    static _Thread_local uint32_t s = 0;
    if (s == 0)
        s = (uint32_t)(uintptr_t)&s | 1u;
    (void)where;
    if (rnd(&s) % 16u == 0u)
        sched_yield();
}

static void *worker(void *arg)
{
    pthread_barrier_wait(&start); /* all threads contend from the first operation */
    uint32_t me = (uint32_t)(uintptr_t)arg + 1u, seed = 0x9E3779B9u * me, seq = 0;
    struct held h[HOLD];
    memset(h, 0, sizeof h);
    for (int op = 0; op < OPS; op++) {
        struct held *x = &h[rnd(&seed) % HOLD];
        uint32_t r = rnd(&seed);
        if (x->p == NULL) {
            size_t size = 4u + r % 61u; /* 4..64 */
            void *p = (r >> 8) % 8u == 0u ? comb_calloc(1, size) : comb_alloc(size);
            if (p == NULL) {
                atomic_fetch_add(&null_allocs, 1u);
                continue;
            }
            atomic_fetch_add(&ok_allocs, 1u);
            uint32_t tag = me << 24 | (++seq & 0xFFFFFFu);
            claim(p, me, size, tag);
            *x = (struct held){p, size, tag};
        } else if ((r >> 8) % 4u == 0u) {
            size_t size = 4u + (r >> 12) % 61u;
            release(x->p, me, x->size, x->tag);
            void *p = comb_realloc(x->p, size);
            if (p == NULL) { /* failed: the old block stays ours */
                claim(x->p, me, x->size, x->tag);
                continue;
            }
            uint32_t tag = me << 24 | (++seq & 0xFFFFFFu);
            claim(p, me, size, tag);
            *x = (struct held){p, size, tag};
        } else {
            release(x->p, me, x->size, x->tag);
            comb_free(x->p);
            x->p = NULL;
        }
    }
    for (int i = 0; i < HOLD; i++)
        if (h[i].p != NULL) {
            release(h[i].p, me, h[i].size, h[i].tag);
            comb_free(h[i].p);
        }
    return NULL;
}

int main(void)
{
    comb_host_reset();
    comb_transport_init(0u, 0u); /* no trace: the host transport is not thread safe */
    CHECK_EQ_U64(comb_heap_check(&comb_heap_main), COMB_HEAP_OK);
    pthread_t t[THREADS];
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    comb_host_atomic_stall = stall;
    for (uintptr_t i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);

    comb_host_atomic_stall = NULL;
    CHECK_EQ_U64(atomic_load(&double_owner), 0);
    CHECK_EQ_U64(atomic_load(&bad_tag), 0);
    CHECK_EQ_U64(atomic_load(&wrong_pool), 0);
    CHECK(atomic_load(&ok_allocs) > THREADS * OPS / 4);
    CHECK(atomic_load(&null_allocs) > 0); /* the heap did run out */
    printf("threads: %u allocations, %u failed (heap exhausted), failures counted %u\n",
           atomic_load(&ok_allocs), atomic_load(&null_allocs), comb_heap_failures(&comb_heap_main));
    CHECK_EQ_U64(comb_heap_in_use(&comb_heap_main), 0);
    for (unsigned i = 0; i < comb_heap_pool_count(&comb_heap_main); i++) {
        comb_pool_stats_t s;
        CHECK(comb_heap_pool_stats(&comb_heap_main, i, &s));
        CHECK_EQ_U64(s.in_use, 0);
        CHECK(s.peak <= s.capacity && s.peak > 0);
    }
    /* every block is back, exactly once */
    unsigned got = 0;
    void *p;
    while (got <= CAPACITY && (p = comb_alloc(1)) != NULL) {
        uint32_t expected = 0;
        CHECK(atomic_compare_exchange_strong(&owner[slot(p)], &expected, 99u));
        got++;
    }
    CHECK_EQ_U64(got, CAPACITY);
    return check_finish("test_heap_threads");
}
