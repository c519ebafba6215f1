/*
 * The ITM/SWO write path (firmware/src/itm_swo.c) against a simulated
 * stimulus port (comb/swo_sim.h): exact packets of every width, write
 * chunking, log text and a trace event over SWO, heap and scheduler events
 * against the golden vectors (trace-protocol/vectors), a disabled port (no work at
 * all), a port disabled behind the firmware's back, a FIFO busy for N polls,
 * busy forever (bounded wait, drop counted, the ITM's own overflow), a stopped
 * CYCCNT, flush, and a simulated interrupt that writes between the FIFO check
 * and the store (at every preemption point, nested two deep).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/log.h"
#include "comb/sched_trace.h"
#include "comb/swo.h"
#include "comb/swo_sim.h"
#include "comb/trace.h"
#include "vector_file.h"

#define CORE_HZ 72000000u
#define BAUD    2000000u
#define WAIT    (800u * (CORE_HZ / BAUD)) /* comb/swo.h: 800 bit times */

/* Power-on, then comb_swo_init as a board does; logs cleared. */
static void up(void)
{
    comb_host_reset();
    comb_swo_sim_reset();
    CHECK_EQ_U64(comb_swo_init(CORE_HZ, BAUD), COMB_SWO_OK);
    comb_swo_sim_log_clear();
}

static bool packets_equal(const comb_swo_sim_packet *want, size_t n)
{
    size_t got_n;
    const comb_swo_sim_packet *got = comb_swo_sim_packets(&got_n);
    bool same = got_n == n;
    for (size_t i = 0; same && i < n; i++)
        same = got[i].port == want[i].port && got[i].size == want[i].size && got[i].value == want[i].value;
    if (!same) {
        fprintf(stderr, "  packets (%zu):", got_n);
        for (size_t i = 0; i < got_n && i < 24; i++)
            fprintf(stderr, " %u/%u/%x", got[i].port, got[i].size, got[i].value);
        fprintf(stderr, "\n  want (%zu):   ", n);
        for (size_t i = 0; i < n && i < 24; i++)
            fprintf(stderr, " %u/%u/%x", want[i].port, want[i].size, want[i].value);
        fprintf(stderr, "\n");
    }
    return same;
}

/* The payload bytes of every packet on `port`, little-endian, in order. */
static size_t port_bytes(unsigned port, uint8_t *out, size_t max)
{
    size_t n, len = 0;
    const comb_swo_sim_packet *p = comb_swo_sim_packets(&n);
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; p[i].port == port && b < p[i].size && len < max; b++)
            out[len++] = (uint8_t)(p[i].value >> (8u * b));
    return len;
}

/* ---- packets ---------------------------------------------------------------- */

static void test_packets(void)
{
    up();
    comb_transport_swit(0, 1, 0x41);
    comb_transport_swit(1, 2, 0xBEEF);
    comb_transport_swit(31, 4, 0xDEADBEEF);
    comb_transport_swit(17, 3, 0x00123456); /* 3 bytes go out as a word */
    comb_transport_swit(2, 0, 0x99);        /* nothing */
    comb_transport_swit(32 + 5, 1, 0x7);    /* port taken mod 32 */
    comb_log_u8(3, 0xAB);
    comb_log_u16(4, 0x1234);
    comb_log_u32(30, 0x89ABCDEFu);
    static const comb_swo_sim_packet want[] = {
        {0, 1, 0x41},      {1, 2, 0xBEEF}, {31, 4, 0xDEADBEEF}, {17, 4, 0x00123456},
        {5, 1, 0x7},       {3, 1, 0xAB},   {4, 2, 0x1234},      {30, 4, 0x89ABCDEF},
    };
    CHECK(packets_equal(want, sizeof want / sizeof want[0]));
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 8u); /* one poll each: the FIFO was ready */
    CHECK_EQ_U64(comb_transport_dropped(), 0u);
}

