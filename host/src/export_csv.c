/* comb export csv --table heap|sched|log (include/comb/session_export.h). */
#include <inttypes.h>
#include <string.h>

#include "comb/csv_text.h"
#include "comb/session_export.h"
#include "dashboard_internal.h"

int comb_export_table_parse(const char *name)
{
    if (!strcmp(name, "heap"))
        return COMB_EXPORT_HEAP;
    if (!strcmp(name, "sched"))
        return COMB_EXPORT_SCHED;
    if (!strcmp(name, "log"))
        return COMB_EXPORT_LOG;
    return -1;
}

static void int_or_empty(FILE *f, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) != SQLITE_NULL)
        fprintf(f, "%lld", (long long)sqlite3_column_int64(st, col));
}

int comb_export_csv(comb_dash *d, comb_export_table table, FILE *f, char *err, size_t errlen)
{
    const comb_dash_info *info = &d->info;
    const char *t = info->ts_hz ? "t_s" : "t_ticks";
    const char *sql;
    switch (table) {
    case COMB_EXPORT_HEAP:
        fprintf(f, "seq,offset,%s,kind,ts,ptr,old_ptr,size,old_size,caller,depth\n", t);
        sql = "SELECT seq, offset, ts, kind, ts, ptr, old_ptr, size, old_size, caller, depth FROM heap_event"
              " WHERE session = ?1 ORDER BY offset, seq";
        break;
    case COMB_EXPORT_SCHED:
        fprintf(f, "seq,offset,%s,kind,ts,thr,from_thr,fiber,depth\n", t);
        sql = "SELECT seq, offset, ts, kind, ts, thr, from_thr, fiber, depth FROM sched_event"
              " WHERE session = ?1 ORDER BY ts, offset";
        break;
    case COMB_EXPORT_LOG:
        fputs("seq,port,host_ns,host_s,itm_ts,text\n", f);
        sql = "SELECT seq, port, host_ns, host_ns - (SELECT min(host_ns) FROM log_line WHERE session = ?1), itm_ts,"
              " text FROM log_line"
              " WHERE session = ?1 ORDER BY seq";
        break;
    default:
        snprintf(err, errlen, "unknown table");
        return -1;
    }
    sqlite3_stmt *st;
    if (dash_prepare(d, sql, &st, err, errlen))
        return -1;
    int rc, ncol = sqlite3_column_count(st);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < ncol; c++) {
            if (c)
                fputc(',', f);
            if (table != COMB_EXPORT_LOG && c == 2) { /* session time */
                if (sqlite3_column_type(st, 2) != SQLITE_NULL)
                    comb_csv_double(f, comb_dash_time(info, sqlite3_column_int64(st, 2)));
            } else if (table == COMB_EXPORT_LOG && c == 3) {
                comb_csv_double(f, (double)sqlite3_column_int64(st, 3) / 1e9);
            } else if (table == COMB_EXPORT_LOG && c == 5) {
                const void *p = sqlite3_column_blob(st, 5);
                comb_csv_field(f, p ? p : "", (size_t)sqlite3_column_bytes(st, 5));
            } else if (sqlite3_column_type(st, c) == SQLITE_TEXT) {
                const char *s = (const char *)sqlite3_column_text(st, c);
                comb_csv_field(f, s, strlen(s));
            } else {
                int_or_empty(f, st, c);
            }
        }
        fputc('\n', f);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : dash_sql_error(d, err, errlen);
}
