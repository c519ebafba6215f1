/*
 * The dashboard's heap side: the streaming usage (heap_usage.h) gives the same
 * pools, peaks and failures as the whole-trace replay (heap_replay.h), the
 * same per-size table as Drone's statistics and the same concurrent peak as
 * the report, on random traces with tight layouts and both realloc policies;
 * comb_dash_heap_run over a database agrees with loading the session the way
 * `comb heap` does; the usage CSV's slices hold the true peak; the size
 * histogram counts every request.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/dashboard_data.h"
#include "comb/drone_layout.h"
#include "comb/heap_replay.h"
#include "comb/heap_report.h"
#include "comb/heap_session.h"
#include "comb/heap_usage.h"
#include "dashboard_db.h"
#include "test_tmp.h"

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static uint32_t rand_size(void)
{
    static const uint32_t sizes[] = {0, 1, 4, 8, 9, 12, 16, 24, 31, 32, 40, 64, 65, 100, 128, 200, 256, 700};
    return sizes[rnd() % (sizeof sizes / sizeof sizes[0])];
}

/* A random trace of n operations over at most `live_max` live blocks. */
static void random_trace(comb_heap_trace *t, size_t n, unsigned live_max)
{
    uint32_t *live = calloc(live_max, sizeof *live);
    unsigned nlive = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned r = rnd() % 100;
        uint32_t b;
        if (nlive < live_max && (r < 45 || nlive == 0)) {
            CHECK(comb_heap_trace_alloc(t, rand_size(), i, 0, &b) == 0);
            live[nlive++] = b;
        } else if (r < 75) {
            unsigned k = rnd() % nlive;
            CHECK(comb_heap_trace_free_block(t, live[k], i, 0) == 0);
            live[k] = live[--nlive];
        } else if (r < 85) {
            unsigned k = rnd() % nlive;
            CHECK(comb_heap_trace_realloc(t, live[k], rand_size(), i, 0, &b) == 0);
            live[k] = b;
        } else if (r < 95) {
            CHECK(comb_heap_trace_resize(t, live[rnd() % nlive], rand_size(), i, 0) == 0);
        } else {
            CHECK(comb_heap_trace_fail(t, rand_size(), i, 0) == 0);
        }
    }
    free(live);
}

static void compare(const comb_heap_trace *t, const comb_pool *pools, unsigned np, bool in_place)
{
    comb_replay_policy pol = {.realloc_in_place = in_place};
    comb_replay_pool rp[16];
    comb_replay_result rr;
    CHECK(comb_heap_replay(t, pools, np, &pol, false, rp, &rr) == 0);
    comb_heap_usage u;
    CHECK(comb_heap_usage_init(&u, pools, np, &pol) == 0);
    for (size_t k = 0; k < t->n; k++)
        CHECK(comb_heap_usage_step(&u, &t->ops[k], t->block_size) == 0);
    CHECK_EQ_U64(u.npools, np);
    for (unsigned i = 0; i < np; i++) {
        CHECK_EQ_U64(u.pools[i].block, rp[i].block);
        CHECK_EQ_U64(u.pools[i].peak, rp[i].peak);
        CHECK_EQ_U64(u.pools[i].served, rp[i].served);
        CHECK_EQ_U64(u.pools[i].borrowed, rp[i].borrowed);
    }
    CHECK_EQ_U64(u.requests, rr.requests);
    CHECK_EQ_U64(u.failures, rr.failures);
    CHECK_EQ_U64(u.too_large, rr.too_large);
    CHECK_EQ_U64(u.fails_now_ok, rr.fails_now_ok);
    CHECK(u.failed == rr.failed);
    if (rr.failed) {
        CHECK_EQ_U64(u.first_fail_op, rr.first_fail_op);
        CHECK_EQ_U64(u.first_fail_size, rr.first_fail_size);
    }
    /* the per-size table is Drone's */
    comb_drone_stats ds;
    CHECK(comb_drone_stats_of(t, &ds) == 0);
    CHECK_EQ_U64(u.sizes.n, ds.n);
    CHECK_EQ_U64(u.sizes.load, ds.load);
    for (size_t i = 0; i < ds.n && i < u.sizes.n; i++) {
        CHECK_EQ_U64(u.sizes.v[i].size, ds.v[i].size);
        CHECK_EQ_U64(u.sizes.v[i].max, ds.v[i].max);
        CHECK_EQ_U64(u.sizes.v[i].total, ds.v[i].total);
    }
    comb_drone_stats_free(&ds);
    /* the concurrent peak is the report's */
    comb_heap_report rep;
    CHECK(comb_heap_report_build(t, &rep) == 0);
    CHECK_EQ_U64(u.peak_requested, rep.peak_bytes);
    CHECK_EQ_U64(u.peak_requested_op, rep.peak_bytes_op);
    CHECK_EQ_U64(u.live_blocks, rep.live_blocks);
    CHECK_EQ_U64(u.requested, rep.live_bytes);
    comb_heap_report_free(&rep);
    comb_heap_usage_free(&u);
}

