/*
 * Firmware encoder against the golden vectors: replaying each `mode: both`
 * vector's emit lines through the trace encoder and the real UART transport
 * (sync packets off) must produce exactly the vector's bytes. emit@K lines are
 * emitted by a simulated interrupt that lands when the preceding emit has put
 * K packets on the wire.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/trace.h"
#include "vector_file.h"

static uint64_t get(const struct vec_event *ev, const char *name)
{
    uint64_t v = 0;
    if (vec_event_get(ev, name, &v)) {
        fprintf(stderr, "vector emit '%s' lacks field '%s'\n", ev->name, name);
        check_failures++;
    }
    return v;
}

static const void *ptr_of(uint64_t v)
{
    return (const void *)(uintptr_t)v;
}

static const void *caller_of(const struct vec_event *ev)
{
    uint64_t v;
    return vec_event_get(ev, "caller", &v) ? NULL : ptr_of(v);
}

static void emit(const struct vec_event *ev)
{
    const char *n = ev->name;
    if (strcmp(n, "heap_alloc") == 0)
        comb_trace_heap_alloc_at(ptr_of(get(ev, "ptr")), (size_t)get(ev, "size"), (uint32_t)get(ev, "ts"),
                                 caller_of(ev));
    else if (strcmp(n, "heap_free") == 0)
        comb_trace_heap_free_at(ptr_of(get(ev, "ptr")), (uint32_t)get(ev, "ts"), caller_of(ev));
    else if (strcmp(n, "heap_realloc") == 0)
        comb_trace_heap_realloc_at(ptr_of(get(ev, "old")), ptr_of(get(ev, "new")), (size_t)get(ev, "size"),
                                   (uint32_t)get(ev, "ts"), caller_of(ev));
    else if (strcmp(n, "heap_fail") == 0)
        comb_trace_heap_fail_at((size_t)get(ev, "size"), (uint32_t)get(ev, "ts"), caller_of(ev));
    else if (strcmp(n, "session_start") == 0)
        comb_trace_session_start_at((uint32_t)get(ev, "core_hz"), (uint32_t)get(ev, "ts_hz"),
                                    get(ev, "build_id_hi") << 32 | get(ev, "build_id_lo"), (uint32_t)get(ev, "ts"));
    else if (strcmp(n, "session_end") == 0)
        comb_trace_session_end_at((uint32_t)get(ev, "ts"));
    else if (strcmp(n, "clock") == 0)
        comb_trace_clock_at(get(ev, "ts_hi") << 32 | get(ev, "ts_lo"));
    else if (strcmp(n, "dropped") == 0)
        comb_trace_dropped_at((uint32_t)get(ev, "packets"), (uint32_t)get(ev, "ts"));
    else if (strcmp(n, "thread_wakeup") == 0)
        comb_trace_thread_wakeup_at((unsigned)(get(ev, "ids") >> 8), (unsigned)(get(ev, "ids") & 0xFF),
                                    (uint32_t)get(ev, "ts"));
    else if (strcmp(n, "thread_enter") == 0)
        comb_trace_thread_enter_at((unsigned)get(ev, "thr"), (uint32_t)get(ev, "ts"));
    else if (strcmp(n, "thread_exit") == 0)
        comb_trace_thread_exit_at((unsigned)get(ev, "thr"), (uint32_t)get(ev, "ts"));
    else if (strncmp(n, "fiber_", 6) == 0) {
        static const char *const kinds[] = {"fiber_added", "fiber_resumed", "fiber_yielded", "fiber_completed"};
        unsigned k = 0;
        while (k < 4 && strcmp(n, kinds[k]) != 0)
            k++;
        CHECK(k < 4);
        comb_trace_fiber_at(COMB_EVT_FIBER_ADDED + k, (unsigned)get(ev, "thr"), ptr_of(get(ev, "fiber")),
                            (uint32_t)get(ev, "ts"));
    } else {
        fprintf(stderr, "vector emit '%s': no encoder for it\n", n);
        check_failures++;
    }
}

/* Simulated interrupt: fires `nested` when the outer writer starts packet K+1. */
struct nest {
    const struct vec_event *nested;
    unsigned after;
    unsigned started;
    int fired;
};

static void hook(unsigned where, unsigned depth, void *ctx)
{
    struct nest *n = ctx;
    if (depth != 0 || where != COMB_PP_RESERVE_READ || n->fired || !n->nested)
        return;
    if (n->started++ == n->after) {
        n->fired = 1;
        emit(n->nested);
    }
}

static void replay(const struct vector *v)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0);
    const struct vec_event *list = v->nemits ? v->emits : v->events;
    unsigned count = v->nemits ? v->nemits : v->nevents;
    for (unsigned i = 0; i < count; i++) {
        if (list[i].nest_after >= 0)
            continue; /* emitted from the hook of the emit before it */
        struct nest n = {0};
        if (i + 1 < count && list[i + 1].nest_after >= 0) {
            n.nested = &list[i + 1];
            n.after = (unsigned)list[i + 1].nest_after;
        }
        comb_host_set_preempt_hook(hook, &n);
        emit(&list[i]);
        comb_host_set_preempt_hook(NULL, NULL);
        if (n.nested)
            CHECK(n.fired);
    }
    comb_transport_flush();
    size_t len;
    const uint8_t *sent = comb_host_sent(&len);
    check_count++;
    if (len != v->nbytes || memcmp(sent, v->bytes, len) != 0) {
        check_failures++;
        fprintf(stderr, "%s/%s: encoder produced %zu bytes, vector has %zu\n  got: ", v->file, v->name, len,
                v->nbytes);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, "%02x ", sent[i]);
        fprintf(stderr, "\n want:");
        for (size_t i = 0; i < v->nbytes; i++)
            fprintf(stderr, " %02x", v->bytes[i]);
        fprintf(stderr, "\n");
    }
}

/* A disabled port emits nothing; session events move to port 31 when 30 is off. */
static void test_port_mask(void)
{
    comb_host_reset();
    comb_transport_init(0, 0);
    comb_trace_heap_alloc_at((void *)0x20000000, 4, 1, NULL);
    comb_trace_heap_alloc((void *)0x20000000, 4, NULL);
    comb_trace_session_start(1, 1, 0);
    size_t len;
    comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);

    comb_host_reset();
    comb_transport_init(1u << COMB_PORT_HEAP, 0);
    comb_trace_session_end_at(0x100000);
    comb_transport_flush();
    const uint8_t *sent = comb_host_sent(&len);
    static const uint8_t want[] = {0xF9, 0x22, 0xFB, 0x00, 0x00, 0x10, 0x00};
    CHECK(len == sizeof want && memcmp(sent, want, len) == 0);
}

int main(void)
{
    size_t n;
    struct vector *v = vectors_load(COMB_VECTORS_DIR, &n);
    unsigned replayed = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].both) {
            replay(&v[i]);
            replayed++;
        }
    CHECK(replayed >= 15);
    free(v);
    test_port_mask();
    return check_finish("test_trace_encoder");
}
