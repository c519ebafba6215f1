/*
 * bench_dashboard: time of `comb dashboard` on a large session.
 *
 *   bench_dashboard --comb PATH [--events N] [--dir DIR] [--seed N] [--keep]
 *
 * Writes a synthetic session of N trace events (default 10,000,000: about half
 * heap events, half scheduler events, plus a log line per 50 events) straight
 * into a fresh database (plain SQL inserts in one transaction: the setup,
 * timed separately), then runs the real tool on it as a child process and
 * reports wall time and peak RSS of:
 *   1. comb export csv --plots DIR   the SQL aggregation of every plot's data
 *   2. comb dashboard --out DIR --layout L   data, latency table (comb fibers
 *      report's pass), gnuplot (7 plots, PNG and SVG) and index.html
 * The outputs are checked (every plot file there and not empty, the size
 * histogram counts every generated request, the pools served every
 * allocation), so a broken run cannot post a figure. See docs/benchmarks.md.
 *
 * The workload: 8 threads (index = priority), 2 fibers each; an activation is
 * wakeup, enter, 1-3 heap operations (alloc or free; at most 4096 blocks
 * live, sizes 8-512 bytes), with probability 1/2 a fiber run, with
 * probability 1/4 a preemption by a higher thread (recursively), exit. Times
 * advance by 1-64 ticks of 25 MHz per event.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_db.h"
#include "bench_gen.h"

#define THREADS 8
#define LIVE_MAX 4096
#define TS_HZ 25000000

extern char **environ;

typedef struct gen {
    bench_db *db;
    sqlite3_stmt *heap, *log;
    uint64_t rng, ts, offset, seq, events, log_lines;
    uint64_t requests; /* heap events with a size */
    uint64_t heap_events, sched_events;
    uint32_t live[LIVE_MAX];
    unsigned nlive;
    uint32_t next_ptr;
} gen;

static uint64_t next(gen *g)
{
    return bench_db_rand(&g->rng);
}

static void advance(gen *g)
{
    g->ts += 1 + next(g) % 64;
    g->offset += 10 + next(g) % 6;
    if (++g->events % 50 == 0) { /* a log line now and then, on ports 0-2 */
        sqlite3_stmt *st = g->log;
        sqlite3_bind_int64(st, 1, (int64_t)g->log_lines++);
        sqlite3_bind_int(st, 2, (int)(next(g) % 3));
        sqlite3_bind_int64(st, 3, 1700000000000000000LL + (int64_t)g->ts * 40);
        sqlite3_bind_text(st, 4, "sensor 17: reading 1234 ok", -1, SQLITE_STATIC);
        bench_db_step(g->db, st);
    }
}

static void sched(gen *g, const char *kind, unsigned thr, int from, uint32_t fiber)
{
    advance(g);
    g->sched_events++;
    bench_db_sched(g->db, g->seq++, g->offset, kind, g->ts, thr, from, fiber);
}

static void heap_op(gen *g)
{
    advance(g);
    g->heap_events++;
    sqlite3_stmt *st = g->heap;
    sqlite3_bind_int64(st, 1, (int64_t)g->seq++);
    sqlite3_bind_int64(st, 2, (int64_t)g->offset);
    sqlite3_bind_int64(st, 4, (int64_t)g->ts);
    if (g->nlive && (g->nlive == LIVE_MAX || next(g) % 2)) {
        unsigned k = (unsigned)(next(g) % g->nlive);
        sqlite3_bind_text(st, 3, "free", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, g->live[k]);
        sqlite3_bind_null(st, 6);
        g->live[k] = g->live[--g->nlive];
    } else {
        static const uint32_t sizes[] = {8, 12, 16, 24, 32, 40, 48, 64, 96, 128, 200, 256, 512};
        uint32_t ptr = 0x20000000u + (g->next_ptr++ % (1u << 24)) * 8;
        sqlite3_bind_text(st, 3, "alloc", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, ptr);
        sqlite3_bind_int64(st, 6, sizes[next(g) % (sizeof sizes / sizeof sizes[0])]);
        g->live[g->nlive++] = ptr;
        g->requests++;
    }
    bench_db_step(g->db, st);
}

/* One activation of thread t, woken by `from`; recursion depth <= THREADS. */
static void activation(gen *g, unsigned t, int from)
{
    sched(g, "wakeup", t, from, 0);
    sched(g, "enter", t, -1, 0);
    for (uint64_t n = 1 + next(g) % 3; n > 0; n--)
        heap_op(g);
    if (next(g) % 2) {
        uint32_t addr = 0x20100000u + (t * 2 + (unsigned)(next(g) % 2)) * 64;
        sched(g, "fiber_resumed", t, -1, addr);
        if (t + 1 < THREADS && next(g) % 4 == 0)
            activation(g, t + 1 + (unsigned)(next(g) % (THREADS - 1 - t)), (int)t);
        sched(g, next(g) % 16 ? "fiber_yielded" : "fiber_completed", t, -1, addr);
    } else if (t + 1 < THREADS && next(g) % 4 == 0) {
        activation(g, t + 1 + (unsigned)(next(g) % (THREADS - 1 - t)), (int)t);
    }
    sched(g, "exit", t, -1, 0);
}

/* Runs argv with stdout to /dev/null; wall time and the child's peak RSS. */
static int run(char *const argv[], double *secs, long *rss_kib)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = bench_now();
    pid_t pid;
    int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        fprintf(stderr, "bench_dashboard: cannot run %s: %s\n", argv[0], strerror(e));
        return -1;
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *secs = bench_now() - t0;
    *rss_kib = ru.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "bench_dashboard: %s %s failed (status %d)\n", argv[0], argv[1], status);
        return -1;
    }
    return 0;
}

