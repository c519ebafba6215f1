/*
 * From capture to verdict: a comb ITM stream with heap events goes through
 * the capture pipeline into a database (typed heap_event rows, schema v2),
 * comes back as a session, gets an optimal layout, which is written into a
 * Drone.toml, read back and verified by replay: it passes; one block less in
 * the busiest pool fails at the expected request. Also: version-1 files get
 * their heap_event rows from trace_event on migration, and a heap-only capture
 * stores port 31 and the session events only.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"

#include "check.h"
#include "test_tmp.h"
#include "comb/capture.h"
#include "comb/drone_toml.h"
#include "comb/heap_report.h"
#include "comb/heap_session.h"
#include "comb/pool_layout.h"
#include "comb/session_store.h"
#include "schema_downgrade.h"

/* ---- a tiny comb ITM writer ------------------------------------------------------ */

typedef struct wr {
    uint8_t b[1 << 16];
    size_t n;
} wr;

static void swit(wr *w, unsigned port, unsigned size, uint32_t v)
{
    w->b[w->n++] = (uint8_t)(port << 3 | (size == 4 ? 3 : size));
    for (unsigned i = 0; i < size; i++)
        w->b[w->n++] = (uint8_t)(v >> (8 * i));
}

static void sync_pkt(wr *w)
{
    static const uint8_t s[] = {0, 0, 0, 0, 0, 0x80};
    memcpy(w->b + w->n, s, 6);
    w->n += 6;
}

static void event(wr *w, unsigned port, unsigned type, unsigned n, const uint32_t *v, const uint8_t *sizes)
{
    swit(w, port, 1, COMB_EVT_HEADER(type, n));
    for (unsigned i = 0; i < n; i++)
        swit(w, port, sizes[i], v[i]);
}

static uint32_t now_ts = 1000;

static void ev_alloc(wr *w, uint32_t ptr, uint32_t size, uint32_t caller)
{
    uint32_t v[] = {ptr, size, now_ts += 10, caller};
    uint8_t s[] = {4, 2, 4, 4};
    event(w, 31, COMB_EVT_HEAP_ALLOC, caller ? 4 : 3, v, s);
}

static void ev_free(wr *w, uint32_t ptr)
{
    uint32_t v[] = {ptr, now_ts += 10};
    uint8_t s[] = {4, 4};
    event(w, 31, COMB_EVT_HEAP_FREE, 2, v, s);
}

static void ev_realloc(wr *w, uint32_t old, uint32_t ptr, uint32_t size)
{
    uint32_t v[] = {old, ptr, size, now_ts += 10};
    uint8_t s[] = {4, 4, 2, 4};
    event(w, 31, COMB_EVT_HEAP_REALLOC, 4, v, s);
}

static void ev_fail(wr *w, uint32_t size)
{
    uint32_t v[] = {size, now_ts += 10};
    uint8_t s[] = {2, 4};
    event(w, 31, COMB_EVT_HEAP_FAIL, 2, v, s);
}

static void session_start(wr *w, unsigned port)
{
    uint32_t v[] = {1, 25000000, 25000000, 0x11223344, 0x55667788, now_ts};
    uint8_t s[] = {2, 4, 4, 4, 4, 4};
    event(w, port, COMB_EVT_SESSION_START, 6, v, s);
}

/* A workload: message buffers of 24 and 40 bytes, a 100-byte frame, a leak, a
 * realloc, a failure, and a free nested inside an alloc (interrupt). */
static void workload(wr *w)
{
    sync_pkt(w);
    session_start(w, 30);
    swit(w, 0, 1, 'h');
    swit(w, 0, 1, '\n');
    uint32_t base = 0x20000000;
    for (unsigned round = 0; round < 5; round++) {
        for (unsigned i = 0; i < 4; i++)
            ev_alloc(w, base + 0x100 + 0x20 * i, 24, 0x08000101);
        ev_alloc(w, base + 0x400, 100, 0x08000201);
        for (unsigned i = 0; i < 4; i++)
            ev_free(w, base + 0x100 + 0x20 * i);
        for (unsigned i = 0; i < 3; i++)
            ev_alloc(w, base + 0x200 + 0x40 * i, 40, 0x08000301);
        ev_free(w, base + 0x400);
        for (unsigned i = 0; i < 3; i++)
            ev_free(w, base + 0x200 + 0x40 * i);
    }
    /* alloc of 12 with a free of a 24 nested between its fields (an interrupt) */
    ev_alloc(w, base + 0x100, 24, 0x08000101);
    swit(w, 31, 1, COMB_EVT_HEADER(COMB_EVT_HEAP_ALLOC, 3));
    swit(w, 31, 4, base + 0x600);
    ev_free(w, base + 0x100);
    swit(w, 31, 2, 12);
    swit(w, 31, 4, now_ts += 10);
    ev_realloc(w, base + 0x600, base + 0x640, 30);
    ev_fail(w, 500);
    ev_alloc(w, base + 0x700, 8, 0x08000401); /* never freed */
    ev_free(w, base + 0x640);
}

