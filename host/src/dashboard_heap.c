/*
 * The dashboard's heap data (include/comb/dashboard_data.h): one ordered pass
 * over heap_event through the trace normalisation and comb_heap_usage, reduced
 * to a fixed number of time slices while it streams; the size histogram and
 * the allocation sites are GROUP BY queries.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "comb/csv_text.h"
#include "comb/heap_session.h"
#include "comb/size_string.h"
#include "dashboard_internal.h"

void comb_dash_pool_label(const comb_dash_heap *h, unsigned pool, char *buf, size_t cap)
{
    uint32_t b = h->usage.pools[pool].block;
    const char *unit = "B";
    uint32_t v = b;
    if (b >= 1048576 && b % 1048576 == 0) {
        v = b / 1048576;
        unit = "MiB";
    } else if (b >= 1024 && b % 1024 == 0) {
        v = b / 1024;
        unit = "KiB";
    }
    snprintf(buf, cap, "%s%" PRIu32 " %s", h->has_layout ? "" : "\xe2\x89\xa4 ", v, unit); /* "≤ " */
}

/* ---- the streamed pass ----------------------------------------------------------------- */

/* The state of the slice being filled: the moment the pools held the most. */
typedef struct slicer {
    FILE *f;
    unsigned n;          /* slices */
    double x0, width;    /* x of slice 0, x units per slice */
    unsigned cur;        /* slice being filled */
    bool started;
    uint64_t best_total, best_requested;
    uint64_t *best;      /* per pool: blocks × block at that moment */
} slicer;

static void slice_take(slicer *s, const comb_heap_usage *u)
{
    s->best_total = u->pool_bytes;
    s->best_requested = u->requested;
    for (unsigned p = 0; p < u->npools; p++)
        s->best[p] = (uint64_t)u->pools[p].in_use * u->pools[p].block;
}

static void slice_write(slicer *s, unsigned k, const comb_heap_usage *u)
{
    comb_csv_double(s->f, s->x0 + s->width * k);
    fprintf(s->f, ",%" PRIu64, s->best_requested);
    for (unsigned p = 0; p < u->npools; p++)
        fprintf(s->f, ",%" PRIu64, s->best[p]);
    fputc('\n', s->f);
}

/* Before an operation at x: close the slices before x's. */
static void slice_advance(slicer *s, double x, const comb_heap_usage *u)
{
    double pos = (x - s->x0) / s->width;
    unsigned k = pos <= 0 ? 0 : pos >= s->n ? s->n - 1 : (unsigned)pos;
    if (!s->started) {
        s->started = true;
        s->cur = 0;
        slice_take(s, u);
    }
    if (k <= s->cur) /* timestamps of nested events may step back a little: stay */
        return;
    slice_write(s, s->cur, u);
    slice_take(s, u); /* the slices in between, and the start of k, hold the state now */
    for (unsigned j = s->cur + 1; j < k; j++)
        slice_write(s, j, u);
    s->cur = k;
}

static void slice_after_op(slicer *s, const comb_heap_usage *u)
{
    if (u->pool_bytes > s->best_total || (u->pool_bytes == s->best_total && u->requested > s->best_requested))
        slice_take(s, u);
}

static void slice_finish(slicer *s, const comb_heap_usage *u)
{
    if (!s->started)
        return;
    slice_write(s, s->cur, u);
    slice_take(s, u);
    for (unsigned j = s->cur + 1; j < s->n; j++)
        slice_write(s, j, u);
}

static int top_sites(comb_dash *d, comb_dash_heap *h, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT caller, count(*), total(size) FROM heap_event"
                     " WHERE session = ?1 AND kind IN ('alloc', 'realloc') AND caller IS NOT NULL"
                     " GROUP BY caller ORDER BY 2 DESC, 1 LIMIT ?2",
                     &st, err, errlen))
        return -1;
    sqlite3_bind_int(st, 2, COMB_DASH_TOP_SITES);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && h->nsites < COMB_DASH_TOP_SITES)
        h->sites[h->nsites++] = (comb_dash_site){.caller = (uint32_t)sqlite3_column_int64(st, 0),
                                                 .allocs = (uint64_t)sqlite3_column_int64(st, 1),
                                                 .bytes = (uint64_t)sqlite3_column_double(st, 2)};
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : dash_sql_error(d, err, errlen);
}

