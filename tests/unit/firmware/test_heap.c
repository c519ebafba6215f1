/*
 * Pool allocator (comb/heap.h), single-threaded: pool choice, borrowing,
 * exhaustion, free to the right pool, realloc in place and moving, calloc,
 * statistics, alignment, several heaps, run-time layout errors, the heap
 * trace on port 31, ABA under a simulated interrupt, and a simulated
 * interrupt allocating and freeing at every preemption point of the
 * allocator.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/heap.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/trace.h"

/* The layout of docs/heap-layout-header.md's example (blocks 12 and 28 are
 * padded to 16 and 32) plus a second heap. */
#define COMB_HEAPS(H) H(main, MAIN) H(dma_buffers, DMA_BUFFERS)
#define COMB_HEAP_MAIN_SIZE 10240u
#define COMB_HEAP_MAIN_ORIGIN 0u
#define COMB_HEAP_MAIN_POOL_COUNT 5u
#define COMB_HEAP_MAIN_POOLS(P) P(4u, 201u) P(12u, 222u) P(28u, 115u) P(32u, 83u) P(128u, 7u)
#define COMB_HEAP_DMA_BUFFERS_SIZE 4096u
#define COMB_HEAP_DMA_BUFFERS_ORIGIN 0u
#define COMB_HEAP_DMA_BUFFERS_POOL_COUNT 1u
#define COMB_HEAP_DMA_BUFFERS_POOLS(P) P(64u, 64u)

COMB_HEAP_DEFINE_ALL();

static const uint32_t blocks[5] = {4, 12, 28, 32, 128};
static const uint32_t caps[5] = {201, 222, 115, 83, 7};

static comb_pool_stats_t stats(comb_heap_t *h, unsigned i)
{
    comb_pool_stats_t s;
    memset(&s, 0xEE, sizeof s);
    CHECK(comb_heap_pool_stats(h, i, &s));
    return s;
}

static unsigned pool_index(comb_heap_t *h, const void *p)
{
    uintptr_t off = (uintptr_t)p - (uintptr_t)h->base;
    unsigned i = 0;
    while (i < h->count && off >= h->pools[i].span)
        off -= h->pools[i++].span;
    return i;
}

static void reset_all(void)
{
    comb_host_reset();
    comb_transport_init(0u, 0u); /* tracing off unless a test enables it */
    comb_heap_reset(&comb_heap_main);
    comb_heap_reset(&comb_heap_dma_buffers);
}

/* ---- layout, geometry, alignment ------------------------------------------- */

static void test_static_layout(void)
{
    reset_all();
    CHECK_EQ_U64(comb_heap_check(&comb_heap_main), COMB_HEAP_OK);
    CHECK_EQ_U64(comb_heap_check(&comb_heap_dma_buffers), COMB_HEAP_OK);
    CHECK(comb_heaps[0] == &comb_heap_main && comb_heaps[1] == &comb_heap_dma_buffers && comb_heaps[2] == NULL);
    CHECK_EQ_U64(comb_heap_pool_count(&comb_heap_main), 5);
    /* 4:201 -> 804 + 4 padding; 12 -> stride 16; 28 -> 32 */
    CHECK_EQ_U64(COMB_HEAP_FOOTPRINT(MAIN), 808u + 222u * 16u + 115u * 32u + 83u * 32u + 7u * 128u);
    CHECK_EQ_U64(comb_heap_main.bytes, COMB_HEAP_FOOTPRINT(MAIN));
    CHECK_EQ_U64(COMB_HEAP_FOOTPRINT(DMA_BUFFERS), 4096u);
    CHECK_EQ_U64((uintptr_t)comb_heap_main.base % 8u, 0);
    for (unsigned i = 0; i < 5; i++) {
        comb_pool_stats_t s = stats(&comb_heap_main, i);
        CHECK_EQ_U64(s.block, blocks[i]);
        CHECK_EQ_U64(s.capacity, caps[i]);
        CHECK_EQ_U64(s.stride, COMB_HEAP_STRIDE(blocks[i]));
        CHECK_EQ_U64(s.in_use, 0);
        CHECK_EQ_U64(s.peak, 0);
        CHECK_EQ_U64(s.touched, 0);
    }
    comb_pool_stats_t s;
    CHECK(!comb_heap_pool_stats(&comb_heap_main, 5, &s));
    CHECK_EQ_U64(COMB_HEAP_STRIDE(1u), 4);
    CHECK_EQ_U64(COMB_HEAP_STRIDE(4u), 4);
    CHECK_EQ_U64(COMB_HEAP_STRIDE(5u), 8);
    CHECK_EQ_U64(COMB_HEAP_STRIDE(8u), 8);
    CHECK_EQ_U64(COMB_HEAP_STRIDE(12u), 16);
    CHECK_EQ_U64(COMB_HEAP_STRIDE(24u), 24);
}

