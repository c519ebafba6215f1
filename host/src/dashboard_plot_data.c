/* Every plot's CSV and meta.gp into one directory (comb_dash_write_plot_data,
 * include/comb/dashboard_data.h). Each file is written under a temporary name
 * and renamed into place, so a reader never sees half a file. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard_internal.h"

typedef struct out_file {
    FILE *f;
    char path[1100], tmp[1120];
} out_file;

static int out_open(out_file *o, const char *dir, const char *name, char *err, size_t errlen)
{
    snprintf(o->path, sizeof o->path, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp%ld", o->path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        snprintf(err, errlen, "cannot write %s: %s", o->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

/* keep: rename into place; else remove the temporary file. */
static int out_close(out_file *o, bool keep, char *err, size_t errlen)
{
    if (!o->f)
        return 0;
    bool ok = !ferror(o->f);
    ok = fclose(o->f) == 0 && ok;
    o->f = NULL;
    if (keep && !ok) {
        snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(errno));
        unlink(o->tmp);
        return -1;
    }
    if (!keep) {
        unlink(o->tmp);
        return 0;
    }
    if (rename(o->tmp, o->path)) {
        snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(errno));
        unlink(o->tmp);
        return -1;
    }
    return 0;
}

int dash_make_dir(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        snprintf(err, errlen, "%s exists and is not a directory", dir);
        return -1;
    }
    if (mkdir(dir, 0777) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* A gnuplot single-quoted string ('' stands for '). */
static void gp_string(FILE *f, const char *name, const char *value)
{
    fprintf(f, "%s = '", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\'')
            fputc('\'', f);
        if ((unsigned char)*p >= 0x20)
            fputc(*p, f);
    }
    fputs("'\n", f);
}

static void write_meta(comb_dash *d, const comb_dash_data *data, FILE *f)
{
    const comb_dash_info *i = &d->info;
    const char *unit = comb_dash_time_unit(i);
    char buf[1024];
    fprintf(f, "# The session behind the CSV files of this directory, for the scripts in dashboards/\n"
               "# (written by comb export csv --plots / comb dashboard; docs/dashboards.md).\n");
    const char *base = strrchr(d->path, '/');
    snprintf(buf, sizeof buf, "%s, session %lld", base ? base + 1 : d->path, (long long)i->id);
    gp_string(f, "session_title", buf);
    gp_string(f, "time_unit", unit);
    snprintf(buf, sizeof buf, "session time (%s)", unit);
    gp_string(f, "time_label", buf);
    gp_string(f, "heap_x_label", data->heap.timed ? buf : "heap event number");
    gp_string(f, "latency_unit", i->ts_hz ? "\xc2\xb5s" : "ticks"); /* µs */
    gp_string(f, "log_time_label", "host time since the first line (s)");
    fprintf(f, "heap_capacity = %" PRIu64 "\n", data->heap.has_layout ? data->heap.layout_bytes : (uint64_t)0);
    gp_string(f, "heap_layout", data->heap.has_layout ? data->heap.layout_name : "");
    gp_string(f, "pool_kind", data->heap.has_layout ? "pool" : "size class");
    fprintf(f, "window_from = %.9g\nwindow_to = %.9g\n", comb_dash_time(i, data->window.from),
            comb_dash_time(i, data->window.to));
    /* a window cut at the row limit: the scripts say so in the title */
    fprintf(f, "window_truncated = %d\nwindow_asked_to = %.9g\nwindow_max_rows = %d\n", data->window.truncated ? 1 : 0,
            comb_dash_time(i, data->window.asked_to), COMB_DASH_TIMELINE_MAX_ROWS);
    /* the number of series columns of the CSV files, for the scripts' loops */
    unsigned threads = 0;
    for (size_t t = 0; t < data->sched.nthreads; t++)
        threads += data->sched.threads[t].latency.count > 0;
    fprintf(f, "heap_pools = %u\nlatency_threads = %u\nlog_ports = %zu\n", data->heap.usage.npools, threads,
            data->log.nports);
}

int comb_dash_write_plot_data(comb_dash *d, const comb_dash_options *o, const char *dir, comb_dash_data *data,
                              char *err, size_t errlen)
{
    memset(data, 0, sizeof *data);
    if (dash_make_dir(dir, err, errlen))
        return -1;
    unsigned buckets = o->buckets ? o->buckets : 600;
    enum { USAGE, POOLS, SIZES, HIST, CDF, TIMELINE, LOG, META, NFILES };
    static const char *const names[NFILES] = {"heap_usage.csv",   "heap_pools.csv", "alloc_sizes.csv",
                                              "latency_hist.csv", "latency_cdf.csv", "timeline.csv",
                                              "log_rate.csv",     "meta.gp"};
    out_file f[NFILES];
    memset(f, 0, sizeof f);
    int rc = -1;
    uint64_t size_rows = 0;
    for (int k = 0; k < NFILES; k++)
        if (out_open(&f[k], dir, names[k], err, errlen))
            goto out;
    if (comb_dash_heap_run(d, o->layout, buckets, f[USAGE].f, &data->heap, err, errlen) ||
        comb_dash_heap_pools_csv(&data->heap, f[POOLS].f) || comb_dash_alloc_sizes_csv(d, f[SIZES].f, &size_rows, err, errlen) ||
        comb_dash_sched_run(d, f[HIST].f, f[CDF].f, &data->sched, err, errlen) ||
        comb_dash_timeline_csv(d, &data->sched, o->has_from, o->from, o->has_to, o->to, f[TIMELINE].f,
                               &data->window, err, errlen) ||
        comb_dash_log_run(d, buckets, f[LOG].f, &data->log, err, errlen))
        goto out;
    data->has_heap = d->info.heap_events > 0;
    data->has_sizes = size_rows > 0;
    for (size_t t = 0; t < data->sched.nthreads; t++)
        data->has_sched |= data->sched.threads[t].latency.count > 0;
    data->has_timeline = data->window.runs + data->window.fiber_runs + data->window.wakeups > 0;
    data->has_log = d->info.log_lines > 0;
    write_meta(d, data, f[META].f);
    rc = 0;
out:
    for (int k = 0; k < NFILES; k++)
        if (out_close(&f[k], rc == 0, err, errlen))
            rc = -1;
    if (rc)
        comb_dash_data_free(data);
    return rc;
}

void comb_dash_data_free(comb_dash_data *data)
{
    comb_dash_heap_free(&data->heap);
    comb_dash_sched_free(&data->sched);
    comb_dash_log_free(&data->log);
}
