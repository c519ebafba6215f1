/* Shared by the dashboard_*.c and export_*.c files: the open session and
 * small SQL helpers. Every statement they prepare binds the session id as ?1. */
#ifndef COMB_DASHBOARD_INTERNAL_H
#define COMB_DASHBOARD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "comb/dashboard_data.h"
#include "comb/session_store.h"

struct comb_dash {
    char path[512];
    comb_store *store;
    sqlite3 *db;
    comb_dash_info info;
    const comb_dash_names *names;
};

/* "PATH: database error: MESSAGE" in err; returns -1. */
int dash_sql_error(comb_dash *d, char *err, size_t errlen);

/* Prepares sql and binds the session id to ?1. */
int dash_prepare(comb_dash *d, const char *sql, sqlite3_stmt **st, char *err, size_t errlen);

/* The first column of the first row of sql (session bound to ?1). */
int dash_query_i64(comb_dash *d, const char *sql, int64_t *v, bool *is_null, char *err, size_t errlen);

/* Creates dir unless it is already a directory. */
int dash_make_dir(const char *dir, char *err, size_t errlen);

#endif
