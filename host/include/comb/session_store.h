/*
 * SQLite storage of capture sessions. Schema: docs/schema.md, versioned with
 * PRAGMA user_version (this build writes and reads version COMB_SCHEMA_VERSION;
 * older files are migrated in place on open, newer ones are refused).
 *
 * Every event is stored once, in the table of its kind: heap events of port 31
 * in heap_event, scheduler events of port 30 in sched_event, everything else in
 * other_event; one seq numbers them all, and the view trace_event shows them
 * together with the version-3 columns (name, fields JSON).
 *
 * Threads: between comb_store_session_begin and comb_store_session_end (or
 * comb_store_close) a writer thread owned by the store does all the SQLite
 * work. The calls below only append rows to an in-memory chunk; a full chunk
 * is handed to the writer (at most COMB_STORE_CHUNKS chunks exist, so a
 * producer faster than the disk waits instead of growing memory or losing
 * rows). A second thread checkpoints the WAL into the database file with its
 * own connection so the writer never does. All calls must come from one thread
 * (the capture loop).
 *
 * Durability: WAL journal; everything between two comb_store_checkpoint()
 * calls is one transaction, and comb_store_checkpoint returns only once it is
 * committed, so a crash or Ctrl-C loses at most the rows since the last
 * checkpoint and never leaves a corrupt file. The capture calls it at least
 * every 250 ms.
 *
 * Every function returns 0 on success, -1 on an SQLite error (message from
 * comb_store_errmsg). A write that fails on the writer thread is reported by
 * the next call that waits for it (comb_store_checkpoint, _session_end) and by
 * every call after that: after an error the store refuses further writes.
 */
#ifndef COMB_SESSION_STORE_H
#define COMB_SESSION_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_trace.h"
#include "comb/trace_decoder.h"

#define COMB_SCHEMA_VERSION 5

/* Chunks in flight between the caller and the writer thread (bounded queue). */
#define COMB_STORE_CHUNKS 4

typedef struct comb_store comb_store;

/* Per-session counters, written into the session row at each checkpoint. */
typedef struct comb_session_counters {
    uint64_t bytes, packets, events, log_lines, overflows, decode_errors, bytes_skipped, trace_errors, dropped,
        acks;
    /* Loss below the decoder (docs/capture.md): the adapter's receive overruns
     * and line errors, bytes comb's own USB buffer dropped. Stored only when
     * link_known (sources that can tell: ftdi:, bmp:), else the columns stay NULL. */
    bool link_known;
    uint64_t link_overruns, link_line_errors, link_host_dropped;
    /* TPIU deformatter (--tpiu): frames unpacked, data bytes of other trace IDs,
     * realignments to a full sync and bytes of partial frames dropped. Stored
     * only when tpiu_known, else NULL. */
    bool tpiu_known;
    uint64_t tpiu_frames, tpiu_bytes_other, tpiu_realigns, tpiu_bytes_dropped;
} comb_session_counters;

int comb_store_open(const char *path, comb_store **out, char *err, size_t errlen);
const char *comb_store_errmsg(const comb_store *s);

/* Starts a session row (committed at once) and the writer thread; its id is
 * returned in *id. `settings_json` is stored verbatim. One session at a time. */
int comb_store_session_begin(comb_store *s, const char *source, const char *settings_json, int64_t *id);

/* Fills the session row from the firmware's SESSION_START event. */
int comb_store_session_start_event(comb_store *s, const comb_trace_event *ev);

/* One line of a log port (without its '\n'). host_ns: host clock, ns since the
 * Unix epoch, when its first byte arrived. itm_ts < 0: the stream carried no
 * ITM timestamp for it. */
int comb_store_log_line(comb_store *s, unsigned port, int64_t host_ns, int64_t itm_ts, const uint8_t *text,
                        size_t len);

/* A decoded trace event, stored in heap_event (a heap_* event on port 31),
 * sched_event (thread_wakeup ... fiber_completed on port 30) or other_event,
 * with the session's next seq. ts64: the ts field extended to 64 bits; < 0
 * when the event has none. */
int comb_store_event(comb_store *s, const comb_trace_event *ev, int64_t ts64);

/* One heap_event row given as is (imports: r->seq is its key, 0, 1, ...). The
 * seqs of a session's heap rows must increase, also across this call and
 * comb_store_event: a row that is not after the previous one fails the store. */
int comb_store_heap_event(comb_store *s, const comb_heap_raw *r);

/* sched_event.kind of a scheduler event type ("wakeup", "enter", "exit",
 * "fiber_added", ...); NULL for other types. */
const char *comb_sched_kind_name(unsigned type);

/* The SQLite connection, for readers (host/src/heap_session.c); only while no
 * session is open (the writer thread owns it then). */
struct sqlite3;
struct sqlite3 *comb_store_handle(comb_store *s);

/* A decode error: layer "itm" or "trace"; port -1 when not port-specific. */
int comb_store_decode_error(comb_store *s, uint64_t offset, const char *layer, const char *kind, int port,
                            uint32_t length);

/* Commits what was written so far (and the counters), opens a new
 * transaction; returns once the commit is done. */
int comb_store_checkpoint(comb_store *s, const comb_session_counters *c);

/* Final counters, end time and reason ("end_of_input", "interrupted",
 * "device_lost", "error"); commits, and stops the writer thread. */
int comb_store_session_end(comb_store *s, const comb_session_counters *c, const char *reason);

/* Closes the file. A session still open is committed as far as it came
 * (counters of the last checkpoint, no end time), as after a crash. */
void comb_store_close(comb_store *s);

#endif
