/*
 * Threads (comb/thread.h) on the host port's simulated NVIC: preemption by
 * priority (a thread that wakes a higher one is preempted at once; one woken
 * by a higher thread waits for it, then runs before the lower thread it
 * preempted resumes), same-priority threads in turn, priority changes on the
 * fly, no re-entry, the current thread under nesting and in interrupts that
 * are not threads, and the port-30 events (wakeup from/to, enter/exit).
 */
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/port_sched.h"
#include "comb/thread.h"
#include "sched_events.h"

/* L and S share a priority; S has the higher IRQ number. */
#define THREADS(T) T(low, 20, 0x80) T(mid, 21, 0x60) T(high, 22, 0x40) T(same, 23, 0x80)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)

#define RAW_IRQ 5u /* an interrupt that is not a thread, above all of them */

static char trail[256];
static unsigned trail_len;

static void mark(const char *s)
{
    size_t n = strlen(s);
    if (trail_len + n + 1 < sizeof trail) {
        memcpy(trail + trail_len, s, n);
        trail_len += (unsigned)n;
        trail[trail_len++] = ' ';
        trail[trail_len] = '\0';
    }
}

static void setup(uint32_t port_mask)
{
    comb_host_reset();
    comb_transport_init(port_mask, 0u);
    comb_host_set_timestamp(100, 1);
    for (unsigned i = 0; i < COMB_THR_COUNT; i++) {
        comb_thr_table[i].chain.head = NULL;
        comb_host_nvic_set_handler(comb_thr_table[i].irq, comb_thr_handlers[i]);
    }
    comb_threads_init();
    trail_len = 0;
    trail[0] = '\0';
}

/* ---- a fiber per role, each running once ---------------------------------- */

static comb_thr_t *seen_current[8];
static unsigned seen_n;

static void note_current(void)
{
    if (seen_n < 8)
        seen_current[seen_n++] = comb_thr_current();
}

