/*
 * bench_capture: decode-plus-store throughput of the `comb log` pipeline.
 *
 *   bench_capture [--events N] [--log-every K] [--chunk BYTES] [--dir DIR] [--seed N] [--keep]
 *
 * Generates (in memory, fixed seed) a stream of N heap/scheduler events plus a
 * log line every K events, framed like the UART transport (syncs every 1 KiB),
 * between a session_start and a session_end; then feeds it through
 * comb_capture_feed into an SQLite database on disk, committing every 250 ms of
 * wall time exactly as `comb log` does (host/tools/capture_run.c), and reports
 * events/s, the file size and where the rows went (heap_event, sched_event,
 * other_event; checked against the generator). The store writes on its own
 * thread (session_store.h), so the timed span ends when the session is closed
 * and everything is on disk. The same stream is also run through the pipeline
 * without a store, to show what the store costs. See docs/benchmarks.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"

#include "bench_gen.h"
#include "comb/capture.h"
#include "comb/session_store.h"

#define CHECKPOINT_NS 250000000 /* as capture_run.c */

typedef struct opts {
    uint64_t events, log_every, chunk, seed;
    const char *dir;
    bool keep;
} opts;

static comb_capture cap;

static double run_no_store(const bench_stream *s, size_t chunk)
{
    comb_capture_config cfg = {.sync_mode = COMB_ITM_SYNC_WAIT};
    comb_capture_init(&cap, &cfg);
    const double t0 = bench_now();
    for (size_t off = 0; off < s->len; off += chunk) {
        size_t n = s->len - off < chunk ? s->len - off : chunk;
        comb_capture_feed(&cap, s->data + off, n, comb_now_ns());
    }
    comb_capture_finish(&cap);
    return bench_now() - t0;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static long long count_rows(const char *db, const char *table)
{
    sqlite3 *h;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK && comb_sqlite_register(h) == SQLITE_OK) {
        char sql[96];
        sqlite3_stmt *st;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_capture [--events N] [--log-every K] [--chunk BYTES] [--dir DIR] [--seed N] [--keep]\n"
               "  --events N     trace events to generate (default 10000000: long enough for 250 ms commits)\n"
               "  --log-every K  one log line per K events (default 50; 0: none)\n"
               "  --chunk BYTES  bytes per comb_capture_feed call (default 65536, as comb log)\n"
               "  --dir DIR      where the temporary database goes (default $TMPDIR or /tmp)\n"
               "  --seed N       PRNG seed (default 0xC0B)\n"
               "  --keep         keep the database and print its path\n");
}