static void test_write_chunking(void)
{
    up();
    _Alignas(4) uint8_t buf[12];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(0x10 + i);
    comb_transport_write(6, buf + 1, 10); /* 3 bytes, 1 word, 3 bytes */
    static const comb_swo_sim_packet want[] = {
        {6, 1, 0x11}, {6, 1, 0x12}, {6, 1, 0x13}, {6, 4, 0x17161514}, {6, 1, 0x18}, {6, 1, 0x19}, {6, 1, 0x1A},
    };
    CHECK(packets_equal(want, sizeof want / sizeof want[0]));
}

/* The log facade and the event encoder run unchanged on this transport. */
static void test_log_and_events(void)
{
    up();
    const char *text = "Hello over SWO, 42 packets at 2000000 baud\n";
    CHECK_EQ_U64(comb_printf("Hello over %s, %d packets at %u baud\n", "SWO", 42, BAUD), strlen(text));
    uint8_t got[128];
    size_t n = port_bytes(0, got, sizeof got);
    CHECK(n == strlen(text) && memcmp(got, text, n) == 0);
    size_t np;
    const comb_swo_sim_packet *p = comb_swo_sim_packets(&np);
    for (size_t i = 0; i < np; i++)
        CHECK(p[i].size == 4u || p[i].size == 1u);

    up();
    comb_trace_session_start_at(CORE_HZ, CORE_HZ, 0x1122334455667788u, 7u);
    static const comb_swo_sim_packet want[] = {
        {30, 1, COMB_EVT_HEADER(COMB_EVT_SESSION_START, 6)},
        {30, 2, COMB_PROTOCOL_VERSION},
        {30, 4, CORE_HZ},
        {30, 4, CORE_HZ},
        {30, 4, 0x55667788u},
        {30, 4, 0x11223344u},
        {30, 4, 7u},
    };
    CHECK(packets_equal(want, sizeof want / sizeof want[0]));
}

/* ---- heap and scheduler events against the golden vectors ------------------ */

/* The packets as the ITM puts them on the wire: a header (port << 3 | 1, 2
 * or 3 for 1, 2 or 4 bytes), then the payload little-endian. */
static size_t wire_bytes(uint8_t *out, size_t max)
{
    size_t n, len = 0;
    const comb_swo_sim_packet *p = comb_swo_sim_packets(&n);
    for (size_t i = 0; i < n && len + 5u <= max; i++) {
        out[len++] = (uint8_t)(p[i].port << 3 | (p[i].size == 4u ? 3u : p[i].size));
        for (unsigned b = 0; b < p[i].size; b++)
            out[len++] = (uint8_t)(p[i].value >> (8u * b));
    }
    return len;
}

static const struct vector *golden(const struct vector *v, size_t n, const char *file, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].file, file) == 0 && strcmp(v[i].name, name) == 0)
            return &v[i];
    fprintf(stderr, "  no vector %s/%s\n", file, name);
    return NULL;
}

static uint32_t field(const struct vec_event *ev, const char *name)
{
    uint64_t v = 0;
    CHECK(vec_event_get(ev, name, &v) == 0);
    return (uint32_t)v;
}

static bool matches(const struct vector *want)
{
    uint8_t got[256];
    size_t n = wire_bytes(got, sizeof got);
    bool same = n == want->nbytes && memcmp(got, want->bytes, n) == 0;
    if (!same) {
        fprintf(stderr, "  %s/%s over SWO:", want->file, want->name);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %02x", got[i]);
        fprintf(stderr, "\n  golden:");
        for (size_t i = 0; i < want->nbytes; i++)
            fprintf(stderr, " %02x", want->bytes[i]);
        fprintf(stderr, "\n");
    }
    return same;
}

/* What the allocator (heap_wrap.c) and the scheduler (fiber.c, thread.c)
 * call, the inline port test and the timestamp included, with the golden
 * vectors' values: the same bytes as the UART transport's. */