static void test_every_block_aligned_and_distinct(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    void *all[700];
    unsigned n = 0;
    for (unsigned i = 0; i < 5; i++) {
        for (unsigned k = 0; k < caps[i]; k++) {
            uint8_t *p = comb_heap_alloc(h, blocks[i]);
            CHECK(p != NULL);
            if (p == NULL)
                return;
            CHECK_EQ_U64(pool_index(h, p), i);
            CHECK_EQ_U64((uintptr_t)p % (blocks[i] >= 8 ? 8u : 4u), 0);
            CHECK(p >= h->base && p + blocks[i] <= h->base + h->bytes);
            memset(p, (int)i + 1, blocks[i]); /* ASan: the whole block is ours */
            all[n++] = p;
        }
        CHECK_EQ_U64(stats(h, i).in_use, caps[i]);
        CHECK_EQ_U64(stats(h, i).touched, caps[i]);
    }
    /* no two blocks overlap: sort by address, check gaps */
    for (unsigned a = 1; a < n; a++)
        for (unsigned b = a; b > 0 && (uintptr_t)all[b - 1] > (uintptr_t)all[b]; b--) {
            void *t = all[b];
            all[b] = all[b - 1];
            all[b - 1] = t;
        }
    for (unsigned a = 1; a < n; a++)
        CHECK((uintptr_t)all[a] - (uintptr_t)all[a - 1] >= blocks[pool_index(h, all[a - 1])]);
    CHECK(comb_heap_alloc(h, 1) == NULL);
    for (unsigned a = 0; a < n; a++)
        comb_heap_free(h, all[a]);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
}

/* ---- choice of pool, borrowing, exhaustion ------------------------------------ */

static void test_smallest_fitting_pool(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    static const struct {
        size_t size;
        unsigned pool;
    } cases[] = {{1, 0}, {3, 0}, {4, 0}, {5, 1}, {12, 1}, {13, 2}, {28, 2}, {29, 3}, {32, 3}, {33, 4}, {128, 4}};
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        void *p = comb_heap_alloc(h, cases[i].size);
        CHECK(p != NULL);
        CHECK_EQ_U64(pool_index(h, p), cases[i].pool);
        CHECK_EQ_U64(comb_heap_usable_size(h, p), blocks[cases[i].pool]);
        comb_heap_free(h, p);
    }
    /* never-used blocks come in address order, freed ones LIFO */
    uint8_t *a = comb_heap_alloc(h, 12), *b = comb_heap_alloc(h, 12), *c = comb_heap_alloc(h, 12);
    CHECK(b == a + 16 && c == b + 16);
    comb_heap_free(h, a);
    comb_heap_free(h, c);
    CHECK(comb_heap_alloc(h, 10) == c);
    CHECK(comb_heap_alloc(h, 10) == a);
    CHECK(comb_heap_alloc(h, 10) == c + 16); /* list empty: bump again */
    /* zero and too large */
    uint32_t f = comb_heap_failures(h);
    CHECK(comb_heap_alloc(h, 0) == NULL);
    CHECK_EQ_U64(comb_heap_failures(h), f);
    CHECK(comb_heap_alloc(h, 129) == NULL);
    CHECK(comb_heap_alloc(h, (size_t)-1) == NULL);
    CHECK_EQ_U64(comb_heap_failures(h), f + 2);
    for (unsigned i = 0; i < 5; i++)
        CHECK_EQ_U64(stats(h, i).failures, 0); /* too large: no pool is blamed */
}

