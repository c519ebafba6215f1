/* The session database's schema history (session_schema.h, docs/schema.md). */
#include "session_schema.h"

#include <stdio.h>

#include "comb/session_store.h"

/* The view of every event with the version-3 columns (name, fields JSON), over
 * the typed tables; versions 4 and 5 define it alike. */
#define TRACE_EVENT_VIEW \
    "CREATE VIEW trace_event(session, seq, offset, port, type, name, ts, depth, fields) AS" \
    "  SELECT session, seq, offset, port, type, name, ts, depth, fields FROM other_event" \
    "  UNION ALL" \
    "  SELECT session, seq, offset, 31," \
    "    CASE kind WHEN 'alloc' THEN 8 WHEN 'free' THEN 9 WHEN 'realloc' THEN 10 WHEN 'resize' THEN 11 ELSE 12 END," \
    "    'heap_' || kind, ts, depth," \
    "    CASE WHEN caller IS NULL THEN f ELSE json_insert(f, '$.caller', caller) END" \
    "  FROM (SELECT *, CASE kind" \
    "      WHEN 'alloc' THEN json_object('ptr', ptr, 'size', size, 'ts', ts & 4294967295)" \
    "      WHEN 'free' THEN json_object('ptr', ptr, 'ts', ts & 4294967295)" \
    "      WHEN 'realloc' THEN json_object('old', old_ptr, 'new', ptr, 'size', size, 'ts', ts & 4294967295)" \
    "      WHEN 'resize' THEN json_object('ptr', ptr, 'size', size, 'ts', ts & 4294967295)" \
    "      ELSE json_object('size', size, 'ts', ts & 4294967295) END AS f" \
    "    FROM heap_event WHERE ts IS NOT NULL)" \
    "  UNION ALL" \
    "  SELECT session, seq, offset, 30," \
    "    CASE kind WHEN 'wakeup' THEN 16 WHEN 'enter' THEN 17 WHEN 'exit' THEN 18 WHEN 'fiber_added' THEN 19" \
    "      WHEN 'fiber_resumed' THEN 20 WHEN 'fiber_yielded' THEN 21 ELSE 22 END," \
    "    CASE kind WHEN 'wakeup' THEN 'thread_wakeup' WHEN 'enter' THEN 'thread_enter'" \
    "      WHEN 'exit' THEN 'thread_exit' ELSE kind END, ts, depth," \
    "    CASE kind WHEN 'wakeup' THEN json_object('ids', from_thr << 8 | thr, 'ts', ts & 4294967295)" \
    "      WHEN 'enter' THEN json_object('thr', thr, 'ts', ts & 4294967295)" \
    "      WHEN 'exit' THEN json_object('thr', thr, 'ts', ts & 4294967295)" \
    "      ELSE json_object('thr', thr, 'fiber', fiber, 'ts', ts & 4294967295) END" \
    "  FROM sched_event;"