static void test_heap_and_sched_events(void)
{
    size_t nv;
    struct vector *v = vectors_load(COMB_VECTORS_DIR, &nv);
    const struct vector *alloc = golden(v, nv, "heap.vec", "heap_alloc");
    const struct vector *fibers = golden(v, nv, "sched.vec", "fibers");
    CHECK(alloc && alloc->nevents == 1u && strcmp(alloc->events[0].name, "heap_alloc") == 0);
    CHECK(fibers && fibers->nevents == 4u);
    if (!alloc || !fibers || fibers->nevents != 4u) {
        free(v);
        return;
    }

    up();
    const struct vec_event *a = &alloc->events[0];
    comb_host_set_timestamp(field(a, "ts"), 1u);
    comb_trace_heap_alloc((const void *)(uintptr_t)field(a, "ptr"), field(a, "size"), NULL);
    CHECK(matches(alloc));

    up();
    comb_host_set_timestamp(field(&fibers->events[0], "ts"), 1u); /* the vector's ts go up by 1 */
    for (unsigned i = 0; i < 4u; i++) {
        const struct vec_event *e = &fibers->events[i];
        CHECK_EQ_U64(field(e, "ts"), field(&fibers->events[0], "ts") + i);
        comb_trace_fiber(COMB_EVT_FIBER_ADDED + i, field(e, "thr"), (const void *)(uintptr_t)field(e, "fiber"));
    }
    CHECK(matches(fibers));
    CHECK_EQ_U64(comb_transport_dropped(), 0u);

    /* port 30 off: the scheduler's events cost no register access */
    comb_transport_init(~(1u << COMB_PORT_SCHED), 1u);
    comb_swo_sim_log_clear();
    comb_trace_fiber(COMB_EVT_FIBER_ADDED, 1u, (const void *)(uintptr_t)0x20000400u);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
    free(v);
}

/* ---- enabled or not ------------------------------------------------------- */

static void test_disabled_port(void)
{
    /* Disabled by the firmware: the inline test of the RAM mirror, nothing
     * else, not one register access. */
    up();
    comb_transport_init(~(1u << 3), 1u);
    comb_swo_sim_log_clear();
    comb_log_u32(3, 0x12345678u);
    comb_log_printf(3, "not %s\n", "formatted");
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);

    /* Before comb_swo_init every port is off in the mirror. */
    comb_host_reset();
    comb_swo_sim_reset();
    comb_printf("too early\n");
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);

    /* A debugger turned the port off in ITM_TER: two register reads, no
     * poll, no store, no drop. */
    up();
    comb_swo_sim_set(COMB_REG_ITM_TER, ~(1u << 9));
    comb_log_u16(9, 0x5555);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 2u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 0u);
    CHECK_EQ_U64(comb_transport_dropped(), 0u);
    comb_log_u16(8, 0x6666); /* the others still work */
    static const comb_swo_sim_packet want[] = {{8, 2, 0x6666}};
    CHECK(packets_equal(want, 1));

    /* ...or the ITM altogether, or trace power (reads then return 0). */
    up();
    comb_swo_sim_set(COMB_REG_ITM_TCR, 0u);
    comb_log_u8(0, 1);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 1u);
    up();
    comb_swo_sim_set(COMB_REG_DEMCR, 0u);
    comb_log_u8(0, 1);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 1u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls() + comb_transport_dropped(), 0u);
}

/* ---- a full FIFO -------------------------------------------------------------- */

static void test_busy_then_free(void)
{
    static const uint32_t polls[] = {1u, 7u, 2000u, WAIT / 10u - 1u};
    for (unsigned i = 0; i < sizeof polls / sizeof polls[0]; i++) {
        up();
        comb_swo_sim_stim_busy(polls[i]);
        comb_log_u32(2, 0xCAFEF00Du);
        static const comb_swo_sim_packet want[] = {{2, 4, 0xCAFEF00Du}};
        CHECK(packets_equal(want, 1));
        CHECK_EQ_U64(comb_swo_sim_stim_polls(), polls[i] + 1u);
        CHECK_EQ_U64(comb_transport_dropped(), 0u);
        CHECK_EQ_U64(comb_swo_sim_overflows(), 0u);
    }
}