static void test_borrowing_and_exhaustion(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    /* fill pool 0, the next 4-byte request borrows from pool 1 */
    for (unsigned k = 0; k < caps[0]; k++)
        CHECK_EQ_U64(pool_index(h, comb_heap_alloc(h, 4)), 0);
    void *b1 = comb_heap_alloc(h, 4);
    CHECK_EQ_U64(pool_index(h, b1), 1);
    CHECK_EQ_U64(stats(h, 0).failures, 0);
    CHECK_EQ_U64(stats(h, 1).in_use, 1);
    /* a borrowed block goes back to its own pool */
    comb_heap_free(h, b1);
    CHECK_EQ_U64(stats(h, 1).in_use, 0);
    CHECK(comb_heap_alloc(h, 12) == b1);
    /* fill everything from 29 bytes up: 32-byte requests borrow from 128 */
    for (unsigned k = 0; k < caps[3]; k++)
        CHECK(comb_heap_alloc(h, 30) != NULL);
    void *big[7];
    for (unsigned k = 0; k < 7; k++) {
        big[k] = comb_heap_alloc(h, 32);
        CHECK_EQ_U64(pool_index(h, big[k]), 4);
    }
    /* exhausted for 29..128; pools 1 and 2 still serve smaller requests */
    CHECK(comb_heap_alloc(h, 30) == NULL);
    CHECK(comb_heap_alloc(h, 100) == NULL);
    CHECK_EQ_U64(stats(h, 3).failures, 1);
    CHECK_EQ_U64(stats(h, 4).failures, 1);
    CHECK_EQ_U64(comb_heap_failures(h), 2);
    CHECK(comb_heap_alloc(h, 20) != NULL);
    /* no silent reset: the state is intact, a free makes room again */
    comb_heap_free(h, big[3]);
    CHECK(comb_heap_alloc(h, 100) == big[3]);
    CHECK(comb_heap_alloc(h, 100) == NULL);
    CHECK_EQ_U64(comb_heap_failures(h), 3);
}

/* ---- free --------------------------------------------------------------------- */

static void test_free_edge_cases(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    comb_heap_free(h, NULL);
    comb_free(NULL);
    int on_stack;
    comb_heap_free(h, &on_stack); /* not a heap block: ignored */
    comb_free(&on_stack);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
    CHECK_EQ_U64(comb_heap_usable_size(h, &on_stack), 0);
    /* first and last block of every pool map to that pool */
    for (unsigned i = 0; i < 5; i++) {
        uint8_t *first = comb_heap_alloc(h, blocks[i]);
        CHECK_EQ_U64(pool_index(h, first), i);
        uint8_t *last = first + (caps[i] - 1u) * COMB_HEAP_STRIDE(blocks[i]);
        CHECK_EQ_U64(comb_heap_usable_size(h, last), blocks[i]);
        comb_heap_free(h, first);
        CHECK_EQ_U64(stats(h, i).in_use, 0);
    }
}

static void test_several_heaps(void)
{
    reset_all();
    comb_heap_t *d = COMB_HEAP(dma_buffers);
    void *p = comb_heap_alloc(d, 64);
    CHECK(p != NULL);
    CHECK((uint8_t *)p >= d->base && (uint8_t *)p < d->base + d->bytes);
    CHECK(comb_heap_alloc(d, 65) == NULL);
    void *m = comb_alloc(64);
    CHECK_EQ_U64(pool_index(&comb_heap_main, m), 4);
    /* comb_free and comb_realloc find the heap of a block */
    comb_free(p);
    CHECK_EQ_U64(comb_heap_in_use(d), 0);
    p = comb_heap_alloc(d, 10);
    memset(p, 0x5A, 10);
    CHECK(comb_realloc(p, 60) == p);
    void *q = comb_realloc(p, 100); /* 100 > 64: no pool of dma_buffers fits */
    CHECK(q == NULL);
    CHECK_EQ_U64(comb_heap_in_use(d), 1);
    CHECK_EQ_U64(comb_heap_usable_size(&comb_heap_main, p), 64);
    comb_heap_free(&comb_heap_main, p);
    CHECK_EQ_U64(comb_heap_in_use(d), 0);
    comb_free(m);
    CHECK_EQ_U64(comb_heap_in_use(&comb_heap_main), 0);
}

