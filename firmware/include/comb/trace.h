/*
 * Trace event encoder (trace-protocol SPEC v1). Each function emits one event
 * on its port as a header packet followed by field packets, through the linked
 * transport (comb/transport.h). Callable from any context, nested: an event
 * that an interrupt emits in the middle of another one nests and the host
 * decodes both exactly. No interrupt masking, no heap.
 *
 * Cost when the port is disabled: one load and one branch (the inline test
 * below); nothing else runs.
 *
 * Timestamps: the `_at` forms take the timestamp explicitly (tests, or code that
 * sampled the clock already); the others read comb_trace_timestamp(), which the
 * board/port provides (DWT CYCCNT on hardware, a timer where CYCCNT does not
 * count, as in QEMU), in units of the ts_hz announced in SESSION_START.
 */
#ifndef COMB_TRACE_H
#define COMB_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "comb/trace_protocol.h"
#include "comb/transport.h"

/* Provided by the board/port: free-running timestamp counter. */
uint32_t comb_trace_timestamp(void);

/* Generic emitter: `nfields` (0-7) fields, field i being `sizes[i]` (2 or 4)
 * bytes of `values[i]`. Checks nothing but the port mask; the typed functions
 * below are the API. */
void comb_trace_emit(unsigned port, unsigned type, unsigned nfields, const uint8_t *sizes,
                     const uint32_t *values);

/* Session events go to port 30 when enabled, else port 31. */
void comb_trace_session_start_at(uint32_t core_hz, uint32_t ts_hz, uint64_t build_id, uint32_t ts);
void comb_trace_session_end_at(uint32_t ts);
void comb_trace_clock_at(uint64_t ts64);
void comb_trace_dropped_at(uint32_t packets, uint32_t ts);

/* Heap events (port 31). `caller` may be NULL: the field is then omitted. */
void comb_trace_heap_alloc_at(const void *ptr, size_t size, uint32_t ts, const void *caller);
void comb_trace_heap_free_at(const void *ptr, uint32_t ts, const void *caller);
void comb_trace_heap_realloc_at(const void *old_ptr, const void *new_ptr, size_t size, uint32_t ts,
                                const void *caller);
void comb_trace_heap_fail_at(size_t size, uint32_t ts, const void *caller);

/* Scheduler events (port 30). thr = thread index (COMB_THREAD_NONE for root). */
void comb_trace_thread_wakeup_at(unsigned from, unsigned to, uint32_t ts);
void comb_trace_thread_enter_at(unsigned thr, uint32_t ts);
void comb_trace_thread_exit_at(unsigned thr, uint32_t ts);
void comb_trace_fiber_at(unsigned type, unsigned thr, const void *fiber, uint32_t ts);

/* Convenience forms stamped with comb_trace_timestamp(); inline so a disabled
 * port costs one load and one branch at the call site. */
static inline void comb_trace_session_start(uint32_t core_hz, uint32_t ts_hz, uint64_t build_id)
{
    if (comb_transport_enabled(COMB_PORT_SCHED) || comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_session_start_at(core_hz, ts_hz, build_id, comb_trace_timestamp());
}
static inline void comb_trace_session_end(void)
{
    if (comb_transport_enabled(COMB_PORT_SCHED) || comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_session_end_at(comb_trace_timestamp());
}
static inline void comb_trace_heap_alloc(const void *ptr, size_t size, const void *caller)
{
    if (comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_heap_alloc_at(ptr, size, comb_trace_timestamp(), caller);
}
static inline void comb_trace_heap_free(const void *ptr, const void *caller)
{
    if (comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_heap_free_at(ptr, comb_trace_timestamp(), caller);
}
static inline void comb_trace_heap_realloc(const void *old_ptr, const void *new_ptr, size_t size,
                                           const void *caller)
{
    if (comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_heap_realloc_at(old_ptr, new_ptr, size, comb_trace_timestamp(), caller);
}
static inline void comb_trace_heap_fail(size_t size, const void *caller)
{
    if (comb_transport_enabled(COMB_PORT_HEAP))
        comb_trace_heap_fail_at(size, comb_trace_timestamp(), caller);
}

#endif /* COMB_TRACE_H */
