/*
 * The dashboard's timeline (comb_dash_timeline_csv, include/comb/dashboard_data.h):
 * the scheduler events of one window, in time order, paired into thread runs
 * and fiber runs by a small state machine; what was already running when the
 * window starts comes from the last enter/exit of each thread and the last
 * event of each fiber before it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "comb/csv_text.h"
#include "dashboard_internal.h"

enum { RUN = 0, FIBER = 1, WAKEUP = 2 };

typedef struct span {
    int64_t start, end;
    uint32_t key;   /* thread number, or fiber address */
    uint16_t thr;   /* fibers: the thread they ran in */
    uint8_t kind;
} span;

typedef struct opened {
    int64_t start;
    uint32_t key;
    uint16_t thr;
    uint8_t kind;
} opened;

typedef struct timeline {
    span *v;
    size_t n, cap;
    bool truncated;
    opened *open; /* runs and fiber runs started and not yet ended */
    size_t nopen, capopen;
} timeline;

static int push_span(timeline *t, span x)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        span *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return -1;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = x;
    return 0;
}

/* The open run of a thread (kind RUN) or fiber (FIBER), or NULL. A linear
 * search: only the runs open at one moment are here (bounded by the nesting). */
static opened *find_open(timeline *t, uint8_t kind, uint32_t key)
{
    for (size_t i = 0; i < t->nopen; i++)
        if (t->open[i].kind == kind && t->open[i].key == key)
            return &t->open[i];
    return NULL;
}

/* Starts a run; one already open for the key lost its end: it ends here. */
static int open_run(timeline *t, uint8_t kind, uint32_t key, uint16_t thr, int64_t ts)
{
    opened *o = find_open(t, kind, key);
    if (o) {
        if (push_span(t, (span){.start = o->start, .end = ts, .key = key, .thr = o->thr, .kind = kind}))
            return -1;
        o->start = ts;
        o->thr = thr;
        return 0;
    }
    if (t->nopen == t->capopen) {
        size_t cap = t->capopen ? t->capopen * 2 : 32;
        opened *v = realloc(t->open, cap * sizeof *v);
        if (!v)
            return -1;
        t->open = v;
        t->capopen = cap;
    }
    t->open[t->nopen++] = (opened){.start = ts, .key = key, .thr = thr, .kind = kind};
    return 0;
}

static int close_run(timeline *t, uint8_t kind, uint32_t key, int64_t ts)
{
    opened *o = find_open(t, kind, key);
    if (!o)
        return 0; /* its start is not in the window (nor open before it): nothing to draw */
    span x = {.start = o->start, .end = ts, .key = key, .thr = o->thr, .kind = kind};
    *o = t->open[--t->nopen];
    return push_span(t, x);
}

/* What was running at `from`: threads whose last enter/exit before it is an
 * enter, fibers whose last event before it is a resume (SQLite takes the
 * other columns of a max() query from the row with the maximum). */
static int open_before(comb_dash *d, timeline *t, int64_t from, char *err, size_t errlen)
{
    static const char *const sql[2] = {
        "SELECT thr, thr, kind, max(ts) FROM sched_event WHERE session = ?1 AND kind IN ('enter', 'exit')"
        " AND ts < ?2 GROUP BY thr",
        "SELECT fiber, thr, kind, max(ts) FROM sched_event WHERE session = ?1 AND fiber IS NOT NULL"
        " AND kind IN ('fiber_resumed', 'fiber_yielded', 'fiber_completed') AND ts < ?2 GROUP BY fiber"};
    for (int k = 0; k < 2; k++) {
        sqlite3_stmt *st;
        if (dash_prepare(d, sql[k], &st, err, errlen))
            return -1;
        sqlite3_bind_int64(st, 2, from);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *kind = (const char *)sqlite3_column_text(st, 2);
            if (kind && (!strcmp(kind, "enter") || !strcmp(kind, "fiber_resumed")) &&
                open_run(t, k ? FIBER : RUN, (uint32_t)sqlite3_column_int64(st, 0),
                         (uint16_t)sqlite3_column_int(st, 1), from)) {
                sqlite3_finalize(st);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return dash_sql_error(d, err, errlen);
    }
    return 0;
}

/* Reads the window's events until the rows reach COMB_DASH_TIMELINE_MAX_ROWS:
 * then the window is cut at the next event's time (*to moves there), so
 * what is drawn is complete up to the cut rather than silently thinned. */
static int window_events(comb_dash *d, timeline *t, int64_t from, int64_t *to, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT kind, ts, thr, fiber FROM sched_event WHERE session = ?1 AND ts BETWEEN ?2 AND ?3"
                     " ORDER BY ts, offset",
                     &st, err, errlen))
        return -1;
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, *to);
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        int64_t ts = sqlite3_column_int64(st, 1);
        if (t->n >= COMB_DASH_TIMELINE_MAX_ROWS) { /* each event adds at most one row */
            t->truncated = true;
            *to = ts;
            rc = SQLITE_DONE;
            break;
        }
        uint16_t thr = (uint16_t)sqlite3_column_int(st, 2);
        uint32_t fiber = (uint32_t)sqlite3_column_int64(st, 3);
        if (!kind)
            continue;
        if (!strcmp(kind, "wakeup"))
            bad = push_span(t, (span){.start = ts, .end = ts, .key = thr, .thr = thr, .kind = WAKEUP});
        else if (!strcmp(kind, "enter"))
            bad = open_run(t, RUN, thr, thr, ts);
        else if (!strcmp(kind, "exit"))
            bad = close_run(t, RUN, thr, ts);
        else if (!strcmp(kind, "fiber_resumed"))
            bad = open_run(t, FIBER, fiber, thr, ts);
        else if (!strcmp(kind, "fiber_yielded") || !strcmp(kind, "fiber_completed"))
            bad = close_run(t, FIBER, fiber, ts);
    }
    sqlite3_finalize(st);
    if (bad) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (rc != SQLITE_DONE)
        return dash_sql_error(d, err, errlen);
    /* still running at the window's end (or the cut) */
    while (t->nopen)
        if (close_run(t, t->open[t->nopen - 1].kind, t->open[t->nopen - 1].key, *to)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    return 0;
}