/* ---- realloc, calloc --------------------------------------------------------------- */

static void test_realloc(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    uint8_t *p = comb_heap_realloc(h, NULL, 10); /* = alloc */
    CHECK_EQ_U64(pool_index(h, p), 1);
    for (int i = 0; i < 10; i++)
        p[i] = (uint8_t)(i + 1);
    CHECK(comb_heap_realloc(h, p, 12) == p); /* grows within its block */
    CHECK(comb_heap_realloc(h, p, 1) == p);  /* shrinking keeps the block */
    CHECK(comb_heap_realloc(h, p, 12) == p);
    uint8_t *q = comb_heap_realloc(h, p, 20); /* moves to the 28-byte pool */
    CHECK(q != p && q != NULL);
    CHECK_EQ_U64(pool_index(h, q), 2);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_U64(q[i], i + 1);
    CHECK_EQ_U64(stats(h, 1).in_use, 0); /* the old block was freed */
    CHECK_EQ_U64(stats(h, 2).in_use, 1);
    CHECK(comb_heap_alloc(h, 12) == p);   /* ... and is reused */
    comb_heap_free(h, p);
    /* failure: NULL, the block stays valid */
    uint8_t *r = comb_heap_realloc(h, q, 1000);
    CHECK(r == NULL);
    CHECK_EQ_U64(q[9], 10);
    CHECK_EQ_U64(stats(h, 2).in_use, 1);
    /* size 0 frees */
    CHECK(comb_heap_realloc(h, q, 0) == NULL);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
    CHECK(comb_heap_realloc(h, NULL, 0) == NULL);
    /* a growing vector: 4, 8, ... 128 bytes */
    uint8_t *v = NULL;
    for (size_t n = 4; n <= 128; n += 4) {
        v = comb_realloc(v, n);
        CHECK(v != NULL);
        v[n - 1] = (uint8_t)n;
        for (size_t k = 8; k < n; k += 4)
            CHECK_EQ_U64(v[k - 1], k);
        CHECK_EQ_U64(comb_heap_in_use(h), 1);
    }
    comb_free(v);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
}

static void test_calloc(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    uint8_t *p = comb_heap_alloc(h, 28);
    memset(p, 0xFF, 28);
    comb_heap_free(h, p);
    uint8_t *z = comb_heap_calloc(h, 7, 4); /* reuses the dirty block */
    CHECK(z == p);
    for (int i = 0; i < 28; i++)
        CHECK_EQ_U64(z[i], 0);
    comb_heap_free(h, z);
    uint32_t f = comb_heap_failures(h);
    CHECK(comb_heap_calloc(h, 0, 4) == NULL);
    CHECK(comb_heap_calloc(h, 4, 0) == NULL);
    CHECK_EQ_U64(comb_heap_failures(h), f);
    CHECK(comb_heap_calloc(h, SIZE_MAX / 2u, 3) == NULL); /* overflow */
    CHECK(comb_calloc((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)) == NULL);
    CHECK_EQ_U64(comb_heap_failures(h), f + 2);
    CHECK(comb_heap_calloc(h, 2, 65) == NULL); /* 130 > 128 */
    CHECK_EQ_U64(comb_heap_failures(h), f + 3);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
}

/* ---- statistics --------------------------------------------------------------------- */