static void test_busy_forever(void)
{
    /* CYCCNT advances 10 per read, one read per poll: the deadline of
     * WAIT cycles passes at the (WAIT / 10)th poll, which is the last try. */
    up();
    CHECK_EQ_U64(comb_swo_wait_cycles(), WAIT);
    comb_swo_sim_stim_busy(COMB_SWO_SIM_FOREVER);
    comb_log_u32(2, 0x1u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), WAIT / 10u);
    CHECK_EQ_U64(comb_transport_dropped(), 1u);
    CHECK_EQ_U64(comb_swo_sim_overflows(), 1u); /* stored into the full FIFO: the ITM's 0x70 */
    size_t n;
    comb_swo_sim_packets(&n);
    CHECK_EQ_U64(n, 0u);

    /* Each packet pays the bound once, and the counter counts each. */
    comb_log_u8(2, 0x2);
    comb_log_u16(2, 0x3);
    CHECK_EQ_U64(comb_transport_dropped(), 3u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 3u * (WAIT / 10u));

    /* The FIFO drains: the next packet goes out at the first poll. */
    comb_swo_sim_stim_busy(0u);
    comb_log_u8(2, 0x4);
    static const comb_swo_sim_packet want[] = {{2, 1, 0x4}};
    CHECK(packets_equal(want, 1));
    CHECK_EQ_U64(comb_transport_dropped(), 3u);

    /* A slower line waits longer: 115200 baud at 72 MHz is 625 cycles a bit. */
    comb_host_reset();
    comb_swo_sim_reset();
    CHECK_EQ_U64(comb_swo_init(CORE_HZ, 115200u), COMB_SWO_OK);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 800u * 625u);
    comb_swo_sim_stim_busy(COMB_SWO_SIM_FOREVER);
    comb_log_u8(0, 0);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 800u * 625u / 10u);
}

/* CYCCNT stopped (e.g. a debugger cleared CYCCNTENA): the poll cap ends the
 * wait after WAIT / 4 polls, plus the last try. */
static void test_cyccnt_stopped(void)
{
    up();
    comb_swo_sim_set(COMB_REG_DWT_CTRL, comb_swo_sim_get(COMB_REG_DWT_CTRL) & ~COMB_DWT_CTRL_CYCCNTENA);
    comb_swo_sim_stim_busy(COMB_SWO_SIM_FOREVER);
    comb_log_u8(0, 0x55);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), WAIT / 4u + 1u);
    CHECK_EQ_U64(comb_transport_dropped(), 1u);
}

static void test_flush(void)
{
    up();
    comb_swo_sim_tcr_busy(5u);
    CHECK(comb_transport_flush());
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TCR) & COMB_ITM_TCR_BUSY, 0u);

    /* never idle: false, after the deadline (one CYCCNT read per TCR read) */
    up();
    comb_swo_sim_tcr_busy(COMB_SWO_SIM_FOREVER);
    CHECK(!comb_transport_flush());
    uint64_t a = comb_swo_sim_accesses();
    CHECK(a >= 2u * (WAIT / 10u) && a <= 2u * (WAIT / 10u) + 4u);

    /* ITM off: nothing can be queued, one read */
    comb_host_reset();
    comb_swo_sim_reset();
    CHECK(comb_transport_flush());
    CHECK_EQ_U64(comb_swo_sim_accesses(), 1u);
}

/* A handler that runs longer than the whole bound between two polls, and
 * meanwhile the FIFO drains: the packet still goes out (the deadline is
 * checked before each try, so there is always a try after the handler). */
