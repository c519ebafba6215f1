/*
 * Event blocks (event_block.h) and the comb_events virtual tables
 * (comb/sqlite_module.h): the codec round-trips any row, refuses what it
 * cannot order, survives corrupt input; the tables read in (session, seq)
 * order without a sort, honour seq ranges, take SQL inserts with the
 * documented limits, keep transaction, savepoint and statement semantics, and
 * the loadable extension gives a plain connection the same tables.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "comb/heap_trace.h"
#include "comb/session_store.h"
#include "comb/sqlite_module.h"
#include "event_block.h"
#include "schema_downgrade.h"
#include "test_tmp.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t any_value(void)
{
    switch (next() % 5) {
    case 0: return (int64_t)next(); /* anything, extremes included */
    case 1: return INT64_MIN + (int64_t)(next() % 3);
    case 2: return INT64_MAX - (int64_t)(next() % 3);
    default: return (int64_t)(next() % 100000) - 50000;
    }
}

static void random_row(const evb_shape *sh, int64_t seq, evb_row *r)
{
    memset(r, 0, sizeof *r);
    r->v[1] = seq;
    r->present = 2;
    for (unsigned c = 2; c < sh->ncols; c++) {
        if (sh->nullable[c] && next() % 3 == 0)
            continue;
        r->v[c] = sh->coding[c] == EVB_KIND ? (int64_t)(next() % sh->nkinds) : any_value();
        r->present |= 1u << c;
    }
}

static bool rows_equal(const evb_shape *sh, const evb_row *a, const evb_row *b)
{
    if ((a->present | 1u) != (b->present | 1u))
        return false;
    for (unsigned c = 1; c < sh->ncols; c++)
        if ((a->present >> c & 1u) && a->v[c] != b->v[c])
            return false;
    return true;
}

static void test_codec_round_trip(const evb_shape *sh)
{
    uint8_t *buf = malloc(evb_buffer_size());
    evb_row *rows = malloc(sizeof *rows * EVB_MAX_ROWS);
    evb_writer w;
    for (int round = 0; round < 20; round++) {
        evb_writer_reset(&w, sh, buf);
        int64_t seq = round == 0 ? INT64_MIN : any_value() / 4;
        unsigned n = round == 1 ? EVB_MAX_ROWS : round == 2 ? 3 : (unsigned)(next() % 300);
        for (unsigned i = 0; i < n; i++) {
            if (round == 2) /* steps above INT64_MAX */
                seq = i == 0 ? INT64_MIN + 1 : i == 1 ? INT64_MAX - 1 : INT64_MAX;
            random_row(sh, seq, &rows[i]);
            CHECK(evb_append(&w, &rows[i]) == 0);
            if (round != 2)
                seq += 1 + (int64_t)(next() % (i % 7 == 0 ? 1000000 : 3));
        }
        CHECK(w.len <= evb_buffer_size());
        if (n == EVB_MAX_ROWS) {
            evb_row extra;
            random_row(sh, seq, &extra);
            CHECK(evb_append(&w, &extra) == 1); /* full */
        }
        CHECK_EQ_U64(w.rows, n);
        evb_reader rd;
        CHECK(evb_reader_init(&rd, sh, buf, w.len));
        evb_row got;
        memset(&got, 0, sizeof got);
        unsigned i = 0;
        int rc;
        while ((rc = evb_next(&rd, &got)) == 1) {
            if (i < n && !rows_equal(sh, &rows[i], &got)) {
                check_failures++;
                fprintf(stderr, "%s: row %u of round %d differs after decoding\n", sh->table, i, round);
            }
            i++;
        }
        CHECK(rc == 0);
        CHECK_EQ_U64(i, n);
    }
    free(rows);
    free(buf);
}