int comb_dash_heap_run(comb_dash *d, const comb_heap_layout *layout, unsigned buckets, FILE *usage_csv,
                       comb_dash_heap *h, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    const comb_dash_info *info = &d->info;
    comb_replay_policy policy = {.realloc_in_place = !info->drone_import};
    int64_t v;
    bool null;
    comb_pool classes[33];
    const comb_pool *pools;
    unsigned npools;
    if (layout) {
        h->has_layout = true;
        snprintf(h->layout_name, sizeof h->layout_name, "%s", layout->name);
        h->layout_bytes = comb_layout_bytes(layout);
        pools = layout->pools;
        npools = layout->npools;
    } else {
        if (dash_query_i64(d, "SELECT max(size) FROM heap_event WHERE session = ?1", &v, &null, err, errlen))
            return -1;
        npools = comb_usage_size_classes(null || v < 0 ? 0 : (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v), classes);
        pools = classes;
    }
    if (comb_heap_usage_init(&h->usage, pools, npools, &policy)) {
        snprintf(err, errlen, "out of memory (or too many pools: %u)", npools);
        return -1;
    }
    /* x axis: session time when every heap event has a timestamp, else the event number */
    if (dash_query_i64(d, "SELECT count(ts) = count(*) AND count(*) > 0 FROM heap_event WHERE session = ?1", &v, NULL,
                       err, errlen))
        goto fail;
    h->timed = v != 0;

    comb_heap_trace t;
    comb_heap_trace_init(&t);
    comb_heap_builder *b = NULL;
    sqlite3_stmt *st = NULL;
    slicer s = {.f = usage_csv, .n = buckets ? buckets : 1};
    s.best = calloc(npools ? npools : 1, sizeof *s.best);
    if (!s.best || comb_heap_trace_keep(&t, h->timed, false) || !(b = comb_heap_builder_new(&t))) {
        snprintf(err, errlen, "out of memory");
        goto fail_stream;
    }
    double x_end;
    if (h->timed) {
        s.x0 = comb_dash_time(info, info->t0);
        x_end = comb_dash_time(info, info->t_end);
    } else { /* event numbers count from 1, as comb heap report's do */
        s.x0 = 1;
        x_end = (double)info->heap_events + 1;
    }
    s.width = (x_end - s.x0) / s.n;
    if (!(s.width > 0))
        s.width = 1.0 / s.n;
    if (usage_csv) {
        fputs(h->timed ? (info->ts_hz ? "t_s" : "t_ticks") : "event", usage_csv);
        fputs(",requested", usage_csv);
        for (unsigned p = 0; p < npools; p++) {
            char label[32];
            comb_dash_pool_label(h, p, label, sizeof label);
            fputc(',', usage_csv);
            comb_csv_field(usage_csv, label, strlen(label));
        }
        fputc('\n', usage_csv);
    }
    if (dash_prepare(d,
                     "SELECT " COMB_HEAP_SESSION_COLUMNS " FROM heap_event WHERE session = ?1 ORDER BY offset, seq",
                     &st, err, errlen))
        goto fail_stream;
    int rc;
    uint64_t row = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        comb_heap_raw r;
        if (comb_heap_session_row(st, d->path, info->id, &r, err, errlen))
            goto fail_stream;
        row++;
        double x = h->timed ? comb_dash_time(info, (int64_t)r.ts) : (double)row;
        /* the builder only appends to t.ops (one or two per event) and keeps
         * its own block table, so the ops are consumed and dropped here */
        t.n = 0;
        if (comb_heap_builder_add(b, &r)) {
            snprintf(err, errlen, "out of memory");
            goto fail_stream;
        }
        for (size_t k = 0; k < t.n; k++) {
            if (usage_csv)
                slice_advance(&s, x, &h->usage);
            uint64_t before_req = h->usage.peak_requested, before_pool = h->usage.peak_pool_bytes;
            bool failed_before = h->usage.failed;
            if (comb_heap_usage_step(&h->usage, &t.ops[k], t.block_size)) {
                snprintf(err, errlen, "out of memory");
                goto fail_stream;
            }
            if (h->usage.peak_requested != before_req)
                h->peak_requested_t = x;
            if (h->usage.peak_pool_bytes != before_pool)
                h->peak_pool_t = x;
            if (h->usage.failed && !failed_before)
                h->first_fail_t = x;
            if (usage_csv)
                slice_after_op(&s, &h->usage);
        }
    }
    if (rc != SQLITE_DONE) {
        dash_sql_error(d, err, errlen);
        goto fail_stream;
    }
    if (usage_csv)
        slice_finish(&s, &h->usage);
    h->anomalies = t.anomalies;
    sqlite3_finalize(st);
    comb_heap_builder_free(b);
    comb_heap_trace_free(&t);
    free(s.best);
    return top_sites(d, h, err, errlen) ? (comb_dash_heap_free(h), -1) : 0;