static int64_t capture(const char *db, const wr *w, uint32_t store_ports)
{
    comb_store *s = NULL;
    char err[300];
    int64_t id = -1;
    CHECK(comb_store_open(db, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "test", "{}", &id) == 0);
    static comb_capture cap;
    comb_capture_config cfg = {.sync_mode = COMB_ITM_SYNC_WAIT, .store = s, .store_ports = store_ports};
    comb_capture_init(&cap, &cfg);
    comb_capture_feed(&cap, w->b, w->n, 1);
    comb_capture_finish(&cap);
    CHECK(comb_store_session_end(s, &cap.counters, "end_of_input") == 0);
    comb_store_close(s);
    return id;
}

static long long q_int(const char *db, const char *sql)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    long long v = -999;
    sqlite3_open(db, &d);
    comb_sqlite_register(d);
    if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "SQL failed: %s: %s\n", sql, sqlite3_errmsg(d));
    sqlite3_finalize(st);
    sqlite3_close(d);
    return v;
}

static void test_capture_to_verify(void)
{
    char db[300];
    test_tmp_path(db, sizeof db, "heap.db");
    static wr w;
    w.n = 0;
    workload(&w);
    int64_t id = capture(db, &w, 0);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version"), COMB_SCHEMA_VERSION);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event"), 5 * 16 + 7);
    /* heap_event.seq is the trace_event seq of the same event */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event h JOIN trace_event e USING (session, seq)"
                           " WHERE e.name = 'heap_' || h.kind AND e.offset = h.offset"),
                 q_int(db, "SELECT count(*) FROM heap_event"));
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE kind='free' AND size IS NULL"), 5 * 8 + 2);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE caller IS NOT NULL"), 5 * 8 + 1 + 1);
    CHECK_EQ_U64(q_int(db, "SELECT depth FROM heap_event WHERE kind='free' AND ptr=536871168 ORDER BY seq DESC"), 1);
    CHECK_EQ_U64(q_int(db, "SELECT old_ptr FROM heap_event WHERE kind='realloc'"), 0x20000600);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line"), 1);

    comb_heap_session s;
    char err[300];
    CHECK(comb_heap_session_load(db, 0, &s, err, sizeof err) == 0);
    CHECK_EQ_U64(s.id, id);
    CHECK_EQ_U64(s.ts_hz, 25000000);
    CHECK(s.has_start_ts && s.start_ts == 1000);
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    CHECK(comb_heap_trace_from_raw(s.raw, s.n, &t) == 0);
    CHECK(t.has_ts && t.has_caller);
    CHECK_EQ_U64(t.anomalies.free_unknown + t.anomalies.alloc_live + t.anomalies.free_unmatched, 0);
    /* ordered by header offset: the alloc of 12 comes before the free nested inside it */
    size_t k12 = 0, kfree = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.ops[i].kind == COMB_HEAP_ALLOC && t.ops[i].size == 12)
            k12 = i;
        if (t.ops[i].kind == COMB_HEAP_FREE && t.ops[i].size == 24)
            kfree = i;
    }
    CHECK(k12 > 0 && kfree == k12 + 1);

    /* report: peak 100 + 3 x 40 bytes, 4 x 24 + 100 blocks, failures, the leak with its caller */
    comb_heap_report r;
    CHECK(comb_heap_report_build(&t, &r) == 0);
    CHECK_EQ_U64(r.peak_bytes, 100 + 3 * 40);
    CHECK_EQ_U64(r.peak_bytes_blocks, 4);
    CHECK_EQ_U64(r.peak_blocks, 5);
    CHECK_EQ_U64(r.peak_blocks_bytes, 4 * 24 + 100);
    CHECK_EQ_U64(r.fails, 1);
    CHECK_EQ_U64(r.live_blocks, 1);
    CHECK(r.nleaks == 1 && r.leaks[0].size == 8 && r.leaks[0].caller == 0x08000401);
    CHECK(r.nsites == 4 && r.sites[0].caller == 0x08000101 && r.sites[0].allocs == 21);
    comb_heap_report_free(&r);

    /* generate, at most 3 pools: 2 are best: 8..40 bytes never need more than 4 blocks at
     * once, and the 100-byte frame is never live with the failed 500-byte request */
    comb_layout_options o = {.max_pools = 3, .policy = {.realloc_in_place = true}};
    comb_heap_layout lay;
    comb_layout_info info;
    CHECK(comb_pool_layout_optimal(&t, &o, &lay, &info, err, sizeof err) == 0);
    CHECK_EQ_U64(info.nsizes, 7); /* 8 12 24 32 40 100 500 */
    CHECK(lay.npools == 2 && lay.pools[0].block == 40 && lay.pools[0].capacity == 4 && lay.pools[1].block == 500 &&
          lay.pools[1].capacity == 1);
    CHECK_EQ_U64(info.bytes, 660);
    comb_strbuf sec = {0}, file = {0};
    comb_layout_render_toml(&lay, &sec);
    const char *orig = "# project\n[memory.ram]\nsize = \"20K\"\norigin = 0x20000000\n\n[heap.main]\nsize = \"1K\"\n"
                       "pools = [{ block = \"4\", capacity = 256 }]\n\n[linker]\nplatform = \"arm\"\n";
    comb_drone_toml toml;
    CHECK(comb_drone_toml_parse("Drone.toml", orig, strlen(orig), &toml, err, sizeof err) == 0);
    comb_drone_toml_replace(&toml, "main", comb_sb_str(&sec), &file);
    comb_drone_toml_free(&toml);
    CHECK(comb_drone_toml_parse("Drone.toml", comb_sb_str(&file), file.len, &toml, err, sizeof err) == 0);
    CHECK(comb_drone_toml_check(&toml, err, sizeof err) == 0);
    const comb_heap_layout *h = comb_drone_toml_heap(&toml, "main");
    CHECK(h && h->npools == lay.npools && h->size == lay.size);

    comb_replay_policy pol = {.realloc_in_place = true};
    comb_replay_pool st[8];
    comb_replay_result res;
    CHECK(comb_heap_replay(&t, h->pools, h->npools, &pol, false, st, &res) == 0);
    CHECK_EQ_U64(res.failures, 0);
    CHECK_EQ_U64(res.fails_now_ok, 1);
    /* the busiest pool is full at its peak: headroom 0 everywhere in a minimal layout */
    for (unsigned i = 0; i < h->npools; i++)
        CHECK_EQ_U64(st[i].capacity - st[i].peak, 0);

    /* one block less in every pool in turn: each fails at that pool's peak */
    for (unsigned p = 0; p < lay.npools; p++) {
        comb_heap_layout less;
        comb_layout_copy(&less, &lay);
        less.pools[p].capacity--;
        CHECK(comb_heap_replay(&t, less.pools, less.npools, &pol, false, st, &res) == 0);
        /* a smaller pool's overflow may borrow a larger one; the largest cannot */
        if (p == lay.npools - 1)
            CHECK(res.failed);
        comb_layout_free(&less);
    }
    comb_layout_free(&lay);
    comb_sb_free(&sec);
    comb_sb_free(&file);
    comb_drone_toml_free(&toml);
    comb_heap_trace_free(&t);
    comb_heap_session_free(&s);

    /* --session: a missing one is named */
    CHECK(comb_heap_session_load(db, 7, &s, err, sizeof err) == -1);
    CHECK(strstr(err, "no session 7 (sessions 1 to 1)") != NULL);
    test_remove_db(db);
    CHECK(comb_heap_session_load(db, 0, &s, err, sizeof err) == -1);
    CHECK(strstr(err, "No such file") != NULL);
}