static void test_codec_refusals(void)
{
    uint8_t *buf = malloc(evb_buffer_size());
    evb_writer w;
    evb_writer_reset(&w, &evb_heap, buf);
    evb_row r;
    random_row(&evb_heap, 10, &r);
    CHECK(evb_append(&w, &r) == 0);
    CHECK(evb_append(&w, &r) == -1); /* same seq */
    r.v[1] = 9;
    CHECK(evb_append(&w, &r) == -1); /* lower */
    r.v[1] = 11;
    r.present &= ~(1u << 2); /* offset is NOT NULL */
    CHECK(evb_append(&w, &r) == -2);
    random_row(&evb_heap, 11, &r);
    r.v[3] = 5; /* no such kind */
    CHECK(evb_append(&w, &r) == -2);
    CHECK_EQ_U64(w.rows, 1);
    /* an 8-byte heap alloc event is what the store's speed rests on: ~10 bytes, not ~40 */
    evb_writer_reset(&w, &evb_heap, buf);
    for (int i = 0; i < 100; i++) {
        evb_row a = {.present = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 7 | 1u << 10};
        a.v[1] = 1000 + 2 * i;
        a.v[2] = 50000 + 14 * i;
        a.v[3] = COMB_HEAP_ALLOC;
        a.v[4] = 1000000 + 700 * i;
        a.v[5] = 0x20001000 + 64 * (i % 16);
        a.v[7] = 32;
        CHECK(evb_append(&w, &a) == 0);
    }
    CHECK(w.len < 100 * 12);
    free(buf);
}

/* Truncations and bit flips: decoding ends with a row count or -1, never reads past the block (ASan). */
static void test_codec_corruption(void)
{
    uint8_t *buf = malloc(evb_buffer_size());
    evb_writer w;
    evb_writer_reset(&w, &evb_sched, buf);
    evb_row r;
    for (int i = 0; i < 200; i++) {
        random_row(&evb_sched, 5 + 3 * i, &r);
        CHECK(evb_append(&w, &r) == 0);
    }
    unsigned corrupt = 0;
    for (size_t cut = 0; cut <= w.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        evb_reader rd;
        if (!evb_reader_init(&rd, &evb_sched, copy, cut)) {
            CHECK(cut == 0);
            free(copy);
            continue;
        }
        evb_row got = {0};
        int rc;
        unsigned n = 0;
        while ((rc = evb_next(&rd, &got)) == 1)
            n++;
        CHECK(n <= 200);
        corrupt += rc < 0;
        free(copy);
    }
    CHECK(corrupt > 0); /* most cuts land inside a row */
    uint8_t *copy = malloc(w.len);
    for (int flip = 0; flip < 2000; flip++) {
        memcpy(copy, buf, w.len);
        copy[1 + next() % (w.len - 1)] ^= (uint8_t)(1u << (next() % 8));
        evb_reader rd;
        CHECK(evb_reader_init(&rd, &evb_sched, copy, w.len));
        evb_row got = {0};
        unsigned n = 0;
        while (evb_next(&rd, &got) == 1)
            n++;
        CHECK(n <= w.len);
    }
    copy[0] = 2; /* a format this build does not know */
    evb_reader rd;
    CHECK(!evb_reader_init(&rd, &evb_sched, copy, w.len));
    free(copy);
    free(buf);
}

static void test_kind_names(void)
{
    for (unsigned k = 0; k < COMB_HEAP_KIND_COUNT; k++)
        CHECK(strcmp(evb_heap.kinds[k], comb_heap_kind_name(k)) == 0 &&
              (size_t)evb_heap.kind_len[k] == strlen(evb_heap.kinds[k]));
    CHECK_EQ_U64(evb_heap.nkinds, COMB_HEAP_KIND_COUNT);
    for (unsigned t = COMB_EVT_THREAD_WAKEUP; t <= COMB_EVT_FIBER_COMPLETED; t++) {
        const unsigned k = t - COMB_EVT_THREAD_WAKEUP;
        CHECK(strcmp(evb_sched.kinds[k], comb_sched_kind_name(t)) == 0 &&
              (size_t)evb_sched.kind_len[k] == strlen(evb_sched.kinds[k]));
    }
    CHECK_EQ_U64(evb_sched.nkinds, COMB_EVT_FIBER_COMPLETED - COMB_EVT_THREAD_WAKEUP + 1);
}

/* ---- SQL ---------------------------------------------------------------------------------- */