fail_stream:
    sqlite3_finalize(st);
    comb_heap_builder_free(b);
    comb_heap_trace_free(&t);
    free(s.best);
fail:
    comb_dash_heap_free(h);
    return -1;
}

void comb_dash_heap_free(comb_dash_heap *h)
{
    comb_heap_usage_free(&h->usage);
}

int comb_dash_heap_pools_csv(const comb_dash_heap *h, FILE *f)
{
    fputs("pool,block,capacity,peak,served,borrowed,in_use_at_end\n", f);
    for (unsigned p = 0; p < h->usage.npools; p++) {
        const comb_usage_pool *u = &h->usage.pools[p];
        char label[32];
        comb_dash_pool_label(h, p, label, sizeof label);
        comb_csv_field(f, label, strlen(label));
        fprintf(f, ",%" PRIu32 ",", u->block);
        if (u->capacity != COMB_REPLAY_UNBOUNDED)
            fprintf(f, "%" PRIu32, u->capacity);
        fprintf(f, ",%" PRIu32 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32 "\n", u->peak, u->served, u->borrowed, u->in_use);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- allocation sizes ------------------------------------------------------------------- */

#define EXACT_SIZES_MAX 48

/* Bin of a size in power-of-two bins (2^(k-1), 2^k]; bin 0 holds 0 and 1. */
static unsigned size_bin(uint64_t s)
{
    unsigned k = 0;
    while (k < 32 && (1ull << k) < s)
        k++;
    return k;
}

int comb_dash_alloc_sizes_csv(comb_dash *d, FILE *f, uint64_t *rows, char *err, size_t errlen)
{
    *rows = 0;
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT size, count(*) FROM heap_event"
                     " WHERE session = ?1 AND kind IN ('alloc', 'realloc', 'resize', 'fail') AND size IS NOT NULL"
                     " GROUP BY size ORDER BY size",
                     &st, err, errlen))
        return -1;
    /* one row per size while there are few, else the groups go into power-of-two bins */
    struct {
        uint64_t size, n;
    } exact[EXACT_SIZES_MAX];
    size_t nexact = 0;
    uint64_t bins[33] = {0};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        uint64_t size = (uint64_t)sqlite3_column_int64(st, 0), n = (uint64_t)sqlite3_column_int64(st, 1);
        if (nexact < EXACT_SIZES_MAX)
            exact[nexact].size = size, exact[nexact].n = n;
        nexact++;
        bins[size_bin(size)] += n;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dash_sql_error(d, err, errlen);
    fputs("size_lo,size_hi,label,requests\n", f);
    if (nexact <= EXACT_SIZES_MAX) {
        *rows = nexact;
        for (size_t i = 0; i < nexact; i++)
            fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", exact[i].size, exact[i].size,
                    exact[i].size, exact[i].n);
        return 0;
    }
    for (unsigned k = 0; k < 33; k++) {
        if (!bins[k])
            continue;
        (*rows)++;
        uint64_t lo = k ? (1ull << (k - 1)) + 1 : 0, hi = 1ull << k;
        if (lo == hi)
            fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", lo, hi, hi, bins[k]);
        else
            fprintf(f, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 "-%" PRIu64 ",%" PRIu64 "\n", lo, hi, lo, hi, bins[k]);
    }
    return 0;
}
