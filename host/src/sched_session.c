/* A session's scheduler report from the database (include/comb/sched_session.h). */
#include "comb/sched_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "comb/sched_outliers.h"
#include "comb/session_pick.h"
#include "comb/session_store.h"

/* A place where the capture may have lost events, by stream offset. */
typedef struct marker {
    uint64_t offset;
} marker;

/* sched_event.kind without a string compare per row (10 million rows in the
 * bench); -1 for anything else. */
static int kind_of(const unsigned char *t, int n)
{
    if (!t)
        return -1;
    int k = -1;
    switch (n) {
    case 6: k = COMB_SCHED_WAKEUP; break;
    case 5: k = COMB_SCHED_ENTER; break;
    case 4: k = COMB_SCHED_EXIT; break;
    case 11: k = COMB_SCHED_FIBER_ADDED; break;
    case 15: k = COMB_SCHED_FIBER_COMPLETED; break;
    case 13: k = t[6] == 'r' ? COMB_SCHED_FIBER_RESUMED : COMB_SCHED_FIBER_YIELDED; break;
    default: return -1;
    }
    return memcmp(t, comb_sched_kind_str((unsigned)k), (size_t)n) ? -1 : k;
}

static int64_t col_int(sqlite3_stmt *st, int col, int64_t dflt)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, col);
}

int comb_sched_loss_query(sqlite3 *db, int64_t session, sqlite3_stmt **st)
{
    /* `dropped` events: in other_event from schema version 4 on (trace_event is
     * then a view over every event table, and filtering it by name would
     * rebuild the name of every scheduler row); in trace_event before. */
    static const char sql[] =
        "SELECT offset, 1, coalesce(json_extract(fields, '$.packets'), 0) FROM %s"
        "  WHERE session = ?1 AND name = 'dropped'"
        " UNION ALL SELECT offset, 2, 0 FROM decode_error WHERE session = ?1"
        "  AND (layer = 'itm' OR (layer = 'trace' AND (port = 30 OR kind = 'truncated')))"
        " ORDER BY 1";
    *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'other_event'", -1, st,
                           NULL) != SQLITE_OK)
        return -1;
    bool other = sqlite3_step(*st) == SQLITE_ROW;
    sqlite3_finalize(*st);
    *st = NULL;
    char query[sizeof sql + 16];
    snprintf(query, sizeof query, sql, other ? "other_event" : "trace_event");
    if (sqlite3_prepare_v2(db, query, -1, st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(*st, 1, session);
    return 0;
}

/* The loss markers of the session, ascending by offset, and their counts. */
static int load_markers(sqlite3 *db, int64_t id, marker **out, size_t *n, comb_sched_problems *p)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (comb_sched_loss_query(db, id, &st))
        return -1;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            marker *v = realloc(*out, cap * sizeof *v);
            if (!v) {
                sqlite3_finalize(st);
                return -2;
            }
            *out = v;
        }
        (*out)[(*n)++] = (marker){(uint64_t)sqlite3_column_int64(st, 0)};
        if (sqlite3_column_int(st, 1) == 1) {
            p->dropped_events++;
            p->dropped_packets += (uint64_t)sqlite3_column_int64(st, 2);
        } else {
            p->decode_errors++;
        }
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Pass 1, in stream order (seq follows the offset): the offsets of the
 * events whose ts is far out of line with their neighbours, ascending. */
static int find_outliers(sqlite3 *db, int64_t id, uint64_t ts_hz, uint64_t **out, size_t *n, bool *oom)
{
    *out = NULL;
    *n = 0;
    comb_sched_outliers *o = comb_sched_outliers_new(ts_hz ? ts_hz / 1000u : 1000u); /* 1 ms */
    sqlite3_stmt *st = NULL;
    if (!o) {
        *oom = true;
        return -1;
    }
    if (sqlite3_prepare_v2(db, "SELECT ts, offset FROM sched_event WHERE session = ? AND ts IS NOT NULL ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        comb_sched_outliers_free(o);
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (comb_sched_outliers_feed(o, (uint64_t)sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1))) {
            *oom = true;
            break;
        }
    sqlite3_finalize(st);
    if (*oom || step != SQLITE_DONE) {
        comb_sched_outliers_free(o);
        return -1;
    }
    if (comb_sched_outliers_finish(o, out, n)) {
        *oom = true;
        return -1;
    }
    return 0;
}

static bool is_outlier(const uint64_t *v, size_t n, uint64_t offset)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* binary search: log2(n) steps */
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == offset;
}