/* Schema history: index i holds the SQL that takes a file from version i to i+1. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE session ("
    "  id INTEGER PRIMARY KEY,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  source TEXT NOT NULL,"
    "  settings TEXT NOT NULL,"
    "  protocol_version INTEGER, core_hz INTEGER, ts_hz INTEGER, build_id TEXT, start_ts INTEGER,"
    "  end_reason TEXT,"
    "  bytes INTEGER NOT NULL DEFAULT 0, packets INTEGER NOT NULL DEFAULT 0,"
    "  events INTEGER NOT NULL DEFAULT 0, log_lines INTEGER NOT NULL DEFAULT 0,"
    "  overflows INTEGER NOT NULL DEFAULT 0, decode_errors INTEGER NOT NULL DEFAULT 0,"
    "  bytes_skipped INTEGER NOT NULL DEFAULT 0, trace_errors INTEGER NOT NULL DEFAULT 0,"
    "  dropped INTEGER NOT NULL DEFAULT 0, acks INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE log_line ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, port INTEGER NOT NULL, host_ns INTEGER NOT NULL, itm_ts INTEGER,"
    "  text BLOB NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID;"
    "CREATE INDEX log_line_port ON log_line(session, port);"
    "CREATE TABLE trace_event ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, port INTEGER NOT NULL, type INTEGER NOT NULL,"
    "  name TEXT NOT NULL, ts INTEGER, depth INTEGER NOT NULL, fields TEXT NOT NULL,"
    "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
    "CREATE INDEX trace_event_name ON trace_event(session, name);"
    "CREATE TABLE decode_error ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, layer TEXT NOT NULL, kind TEXT NOT NULL,"
    "  port INTEGER, length INTEGER NOT NULL, PRIMARY KEY (session, seq)) WITHOUT ROWID;",
    /* 1 -> 2: typed heap events; a version-1 file gets them from its trace_event rows */
    "CREATE TABLE heap_event ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER,"
    "  ptr INTEGER, old_ptr INTEGER, size INTEGER, old_size INTEGER, caller INTEGER,"
    "  depth INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
    "INSERT INTO heap_event(session, seq, offset, kind, ts, ptr, old_ptr, size, old_size, caller, depth)"
    "  SELECT session, seq, offset, substr(name, 6), ts,"
    "    CASE name WHEN 'heap_realloc' THEN json_extract(fields, '$.new') ELSE json_extract(fields, '$.ptr') END,"
    "    json_extract(fields, '$.old'), json_extract(fields, '$.size'), NULL, json_extract(fields, '$.caller'), depth"
    "  FROM trace_event WHERE port = 31 AND name IN"
    "    ('heap_alloc', 'heap_free', 'heap_realloc', 'heap_resize', 'heap_fail');",
    /* 2 -> 3: typed scheduler events; a version-2 file gets them from its port-30 trace_event rows */
    "CREATE TABLE sched_event ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER,"
    "  thr INTEGER NOT NULL, from_thr INTEGER, fiber INTEGER, depth INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
    "INSERT INTO sched_event(session, seq, offset, kind, ts, thr, from_thr, fiber, depth)"
    "  SELECT session, seq, offset,"
    "    CASE name WHEN 'thread_wakeup' THEN 'wakeup' WHEN 'thread_enter' THEN 'enter'"
    "      WHEN 'thread_exit' THEN 'exit' ELSE name END, ts,"
    "    CASE name WHEN 'thread_wakeup' THEN json_extract(fields, '$.ids') & 255"
    "      ELSE json_extract(fields, '$.thr') END,"
    "    CASE name WHEN 'thread_wakeup' THEN (json_extract(fields, '$.ids') >> 8) & 255 END,"
    "    json_extract(fields, '$.fiber'), depth"
    "  FROM trace_event WHERE port = 30 AND name IN ('thread_wakeup', 'thread_enter', 'thread_exit',"
    "    'fiber_added', 'fiber_resumed', 'fiber_yielded', 'fiber_completed');",
    /* 3 -> 4: every event stored once. The events that have a typed row leave trace_event, the rest
     * move to other_event, and trace_event becomes a view that shows all of them as before (the
     * typed rows' name and fields rebuilt; heap_event rows without ts are imports, which never had
     * trace_event rows). The session gains the link-loss and TPIU counters (NULL: not measured). */
    "CREATE TABLE other_event ("
    "  session INTEGER NOT NULL REFERENCES session(id),"
    "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, port INTEGER NOT NULL, type INTEGER NOT NULL,"
    "  name TEXT NOT NULL, ts INTEGER, depth INTEGER NOT NULL, fields TEXT NOT NULL,"
    "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
    "INSERT INTO other_event SELECT * FROM trace_event t"
    "  WHERE NOT EXISTS (SELECT 1 FROM heap_event h WHERE h.session = t.session AND h.seq = t.seq)"
    "    AND NOT EXISTS (SELECT 1 FROM sched_event s WHERE s.session = t.session AND s.seq = t.seq);"
    "DROP INDEX trace_event_name;"
    "DROP TABLE trace_event;"
    TRACE_EVENT_VIEW
    "ALTER TABLE session ADD COLUMN link_overruns INTEGER;"
    "ALTER TABLE session ADD COLUMN link_line_errors INTEGER;"
    "ALTER TABLE session ADD COLUMN link_host_dropped INTEGER;"
    "ALTER TABLE session ADD COLUMN tpiu_frames INTEGER;"
    "ALTER TABLE session ADD COLUMN tpiu_bytes_other INTEGER;"
    "ALTER TABLE session ADD COLUMN tpiu_realigns INTEGER;"
    "ALTER TABLE session ADD COLUMN tpiu_bytes_dropped INTEGER;",
    /* 4 -> 5: heap_event and sched_event become virtual tables over event blocks
     * (heap_block, sched_block; comb/sqlite_module.h, which the connection must have
     * registered); the rows move over in (session, seq) order, unchanged. */
    "DROP VIEW trace_event;"
    "ALTER TABLE heap_event RENAME TO heap_event_v4;"
    "ALTER TABLE sched_event RENAME TO sched_event_v4;"
    "CREATE VIRTUAL TABLE heap_event USING comb_events(heap);"
    "CREATE VIRTUAL TABLE sched_event USING comb_events(sched);"
    "INSERT INTO heap_event SELECT * FROM heap_event_v4 ORDER BY session, seq;"
    "INSERT INTO sched_event SELECT * FROM sched_event_v4 ORDER BY session, seq;"
    "DROP TABLE heap_event_v4;"
    "DROP TABLE sched_event_v4;"
    TRACE_EVENT_VIEW,
};
#define SCHEMA_STEPS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(SCHEMA_STEPS == COMB_SCHEMA_VERSION, "one migration per schema version");

/* A new file's page size: with 16 KiB pages a capture stores about 10% more events
 * per second than with SQLite's default 4 KiB (docs/benchmarks.md); older files keep theirs. */
#define NEW_FILE_PAGE_SIZE 16384

int comb_session_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: not a comb database (or not SQLite): %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0) {
        snprintf(err, errlen, "%s: not a comb database: schema version %d is invalid", path, version);
        return -1;
    }
    if (version > SCHEMA_STEPS) {
        snprintf(err, errlen, "%s: database schema version %d is newer than this comb understands (%d)", path,
                 version, SCHEMA_STEPS);
        return -1;
    }
    if (version == 0) { /* only takes effect while the file is still empty */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA page_size = %d", NEW_FILE_PAGE_SIZE);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    for (; version < SCHEMA_STEPS; version++) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
        const char *const steps[] = {"BEGIN IMMEDIATE", migrations[version], sql, "COMMIT"};
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
            if (sqlite3_exec(db, steps[i], NULL, NULL, NULL) != SQLITE_OK) {
                snprintf(err, errlen, "%s: database: migrate schema to version %d: %s", path, version + 1,
                         sqlite3_errmsg(db));
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return -1;
            }
    }
    return 0;
}
