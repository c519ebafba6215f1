#include "comb/session_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

struct comb_store {
    sqlite3 *db;
    int64_t session;
    int64_t seq_log, seq_event, seq_error;
    bool failed;
    char errmsg[256];
    sqlite3_stmt *ins_log, *ins_event, *ins_error, *upd_counters, *ins_heap, *ins_sched;
};

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
};
#define SCHEMA_STEPS ((int)(sizeof migrations / sizeof migrations[0]))

static int fail(comb_store *s, const char *what)
{
    if (!s->failed)
        snprintf(s->errmsg, sizeof s->errmsg, "database: %s: %s", what, sqlite3_errmsg(s->db));
    s->failed = true;
    return -1;
}

static int exec(comb_store *s, const char *sql, const char *what)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, what);
}

static void utc_now(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static int migrate(comb_store *s, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: not a comb database (or not SQLite): %s", path, sqlite3_errmsg(s->db));
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
    for (; version < SCHEMA_STEPS; version++) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
        if (exec(s, "BEGIN IMMEDIATE", "begin migration") || exec(s, migrations[version], "migrate schema") ||
            exec(s, sql, "set schema version") || exec(s, "COMMIT", "commit migration")) {
            snprintf(err, errlen, "%s: %s", path, s->errmsg);
            return -1;
        }
    }
    return 0;
}