static long long file_size(const char *dir, const char *name)
{
    char p[4400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* Σ of the last column of alloc_sizes.csv */
static uint64_t histogram_total(const char *dir)
{
    char p[4400], line[256];
    snprintf(p, sizeof p, "%s/alloc_sizes.csv", dir);
    FILE *f = fopen(p, "r");
    uint64_t total = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        const char *c = strrchr(line, ',');
        if (c && line[0] >= '0' && line[0] <= '9')
            total += strtoull(c + 1, NULL, 10);
    }
    fclose(f);
    return total;
}

int main(int argc, char **argv)
{
    uint64_t events = 10000000, seed = 1;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", *comb = NULL;
    int keep = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--comb") && i + 1 < argc)
            comb = argv[++i];
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else {
            fprintf(stderr, "usage: bench_dashboard --comb PATH [--events N] [--dir DIR] [--seed N] [--keep]\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (!comb) {
        fprintf(stderr, "bench_dashboard: --comb PATH (the comb tool) is required\n");
        return 2;
    }
    if (events < 1000) {
        fprintf(stderr, "bench_dashboard: --events needs at least 1000\n");
        return 2;
    }
    char work[4096], path[4200], layout[4200], data[4200], out[4200];
    snprintf(work, sizeof work, "%s/comb-bench-dashboard-%ld", dir, (long)getpid());
    if (mkdir(work, 0777)) {
        fprintf(stderr, "bench_dashboard: cannot create %s: %s\n", work, strerror(errno));
        return 1;
    }
    snprintf(path, sizeof path, "%s/session.db", work);
    snprintf(layout, sizeof layout, "%s/Drone.toml", work);
    snprintf(data, sizeof data, "%s/data", work);
    snprintf(out, sizeof out, "%s/dashboard", work);
    FILE *lf = fopen(layout, "w");
    if (!lf) {
        fprintf(stderr, "bench_dashboard: cannot write %s\n", layout);
        return 1;
    }
    /* room for every block the generator can have live: nothing fails */
    fprintf(lf, "[heap.main]\nsize = \"2736K\"\npools = [\n"
                "    { block = \"16\", capacity = 8192 },\n    { block = \"64\", capacity = 8192 },\n"
                "    { block = \"256\", capacity = 4096 },\n    { block = \"512\", capacity = 4096 },\n]\n");
    fclose(lf);

    bench_db bd;
    if (bench_db_open(&bd, "bench_dashboard", path))
        return 1;
    gen g = {.db = &bd, .rng = seed * 0x9E3779B97F4A7C15ull | 1, .ts = 1000};
    double t0 = bench_now();
    bool ok = !bench_db_begin(&bd, true, 1000) &&
              !bench_db_prepare(&bd,
                                "INSERT INTO heap_event(session, seq, offset, kind, ts, ptr, old_ptr, size, old_size,"
                                " caller, depth) VALUES (1, ?1, ?2, ?3, ?4, ?5, NULL, ?6, NULL, NULL, 0)",
                                &g.heap) &&
              !bench_db_prepare(&bd,
                                "INSERT INTO log_line(session, seq, port, host_ns, itm_ts, text)"
                                " VALUES (1, ?, ?, ?, NULL, CAST(? AS BLOB))",
                                &g.log);
    /* an activation adds at most 8 x 9 events: stop before it could overshoot */
    while (ok && !bd.failed && g.seq + THREADS * 9 <= events)
        activation(&g, (unsigned)(next(&g) % THREADS), 255);
    sqlite3_finalize(g.heap);
    sqlite3_finalize(g.log);
    if (bench_db_commit(&bd, ok))
        return 1;
    double t_setup = bench_now() - t0;
    long long bytes = file_size(work, "session.db");
    printf("session: %" PRIu64 " events (%" PRIu64 " heap, %" PRIu64 " scheduler) and %" PRIu64
           " log lines, written in %.1f s; database %.1f MB\n",
           g.seq, g.heap_events, g.sched_events, g.log_lines, t_setup, (double)bytes / 1e6);

    double secs_data, secs_all;
    long rss_data, rss_all;
    char *data_argv[] = {(char *)comb, "export", "csv", "--db", path, "--plots", data, NULL};
    char *dash_argv[] = {(char *)comb, "dashboard", "--db", path, "--out", out, "--layout", layout, NULL};
    if (run(data_argv, &secs_data, &rss_data) || run(dash_argv, &secs_all, &rss_all))
        return 1;

    /* the outputs must be complete and right */
    static const char *const plots[] = {"heap_usage", "pool_occupancy", "alloc_sizes", "latency_hist",
                                        "latency_cdf", "timeline",   "log_rate"};
    int bad = file_size(out, "index.html") <= 0;
    for (size_t i = 0; i < sizeof plots / sizeof plots[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.png", plots[i]);
        bad |= file_size(out, name) <= 0;
        snprintf(name, sizeof name, "%s.svg", plots[i]);
        bad |= file_size(out, name) <= 0;
    }
    uint64_t hist = histogram_total(data);
    bad |= hist != g.requests;
    if (bad) {
        fprintf(stderr, "bench_dashboard: the outputs are incomplete or wrong (histogram %" PRIu64 " of %" PRIu64
                        " requests)\n", hist, g.requests);
        return 1;
    }
    printf("plot data (comb export csv --plots): %.2f s (%.2f M events/s), peak RSS %.1f MB\n", secs_data,
           (double)g.seq / secs_data / 1e6, (double)rss_data / 1024.0);
    printf("dashboard (data, latency table, 14 plot files, index.html): %.2f s, peak RSS %.1f MB\n", secs_all,
           (double)rss_all / 1024.0);
    if (keep) {
        printf("kept: %s\n", work);
        return 0;
    }
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : 1;
}