int comb_sched_session_report(const char *db_path, int64_t id, comb_sched_session *info, comb_sched_result *out,
                              char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    memset(out, 0, sizeof *out);
    comb_store *store = NULL;
    if (comb_session_db_open(db_path, &store, err, errlen))
        return -1;
    sqlite3 *db = comb_store_handle(store);
    sqlite3_stmt *st = NULL;
    comb_sched_model *m = NULL;
    marker *mk = NULL;
    size_t nmk = 0;
    uint64_t *bad = NULL;
    size_t nbad = 0;
    comb_sched_problems loader = {0};
    int rc = -1;
    if (comb_session_pick(db, db_path, id, "SELECT core_hz, ts_hz, overflows, id FROM session WHERE id = ?", &st, NULL,
                          err, errlen))
        goto done;
    int step;
    info->id = id = sqlite3_column_int64(st, 3);
    int64_t v = col_int(st, 0, 0);
    info->core_hz = v > 0 ? (uint64_t)v : 0;
    v = col_int(st, 1, 0);
    info->ts_hz = v > 0 ? (uint64_t)v : 0;
    v = col_int(st, 2, 0);
    loader.overflows = v > 0 ? (uint64_t)v : 0;
    sqlite3_finalize(st);
    st = NULL;

    int mrc = load_markers(db, id, &mk, &nmk, &loader);
    if (mrc == -2) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        goto done;
    }
    if (mrc)
        goto sqlerr;
    bool oom = false;
    if (find_outliers(db, id, info->ts_hz, &bad, &nbad, &oom)) {
        if (!oom)
            goto sqlerr;
        snprintf(err, errlen, "%s: out of memory", db_path);
        goto done;
    }
    m = comb_sched_model_new();
    if (!m) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT kind, ts, thr, from_thr, fiber, offset FROM sched_event WHERE session = ?"
                           " ORDER BY ts, offset",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int64(st, 1, id);
    size_t k = 0;
    bool fed = false;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        info->rows++;
        int kind = kind_of(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0));
        int64_t thr = sqlite3_column_int64(st, 2);
        if (kind < 0 || sqlite3_column_type(st, 1) == SQLITE_NULL || thr < 0 || thr > 0xFFFF) {
            loader.skipped_rows++;
            continue;
        }
        uint64_t offset = (uint64_t)sqlite3_column_int64(st, 5);
        if (nbad && is_outlier(bad, nbad, offset)) {
            loader.ts_outliers++; /* left out of the span and the runs */
            continue;
        }
        /* Loss markers between the previous event and this one (by stream
         * offset): one loss point per gap, none before the first event (there
         * is nothing to discard yet) and none after the last. */
        bool lost = false;
        while (k < nmk && mk[k].offset < offset) { /* each marker once over the whole pass */
            lost = true;
            k++;
        }
        if (lost && fed)
            comb_sched_model_loss(m);
        comb_sched_event e = {.ts = (uint64_t)sqlite3_column_int64(st, 1),
                              .fiber = (uint32_t)col_int(st, 4, 0),
                              .thr = (uint16_t)thr,
                              .kind = (uint8_t)kind,
                              .from_thr = (uint8_t)col_int(st, 3, 255)};
        if (comb_sched_model_event(m, &e)) {
            snprintf(err, errlen, "%s: out of memory", db_path);
            goto done;
        }
        fed = true;
    }
    if (step != SQLITE_DONE)
        goto sqlerr;
    sqlite3_finalize(st);
    st = NULL;
    if (info->rows == 0) {
        snprintf(err, errlen,
                 "%s: session %lld has no scheduler events (no thread or fiber events on port 30: is the firmware's "
                 "scheduler tracing on?)",
                 db_path, (long long)id);
        goto done;
    }
    int frc = comb_sched_model_finish(m, out);
    m = NULL;
    if (frc) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        goto done;
    }
    out->problems.dropped_events = loader.dropped_events;
    out->problems.dropped_packets = loader.dropped_packets;
    out->problems.decode_errors = loader.decode_errors;
    out->problems.overflows = loader.overflows;
    out->problems.skipped_rows = loader.skipped_rows;
    out->problems.ts_outliers = loader.ts_outliers;
    rc = 0;
    goto done;
sqlerr:
    snprintf(err, errlen, "%s: database error: %s", db_path, sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    comb_sched_model_free(m);
    free(mk);
    free(bad);
    comb_store_close(store);
    return rc;
}
