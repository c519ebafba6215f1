/* index.html of comb dashboard (include/comb/dashboard_html.h). */
#include "comb/dashboard_html.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "comb/drone_layout.h"

static void esc(comb_strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': comb_sb_puts(b, "&amp;"); break;
        case '<': comb_sb_puts(b, "&lt;"); break;
        case '>': comb_sb_puts(b, "&gt;"); break;
        case '"': comb_sb_puts(b, "&quot;"); break;
        default: comb_sb_append(b, s, 1); break;
        }
    }
}

/* 1234567 -> "1,234,567" */
static const char *num(uint64_t v, char *buf)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

/* Empties b for reuse (keeps its memory). */
static void clear(comb_strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

static void row(comb_strbuf *b, const char *th, const char *td_html)
{
    comb_sb_printf(b, "<tr><th>%s</th><td>%s</td></tr>\n", th, td_html);
}

/* "at 1.234567 s" / "at tick 123" / "at heap event 42" */
static void when(const comb_dash_page *p, double x, char *buf, size_t cap)
{
    if (!p->data->heap.timed)
        snprintf(buf, cap, "at heap event %.0f", x);
    else if (p->info->ts_hz)
        snprintf(buf, cap, "at %.6f s", x);
    else
        snprintf(buf, cap, "at tick %.0f", x);
}

/* ---- sections --------------------------------------------------------------------------- */

static void session_section(const comb_dash_page *p, comb_strbuf *b)
{
    const comb_dash_info *i = p->info;
    char n1[32], n2[32], n3[32];
    comb_strbuf v = {0};
    comb_sb_puts(b, "<table class=\"facts\">\n");
    esc(&v, p->db_path);
    comb_sb_printf(&v, ", session %lld (sessions %lld to %lld)", (long long)i->id, (long long)i->first_id,
                   (long long)i->last_id);
    row(b, "database", comb_sb_str(&v));
    clear(&v);
    esc(&v, i->source);
    row(b, "source", comb_sb_str(&v));
    clear(&v);
    esc(&v, i->started_at);
    if (*i->ended_at) {
        comb_sb_puts(&v, " to ");
        esc(&v, i->ended_at);
    }
    if (*i->end_reason) {
        comb_sb_puts(&v, " (");
        esc(&v, i->end_reason);
        comb_sb_puts(&v, ")");
    }
    row(b, "captured", comb_sb_str(&v));
    clear(&v);
    if (*i->build_id) {
        comb_sb_puts(&v, "build id ");
        esc(&v, i->build_id);
        comb_sb_puts(&v, ", ");
    }
    if (i->core_hz)
        comb_sb_printf(&v, "core %.6g MHz, ", (double)i->core_hz / 1e6);
    if (i->ts_hz)
        comb_sb_printf(&v, "timestamps %.6g MHz", (double)i->ts_hz / 1e6);
    else
        comb_sb_puts(&v, "timestamp rate unknown (times in ticks)");
    row(b, "firmware", comb_sb_str(&v));
    clear(&v);
    if (i->has_ts)
        comb_sb_printf(&v, "%.6f %s of target time", (double)comb_dash_time(i, i->t_end),
                       comb_dash_time_unit(i));
    else
        comb_sb_puts(&v, "no timestamped events");
    row(b, "span", comb_sb_str(&v));
    clear(&v);
    comb_sb_printf(&v, "%s heap events, %s scheduler events, %s log lines", num(i->heap_events, n1),
                   num(i->sched_events, n2), num(i->log_lines, n3));
    row(b, "events", comb_sb_str(&v));
    comb_sb_puts(b, "</table>\n");
    comb_sb_free(&v);
}

static void plots_section(const comb_dash_page *p, comb_strbuf *b)
{
    for (size_t k = 0; k < p->nplots; k++) {
        const comb_dash_plot *pl = &p->plots[k];
        comb_sb_printf(b, "<figure class=\"plot%s\" id=\"%s\">\n<figcaption><h3>", pl->drawn ? "" : " empty",
                       pl->name);
        esc(b, pl->title);
        comb_sb_puts(b, "</h3><p>");
        esc(b, pl->drawn ? pl->caption : pl->why_not);
        comb_sb_puts(b, "</p>");
        if (pl->note) {
            comb_sb_puts(b, "<p class=\"warn cut\">Cut: ");
            esc(b, pl->note);
            comb_sb_puts(b, ".</p>");
        }
        comb_sb_puts(b, "</figcaption>\n");
        if (pl->drawn) {
            comb_sb_printf(b, "<a href=\"%s.png\"><img class=\"plot\" src=\"%s.svg\" alt=\"", pl->name, pl->name);
            esc(b, pl->title);
            comb_sb_puts(b, "\"></a>\n");
        }
        comb_sb_puts(b, "</figure>\n");
    }
}

static void heap_section(const comb_dash_page *p, comb_strbuf *b)
{
    const comb_dash_heap *h = &p->data->heap;
    const comb_heap_usage *u = &h->usage;
    char n1[32], n2[32], n3[32], n4[32], n5[32], w[64];
    if (!p->info->heap_events) {
        comb_sb_puts(b, "<p class=\"none\">No heap events in this session.</p>\n");
        return;
    }
    comb_strbuf v = {0};
    comb_sb_puts(b, "<table class=\"facts\">\n");
    comb_sb_printf(&v, "%s allocations, %s frees, %s reallocations that moved, %s that stayed, %s failed requests",
                   num(u->allocs, n1), num(u->frees, n2), num(u->reallocs, n3), num(u->resizes, n4),
                   num(u->fails, n5));
    row(b, "operations", comb_sb_str(&v));
    clear(&v);
    when(p, h->peak_requested_t, w, sizeof w);
    comb_sb_printf(&v, "<b>%s bytes</b> requested at once, in %s blocks, %s", num(u->peak_requested, n1),
                   num(u->peak_requested_blocks, n2), w);
    row(b, "concurrent peak", comb_sb_str(&v));
    clear(&v);
    when(p, h->peak_pool_t, w, sizeof w);
    comb_sb_printf(&v, "%s bytes of %s, %s", num(u->peak_pool_bytes, n1), h->has_layout ? "pool blocks" : "size-class blocks", w);
    row(b, "peak in blocks", comb_sb_str(&v));
    clear(&v);
    comb_sb_printf(&v, "%s blocks, %s bytes requested%s", num(u->live_blocks, n1), num(u->requested, n2),
                   u->live_blocks ? " (possible leaks; comb heap report --elf names their callers)" : "");
    row(b, "live at the end", comb_sb_str(&v));
    clear(&v);
    if (h->has_layout) {
        if (u->failures) {
            when(p, h->first_fail_t, w, sizeof w);
            comb_sb_printf(&v, "<b class=\"bad\">would fail %s of %s requests</b> (%s larger than every block); the "
                               "first, %" PRIu32 " bytes, %s",
                           num(u->failures, n1), num(u->requests, n2), num(u->too_large, n3), u->first_fail_size, w);
        } else {
            comb_sb_printf(&v, "<b class=\"good\">serves all %s requests</b>", num(u->requests, n1));
        }
        if (u->fails_now_ok)
            comb_sb_printf(&v, "; %s of the traced failures would now succeed", num(u->fails_now_ok, n1));
        comb_strbuf name = {0};
        esc(&name, h->layout_name);
        comb_strbuf th = {0};
        comb_sb_printf(&th, "layout [heap.%s]", comb_sb_str(&name));
        row(b, comb_sb_str(&th), comb_sb_str(&v));
        comb_sb_free(&name);
        comb_sb_free(&th);
        clear(&v);
    }
    const comb_heap_anomalies *a = &h->anomalies;
    if (a->free_unknown || a->alloc_live || a->free_unmatched || a->repaired_mod256) {
        comb_sb_printf(&v, "%" PRIu64 " frees of blocks not seen allocated, %" PRIu64
                           " allocations over a live block (its free was lost), %" PRIu64 " unmatched size-only frees",
                       a->free_unknown, a->alloc_live, a->free_unmatched);
        row(b, "trace anomalies", comb_sb_str(&v));
        clear(&v);
    }
    comb_sb_puts(b, "</table>\n");
    /* Drone's table, as comb heap report prints it */
    comb_drone_stats_render(&u->sizes, h->has_layout ? (uint32_t)(h->layout_bytes > UINT32_MAX ? 0 : h->layout_bytes) : 0,
                            &v);
    comb_sb_printf(b, "<details%s><summary>Drone's per-size table (%zu sizes)</summary>\n<pre>",
                   u->sizes.n <= 24 ? " open" : "", u->sizes.n);
    esc(b, comb_sb_str(&v));
    comb_sb_puts(b, "</pre></details>\n");
    if (h->nsites) {
        comb_sb_puts(b, "<table class=\"data\"><caption>Top allocation sites (caller addresses; "
                        "<code>comb heap report --elf</code> names them)</caption>\n"
                        "<tr><th>caller</th><th>allocations</th><th>bytes</th></tr>\n");
        for (size_t i = 0; i < h->nsites; i++) {
            char sym[300];
            const char *name = p->symbolize ? p->symbolize(p->symbolize_ctx, h->sites[i].caller, sym, sizeof sym) : NULL;
            comb_sb_printf(b, "<tr><td><code>0x%08" PRIx32 "</code>", h->sites[i].caller);
            if (name) {
                comb_sb_puts(b, " ");
                esc(b, name);
            }
            comb_sb_printf(b, "</td><td>%s</td><td>%s</td></tr>\n", num(h->sites[i].allocs, n1),
                           num(h->sites[i].bytes, n2));
        }
        comb_sb_puts(b, "</table>\n");
    }
    comb_sb_free(&v);
}

static void layout_section(const comb_dash_page *p, comb_strbuf *b)
{
    const comb_dash_heap *h = &p->data->heap;
    char n1[32], n2[32], n3[32], n4[32], label[32];
    if (!p->info->heap_events) {
        comb_sb_puts(b, "<p class=\"none\">No heap events in this session.</p>\n");
        return;
    }
    if (h->has_layout) {
        comb_sb_puts(b, "<p>Pools of <code>[heap.");
        esc(b, h->layout_name);
        comb_sb_printf(b, "]</code> (%s bytes), with the session replayed through the allocator's policy "
                          "(smallest free block that fits, then larger pools).</p>\n",
                       num(h->layout_bytes, n1));
    } else {
        comb_sb_puts(b, "<p>No <code>--layout</code>: the requests are grouped in power-of-two size classes "
                        "without a capacity.</p>\n");
    }
    comb_sb_printf(b, "<table class=\"data\">\n<tr><th>%s</th><th>block</th>%s<th>peak in use</th>%s"
                      "<th>requests served</th><th>borrowed from a smaller size</th></tr>\n",
                   h->has_layout ? "pool" : "size class",
                   h->has_layout ? "<th>capacity</th><th>bytes</th>" : "", h->has_layout ? "<th>peak / capacity</th>" : "");
    for (unsigned i = 0; i < h->usage.npools; i++) {
        const comb_usage_pool *u = &h->usage.pools[i];
        comb_dash_pool_label(h, i, label, sizeof label);
        comb_sb_puts(b, "<tr><td>");
        esc(b, label);
        comb_sb_printf(b, "</td><td>%s</td>", num(u->block, n1));
        if (h->has_layout)
            comb_sb_printf(b, "<td>%s</td><td>%s</td>", num(u->capacity, n2),
                           num((uint64_t)u->capacity * u->block, n3));
        comb_sb_printf(b, "<td>%s</td>", num(u->peak, n4));
        if (h->has_layout) {
            double pct = u->capacity ? 100.0 * u->peak / u->capacity : 0;
            comb_sb_printf(b, "<td class=\"%s\">%.0f%%</td>", pct >= 100 ? "bad" : pct >= 90 ? "warn" : "", pct);
        }
        comb_sb_printf(b, "<td>%s</td><td>%s</td></tr>\n", num(u->served, n1), num(u->borrowed, n2));
    }
    comb_sb_puts(b, "</table>\n");
}

static void latency_section(const comb_dash_page *p, comb_strbuf *b)
{
    const comb_dash_latency_table *t = p->latency;
    char n1[32], n2[32], n3[32];
    if (!t || !t->n) {
        comb_sb_puts(b, "<p class=\"none\">No scheduler events in this session.</p>\n");
        return;
    }
    comb_sb_puts(b, "<table class=\"data num\">\n<caption>Latency: from a wakeup to the thread's next run. ");
    esc(b, t->source);
    comb_sb_printf(b, ". Times in %s.</caption>\n", t->unit);
    comb_sb_puts(b, "<tr><th rowspan=\"2\">thread</th><th rowspan=\"2\">wakeups</th><th rowspan=\"2\">runs</th>"
                    "<th colspan=\"6\">latency</th><th colspan=\"4\">run time</th><th rowspan=\"2\">CPU</th></tr>\n"
                    "<tr><th>count</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>max</th>"
                    "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
    for (size_t i = 0; i < t->n; i++) {
        const comb_dash_latency_row *r = &t->rows[i];
        comb_sb_puts(b, "<tr><td>");
        esc(b, r->name);
        if (r->fiber)
            comb_sb_printf(b, "</td><td>&ndash;</td><td>%s</td><td>&ndash;</td>", num(r->runs, n2));
        else
            comb_sb_printf(b, "</td><td>%s</td><td>%s</td><td>%s</td>", num(r->wakeups, n1), num(r->runs, n2),
                           num(r->latency_count, n3));
        for (int k = 0; k < 5; k++)
            comb_sb_printf(b, r->latency_count ? "<td>%.3f</td>" : "<td>&ndash;</td>", r->latency_us[k]);
        for (int k = 1; k < 5; k++)
            comb_sb_printf(b, r->run_count ? "<td>%.3f</td>" : "<td>&ndash;</td>", r->run_us[k]);
        if (r->cpu_share >= 0)
            comb_sb_printf(b, "<td>%.1f%%</td></tr>\n", 100 * r->cpu_share);
        else
            comb_sb_puts(b, "<td>&ndash;</td></tr>\n");
    }
    comb_sb_puts(b, "</table>\n");
}

static void log_section(const comb_dash_page *p, comb_strbuf *b)
{
    const comb_dash_log *l = &p->data->log;
    char n1[32], n2[32];
    if (!l->nports) {
        comb_sb_puts(b, "<p class=\"none\">No log lines in this session.</p>\n");
        return;
    }
    comb_sb_puts(b, "<table class=\"data\">\n<tr><th>port</th><th>lines</th><th>bytes</th></tr>\n");
    for (size_t i = 0; i < l->nports; i++)
        comb_sb_printf(b, "<tr><td>%u%s</td><td>%s</td><td>%s</td></tr>\n", l->ports[i].port,
                       l->ports[i].port == 0 ? " (stdout)" : l->ports[i].port == 1 ? " (stderr)" : "",
                       num(l->ports[i].lines, n1), num(l->ports[i].bytes, n2));
    comb_sb_printf(b, "</table>\n<p>Over %.3f s of host time from the first line to the last.</p>\n", l->span_s);
}

/* ---- latency table from the SQL aggregation -------------------------------------------- */

int comb_dash_latency_from_sched(const comb_dash *d, const comb_dash_sched *s, comb_dash_latency_table *t)
{
    const comb_dash_info *info = comb_dash_info_of(d);
    memset(t, 0, sizeof *t);
    snprintf(t->source, sizeof t->source, "Computed by comb dashboard in SQL (run time: enter to exit, preemptions included)");
    snprintf(t->unit, sizeof t->unit, "%s", info->ts_hz ? "\xc2\xb5s" : "ticks");
    if (!s->nthreads)
        return 0;
    t->rows = calloc(s->nthreads, sizeof *t->rows);
    if (!t->rows)
        return -1;
    for (size_t i = 0; i < s->nthreads; i++) {
        const comb_dash_thread *x = &s->threads[i];
        comb_dash_latency_row *r = &t->rows[t->n++];
        comb_dash_thread_label(d, x->thr, r->name, sizeof r->name);
        r->wakeups = x->wakeups;
        r->runs = x->runs;
        r->latency_count = x->latency.count;
        r->run_count = x->run_time.count;
        const uint64_t lat[5] = {x->latency.min, x->latency.p50, x->latency.p90, x->latency.p99, x->latency.max};
        const uint64_t run[5] = {x->run_time.min, x->run_time.p50, x->run_time.p90, x->run_time.p99,
                                 x->run_time.max};
        for (int k = 0; k < 5; k++) {
            r->latency_us[k] = comb_dash_duration_us(info, lat[k]);
            r->run_us[k] = comb_dash_duration_us(info, run[k]);
        }
        r->cpu_share = s->span_ticks ? x->cpu_share : -1;
    }
    return 0;
}

static void stats_us(const comb_dash_info *info, const comb_sched_stats *s, double us[5])
{
    const uint64_t v[5] = {s->min, s->p50, s->p90, s->p99, s->max};
    for (int k = 0; k < 5; k++)
        us[k] = comb_dash_duration_us(info, v[k]);
}

static int by_self_ticks(const void *a, const void *b)
{
    const comb_sched_fiber *x = *(const comb_sched_fiber *const *)a, *y = *(const comb_sched_fiber *const *)b;
    return (x->self_ticks < y->self_ticks) - (x->self_ticks > y->self_ticks);
}

int comb_dash_latency_from_report(const comb_dash *d, const comb_sched_result *r, comb_dash_latency_table *t)
{
    const comb_dash_info *info = comb_dash_info_of(d);
    memset(t, 0, sizeof *t);
    snprintf(t->source, sizeof t->source,
             "From comb fibers report's reconstruction (run time: self time, without preemptions)");
    snprintf(t->unit, sizeof t->unit, "%s", info->ts_hz ? "\xc2\xb5s" : "ticks");
    size_t nf = r->nfibers < COMB_DASH_MAX_FIBER_ROWS ? r->nfibers : COMB_DASH_MAX_FIBER_ROWS;
    t->rows = calloc(r->nthreads + nf + 1, sizeof *t->rows);
    const comb_sched_fiber **fibers = calloc(r->nfibers + 1, sizeof *fibers);
    if (!t->rows || !fibers) {
        free(fibers);
        comb_dash_latency_free(t);
        return -1;
    }
    uint64_t span = r->last_ts - r->first_ts;
    for (size_t i = 0; i < r->nthreads; i++) {
        const comb_sched_thread *x = &r->threads[i];
        comb_dash_latency_row *row = &t->rows[t->n++];
        comb_dash_thread_label(d, x->thr, row->name, sizeof row->name);
        row->wakeups = x->wakeups;
        row->runs = x->runs;
        row->latency_count = x->latency.count;
        row->run_count = x->run_time.count;
        stats_us(info, &x->latency, row->latency_us);
        stats_us(info, &x->run_time, row->run_us);
        row->cpu_share = span ? (double)x->self_ticks / (double)span : -1;
    }
    /* the busiest fibers, shown in thread and address order */
    for (size_t i = 0; i < r->nfibers; i++)
        fibers[i] = &r->fibers[i];
    qsort(fibers, r->nfibers, sizeof *fibers, by_self_ticks);
    for (size_t i = 0; i < r->nfibers; i++) {
        const comb_sched_fiber *x = &r->fibers[i];
        bool shown = false;
        for (size_t k = 0; k < nf && !shown; k++)
            shown = fibers[k] == x;
        if (!shown)
            continue;
        comb_dash_latency_row *row = &t->rows[t->n++];
        char name[160];
        comb_dash_fiber_label(d, x->fiber, name, sizeof name);
        snprintf(row->name, sizeof row->name, "%s in thread %u", name, (unsigned)x->thr);
        row->fiber = true;
        row->runs = x->resumes;
        row->run_count = x->run_time.count;
        stats_us(info, &x->run_time, row->run_us);
        row->cpu_share = span ? (double)x->self_ticks / (double)span : -1;
    }
    if (r->nfibers > nf)
        snprintf(t->source + strlen(t->source), sizeof t->source - strlen(t->source), "; the %zu busiest of %zu fibers",
                 nf, r->nfibers);
    free(fibers);
    return 0;
}

void comb_dash_latency_free(comb_dash_latency_table *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}

/* ---- the template ----------------------------------------------------------------------- */

int comb_dash_html(const char *tmpl, size_t len, const comb_dash_page *p, comb_strbuf *out)
{
    static const char *const names[] = {"title", "session", "plots", "heap", "layout", "latency", "log", "footer"};
    for (size_t i = 0; i < len;) {
        const char *open = NULL;
        if (i + 1 < len && tmpl[i] == '{' && tmpl[i + 1] == '{')
            open = tmpl + i;
        size_t k = 0;
        size_t nlen = 0;
        if (open) {
            for (; k < sizeof names / sizeof names[0]; k++) {
                nlen = strlen(names[k]);
                if (i + 4 + nlen <= len && !strncmp(open + 2, names[k], nlen) && !strncmp(open + 2 + nlen, "}}", 2))
                    break;
            }
        }
        if (!open || k == sizeof names / sizeof names[0]) {
            comb_sb_append(out, tmpl + i, 1);
            i++;
            continue;
        }
        i += 4 + nlen;
        switch (k) {
        case 0: {
            char t[700];
            const char *base = strrchr(p->db_path, '/');
            snprintf(t, sizeof t, "comb dashboard: %s, session %lld", base ? base + 1 : p->db_path,
                     (long long)p->info->id);
            esc(out, t);
            break;
        }
        case 1: session_section(p, out); break;
        case 2: plots_section(p, out); break;
        case 3: heap_section(p, out); break;
        case 4: layout_section(p, out); break;
        case 5: latency_section(p, out); break;
        case 6: log_section(p, out); break;
        default:
            comb_sb_puts(out, "Made by <code>");
            esc(out, p->command ? p->command : "comb dashboard");
            comb_sb_puts(out, "</code> from the session database; plots by gnuplot from the CSV files in "
                              "<a href=\"data/\">data/</a> (scripts: dashboards/ in the comb sources).");
            break;
        }
    }
    return out->oom ? -1 : 0;
}