static void long_handler(unsigned where, unsigned depth, void *ctx)
{
    (void)depth;
    (void)ctx;
    if (where == COMB_PP_SWO_FULL) {
        comb_swo_sim_set(COMB_REG_DWT_CYCCNT, comb_swo_sim_get(COMB_REG_DWT_CYCCNT) + 10u * WAIT);
        comb_swo_sim_stim_busy(0u);
    }
}

static void test_long_handler(void)
{
    up();
    comb_swo_sim_stim_busy(COMB_SWO_SIM_FOREVER);
    comb_host_set_preempt_hook(long_handler, NULL);
    comb_log_u8(4, 0x44);
    comb_host_set_preempt_hook(NULL, NULL);
    static const comb_swo_sim_packet want[] = {{4, 1, 0x44}};
    CHECK(packets_equal(want, 1));
    CHECK_EQ_U64(comb_transport_dropped(), 0u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 2u);
}

/* ---- a simulated interrupt between the FIFO check and the store ------------- */

struct irq {
    unsigned where;   /* preemption point to strike at */
    unsigned hits;    /* how many times it struck */
    unsigned depth;   /* hook depth to strike at (0: first level) */
    bool write;       /* the interrupt writes a packet */
    uint32_t refill;  /* FIFO busy for this many polls after it */
    bool nested;      /* the interrupt is itself interrupted at every point */
};

static struct irq *irq;

static void hook(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where != irq->where || depth != irq->depth || irq->hits != 0u)
        return;
    irq->hits++;
    comb_swo_sim_exception(); /* exception entry clears the monitor */
    if (irq->write)
        comb_transport_swit(5, 4, 0x11110000u | depth);
    if (irq->refill)
        comb_swo_sim_stim_busy(irq->refill);
    comb_swo_sim_exception(); /* and so does the return */
}

static void test_interrupt_between_check_and_store(void)
{
    /* The interrupt writes: its packet first, ours retried after it (the
     * STREX found the monitor closed), nothing lost. */
    up();
    struct irq a = {.where = COMB_PP_SWO_READY, .write = true};
    irq = &a;
    comb_host_set_preempt_hook(hook, NULL);
    comb_transport_swit(2, 2, 0xAAAA);
    static const comb_swo_sim_packet want[] = {{5, 4, 0x11110000u}, {2, 2, 0xAAAA}};
    CHECK(packets_equal(want, 2));
    CHECK_EQ_U64(a.hits, 1u);
    CHECK_EQ_U64(comb_swo_sim_strex_failures(), 1u);
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 3u); /* ours, the interrupt's, ours again */
    CHECK_EQ_U64(comb_transport_dropped() + comb_swo_sim_overflows(), 0u);

    /* ...and fills the FIFO: we poll again until it drains (a plain
     * check-then-store would have stored into the full FIFO here). */
    up();
    struct irq b = {.where = COMB_PP_SWO_READY, .write = true, .refill = 3};
    irq = &b;
    comb_host_set_preempt_hook(hook, NULL);
    comb_transport_swit(2, 1, 0xBB);
    static const comb_swo_sim_packet want_b[] = {{5, 4, 0x11110000u}, {2, 1, 0xBB}};
    CHECK(packets_equal(want_b, 2));
    CHECK_EQ_U64(comb_swo_sim_stim_polls(), 1u + 1u + 3u + 1u);
    CHECK_EQ_U64(comb_swo_sim_overflows(), 0u);

    /* An interrupt that writes nothing still clears the monitor: one retry. */
    up();
    struct irq c = {.where = COMB_PP_SWO_READY};
    irq = &c;
    comb_host_set_preempt_hook(hook, NULL);
    comb_transport_swit(2, 4, 0xC0FFEE);
    static const comb_swo_sim_packet want_c[] = {{2, 4, 0xC0FFEE}};
    CHECK(packets_equal(want_c, 1));
    CHECK_EQ_U64(comb_swo_sim_strex_failures(), 1u);

    /* Between two polls of a busy FIFO: its packet waits like ours, goes
     * first (the FIFO is in order), ours right after. */
    up();
    struct irq d = {.where = COMB_PP_SWO_FULL, .write = true};
    irq = &d;
    comb_host_set_preempt_hook(hook, NULL);
    comb_swo_sim_stim_busy(4u);
    comb_transport_swit(2, 1, 0xDD);
    static const comb_swo_sim_packet want_d[] = {{5, 4, 0x11110000u}, {2, 1, 0xDD}};
    CHECK(packets_equal(want_d, 2));
    CHECK_EQ_U64(comb_transport_dropped(), 0u);
    comb_host_set_preempt_hook(NULL, NULL);
}