int comb_store_open(const char *path, comb_store **out, char *err, size_t errlen)
{
    comb_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
        comb_store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 2000);
    /* Check the schema version before anything writes to the file: a file
     * this build refuses (newer, or not a comb database) is left untouched. */
    if (migrate(s, path, err, errlen)) {
        comb_store_close(s);
        return -1;
    }
    if (exec(s, "PRAGMA journal_mode = WAL", "enable WAL") || exec(s, "PRAGMA synchronous = NORMAL", "set sync") ||
        exec(s, "PRAGMA foreign_keys = ON", "enable foreign keys")) {
        snprintf(err, errlen, "%s: %s", path, s->errmsg);
        comb_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

const char *comb_store_errmsg(const comb_store *s)
{
    return s->errmsg;
}

static int prepare(comb_store *s, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0
                                                                                               : fail(s, "prepare");
}

int comb_store_session_begin(comb_store *s, const char *source, const char *settings_json, int64_t *id)
{
    char now[40];
    utc_now(now, sizeof now);
    sqlite3_stmt *st;
    if (prepare(s, "INSERT INTO session(started_at, source, settings) VALUES (?, ?, ?)", &st))
        return -1;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, settings_json, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, "create session");
    s->session = sqlite3_last_insert_rowid(s->db);
    *id = s->session;
    if (prepare(s, "INSERT INTO log_line VALUES (?, ?, ?, ?, ?, ?)", &s->ins_log) ||
        prepare(s, "INSERT INTO trace_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &s->ins_event) ||
        prepare(s, "INSERT INTO decode_error VALUES (?, ?, ?, ?, ?, ?, ?)", &s->ins_error) ||
        prepare(s, "INSERT INTO heap_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s->ins_heap) ||
        prepare(s, "INSERT INTO sched_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &s->ins_sched) ||
        prepare(s,
                "UPDATE session SET bytes=?, packets=?, events=?, log_lines=?, overflows=?, decode_errors=?,"
                " bytes_skipped=?, trace_errors=?, dropped=?, acks=? WHERE id=?",
                &s->upd_counters))
        return -1;
    /* The session row is durable at once; data goes in batched transactions. */
    return exec(s, "BEGIN", "begin");
}

int comb_store_session_start_event(comb_store *s, const comb_trace_event *ev)
{
    if (s->failed)
        return -1;
    uint32_t version = 0, core = 0, tshz = 0, lo = 0, hi = 0, ts = 0;
    comb_trace_event_field(ev, "version", &version);
    comb_trace_event_field(ev, "core_hz", &core);
    comb_trace_event_field(ev, "ts_hz", &tshz);
    comb_trace_event_field(ev, "build_id_lo", &lo);
    comb_trace_event_field(ev, "build_id_hi", &hi);
    comb_trace_event_field(ev, "ts", &ts);
    char build_id[24];
    snprintf(build_id, sizeof build_id, "%08x%08x", (unsigned)hi, (unsigned)lo);
    sqlite3_stmt *st;
    if (prepare(s,
                "UPDATE session SET protocol_version=?, core_hz=?, ts_hz=?, build_id=?, start_ts=? WHERE id=?",
                &st))
        return -1;
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_int64(st, 2, core);
    sqlite3_bind_int64(st, 3, tshz);
    sqlite3_bind_text(st, 4, build_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, ts);
    sqlite3_bind_int64(st, 6, s->session);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, "record session start");
}

static int step_reset(comb_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

int comb_store_log_line(comb_store *s, unsigned port, int64_t host_ns, int64_t itm_ts, const uint8_t *text,
                        size_t len)
{
    if (s->failed)
        return -1;
    sqlite3_stmt *st = s->ins_log;
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, s->seq_log++);
    sqlite3_bind_int(st, 3, (int)port);
    sqlite3_bind_int64(st, 4, host_ns);
    if (itm_ts >= 0)
        sqlite3_bind_int64(st, 5, itm_ts);
    sqlite3_bind_blob(st, 6, len ? (const void *)text : "", (int)len, SQLITE_TRANSIENT);
    return step_reset(s, st, "store log line");
}

int comb_store_event(comb_store *s, const comb_trace_event *ev, int64_t ts64)
{
    if (s->failed)
        return -1;
    char json[512], namebuf[32];
    size_t n = 0;
    json[n++] = '{';
    for (unsigned i = 0; i < ev->nfields; i++) {
        char fname[8];
        const char *fn = ev->schema && ev->schema->field_names[i] ? ev->schema->field_names[i] : NULL;
        if (!fn) {
            snprintf(fname, sizeof fname, "f%u", i);
            fn = fname;
        }
        n += (size_t)snprintf(json + n, sizeof json - n, "%s\"%s\":%u", i ? "," : "", fn, (unsigned)ev->values[i]);
    }
    snprintf(json + n, sizeof json - n, "}");
    sqlite3_stmt *st = s->ins_event;
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, s->seq_event++);
    sqlite3_bind_int64(st, 3, (int64_t)ev->offset);
    sqlite3_bind_int(st, 4, ev->port);
    sqlite3_bind_int(st, 5, ev->type);
    sqlite3_bind_text(st, 6, comb_trace_event_name(ev, namebuf, sizeof namebuf), -1, SQLITE_TRANSIENT);
    if (ts64 >= 0)
        sqlite3_bind_int64(st, 7, ts64);
    sqlite3_bind_int(st, 8, ev->depth);
    sqlite3_bind_text(st, 9, json, -1, SQLITE_TRANSIENT);
    return step_reset(s, st, "store trace event");
}

int64_t comb_store_last_event_seq(const comb_store *s)
{
    return s->seq_event - 1;
}

int comb_store_heap_event(comb_store *s, const comb_heap_raw *r)
{
    if (s->failed)
        return -1;
    sqlite3_stmt *st = s->ins_heap;
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, r->seq);
    sqlite3_bind_int64(st, 3, (int64_t)r->offset);
    sqlite3_bind_text(st, 4, comb_heap_kind_name(r->kind), -1, SQLITE_STATIC);
    if (r->has & COMB_HR_TS)
        sqlite3_bind_int64(st, 5, (int64_t)r->ts);
    if (r->has & COMB_HR_PTR)
        sqlite3_bind_int64(st, 6, r->ptr);
    if (r->has & COMB_HR_OLD_PTR)
        sqlite3_bind_int64(st, 7, r->old_ptr);
    if (r->has & COMB_HR_SIZE)
        sqlite3_bind_int64(st, 8, r->size);
    if (r->has & COMB_HR_OLD_SIZE)
        sqlite3_bind_int64(st, 9, r->old_size);
    if (r->has & COMB_HR_CALLER)
        sqlite3_bind_int64(st, 10, r->caller);
    sqlite3_bind_int(st, 11, r->depth);
    return step_reset(s, st, "store heap event");
}

