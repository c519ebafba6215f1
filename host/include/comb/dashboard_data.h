/*
 * The data behind `comb dashboard` and `comb export csv --plots`
 * (docs/dashboards.md): per-plot CSV files aggregated from one session of a
 * database, and the summaries the HTML page shows.
 *
 * Large sessions: everything is read through SQLite cursors and reduced while
 * it streams; no table is loaded into memory. Size histograms, log rates,
 * counts, the timeline window and the order statistics, CDF points and
 * histograms of latencies are SQL (GROUP BY, ORDER BY, window functions).
 * What needs the order of events is one ordered pass each, with state that
 * does not grow with the session: the heap events go through
 * comb_heap_builder and comb_heap_usage (a few bytes per block), the
 * scheduler events through a per-thread state machine that pairs wakeups
 * with enters and enters with exits and writes the samples into a
 * temporary table inside SQLite (kept in memory by SQLite, dropped after).
 * Only the documented columns of session, heap_event, sched_event and
 * log_line are read (docs/schema.md).
 *
 * Time: "session time" is seconds since the session's time 0 (the firmware's
 * session_start timestamp, else the first heap/scheduler event), from the
 * session's ts_hz; sessions without ts_hz are shown in ticks. Log lines carry
 * only the host's arrival time (host_ns), so the log rate is in host seconds
 * since the first line.
 *
 * Errors: every function returns 0, or -1 with one line in err. Not
 * thread-safe; one comb_dash per thread.
 */
#ifndef COMB_DASHBOARD_DATA_H
#define COMB_DASHBOARD_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "comb/heap_layout.h"
#include "comb/heap_trace.h"
#include "comb/heap_usage.h"

typedef struct comb_dash comb_dash;

typedef struct comb_dash_info {
    int64_t id;                 /* the session */
    int64_t first_id, last_id;  /* sessions in the file */
    char source[512], started_at[40], ended_at[40], build_id[24], end_reason[32];
    char settings[2048];
    uint64_t core_hz, ts_hz;    /* 0: unknown */
    bool has_start_ts;
    uint64_t start_ts;
    bool has_ts;                /* some heap or scheduler event has a timestamp */
    int64_t t0, t_end;          /* ticks: time 0 and the last event's timestamp */
    uint64_t heap_events, sched_events, log_lines;
    bool drone_import;          /* imported Drone heaptrace: no timestamps, Drone's realloc policy */
} comb_dash_info;

/* Opens db_path (which must exist; older schema versions are migrated in place
 * as by every comb command) and selects session `id`, or the latest when
 * id <= 0. */
int comb_dash_open(const char *db_path, int64_t id, comb_dash **out, char *err, size_t errlen);
void comb_dash_close(comb_dash *d);
const comb_dash_info *comb_dash_info_of(const comb_dash *d);
struct sqlite3 *comb_dash_db(comb_dash *d);

/* Optional names of threads and fibers (from the firmware's ELF, as
 * `comb fibers report --elf` finds them); each returns the name or NULL. */
typedef struct comb_dash_names {
    const char *(*thread)(void *ctx, uint16_t thr, char *buf, size_t cap);
    const char *(*fiber)(void *ctx, uint32_t addr, char *buf, size_t cap);
    void *ctx;
} comb_dash_names;

/* Names for the labels written from now on (CSV columns, timeline rows,
 * Perfetto tracks); NULL: numbers only. The struct must outlive d. */
void comb_dash_set_names(comb_dash *d, const comb_dash_names *names);

/* "thread 2 (filter)" / "thread 2"; "thread mode" for 255. */
void comb_dash_thread_label(const comb_dash *d, unsigned thr, char *buf, size_t cap);
/* "fiber 0x20000040 smoother" / "fiber 0x20000040". */
void comb_dash_fiber_label(const comb_dash *d, uint32_t addr, char *buf, size_t cap);

/* Session time of a tick, in the session's time unit (seconds, or ticks when
 * ts_hz is unknown); the unit's name is comb_dash_time_unit ("s" or "ticks"). */
double comb_dash_time(const comb_dash_info *i, int64_t ts);
const char *comb_dash_time_unit(const comb_dash_info *i);
/* The tick of a session time (inverse of comb_dash_time, rounded down). */
int64_t comb_dash_tick(const comb_dash_info *i, double t);
/* A duration in ticks in microseconds (ticks when ts_hz is unknown). */
double comb_dash_duration_us(const comb_dash_info *i, uint64_t ticks);