static void test_statistics(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    void *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = comb_heap_alloc(h, 30);
    for (int i = 0; i < 6; i++)
        comb_heap_free(h, p[i]);
    comb_pool_stats_t s = stats(h, 3);
    CHECK_EQ_U64(s.in_use, 4);
    CHECK_EQ_U64(s.peak, 10);
    CHECK_EQ_U64(s.touched, 10);
    comb_heap_reset_peaks(h);
    CHECK_EQ_U64(stats(h, 3).peak, 4);
    p[0] = comb_heap_alloc(h, 30);
    CHECK_EQ_U64(stats(h, 3).peak, 5);
    CHECK_EQ_U64(stats(h, 3).touched, 10); /* came from the free list */
    CHECK_EQ_U64(comb_heap_in_use(h), 5);
    /* failures are counted on the smallest pool that fits */
    for (unsigned k = 0; k < caps[4]; k++)
        CHECK(comb_heap_alloc(h, 100) != NULL);
    CHECK(comb_heap_alloc(h, 100) == NULL);
    CHECK(comb_heap_alloc(h, 100) == NULL);
    CHECK_EQ_U64(stats(h, 4).failures, 2);
    CHECK_EQ_U64(stats(h, 4).peak, 7);
    comb_heap_reset(h);
    s = stats(h, 4);
    CHECK(s.in_use == 0 && s.peak == 0 && s.failures == 0 && s.touched == 0);
    CHECK_EQ_U64(comb_heap_failures(h), 0);
}

/* ---- run-time layouts and their errors ------------------------------------------------- */

static void test_runtime_layout_errors(void)
{
    static uint64_t mem[64];
    comb_pool_t pools[4];
    comb_heap_t h;
    int err = 99;
    const comb_pool_layout_t good[3] = {{4, 10}, {8, 4}, {100, 1}};
    CHECK_EQ_U64(comb_heap_footprint(good, 3, &err), 40 + 32 + 104);
    CHECK_EQ_U64(err, COMB_HEAP_OK);
    CHECK_EQ_U64(comb_heap_init(&h, pools, good, 3, mem, sizeof mem, "rt"), COMB_HEAP_OK);
    CHECK_EQ_U64(comb_heap_check(&h), COMB_HEAP_OK);
    void *a = comb_heap_alloc(&h, 100);
    CHECK(a == (uint8_t *)mem + 72);
    CHECK(comb_heap_alloc(&h, 100) == NULL);
    comb_heap_free(&h, a);

    const comb_pool_layout_t unordered[2] = {{8, 4}, {4, 10}};
    const comb_pool_layout_t dup[2] = {{8, 4}, {8, 10}};
    const comb_pool_layout_t zero_block[1] = {{0, 4}};
    const comb_pool_layout_t zero_cap[2] = {{4, 4}, {8, 0}};
    const comb_pool_layout_t too_many[1] = {{4, 65536}};
    const comb_pool_layout_t too_big[2] = {{0x80000000u, 1}, {0x80000008u, 1}};
    CHECK_EQ_U64(comb_heap_init(&h, pools, good, 0, mem, sizeof mem, "x"), COMB_HEAP_ENOPOOLS);
    CHECK_EQ_U64(comb_heap_init(&h, pools, unordered, 2, mem, sizeof mem, "x"), COMB_HEAP_EBLOCK);
    CHECK_EQ_U64(comb_heap_init(&h, pools, dup, 2, mem, sizeof mem, "x"), COMB_HEAP_EBLOCK);
    CHECK_EQ_U64(comb_heap_init(&h, pools, zero_block, 1, mem, sizeof mem, "x"), COMB_HEAP_EBLOCK);
    CHECK_EQ_U64(comb_heap_init(&h, pools, zero_cap, 2, mem, sizeof mem, "x"), COMB_HEAP_ECAPACITY);
    CHECK_EQ_U64(comb_heap_init(&h, pools, too_many, 1, mem, sizeof mem, "x"), COMB_HEAP_ERANGE);
    CHECK_EQ_U64(comb_heap_init(&h, pools, too_big, 2, mem, sizeof mem, "x"), COMB_HEAP_ERANGE);
    CHECK_EQ_U64(comb_heap_init(&h, pools, good, 3, (uint8_t *)mem + 4, sizeof mem - 4, "x"), COMB_HEAP_EALIGN);
    CHECK_EQ_U64(comb_heap_init(&h, pools, good, 3, mem, 175, "x"), COMB_HEAP_ESPACE);
    CHECK_EQ_U64(comb_heap_footprint(unordered, 2, &err), 0);
    CHECK_EQ_U64(err, COMB_HEAP_EBLOCK);
    CHECK_EQ_U64(comb_heap_footprint(good, 3, NULL), 176);
    for (int e = 0; e >= -7; e--)
        CHECK(comb_heap_strerror(e) != NULL && comb_heap_strerror(e)[0] != '\0');
    CHECK(strcmp(comb_heap_strerror(COMB_HEAP_ESPACE), comb_heap_strerror(COMB_HEAP_EALIGN)) != 0);

    /* comb_heap_check catches descriptors edited into inconsistency */
    CHECK_EQ_U64(comb_heap_init(&h, pools, good, 3, mem, sizeof mem, "rt"), COMB_HEAP_OK);
    pools[1].span = 40;
    CHECK_EQ_U64(comb_heap_check(&h), COMB_HEAP_ERANGE);
    pools[1].span = 32;
    pools[2].block = 8;
    CHECK_EQ_U64(comb_heap_check(&h), COMB_HEAP_EBLOCK);
    pools[2].block = 100;
    h.base = (uint8_t *)mem + 4;
    CHECK_EQ_U64(comb_heap_check(&h), COMB_HEAP_EALIGN);
}