/* comb heap trace: port 31 only (and the session events, from either port). */
static void test_heap_only_capture(void)
{
    char db[300];
    test_tmp_path(db, sizeof db, "only.db");
    static wr w;
    w.n = 0;
    workload(&w);
    uint32_t v[] = {7, 1};
    uint8_t s[] = {2, 4};
    event(&w, 30, COMB_EVT_THREAD_ENTER, 2, v, s); /* scheduler: not stored */
    capture(db, &w, 1u << 31);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line"), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE port = 30"), 1); /* session_start */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE name = 'thread_enter'"), 0);
    CHECK_EQ_U64(q_int(db, "SELECT ts_hz FROM session"), 25000000);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event"), 5 * 16 + 7);
    test_remove_db(db);
}

/* A version-1 file: heap_event rows come from its trace_event rows on open. */
static void test_migration(void)
{
    char db[300];
    test_tmp_path(db, sizeof db, "v1.db");
    static wr w;
    w.n = 0;
    workload(&w);
    capture(db, &w, 0);
    long long n = q_int(db, "SELECT count(*) FROM heap_event");
    CHECK(schema_downgrade(db, 1) == 0); /* the shape version 1 wrote: all events in trace_event */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'heap_event'"), 0);
    comb_heap_session s;
    char err[300];
    CHECK(comb_heap_session_load(db, 0, &s, err, sizeof err) == 0);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version"), COMB_SCHEMA_VERSION);
    CHECK_EQ_U64(s.n, (unsigned long long)n);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE kind='realloc' AND ptr=536872512 AND "
                           "old_ptr=536872448 AND size=30"),
                 1);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE kind='fail' AND size=500 AND ptr IS NULL"), 1);
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    CHECK(comb_heap_trace_from_raw(s.raw, s.n, &t) == 0);
    CHECK_EQ_U64(t.anomalies.free_unknown, 0);
    comb_heap_trace_free(&t);
    comb_heap_session_free(&s);
    test_remove_db(db);
}

int main(void)
{
    test_tmp_init("heapverify");
    test_capture_to_verify();
    test_heap_only_capture();
    test_migration();
    test_tmp_done();
    return check_finish("test_heap_verify");
}
