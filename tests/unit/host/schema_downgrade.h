/*
 * Turns a file written by this build (schema version 5) back into the shape
 * older comb versions wrote, rows included, so the migration tests start from
 * a realistic old file: version 4 has heap_event and sched_event as WITHOUT
 * ROWID tables instead of virtual tables over event blocks; version 3 has trace_event as a table holding every
 * event (the view's rows), its name index, and no link/TPIU session columns;
 * version 2 has no sched_event, version 1 no heap_event either (import
 * sessions, which version 1 could not hold, must not be in the file). The DDL is the one
 * docs/schema.md documents for those versions.
 */
#ifndef COMB_TEST_SCHEMA_DOWNGRADE_H
#define COMB_TEST_SCHEMA_DOWNGRADE_H

#include <stdio.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"

static inline int schema_downgrade(const char *path, int version)
{
    /* the view trace_event keeps naming heap_event and sched_event: legacy
     * ALTER TABLE renames without checking it while they are missing */
    static const char *const to_v4 =
        "PRAGMA legacy_alter_table = ON;"
        "BEGIN;"
        "CREATE TABLE heap_event_v4 ("
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER,"
        "  ptr INTEGER, old_ptr INTEGER, size INTEGER, old_size INTEGER, caller INTEGER,"
        "  depth INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
        "INSERT INTO heap_event_v4 SELECT * FROM heap_event;"
        "CREATE TABLE sched_event_v4 ("
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, kind TEXT NOT NULL, ts INTEGER,"
        "  thr INTEGER NOT NULL, from_thr INTEGER, fiber INTEGER, depth INTEGER NOT NULL DEFAULT 0,"
        "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
        "INSERT INTO sched_event_v4 SELECT * FROM sched_event;"
        "DROP TABLE heap_event;" /* and heap_block, with it */
        "DROP TABLE sched_event;"
        "ALTER TABLE heap_event_v4 RENAME TO heap_event;"
        "ALTER TABLE sched_event_v4 RENAME TO sched_event;"
        "PRAGMA user_version = 4;"
        "COMMIT;"
        "PRAGMA legacy_alter_table = OFF;";
    static const char *const to_v3 =
        "BEGIN;"
        "CREATE TABLE trace_event_v3 ("
        "  session INTEGER NOT NULL REFERENCES session(id),"
        "  seq INTEGER NOT NULL, offset INTEGER NOT NULL, port INTEGER NOT NULL, type INTEGER NOT NULL,"
        "  name TEXT NOT NULL, ts INTEGER, depth INTEGER NOT NULL, fields TEXT NOT NULL,"
        "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
        "INSERT INTO trace_event_v3 SELECT * FROM trace_event;"
        "DROP VIEW trace_event;"
        "DROP TABLE other_event;"
        "ALTER TABLE trace_event_v3 RENAME TO trace_event;"
        "CREATE INDEX trace_event_name ON trace_event(session, name);"
        "ALTER TABLE session DROP COLUMN link_overruns;"
        "ALTER TABLE session DROP COLUMN link_line_errors;"
        "ALTER TABLE session DROP COLUMN link_host_dropped;"
        "ALTER TABLE session DROP COLUMN tpiu_frames;"
        "ALTER TABLE session DROP COLUMN tpiu_bytes_other;"
        "ALTER TABLE session DROP COLUMN tpiu_realigns;"
        "ALTER TABLE session DROP COLUMN tpiu_bytes_dropped;"
        "PRAGMA user_version = 3;"
        "COMMIT;";
    static const char *const to_v2 = "BEGIN; DROP TABLE sched_event; PRAGMA user_version = 2; COMMIT;";
    static const char *const to_v1 = "BEGIN; DROP TABLE heap_event; PRAGMA user_version = 1; COMMIT;";
    sqlite3 *db = NULL;
    char *msg = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = comb_sqlite_register(db);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, to_v4, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 4)
        rc = sqlite3_exec(db, to_v3, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 3)
        rc = sqlite3_exec(db, to_v2, NULL, NULL, &msg);
    if (rc == SQLITE_OK && version < 2)
        rc = sqlite3_exec(db, to_v1, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "schema_downgrade(%s, %d): %s\n", path, version, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

#endif