const char *comb_sched_kind_name(unsigned type)
{
    switch (type) {
    case COMB_EVT_THREAD_WAKEUP: return "wakeup";
    case COMB_EVT_THREAD_ENTER: return "enter";
    case COMB_EVT_THREAD_EXIT: return "exit";
    case COMB_EVT_FIBER_ADDED: return "fiber_added";
    case COMB_EVT_FIBER_RESUMED: return "fiber_resumed";
    case COMB_EVT_FIBER_YIELDED: return "fiber_yielded";
    case COMB_EVT_FIBER_COMPLETED: return "fiber_completed";
    default: return NULL;
    }
}

int comb_store_sched_event(comb_store *s, const comb_trace_event *ev, int64_t ts64)
{
    if (s->failed)
        return -1;
    const char *kind = ev->port == COMB_PORT_SCHED && ev->schema ? comb_sched_kind_name(ev->type) : NULL;
    if (!kind)
        return 0;
    uint32_t v;
    sqlite3_stmt *st = s->ins_sched;
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, s->seq_event - 1);
    sqlite3_bind_int64(st, 3, (int64_t)ev->offset);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    if (ts64 >= 0)
        sqlite3_bind_int64(st, 5, ts64);
    if (ev->type == COMB_EVT_THREAD_WAKEUP) {
        v = 0;
        comb_trace_event_field(ev, "ids", &v);
        sqlite3_bind_int(st, 6, (int)(v & 0xFFu));
        sqlite3_bind_int(st, 7, (int)((v >> 8) & 0xFFu));
    } else {
        v = 0;
        comb_trace_event_field(ev, "thr", &v);
        sqlite3_bind_int(st, 6, (int)v);
        if (comb_trace_event_field(ev, "fiber", &v))
            sqlite3_bind_int64(st, 8, v);
    }
    sqlite3_bind_int(st, 9, ev->depth);
    return step_reset(s, st, "store scheduler event");
}

struct sqlite3 *comb_store_handle(comb_store *s)
{
    return s->db;
}

int comb_store_decode_error(comb_store *s, uint64_t offset, const char *layer, const char *kind, int port,
                            uint32_t length)
{
    if (s->failed)
        return -1;
    sqlite3_stmt *st = s->ins_error;
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, s->seq_error++);
    sqlite3_bind_int64(st, 3, (int64_t)offset);
    sqlite3_bind_text(st, 4, layer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, kind, -1, SQLITE_TRANSIENT);
    if (port >= 0)
        sqlite3_bind_int(st, 6, port);
    sqlite3_bind_int64(st, 7, length);
    return step_reset(s, st, "store decode error");
}

static int write_counters(comb_store *s, const comb_session_counters *c)
{
    sqlite3_stmt *st = s->upd_counters;
    const uint64_t v[] = {c->bytes,         c->packets,       c->events,       c->log_lines, c->overflows,
                          c->decode_errors, c->bytes_skipped, c->trace_errors, c->dropped,   c->acks};
    for (int i = 0; i < 10; i++)
        sqlite3_bind_int64(st, i + 1, (int64_t)v[i]);
    sqlite3_bind_int64(st, 11, s->session);
    return step_reset(s, st, "update session counters");
}

int comb_store_checkpoint(comb_store *s, const comb_session_counters *c)
{
    if (s->failed)
        return -1;
    if (write_counters(s, c) || exec(s, "COMMIT", "commit") || exec(s, "BEGIN", "begin"))
        return -1;
    return 0;
}

int comb_store_session_end(comb_store *s, const comb_session_counters *c, const char *reason)
{
    if (s->failed)
        return -1;
    char now[40];
    utc_now(now, sizeof now);
    sqlite3_stmt *st;
    if (write_counters(s, c) || prepare(s, "UPDATE session SET ended_at=?, end_reason=? WHERE id=?", &st))
        return -1;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, s->session);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, "close session");
    return exec(s, "COMMIT", "final commit");
}

void comb_store_close(comb_store *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->ins_log);
    sqlite3_finalize(s->ins_event);
    sqlite3_finalize(s->ins_error);
    sqlite3_finalize(s->upd_counters);
    sqlite3_finalize(s->ins_heap);
    sqlite3_finalize(s->ins_sched);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* keep what was captured */
        sqlite3_close(s->db);
    }
    free(s);
}
