/* `comb fibers report` rendering (include/comb/sched_report.h). */
#include "comb/sched_report.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t comb_sched_problem_total(const comb_sched_problems *p)
{
    return p->open_at_end + p->exit_without_enter + p->lost_ends + p->fiber_not_running +
           p->fiber_end_without_resume + p->loss_points + p->out_of_order + p->overflows + p->skipped_rows +
           p->ts_outliers;
}

/* ---- numbers --------------------------------------------------------------------------- */

/* The shortest %g text that reads back as the same double (JSON has no NaN/inf). */
static void put_double(comb_strbuf *out, double v)
{
    char buf[40];
    if (v != v || v > 1.7e308 || v < -1.7e308) {
        comb_sb_puts(out, "null");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    comb_sb_puts(out, buf);
}

/* ticks * num / den as a JSON number: an integer when exact, else a double;
 * null when den is 0 (clock unknown). */
static void put_ratio(comb_strbuf *out, uint64_t ticks, uint64_t num, uint64_t den)
{
    if (!den || !num) {
        comb_sb_puts(out, "null");
        return;
    }
    if (num <= UINT32_MAX && den <= UINT32_MAX) {
        uint64_t q = ticks / den, r = ticks % den;
        if (q <= UINT64_MAX / num) {
            uint64_t rn = r * num; /* < 2^64: r < den <= 2^32, num <= 2^32 */
            uint64_t whole = q * num, add = rn / den;
            if (whole <= UINT64_MAX - add) {
                whole += add;
                if (rn % den == 0) {
                    comb_sb_printf(out, "%" PRIu64, whole);
                    return;
                }
                put_double(out, (double)whole + (double)(rn % den) / (double)den);
                return;
            }
        }
    }
    put_double(out, (double)((long double)ticks * (long double)num / (long double)den));
}

static double us_of(uint64_t ticks, uint64_t ts_hz)
{
    return (double)((long double)ticks * 1e6L / (long double)ts_hz);
}

static double share(uint64_t self, const comb_sched_result *r)
{
    uint64_t span = r->last_ts - r->first_ts;
    return span ? (double)self / (double)span : 0.0;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* {"min":..,"p50":..,"p90":..,"p99":..,"max":..} in one unit */
static void json_five(comb_strbuf *out, const comb_sched_stats *s, uint64_t num, uint64_t den)
{
    const uint64_t v[5] = {s->min, s->p50, s->p90, s->p99, s->max};
    static const char *const key[5] = {"min", "p50", "p90", "p99", "max"};
    comb_sb_puts(out, "{");
    for (int i = 0; i < 5; i++) {
        comb_sb_printf(out, "%s\"%s\":", i ? "," : "", key[i]);
        if (!s->count)
            comb_sb_puts(out, "null");
        else if (num == 1 && den == 1)
            comb_sb_printf(out, "%" PRIu64, v[i]);
        else
            put_ratio(out, v[i], num, den);
    }
    comb_sb_puts(out, "}");
}

static void json_stats(comb_strbuf *out, const comb_sched_stats *s, const comb_sched_report_context *c)
{
    comb_sb_printf(out, "{\"count\":%" PRIu64 ",\"ticks\":", s->count);
    json_five(out, s, 1, 1);
    comb_sb_puts(out, ",\"cycles\":");
    json_five(out, s, c->core_hz, c->ts_hz);
    comb_sb_puts(out, ",\"us\":");
    json_five(out, s, 1000000, c->ts_hz);
    comb_sb_puts(out, "}");
}

static void json_longest(comb_strbuf *out, const comb_sched_longest *l, const comb_sched_report_context *c)
{
    if (!l->valid) {
        comb_sb_puts(out, "{\"start_ts\":null,\"ticks\":null,\"cycles\":null,\"us\":null}");
        return;
    }
    comb_sb_printf(out, "{\"start_ts\":%" PRIu64 ",\"ticks\":%" PRIu64 ",\"cycles\":", l->start_ts, l->ticks);
    put_ratio(out, l->ticks, c->core_hz, c->ts_hz);
    comb_sb_puts(out, ",\"us\":");
    put_ratio(out, l->ticks, 1000000, c->ts_hz);
    comb_sb_puts(out, "}");
}

static void json_hz(comb_strbuf *out, uint64_t hz)
{
    if (hz)
        comb_sb_printf(out, "%" PRIu64, hz);
    else
        comb_sb_puts(out, "null");
}

void comb_sched_report_json(const comb_sched_result *r, const comb_sched_report_context *c, comb_strbuf *out)
{
    char buf[256];
    comb_sb_printf(out, "{\"session\":%" PRId64 ",\"core_hz\":", c->session);
    json_hz(out, c->core_hz);
    comb_sb_puts(out, ",\"ts_hz\":");
    json_hz(out, c->ts_hz);
    uint64_t span = r->last_ts - r->first_ts;
    comb_sb_printf(out, ",\"events\":%" PRIu64 ",\"span\":{\"ticks\":%" PRIu64 ",\"us\":", r->events, span);
    put_ratio(out, span, 1000000, c->ts_hz);
    comb_sb_puts(out, "},\"threads\":[");
    for (size_t i = 0; i < r->nthreads; i++) {
        const comb_sched_thread *t = &r->threads[i];
        const char *name = c->thread_name ? c->thread_name(c->names_ctx, t->thr, buf, sizeof buf) : NULL;
        comb_sb_printf(out, "%s{\"thr\":%u,\"name\":", i ? "," : "", (unsigned)t->thr);
        comb_sb_json_str(out, name);
        comb_sb_printf(out, ",\"runs\":%" PRIu64 ",\"wakeups\":%" PRIu64 ",\"coalesced\":%" PRIu64 ",\"latency\":",
                       t->runs, t->wakeups, t->coalesced);
        json_stats(out, &t->latency, c);
        comb_sb_puts(out, ",\"run_time\":");
        json_stats(out, &t->run_time, c);
        comb_sb_puts(out, ",\"cpu_share\":");
        put_double(out, share(t->self_ticks, r));
        comb_sb_puts(out, ",\"longest_run\":");
        json_longest(out, &t->longest, c);
        comb_sb_puts(out, "}");
    }
    comb_sb_puts(out, "],\"fibers\":[");
    for (size_t i = 0; i < r->nfibers; i++) {
        const comb_sched_fiber *f = &r->fibers[i];
        const char *name = c->fiber_name ? c->fiber_name(c->names_ctx, f->fiber, buf, sizeof buf) : NULL;
        comb_sb_printf(out, "%s{\"thr\":%u,\"fiber\":%" PRIu32 ",\"name\":", i ? "," : "", (unsigned)f->thr, f->fiber);
        comb_sb_json_str(out, name);
        comb_sb_printf(out,
                       ",\"added\":%" PRIu64 ",\"resumes\":%" PRIu64 ",\"yields\":%" PRIu64 ",\"completions\":%" PRIu64
                       ",\"run_time\":",
                       f->added, f->resumes, f->yields, f->completions);
        json_stats(out, &f->run_time, c);
        comb_sb_puts(out, ",\"cpu_share\":");
        put_double(out, share(f->self_ticks, r));
        comb_sb_puts(out, ",\"longest_run\":");
        json_longest(out, &f->longest, c);
        comb_sb_puts(out, "}");
    }
    const comb_sched_problems *p = &r->problems;
    comb_sb_printf(out,
                   "],\"problems\":{\"total\":%" PRIu64 ",\"open_at_end\":%" PRIu64 ",\"exit_without_enter\":%" PRIu64
                   ",\"lost_ends\":%" PRIu64 ",\"fiber_not_running\":%" PRIu64 ",\"fiber_end_without_resume\":%" PRIu64
                   ",\"out_of_order\":%" PRIu64 ",\"loss_points\":%" PRIu64 ",\"runs_cut\":%" PRIu64
                   ",\"wakeups_cut\":%" PRIu64 ",\"dropped_events\":%" PRIu64 ",\"dropped_packets\":%" PRIu64
                   ",\"decode_errors\":%" PRIu64 ",\"overflows\":%" PRIu64 ",\"skipped_rows\":%" PRIu64
                   ",\"ts_outliers\":%" PRIu64 ",\"same_tick_reorders\":%" PRIu64 "}}\n",
                   comb_sched_problem_total(p), p->open_at_end, p->exit_without_enter, p->lost_ends,
                   p->fiber_not_running, p->fiber_end_without_resume, p->out_of_order, p->loss_points, p->runs_cut,
                   p->wakeups_cut, p->dropped_events, p->dropped_packets, p->decode_errors, p->overflows,
                   p->skipped_rows, p->ts_outliers, r->same_tick_reorders);
}

/* ---- text --------------------------------------------------------------------------------- */

/* One time column, 8 wide: microseconds with as many decimals as fit, or
 * ticks when the clock is unknown; "-" when there is no value. */
static void col_time(comb_strbuf *out, bool has, uint64_t ticks, const comb_sched_report_context *c)
{
    if (!has) {
        comb_sb_printf(out, " %8s", "-");
        return;
    }
    if (!c->ts_hz) {
        comb_sb_printf(out, " %8" PRIu64, ticks);
        return;
    }
    double us = us_of(ticks, c->ts_hz);
    if (us < 9999.995)
        comb_sb_printf(out, " %8.2f", us);
    else if (us < 999999.95)
        comb_sb_printf(out, " %8.1f", us);
    else if (us < 99999999.5)
        comb_sb_printf(out, " %8.0f", us);
    else
        comb_sb_printf(out, " %8.2g", us);
}

/* One time column in core cycles, 8 wide (ticks * core_hz / ts_hz,
 * rounded); "-" when there is no value. */
static void col_cycles(comb_strbuf *out, bool has, uint64_t ticks, const comb_sched_report_context *c)
{
    if (!has) {
        comb_sb_printf(out, " %8s", "-");
        return;
    }
    long double cyc = (long double)ticks * (long double)c->core_hz / (long double)c->ts_hz;
    if (cyc < 99999999.5L)
        comb_sb_printf(out, " %8.0Lf", cyc);
    else
        comb_sb_printf(out, " %8.2Lg", cyc);
}

/* Both clocks known: each row gets a second line in core cycles. */
static bool with_cycles(const comb_sched_report_context *c)
{
    return c->ts_hz && c->core_hz;
}

static void col_share(comb_strbuf *out, uint64_t self, const comb_sched_result *r)
{
    comb_sb_printf(out, " %6.1f%%", share(self, r) * 100.0);
}

#define NAME_COLS 15
#define OFFSET_COLS 6 /* "+0xfff": the offsets of pool blocks within their pool symbol */

/* A name cut to NAME_COLS columns for a table, one style for all: the symbol
 * cut to the same SYMBOL head and '~', then the offset when it has one, whole:
 * "comb_heap__mem_main" -> "comb_hea~", "comb_heap__mem_main+0x30" ->
 * "comb_hea~+0x30" (a longer offset takes columns from the head). Names that
 * fit are shown as they are; "-" for none. */
static const char *fit_name(const char *name, char *buf, size_t cap)
{
    if (!name)
        return "-";
    size_t len = strlen(name);
    if (len <= NAME_COLS || cap <= NAME_COLS)
        return name;
    const char *plus = strrchr(name, '+');
    size_t tail = plus && plus != name ? len - (size_t)(plus - name) : 0;
    if (tail > NAME_COLS - 2)
        tail = 0; /* not an offset */
    size_t head = NAME_COLS - 1 - (tail > OFFSET_COLS ? tail : OFFSET_COLS);
    snprintf(buf, cap, "%.*s~%s", (int)head, name, tail ? plus : "");
    return buf;
}

static void plural(comb_strbuf *out, uint64_t n, const char *one, const char *many)
{
    comb_sb_printf(out, "%" PRIu64 " %s", n, n == 1 ? one : many);
}

static void span_line(const comb_sched_result *r, const comb_sched_report_context *c, comb_strbuf *out)
{
    uint64_t span = r->last_ts - r->first_ts;
    comb_sb_printf(out, "Session %" PRId64 ": ", c->session);
    plural(out, r->events, "scheduler event", "scheduler events");
    if (c->ts_hz) {
        comb_sb_printf(out, " over %.3f ms (%" PRIu64 " ticks at %.6g MHz", us_of(span, c->ts_hz) / 1000.0, span,
                       (double)c->ts_hz / 1e6);
        if (c->core_hz)
            comb_sb_printf(out, "; core clock %.6g MHz", (double)c->core_hz / 1e6);
        comb_sb_puts(out, ")\n");
    } else {
        comb_sb_printf(out, " over %" PRIu64 " ticks (no session_start: clocks unknown, times in ticks)\n", span);
    }
}

/* One line per kind of problem, each within 100 columns (continuations are
 * indented under the text). */
static void warnings(const comb_sched_problems *p, comb_strbuf *out)
{
    if (p->open_at_end) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->open_at_end, "run was", "runs were");
        comb_sb_puts(out, " still open when the capture stopped (no exit, yield or completion yet):\n"
                          "         not counted\n");
    }
    if (p->exit_without_enter) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->exit_without_enter, "thread_exit", "thread_exits");
        comb_sb_puts(out, " of a thread that was not running (its thread_enter is missing): ignored\n");
    }
    if (p->lost_ends) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->lost_ends, "run never ended", "runs never ended");
        comb_sb_puts(out, " (an enclosing run ended, or the same thread or fiber started\n"
                          "         again, first: its end is missing): not counted, nor the run that enclosed it\n");
    }
    if (p->fiber_not_running) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->fiber_not_running, "fiber was", "fibers were");
        comb_sb_puts(out, " resumed in a thread that was not running: counted, not timed\n");
    }
    if (p->fiber_end_without_resume) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->fiber_end_without_resume, "fiber yield or completion", "fiber yields or completions");
        comb_sb_puts(out, " without a resume: counted, not timed\n");
    }
    if (p->loss_points) {
        comb_sb_puts(out, "warning: events may be missing at ");
        plural(out, p->loss_points, "place", "places");
        comb_sb_puts(out, " (");
        plural(out, p->dropped_events, "dropped event", "dropped events");
        comb_sb_printf(out, " with %" PRIu64 " packets, ", p->dropped_packets);
        plural(out, p->decode_errors, "decode error", "decode errors");
        comb_sb_puts(out, ");\n         discarded there: ");
        plural(out, p->runs_cut, "open run", "open runs");
        comb_sb_puts(out, ", ");
        plural(out, p->wakeups_cut, "pending wakeup", "pending wakeups");
        comb_sb_puts(out, "\n");
    }
    if (p->overflows) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->overflows, "ITM overflow packet", "ITM overflow packets");
        comb_sb_puts(out, " in the session: events may be missing\n");
    }
    if (p->out_of_order) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->out_of_order, "event was", "events were");
        comb_sb_puts(out, " out of time order (taken as simultaneous with the one before)\n");
    }
    if (p->ts_outliers) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->ts_outliers, "event", "events");
        comb_sb_puts(out, " with a timestamp far out of line with the events around it in the stream\n"
                          "         (a corrupted stamp?): left out of the span and the runs\n");
    }
    if (p->skipped_rows) {
        comb_sb_puts(out, "warning: ");
        plural(out, p->skipped_rows, "sched_event row", "sched_event rows");
        comb_sb_puts(out, " without a timestamp or with an unknown kind skipped\n");
    }
}