/* ---- the heap trace ------------------------------------------------------------------ */

struct event {
    unsigned type, n;
    uint32_t f[7];
};

/* Decode the port-31 events of the captured stream (no sync packets). */
static unsigned decode_events(struct event *ev, unsigned max)
{
    size_t len;
    const uint8_t *b = comb_host_sent(&len);
    unsigned n = 0, need = 0;
    for (size_t i = 0; i < len;) {
        unsigned port = b[i] >> 3, size = COMB_ITM_SS_BYTES(b[i]);
        CHECK(size != 0 && i + 1 + size <= len);
        if (size == 0 || i + 1 + size > len)
            break;
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= (uint32_t)b[i + 1 + k] << (8 * k);
        i += 1 + size;
        if (port != COMB_PORT_HEAP)
            continue;
        if (size == 1) {
            CHECK(need == 0 && n < max);
            if (n >= max)
                break;
            ev[n].type = COMB_EVT_HEADER_TYPE(v);
            ev[n].n = 0;
            need = COMB_EVT_HEADER_NFIELDS(v);
            n++;
        } else {
            CHECK(need > 0);
            ev[n - 1].f[ev[n - 1].n++] = v;
            need--;
        }
    }
    CHECK(need == 0);
    return n;
}

static uint32_t lo32(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

static void test_trace_events(void)
{
    reset_all();
    comb_transport_init(1u << COMB_PORT_HEAP, 0u);
    comb_host_set_timestamp(1000, 1);
    comb_heap_t *h = &comb_heap_main;
    void *a = comb_heap_alloc(h, 10);             /* alloc a 10 */
    void *b = comb_heap_realloc(h, a, 12);        /* resize a 12 */
    void *c = comb_heap_realloc(h, b, 70000 / 1000); /* realloc a -> c 70 */
    comb_heap_free(h, c);                         /* free c */
    CHECK(comb_heap_alloc(h, 0) == NULL);         /* nothing */
    CHECK(comb_heap_alloc(h, 129) == NULL);       /* fail 129 */
    void *z = comb_heap_calloc(h, 3, 5);          /* alloc z 15 */
    CHECK(comb_heap_calloc(h, SIZE_MAX, 2) == NULL); /* fail 0xFFFFFFFF */
    CHECK(comb_heap_realloc(h, z, 1000) == NULL); /* fail 1000 */
    CHECK(comb_heap_realloc(h, z, 0) == NULL);    /* free z */
    struct event ev[16];
    unsigned n = decode_events(ev, 16);
    CHECK_EQ_U64(n, 9);
    CHECK(ev[0].type == COMB_EVT_HEAP_ALLOC && ev[0].n == 3 && ev[0].f[0] == lo32(a) && ev[0].f[1] == 10);
    CHECK(ev[1].type == COMB_EVT_HEAP_RESIZE && ev[1].n == 3 && ev[1].f[0] == lo32(a) && ev[1].f[1] == 12);
    CHECK(ev[2].type == COMB_EVT_HEAP_REALLOC && ev[2].n == 4 && ev[2].f[0] == lo32(a) && ev[2].f[1] == lo32(c) &&
          ev[2].f[2] == 70);
    CHECK(ev[3].type == COMB_EVT_HEAP_FREE && ev[3].n == 2 && ev[3].f[0] == lo32(c));
    CHECK(ev[4].type == COMB_EVT_HEAP_FAIL && ev[4].n == 2 && ev[4].f[0] == 129);
    CHECK(ev[5].type == COMB_EVT_HEAP_ALLOC && ev[5].f[0] == lo32(z) && ev[5].f[1] == 15);
    CHECK(ev[6].type == COMB_EVT_HEAP_FAIL && ev[6].f[0] == 0xFFFFFFFFu);
    CHECK(ev[7].type == COMB_EVT_HEAP_FAIL && ev[7].f[0] == 1000);
    CHECK(ev[8].type == COMB_EVT_HEAP_FREE && ev[8].f[0] == lo32(z));
    /* timestamps are read once per event, in order */
    uint32_t last = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t ts = ev[i].f[ev[i].n - 1];
        CHECK(ts >= 1000 && ts > last);
        last = ts;
    }
    /* port 31 off: nothing at all */
    comb_host_sent_clear();
    comb_transport_init(~(1u << COMB_PORT_HEAP), 0u);
    comb_heap_free(h, comb_heap_alloc(h, 4));
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
}

