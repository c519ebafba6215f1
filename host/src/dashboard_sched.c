/*
 * The dashboard's scheduler data (include/comb/dashboard_data.h). Latencies
 * and run times come from one ordered pass over sched_event (ts, offset): a
 * per-thread state machine (a few words per thread) pairs each thread's first
 * unserved wakeup with its next enter, and each enter with its exit, and
 * forgets what is pending at every place where the capture lost events (the
 * loss markers of comb fibers report, host/src/sched_session.c, read by a
 * second cursor in offset order alongside, so the plots and the latency table
 * count the same wakeups), and
 * writes the samples into a temporary table inside SQLite (in memory, not this
 * process's). Their order statistics, CDF points and histogram are then SQL:
 * one ORDER BY pass that this file reads only at the ranks it needs, and a
 * GROUP BY.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comb/csv_text.h"
#include "comb/sched_session.h"
#include "dashboard_internal.h"

#define CDF_STEPS 200 /* latency_cdf.csv: fractions 0, 1/200, ..., 1 */
#define HIST_BINS 40  /* latency_hist.csv: bins up to the largest p99, then one for the rest */
#define MAX_THREADS 65536 /* thr is 16 bits on the wire */

enum { SAMPLE_LATENCY = 0, SAMPLE_RUN = 1 };

/* nearest rank: ceil(num / den * n), at least 1 */
static uint64_t rank_of(uint64_t n, uint64_t num, uint64_t den)
{
    uint64_t r = (num * n + den - 1) / den;
    return r ? r : 1;
}

/* ---- the pairing pass ------------------------------------------------------------------- */

typedef struct thr_state {
    bool pending, running, fiber_open;
    int64_t woke, entered;
    uint32_t fiber;
} thr_state;

/* Distinct fiber addresses (open addressing; 0 is a valid address, so a used flag). */
typedef struct fiber_set {
    uint32_t *key;
    uint8_t *used;
    size_t cap, n;
} fiber_set;

static int fiber_add(fiber_set *s, uint32_t f)
{
    if ((s->n + 1) * 4 >= s->cap * 3) {
        fiber_set ns = {.cap = s->cap ? s->cap * 2 : 64};
        ns.key = malloc(ns.cap * sizeof *ns.key);
        ns.used = calloc(ns.cap, 1);
        if (!ns.key || !ns.used) {
            free(ns.key);
            free(ns.used);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i])
                fiber_add(&ns, s->key[i]);
        free(s->key);
        free(s->used);
        *s = ns;
    }
    size_t h = (size_t)(f * 2654435761u) & (s->cap - 1);
    while (s->used[h]) { /* at most cap probes: the table is never full */
        if (s->key[h] == f)
            return 0;
        h = (h + 1) & (s->cap - 1);
    }
    s->used[h] = 1;
    s->key[h] = f;
    s->n++;
    return 0;
}

typedef struct pairing {
    comb_dash *d;
    comb_dash_sched *s;
    uint32_t *slot;       /* thr -> index + 1 into s->threads / st */
    thr_state *st;
    sqlite3_stmt *ins;
    fiber_set fibers;
} pairing;

static comb_dash_thread *thread_at(pairing *p, unsigned thr, thr_state **state)
{
    uint32_t k = p->slot[thr];
    if (!k) {
        size_t n = p->s->nthreads + 1;
        comb_dash_thread *t = realloc(p->s->threads, n * sizeof *t);
        if (t)
            p->s->threads = t;
        thr_state *st = realloc(p->st, n * sizeof *st);
        if (st)
            p->st = st;
        if (!t || !st)
            return NULL;
        p->s->threads[n - 1] = (comb_dash_thread){.thr = thr};
        p->st[n - 1] = (thr_state){0};
        p->s->nthreads = n;
        p->slot[thr] = k = (uint32_t)n;
    }
    *state = &p->st[k - 1];
    return &p->s->threads[k - 1];
}