static void test_usage_is_the_replay(void)
{
    const comb_pool tight[] = {{16, 6}, {8, 5}, {64, 4}, {32, 3}, {256, 2}};
    const comb_pool roomy[] = {{8, 100}, {32, 100}, {128, 100}, {1024, 100}};
    comb_pool classes[33];
    unsigned nclasses = comb_usage_size_classes(700, classes);
    CHECK_EQ_U64(nclasses, 8); /* 8 ... 1024 */
    CHECK_EQ_U64(classes[nclasses - 1].block, 1024);
    for (int round = 0; round < 12; round++) {
        comb_heap_trace t;
        comb_heap_trace_init(&t);
        random_trace(&t, 4000, round % 2 ? 12 : 60);
        compare(&t, tight, 5, round % 3 != 0);
        compare(&t, roomy, 4, round % 3 == 0);
        compare(&t, classes, nclasses, true);
        comb_heap_trace_free(&t);
    }
    /* the tight layout really fails and borrows on these traces */
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    random_trace(&t, 4000, 60);
    comb_heap_usage u;
    comb_replay_policy pol = {.realloc_in_place = true};
    CHECK(comb_heap_usage_init(&u, tight, 5, &pol) == 0);
    for (size_t k = 0; k < t.n; k++)
        CHECK(comb_heap_usage_step(&u, &t.ops[k], t.block_size) == 0);
    CHECK(u.failures > 0 && u.too_large > 0);
    uint64_t borrowed = 0;
    for (unsigned i = 0; i < u.npools; i++)
        borrowed += u.pools[i].borrowed;
    CHECK(borrowed > 0);
    comb_heap_usage_free(&u);
    comb_heap_trace_free(&t);
}

/* ---- over a database --------------------------------------------------------------- */

#define EVENTS 6000

/* Random captured heap events (addresses, timestamps); returns the final requested bytes. */
static void fill_heap(test_db *db)
{
    uint32_t live[64], size[64];
    unsigned nlive = 0;
    int64_t ts = 1000;
    for (int i = 0; i < EVENTS; i++) {
        ts += 1 + rnd() % 500;
        unsigned r = rnd() % 100;
        if (nlive < 64 && (r < 50 || nlive == 0)) {
            uint32_t s = 1 + rnd() % 300, p = 0x20000000u + (uint32_t)i * 16;
            test_db_heap(db, "alloc", ts, p, -1, s, 0x800 + (rnd() % 4) * 0x10);
            live[nlive] = p;
            size[nlive++] = s;
        } else if (r < 85) {
            unsigned k = rnd() % nlive;
            test_db_heap(db, "free", ts, live[k], -1, -1, -1);
            live[k] = live[--nlive];
            size[k] = size[nlive];
        } else if (r < 93) {
            unsigned k = rnd() % nlive;
            uint32_t s = 1 + rnd() % 300, p = 0x30000000u + (uint32_t)i * 16;
            test_db_heap(db, "realloc", ts, p, live[k], s, -1);
            live[k] = p;
            size[k] = s;
        } else {
            test_db_heap(db, "fail", ts, -1, -1, 1000 + rnd() % 100, -1);
        }
    }
}

