/*
 * Pool layouts: Drone's generator reproduced on its published test vectors
 * (drone-compat.md 4.3) and its statistics table (3); the optimal DP checked
 * against brute force on small random traces; margin; spare memory sharing.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/drone_layout.h"
#include "comb/pool_layout.h"

static void expect_layout(const comb_heap_layout *l, const uint32_t (*want)[2], unsigned n, const char *what)
{
    unsigned k = 0;
    bool ok = true;
    for (unsigned i = 0; i < l->npools; i++) {
        if (!l->pools[i].capacity)
            continue;
        if (k >= n || l->pools[i].block != want[k][0] || l->pools[i].capacity != want[k][1])
            ok = false;
        k++;
    }
    ok = ok && k == n;
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  %s: got", what);
        for (unsigned i = 0; i < l->npools; i++)
            fprintf(stderr, " %u:%u", (unsigned)l->pools[i].block, (unsigned)l->pools[i].capacity);
        fprintf(stderr, "\n");
    }
}

/* The drone-book trace: sizes:max 1:1, 12:3, 28:1, 32:1, 128:1; totals 1, 7, 2, 1, 2. */
static void book_trace(comb_heap_trace *t)
{
    comb_heap_trace_init(t);
    uint32_t b[4], one;
    comb_heap_trace_alloc(t, 1, 0, 0, &one);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++)
            comb_heap_trace_alloc(t, 12, 0, 0, &b[i]);
        for (int i = 0; i < 3; i++)
            comb_heap_trace_free_block(t, b[i], 0, 0);
    }
    comb_heap_trace_alloc(t, 12, 0, 0, &b[0]);
    comb_heap_trace_free_block(t, b[0], 0, 0);
    for (int i = 0; i < 2; i++) {
        comb_heap_trace_alloc(t, 28, 0, 0, &b[0]);
        comb_heap_trace_free_block(t, b[0], 0, 0);
        comb_heap_trace_alloc(t, 128, 0, 0, &b[0]);
        comb_heap_trace_free_block(t, b[0], 0, 0);
    }
    comb_heap_trace_alloc(t, 32, 0, 0, &b[0]);
    comb_heap_trace_free_block(t, b[0], 0, 0);
    comb_heap_trace_free_block(t, one, 0, 0);
}

