/*
 * Trace event encoder: SPEC v1 framing over the linked transport.
 *
 * An event is a 1-byte header packet (type, field count) followed by one 2- or
 * 4-byte packet per field. Each packet is atomic on the transport; the event as
 * a whole is not, on purpose: masking interrupts while the wire is busy would
 * add latency to every interrupt in the system. Nesting is resolved on the
 * host (one stack per port), see trace-protocol/SPEC.md "Nesting".
 */
#include "comb/trace.h"

void comb_trace_emit(unsigned port, unsigned type, unsigned nfields, const uint8_t *sizes,
                     const uint32_t *values)
{
    if (!comb_transport_enabled(port))
        return;
    if (nfields > COMB_EVT_MAX_FIELDS)
        nfields = COMB_EVT_MAX_FIELDS;
    comb_transport_swit(port, 1u, COMB_EVT_HEADER(type, nfields));
    for (unsigned i = 0; i < nfields; i++)
        comb_transport_swit(port, sizes[i], values[i]);
}

static unsigned session_port(void)
{
    return comb_transport_enabled(COMB_PORT_SCHED) ? COMB_PORT_SCHED : COMB_PORT_HEAP;
}

static uint32_t addr(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

/* COMB_F_SIZE: 2 bytes when the value fits, which keeps a typical heap event
 * at 15 bytes on the wire instead of 17. */
static uint8_t size_width(size_t size)
{
    return size <= 0xFFFFu ? 2u : 4u;
}

void comb_trace_session_start_at(uint32_t core_hz, uint32_t ts_hz, uint64_t build_id, uint32_t ts)
{
    static const uint8_t sizes[6] = {2, 4, 4, 4, 4, 4};
    const uint32_t values[6] = {COMB_PROTOCOL_VERSION, core_hz, ts_hz, (uint32_t)build_id,
                                (uint32_t)(build_id >> 32), ts};
    comb_trace_emit(session_port(), COMB_EVT_SESSION_START, 6, sizes, values);
}

void comb_trace_session_end_at(uint32_t ts)
{
    static const uint8_t sizes[1] = {4};
    comb_trace_emit(session_port(), COMB_EVT_SESSION_END, 1, sizes, &ts);
}

void comb_trace_clock_at(uint64_t ts64)
{
    static const uint8_t sizes[2] = {4, 4};
    const uint32_t values[2] = {(uint32_t)ts64, (uint32_t)(ts64 >> 32)};
    comb_trace_emit(session_port(), COMB_EVT_CLOCK, 2, sizes, values);
}

void comb_trace_dropped_at(uint32_t packets, uint32_t ts)
{
    static const uint8_t sizes[2] = {4, 4};
    const uint32_t values[2] = {packets, ts};
    comb_trace_emit(session_port(), COMB_EVT_DROPPED, 2, sizes, values);
}

/* Heap events: fields in schema order, then the optional caller. */
static void heap_event(unsigned type, unsigned n, uint8_t *sizes, uint32_t *values, const void *caller)
{
    if (caller) {
        sizes[n] = 4;
        values[n] = addr(caller);
        n++;
    }
    comb_trace_emit(COMB_PORT_HEAP, type, n, sizes, values);
}

void comb_trace_heap_alloc_at(const void *ptr, size_t size, uint32_t ts, const void *caller)
{
    uint8_t sizes[4] = {4, size_width(size), 4};
    uint32_t values[4] = {addr(ptr), (uint32_t)size, ts};
    heap_event(COMB_EVT_HEAP_ALLOC, 3, sizes, values, caller);
}

void comb_trace_heap_free_at(const void *ptr, uint32_t ts, const void *caller)
{
    uint8_t sizes[3] = {4, 4};
    uint32_t values[3] = {addr(ptr), ts};
    heap_event(COMB_EVT_HEAP_FREE, 2, sizes, values, caller);
}

void comb_trace_heap_realloc_at(const void *old_ptr, const void *new_ptr, size_t size, uint32_t ts,
                                const void *caller)
{
    if (old_ptr == new_ptr) { /* kept in place: the 15-byte RESIZE form */
        uint8_t sizes[4] = {4, size_width(size), 4};
        uint32_t values[4] = {addr(old_ptr), (uint32_t)size, ts};
        heap_event(COMB_EVT_HEAP_RESIZE, 3, sizes, values, caller);
        return;
    }
    uint8_t sizes[5] = {4, 4, size_width(size), 4};
    uint32_t values[5] = {addr(old_ptr), addr(new_ptr), (uint32_t)size, ts};
    heap_event(COMB_EVT_HEAP_REALLOC, 4, sizes, values, caller);
}

void comb_trace_heap_fail_at(size_t size, uint32_t ts, const void *caller)
{
    uint8_t sizes[3] = {size_width(size), 4};
    uint32_t values[3] = {(uint32_t)size, ts};
    heap_event(COMB_EVT_HEAP_FAIL, 2, sizes, values, caller);
}

void comb_trace_thread_wakeup_at(unsigned from, unsigned to, uint32_t ts)
{
    static const uint8_t sizes[2] = {2, 4};
    const uint32_t values[2] = {((from & 0xFFu) << 8) | (to & 0xFFu), ts};
    comb_trace_emit(COMB_PORT_SCHED, COMB_EVT_THREAD_WAKEUP, 2, sizes, values);
}

void comb_trace_thread_enter_at(unsigned thr, uint32_t ts)
{
    static const uint8_t sizes[2] = {2, 4};
    const uint32_t values[2] = {thr & 0xFFFFu, ts};
    comb_trace_emit(COMB_PORT_SCHED, COMB_EVT_THREAD_ENTER, 2, sizes, values);
}

void comb_trace_thread_exit_at(unsigned thr, uint32_t ts)
{
    static const uint8_t sizes[2] = {2, 4};
    const uint32_t values[2] = {thr & 0xFFFFu, ts};
    comb_trace_emit(COMB_PORT_SCHED, COMB_EVT_THREAD_EXIT, 2, sizes, values);
}

void comb_trace_fiber_at(unsigned type, unsigned thr, const void *fiber, uint32_t ts)
{
    static const uint8_t sizes[3] = {2, 4, 4};
    const uint32_t values[3] = {thr & 0xFFFFu, addr(fiber), ts};
    comb_trace_emit(COMB_PORT_SCHED, type, 3, sizes, values);
}