static int sample(pairing *p, int what, unsigned thr, int64_t v)
{
    sqlite3_bind_int(p->ins, 1, what);
    sqlite3_bind_int(p->ins, 2, (int)thr);
    sqlite3_bind_int64(p->ins, 3, v);
    int rc = sqlite3_step(p->ins);
    sqlite3_reset(p->ins);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The offsets where the capture may have lost events, ascending: the
 * markers of comb_sched_session_report (comb_sched_loss_query). */
static int loss_cursor(comb_dash *d, sqlite3_stmt **st, bool *more, int64_t *next, char *err, size_t errlen)
{
    if (comb_sched_loss_query(d->db, d->info.id, st))
        return dash_sql_error(d, err, errlen);
    int rc = sqlite3_step(*st);
    *more = rc == SQLITE_ROW;
    *next = *more ? sqlite3_column_int64(*st, 0) : 0;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dash_sql_error(d, err, errlen);
}

/* Whether loss markers lie before stream offset `offset` (consumed: each
 * marker counts once over the whole pass, as in sched_session.c). */
static int lost_before(comb_dash *d, sqlite3_stmt *st, bool *more, int64_t *next, int64_t offset, bool *lost,
                       char *err, size_t errlen)
{
    *lost = false;
    while (*more && *next < offset) { /* each marker once over the whole pass */
        *lost = true;
        int rc = sqlite3_step(st);
        *more = rc == SQLITE_ROW;
        if (*more)
            *next = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            return dash_sql_error(d, err, errlen);
    }
    return 0;
}

/* A loss: pending wakeups, open runs and fiber runs are forgotten, as
 * comb_sched_model_loss does (their ends or starts may be among the lost). */
static void forget_pending(pairing *p)
{
    for (size_t i = 0; i < p->s->nthreads; i++) /* one pass over the threads seen */
        p->st[i].pending = p->st[i].running = p->st[i].fiber_open = false;
}

static int pair_events(pairing *p, char *err, size_t errlen)
{
    comb_dash *d = p->d;
    comb_dash_sched *s = p->s;
    sqlite3_stmt *st, *loss;
    bool more_loss;
    int64_t next_loss;
    if (loss_cursor(d, &loss, &more_loss, &next_loss, err, errlen)) {
        sqlite3_finalize(loss);
        return -1;
    }
    if (dash_prepare(d,
                     "SELECT kind, ts, thr, fiber, offset FROM sched_event WHERE session = ?1 AND ts IS NOT NULL"
                     " ORDER BY ts, offset",
                     &st, err, errlen)) {
        sqlite3_finalize(loss);
        return -1;
    }
    int rc;
    bool first = true;
    int64_t t_first = 0, t_last = 0;
    uint64_t exits = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        int64_t ts = sqlite3_column_int64(st, 1);
        unsigned thr = (unsigned)sqlite3_column_int(st, 2) % MAX_THREADS;
        uint32_t fiber = (uint32_t)sqlite3_column_int64(st, 3);
        if (!kind)
            continue;
        bool lost;
        if (lost_before(d, loss, &more_loss, &next_loss, sqlite3_column_int64(st, 4), &lost, err, errlen)) {
            sqlite3_finalize(st);
            sqlite3_finalize(loss);
            return -1;
        }
        if (lost && !first) /* nothing is pending before the first event */
            forget_pending(p);
        if (first)
            t_first = ts, first = false;
        t_last = ts;
        thr_state *x;
        comb_dash_thread *t = thread_at(p, thr, &x);
        if (!t)
            goto oom;
        int bad = 0;
        if (!strcmp(kind, "wakeup")) {
            t->wakeups++;
            if (!x->pending) { /* later ones before the enter are coalesced */
                x->pending = true;
                x->woke = ts;
            }
        } else if (!strcmp(kind, "enter")) {
            t->runs++;
            if (x->pending) {
                bad = sample(p, SAMPLE_LATENCY, thr, ts - x->woke);
                t->latency.count++;
                x->pending = false;
            }
            x->running = true; /* an enter while running: the exit was lost, the run is dropped */
            x->entered = ts;
        } else if (!strcmp(kind, "exit")) {
            if (++exits == COMB_DASH_TIMELINE_DEFAULT_RUNS)
                s->default_to = ts;
            if (x->running) {
                bad = sample(p, SAMPLE_RUN, thr, ts - x->entered);
                t->run_time.count++;
                t->run_ticks += (uint64_t)(ts - x->entered);
                x->running = false;
            }
        } else if (!strncmp(kind, "fiber_", 6)) {
            if (fiber_add(&p->fibers, fiber))
                goto oom;
            if (!strcmp(kind, "fiber_resumed")) {
                x->fiber_open = true;
                x->fiber = fiber;
            } else if (strcmp(kind, "fiber_added") && x->fiber_open && x->fiber == fiber) {
                s->fiber_runs++;
                x->fiber_open = false;
            }
        }
        if (bad) {
            sqlite3_finalize(st);
            sqlite3_finalize(loss);
            return dash_sql_error(d, err, errlen);
        }
    }
    sqlite3_finalize(st);
    sqlite3_finalize(loss);
    if (rc != SQLITE_DONE)
        return dash_sql_error(d, err, errlen);
    s->span_ticks = (uint64_t)(t_last - t_first);
    s->first_ts = t_first;
    if (exits < COMB_DASH_TIMELINE_DEFAULT_RUNS)
        s->default_to = t_last;
    s->fibers = p->fibers.n;
    for (size_t i = 0; i < s->nthreads; i++)
        s->threads[i].cpu_share = s->span_ticks ? (double)s->threads[i].run_ticks / (double)s->span_ticks : 0;
    return 0;
oom:
    sqlite3_finalize(st);
    sqlite3_finalize(loss);
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- order statistics and the CDF ---------------------------------------------------------- */

/* The CDF of one thread: value at each fraction j / CDF_STEPS, in ticks. */
typedef struct cdf_col {
    unsigned thr;
    uint64_t v[CDF_STEPS + 1];
} cdf_col;

static int by_thr(const void *a, const void *b)
{
    const comb_dash_thread *x = a, *y = b;
    return (x->thr > y->thr) - (x->thr < y->thr);
}

/*
 * One pass over the samples in (kind, thread, value) order: the order
 * statistics of every thread, and the latency CDF columns. The counts per
 * thread are known from the pairing pass, so the ranks are known up front.
 */
static int rank_pass(comb_dash *d, comb_dash_sched *s, cdf_col *cdf, size_t *ncdf, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "SELECT what, thr, v FROM temp.dash_sample ORDER BY what, thr, v", -1, &st, NULL) !=
        SQLITE_OK)
        return dash_sql_error(d, err, errlen);
    int rc;
    int cur_what = -1;
    unsigned cur_thr = 0;
    uint64_t r = 0;
    comb_dash_thread *t = NULL;
    cdf_col *col = NULL;
    unsigned j = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int what = sqlite3_column_int(st, 0);
        unsigned thr = (unsigned)sqlite3_column_int(st, 1);
        uint64_t v = (uint64_t)sqlite3_column_int64(st, 2);
        if (what != cur_what || thr != cur_thr || !t) {
            cur_what = what;
            cur_thr = thr;
            r = 0;
            comb_dash_thread key = {.thr = thr};
            t = bsearch(&key, s->threads, s->nthreads, sizeof *s->threads, by_thr);
            col = NULL;
            if (t && what == SAMPLE_LATENCY) {
                col = &cdf[(*ncdf)++];
                col->thr = thr;
                j = 0;
            }
        }
        if (!t)
            continue;
        comb_dash_stats *x = what == SAMPLE_LATENCY ? &t->latency : &t->run_time;
        uint64_t n = x->count;
        r++;
        if (r == 1)
            x->min = v;
        if (r == rank_of(n, 50, 100))
            x->p50 = v;
        if (r == rank_of(n, 90, 100))
            x->p90 = v;
        if (r == rank_of(n, 99, 100))
            x->p99 = v;
        if (r == n)
            x->max = v;
        for (; col && j <= CDF_STEPS && rank_of(n, j, CDF_STEPS) == r; j++)
            col->v[j] = v;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : dash_sql_error(d, err, errlen);
}

