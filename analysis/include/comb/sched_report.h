/*
 * `comb fibers report`: per thread and per fiber, runs, wakeup-to-entry
 * latency and run (self) time as min/p50/p90/p99/max, CPU share and the
 * longest run, rendered as text tables or one JSON object
 * (docs/scheduler-analysis.md has the format and the definitions; the numbers
 * come from sched_model.h).
 *
 * Times are ticks of the session's timestamp counter (ts_hz), converted to
 * core cycles (ticks * core_hz / ts_hz) and microseconds (ticks * 1e6 / ts_hz)
 * when the session has those clocks; without them the converted values are
 * null in JSON and the text report shows ticks.
 */
#ifndef COMB_SCHED_REPORT_H
#define COMB_SCHED_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "comb/sched_model.h"
#include "comb/strbuf.h"

typedef struct comb_sched_report_context {
    int64_t session;
    uint64_t core_hz, ts_hz; /* 0: unknown (no session_start) */
    /* Optional names (NULL: none). Each returns the name, or NULL when it has
     * none; the text may live in buf (cap bytes) or in the callee. */
    const char *(*thread_name)(void *ctx, uint16_t thr, char *buf, size_t cap);
    const char *(*fiber_name)(void *ctx, uint32_t addr, char *buf, size_t cap);
    void *names_ctx;
} comb_sched_report_context;

/* Tables of threads and fibers, then one warning line per kind of problem. */
void comb_sched_report_text(const comb_sched_result *r, const comb_sched_report_context *c, comb_strbuf *out);

/* One JSON object with a trailing newline (format: docs/scheduler-analysis.md). */
void comb_sched_report_json(const comb_sched_result *r, const comb_sched_report_context *c, comb_strbuf *out);

/* Sum of the problem counts that mean events did not fit or were lost (the
 * "total" in JSON); 0 for a clean trace. */
uint64_t comb_sched_problem_total(const comb_sched_problems *p);

#endif
