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

#include "bench_db.h"
#include "bench_gen.h"
#include "comb/sched_report.h"
#include "comb/sched_session.h"

#define THREADS 8

typedef struct gen {
    bench_db *db;
    uint64_t rng, ts, offset, seq, target;
    uint64_t runs[THREADS], resumes[THREADS * 2];
} gen;

static uint64_t next(gen *g)
{
    return bench_db_rand(&g->rng);
}

static void emit(gen *g, const char *kind, unsigned thr, int from, uint32_t fiber)
{
    g->ts += 1 + next(g) % 64;
    g->offset += 10 + next(g) % 6;
    bench_db_sched(g->db, g->seq++, g->offset, kind, g->ts, thr, from, fiber);
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
    bench_db bd;
    if (bench_db_open(&bd, "bench_sched", path))
        return 1;
    gen g = {.db = &bd, .rng = seed * 0x9E3779B97F4A7C15ull | 1, .ts = 1000, .target = events};
    double t0 = bench_now();
    bool ok = !bench_db_begin(&bd, false, 0);
    while (ok && !bd.failed && g.seq + 3 * THREADS + 2 * THREADS <= events) /* stops before an activation could overshoot */
        activation(&g, (unsigned)(next(&g) % THREADS), 255);
    if (bench_db_commit(&bd, ok))
        return 1;
    double t_setup = bench_now() - t0;
    char err[512];
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
