/*
 * Reading heap sessions back from a database (docs/schema.md, table
 * heap_event): the session's metadata and its raw heap events, in the order
 * the analyses replay them (offset, then seq).
 */
#ifndef COMB_HEAP_SESSION_H
#define COMB_HEAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_trace.h"

struct sqlite3_stmt;

typedef struct comb_heap_session {
    int64_t id;
    char source[512];
    char started_at[40];
    char build_id[24];   /* "" when unknown */
    uint64_t ts_hz;      /* 0 when unknown (imports, no session_start) */
    uint64_t start_ts;   /* session_start's ts (the session's time 0), 0 when unknown */
    bool has_start_ts;
    char settings[2048];
    comb_heap_raw *raw;  /* sorted by offset, then seq */
    size_t n;
} comb_heap_session;

/* Opens db_path (which must exist; a version-1 file is migrated in place) and
 * loads session `id`, or the latest one when id <= 0. 0, or -1 with a one-line
 * message in err ("heap.db: no session 7 (sessions 1 to 3)"). */
int comb_heap_session_load(const char *db_path, int64_t id, comb_heap_session *out, char *err, size_t errlen);

void comb_heap_session_free(comb_heap_session *s);

/* The heap_event columns comb_heap_session_row decodes, in its order: select
 * them as "SELECT " COMB_HEAP_SESSION_COLUMNS " FROM heap_event ...". */
#define COMB_HEAP_SESSION_COLUMNS "seq, offset, kind, ts, ptr, old_ptr, size, old_size, caller, depth"

/* Decodes the current row of st (columns COMB_HEAP_SESSION_COLUMNS) into *r
 * (NULL columns leave their COMB_HR_* flag clear). 0, or -1 with a one-line
 * message in err when the kind is not one comb knows ("heap.db: session 2:
 * heap_event 17 has an unknown kind 'x'"); db_path and session only name
 * the row in that message. */
int comb_heap_session_row(struct sqlite3_stmt *st, const char *db_path, int64_t session, comb_heap_raw *r, char *err,
                          size_t errlen);

/* Parses a --session argument: a positive integer. 0 or -1. */
int comb_heap_session_parse_id(const char *arg, int64_t *id);

#endif
