/*
 * bench_sched: time of `comb fibers report` on a large session.
 *
 *   bench_sched [--events N] [--dir DIR] [--seed N] [--keep] [--print]
 *
 * Writes a synthetic session of N scheduler events (default 10,000,000)
 * straight into a fresh database (plain SQL inserts in one transaction: the
 * setup, timed separately), then times what `comb fibers report --json` does:
 * comb_sched_session_report (the one ordered pass over sched_event, the
 * reconstruction, exact percentiles) and the JSON and text renderings. Prints
 * events/s, the memory the samples took and the process's peak RSS (--print:
 * the text report too). The report's counts are checked against what the
 * generator wrote, so a wrong report cannot post a figure. See
 * docs/benchmarks.md.
 *
 * The workload: 8 threads (index = priority), 2 fibers each; an activation
 * of a thread is wakeup, enter, then with probability 1/2 a fiber run (resume
 * .. yield, 1 in 16 completes), with probability 1/4 a preemption by a higher
 * thread (recursively), exit. Times advance by 1-64 ticks per event.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_gen.h"
#include "comb/sched_report.h"
#include "comb/sched_session.h"
#include "comb/session_store.h"

#define THREADS 8

typedef struct gen {
    sqlite3_stmt *ins;
    uint64_t rng, ts, offset, seq, target;
    uint64_t runs[THREADS], resumes[THREADS * 2];
    int failed;
} gen;

static uint64_t next(gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static void emit(gen *g, const char *kind, unsigned thr, int from, uint32_t fiber)
{
    g->ts += 1 + next(g) % 64;
    g->offset += 10 + next(g) % 6;
    sqlite3_stmt *st = g->ins;
    sqlite3_bind_int64(st, 1, (int64_t)g->seq++);
    sqlite3_bind_int64(st, 2, (int64_t)g->offset);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (int64_t)g->ts);
    sqlite3_bind_int(st, 5, (int)thr);
    if (from >= 0)
        sqlite3_bind_int(st, 6, from);
    else
        sqlite3_bind_null(st, 6);
    if (fiber)
        sqlite3_bind_int64(st, 7, fiber);
    else
        sqlite3_bind_null(st, 7);
    if (sqlite3_step(st) != SQLITE_DONE)
        g->failed = 1;
    sqlite3_reset(st);
}

/* One activation of thread t, woken by `from`; recursion depth <= THREADS. */
static void activation(gen *g, unsigned t, int from)
{
    emit(g, "wakeup", t, from, 0);
    emit(g, "enter", t, -1, 0);
    g->runs[t]++;
    if (next(g) % 2) {
        unsigned f = t * 2 + (unsigned)(next(g) % 2);
        uint32_t addr = 0x20000000u + f * 64;
        emit(g, "fiber_resumed", t, -1, addr);
        g->resumes[f]++;
        if (t + 1 < THREADS && next(g) % 4 == 0)
            activation(g, t + 1 + (unsigned)(next(g) % (THREADS - 1 - t)), (int)t);
        emit(g, next(g) % 16 ? "fiber_yielded" : "fiber_completed", t, -1, addr);
    } else if (t + 1 < THREADS && next(g) % 4 == 0) {
        activation(g, t + 1 + (unsigned)(next(g) % (THREADS - 1 - t)), (int)t);
    }
    emit(g, "exit", t, -1, 0);
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

int main(int argc, char **argv)
{
    uint64_t events = 10000000, seed = 1;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int keep = 0, print = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else if (!strcmp(argv[i], "--print"))
            print = 1;
        else {
            fprintf(stderr, "usage: bench_sched [--events N] [--dir DIR] [--seed N] [--keep] [--print]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (events < 100) {
        fprintf(stderr, "bench_sched: --events needs at least 100\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/comb-bench-sched-%ld.db", dir, (long)getpid());
    char err[512];
    comb_store *store;
    if (comb_store_open(path, &store, err, sizeof err)) {
        fprintf(stderr, "bench_sched: %s\n", err);
        return 1;
    }
    sqlite3 *db = comb_store_handle(store);
    gen g = {.rng = seed * 0x9E3779B97F4A7C15ull | 1, .ts = 1000, .target = events};
    double t0 = bench_now();
    int ok = sqlite3_exec(db,
                          "BEGIN; INSERT INTO session(started_at, source, settings, core_hz, ts_hz)"
                          " VALUES ('2025-01-01T00:00:00.000Z', 'bench_sched', '{}', 100000000, 25000000)",
                          NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_prepare_v2(db,
                                "INSERT INTO sched_event(session, seq, offset, kind, ts, thr, from_thr, fiber, depth)"
                                " VALUES (1, ?, ?, ?, ?, ?, ?, ?, 0)",
                                -1, &g.ins, NULL) == SQLITE_OK;
    while (ok && !g.failed && g.seq + 3 * THREADS + 2 * THREADS <= events) /* stops before an activation could overshoot */
        activation(&g, (unsigned)(next(&g) % THREADS), 255);
    sqlite3_finalize(g.ins);
    ok = ok && !g.failed && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) {
        fprintf(stderr, "bench_sched: writing %s: %s\n", path, sqlite3_errmsg(db));
        comb_store_close(store);
        return 1;
    }
    comb_store_close(store);
    double t_setup = bench_now() - t0;
    struct stat st;
    long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    printf("session: %" PRIu64 " scheduler events, %d threads, %d fibers, written in %.1f s; database %.1f MB\n",
           g.seq, THREADS, THREADS * 2, t_setup, (double)bytes / 1e6);

    long rss_before = peak_rss_kib();
    t0 = bench_now();
    comb_sched_session info;
    comb_sched_result r;
    if (comb_sched_session_report(path, 0, &info, &r, err, sizeof err)) {
        fprintf(stderr, "bench_sched: %s\n", err);
        return 1;
    }
    double t_model = bench_now() - t0;
    comb_sched_report_context c = {.session = info.id, .core_hz = info.core_hz, .ts_hz = info.ts_hz};
    comb_strbuf json = {0}, text = {0};
    comb_sched_report_json(&r, &c, &json);
    comb_sched_report_text(&r, &c, &text);
    double t_all = bench_now() - t0;

    /* the report must match the generator */
    int bad = r.events != g.seq || info.rows != g.seq || r.nthreads != THREADS ||
              comb_sched_problem_total(&r.problems) != 0 || json.oom || text.oom;
    for (size_t i = 0; i < r.nthreads && !bad; i++)
        bad = r.threads[i].runs != g.runs[r.threads[i].thr] || r.threads[i].run_time.count != r.threads[i].runs ||
              r.threads[i].latency.count != r.threads[i].runs;
    for (size_t i = 0; i < r.nfibers && !bad; i++)
        bad = r.fibers[i].resumes != g.resumes[(r.fibers[i].fiber - 0x20000000u) / 64];
    if (bad) {
        fprintf(stderr, "bench_sched: the report does not match the generated session\n");
        return 1;
    }
    printf("report: %.2f s (%.2f M events/s): ordered pass + reconstruction + percentiles %.2f s, rendering %.3f s\n",
           t_all, (double)g.seq / t_all / 1e6, t_model, t_all - t_model);
    printf("memory: samples %.1f MB (%.2f bytes/event); peak RSS %.1f MB (%.1f MB before the report)\n",
           (double)r.sample_bytes / 1e6, (double)r.sample_bytes / (double)g.seq, (double)peak_rss_kib() / 1024.0,
           (double)rss_before / 1024.0);
    if (print)
        printf("%s", comb_sb_str(&text));
    comb_sb_free(&json);
    comb_sb_free(&text);
    comb_sched_result_free(&r);
    if (!keep) {
        char aux[4200];
        unlink(path);
        snprintf(aux, sizeof aux, "%s-wal", path);
        unlink(aux);
        snprintf(aux, sizeof aux, "%s-shm", path);
        unlink(aux);
    } else {
        printf("kept %s\n", path);
    }
    return 0;
}