static int64_t q_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -999;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "query '%s': %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return v;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A fresh schema-v5 file (made by the store), opened on a plain connection with the module. */
static sqlite3 *fresh_db(const char *name, char *path, size_t cap)
{
    test_tmp_path(path, cap, name);
    comb_store *s = NULL;
    char err[512];
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    int64_t id;
    for (int i = 0; i < 3; i++) { /* sessions 1..3 */
        CHECK(comb_store_session_begin(s, "test", "{}", &id) == 0);
        comb_session_counters c = {0};
        CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
    }
    comb_store_close(s);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(comb_sqlite_register(db) == SQLITE_OK);
    return db;
}

static int insert_heap(sqlite3 *db, sqlite3_stmt *st, int64_t session, int64_t seq)
{
    sqlite3_bind_int64(st, 1, session);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int64(st, 3, seq * 14);
    sqlite3_bind_text(st, 4, (seq % 2) ? "free" : "alloc", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, seq * 100);
    sqlite3_bind_int64(st, 6, 0x20000000 + seq % 64 * 16);
    if (seq % 2)
        sqlite3_bind_null(st, 7);
    else
        sqlite3_bind_int64(st, 7, 24);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    (void)db;
    return rc;
}

static void test_sql_inserts_and_reads(void)
{
    char path[300];
    sqlite3 *db = fresh_db("rw.db", path, sizeof path);
    sqlite3_stmt *ins;
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO heap_event(session, seq, offset, kind, ts, ptr, size) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             -1, &ins, NULL) == SQLITE_OK);
    /* 10,000 rows for session 2, then 5 for session 1, in one transaction: blocks of up to 4,096 */
    CHECK(exec(db, "BEGIN") == SQLITE_OK);
    for (int64_t i = 0; i < 10000; i++)
        CHECK(insert_heap(db, ins, 2, 3 * i) == SQLITE_DONE);
    for (int64_t i = 0; i < 5; i++)
        CHECK(insert_heap(db, ins, 1, 100 + i) == SQLITE_DONE);
    /* read inside the transaction: the buffered rows are there */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event"), 10005);
    CHECK(exec(db, "COMMIT") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_block WHERE session = 2"), 3);
    CHECK_EQ_U64(q_int(db, "SELECT sum(events) FROM heap_block"), 10005);
    /* order, values, NULLs and the default depth */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM (SELECT seq, lag(seq) OVER () AS p, session, lag(session) OVER () AS ps"
                           " FROM heap_event) WHERE p IS NOT NULL AND NOT (session > ps OR (session = ps AND seq > p))"),
                 0);
    CHECK_EQ_U64(q_int(db, "SELECT min(session) FROM heap_event"), 1);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE session = 2 AND (offset != seq * 14 OR ts != seq * 100"
                           " OR ptr != 536870912 + seq % 64 * 16 OR depth != 0 OR old_ptr IS NOT NULL OR caller IS NOT"
                           " NULL OR (kind = 'alloc') != (size IS 24) OR (kind = 'alloc') != (seq % 2 = 0))"),
                 0);
    CHECK_EQ_U64(q_int(db, "SELECT typeof(size) = 'null' FROM heap_event WHERE session = 2 AND seq = 3"), 1);
    /* seq ranges, each kind of bound, and values that are not integers */
    static const struct {
        const char *where;
        int64_t count;
    } ranges[] = {
        {"seq = 300", 1},           {"seq = 301", 0},          {"seq > 29994", 1},
        {"seq >= 29994", 2},        {"seq < 3", 1},            {"seq <= 3", 2},
        {"seq > 10 AND seq < 20", 3}, {"seq BETWEEN 12285 AND 12291", 3}, {"seq > 2.5 AND seq <= 6.5", 2},
        {"seq = 3.0", 1},           {"seq = 3.5", 0},          {"seq > 'x'", 0},
        {"seq < 'x'", 10000},       {"seq = NULL", 0},         {"seq > -1e300", 10000},
        {"seq < 1e300", 10000},     {"seq >= 9223372036854775807", 0},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM heap_event WHERE session = 2 AND %s", ranges[i].where);
        const int64_t got = q_int(db, sql);
        if (got != ranges[i].count) {
            check_failures++;
            fprintf(stderr, "'%s': %lld rows, expected %lld\n", ranges[i].where, (long long)got,
                    (long long)ranges[i].count);
        }
        check_count++;
    }
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE session = '2'"), 10000); /* INTEGER affinity */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE session = 2.5"), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE session IN (1, 2)"), 10005);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event h JOIN session s ON h.session = s.id"), 10005);
    /* the planner takes the order from the table: no sort */
    static const char *const plans[] = {
        "EXPLAIN QUERY PLAN SELECT * FROM heap_event WHERE session = 2 ORDER BY seq",
        "EXPLAIN QUERY PLAN SELECT * FROM heap_event ORDER BY session, seq",
        "EXPLAIN QUERY PLAN SELECT * FROM heap_event WHERE session = 1 AND seq > 5 ORDER BY session, seq",
    };
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
        sqlite3_stmt *st;
        bool sorts = false;
        CHECK(sqlite3_prepare_v2(db, plans[i], -1, &st, NULL) == SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
            sorts |= strstr((const char *)sqlite3_column_text(st, 3), "TEMP B-TREE") != NULL;
        sqlite3_finalize(st);
        CHECK(!sorts);
    }
    /* the opposite order is sorted by SQLite, and right */
    CHECK_EQ_U64(q_int(db, "SELECT seq FROM heap_event WHERE session = 2 ORDER BY seq DESC LIMIT 1"), 29997);

    /* refusals: one line each, nothing stored */
    static const char *const bad[] = {
        "INSERT INTO heap_event(session, seq, offset, kind) VALUES (2, 5, 0, 'alloc')",     /* not after 29997 */
        "INSERT INTO heap_event(session, seq, offset, kind) VALUES (3, 1, 0, 'grow')",      /* no such kind */
        "INSERT INTO heap_event(session, seq, offset, kind) VALUES (3, 1, NULL, 'alloc')",  /* NOT NULL */
        "INSERT INTO heap_event(session, seq, offset, kind, ptr) VALUES (3, 1, 0, 'alloc', 'x')", /* not integer */
        "INSERT INTO heap_event(session, seq, offset, kind, size) VALUES (3, 1, 0, 'alloc', 1.5)",
        "INSERT INTO heap_event(rowid, session, seq, offset, kind) VALUES (7, 3, 1, 0, 'alloc')",
        "UPDATE heap_event SET size = 1 WHERE session = 2",
        "DELETE FROM heap_event WHERE session = 2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *msg = NULL;
        const int rc = sqlite3_exec(db, bad[i], NULL, NULL, &msg);
        if (rc == SQLITE_OK) {
            check_failures++;
            fprintf(stderr, "accepted: %s\n", bad[i]);
        }
        check_count++;
        CHECK(msg && strlen(msg) > 10);
        sqlite3_free(msg);
    }
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event"), 10005);
    char *msg = NULL;
    sqlite3_exec(db, bad[0], NULL, NULL, &msg);
    CHECK(msg && strstr(msg, "not after the session's last seq 29997"));
    sqlite3_free(msg);
    /* a NULL depth is 0, the declared default */
    CHECK(exec(db, "INSERT INTO sched_event VALUES (3, 1, 10, 'wakeup', 5, 1, 0, NULL, NULL)") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT depth FROM sched_event WHERE session = 3"), 0);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    test_remove_db(path);
}