/* ---- ABA: an "interrupt" between reading the head and committing the pop ----------- */

struct aba_ctx {
    int fired;
    void *x, *y;
};

static void aba_hook(unsigned where, unsigned depth, void *vctx)
{
    struct aba_ctx *c = vctx;
    if (where != COMB_PP_HEAP_POP || depth != 0 || c->fired)
        return;
    c->fired = 1;
    /* the preempted pop read head A, next B. Pop A, pop B, push A back:
     * the head is A again but B is in use. */
    c->x = comb_heap_alloc(&comb_heap_main, 12);
    c->y = comb_heap_alloc(&comb_heap_main, 12);
    comb_heap_free(&comb_heap_main, c->x);
}

static void test_aba_interrupt(void)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    void *blk[3];
    for (int i = 0; i < 3; i++)
        blk[i] = comb_heap_alloc(h, 12);
    for (int i = 2; i >= 0; i--)
        comb_heap_free(h, blk[i]); /* list: 0 -> 1 -> 2 */
    struct aba_ctx c = {0, NULL, NULL};
    comb_host_set_preempt_hook(aba_hook, &c);
    void *got = comb_heap_alloc(h, 12);
    comb_host_set_preempt_hook(NULL, NULL);
    CHECK(c.fired);
    CHECK(c.x == blk[0] && c.y == blk[1]);
    CHECK(got == blk[0]);       /* retried on the new head, not B */
    CHECK(got != c.y);
    CHECK(comb_heap_alloc(h, 12) == blk[2]);
    CHECK(comb_heap_alloc(h, 12) != blk[1]); /* B is not on the list twice */
    CHECK_EQ_U64(stats(h, 1).in_use, 4);
}

/* ---- a simulated interrupt at every preemption point ------------------------------- */

#define OWNER_MAGIC 0xC0FFEE00u

struct storm {
    unsigned fire_at, calls, depth_fire;
    void *held[8];
    unsigned nheld;
};

