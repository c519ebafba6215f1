/*
 * comb dashboard --db FILE [--session N] --out DIR [--layout Drone.toml [--heap NAME]]
 *                [--from T] [--to T] [--elf FIRMWARE.elf] [--scripts DIR]
 *
 * Writes the plots' data (CSV files and meta.gp in DIR/data), draws every plot that has
 * data with gnuplot and the scripts in dashboards/ (PNG and SVG, two gnuplot
 * processes at a time), and writes DIR/index.html (docs/dashboards.md).
 * Prints the path of index.html.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_opts.h"
#include "comb/dashboard_html.h"
#include "comb/elf_symbols.h"
#include "comb/sched_session.h"
#include "commands.h"
#include "dash_cli.h"

#ifndef COMB_DASHBOARDS_DIR
#define COMB_DASHBOARDS_DIR "dashboards"
#endif

#define GNUPLOT_JOBS 2 /* the plots are drawn by this many gnuplot processes at a time */

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb dashboard --db FILE [--session N] --out DIR [--layout Drone.toml [--heap NAME]]\n"
            "                      [--from T] [--to T] [--elf FIRMWARE.elf] [--scripts DIR]\n"
            "\n"
            "Draws the session's plots with gnuplot (PNG and SVG): heap in use per pool (the layout's\n"
            "capacity as a limit with --layout), pool occupancy, requested sizes, wakeup latency\n"
            "histograms and CDFs per thread, a timeline of threads and fibers over [--from, --to] (by\n"
            "default the first 40 runs), log lines per second per port; and DIR/index.html, a static\n"
            "page with the plots, the heap report, the layout and the latency table. The plots' data is\n"
            "in DIR/data (comb export csv --plots writes the same). T: session time in seconds, or with\n"
            "s, ms, us, ns. --elf names threads, fibers and allocation sites in the tables.\n"
            "--scripts: the gnuplot scripts and page template (default: %s).\n"
            "Prints the path of index.html. (docs/dashboards.md)\n",
            COMB_DASHBOARDS_DIR);
}

typedef struct plot_def {
    const char *name, *title, *caption;
} plot_def;

enum { P_HEAP_USAGE, P_POOLS, P_SIZES, P_LAT_HIST, P_LAT_CDF, P_TIMELINE, P_LOG, NPLOTS };