/* ---- heap ---------------------------------------------------------------------------- */

#define COMB_DASH_TOP_SITES 10

typedef struct comb_dash_site {
    uint32_t caller;
    uint64_t allocs, bytes;
} comb_dash_site;

typedef struct comb_dash_heap {
    comb_heap_usage usage;      /* the state after the last event: peaks, pools, per-size table */
    bool has_layout;            /* pools are a layout's (else power-of-two size classes, unbounded) */
    char layout_name[64];
    uint64_t layout_bytes;      /* Σ block × capacity of the layout */
    bool timed;                 /* x axis is session time (else the operation number) */
    double peak_requested_t, peak_pool_t, first_fail_t; /* when, on the x axis */
    comb_heap_anomalies anomalies;
    comb_dash_site sites[COMB_DASH_TOP_SITES]; /* most allocations first */
    size_t nsites;
} comb_dash_heap;

/*
 * Streams the session's heap events (ORDER BY offset, seq) through the
 * normalisation and the pools: `layout`'s, or size classes when NULL. With
 * usage_csv, writes the series of heap_usage.csv: `buckets` rows, each the
 * state at the moment the pools held the most bytes within that slice of the
 * session (so the stack's top is the true peak of each slice):
 *   t_s|op, requested, <pool label>...   (bytes; pools in ascending block order)
 * out must be freed with comb_dash_heap_free.
 */
int comb_dash_heap_run(comb_dash *d, const comb_heap_layout *layout, unsigned buckets, FILE *usage_csv,
                       comb_dash_heap *out, char *err, size_t errlen);
void comb_dash_heap_free(comb_dash_heap *h);

/* "8 B", "2 KiB", "1.5 KiB" (pools), "≤ 32 B" (size classes): a pool's label. */
void comb_dash_pool_label(const comb_dash_heap *h, unsigned pool, char *buf, size_t cap);

/* heap_pools.csv: pool,block,capacity,peak,served,borrowed,in_use_at_end
 * (capacity empty for size classes). */
int comb_dash_heap_pools_csv(const comb_dash_heap *h, FILE *f);

/* alloc_sizes.csv: size_lo,size_hi,label,requests: requested sizes of
 * allocations, reallocations, resizes and failed requests; one row per size
 * when the session has at most 48 distinct sizes, else power-of-two bins;
 * *rows = the rows written. */
int comb_dash_alloc_sizes_csv(comb_dash *d, FILE *f, uint64_t *rows, char *err, size_t errlen);

/* ---- scheduler -------------------------------------------------------------------------- */

/* Order statistics in ticks (nearest rank, as sched_stats.h). count 0: none. */
typedef struct comb_dash_stats {
    uint64_t count, min, p50, p90, p99, max;
} comb_dash_stats;

typedef struct comb_dash_thread {
    unsigned thr;
    uint64_t wakeups, runs;
    comb_dash_stats latency;    /* first wakeup after a run -> the thread's next enter */
    comb_dash_stats run_time;   /* enter -> exit */
    uint64_t run_ticks;         /* Σ run time (nested runs of other threads included) */
    double cpu_share;           /* run_ticks / session span */
} comb_dash_thread;

typedef struct comb_dash_sched {
    comb_dash_thread *threads;  /* ascending thr */
    size_t nthreads;
    uint64_t fibers;            /* distinct fiber addresses */
    uint64_t fiber_runs;        /* resumed -> yielded/completed of the same fiber */
    uint64_t span_ticks;        /* first to last scheduler event */
    int64_t first_ts;           /* the first scheduler event's tick */
    int64_t default_to;         /* the default timeline window's end (see below) */
} comb_dash_sched;

/*
 * Wakeup-to-enter latencies and run times per thread (one ordered pass, the
 * samples in a temporary table, their statistics in SQL); writes latency_hist.csv (lo,hi,<thread>...: counts per bin; 40 bins
 * up to the largest p99, one more for everything above) and latency_cdf.csv
 * (fraction,<thread>...: the latency below which that fraction of the
 * thread's wakeups were served; 201 rows), either FILE may be NULL, and fills
 * the per-thread table. Latencies in µs (ticks when ts_hz is unknown).
 */
int comb_dash_sched_run(comb_dash *d, FILE *hist_csv, FILE *cdf_csv, comb_dash_sched *out, char *err, size_t errlen);
void comb_dash_sched_free(comb_dash_sched *s);

