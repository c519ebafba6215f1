/*
 * The database side of `comb fibers report` (docs/scheduler-analysis.md):
 * streams one session's scheduler events (table sched_event, docs/schema.md)
 * in time order through the reconstruction of analysis/sched_model.h, in one
 * pass of `SELECT ... FROM sched_event WHERE session = ? ORDER BY ts, offset`,
 * with the places where the capture lost events (`dropped` events, decode
 * errors, truncated events) merged in by stream offset. A first pass in
 * stream order (ORDER BY seq, the primary key: no sort) finds the events whose
 * ts is far out of line with their neighbours (sched_outliers.h, floor 1 ms
 * of ts_hz, 1000 ticks when unknown); they are counted as ts_outliers and
 * left out of the span and the runs.
 *
 * Memory does not grow with the session's length beyond the samples the
 * exact percentiles need (sched_model.h: at most 4 bytes per event) and the
 * outliers' offsets.
 */
#ifndef COMB_SCHED_SESSION_H
#define COMB_SCHED_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "comb/sched_model.h"

struct sqlite3;
struct sqlite3_stmt;

typedef struct comb_sched_session {
    int64_t id;
    uint64_t core_hz, ts_hz; /* from session_start; 0 when unknown */
    uint64_t rows;           /* sched_event rows read */
} comb_sched_session;

/* Opens db_path (which must exist; older schema versions are migrated in
 * place), takes session `id` (the latest when id <= 0) and builds its report
 * into *out. 0, or -1 with a one-line message in err:
 * "trace.db: no session 7 (sessions 1 to 3)", "trace.db: session 2 has no
 * scheduler events ...", database errors, out of memory. */
int comb_sched_session_report(const char *db_path, int64_t id, comb_sched_session *info, comb_sched_result *out,
                              char *err, size_t errlen);

/* The places where session `session`'s capture may have lost events, for
 * every reader that must see the same ones (this report, the dashboard's
 * latency plots): `dropped` events, ITM decode errors, port-30 trace errors
 * and truncated events. Prepares into *st a query whose rows are (offset,
 * what: 1 a `dropped` event / 2 a decode error, packets the `dropped` event
 * reports, else 0), ascending by offset; the caller steps and finalizes it.
 * Works at every schema version (`dropped` is in other_event from version
 * 4 on, in trace_event before). 0, or -1 with *st NULL (sqlite3_errmsg(db)
 * says why). */
int comb_sched_loss_query(struct sqlite3 *db, int64_t session, struct sqlite3_stmt **st);

#endif
