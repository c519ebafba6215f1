/*
 * Replay through the pool allocator's policy (heap_replay.h): smallest fitting
 * pool, fallback to larger ones, frees back to the serving pool, failures,
 * reallocs in place or moved, resizes, traced failures, zero-size requests,
 * peaks and headroom.
 */
#include <string.h>

#include "check.h"
#include "comb/heap_replay.h"

static uint32_t A(comb_heap_trace *t, uint32_t size)
{
    uint32_t b = 0;
    CHECK(comb_heap_trace_alloc(t, size, 0, 0, &b) == 0);
    return b;
}

static void F(comb_heap_trace *t, uint32_t b)
{
    CHECK(comb_heap_trace_free_block(t, b, 0, 0) == 0);
}

static comb_replay_result run(const comb_heap_trace *t, const comb_pool *p, unsigned n, bool in_place,
                              comb_replay_pool *st)
{
    comb_replay_policy pol = {.realloc_in_place = in_place};
    comb_replay_result res;
    CHECK(comb_heap_replay(t, p, n, &pol, false, st, &res) == 0);
    return res;
}

static void test_fallback(void)
{
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    /* pools 8:2, 32:1 (given out of order: the replay sorts them) */
    comb_pool p[] = {{32, 1}, {8, 2}};
    uint32_t a = A(&t, 4), b = A(&t, 8); /* both in 8 */
    uint32_t c = A(&t, 5);               /* 8 full: borrows the 32 */
    uint32_t d = A(&t, 1);               /* everything full: fails */
    F(&t, c);                            /* the 32 comes back */
    uint32_t e = A(&t, 20);              /* 32 again */
    F(&t, a);
    uint32_t f = A(&t, 33); /* larger than any block */
    F(&t, b);
    F(&t, e);
    (void)d;
    (void)f;
    comb_replay_pool st[2];
    comb_replay_result r = run(&t, p, 2, true, st);
    CHECK_EQ_U64(st[0].block, 8);
    CHECK_EQ_U64(st[0].peak, 2);
    CHECK_EQ_U64(st[0].served, 2);
    CHECK_EQ_U64(st[1].block, 32);
    CHECK_EQ_U64(st[1].peak, 1);
    CHECK_EQ_U64(st[1].served, 2);
    CHECK_EQ_U64(st[1].borrowed, 1);
    CHECK_EQ_U64(r.requests, 6);
    CHECK_EQ_U64(r.failures, 2);
    CHECK_EQ_U64(r.too_large, 1);
    CHECK(r.failed);
    CHECK_EQ_U64(r.first_fail_op, 3);
    CHECK_EQ_U64(r.first_fail_size, 1);
    CHECK_EQ_U64(st[0].peak_op, 1);

    /* stop at the first failure */
    comb_replay_policy pol = {.realloc_in_place = true};
    CHECK(comb_heap_replay(&t, p, 2, &pol, true, st, &r) == 0);
    CHECK_EQ_U64(r.failures, 1);
    CHECK_EQ_U64(r.requests, 4);

    /* enough room: nothing fails, nothing borrowed */
    comb_pool q[] = {{8, 4}, {32, 2}};
    r = run(&t, q, 2, true, st);
    CHECK_EQ_U64(r.failures, 1); /* only the 33 */
    CHECK_EQ_U64(st[1].borrowed, 0);
    comb_heap_trace_free(&t);
}

/* A block freed goes back to the pool that served it, even a larger one. */
static void test_free_to_serving_pool(void)
{
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    comb_pool p[] = {{8, 1}, {16, 1}};
    uint32_t a = A(&t, 8), b = A(&t, 8); /* b borrows the 16 */
    F(&t, a);                            /* 8 free again */
    uint32_t c = A(&t, 16);              /* the 16 is still taken by b: fails */
    F(&t, b);
    uint32_t d = A(&t, 16); /* now fine */
    (void)c;
    (void)d;
    comb_replay_pool st[2];
    comb_replay_result r = run(&t, p, 2, true, st);
    CHECK_EQ_U64(r.failures, 1);
    CHECK_EQ_U64(r.first_fail_op, 3);
    comb_heap_trace_free(&t);
}