static void storm_hook(unsigned where, unsigned depth, void *vctx)
{
    struct storm *s = vctx;
    if (where < COMB_PP_HEAP_POP)
        return;
    unsigned k = s->calls++;
    if (k != s->fire_at && !(depth == 1 && k == s->fire_at + s->depth_fire))
        return;
    /* the "interrupt": take two blocks of the contested pool, tag them, give
     * one back, keep one */
    uint32_t *a = comb_heap_alloc(&comb_heap_main, 12);
    uint32_t *b = comb_heap_alloc(&comb_heap_main, 8);
    CHECK(a != NULL && b != NULL && a != b);
    if (a == NULL || b == NULL)
        return;
    *a = OWNER_MAGIC | 0x10u | depth;
    *b = OWNER_MAGIC | 0x20u | depth;
    comb_heap_free(&comb_heap_main, a);
    s->held[s->nheld++] = b;
}

static void storm_round(unsigned fire_at, unsigned depth_fire, unsigned *points)
{
    reset_all();
    comb_heap_t *h = &comb_heap_main;
    uint32_t *pre[4];
    for (int i = 0; i < 4; i++)
        pre[i] = comb_heap_alloc(h, 12);
    comb_heap_free(h, pre[1]);
    comb_heap_free(h, pre[3]);
    struct storm s = {fire_at, 0, depth_fire, {0}, 0};
    comb_host_set_preempt_hook(storm_hook, &s);
    /* the "thread": alloc, realloc in place, realloc moving, free */
    uint32_t *t1 = comb_heap_alloc(h, 12);
    uint32_t *t2 = comb_heap_alloc(h, 9);
    CHECK(t1 != NULL && t2 != NULL && t1 != t2);
    *t1 = 0x7111;
    *t2 = 0x7222;
    t2 = comb_heap_realloc(h, t2, 12);
    uint32_t *t3 = comb_heap_realloc(h, t1, 20);
    CHECK(t3 != NULL && *t3 == 0x7111 && *t2 == 0x7222);
    comb_heap_free(h, t2);
    comb_host_set_preempt_hook(NULL, NULL);
    if (points)
        *points = s.calls;
    /* every block held exactly once: the thread's, the interrupt's, pre[0,2] */
    void *live[12];
    unsigned nl = 0;
    live[nl++] = t3;
    live[nl++] = pre[0];
    live[nl++] = pre[2];
    for (unsigned i = 0; i < s.nheld; i++)
        live[nl++] = s.held[i];
    for (unsigned i = 0; i < nl; i++)
        for (unsigned j = i + 1; j < nl; j++)
            CHECK(live[i] != live[j]);
    for (unsigned i = 0; i < s.nheld; i++)
        CHECK_EQ_U64(*(uint32_t *)s.held[i] & 0xFFFFFF00u, OWNER_MAGIC);
    CHECK_EQ_U64(comb_heap_in_use(h), nl);
    /* drain everything: each pool hands out exactly its free blocks, none twice */
    for (unsigned i = 0; i < nl; i++)
        comb_heap_free(h, live[i]);
    CHECK_EQ_U64(comb_heap_in_use(h), 0);
    unsigned got = 0, want = caps[1] + caps[2] + caps[3] + caps[4];
    while (got <= want && comb_heap_alloc(h, 12) != NULL) /* bounded: a broken list may cycle */
        got++;
    CHECK_EQ_U64(got, want);
}

static void test_interrupt_at_every_point(void)
{
    unsigned points = 0;
    storm_round(~0u, 0, &points); /* dry run: count the points */
    CHECK(points >= 10);
    for (unsigned k = 0; k < points; k++) {
        storm_round(k, 0, NULL);
        for (unsigned d = 1; d < 8; d++) /* and a nested one inside it */
            storm_round(k, d, NULL);
    }
}

int main(void)
{
    test_static_layout();
    test_every_block_aligned_and_distinct();
    test_smallest_fitting_pool();
    test_borrowing_and_exhaustion();
    test_free_edge_cases();
    test_several_heaps();
    test_realloc();
    test_calloc();
    test_statistics();
    test_runtime_layout_errors();
    test_trace_events();
    test_aba_interrupt();
    test_interrupt_at_every_point();
    return check_finish("test_heap");
}