static void test_drone_vectors(void)
{
    comb_heap_layout l;
    static const uint32_t e8[][2] = {{4, 118}, {8, 148}, {20, 82}, {56, 34}, {116, 16}, {208, 8}, {336, 3}, {512, 1}};
    static const uint32_t e5[][2] = {{4, 208}, {16, 169}, {80, 42}, {236, 12}, {512, 1}};
    static const uint32_t e2[][2] = {{4, 1280}, {512, 10}};
    static const uint32_t e1[][2] = {{4, 2560}};
    CHECK(comb_drone_layout_empty(10240, 8, &l) == 0);
    expect_layout(&l, e8, 8, "empty 8");
    CHECK_EQ_U64(comb_layout_bytes(&l), 10240);
    comb_layout_free(&l);
    CHECK(comb_drone_layout_empty(10240, 5, &l) == 0);
    expect_layout(&l, e5, 5, "empty 5");
    comb_layout_free(&l);
    CHECK(comb_drone_layout_empty(10240, 2, &l) == 0);
    expect_layout(&l, e2, 2, "empty 2");
    comb_layout_free(&l);
    CHECK(comb_drone_layout_empty(10240, 1, &l) == 0); /* NaN path */
    expect_layout(&l, e1, 1, "empty 1");
    comb_layout_free(&l);
    /* ratios(8) and ratios(5) as published */
    static const double r8[] = {4.61, 11.37, 15.88, 18.14, 18.14, 15.88, 11.37, 4.61};
    for (unsigned i = 0; i < 8; i++)
        CHECK((int)(comb_drone_ratio(8, i) * 10000 + 0.5) == (int)(r8[i] * 100 + 0.5));
    CHECK((int)(comb_drone_ratio(5, 1) * 100 + 0.5) == 26);

    comb_heap_trace t;
    book_trace(&t);
    comb_drone_stats st;
    CHECK(comb_drone_stats_of(&t, &st) == 0);
    CHECK_EQ_U64(st.n, 5);
    CHECK_EQ_U64(st.load, 225);
    comb_strbuf sb = {0};
    comb_drone_stats_render(&st, 10240, &sb);
    const char *table = " Block Size | Max Load | Total Allocations \n"
                        "------------+----------+-------------------\n"
                        "          1 |        1 |                 1 \n"
                        "         12 |        3 |                 7 \n"
                        "         28 |        1 |                 2 \n"
                        "         32 |        1 |                 1 \n"
                        "        128 |        1 |                 2 \n"
                        "\n"
                        "Maximum heap load: 225 / 2.20%\n";
    CHECK(strcmp(comb_sb_str(&sb), table) == 0);
    if (strcmp(comb_sb_str(&sb), table))
        fprintf(stderr, "%s", comb_sb_str(&sb));
    comb_sb_free(&sb);

    static const uint32_t b5[][2] = {{4, 201}, {12, 222}, {28, 115}, {32, 83}, {128, 7}};
    static const uint32_t b3[][2] = {{12, 144}, {28, 240}, {128, 14}};
    static const uint32_t b2[][2] = {{28, 182}, {128, 40}};
    static const uint32_t b1[][2] = {{128, 80}};
    const struct {
        unsigned pools;
        const uint32_t (*want)[2];
        unsigned n;
        uint32_t frag;
    } v[] = {{5, b5, 5, 0}, {3, b3, 3, 104}, {2, b2, 2, 168}, {1, b1, 1, 668}};
    for (unsigned i = 0; i < 4; i++) {
        uint32_t frag = 999;
        CHECK(comb_drone_layout_optimize(&st, 10240, v[i].pools, &l, &frag) == 0);
        char what[32];
        snprintf(what, sizeof what, "book %u pools", v[i].pools);
        expect_layout(&l, v[i].want, v[i].n, what);
        CHECK_EQ_U64(frag, v[i].frag);
        /* Σ = 10240 except for 2 pools: 24 bytes left that no 28 or 128 block fills */
        CHECK_EQ_U64(comb_layout_bytes(&l), v[i].pools == 2 ? 10216 : 10240);
        CHECK_EQ_U64(comb_layout_drone_frag(&st, &l), v[i].frag);
        comb_layout_free(&l);
    }
    /* Drone's rule alone (no spare): 3 pools {4,12}{28}{32,128}: 12x4 + 28x1 + 128x2 */
    uint32_t frag;
    CHECK(comb_drone_layout_shrink(&st, 3, UINT32_MAX, 0, &l, &frag) == 0);
    CHECK_EQ_U64(comb_layout_bytes(&l), 48 + 28 + 256);
    comb_layout_free(&l);
    /* the best grouping for Drone's rule: {4,12}{28,32}{128}: 12x4 + 32x2 + 128 */
    CHECK(comb_drone_rule_optimal(&st, 3, &l) == 0);
    CHECK_EQ_U64(comb_layout_bytes(&l), 48 + 64 + 128);
    comb_layout_free(&l);
    /* a search budget too small: Drone's search gives up */
    CHECK(comb_drone_layout_shrink(&st, 3, UINT32_MAX, 2, &l, &frag) == 1);
    CHECK(comb_drone_layout_shrink(&st, 3, UINT32_MAX, 1000, &l, &frag) == 0);
    CHECK_EQ_U64(comb_layout_bytes(&l), 48 + 28 + 256);
    comb_layout_free(&l);

    /* time-aware capacities: 28, 32 and 128 are never live together, so one
     * 128-byte block serves them all; 3 pools need 4 + 36 + 128 bytes */
    comb_layout_options o = {.max_pools = 3};
    comb_layout_info info;
    char err[200];
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    static const uint32_t opt3[][2] = {{4, 1}, {12, 3}, {128, 1}};
    expect_layout(&l, opt3, 3, "optimal 3");
    CHECK_EQ_U64(info.bytes, 4 + 36 + 128);
    CHECK_EQ_U64(info.model_bytes, 4 + 36 + 128);
    CHECK_EQ_U64(comb_layout_drone_frag(&st, &l), 100 + 96);
    comb_layout_free(&l);
    /* 2 pools: {1..12} in 12 (the 1 and three 12s overlap: 4 blocks), the rest in 128 */
    o.max_pools = 2;
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    static const uint32_t opt2[][2] = {{12, 4}, {128, 1}};
    expect_layout(&l, opt2, 2, "optimal 2");
    comb_layout_free(&l);
    comb_drone_stats_free(&st);
    comb_heap_trace_free(&t);
}

