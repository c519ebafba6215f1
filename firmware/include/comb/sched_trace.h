/*
 * Scheduler trace (port 30, trace-protocol SPEC v1): the forms the thread and
 * fiber runtime calls, stamped with comb_trace_timestamp(). Inline, with the
 * port test first, so that with port 30 disabled the timestamp is not even
 * read. The encoders themselves are comb/trace.h's `_at` functions.
 *
 * COST with port 30 disabled, per event, as compiled for Cortex-M3 at -Os
 * (MinSizeRel, checked with arm-none-eabi-objdump on examples/fibers):
 * the mask load, `lsls` to move bit 30 into the N flag, and a `bpl` past the
 * event: 3 instructions, 6 bytes. Where the function does not already hold
 * the mask's address in a register, one PC-relative load of it comes first:
 * 4 instructions, 8 bytes, in comb_thr_wakeup and comb_fib_add. comb_thr_run
 * (the dispatch path) loads the address once per run, so each of its
 * thread_enter/exit and fiber events costs the 3.
 *
 * thr is a thread index (COMB_THREAD_NONE = 0xFF for the root or an interrupt
 * that is not a thread); fiber is the fiber's address.
 */
#ifndef COMB_SCHED_TRACE_H
#define COMB_SCHED_TRACE_H

#include "comb/trace.h"

/* Always inlined: -Os would otherwise make one out-of-line copy and turn the
 * disabled-port test into a call. */
#define COMB_SCHED_TRACE_INLINE static inline __attribute__((always_inline))

COMB_SCHED_TRACE_INLINE void comb_trace_thread_enter(unsigned thr)
{
    if (comb_transport_enabled(COMB_PORT_SCHED))
        comb_trace_thread_enter_at(thr, comb_trace_timestamp());
}

COMB_SCHED_TRACE_INLINE void comb_trace_thread_exit(unsigned thr)
{
    if (comb_transport_enabled(COMB_PORT_SCHED))
        comb_trace_thread_exit_at(thr, comb_trace_timestamp());
}

/* type: COMB_EVT_FIBER_ADDED, _RESUMED, _YIELDED or _COMPLETED. */
COMB_SCHED_TRACE_INLINE void comb_trace_fiber(unsigned type, unsigned thr, const void *fiber)
{
    if (comb_transport_enabled(COMB_PORT_SCHED))
        comb_trace_fiber_at(type, thr, fiber, comb_trace_timestamp());
}

/* thread_wakeup takes `from` as a function so that working it out (the active
 * exception, the current thread) is skipped too when the port is off. */
COMB_SCHED_TRACE_INLINE void comb_trace_thread_wakeup(unsigned (*from)(void), unsigned to)
{
    if (comb_transport_enabled(COMB_PORT_SCHED))
        comb_trace_thread_wakeup_at(from(), to, comb_trace_timestamp());
}

#endif /* COMB_SCHED_TRACE_H */