int main(int argc, char **argv)
{
    opts o = {.events = 10000000, .log_every = 50, .chunk = 65536, .seed = 0xC0B, .dir = NULL, .keep = false};
    for (int i = 1; i < argc; i++) {
        uint64_t *dst = NULL;
        if (strcmp(argv[i], "--keep") == 0) {
            o.keep = true;
            continue;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            o.dir = argv[++i];
            continue;
        } else if (strcmp(argv[i], "--events") == 0)
            dst = &o.events;
        else if (strcmp(argv[i], "--log-every") == 0)
            dst = &o.log_every;
        else if (strcmp(argv[i], "--chunk") == 0)
            dst = &o.chunk;
        else if (strcmp(argv[i], "--seed") == 0)
            dst = &o.seed;
        const char *val = i + 1 < argc ? argv[++i] : NULL;
        if (!dst || !bench_parse_u64(val, dst)) {
            usage(stderr);
            return 2;
        }
    }
    if (o.events == 0 || o.chunk == 0 || o.events > 1000000000u) {
        usage(stderr);
        return 2;
    }
    if (!o.dir)
        o.dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    const size_t chunk = (size_t)o.chunk;

    /* ---- the stream ---- */
    const double g0 = bench_now();
    bench_stream s;
    bench_traffic t;
    bench_stream_init(&s, (size_t)o.events * 16u + 4096u, 1024);
    bench_traffic_init(&t, o.seed);
    bench_session_start(&s, &t);
    uint64_t k = 0;
    while (t.events < o.events + 1) { /* +1: session_start */
        if (o.log_every && ++k % o.log_every == 0)
            bench_log_line(&s, &t);
        bench_event(&s, &t);
    }
    bench_session_end(&s, &t);
    const double gen_s = bench_now() - g0;
    printf("bench_capture: %llu events (%llu nested), %llu log lines, %.1f MB of ITM stream "
           "(seed 0x%llx, generated in %.2f s), fed in %zu-byte chunks\n\n",
           (unsigned long long)t.events, (unsigned long long)t.nested, (unsigned long long)t.log_lines,
           (double)s.len / 1e6, (unsigned long long)o.seed, gen_s, chunk);

    /* ---- pipeline without a store (best of 3) ---- */
    double best_ns = 0;
    for (int i = 0; i < 3; i++) {
        double el = run_no_store(&s, chunk);
        if (i == 0 || el < best_ns)
            best_ns = el;
    }
    if (cap.counters.events != t.events || cap.counters.log_lines != t.log_lines || cap.counters.decode_errors ||
        cap.counters.trace_errors) {
        fprintf(stderr, "bench_capture: pipeline decoded %llu events, %llu lines, %llu+%llu errors; expected %llu, %llu\n",
                (unsigned long long)cap.counters.events, (unsigned long long)cap.counters.log_lines,
                (unsigned long long)cap.counters.decode_errors, (unsigned long long)cap.counters.trace_errors,
                (unsigned long long)t.events, (unsigned long long)t.log_lines);
        return 1;
    }

    /* ---- into an on-disk database ---- */
    char dir[4096], db[4200], side[4300];
    snprintf(dir, sizeof dir, "%s/comb-bench-XXXXXX", o.dir);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_capture: cannot create a directory in %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    snprintf(db, sizeof db, "%s/bench.db", dir);

    char err[600];
    comb_store *store = NULL;
    int64_t session = 0;
    int status = 0;
    const double t0 = bench_now();
    if (comb_store_open(db, &store, err, sizeof err) ||
        comb_store_session_begin(store, "bench:generated", "{\"outputs\":[],\"sync\":\"wait\",\"ack\":false}",
                                 &session)) {
        fprintf(stderr, "bench_capture: %s\n", store ? comb_store_errmsg(store) : err);
        comb_store_close(store);
        return 1;
    }
    comb_capture_config cfg = {.sync_mode = COMB_ITM_SYNC_WAIT, .store = store};
    comb_capture_init(&cap, &cfg);
    unsigned checkpoints = 0;
    int64_t last_commit = comb_now_ns();
    for (size_t off = 0; off < s.len && !cap.store_failed; off += chunk) {
        size_t n = s.len - off < chunk ? s.len - off : chunk;
        int64_t now = comb_now_ns();
        comb_capture_feed(&cap, s.data + off, n, now);
        if (now - last_commit >= CHECKPOINT_NS) {
            if (comb_store_checkpoint(store, &cap.counters))
                cap.store_failed = true;
            checkpoints++;
            last_commit = now;
        }
    }
    const double t_fed = bench_now();
    comb_capture_finish(&cap);
    if (cap.store_failed || comb_store_session_end(store, &cap.counters, "end_of_input")) {
        fprintf(stderr, "bench_capture: %s\n", comb_store_errmsg(store));
        status = 1;
    }
    const double t_ended = bench_now();
    comb_store_close(store);
    const double t_closed = bench_now();

    snprintf(side, sizeof side, "%s-wal", db);
    const long long db_bytes = file_size(db), wal_bytes = file_size(side);
    const long long heap_rows = count_rows(db, "heap_event"), sched_rows = count_rows(db, "sched_event"),
                    other_rows = count_rows(db, "other_event"), line_rows = count_rows(db, "log_line");
    const long long ev_rows = heap_rows + sched_rows + other_rows;
    uint64_t heap_gen = 0, sched_gen = 0;
    for (unsigned ty = COMB_EVT_HEAP_ALLOC; ty <= COMB_EVT_HEAP_FAIL; ty++)
        heap_gen += t.by_type[ty];
    for (unsigned ty = COMB_EVT_THREAD_WAKEUP; ty <= COMB_EVT_FIBER_COMPLETED; ty++)
        sched_gen += t.by_type[ty];
    if (ev_rows != (long long)t.events || line_rows != (long long)t.log_lines || heap_rows != (long long)heap_gen ||
        sched_rows != (long long)sched_gen) {
        fprintf(stderr,
                "bench_capture: database holds %lld heap, %lld scheduler, %lld other events and %lld lines, expected "
                "%llu, %llu, %llu and %llu\n",
                heap_rows, sched_rows, other_rows, line_rows, (unsigned long long)heap_gen,
                (unsigned long long)sched_gen, (unsigned long long)(t.events - heap_gen - sched_gen),
                (unsigned long long)t.log_lines);
        status = 1;
    }

    const double ev = (double)t.events, total = t_closed - t0;
    printf("  %-52s %12s %9s %8s\n", "benchmark", "events/s", "MB/s", "time s");
    printf("  %-52s %12.0f %9.1f %8.3f\n", "capture pipeline, no store (best of 3)", ev / best_ns,
           (double)s.len / 1e6 / best_ns, best_ns);
    printf("  %-52s %12.0f %9.1f %8.3f\n", "decode + store, on-disk SQLite (open to close)", ev / total,
           (double)s.len / 1e6 / total, total);
    printf("\n  split: feed + %u checkpoints %.3f s, finish + session_end commit %.3f s, close (WAL checkpoint) %.3f s\n",
           checkpoints, t_fed - t0, t_ended - t_fed, t_closed - t_ended);
    printf("  database: %s%s\n", o.keep ? db : o.dir, o.keep ? "" : " (temporary, deleted; --keep keeps it)");
    printf("  size: %.1f MB (%lld bytes; %.1f bytes/event incl. log lines), WAL left: %lld bytes\n",
           (double)db_bytes / 1e6, db_bytes, (double)db_bytes / ev, wal_bytes);
    printf("  rows: %lld heap_event + %lld sched_event + %lld other_event = %lld events, %lld log_line\n",
           heap_rows, sched_rows, other_rows, ev_rows, line_rows);
    printf("  target: decode + store >= 2,000,000 events/s into an on-disk DB: %s (%.0f events/s)\n",
           ev / total >= 2e6 ? "met" : "MISSED", ev / total);

    if (!o.keep) {
        unlink(db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", db);
        unlink(side);
        snprintf(side, sizeof side, "%s-journal", db);
        unlink(side);
        rmdir(dir);
    }
    bench_stream_free(&s);
    return status;
}
