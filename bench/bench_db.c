/* Synthetic sessions for the benchmarks (bench_db.h). */
#include "bench_db.h"

#include <stdio.h>

int bench_db_open(bench_db *b, const char *prog, const char *path)
{
    *b = (bench_db){.prog = prog, .path = path};
    char err[512];
    if (comb_store_open(path, &b->store, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return -1;
    }
    b->db = comb_store_handle(b->store);
    return 0;
}

int bench_db_begin(bench_db *b, bool has_start_ts, int64_t start_ts)
{
    sqlite3_stmt *st;
    if (sqlite3_exec(b->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        bench_db_prepare(b,
                         "INSERT INTO session(started_at, source, settings, core_hz, ts_hz, start_ts)"
                         " VALUES ('2025-01-01T00:00:00.000Z', ?1, '{}', 100000000, 25000000, ?2)",
                         &st))
        return -1;
    sqlite3_bind_text(st, 1, b->prog, -1, SQLITE_STATIC);
    if (has_start_ts)
        sqlite3_bind_int64(st, 2, start_ts);
    bench_db_step(b, st);
    sqlite3_finalize(st);
    if (b->failed)
        return -1;
    return bench_db_prepare(b,
                            "INSERT INTO sched_event(session, seq, offset, kind, ts, thr, from_thr, fiber, depth)"
                            " VALUES (1, ?, ?, ?, ?, ?, ?, ?, 0)",
                            &b->sched);
}

int bench_db_prepare(bench_db *b, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(b->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

void bench_db_step(bench_db *b, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        b->failed = true;
    sqlite3_reset(st);
}

void bench_db_sched(bench_db *b, uint64_t seq, uint64_t offset, const char *kind, uint64_t ts, unsigned thr, int from,
                    uint32_t fiber)
{
    sqlite3_stmt *st = b->sched;
    sqlite3_bind_int64(st, 1, (int64_t)seq);
    sqlite3_bind_int64(st, 2, (int64_t)offset);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)ts);
    sqlite3_bind_int(st, 5, (int)thr);
    if (from >= 0)
        sqlite3_bind_int(st, 6, from);
    else
        sqlite3_bind_null(st, 6);
    if (fiber)
        sqlite3_bind_int64(st, 7, fiber);
    else
        sqlite3_bind_null(st, 7);
    bench_db_step(b, st);
}

int bench_db_commit(bench_db *b, bool ok)
{
    sqlite3_finalize(b->sched);
    b->sched = NULL;
    ok = ok && !b->failed && sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok)
        fprintf(stderr, "%s: writing %s: %s\n", b->prog, b->path, sqlite3_errmsg(b->db));
    comb_store_close(b->store);
    b->store = NULL;
    b->db = NULL;
    return ok ? 0 : -1;
}
