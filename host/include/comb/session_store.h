/*
 * SQLite storage of capture sessions. Schema: docs/schema.md, versioned with
 * PRAGMA user_version (this build writes and reads version COMB_SCHEMA_VERSION;
 * older files are migrated in place on open, newer ones are refused).
 *
 * Durability: WAL journal; everything between two comb_store_checkpoint()
 * calls is one transaction, so a crash or Ctrl-C loses at most the rows since
 * the last checkpoint and never leaves a corrupt file. The capture calls it at
 * least every 250 ms.
 *
 * Every function returns 0 on success, -1 on an SQLite error (message from
 * comb_store_errmsg); after an error the store refuses further writes.
 */
#ifndef COMB_SESSION_STORE_H
#define COMB_SESSION_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_trace.h"
#include "comb/trace_decoder.h"

#define COMB_SCHEMA_VERSION 3

typedef struct comb_store comb_store;

/* Per-session counters, written into the session row at each checkpoint. */
typedef struct comb_session_counters {
    uint64_t bytes, packets, events, log_lines, overflows, decode_errors, bytes_skipped, trace_errors, dropped,
        acks;
} comb_session_counters;

int comb_store_open(const char *path, comb_store **out, char *err, size_t errlen);
const char *comb_store_errmsg(const comb_store *s);

/* Starts a session row; its id is returned in *id. `settings_json` is stored verbatim. */
int comb_store_session_begin(comb_store *s, const char *source, const char *settings_json, int64_t *id);

/* Fills the session row from the firmware's SESSION_START event. */
int comb_store_session_start_event(comb_store *s, const comb_trace_event *ev);

/* One line of a log port (without its '\n'). host_ns: host clock, ns since the
 * Unix epoch, when its first byte arrived. itm_ts < 0: the stream carried no ITM
 * timestamp for it. */
int comb_store_log_line(comb_store *s, unsigned port, int64_t host_ns, int64_t itm_ts, const uint8_t *text,
                        size_t len);

/* A decoded trace event; ts64 < 0 when the event has no timestamp field. */
int comb_store_event(comb_store *s, const comb_trace_event *ev, int64_t ts64);

/* The seq of the last trace event stored (-1 before the first). */
int64_t comb_store_last_event_seq(const comb_store *s);

/* One typed heap event (table heap_event, schema version 2). r->seq is its key:
 * the seq of its trace_event row for captures, a counter for imports. */
int comb_store_heap_event(comb_store *s, const comb_heap_raw *r);

/* The typed sched_event row (schema version 3) of a port-30 scheduler event
 * (thread_wakeup ... fiber_completed) that was just stored with
 * comb_store_event (it shares that row's seq). Other events: nothing, 0. */
int comb_store_sched_event(comb_store *s, const comb_trace_event *ev, int64_t ts64);

/* sched_event.kind of a scheduler event type ("wakeup", "enter", "exit",
 * "fiber_added", ...); NULL for other types. */
const char *comb_sched_kind_name(unsigned type);

/* The SQLite connection, for readers (host/src/heap_session.c). */
struct sqlite3;
struct sqlite3 *comb_store_handle(comb_store *s);

/* A decode error: layer "itm" or "trace"; port -1 when not port-specific. */
int comb_store_decode_error(comb_store *s, uint64_t offset, const char *layer, const char *kind, int port,
                            uint32_t length);

/* Commits what was written so far (and the counters), opens a new transaction. */
int comb_store_checkpoint(comb_store *s, const comb_session_counters *c);

/* Final counters, end time and reason ("end_of_input", "interrupted", "device_lost", "error"). */
int comb_store_session_end(comb_store *s, const comb_session_counters *c, const char *reason);

void comb_store_close(comb_store *s);

#endif