/* Rows: threads first (ascending), then fibers by thread and address. */
typedef struct row_key {
    uint8_t fiber;
    uint16_t thr;
    uint32_t key;
} row_key;

static int row_cmp(const void *a, const void *b)
{
    const row_key *x = a, *y = b;
    if (x->fiber != y->fiber)
        return x->fiber < y->fiber ? -1 : 1;
    if (x->thr != y->thr)
        return x->thr < y->thr ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

/* Runs, then fiber runs, then wakeups; each by start, then row. */
static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->thr != y->thr)
        return x->thr < y->thr ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

static int write_rows(comb_dash *d, const timeline *t, FILE *f, comb_dash_window *w, char *err, size_t errlen)
{
    const comb_dash_info *info = &d->info;
    row_key *rows = malloc((t->n ? t->n : 1) * sizeof *rows);
    if (!rows) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t nrows = 0;
    for (size_t i = 0; i < t->n; i++)
        rows[nrows++] = (row_key){.fiber = t->v[i].kind == FIBER, .thr = t->v[i].thr, .key = t->v[i].key};
    qsort(rows, nrows, sizeof *rows, row_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nrows; i++)
        if (!u || row_cmp(&rows[u - 1], &rows[i]))
            rows[u++] = rows[i];
    nrows = u;
    fprintf(f, "row,label,start_%s,end_%s,kind\n", comb_dash_time_unit(info), comb_dash_time_unit(info));
    for (size_t i = 0; i < t->n; i++) {
        const span *x = &t->v[i];
        row_key k = {.fiber = x->kind == FIBER, .thr = x->thr, .key = x->key};
        const row_key *r = bsearch(&k, rows, nrows, sizeof *rows, row_cmp);
        char label[300], name[160];
        if (k.fiber) {
            comb_dash_fiber_label(d, x->key, name, sizeof name);
            snprintf(label, sizeof label, "%s (thread %u)", name, (unsigned)x->thr);
        } else {
            comb_dash_thread_label(d, x->key, label, sizeof label);
        }
        fprintf(f, "%zu,", (size_t)(r - rows));
        comb_csv_field(f, label, strlen(label));
        fputc(',', f);
        comb_csv_double(f, comb_dash_time(info, x->start));
        fputc(',', f);
        comb_csv_double(f, comb_dash_time(info, x->end));
        fprintf(f, ",%s\n", x->kind == RUN ? "run" : x->kind == FIBER ? "fiber" : "wakeup");
        if (x->kind == RUN)
            w->runs++;
        else if (x->kind == FIBER)
            w->fiber_runs++;
        else
            w->wakeups++;
    }
    free(rows);
    return 0;
}

int comb_dash_timeline_csv(comb_dash *d, const comb_dash_sched *sched, bool has_from, int64_t from, bool has_to,
                           int64_t to, FILE *f, comb_dash_window *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    int64_t v;
    bool null;
    if (!has_from) {
        if (sched) {
            from = sched->first_ts;
        } else {
            if (dash_query_i64(d, "SELECT min(ts) FROM sched_event WHERE session = ?1", &v, &null, err, errlen))
                return -1;
            from = null ? d->info.t0 : v;
        }
    }
    if (!has_to) {
        if (sched) {
            to = sched->default_to;
        } else {
            sqlite3_stmt *st;
            if (dash_prepare(d,
                             "SELECT ts FROM sched_event WHERE session = ?1 AND kind = 'exit' AND ts >= ?2"
                             " ORDER BY ts LIMIT 1 OFFSET ?3",
                             &st, err, errlen))
                return -1;
            sqlite3_bind_int64(st, 2, from);
            sqlite3_bind_int(st, 3, COMB_DASH_TIMELINE_DEFAULT_RUNS - 1);
            int rc = sqlite3_step(st);
            to = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : d->info.t_end;
            sqlite3_finalize(st);
            if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return dash_sql_error(d, err, errlen);
        }
        if (to < from)
            to = from;
    }
    if (to < from) {
        snprintf(err, errlen, "the timeline window ends before it starts");
        return -1;
    }
    w->from = from;
    w->to = w->asked_to = to;
    timeline t = {0};
    int rc = -1;
    if ((has_from && open_before(d, &t, from, err, errlen)) || window_events(d, &t, from, &w->to, err, errlen))
        goto out;
    if (t.n)
        qsort(t.v, t.n, sizeof *t.v, span_cmp);
    w->truncated = t.truncated;
    rc = write_rows(d, &t, f, w, err, errlen);
out:
    free(t.v);
    free(t.open);
    return rc;
}

void comb_dash_window_note(const comb_dash_info *i, const comb_dash_window *w, char *buf, size_t cap)
{
    if (!w->truncated) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    const char *u = comb_dash_time_unit(i);
    snprintf(buf, cap,
             "the window from %.6f to %.6f %s holds more than %d runs, fiber runs and wakeups: drawn only from %.6f "
             "to %.6f %s; narrow it with --from/--to",
             comb_dash_time(i, w->from), comb_dash_time(i, w->asked_to), u, COMB_DASH_TIMELINE_MAX_ROWS,
             comb_dash_time(i, w->from), comb_dash_time(i, w->to), u);
}