/* The minimal example of allocators.md 7.2: sum-of-peaks needs 56 B, time-aware 28 B. */
static void test_time_aware(void)
{
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    uint32_t b;
    comb_heap_trace_alloc(&t, 12, 0, 0, &b);
    comb_heap_trace_free_block(&t, b, 0, 0);
    comb_heap_trace_alloc(&t, 28, 0, 0, &b);
    comb_heap_trace_free_block(&t, b, 0, 0);
    comb_layout_options o = {.max_pools = 1};
    comb_layout_info info;
    comb_heap_layout l;
    char err[200];
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    static const uint32_t want[][2] = {{28, 1}};
    expect_layout(&l, want, 1, "12 then 28, one pool");
    comb_layout_free(&l);
    /* two pools allowed: one pool of 28 is still smaller than 12 + 28 */
    o.max_pools = 2;
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    expect_layout(&l, want, 1, "12 then 28, two pools allowed");
    comb_layout_free(&l);
    comb_drone_stats st;
    comb_drone_stats_of(&t, &st);
    CHECK(comb_drone_layout_shrink(&st, 1, UINT32_MAX, 0, &l, &(uint32_t){0}) == 0);
    CHECK_EQ_U64(comb_layout_bytes(&l), 56);
    comb_layout_free(&l);
    comb_drone_stats_free(&st);

    /* margin: ceil(peak x pct / 100) more blocks per pool */
    CHECK_EQ_U64(comb_layout_margin(10, 10), 11);
    CHECK_EQ_U64(comb_layout_margin(3, 10), 4);
    CHECK_EQ_U64(comb_layout_margin(100, 7), 107);
    CHECK_EQ_U64(comb_layout_margin(0, 50), 0);
    CHECK_EQ_U64(comb_layout_margin(5, 0), 5);
    o.max_pools = 1;
    o.margin_pct = 50;
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    static const uint32_t want_m[][2] = {{28, 2}};
    expect_layout(&l, want_m, 1, "margin 50%");
    comb_layout_free(&l);
    comb_heap_trace_free(&t);

    /* granule 8 (comb's allocator): a 12-byte request gets a 16-byte block, 3 bytes a 4-byte one */
    comb_heap_trace_free(&t);
    comb_heap_trace_init(&t);
    uint32_t b2;
    comb_heap_trace_alloc(&t, 12, 0, 0, &b);
    comb_heap_trace_alloc(&t, 3, 0, 0, &b2);
    comb_heap_trace_free_block(&t, b, 0, 0);
    comb_heap_trace_free_block(&t, b2, 0, 0);
    comb_heap_trace_alloc(&t, 16, 0, 0, &b);
    comb_heap_trace_free_block(&t, b, 0, 0);
    o = (comb_layout_options){.max_pools = 2, .granule = 8};
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    static const uint32_t want_g8[][2] = {{4, 1}, {16, 1}};
    expect_layout(&l, want_g8, 2, "granule 8");
    comb_layout_free(&l);
    o.granule = 4; /* 12 and 16 are different sizes now: {4}{12,16} or {4,12}{16} */
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    CHECK_EQ_U64(info.nsizes, 3);
    CHECK_EQ_U64(info.bytes, 4 + 16);
    comb_layout_free(&l);
    comb_heap_trace_free(&t);
    comb_heap_trace_init(&t);

    /* no requests: no pools */
    comb_heap_trace_init(&t);
    o.margin_pct = 0;
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
    CHECK_EQ_U64(l.npools, 0);
    comb_layout_free(&l);
    o.max_pools = 0;
    CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == -1);
    comb_heap_trace_free(&t);
}