/* 1, 2 or 5 times a power of ten, at least x. */
static double nice_ceil(double x)
{
    if (!(x > 0))
        return 1;
    double p = pow(10, floor(log10(x)));
    for (int i = 0; i < 3; i++) {
        double m = p * (i == 0 ? 1 : i == 1 ? 2 : 5);
        if (m >= x * (1 - 1e-12))
            return m;
    }
    return p * 10;
}

static void thread_header(const comb_dash *d, FILE *f, const cdf_col *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char label[160];
        comb_dash_thread_label(d, cols[i].thr, label, sizeof label);
        fputc(',', f);
        comb_csv_field(f, label, strlen(label));
    }
    fputc('\n', f);
}

static int write_hist(comb_dash *d, const cdf_col *cols, size_t ncols, const comb_dash_sched *s, FILE *f, char *err,
                      size_t errlen)
{
    const comb_dash_info *info = &d->info;
    uint64_t p99 = 0, max = 0;
    for (size_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i].latency.p99 > p99)
            p99 = s->threads[i].latency.p99;
        if (s->threads[i].latency.max > max)
            max = s->threads[i].latency.max;
    }
    /* bin width: a round number of µs (ticks without ts_hz) */
    double width_us = nice_ceil(comb_dash_duration_us(info, p99 ? p99 : 1) / HIST_BINS);
    double ticks_per_us = info->ts_hz ? (double)info->ts_hz / 1e6 : 1;
    double width_ticks = width_us * ticks_per_us;
    uint64_t *count = calloc((size_t)(HIST_BINS + 1) * (ncols ? ncols : 1), sizeof *count);
    if (!count) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db,
                           "SELECT thr, min(CAST(v / ?1 AS INTEGER), ?2), count(*) FROM temp.dash_sample"
                           " WHERE what = 0 GROUP BY 1, 2",
                           -1, &st, NULL) != SQLITE_OK) {
        free(count);
        return dash_sql_error(d, err, errlen);
    }
    sqlite3_bind_double(st, 1, width_ticks);
    sqlite3_bind_int(st, 2, HIST_BINS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        unsigned thr = (unsigned)sqlite3_column_int(st, 0);
        int64_t bin = sqlite3_column_int64(st, 1);
        for (size_t c = 0; c < ncols; c++)
            if (cols[c].thr == thr && bin >= 0 && bin <= HIST_BINS)
                count[(size_t)bin * ncols + c] += (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(count);
        return dash_sql_error(d, err, errlen);
    }
    const char *u = info->ts_hz ? "us" : "ticks";
    fprintf(f, "lo_%s,hi_%s", u, u);
    thread_header(d, f, cols, ncols);
    double max_us = comb_dash_duration_us(info, max);
    for (unsigned b = 0; b <= HIST_BINS; b++) {
        double lo = width_us * b, hi = b < HIST_BINS ? width_us * (b + 1) : fmax(max_us, lo + width_us);
        comb_csv_double(f, lo);
        fputc(',', f);
        comb_csv_double(f, hi);
        for (size_t c = 0; c < ncols; c++)
            fprintf(f, ",%" PRIu64, count[(size_t)b * ncols + c]);
        fputc('\n', f);
    }
    free(count);
    return 0;
}

