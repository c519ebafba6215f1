/* The dashboard's log data (include/comb/dashboard_data.h): lines per port and
 * their rate over host time, as GROUP BY queries over log_line. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comb/csv_text.h"
#include "dashboard_internal.h"

#define MIN_SLICE_NS 1000000.0 /* a rate over less than 1 ms says little */

int comb_dash_log_run(comb_dash *d, unsigned buckets, FILE *f, comb_dash_log *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT port, count(*), total(length(text)), min(host_ns), max(host_ns) FROM log_line"
                     " WHERE session = ?1 GROUP BY port ORDER BY port",
                     &st, err, errlen))
        return -1;
    int rc;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        comb_dash_port *p = realloc(l->ports, (l->nports + 1) * sizeof *p);
        if (!p) {
            sqlite3_finalize(st);
            comb_dash_log_free(l);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        l->ports = p;
        l->ports[l->nports++] = (comb_dash_port){.port = (unsigned)sqlite3_column_int(st, 0),
                                                 .lines = (uint64_t)sqlite3_column_int64(st, 1),
                                                 .bytes = (uint64_t)sqlite3_column_double(st, 2)};
        int64_t a = sqlite3_column_int64(st, 3), b = sqlite3_column_int64(st, 4);
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        comb_dash_log_free(l);
        return dash_sql_error(d, err, errlen);
    }
    if (!l->nports || !f)
        return 0;
    l->span_s = (double)(hi - lo) / 1e9;
    unsigned n = buckets ? buckets : 1;
    double width = (double)(hi - lo + 1) / n;
    if (width < MIN_SLICE_NS) {
        width = MIN_SLICE_NS;
        n = (unsigned)ceil((double)(hi - lo + 1) / width);
    }
    uint64_t *count = calloc((size_t)n * l->nports, sizeof *count);
    if (!count) {
        comb_dash_log_free(l);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (dash_prepare(d,
                     "SELECT port, min(CAST((host_ns - ?2) / ?3 AS INTEGER), ?4), count(*) FROM log_line"
                     " WHERE session = ?1 GROUP BY 1, 2",
                     &st, err, errlen)) {
        free(count);
        comb_dash_log_free(l);
        return -1;
    }
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_double(st, 3, width);
    sqlite3_bind_int(st, 4, (int)n - 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        unsigned port = (unsigned)sqlite3_column_int(st, 0);
        int64_t b = sqlite3_column_int64(st, 1);
        for (size_t i = 0; i < l->nports; i++)
            if (l->ports[i].port == port && b >= 0 && b < (int64_t)n)
                count[(size_t)b * l->nports + i] = (uint64_t)sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(count);
        comb_dash_log_free(l);
        return dash_sql_error(d, err, errlen);
    }
    fputs("t_s", f);
    for (size_t i = 0; i < l->nports; i++)
        fprintf(f, ",port %u", l->ports[i].port);
    fputc('\n', f);
    for (unsigned b = 0; b < n; b++) {
        comb_csv_double(f, b * width / 1e9);
        for (size_t i = 0; i < l->nports; i++) {
            fputc(',', f);
            comb_csv_double(f, (double)count[(size_t)b * l->nports + i] / (width / 1e9));
        }
        fputc('\n', f);
    }
    /* the end of the last slice, so that steps draw it too */
    comb_csv_double(f, n * width / 1e9);
    for (size_t i = 0; i < l->nports; i++) {
        fputc(',', f);
        comb_csv_double(f, (double)count[(size_t)(n - 1) * l->nports + i] / (width / 1e9));
    }
    fputc('\n', f);
    free(count);
    return 0;
}

void comb_dash_log_free(comb_dash_log *l)
{
    free(l->ports);
    memset(l, 0, sizeof *l);
}
