/* Opening a session for the dashboard and the exports, and its time base
 * (include/comb/dashboard_data.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "comb/dashboard_data.h"
#include "comb/session_pick.h"
#include "comb/session_store.h"
#include "dashboard_internal.h"

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int dash_sql_error(comb_dash *d, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: database error: %s", d->path, sqlite3_errmsg(d->db));
    return -1;
}

int dash_prepare(comb_dash *d, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return dash_sql_error(d, err, errlen);
    }
    sqlite3_bind_int64(*st, 1, d->info.id);
    return 0;
}

int dash_query_i64(comb_dash *d, const char *sql, int64_t *v, bool *is_null, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (dash_prepare(d, sql, &st, err, errlen))
        return -1;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return dash_sql_error(d, err, errlen);
    }
    if (is_null)
        *is_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
    *v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int load_info(comb_dash *d, int64_t id, char *err, size_t errlen)
{
    comb_dash_info *i = &d->info;
    sqlite3_stmt *st = NULL;
    comb_session_range range;
    if (comb_session_pick(d->db, d->path, id,
                          "SELECT id, source, started_at, ended_at, build_id, end_reason, settings, core_hz, ts_hz,"
                          " start_ts FROM session WHERE id = ?",
                          &st, &range, err, errlen))
        return -1;
    i->first_id = range.first;
    i->last_id = range.last;
    i->id = sqlite3_column_int64(st, 0);
    copy_text(st, 1, i->source, sizeof i->source);
    copy_text(st, 2, i->started_at, sizeof i->started_at);
    copy_text(st, 3, i->ended_at, sizeof i->ended_at);
    copy_text(st, 4, i->build_id, sizeof i->build_id);
    copy_text(st, 5, i->end_reason, sizeof i->end_reason);
    copy_text(st, 6, i->settings, sizeof i->settings);
    i->core_hz = (uint64_t)sqlite3_column_int64(st, 7);
    i->ts_hz = (uint64_t)sqlite3_column_int64(st, 8);
    i->has_start_ts = sqlite3_column_type(st, 9) != SQLITE_NULL;
    i->start_ts = (uint64_t)sqlite3_column_int64(st, 9);
    sqlite3_finalize(st);
    /* the same test `comb heap` makes: Drone's allocator always moves on grow/shrink */
    i->drone_import = strstr(i->settings, "\"import\":\"drone-heaptrace\"") != NULL;

    int64_t v;
    if (dash_query_i64(d, "SELECT count(*) FROM heap_event WHERE session = ?", &v, NULL, err, errlen))
        return -1;
    i->heap_events = (uint64_t)v;
    if (dash_query_i64(d, "SELECT count(*) FROM sched_event WHERE session = ?", &v, NULL, err, errlen))
        return -1;
    i->sched_events = (uint64_t)v;
    if (dash_query_i64(d, "SELECT count(*) FROM log_line WHERE session = ?", &v, NULL, err, errlen))
        return -1;
    i->log_lines = (uint64_t)v;

    /* the time span of the events: one pass over each table's timestamps */
    if (sqlite3_prepare_v2(d->db,
                           "SELECT min(lo), max(hi) FROM ("
                           " SELECT min(ts) AS lo, max(ts) AS hi FROM heap_event WHERE session = ?1"
                           " UNION ALL SELECT min(ts), max(ts) FROM sched_event WHERE session = ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return dash_sql_error(d, err, errlen);
    sqlite3_bind_int64(st, 1, i->id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return dash_sql_error(d, err, errlen);
    }
    i->has_ts = sqlite3_column_type(st, 0) != SQLITE_NULL;
    int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    /* time 0: the firmware's session_start (the first extended timestamp, so
     * its raw 32-bit value is its 64-bit one), else the first event */
    if (i->has_start_ts && (!i->has_ts || (int64_t)i->start_ts <= lo))
        i->t0 = (int64_t)i->start_ts;
    else
        i->t0 = i->has_ts ? lo : 0;
    i->t_end = i->has_ts ? hi : i->t0;
    return 0;
}

int comb_dash_open(const char *db_path, int64_t id, comb_dash **out, char *err, size_t errlen)
{
    *out = NULL;
    comb_dash *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s", db_path);
    if (comb_session_db_open(db_path, &d->store, err, errlen)) {
        free(d);
        return -1;
    }
    d->db = comb_store_handle(d->store);
    if (load_info(d, id, err, errlen)) {
        comb_dash_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void comb_dash_close(comb_dash *d)
{
    if (!d)
        return;
    comb_store_close(d->store);
    free(d);
}

const comb_dash_info *comb_dash_info_of(const comb_dash *d)
{
    return &d->info;
}

void comb_dash_set_names(comb_dash *d, const comb_dash_names *names)
{
    d->names = names;
}

void comb_dash_thread_label(const comb_dash *d, unsigned thr, char *buf, size_t cap)
{
    char name[128];
    const char *n = d->names && d->names->thread ? d->names->thread(d->names->ctx, (uint16_t)thr, name, sizeof name)
                                                  : NULL;
    if (thr == 255 && !n)
        snprintf(buf, cap, "thread mode");
    else if (n)
        snprintf(buf, cap, "thread %u (%s)", thr, n);
    else
        snprintf(buf, cap, "thread %u", thr);
}

void comb_dash_fiber_label(const comb_dash *d, uint32_t addr, char *buf, size_t cap)
{
    char name[128];
    const char *n = d->names && d->names->fiber ? d->names->fiber(d->names->ctx, addr, name, sizeof name) : NULL;
    if (n)
        snprintf(buf, cap, "fiber 0x%08lx %s", (unsigned long)addr, n);
    else
        snprintf(buf, cap, "fiber 0x%08lx", (unsigned long)addr);
}

struct sqlite3 *comb_dash_db(comb_dash *d)
{
    return d->db;
}

double comb_dash_time(const comb_dash_info *i, int64_t ts)
{
    double ticks = (double)(ts - i->t0);
    return i->ts_hz ? ticks / (double)i->ts_hz : ticks;
}

const char *comb_dash_time_unit(const comb_dash_info *i)
{
    return i->ts_hz ? "s" : "ticks";
}

int64_t comb_dash_tick(const comb_dash_info *i, double t)
{
    double ticks = i->ts_hz ? t * (double)i->ts_hz : t;
    return i->t0 + (int64_t)floor(ticks + 1e-6);
}

double comb_dash_duration_us(const comb_dash_info *i, uint64_t ticks)
{
    return i->ts_hz ? (double)ticks * 1e6 / (double)i->ts_hz : (double)ticks;
}

int comb_dash_parse_time(const comb_dash_info *i, const char *s, int64_t *ticks)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0 || v > 1e12)
        return -1;
    double scale;
    if (!i->ts_hz) {
        if (*end && strcmp(end, "t"))
            return -1;
        scale = 1;
    } else if (!*end || !strcmp(end, "s")) {
        scale = 1;
    } else if (!strcmp(end, "ms")) {
        scale = 1e-3;
    } else if (!strcmp(end, "us")) {
        scale = 1e-6;
    } else if (!strcmp(end, "ns")) {
        scale = 1e-9;
    } else {
        return -1;
    }
    *ticks = comb_dash_tick(i, v * scale);
    return 0;
}
