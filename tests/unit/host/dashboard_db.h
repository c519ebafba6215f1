/*
 * Session databases for the dashboard and export tests: a session row made by
 * the real store (so the schema is the current one), then rows inserted with
 * plain SQL into the documented columns of heap_event, sched_event and
 * log_line (docs/schema.md).
 */
#ifndef COMB_TEST_DASHBOARD_DB_H
#define COMB_TEST_DASHBOARD_DB_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "comb/session_store.h"
#include "comb/sqlite_module.h"

typedef struct test_db {
    sqlite3 *db;
    int64_t session;
    int64_t seq;
    sqlite3_stmt *heap, *sched, *log;
} test_db;

/* A new session in path (ts_hz 0: no session_start); rows go in one transaction. */
static inline void test_db_open(test_db *t, const char *path, uint64_t ts_hz, int64_t start_ts)
{
    char err[600];
    comb_store *s = NULL;
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "test:dashboard", "{}", &t->session) == 0);
    comb_session_counters c = {0};
    CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
    comb_store_close(s);
    CHECK(sqlite3_open(path, &t->db) == SQLITE_OK);
    CHECK(comb_sqlite_register(t->db) == SQLITE_OK);
    char sql[200];
    if (ts_hz) {
        snprintf(sql, sizeof sql, "UPDATE session SET ts_hz = %llu, core_hz = %llu, start_ts = %lld WHERE id = %lld",
                 (unsigned long long)ts_hz, (unsigned long long)ts_hz, (long long)start_ts, (long long)t->session);
        CHECK(sqlite3_exec(t->db, sql, NULL, NULL, NULL) == SQLITE_OK);
    }
    CHECK(sqlite3_exec(t->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(t->db,
                             "INSERT INTO heap_event(session, seq, offset, kind, ts, ptr, old_ptr, size, old_size, caller,"
                             " depth) VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, 0)",
                             -1, &t->heap, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(t->db,
                             "INSERT INTO sched_event(session, seq, offset, kind, ts, thr, from_thr, fiber, depth)"
                             " VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                             -1, &t->sched, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(t->db,
                             "INSERT INTO log_line(session, seq, port, host_ns, itm_ts, text) VALUES (?1, ?2, ?3, ?4,"
                             " NULL, ?5)",
                             -1, &t->log, NULL) == SQLITE_OK);
    t->seq = 0;
}

static inline void test_db_bind_opt(sqlite3_stmt *st, int col, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, col, v);
    else
        sqlite3_bind_null(st, col);
}

/* A heap event; -1 for a column the event does not carry. */
static inline void test_db_heap(test_db *t, const char *kind, int64_t ts, int64_t ptr, int64_t old_ptr, int64_t size,
                                int64_t caller)
{
    sqlite3_stmt *st = t->heap;
    sqlite3_bind_int64(st, 1, t->session);
    sqlite3_bind_int64(st, 2, t->seq++);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    test_db_bind_opt(st, 4, ts);
    test_db_bind_opt(st, 5, ptr);
    test_db_bind_opt(st, 6, old_ptr);
    test_db_bind_opt(st, 7, size);
    test_db_bind_opt(st, 8, caller);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_reset(st);
}

/* A scheduler event; from_thr / fiber -1 when the event has none. */
static inline void test_db_sched(test_db *t, const char *kind, int64_t ts, int thr, int from_thr, int64_t fiber)
{
    sqlite3_stmt *st = t->sched;
    sqlite3_bind_int64(st, 1, t->session);
    sqlite3_bind_int64(st, 2, t->seq++);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, ts);
    sqlite3_bind_int(st, 5, thr);
    test_db_bind_opt(st, 6, from_thr);
    test_db_bind_opt(st, 7, fiber);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_reset(st);
}

static inline void test_db_log(test_db *t, int port, int64_t host_ns, const char *text, int len)
{
    sqlite3_stmt *st = t->log;
    sqlite3_bind_int64(st, 1, t->session);
    sqlite3_bind_int64(st, 2, t->seq++);
    sqlite3_bind_int(st, 3, port);
    sqlite3_bind_int64(st, 4, host_ns);
    sqlite3_bind_blob(st, 5, text, len, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_reset(st);
}

static inline void test_db_close(test_db *t)
{
    sqlite3_finalize(t->heap);
    sqlite3_finalize(t->sched);
    sqlite3_finalize(t->log);
    CHECK(sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(t->db);
}

#endif