void comb_sched_report_text(const comb_sched_result *r, const comb_sched_report_context *c, comb_strbuf *out)
{
    char buf[256], cut[NAME_COLS + 1];
    const char *unit = with_cycles(c) ? "µs, second line core cycles" : c->ts_hz ? "µs" : "ticks";
    span_line(r, c, out);
    comb_sb_printf(out, "\nThreads (times in %s; latency: wakeup to entry;\n         run: self time, "
                        "without preemptions)\n", unit);
    comb_sb_printf(out, "%3s %-15s %8s %8s %8s %8s %8s %8s %8s %7s %8s\n", "thr", "name", "runs", "lat p50",
                   "lat p99", "lat max", "run p50", "run p99", "run max", "CPU", "longest");
    for (size_t i = 0; i < r->nthreads; i++) {
        const comb_sched_thread *t = &r->threads[i];
        const char *name = c->thread_name ? c->thread_name(c->names_ctx, t->thr, buf, sizeof buf) : NULL;
        comb_sb_printf(out, "%3u %-15.15s %8" PRIu64, (unsigned)t->thr, fit_name(name, cut, sizeof cut), t->runs);
        col_time(out, t->latency.count, t->latency.p50, c);
        col_time(out, t->latency.count, t->latency.p99, c);
        col_time(out, t->latency.count, t->latency.max, c);
        col_time(out, t->run_time.count, t->run_time.p50, c);
        col_time(out, t->run_time.count, t->run_time.p99, c);
        col_time(out, t->run_time.count, t->run_time.max, c);
        col_share(out, t->self_ticks, r);
        col_time(out, t->longest.valid, t->longest.ticks, c);
        comb_sb_puts(out, "\n");
        if (with_cycles(c)) {
            comb_sb_printf(out, "%3s %-15s %8s", "", "  cycles", "");
            col_cycles(out, t->latency.count, t->latency.p50, c);
            col_cycles(out, t->latency.count, t->latency.p99, c);
            col_cycles(out, t->latency.count, t->latency.max, c);
            col_cycles(out, t->run_time.count, t->run_time.p50, c);
            col_cycles(out, t->run_time.count, t->run_time.p99, c);
            col_cycles(out, t->run_time.count, t->run_time.max, c);
            comb_sb_printf(out, " %7s", "");
            col_cycles(out, t->longest.valid, t->longest.ticks, c);
            comb_sb_puts(out, "\n");
        }
    }
    if (!r->nthreads)
        comb_sb_puts(out, "  (none)\n");
    if (r->nfibers) {
        comb_sb_printf(out, "\nFibers (times in %s; run: resume to yield or completion, self time)\n", unit);
        comb_sb_printf(out, "%3s %-10s %-15s %7s %7s %7s %8s %8s %8s %7s %8s\n", "thr", "fiber", "name", "resumes",
                       "yields", "done", "run p50", "run p99", "run max", "CPU", "longest");
        for (size_t i = 0; i < r->nfibers; i++) {
            const comb_sched_fiber *f = &r->fibers[i];
            const char *name = c->fiber_name ? c->fiber_name(c->names_ctx, f->fiber, buf, sizeof buf) : NULL;
            comb_sb_printf(out, "%3u 0x%08" PRIx32 " %-15.15s %7" PRIu64 " %7" PRIu64 " %7" PRIu64, (unsigned)f->thr,
                           f->fiber, fit_name(name, cut, sizeof cut), f->resumes, f->yields, f->completions);
            col_time(out, f->run_time.count, f->run_time.p50, c);
            col_time(out, f->run_time.count, f->run_time.p99, c);
            col_time(out, f->run_time.count, f->run_time.max, c);
            col_share(out, f->self_ticks, r);
            col_time(out, f->longest.valid, f->longest.ticks, c);
            comb_sb_puts(out, "\n");
            if (with_cycles(c)) {
                comb_sb_printf(out, "%3s %-10s %-15s %7s %7s %7s", "", "", "  cycles", "", "", "");
                col_cycles(out, f->run_time.count, f->run_time.p50, c);
                col_cycles(out, f->run_time.count, f->run_time.p99, c);
                col_cycles(out, f->run_time.count, f->run_time.max, c);
                comb_sb_printf(out, " %7s", "");
                col_cycles(out, f->longest.valid, f->longest.ticks, c);
                comb_sb_puts(out, "\n");
            }
        }
    }
    if (comb_sched_problem_total(&r->problems) || r->same_tick_reorders)
        comb_sb_puts(out, "\n");
    warnings(&r->problems, out);
    if (r->same_tick_reorders) {
        comb_sb_puts(out, "note: ");
        plural(out, r->same_tick_reorders, "event was", "events were");
        comb_sb_puts(out, " stamped at the tick a preempting thread started and emitted after\n"
                          "      it: ordered by the tick\n");
    }
}