static const plot_def PLOTS[NPLOTS] = {
    {"heap_usage", "Heap in use",
     "Blocks of each pool (or size class) in use, in bytes, stacked; the line is what the program requested. "
     "Each point is the moment of a time slice when the pools held the most."},
    {"pool_occupancy", "Pool occupancy",
     "Most blocks in use at once per pool, against its capacity when a layout was given, and what was in use "
     "at the end."},
    {"alloc_sizes", "Requested sizes", "Requests per requested size (or power-of-two range of sizes)."},
    {"latency_hist", "Latency histograms",
     "Wakeups per thread by the time from the wakeup to the thread's next run; the last bin holds everything "
     "above the largest p99."},
    {"latency_cdf", "Latency CDFs",
     "Fraction of each thread's wakeups served within a latency; the right end is the worst case."},
    {"timeline", "Timeline", "Thread runs and fiber runs over the window, one row each; diamonds are wakeups."},
    {"log_rate", "Log rate", "Log lines per second on each port, over host time since the first line."},
};

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (!b)
                break;
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    bool ok = !ferror(f) && buf;
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static int write_all(const char *path, const char *data, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    bool ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ---- gnuplot ---------------------------------------------------------------------------- */

typedef struct job {
    pid_t pid;
    char script[4300], out[4300];
} job;

static int spawn_gnuplot(job *j, const char *datadir, const char *log)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    char *argv[] = {"gnuplot", "-c", j->script, (char *)datadir, j->out, NULL};
    int rc = posix_spawnp(&j->pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Draws the plots in want[] as PNG and SVG; returns 0 or 1 (message printed). */
static int draw(const char *scripts, const char *outdir, const char *datadir, const bool want[NPLOTS])
{
    char log[4300];
    snprintf(log, sizeof log, "%s/gnuplot.log", datadir);
    unlink(log);
    job jobs[2 * NPLOTS];
    size_t n = 0;
    for (int p = 0; p < NPLOTS; p++)
        for (int fmt = 0; fmt < 2; fmt++) {
            job *j = &jobs[n];
            snprintf(j->script, sizeof j->script, "%s/%s.gp", scripts, PLOTS[p].name);
            snprintf(j->out, sizeof j->out, "%s/%s.%s", outdir, PLOTS[p].name, fmt ? "svg" : "png");
            unlink(j->out); /* a plot of an earlier run must not stay behind */
            n += want[p];
        }
    size_t next = 0, running = 0, failed = SIZE_MAX;
    int rc = 0;
    while (next < n || running) {
        while (running < GNUPLOT_JOBS && next < n) {
            int e = spawn_gnuplot(&jobs[next], datadir, log);
            if (e) {
                fprintf(stderr, "comb dashboard: cannot run gnuplot: %s (scripts/bootstrap.sh installs gnuplot-nox)\n",
                        strerror(e));
                n = next; /* start nothing more; collect what runs */
                rc = 1;
                break;
            }
            next++;
            running++;
        }
        if (!running)
            break;
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t k = 0; k < next; k++) {
            if (jobs[k].pid != pid)
                continue;
            running--;
            bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && is_file(jobs[k].out);
            if (!ok && failed == SIZE_MAX)
                failed = k;
        }
    }
    if (rc)
        return rc;
    if (failed != SIZE_MAX) {
        fprintf(stderr, "comb dashboard: gnuplot could not draw %s with %s (see %s)\n", jobs[failed].out,
                jobs[failed].script, log);
        return 1;
    }
    return 0;
}

/* ---- the command -------------------------------------------------------------------------- */

static const char *symbolize_cb(void *ctx, uint32_t addr, char *buf, size_t cap)
{
    return comb_elf_symbolize(ctx, addr, buf, cap);
}

/* The latency table: from comb fibers report's reconstruction when the
 * session has scheduler events. 0, or 1 (message printed). */
static int latency_table(const char *db, comb_dash *d, const comb_dash_data *data, comb_dash_latency_table *t)
{
    const comb_dash_info *info = comb_dash_info_of(d);
    if (!info->sched_events)
        return comb_dash_latency_from_sched(d, &data->sched, t) ? (fprintf(stderr, "comb dashboard: out of memory\n"), 1) : 0;
    char err[1200];
    comb_sched_session s;
    comb_sched_result r;
    if (comb_sched_session_report(db, info->id, &s, &r, err, sizeof err)) {
        fprintf(stderr, "comb dashboard: %s\n", err);
        return 1;
    }
    int rc = comb_dash_latency_from_report(d, &r, t);
    comb_sched_result_free(&r);
    if (rc)
        fprintf(stderr, "comb dashboard: out of memory\n");
    return rc ? 1 : 0;
}

static const char *scripts_dir(const char *arg)
{
    if (arg)
        return arg;
    const char *env = getenv("COMB_DASHBOARDS_DIR");
    return env && *env ? env : COMB_DASHBOARDS_DIR;
}

int cmd_dashboard(int argc, char **argv)
{
    dash_args a = {0};
    const char *out = NULL, *scripts_arg = NULL;
    const cli_opt opts[] = {{"--db", "a database file", &a.db, NULL},
                            {"--session", "a session number", &a.session, NULL},
                            {"--out", "a directory", &out, NULL},
                            {"--layout", "a Drone.toml file", &a.layout, NULL},
                            {"--heap", "a heap name", &a.heap, NULL},
                            {"--from", "a session time", &a.from, NULL},
                            {"--to", "a session time", &a.to, NULL},
                            {"--elf", "the firmware ELF file", &a.elf, NULL},
                            {"--scripts", "a directory", &scripts_arg, NULL}};
    int rc = cli_parse("dashboard", argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc == 3) {
        usage(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (!a.db || !out) {
        fprintf(stderr, "comb dashboard: %s is required (comb dashboard --help)\n", a.db ? "--out DIR" : "--db FILE");
        return 2;
    }
    const char *scripts = scripts_dir(scripts_arg);
    if (strlen(out) > 4000 || strlen(scripts) > 4000) { /* room for the file names under them */
        fprintf(stderr, "comb dashboard: the path of %s is too long\n", strlen(out) > 4000 ? "--out" : "--scripts");
        return 2;
    }
    char path[4200], tmpl_path[4200], css_path[4200];
    snprintf(path, sizeof path, "%s/style.gp", scripts);
    snprintf(tmpl_path, sizeof tmpl_path, "%s/index.html.in", scripts);
    snprintf(css_path, sizeof css_path, "%s/dashboard.css", scripts);
    if (!is_file(path) || !is_file(tmpl_path) || !is_file(css_path)) {
        fprintf(stderr, "comb dashboard: %s does not hold the dashboard scripts (style.gp, index.html.in, "
                        "dashboard.css); give --scripts DIR\n", scripts);
        return 1;
    }
    size_t tmpl_len = 0, css_len = 0;
    char *tmpl = read_all(tmpl_path, &tmpl_len), *css = read_all(css_path, &css_len);
    if (!tmpl || !css) {
        fprintf(stderr, "comb dashboard: cannot read %s: %s\n", tmpl ? css_path : tmpl_path, strerror(errno));
        free(tmpl);
        free(css);
        return 1;
    }
    char err[1200], datadir[4200];
    dash_opened o;
    if ((rc = dash_open("dashboard", &a, &o))) {
        free(tmpl);
        free(css);
        return rc;
    }
    comb_elf_symbols *syms = o.syms;
    comb_dash_data data;
    bool have_data = false;
    comb_dash_latency_table lat = {0};
    comb_strbuf page = {0}, cmdline = {0};
    rc = 1;
    snprintf(datadir, sizeof datadir, "%s/data", out);
    if (mkdir(out, 0777) && errno != EEXIST) {
        fprintf(stderr, "comb dashboard: cannot create directory %s: %s\n", out, strerror(errno));
        goto done;
    }
    if (comb_dash_write_plot_data(o.d, &o.opts, datadir, &data, err, sizeof err)) {
        fprintf(stderr, "comb dashboard: %s\n", err);
        goto done;
    }
    have_data = true;
    dash_report_window("dashboard", o.d, &data.window);
    const comb_dash_info *info = comb_dash_info_of(o.d);
    bool want[NPLOTS] = {
        [P_HEAP_USAGE] = data.has_heap, [P_POOLS] = data.has_heap,         [P_SIZES] = data.has_sizes,
        [P_LAT_HIST] = data.has_sched,  [P_LAT_CDF] = data.has_sched,      [P_TIMELINE] = data.has_timeline,
        [P_LOG] = data.has_log,
    };
    if (draw(scripts, out, datadir, want))
        goto done;
    comb_dash_plot plots[NPLOTS];
    for (int p = 0; p < NPLOTS; p++) {
        plots[p] = (comb_dash_plot){.name = PLOTS[p].name, .title = PLOTS[p].title, .caption = PLOTS[p].caption,
                                    .drawn = want[p]};
        if (p <= P_SIZES)
            plots[p].why_not = info->heap_events ? "No requested sizes in this session." : "No heap events in this session.";
        else if (p == P_TIMELINE)
            plots[p].why_not = info->sched_events ? "No thread or fiber runs in the window." : "No scheduler events in this session.";
        else if (p == P_LOG)
            plots[p].why_not = "No log lines in this session.";
        else
            plots[p].why_not = info->sched_events ? "No wakeup was followed by a run of its thread."
                                                  : "No scheduler events in this session.";
    }
    char cut[400];
    comb_dash_window_note(info, &data.window, cut, sizeof cut);
    plots[P_TIMELINE].note = cut[0] ? cut : NULL;
    if (latency_table(a.db, o.d, &data, &lat))
        goto done;
    if (syms && data.heap.nsites) { /* one addr2line run for every site the page names */
        uint32_t addrs[COMB_DASH_TOP_SITES];
        for (size_t i = 0; i < data.heap.nsites; i++)
            addrs[i] = data.heap.sites[i].caller;
        comb_elf_symbols_lines(syms, addrs, data.heap.nsites);
    }
    for (int i = 0; i < argc; i++) {
        comb_sb_puts(&cmdline, i ? " " : "comb ");
        comb_sb_puts(&cmdline, argv[i]);
    }
    comb_dash_page pg = {.db_path = a.db,
                         .info = info,
                         .data = &data,
                         .plots = plots,
                         .nplots = NPLOTS,
                         .latency = &lat,
                         .command = comb_sb_str(&cmdline),
                         .symbolize = syms ? symbolize_cb : NULL,
                         .symbolize_ctx = syms};
    if (comb_dash_html(tmpl, tmpl_len, &pg, &page)) {
        fprintf(stderr, "comb dashboard: out of memory\n");
        goto done;
    }
    snprintf(path, sizeof path, "%s/dashboard.css", out);
    if (write_all(path, css, css_len)) {
        fprintf(stderr, "comb dashboard: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/index.html", out);
    if (write_all(path, comb_sb_str(&page), page.len)) {
        fprintf(stderr, "comb dashboard: cannot write %s: %s\n", path, strerror(errno));
        goto done;
    }
    printf("%s\n", path);
    rc = fflush(stdout) ? 1 : 0;
done:
    if (have_data)
        comb_dash_data_free(&data);
    comb_dash_latency_free(&lat);
    comb_sb_free(&page);
    comb_sb_free(&cmdline);
    dash_close(&o);
    free(tmpl);
    free(css);
    return rc;
}
