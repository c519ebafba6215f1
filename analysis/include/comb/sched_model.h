/*
 * Reconstruction of what ran when from scheduler events (trace-protocol/SPEC.md
 * 3.5, table sched_event in docs/schema.md), for `comb fibers report`. The
 * definitions are in docs/scheduler-analysis.md; in short:
 *
 *  - a thread run is thread_enter .. thread_exit of its handler, a fiber run
 *    fiber_resumed .. fiber_yielded / fiber_completed; runs nest strictly (LIFO,
 *    as interrupts preempt on one core), so one stack holds the open runs;
 *  - run time is self time: the run's span minus the traced runs nested in it
 *    (threads that preempted it; for a fiber also fibers it resumed). A thread's
 *    self time includes its fibers', which are part of its handler;
 *  - latency is from the earliest wakeup of a thread not yet served to its next
 *    thread_enter; later wakeups before that entry are coalesced (the NVIC
 *    pends once) and counted; an entry with nothing pending (a hardware
 *    interrupt) has no latency sample.
 *
 * Events with equal timestamps may come in the wrong order (an interrupt
 * between an event's stamp and its emission emits first); the model puts
 * them back where only that explains the stack (same_tick_reorders), and
 * treats anything else as lost events.
 *
 * Feed events in time order (ts, then stream offset) and call
 * comb_sched_model_loss() where the capture lost events (dropped, decode
 * errors, truncated events): open runs and pending wakeups are discarded there,
 * because anything measured across a gap could be wrong. Whatever does not fit
 * (an exit without enter, a run that never ended, ...) is counted in
 * comb_sched_problems and skipped; the model never fails on bad data, only
 * when memory runs out.
 *
 * Memory: one entry per distinct thread and fiber, one stack frame per open
 * run, and the samples (sched_stats.h): at most one latency and one run-time
 * sample per thread run, one run-time sample per fiber run, 4 bytes each
 * (8 past 2^32 ticks); that is at most 8 bytes per 3 thread events
 * (wakeup, enter, exit) and 4 per 2 fiber events.
 *
 * Not thread-safe: one model per caller.
 */
#ifndef COMB_SCHED_MODEL_H
#define COMB_SCHED_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/sched_stats.h"

/* sched_event.kind, in the protocol's order (0x10 ... 0x16). */
typedef enum comb_sched_kind {
    COMB_SCHED_WAKEUP = 0,
    COMB_SCHED_ENTER,
    COMB_SCHED_EXIT,
    COMB_SCHED_FIBER_ADDED,
    COMB_SCHED_FIBER_RESUMED,
    COMB_SCHED_FIBER_YIELDED,
    COMB_SCHED_FIBER_COMPLETED,
    COMB_SCHED_KIND_COUNT
} comb_sched_kind;

/* "wakeup", "enter", ..., "fiber_completed" (the sched_event.kind strings). */
const char *comb_sched_kind_str(unsigned kind);
/* The kind of such a string, or -1. */
int comb_sched_kind_parse(const char *name);

typedef struct comb_sched_event {
    uint64_t ts;      /* ticks of the session's ts_hz, 64-bit extended */
    uint32_t fiber;   /* fiber events: the fiber object's address */
    uint16_t thr;     /* the thread; for a wakeup the thread woken */
    uint8_t kind;     /* comb_sched_kind */
    uint8_t from_thr; /* wakeup: the waker, 255 = thread mode or a non-comb interrupt */
} comb_sched_event;

/* What did not fit, per session. The loader fills the last group. */
typedef struct comb_sched_problems {
    uint64_t open_at_end;        /* runs with no end when the capture stopped */
    uint64_t exit_without_enter; /* thread_exit of a thread that was not running */
    uint64_t lost_ends;          /* runs whose end never came: an outer run ended, or the
                                    same thread or fiber started again, first */
    uint64_t fiber_not_running;  /* fiber_resumed in a thread that was not the one running */
    uint64_t fiber_end_without_resume;
    uint64_t loss_points;        /* comb_sched_model_loss() calls */
    uint64_t runs_cut;           /* runs open at a loss point (discarded) */
    uint64_t wakeups_cut;        /* wakeups pending at a loss point (discarded) */
    uint64_t out_of_order;       /* events fed with a ts before the previous one (taken as equal) */
    /* filled by the loader, not the model */
    uint64_t dropped_events, dropped_packets; /* `dropped` events and the packets they report */
    uint64_t decode_errors;      /* ITM decode errors and port-30 event errors of the session */
    uint64_t overflows;          /* ITM overflow packets (session counter; positions not stored) */
    uint64_t skipped_rows;       /* sched_event rows without ts or with an unknown kind */
    uint64_t ts_outliers;        /* events whose ts is far out of line with their stream
                                    neighbours (sched_outliers.h): left out */
} comb_sched_problems;

/* The run with the most self time. */
typedef struct comb_sched_longest {
    bool valid;
    uint64_t start_ts; /* its entry's ts (as stored, 64-bit ticks) */
    uint64_t ticks;    /* its self time */
} comb_sched_longest;

typedef struct comb_sched_thread {
    uint16_t thr;
    uint64_t runs;       /* thread_enter events */
    uint64_t wakeups;    /* thread_wakeup events naming it */
    uint64_t coalesced;  /* of those, wakeups that found one already pending */
    comb_sched_stats latency, run_time; /* ticks; run_time counts complete runs only */
    uint64_t self_ticks; /* sum of the run_time samples */
    comb_sched_longest longest;
} comb_sched_thread;

typedef struct comb_sched_fiber {
    uint16_t thr;
    uint32_t fiber;
    uint64_t added, resumes, yields, completions; /* events */
    comb_sched_stats run_time;
    uint64_t self_ticks;
    comb_sched_longest longest;
} comb_sched_fiber;

typedef struct comb_sched_result {
    uint64_t events;            /* events fed */
    uint64_t first_ts, last_ts; /* span = last - first (0 without events) */
    comb_sched_thread *threads; /* by thr */
    size_t nthreads;
    comb_sched_fiber *fibers;   /* by thr, then address */
    size_t nfibers;
    comb_sched_problems problems;
    uint64_t same_tick_reorders; /* events taken before runs that started at the same tick
                                    (see docs/scheduler-analysis.md; not a problem) */
    size_t sample_bytes;        /* sample arrays at their largest (capacity) */
} comb_sched_result;

typedef struct comb_sched_model comb_sched_model;

/* NULL when out of memory. */
comb_sched_model *comb_sched_model_new(void);

/* One event, in time order. 0, or -1 when out of memory (the model is then
 * unusable: free it). */
int comb_sched_model_event(comb_sched_model *m, const comb_sched_event *e);

/* Events may be missing here: open runs and pending wakeups are discarded. */
void comb_sched_model_loss(comb_sched_model *m);

/* Closes the model (runs still open count as open_at_end), sorts the samples
 * into statistics and fills *out. 0, or -1 when out of memory. Either way the
 * model is freed. */
int comb_sched_model_finish(comb_sched_model *m, comb_sched_result *out);

void comb_sched_model_free(comb_sched_model *m);
void comb_sched_result_free(comb_sched_result *r);

#endif
