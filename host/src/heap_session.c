#include "comb/heap_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "comb/session_pick.h"
#include "comb/session_store.h"

int comb_heap_session_parse_id(const char *arg, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || v <= 0 || arg[0] == '+' || arg[0] == ' ')
        return -1;
    *id = v;
    return 0;
}

static void copy_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int comb_heap_session_row(sqlite3_stmt *st, const char *db_path, int64_t session, comb_heap_raw *r, char *err,
                          size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->seq = sqlite3_column_int64(st, 0);
    r->offset = (uint64_t)sqlite3_column_int64(st, 1);
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    int k = kind ? comb_heap_kind_parse(kind) : -1;
    if (k < 0) {
        snprintf(err, errlen, "%s: session %lld: heap_event %lld has an unknown kind '%s'", db_path,
                 (long long)session, (long long)r->seq, kind ? kind : "NULL");
        return -1;
    }
    r->kind = (uint8_t)k;
    static const uint8_t flag[] = {COMB_HR_TS, COMB_HR_PTR, COMB_HR_OLD_PTR, COMB_HR_SIZE, COMB_HR_OLD_SIZE,
                                   COMB_HR_CALLER};
    for (int c = 0; c < 6; c++) {
        if (sqlite3_column_type(st, 3 + c) == SQLITE_NULL)
            continue;
        int64_t v = sqlite3_column_int64(st, 3 + c);
        r->has |= flag[c];
        switch (c) {
        case 0: r->ts = (uint64_t)v; break;
        case 1: r->ptr = (uint32_t)v; break;
        case 2: r->old_ptr = (uint32_t)v; break;
        case 3: r->size = (uint32_t)v; break;
        case 4: r->old_size = (uint32_t)v; break;
        default: r->caller = (uint32_t)v; break;
        }
    }
    r->depth = (uint8_t)sqlite3_column_int(st, 9);
    return 0;
}

int comb_heap_session_load(const char *db_path, int64_t id, comb_heap_session *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    comb_store *store = NULL;
    if (comb_session_db_open(db_path, &store, err, errlen))
        return -1;
    sqlite3 *db = comb_store_handle(store);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (comb_session_pick(db, db_path, id,
                          "SELECT id, source, started_at, build_id, ts_hz, settings, start_ts FROM session WHERE id = ?",
                          &st, NULL, err, errlen))
        goto done;
    int step;
    out->id = id = sqlite3_column_int64(st, 0);
    copy_text(st, 1, out->source, sizeof out->source);
    copy_text(st, 2, out->started_at, sizeof out->started_at);
    copy_text(st, 3, out->build_id, sizeof out->build_id);
    out->ts_hz = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : (uint64_t)sqlite3_column_int64(st, 4);
    copy_text(st, 5, out->settings, sizeof out->settings);
    out->has_start_ts = sqlite3_column_type(st, 6) != SQLITE_NULL;
    out->start_ts = out->has_start_ts ? (uint64_t)sqlite3_column_int64(st, 6) : 0;
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM heap_event WHERE session = ?", -1, &st, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto sqlerr;
    size_t n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    out->raw = calloc(n ? n : 1, sizeof *out->raw);
    if (!out->raw) {
        snprintf(err, errlen, "%s: out of memory for %zu heap events", db_path, n);
        goto done;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT " COMB_HEAP_SESSION_COLUMNS " FROM heap_event WHERE session = ? ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int64(st, 1, id);
    while ((step = sqlite3_step(st)) == SQLITE_ROW && out->n < n) {
        if (comb_heap_session_row(st, db_path, id, &out->raw[out->n], err, errlen))
            goto done;
        out->n++;
    }
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        goto sqlerr;
    rc = 0;
    goto done;
sqlerr:
    snprintf(err, errlen, "%s: database error: %s", db_path, sqlite3_errmsg(db));
done:
    sqlite3_finalize(st);
    comb_store_close(store);
    if (rc)
        comb_heap_session_free(out);
    return rc;
}

void comb_heap_session_free(comb_heap_session *s)
{
    free(s->raw);
    s->raw = NULL;
    s->n = 0;
}