static void test_share_spare(void)
{
    comb_pool p[] = {{32, 10}, {8, 100}};
    comb_heap_layout l = {.name = "main", .npools = 2, .pools = p};
    /* used 1120; size 2240: every pool doubles */
    comb_layout_share_spare(&l, 2240);
    CHECK_EQ_U64(l.pools[0].block, 8); /* sorted */
    CHECK_EQ_U64(l.pools[0].capacity, 200);
    CHECK_EQ_U64(l.pools[1].capacity, 20);
    CHECK_EQ_U64(l.size, 2240);
    /* 1000 more bytes: +44.6% -> floor: 8 x 89, 32 x 8 = 968, the 32 left from the largest: 32 x 1 */
    comb_layout_share_spare(&l, 3240);
    CHECK_EQ_U64(l.pools[0].capacity, 289);
    CHECK_EQ_U64(l.pools[1].capacity, 29);
    CHECK_EQ_U64(l.size, 3240);
    CHECK_EQ_U64(comb_layout_bytes(&l), 3240);
    /* a size that no block divides: the sum stays below it */
    comb_pool q[] = {{12, 1}};
    comb_heap_layout m = {.name = "main", .npools = 1, .pools = q};
    comb_layout_share_spare(&m, 100);
    CHECK_EQ_U64(m.pools[0].capacity, 8);
    CHECK_EQ_U64(m.size, 96);
}

/* ---- optimality against brute force ---------------------------------------------- */

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

static void random_trace(comb_heap_trace *t, unsigned nops, const uint32_t *sizes, unsigned nsizes, bool reallocs,
                         bool fails)
{
    comb_heap_trace_init(t);
    uint32_t live[64];
    unsigned nlive = 0;
    for (unsigned i = 0; i < nops; i++) {
        unsigned r = rnd(100);
        if (nlive && (r < 40 || nlive == 64)) {
            unsigned k = rnd(nlive);
            comb_heap_trace_free_block(t, live[k], 0, 0);
            live[k] = live[--nlive];
        } else if (reallocs && nlive && r < 55) {
            unsigned k = rnd(nlive);
            uint32_t nb;
            comb_heap_trace_realloc(t, live[k], sizes[rnd(nsizes)], 0, 0, &nb);
            live[k] = nb;
        } else if (fails && r < 60) {
            comb_heap_trace_fail(t, sizes[rnd(nsizes)], 0, 0);
        } else {
            comb_heap_trace_alloc(t, sizes[rnd(nsizes)], 0, 0, &live[nlive++]);
        }
    }
}

/* Smallest Σ block x capacity over every block set of at most n pools drawn
 * from the aligned sizes (the largest always included), capacities from the
 * unbounded replay. */