/* Parses a CSV line of numbers (no quoting) into v; returns the count. */
static int numbers(const char *line, double *v, int max)
{
    int n = 0;
    const char *p = line;
    while (n < max) {
        char *end;
        v[n++] = strtod(p, &end);
        p = strchr(end, ',');
        if (!p)
            break;
        p++;
    }
    return n;
}

static void test_heap_run_over_db(void)
{
    char path[600], err[700];
    test_tmp_path(path, sizeof path, "heap.db");
    test_db db;
    test_db_open(&db, path, 1000000, 500);
    fill_heap(&db);
    test_db_close(&db);

    /* the reference: the session loaded whole, as `comb heap verify` does */
    comb_heap_session s;
    CHECK(comb_heap_session_load(path, 0, &s, err, sizeof err) == 0);
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    CHECK(comb_heap_trace_from_raw(s.raw, s.n, &t) == 0);
    comb_pool pools[] = {{16, 10}, {64, 12}, {128, 10}, {256, 8}, {512, 2}};
    comb_heap_layout lay = {.name = "main", .npools = 5, .pools = pools};
    comb_replay_policy pol = {.realloc_in_place = true};
    comb_replay_pool rp[5];
    comb_replay_result rr;
    CHECK(comb_heap_replay(&t, pools, 5, &pol, false, rp, &rr) == 0);
    comb_heap_report rep;
    CHECK(comb_heap_report_build(&t, &rep) == 0);

    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    const comb_dash_info *info = comb_dash_info_of(d);
    CHECK_EQ_U64(info->heap_events, EVENTS);
    CHECK_EQ_U64(info->ts_hz, 1000000);
    CHECK_EQ_U64(info->t0, 500);
    char csv[600];
    test_tmp_path(csv, sizeof csv, "usage.csv");
    FILE *f = fopen(csv, "w+");
    comb_dash_heap h;
    CHECK(comb_dash_heap_run(d, &lay, 50, f, &h, err, sizeof err) == 0);
    CHECK(h.has_layout && h.timed);
    CHECK_EQ_U64(h.layout_bytes, 16 * 10 + 64 * 12 + 128 * 10 + 256 * 8 + 512 * 2);
    for (unsigned i = 0; i < 5; i++) {
        CHECK_EQ_U64(h.usage.pools[i].peak, rp[i].peak);
        CHECK_EQ_U64(h.usage.pools[i].served, rp[i].served);
    }
    CHECK_EQ_U64(h.usage.failures, rr.failures);
    CHECK(rr.failures > 0); /* 1000-byte requests never fit */
    CHECK_EQ_U64(h.usage.peak_requested, rep.peak_bytes);
    CHECK_EQ_U64(h.usage.requested, rep.live_bytes);
    CHECK_EQ_U64(h.usage.allocs, rep.allocs);
    CHECK_EQ_U64(h.usage.fails, rep.fails);
    CHECK(h.nsites == 4 && h.sites[0].allocs >= h.sites[3].allocs);
    /* the peak's time: the report's op, on the x axis in seconds */
    CHECK(fabs(h.peak_requested_t - (double)(t.ts[rep.peak_bytes_op] - 500) / 1e6) < 1e-9);

    /* the CSV: header, 50 slices with increasing x, pools' peak = the true peak */
    rewind(f);
    char line[4096];
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK(!strcmp(line, "t_s,requested,16 B,64 B,128 B,256 B,512 B\n"));
    int rows = 0;
    double prev_x = -1, max_pool = 0, max_req = 0;
    while (fgets(line, sizeof line, f)) {
        double v[8];
        CHECK(numbers(line, v, 8) == 7);
        CHECK(v[0] > prev_x);
        prev_x = v[0];
        double pool = 0;
        for (int k = 2; k < 7; k++)
            pool += v[k];
        max_pool = fmax(max_pool, pool);
        max_req = fmax(max_req, v[1]);
        rows++;
    }
    CHECK_EQ_U64(rows, 50);
    CHECK_EQ_U64((uint64_t)max_pool, h.usage.peak_pool_bytes);
    CHECK(max_req <= (double)h.usage.peak_requested);
    fclose(f);
    comb_dash_heap_free(&h);

    /* size classes without a layout: every request placed, nothing fails but the too-large */
    CHECK(comb_dash_heap_run(d, NULL, 10, NULL, &h, err, sizeof err) == 0);
    CHECK(!h.has_layout);
    CHECK_EQ_U64(h.usage.pools[h.usage.npools - 1].block, 2048); /* the largest request: 1099 */
    CHECK_EQ_U64(h.usage.failures, 0);
    CHECK_EQ_U64(h.usage.peak_requested, rep.peak_bytes);
    char label[32];
    comb_dash_pool_label(&h, 0, label, sizeof label);
    CHECK(!strcmp(label, "\xe2\x89\xa4 8 B"));
    comb_dash_heap_free(&h);

    /* sizes: more than 48 distinct, so power-of-two bins that count every request */
    test_tmp_path(csv, sizeof csv, "sizes.csv");
    f = fopen(csv, "w+");
    uint64_t nrows;
    CHECK(comb_dash_alloc_sizes_csv(d, f, &nrows, err, sizeof err) == 0);
    rewind(f);
    CHECK(fgets(line, sizeof line, f) && !strcmp(line, "size_lo,size_hi,label,requests\n"));
    uint64_t total = 0, lines = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, n;
        CHECK(sscanf(line, "%llu,%llu,%*[^,],%llu", &lo, &hi, &n) == 3);
        CHECK(hi == 1 || (hi & (hi - 1)) == 0);
        CHECK((lo == 0 && hi == 1) || lo == hi || lo == hi / 2 + 1);
        total += n;
        lines++;
    }
    CHECK_EQ_U64(lines, nrows);
    CHECK_EQ_U64(total, rep.allocs + rep.reallocs + rep.fails);
    fclose(f);

    comb_dash_close(d);
    comb_heap_report_free(&rep);
    comb_heap_trace_free(&t);
    comb_heap_session_free(&s);
    test_remove_db(path);
    remove(csv);
    test_tmp_path(csv, sizeof csv, "usage.csv");
    remove(csv);
}