static void test_sql_transactions(void)
{
    char path[300];
    sqlite3 *db = fresh_db("tx.db", path, sizeof path);
    /* rollback drops buffered rows, and the next insert is checked against what is stored */
    CHECK(exec(db, "BEGIN; INSERT INTO sched_event VALUES (1, 1, 0, 'enter', 1, 1, NULL, NULL, 0); ROLLBACK") ==
          SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event"), 0);
    CHECK(exec(db, "INSERT INTO sched_event VALUES (1, 1, 0, 'enter', 1, 1, NULL, NULL, 0)") == SQLITE_OK);
    /* savepoints: ROLLBACK TO keeps what came before it */
    CHECK(exec(db, "BEGIN;"
                   "INSERT INTO sched_event VALUES (1, 2, 0, 'exit', 2, 1, NULL, NULL, 0);"
                   "SAVEPOINT a;"
                   "INSERT INTO sched_event VALUES (1, 3, 0, 'enter', 3, 1, NULL, NULL, 0);"
                   "INSERT INTO sched_event VALUES (1, 4, 0, 'exit', 4, 1, NULL, NULL, 0);"
                   "ROLLBACK TO a;"
                   "INSERT INTO sched_event VALUES (1, 3, 0, 'fiber_added', 5, 1, NULL, 77, 0);"
                   "RELEASE a;"
                   "COMMIT") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event"), 3);
    CHECK_EQ_U64(q_int(db, "SELECT fiber FROM sched_event WHERE seq = 3"), 77);
    /* a statement that fails half-way stores none of its rows, and keeps the earlier statements' */
    CHECK(exec(db, "CREATE TEMP TABLE src(seq, kind)") == SQLITE_OK);
    CHECK(exec(db, "WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 9000)"
                   " INSERT INTO src SELECT i, CASE i WHEN 8500 THEN 'bogus' ELSE 'enter' END FROM n") == SQLITE_OK);
    CHECK(exec(db, "BEGIN") == SQLITE_OK);
    CHECK(exec(db, "INSERT INTO sched_event VALUES (1, 5, 0, 'exit', 6, 1, NULL, NULL, 0)") == SQLITE_OK);
    CHECK(exec(db, "INSERT INTO sched_event SELECT 1, seq, 0, kind, seq, 1, NULL, NULL, 0 FROM src ORDER BY seq") ==
          SQLITE_CONSTRAINT);
    CHECK(exec(db, "COMMIT") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event"), 4);
    CHECK_EQ_U64(q_int(db, "SELECT max(seq) FROM sched_event"), 5);
    /* without the bad row the same statement stores all of them (blocks of up to 4,096) */
    CHECK(exec(db, "UPDATE src SET kind = 'enter'") == SQLITE_OK);
    CHECK(exec(db, "INSERT INTO sched_event SELECT 1, seq, 0, kind, seq, 1, NULL, NULL, 0 FROM src ORDER BY seq") ==
          SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event"), 4 + 8991);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_block WHERE events = 4096"), 2); /* 8,991 = 2 x 4,096 + 799 */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_block WHERE events = 799"), 1);
    /* the trace_event view reads through the module */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE name = 'thread_enter'"), 1 + 8991);
    /* DROP TABLE takes the blocks along */
    CHECK(exec(db, "DROP VIEW trace_event; DROP TABLE sched_event") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sched_block'"), 0);
    sqlite3_close(db);
    test_remove_db(path);
}

/* Review findings of session 11, each once wrong. */
static void test_sql_edges(void)
{
    char path[300];
    sqlite3 *db = fresh_db("edges.db", path, sizeof path);
    /* equal seqs in different sessions: an OR plan de-duplicates by rowid, which must be unique */
    CHECK(exec(db, "INSERT INTO heap_event(session, seq, offset, kind) VALUES (1, 5, 0, 'alloc'), (1, 6, 0, 'free');"
                   "INSERT INTO heap_event(session, seq, offset, kind) VALUES (2, 5, 0, 'alloc'), (2, 6, 0, 'free')") ==
          SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE (session = 1 AND seq = 5) OR (session = 2 AND seq = 5)"),
                 2);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE (session = 1 AND seq <= 6) OR (session = 2 AND seq <= 6)"),
                 4);
    CHECK_EQ_U64(q_int(db, "SELECT count(DISTINCT rowid) FROM heap_event"), 4);
    /* a seq step above INT64_MAX stays readable */
    CHECK(exec(db, "INSERT INTO heap_event(session, seq, offset, kind) VALUES (3, -10, 0, 'alloc'),"
                   " (3, 9223372036854775807, 0, 'free')") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event WHERE session = 3"), 2);
    CHECK_EQ_U64(q_int(db, "SELECT max(seq) FROM heap_event WHERE session = 3"), INT64_MAX);
    /* float bounds near the int64 limits */
    CHECK(exec(db, "INSERT INTO sched_event VALUES (3, -9220000000000000000, 0, 'enter', 1, 1, NULL, NULL, 0),"
                   " (3, 9220000000000000000, 0, 'exit', 2, 1, NULL, NULL, 0)") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event WHERE session = 3 AND seq >= 9.21e18"), 1);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event WHERE session = 3 AND seq <= -9.21e18"), 1);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event WHERE session = 3 AND seq > 9.3e18"), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event WHERE session = 3 AND seq < 9.3e18"), 2);
    /* a session's blocks deleted (after a read wrote the buffer): the seq check follows the table */
    CHECK(exec(db, "BEGIN; INSERT INTO heap_event(session, seq, offset, kind) VALUES (2, 100, 0, 'alloc');"
                   "SELECT count(*) FROM heap_event; DELETE FROM heap_block WHERE session = 2;"
                   "INSERT INTO heap_event(session, seq, offset, kind) VALUES (2, 1, 0, 'alloc'); COMMIT") ==
          SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT group_concat(seq) FROM heap_event WHERE session = 2"), 1);
    /* with an untrusted schema a view over the tables still reads them (trace_event does not: SQLite
     * 3.40's json_object is not innocuous) */
    CHECK(exec(db, "CREATE VIEW heap3 AS SELECT * FROM heap_event WHERE session = 3") == SQLITE_OK);
    CHECK(exec(db, "PRAGMA trusted_schema = OFF") == SQLITE_OK);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap3"), 2);
    sqlite3_close(db);
    test_remove_db(path);
}

/* The store refuses rows that would make a session's blocks overlap, within a chunk and across chunks. */
static void test_store_seq_order(void)
{
    char path[300], err[512];
    test_tmp_path(path, sizeof path, "order.db");
    for (int across = 0; across < 2; across++) {
        comb_store *s = NULL;
        CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
        int64_t id;
        CHECK(comb_store_session_begin(s, "drone:x", "{}", &id) == 0);
        const int n = across ? EVB_MAX_ROWS + 10 : 3;
        for (int i = 0; i < n; i++) {
            const comb_heap_raw r = {.seq = 10 + i, .offset = (uint64_t)i, .kind = COMB_HEAP_ALLOC, .size = 8,
                                     .has = COMB_HR_SIZE};
            CHECK(comb_store_heap_event(s, &r) == 0);
        }
        const comb_heap_raw back = {.seq = 10 + n - 2, .kind = COMB_HEAP_FREE};
        CHECK(comb_store_heap_event(s, &back) == -1);
        CHECK(strstr(comb_store_errmsg(s), "not after the previous one") != NULL);
        comb_store_close(s);
    }
    test_remove_db(path);
}

/* Migration 4 -> 5 of a file with many blocks' worth of rows in two sessions: every row identical. */
static void test_migration_many_rows(void)
{
    char path[300];
    sqlite3 *db = fresh_db("migrate.db", path, sizeof path);
    CHECK(exec(db, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 8999)"
                   " INSERT INTO heap_event SELECT 1 + (i >= 6000), i, i * 13, CASE i % 3 WHEN 0 THEN 'alloc'"
                   " WHEN 1 THEN 'free' ELSE 'realloc' END, i * 99, 536870912 + (i * 7919) % 65536,"
                   " CASE i % 3 WHEN 2 THEN 536870912 + i END, CASE i % 3 WHEN 1 THEN NULL ELSE i % 300 END, NULL,"
                   " CASE WHEN i % 5 = 0 THEN 134218000 + i % 17 END, i % 2 FROM n;"
                   "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)"
                   " INSERT INTO sched_event SELECT 2, 10000 + i, i, CASE i % 4 WHEN 0 THEN 'wakeup' WHEN 1 THEN"
                   " 'enter' WHEN 2 THEN 'fiber_resumed' ELSE 'exit' END, i * 5, i % 8, CASE i % 4 WHEN 0 THEN 255"
                   " END, CASE i % 4 WHEN 2 THEN 536871000 + i % 5 END, 0 FROM n") == SQLITE_OK);
    static const char *const digest =
        "SELECT (SELECT count(*) || ':' || sum(seq * 3 + offset + coalesce(ts, 7) + coalesce(ptr, 11) +"
        " coalesce(old_ptr, 13) + coalesce(size, 17) + coalesce(caller, 19) + depth + length(kind) * session)"
        " FROM heap_event) || '/' || (SELECT count(*) || ':' || sum(seq * 5 + offset + ts + thr +"
        " coalesce(from_thr, 3) + coalesce(fiber, 5) + length(kind)) FROM sched_event) || '/' ||"
        " (SELECT count(*) FROM trace_event)";
    sqlite3_stmt *st;
    char before[200] = "", after[200] = "";
    CHECK(sqlite3_prepare_v2(db, digest, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
    snprintf(before, sizeof before, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(schema_downgrade(path, 4) == 0);
    comb_store *s = NULL;
    char err[512];
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0); /* migrates */
    comb_store_close(s);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(comb_sqlite_register(db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, digest, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW);
    snprintf(after, sizeof after, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    CHECK(strlen(before) > 10 && strcmp(before, after) == 0);
    if (strcmp(before, after) != 0)
        fprintf(stderr, "migration changed the rows: %s -> %s\n", before, after);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version"), COMB_SCHEMA_VERSION);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_block"), 3);  /* 6000 + 3000 rows: 4096 + 1904 + 3000 */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_block"), 2); /* 4096 + 904 */
    sqlite3_close(db);
    test_remove_db(path);
}

static void test_corrupt_block(void)
{
    char path[300];
    sqlite3 *db = fresh_db("corrupt.db", path, sizeof path);
    CHECK(exec(db, "INSERT INTO heap_event(session, seq, offset, kind) VALUES (1, 1, 0, 'alloc'), (1, 2, 0, 'free')") ==
          SQLITE_OK);
    CHECK(exec(db, "UPDATE heap_block SET data = substr(data, 1, length(data) - 1)") == SQLITE_OK);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, "SELECT * FROM heap_event", -1, &st, NULL) == SQLITE_OK);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    CHECK(rc == SQLITE_CORRUPT);
    CHECK(strstr(sqlite3_errmsg(db), "corrupt") != NULL);
    sqlite3_finalize(st);
    CHECK(exec(db, "UPDATE heap_block SET data = x'02'") == SQLITE_OK);
    CHECK(exec(db, "SELECT * FROM heap_event") == SQLITE_CORRUPT);
    sqlite3_close(db);
    test_remove_db(path);
}