static uint64_t brute_force(const comb_heap_trace *t, unsigned n, const comb_replay_policy *pol)
{
    uint32_t s[16];
    unsigned m = 0;
    for (size_t k = 0; k < t->n; k++) {
        if (t->ops[k].kind == COMB_HEAP_FREE || !t->ops[k].size)
            continue;
        uint32_t a = (t->ops[k].size + 3) & ~3u;
        unsigned i = 0;
        while (i < m && s[i] != a)
            i++;
        if (i == m)
            s[m++] = a;
    }
    for (unsigned i = 1; i < m; i++) /* sort */
        for (unsigned j = i; j > 0 && s[j - 1] > s[j]; j--) {
            uint32_t x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    uint64_t best = UINT64_MAX;
    for (uint32_t mask = 0; mask < (1u << (m - 1)); mask++) {
        comb_pool p[16];
        unsigned np = 0;
        for (unsigned i = 0; i + 1 < m; i++)
            if (mask >> i & 1)
                p[np++] = (comb_pool){s[i], 0};
        p[np++] = (comb_pool){s[m - 1], 0};
        if (np > n)
            continue;
        comb_pool_layout_capacities(t, p, np, 0, pol);
        uint64_t bytes = 0;
        for (unsigned i = 0; i < np; i++)
            bytes += (uint64_t)p[i].block * p[i].capacity;
        if (bytes < best)
            best = bytes;
    }
    return best;
}

static void test_optimal_vs_brute_force(void)
{
    static const uint32_t sizes[] = {1, 4, 6, 8, 12, 13, 20, 24, 32, 33, 48, 64, 100, 128, 200, 256};
    unsigned runs = 0, mismatches = 0;
    for (unsigned trial = 0; trial < 300; trial++) {
        uint32_t pick[8];
        unsigned np = 2 + rnd(7);
        for (unsigned i = 0; i < np; i++)
            pick[i] = sizes[rnd(16)];
        bool reallocs = trial % 3 == 1, fails = trial % 5 == 2;
        comb_heap_trace t;
        random_trace(&t, 40 + rnd(300), pick, np, reallocs, fails);
        /* moves only: Drone's policy for reallocs; comb's in-place policy without them */
        comb_replay_policy pol = {.realloc_in_place = !reallocs};
        for (unsigned n = 1; n <= 4; n++) {
            comb_layout_options o = {.max_pools = n, .policy = pol};
            comb_heap_layout l;
            comb_layout_info info;
            char err[200];
            CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
            uint64_t bf = brute_force(&t, n, &pol);
            runs++;
            if (info.bytes != bf || info.model_bytes != bf) {
                mismatches++;
                if (mismatches < 5)
                    fprintf(stderr, "  trial %u n %u: dp %llu (model %llu), brute force %llu\n", trial, n,
                            (unsigned long long)info.bytes, (unsigned long long)info.model_bytes,
                            (unsigned long long)bf);
            }
            /* and the layout passes its own trace */
            comb_replay_pool st[8];
            comb_replay_result res;
            CHECK(l.npools <= 8);
            CHECK(comb_heap_replay(&t, l.pools, l.npools, &pol, false, st, &res) == 0);
            CHECK_EQ_U64(res.failures, 0);
            comb_layout_free(&l);
        }
        comb_heap_trace_free(&t);
    }
    CHECK_EQ_U64(mismatches, 0);
    CHECK(runs == 1200);
}

/* With comb's in-place reallocs the DP's model is not exact (a block that
 * shrinks in place keeps its larger block), but the layout still passes its
 * trace: capacities come from the allocator's own policy. */
static void test_in_place_reallocs_pass(void)
{
    static const uint32_t sizes[] = {8, 12, 24, 40, 64};
    for (unsigned trial = 0; trial < 50; trial++) {
        comb_heap_trace t;
        random_trace(&t, 500, sizes, 5, true, false);
        comb_replay_policy pol = {.realloc_in_place = true};
        comb_layout_options o = {.max_pools = 1 + trial % 4, .policy = pol};
        comb_heap_layout l;
        comb_layout_info info;
        char err[200];
        CHECK(comb_pool_layout_optimal(&t, &o, &l, &info, err, sizeof err) == 0);
        comb_replay_pool st[8];
        comb_replay_result res;
        CHECK(comb_heap_replay(&t, l.pools, l.npools, &pol, false, st, &res) == 0);
        CHECK_EQ_U64(res.failures, 0);
        comb_layout_free(&l);
        comb_heap_trace_free(&t);
    }
}

int main(void)
{
    test_drone_vectors();
    test_time_aware();
    test_share_spare();
    test_optimal_vs_brute_force();
    test_in_place_reallocs_pass();
    return check_finish("test_pool_layout");
}
