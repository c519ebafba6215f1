/*
 * index.html of `comb dashboard` (docs/dashboards.md): a static page (no
 * server, no network, works from file://) made from the template
 * dashboards/index.html.in, whose {{name}} placeholders are replaced:
 *   {{title}}    page title (text)
 *   {{session}}  the session's facts (a table)
 *   {{plots}}    the plot figures (SVG images, each linking its PNG)
 *   {{heap}}     the heap report: peaks, failures, blocks live at the end,
 *                Drone's per-size table, top allocation sites
 *   {{layout}}   the pools (the --layout's, or the size classes) and their use
 *   {{latency}}  the per-thread latency and run-time table
 *   {{log}}      lines per log port
 *   {{footer}}   how the page was made
 * A small inline script marks images that failed to load and sets
 * data-plots-loaded="N/M" on <body>.
 */
#ifndef COMB_DASHBOARD_HTML_H
#define COMB_DASHBOARD_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/dashboard_data.h"
#include "comb/sched_model.h"
#include "comb/strbuf.h"

typedef struct comb_dash_plot {
    const char *name;     /* file stem: NAME.svg, NAME.png */
    const char *title;
    const char *caption;  /* how to read it */
    bool drawn;           /* false: why_not is shown instead */
    const char *why_not;
    const char *note;     /* optional warning under the caption (a timeline cut at its row limit); NULL: none */
} comb_dash_plot;

typedef struct comb_dash_latency_row {
    char name[224];
    uint64_t wakeups, runs;
    uint64_t latency_count, run_count;
    double latency_us[5]; /* min, p50, p90, p99, max */
    double run_us[5];
    double cpu_share;     /* fraction; < 0 unknown */
    bool fiber;           /* a fiber: no wakeups, no latency */
} comb_dash_latency_row;

typedef struct comb_dash_latency_table {
    comb_dash_latency_row *rows;
    size_t n;
    char source[160];     /* where the figures come from */
    char unit[8];         /* "µs" or "ticks" */
} comb_dash_latency_table;

/* The table from the dashboard's own SQL aggregation (run time: enter to exit,
 * nested runs included). 0 or -1 (memory). */
int comb_dash_latency_from_sched(const comb_dash *d, const comb_dash_sched *s, comb_dash_latency_table *t);

#define COMB_DASH_MAX_FIBER_ROWS 64

/* The table from `comb fibers report`'s reconstruction (sched_model.h: run
 * time is self time; fibers get rows too, at most COMB_DASH_MAX_FIBER_ROWS,
 * the busiest first), named as comb_dash_set_names says. 0 or -1 (memory). */
int comb_dash_latency_from_report(const comb_dash *d, const comb_sched_result *r, comb_dash_latency_table *t);
void comb_dash_latency_free(comb_dash_latency_table *t);

typedef struct comb_dash_page {
    const char *db_path;
    const comb_dash_info *info;
    const comb_dash_data *data;
    const comb_dash_plot *plots;
    size_t nplots;
    const comb_dash_latency_table *latency;
    const char *command;  /* the command line, for the footer */
    /* optional: names a caller address ("main+0x1a (main.c:42)"); NULL: hex only */
    const char *(*symbolize)(void *ctx, uint32_t addr, char *buf, size_t cap);
    void *symbolize_ctx;
} comb_dash_page;

/* Fills the template (tmpl, len bytes) into out. 0, or -1 (memory). */
int comb_dash_html(const char *tmpl, size_t len, const comb_dash_page *p, comb_strbuf *out);

#endif
