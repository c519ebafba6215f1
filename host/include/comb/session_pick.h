/*
 * Choosing the session a reader works on (comb heap, comb fibers report, the
 * dashboard and the exports): the one asked for by id, or the latest, with
 * the same messages everywhere when there is none.
 */
#ifndef COMB_SESSION_PICK_H
#define COMB_SESSION_PICK_H

#include <stddef.h>
#include <stdint.h>

#include "comb/session_store.h"

struct sqlite3;
struct sqlite3_stmt;

/* Opens the existing database db_path for reading a session (older schema
 * versions are migrated in place); unlike comb_store_open it never creates
 * one. 0, or -1 with "PATH: No such file or directory" (strerror) or
 * comb_store_open's message in err. */
int comb_session_db_open(const char *db_path, comb_store **store, char *err, size_t errlen);

/* The range of the database's sessions, for the caller's own use. */
typedef struct comb_session_range {
    int64_t first, last;
} comb_session_range;

/* Takes session `id` (the latest when id <= 0) of the open database db
 * (named db_path in messages) and runs row_sql, a SELECT of one session row
 * with the id bound to ?1. 0 with *row stepped onto that row (the caller
 * finalizes it) and *range filled, or -1 with *row NULL and a one-line
 * message in err: "PATH: the database holds no sessions", "PATH: no session 7
 * (sessions 1 to 3)", "PATH: database error: MESSAGE". range may be NULL. */
int comb_session_pick(struct sqlite3 *db, const char *db_path, int64_t id, const char *row_sql,
                      struct sqlite3_stmt **row, comb_session_range *range, char *err, size_t errlen);

#endif