/* The loadable extension gives a connection that never heard of comb the same tables. */
static void test_loadable_extension(void)
{
    char path[300];
    sqlite3 *db = fresh_db("ext.db", path, sizeof path);
    CHECK(exec(db, "INSERT INTO heap_event(session, seq, offset, kind, size) VALUES (1, 1, 0, 'fail', 4096)") ==
          SQLITE_OK);
    sqlite3_close(db);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    char *msg = NULL;
    CHECK(sqlite3_exec(db, "SELECT * FROM heap_event", NULL, NULL, &msg) != SQLITE_OK);
    CHECK(msg && strstr(msg, "no such module: comb_events"));
    sqlite3_free(msg);
    msg = NULL;
    CHECK(sqlite3_enable_load_extension(db, 1) == SQLITE_OK);
    CHECK(sqlite3_load_extension(db, COMB_SQLITE_EXTENSION_PATH, NULL, &msg) == SQLITE_OK);
    if (msg)
        fprintf(stderr, "load_extension: %s\n", msg);
    sqlite3_free(msg);
    CHECK_EQ_U64(q_int(db, "SELECT size FROM heap_event WHERE kind = 'fail'"), 4096);
    sqlite3_close(db);
    test_remove_db(path);
}

int main(void)
{
    test_tmp_init("evtable");
    test_codec_round_trip(&evb_heap);
    test_codec_round_trip(&evb_sched);
    test_codec_refusals();
    test_codec_corruption();
    test_kind_names();
    test_sql_inserts_and_reads();
    test_sql_transactions();
    test_sql_edges();
    test_store_seq_order();
    test_migration_many_rows();
    test_corrupt_block();
    test_loadable_extension();
    return check_finish("test_event_table");
}
