/*
 * The loadable SQLite extension: heap_event and sched_event (schema v5) for
 * programs other than comb, e.g. the sqlite3 shell
 *
 *     sqlite> .load build/release/host/libcomb_sqlite
 *
 * or Python's sqlite3 (conn.load_extension). SQLite derives the entry point
 * sqlite3_combsqlite_init from the file name; sqlite3_extension_init is the
 * generic one. See comb/sqlite_module.h.
 */
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "comb/sqlite_module.h"

int sqlite3_combsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);
int sqlite3_extension_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);

int sqlite3_combsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    (void)err;
    SQLITE_EXTENSION_INIT2(api);
    return comb_sqlite_register(db);
}

int sqlite3_extension_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
    return sqlite3_combsqlite_init(db, err, api);
}