static void test_realloc(void)
{
    comb_pool p[] = {{8, 1}, {32, 1}};
    comb_replay_pool st[2];
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    uint32_t a = A(&t, 20); /* in 32 */
    uint32_t b;
    comb_heap_trace_realloc(&t, a, 6, 0, 0, &b); /* shrink to 6 */
    uint32_t c = A(&t, 30);
    F(&t, b);
    F(&t, c);
    /* comb: the shrink stays in the 32 (fits), so the 30 finds no room */
    comb_replay_result r = run(&t, p, 2, true, st);
    CHECK_EQ_U64(r.failures, 1);
    CHECK_EQ_U64(st[0].peak, 0);
    /* Drone: grow/shrink always move: 8 taken, 32 released, the 30 fits */
    r = run(&t, p, 2, false, st);
    CHECK_EQ_U64(r.failures, 0);
    CHECK_EQ_U64(st[0].peak, 1);
    comb_heap_trace_free(&t);

    /* a move holds both blocks for an instant */
    comb_heap_trace_init(&t);
    a = A(&t, 8);
    comb_heap_trace_realloc(&t, a, 8, 0, 0, &b);
    F(&t, b);
    comb_pool one[] = {{8, 1}};
    r = run(&t, one, 1, false, st);
    CHECK_EQ_U64(r.failures, 1); /* one block cannot be moved into another */
    r = run(&t, one, 1, true, st);
    CHECK_EQ_U64(r.failures, 0); /* in place */
    comb_heap_trace_free(&t);

    /* a resize that no longer fits moves; one that fits stays */
    comb_heap_trace_init(&t);
    a = A(&t, 4);
    comb_heap_trace_resize(&t, a, 8, 0, 0);  /* fits the 8 */
    comb_heap_trace_resize(&t, a, 24, 0, 0); /* moves to the 32 */
    c = A(&t, 8);                            /* the 8 is free again */
    F(&t, a);
    F(&t, c);
    r = run(&t, p, 2, true, st);
    CHECK_EQ_U64(r.failures, 0);
    CHECK_EQ_U64(st[0].peak, 1);
    CHECK_EQ_U64(st[1].peak, 1);
    comb_heap_trace_free(&t);
}

static void test_fail_and_zero(void)
{
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    uint32_t a = A(&t, 8);
    comb_heap_trace_fail(&t, 16, 0, 0); /* failed on the device */
    uint32_t z = A(&t, 0);              /* zero-size: no block */
    F(&t, z);
    F(&t, a);
    comb_pool p[] = {{8, 1}, {16, 1}};
    comb_replay_pool st[2];
    comb_replay_result r = run(&t, p, 2, true, st);
    CHECK_EQ_U64(r.failures, 0);
    CHECK_EQ_U64(r.fails_now_ok, 1);
    CHECK_EQ_U64(st[1].peak, 1); /* the layout must have room for it at that moment */
    CHECK_EQ_U64(r.requests, 2);
    comb_pool q[] = {{8, 1}};
    r = run(&t, q, 1, true, st);
    CHECK_EQ_U64(r.failures, 1);
    CHECK_EQ_U64(r.too_large, 1);
    CHECK_EQ_U64(r.first_fail_op, 1);
    /* unbounded pools never fail */
    comb_pool u[] = {{16, COMB_REPLAY_UNBOUNDED}};
    r = run(&t, u, 1, true, st);
    CHECK_EQ_U64(r.failures, 0);
    CHECK_EQ_U64(st[0].peak, 2);
    comb_heap_trace_free(&t);
}

int main(void)
{
    test_fallback();
    test_free_to_serving_pool();
    test_realloc();
    test_fail_and_zero();
    return check_finish("test_heap_replay");
}
