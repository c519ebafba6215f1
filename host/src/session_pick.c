/* Choosing a reader's session (include/comb/session_pick.h). */
#include "comb/session_pick.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

int comb_session_db_open(const char *db_path, comb_store **store, char *err, size_t errlen)
{
    struct stat stbuf;
    *store = NULL;
    if (stat(db_path, &stbuf)) {
        snprintf(err, errlen, "%s: %s", db_path, strerror(errno));
        return -1;
    }
    return comb_store_open(db_path, store, err, errlen) ? -1 : 0;
}

int comb_session_pick(sqlite3 *db, const char *db_path, int64_t id, const char *row_sql, sqlite3_stmt **row,
                      comb_session_range *range, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    *row = NULL;
    if (sqlite3_prepare_v2(db, "SELECT min(id), max(id), count(*) FROM session", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto sqlerr;
    int64_t lo = sqlite3_column_int64(st, 0), hi = sqlite3_column_int64(st, 1), count = sqlite3_column_int64(st, 2);
    sqlite3_finalize(st);
    st = NULL;
    if (range)
        *range = (comb_session_range){lo, hi};
    if (count == 0) {
        snprintf(err, errlen, "%s: the database holds no sessions", db_path);
        return -1;
    }
    if (id <= 0)
        id = hi;
    if (sqlite3_prepare_v2(db, row_sql, -1, &st, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int64(st, 1, id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *row = st;
        return 0;
    }
    if (step != SQLITE_DONE)
        goto sqlerr;
    sqlite3_finalize(st);
    snprintf(err, errlen, "%s: no session %lld (sessions %lld to %lld)", db_path, (long long)id, (long long)lo,
             (long long)hi);
    return -1;
sqlerr:
    snprintf(err, errlen, "%s: database error: %s", db_path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}
