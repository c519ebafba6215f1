/*
 * A synthetic session written straight into a fresh comb database
 * (docs/schema.md) for the benchmarks that time its readers (bench_sched,
 * bench_dashboard): session 1, every row inserted in one transaction with
 * plain SQL, so the setup is fast and timed apart from what is measured.
 */
#ifndef COMB_BENCH_DB_H
#define COMB_BENCH_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "comb/session_store.h"

/* The workloads' PRNG (xorshift64; the state must not be 0). */
static inline uint64_t bench_db_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct bench_db {
    const char *prog; /* names the benchmark in messages */
    const char *path;
    comb_store *store;
    sqlite3 *db;
    sqlite3_stmt *sched; /* the sched_event insert of bench_db_sched */
    bool failed;         /* an insert failed: bench_db_commit reports it */
} bench_db;

/* Creates the database at path (which must not hold one yet). 0, or -1 with
 * "PROG: MESSAGE" on stderr. */
int bench_db_open(bench_db *b, const char *prog, const char *path);

/* Opens the transaction, inserts session 1 (source `prog`, core 100 MHz,
 * timestamps 25 MHz, session_start at start_ts when has_start_ts) and
 * prepares the sched_event insert. 0 or -1 (bench_db_commit reports it). */
int bench_db_begin(bench_db *b, bool has_start_ts, int64_t start_ts);

/* Prepares another insert into session 1's tables; 0 or -1. */
int bench_db_prepare(bench_db *b, const char *sql, sqlite3_stmt **st);

/* Runs an insert whose values are bound; a failure sets b->failed. */
void bench_db_step(bench_db *b, sqlite3_stmt *st);

/* One sched_event row (depth 0); from < 0 and fiber 0 are stored as NULL. */
void bench_db_sched(bench_db *b, uint64_t seq, uint64_t offset, const char *kind, uint64_t ts, unsigned thr, int from,
                    uint32_t fiber);

/* Commits (when ok and no insert failed) and closes the database. 0, or -1
 * with "PROG: writing PATH: MESSAGE" on stderr. The caller finalizes the
 * statements of bench_db_prepare first. */
int bench_db_commit(bench_db *b, bool ok);

#endif
