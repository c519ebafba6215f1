/*
 * The session database's schema: the migration list that takes a file from
 * any older version to COMB_SCHEMA_VERSION (session_store.h; docs/schema.md
 * describes the result). Internal to the session store.
 */
#ifndef COMB_SESSION_SCHEMA_H
#define COMB_SESSION_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* Brings the file open in `db` to COMB_SCHEMA_VERSION, one transaction per
 * version step; a new, empty file gets 16 KiB pages first. A file with a newer
 * or an invalid version, or one that is not SQLite, is refused before anything
 * is written to it. 0, or -1 with a one-line message naming `path` in err. */
int comb_session_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