static comb_fib_state_t low_step(comb_fib_t *f)
{
    (void)f;
    mark("L<");
    note_current();
    comb_thr_wakeup(COMB_THR(high)); /* preempts us */
    note_current();                  /* ours again after the nested run */
    comb_thr_wakeup(COMB_THR(same)); /* same priority: after us */
    mark("L>");
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t high_step(comb_fib_t *f)
{
    (void)f;
    mark("H");
    note_current();
    comb_thr_wakeup(COMB_THR(mid)); /* lower than us, higher than low */
    mark("H>");
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t mid_step(comb_fib_t *f)
{
    (void)f;
    mark("M");
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t same_step(comb_fib_t *f)
{
    (void)f;
    mark("S");
    return COMB_FIB_COMPLETE;
}

static comb_fib_t f_low = COMB_FIB_INIT(low_step, NULL), f_high = COMB_FIB_INIT(high_step, NULL),
                  f_mid = COMB_FIB_INIT(mid_step, NULL), f_same = COMB_FIB_INIT(same_step, NULL);

static void add_all(void)
{
    CHECK(comb_fib_add(COMB_THR(low), &f_low));
    CHECK(comb_fib_add(COMB_THR(high), &f_high));
    CHECK(comb_fib_add(COMB_THR(mid), &f_mid));
    CHECK(comb_fib_add(COMB_THR(same), &f_same));
}

static void test_table(void)
{
    setup(0u);
    CHECK_EQ_U64(COMB_THR_COUNT, 4);
    CHECK(COMB_THR(low) == &comb_thr_table[0] && COMB_THR(same) == &comb_thr_table[3]);
    CHECK_EQ_U64(COMB_THR(mid)->index, 1);
    CHECK_EQ_U64(COMB_THR(high)->irq, 22);
    CHECK(comb_thr_handlers[2] == IRQ22_Handler);
    /* init: priorities set, IRQs enabled */
    CHECK_EQ_U64(comb_thr_priority(COMB_THR(low)), 0x80);
    CHECK_EQ_U64(comb_thr_priority(COMB_THR(high)), 0x40);
    for (unsigned i = 0; i < COMB_THR_COUNT; i++)
        CHECK(comb_host_nvic_enabled(comb_thr_table[i].irq));
    CHECK(comb_thr_current() == NULL);
    CHECK_EQ_U64(comb_thr_current_index(), COMB_THREAD_NONE);
}

static void test_preemption_order(void)
{
    setup(0u);
    seen_n = 0;
    add_all();
    comb_thr_wakeup(COMB_THR(low)); /* thread mode is below everything: runs now */
    CHECK(strcmp(trail, "L< H H> M L> S ") == 0);
    if (strcmp(trail, "L< H H> M L> S ") != 0)
        fprintf(stderr, "trail: %s\n", trail);
    CHECK_EQ_U64(seen_n, 3);
    CHECK(seen_current[0] == COMB_THR(low));
    CHECK(seen_current[1] == COMB_THR(high));
    CHECK(seen_current[2] == COMB_THR(low)); /* restored after the nested run */
    CHECK(comb_thr_current() == NULL);
    for (unsigned i = 0; i < COMB_THR_COUNT; i++) {
        CHECK_EQ_U64(comb_host_nvic_taken(comb_thr_table[i].irq), 1);
        CHECK(comb_thr_table[i].chain.head == NULL);
    }
}

/* Several pended by a higher thread: taken by priority, ties by IRQ number. */
static comb_fib_state_t fan_out(comb_fib_t *f)
{
    (void)f;
    mark("H");
    comb_thr_wakeup(COMB_THR(same)); /* 0x80, IRQ 23 */
    comb_thr_wakeup(COMB_THR(low));  /* 0x80, IRQ 20 */
    comb_thr_wakeup(COMB_THR(mid));  /* 0x60 */
    mark("H>");
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t low_plain(comb_fib_t *f)
{
    (void)f;
    mark("L");
    return COMB_FIB_COMPLETE;
}

static void test_pending_order(void)
{
    setup(0u);
    static comb_fib_t fh = COMB_FIB_INIT(fan_out, NULL), fl = COMB_FIB_INIT(low_plain, NULL);
    CHECK(comb_fib_add(COMB_THR(high), &fh));
    CHECK(comb_fib_add(COMB_THR(low), &fl));
    CHECK(comb_fib_add(COMB_THR(mid), &f_mid));
    CHECK(comb_fib_add(COMB_THR(same), &f_same));
    comb_thr_wakeup(COMB_THR(high));
    CHECK(strcmp(trail, "H H> M L S ") == 0);
    if (strcmp(trail, "H H> M L S ") != 0)
        fprintf(stderr, "trail: %s\n", trail);
}

static void test_set_priority(void)
{
    setup(0u);
    static comb_fib_t fh = COMB_FIB_INIT(fan_out, NULL), fl = COMB_FIB_INIT(low_plain, NULL);
    comb_thr_set_priority(COMB_THR(low), 0x20); /* now above high */
    CHECK_EQ_U64(comb_thr_priority(COMB_THR(low)), 0x20);
    CHECK(comb_fib_add(COMB_THR(high), &fh));
    CHECK(comb_fib_add(COMB_THR(low), &fl));
    CHECK(comb_fib_add(COMB_THR(mid), &f_mid));
    CHECK(comb_fib_add(COMB_THR(same), &f_same));
    comb_thr_wakeup(COMB_THR(high));
    CHECK(strcmp(trail, "H L H> M S ") == 0);
    if (strcmp(trail, "H L H> M S ") != 0)
        fprintf(stderr, "trail: %s\n", trail);
}

/* A thread waking itself runs again after it returns, never nested. */
static unsigned self_runs, self_depth, self_max_depth;

static comb_fib_state_t self_waker(comb_fib_t *f)
{
    self_depth++;
    if (self_depth > self_max_depth)
        self_max_depth = self_depth;
    self_runs++;
    if (self_runs < 3)
        comb_thr_wakeup(comb_fib_thread(f));
    self_depth--;
    return self_runs < 3 ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static void test_no_reentry(void)
{
    setup(0u);
    static comb_fib_t fs = COMB_FIB_INIT(self_waker, NULL);
    self_runs = self_depth = self_max_depth = 0;
    CHECK(comb_fib_exec(COMB_THR(mid), &fs));
    CHECK_EQ_U64(self_runs, 3);
    CHECK_EQ_U64(self_max_depth, 1);
    CHECK_EQ_U64(comb_host_nvic_taken(21), 3);
    CHECK(!comb_fib_linked(&fs));
}

/* ---- wakeup sources on the wire ------------------------------------------- */

static void raw_irq(void)
{
    mark("R");
    note_current();                 /* not a thread, although low is below us */
    comb_thr_wakeup(COMB_THR(mid)); /* from = 0xFF */
}

static comb_fib_state_t low_raises(comb_fib_t *f)
{
    (void)f;
    mark("L");
    comb_host_nvic_raise(RAW_IRQ); /* a peripheral interrupt lands here */
    comb_thr_wakeup(COMB_THR(high));
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t high_plain(comb_fib_t *f)
{
    (void)f;
    mark("H");
    return COMB_FIB_COMPLETE;
}

static void test_trace(void)
{
    setup(1u << COMB_PORT_SCHED);
    seen_n = 0;
    comb_host_nvic_set_handler(RAW_IRQ, raw_irq);
    comb_port_irq_set_priority(RAW_IRQ, 0x10);
    comb_port_irq_enable(RAW_IRQ);
    static comb_fib_t fl = COMB_FIB_INIT(low_raises, NULL), fh = COMB_FIB_INIT(high_plain, NULL);
    CHECK(comb_fib_add(COMB_THR(low), &fl));
    CHECK(comb_fib_add(COMB_THR(high), &fh));
    CHECK(comb_fib_add(COMB_THR(mid), &f_mid));
    comb_thr_wakeup(COMB_THR(low));
    CHECK(strcmp(trail, "L R M H ") == 0);
    if (strcmp(trail, "L R M H ") != 0)
        fprintf(stderr, "trail: %s\n", trail);
    CHECK(seen_n == 1 && seen_current[0] == NULL);

    static struct sched_event ev[64];
    unsigned n = sched_events(ev, 64);
    /* added x3, then: wakeup root->low, enter low, resumed low, wakeup 0xFF->mid
     * (from the raw IRQ), enter mid ... exit mid, wakeup low->high, enter high
     * ... exit high, completed low, exit low */
    const unsigned L = 0, M = 1, H = 2, N = COMB_THREAD_NONE;
    const struct {
        unsigned type;
        uint32_t f0, f1;
    } want[] = {
        {COMB_EVT_FIBER_ADDED, L, sched_lo32(&fl)},
        {COMB_EVT_FIBER_ADDED, H, sched_lo32(&fh)},
        {COMB_EVT_FIBER_ADDED, M, sched_lo32(&f_mid)},
        {COMB_EVT_THREAD_WAKEUP, N << 8 | L, 0},
        {COMB_EVT_THREAD_ENTER, L, 0},
        {COMB_EVT_FIBER_RESUMED, L, sched_lo32(&fl)},
        {COMB_EVT_THREAD_WAKEUP, N << 8 | M, 0},
        {COMB_EVT_THREAD_ENTER, M, 0},
        {COMB_EVT_FIBER_RESUMED, M, sched_lo32(&f_mid)},
        {COMB_EVT_FIBER_COMPLETED, M, sched_lo32(&f_mid)},
        {COMB_EVT_THREAD_EXIT, M, 0},
        {COMB_EVT_THREAD_WAKEUP, L << 8 | H, 0},
        {COMB_EVT_THREAD_ENTER, H, 0},
        {COMB_EVT_FIBER_RESUMED, H, sched_lo32(&fh)},
        {COMB_EVT_FIBER_COMPLETED, H, sched_lo32(&fh)},
        {COMB_EVT_THREAD_EXIT, H, 0},
        {COMB_EVT_FIBER_COMPLETED, L, sched_lo32(&fl)},
        {COMB_EVT_THREAD_EXIT, L, 0},
    };
    unsigned nw = sizeof want / sizeof want[0];
    CHECK_EQ_U64(n, nw);
    uint32_t last_ts = 0;
    for (unsigned i = 0; i < n && i < nw; i++) {
        CHECK_EQ_U64(ev[i].type, want[i].type);
        CHECK_EQ_U64(ev[i].f[0], want[i].f0);
        bool fiber = want[i].type >= COMB_EVT_FIBER_ADDED;
        CHECK_EQ_U64(ev[i].n, fiber ? 3 : 2);
        if (fiber)
            CHECK_EQ_U64(ev[i].f[1], want[i].f1);
        uint32_t ts = ev[i].f[ev[i].n - 1];
        CHECK(ts > last_ts); /* one timestamp per event, read in time order */
        last_ts = ts;
    }
}

static void test_port_off(void)
{
    setup(~(1u << COMB_PORT_SCHED));
    seen_n = 0;
    add_all();
    comb_thr_wakeup(COMB_THR(low));
    CHECK(strcmp(trail, "L< H H> M L> S ") == 0);
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
}

int main(void)
{
    test_table();
    test_preemption_order();
    test_pending_order();
    test_set_priority();
    test_no_reentry();
    test_trace();
    test_port_off();
    return check_finish("test_thread");
}