static void write_cdf(const comb_dash *d, const cdf_col *cols, size_t ncols, FILE *f)
{
    const comb_dash_info *info = &d->info;
    fputs("fraction", f);
    thread_header(d, f, cols, ncols);
    for (unsigned j = 0; j <= CDF_STEPS; j++) {
        comb_csv_double(f, (double)j / CDF_STEPS);
        for (size_t c = 0; c < ncols; c++) {
            fputc(',', f);
            comb_csv_double(f, comb_dash_duration_us(info, cols[c].v[j]));
        }
        fputc('\n', f);
    }
}

int comb_dash_sched_run(comb_dash *d, FILE *hist_csv, FILE *cdf_csv, comb_dash_sched *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    pairing p = {.d = d, .s = s};
    cdf_col *cdf = NULL;
    size_t ncdf = 0;
    int rc = -1;
    bool in_txn = false;
    p.slot = calloc(MAX_THREADS, sizeof *p.slot);
    if (!p.slot) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    sqlite3_exec(d->db, "DROP TABLE IF EXISTS temp.dash_sample", NULL, NULL, NULL);
    if (sqlite3_exec(d->db, "CREATE TEMP TABLE dash_sample(what INTEGER, thr INTEGER, v INTEGER); BEGIN", NULL, NULL,
                     NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "INSERT INTO temp.dash_sample VALUES (?, ?, ?)", -1, &p.ins, NULL) != SQLITE_OK) {
        dash_sql_error(d, err, errlen);
        goto out;
    }
    in_txn = true;
    if (pair_events(&p, err, errlen))
        goto out;
    /* the threads in thr order (the pass met them in time order) */
    if (s->nthreads)
        qsort(s->threads, s->nthreads, sizeof *s->threads, by_thr);
    cdf = calloc(s->nthreads ? s->nthreads : 1, sizeof *cdf);
    if (!cdf) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (rank_pass(d, s, cdf, &ncdf, err, errlen))
        goto out;
    if (hist_csv && write_hist(d, cdf, ncdf, s, hist_csv, err, errlen))
        goto out;
    if (cdf_csv)
        write_cdf(d, cdf, ncdf, cdf_csv);
    rc = 0;
out:
    sqlite3_finalize(p.ins);
    if (in_txn)
        sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL); /* only the temporary table was written */
    sqlite3_exec(d->db, "DROP TABLE IF EXISTS temp.dash_sample", NULL, NULL, NULL);
    free(cdf);
    free(p.slot);
    free(p.st);
    free(p.fibers.key);
    free(p.fibers.used);
    if (rc)
        comb_dash_sched_free(s);
    return rc;
}

void comb_dash_sched_free(comb_dash_sched *s)
{
    free(s->threads);
    memset(s, 0, sizeof *s);
}