/* Interrupts at every point, two deep: a first-level interrupt at point p1 of
 * the outer write, and inside it a second-level one at point p2 of its own
 * write. Whatever the points, every packet arrives exactly once, innermost
 * first, and nothing is dropped. */
static unsigned strike1, strike2, struck1, struck2;

static void hook2(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (depth == 0u && where == strike1 && !struck1) {
        struck1 = 1;
        comb_swo_sim_exception();
        comb_transport_swit(7, 2, 0x0101);
        comb_swo_sim_exception();
    } else if (depth == 1u && where == strike2 && !struck2) {
        struck2 = 1;
        comb_swo_sim_exception();
        comb_transport_swit(8, 1, 0x02);
        comb_swo_sim_exception();
    }
}

static void test_interrupts_everywhere(void)
{
    static const unsigned points[] = {COMB_PP_SWO_READY, COMB_PP_SWO_FULL, COMB_PP_SWO_LOST};
    unsigned both = 0;
    for (unsigned i = 0; i < 3; i++)
        for (unsigned j = 0; j < 3; j++)
            for (uint32_t busy = 0; busy <= 2u; busy++) {
                up();
                strike1 = points[i];
                strike2 = points[j];
                struck1 = struck2 = 0;
                comb_host_set_preempt_hook(hook2, NULL);
                comb_swo_sim_stim_busy(busy); /* busy polls make the FULL point reachable */
                comb_transport_swit(6, 4, 0x06060606u);
                comb_host_set_preempt_hook(NULL, NULL);
                size_t n;
                const comb_swo_sim_packet *p = comb_swo_sim_packets(&n);
                CHECK_EQ_U64(n, 1u + struck1 + struck2);
                CHECK(n >= 1u && p[n - 1].port == 6u && p[n - 1].value == 0x06060606u); /* outer last */
                if (struck2)
                    CHECK(n == 3u && p[0].port == 8u && p[1].port == 7u); /* innermost first */
                CHECK_EQ_U64(comb_transport_dropped() + comb_swo_sim_overflows(), 0u);
                both += struck1 && struck2;
            }
    CHECK(both >= 4u); /* the nested case was really reached */
}

/* A drop inside an interrupt while the outer write waits: both counted. */
static void drop_hook(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where == COMB_PP_SWO_FULL && depth == 0u && !struck1) {
        struck1 = 1;
        comb_transport_swit(9, 1, 0x9);
    }
}

static void test_nested_drops(void)
{
    up();
    struck1 = 0;
    comb_swo_sim_stim_busy(COMB_SWO_SIM_FOREVER);
    comb_host_set_preempt_hook(drop_hook, NULL);
    comb_transport_swit(1, 1, 0x1);
    comb_host_set_preempt_hook(NULL, NULL);
    CHECK_EQ_U64(comb_transport_dropped(), 2u);
    CHECK_EQ_U64(comb_swo_sim_overflows(), 2u);
}

int main(void)
{
    test_packets();
    test_write_chunking();
    test_log_and_events();
    test_heap_and_sched_events();
    test_disabled_port();
    test_busy_then_free();
    test_busy_forever();
    test_cyccnt_stopped();
    test_flush();
    test_long_handler();
    test_interrupt_between_check_and_store();
    test_interrupts_everywhere();
    test_nested_drops();
    return check_finish("test_itm_swo");
}