/* The timeline window: [from, to] in ticks, as drawn. */
typedef struct comb_dash_window {
    int64_t from, to;
    int64_t asked_to;                   /* the end asked for (to, unless truncated) */
    uint64_t runs, fiber_runs, wakeups; /* rows written */
    bool truncated;                     /* the rows reached the limit: `to` was moved back to where they did */
} comb_dash_window;

#define COMB_DASH_TIMELINE_DEFAULT_RUNS 40 /* default window: the first this many thread runs */
/* Row limit of the timeline (gnuplot draws a box per row): when the window
 * holds more, it is cut at the event where the limit was reached (the runs
 * open there end at the cut, a few rows more), and the cut is reported. */
#define COMB_DASH_TIMELINE_MAX_ROWS 50000

/* The cut of a truncated window in one sentence without a final full stop
 * ("the window from 0.000000 to 2.500000 s holds more than 50000 runs, ...:
 * drawn only from 0.000000 to 0.731000 s; narrow it with --from/--to"), for
 * stderr, the plot's title and the page; "" when not truncated. */
void comb_dash_window_note(const comb_dash_info *i, const comb_dash_window *w, char *buf, size_t cap);

/*
 * timeline.csv: row,label,start,end,kind (kind run | fiber | wakeup; times in
 * session time, clipped to the window; wakeups have start = end): thread runs
 * (enter -> exit) one row per thread, fiber runs (resumed -> yielded or
 * completed) one row per fiber, wakeups on the woken thread's row; runs, then
 * fiber runs, then wakeups, each by start time. has_from / has_to: the
 * window's ends in ticks; otherwise it starts at the first scheduler event and
 * ends at the COMB_DASH_TIMELINE_DEFAULT_RUNS-th exit (or the last event).
 * sched: a finished comb_dash_sched_run of the session, which knows those
 * defaults (NULL: they are looked up). Reads the events of the window in one
 * ordered query, plus, when has_from, what was running at `from` (two GROUP BY
 * queries over the events before it).
 */
int comb_dash_timeline_csv(comb_dash *d, const comb_dash_sched *sched, bool has_from, int64_t from, bool has_to,
                           int64_t to, FILE *f, comb_dash_window *w, char *err, size_t errlen);

/* ---- log ------------------------------------------------------------------------------- */

typedef struct comb_dash_port {
    unsigned port;
    uint64_t lines, bytes;
} comb_dash_port;

typedef struct comb_dash_log {
    comb_dash_port *ports;      /* ascending port */
    size_t nports;
    double span_s;              /* host seconds from the first line to the last */
} comb_dash_log;

/* log_rate.csv: t_s,<port N>...: lines per second in `buckets` slices of host
 * time since the first line; fills the per-port counts. f may be NULL. */
int comb_dash_log_run(comb_dash *d, unsigned buckets, FILE *f, comb_dash_log *out, char *err, size_t errlen);
void comb_dash_log_free(comb_dash_log *l);

/* ---- all of it ----------------------------------------------------------------------- */

typedef struct comb_dash_options {
    const comb_heap_layout *layout; /* NULL: size classes */
    bool has_from, has_to;
    int64_t from, to;               /* timeline window, ticks */
    unsigned buckets;               /* 0: 600 */
} comb_dash_options;

typedef struct comb_dash_data {
    comb_dash_heap heap;
    comb_dash_sched sched;
    comb_dash_log log;
    comb_dash_window window;
    /* which CSVs have data rows (a plot is drawn only from a non-empty CSV) */
    bool has_heap, has_sizes, has_sched, has_timeline, has_log;
} comb_dash_data;

/*
 * Writes every plot's CSV into dir (created if missing) and meta.gp (the
 * session's labels, time unit and limits as gnuplot variables, read by the
 * scripts in dashboards/): heap_usage, heap_pools, alloc_sizes, latency_hist,
 * latency_cdf, timeline, log_rate (.csv). Files are replaced whole.
 */
int comb_dash_write_plot_data(comb_dash *d, const comb_dash_options *o, const char *dir, comb_dash_data *out,
                              char *err, size_t errlen);
void comb_dash_data_free(comb_dash_data *data);

/* Parses a session time: NUMBER[s|ms|us|ns] (seconds by default; ticks, as
 * NUMBER or NUMBERt, when the session has no ts_hz) into ticks. 0 or -1. */
int comb_dash_parse_time(const comb_dash_info *i, const char *s, int64_t *ticks);

#endif