static void test_exact_sizes_and_untimed(void)
{
    char path[600], err[700];
    test_tmp_path(path, sizeof path, "few.db");
    test_db db;
    test_db_open(&db, path, 0, 0);
    /* an import-like session: no timestamps, so the x axis is the event number */
    test_db_heap(&db, "alloc", -1, 0x100, -1, 24, -1);
    test_db_heap(&db, "alloc", -1, 0x200, -1, 24, -1);
    test_db_heap(&db, "alloc", -1, 0x300, -1, 100, -1);
    test_db_heap(&db, "free", -1, 0x200, -1, -1, -1);
    test_db_heap(&db, "fail", -1, -1, -1, 5000, -1);
    test_db_close(&db);
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    char csv[600], line[512];
    test_tmp_path(csv, sizeof csv, "few.csv");
    FILE *f = fopen(csv, "w+");
    uint64_t nrows;
    CHECK(comb_dash_alloc_sizes_csv(d, f, &nrows, err, sizeof err) == 0);
    CHECK_EQ_U64(nrows, 3);
    rewind(f);
    const char *want[] = {"size_lo,size_hi,label,requests\n", "24,24,24,2\n", "100,100,100,1\n", "5000,5000,5000,1\n"};
    for (int i = 0; i < 4; i++)
        CHECK(fgets(line, sizeof line, f) && !strcmp(line, want[i]));
    fclose(f);
    f = fopen(csv, "w+");
    comb_dash_heap h;
    CHECK(comb_dash_heap_run(d, NULL, 5, f, &h, err, sizeof err) == 0);
    CHECK(!h.timed);
    CHECK_EQ_U64(h.usage.peak_requested, 148);
    rewind(f);
    CHECK(fgets(line, sizeof line, f) && !strncmp(line, "event,requested,", 16));
    comb_dash_heap_free(&h);
    fclose(f);
    comb_dash_close(d);
    remove(csv);
    test_remove_db(path);
}

int main(void)
{
    test_tmp_init("dashheap");
    test_usage_is_the_replay();
    test_heap_run_over_db();
    test_exact_sizes_and_untimed();
    test_tmp_done();
    return check_finish("test_dashboard_heap");
}
