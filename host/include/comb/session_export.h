/*
 * `comb export` (docs/dashboards.md): one session of a database as CSV rows
 * or as a Chrome trace-event JSON file for the Perfetto UI. Both stream
 * through SQLite cursors: memory does not grow with the session.
 *
 * Errors: 0, or -1 with one line in err. Output errors (disk full) are the
 * caller's to check with ferror().
 */
#ifndef COMB_SESSION_EXPORT_H
#define COMB_SESSION_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "comb/dashboard_data.h"

/* The raw rows of one table, in the order the analyses read them:
 *   heap:  seq,offset,t_s,kind,ts,ptr,old_ptr,size,old_size,caller,depth  (offset, seq)
 *   sched: seq,offset,t_s,kind,ts,thr,from_thr,fiber,depth                (ts, offset)
 *   log:   seq,port,host_ns,host_s,itm_ts,text                            (seq)
 * t_s = session time (t_ticks when the session has no ts_hz), empty without
 * a timestamp; host_s = host seconds since the session's first line. Numbers
 * in decimal; text as the firmware sent it (bytes), quoted per RFC 4180. */
typedef enum comb_export_table { COMB_EXPORT_HEAP, COMB_EXPORT_SCHED, COMB_EXPORT_LOG } comb_export_table;

/* "heap", "sched", "log" -> table; -1 for anything else. */
int comb_export_table_parse(const char *name);

int comb_export_csv(comb_dash *d, comb_export_table table, FILE *f, char *err, size_t errlen);

/*
 * Chrome trace-event JSON ({"traceEvents": [...], "displayTimeUnit": "ns"}),
 * ts in µs of session time:
 *  - process 1 "target": one track (tid thr + 1) per thread; its runs
 *    (enter -> exit) are B/E slices, fibers (resumed -> yielded/completed) B/E
 *    slices inside them; wakeups are flow arrows (s on the waker's track, f
 *    with bp "e" on the woken thread's next run; a waker that is no comb
 *    thread, or not running, gets a zero-length "wakeup" slice to start
 *    from); fiber_added are instant events; the heap's requested bytes in use
 *    are a counter track ("heap", from the normalised trace; timestamps kept
 *    non-decreasing where nested events step back);
 *  - process 2 "host": log lines as instant events, one track per port, at
 *    their host arrival time since the first line (the UART transport sends no
 *    target time for them).
 * Every B has its E on the same track (events lost in capture are closed at
 * the next run boundary or at the end), and timestamps never decrease along a
 * track.
 */
typedef struct comb_perfetto_stats {
    uint64_t events;        /* trace events written */
    uint64_t runs, fiber_runs, flows, counters, log_lines;
    uint64_t unmatched;     /* exits / fiber ends without their start (dropped) */
} comb_perfetto_stats;

int comb_export_perfetto(comb_dash *d, FILE *f, comb_perfetto_stats *stats, char *err, size_t errlen);

#endif
