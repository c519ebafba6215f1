/*
 * schedtest: the thread and fiber runtime (comb/thread.h, docs/scheduler.md)
 * on the real NVIC, one scenario after another, each checking itself and
 * framed on port 0 by "begin <name> <ts>" / "end <name> <ts>" so that the
 * port-30 events of a scenario can be told apart by their timestamps.
 * tests/e2e/test_fibers_qemu.py runs it under -icount shift=0,sleep=off
 * (deterministic) and checks the order again from the captured events.
 *
 *   prio     a thread waking a higher one is preempted by it; one woken by a
 *            higher thread runs after it, before the lower thread resumes;
 *            same priority runs in turn ("prio: L< H H> M L> S")
 *   pending  three pended by a higher thread: priority order, then IRQ number
 *   lifo     three fibers added A, B, C run C, B, A
 *   yield    a fiber yielding twice runs three times, then never again
 *   drop     pool fibers: drop callbacks, every block back in the pool
 *   timer    SysTick every 1000 cycles: a periodic timer of 5 ticks, a
 *            fiber sleeping 7 ticks three times (printed in timestamp ticks,
 *            against one tick measured first)
 *   nested   a peripheral interrupt (not a thread) preempting a thread wakes
 *            another (from 0xFF); a thread woken inside a nested thread
 *            reports the inner one as its waker
 *   latency  8 times: high wakes low, then spins 4000 ticks (low's latency);
 *            low wakes top, which spins 1000 ticks, and spins until 3000
 *            ticks after its start (low's self time: 2000)
 *
 * A preloaded RAM word selects scenarios (see `selected`; the latency test
 * runs that one alone). Threads (IRQ, priority): t_low 24 0xC0, t_mid 25 0x80, t_high 26 0x40,
 * t_same 27 0xC0, t_top 28 0x20; indices 0-4. Every fiber is a named object,
 * so its address resolves to a symbol. Port 0 ends with
 * "schedtest: failures N"; exit status 0 when N is 0.
 */
#include "comb/board.h"
#include "comb/fiber.h"
#include "comb/heap.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/session.h"
#include "comb/thread.h"
#include "comb/timer.h"
#include "comb/trace.h"

#define THREADS(T) T(t_low, 24, 0xC0) T(t_mid, 25, 0x80) T(t_high, 26, 0x40) T(t_same, 27, 0xC0) T(t_top, 28, 0x20)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)
COMB_TIMER_SYSTICK_HANDLER()

static unsigned failures;

/* ---- the trail: marks in the order things ran ------------------------------ */

static char trail[96];
static unsigned trail_len;

static void mark(char c)
{
    if (trail_len + 1 < sizeof trail) {
        trail[trail_len++] = c;
        trail[trail_len] = '\0';
    }
}

/* No C library in the image: its own string compare. */
static bool same_text(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void expect_trail(const char *name, const char *want)
{
    bool ok = same_text(trail, want);
    if (!ok)
        failures++;
    comb_printf("%s: %s %s\n", name, trail, ok ? "ok" : "FAIL");
    trail_len = 0;
    trail[0] = '\0';
}

static void begin(const char *name)
{
    comb_printf("begin %s %lu\n", name, (unsigned long)comb_trace_timestamp());
}

static void end(const char *name)
{
    comb_printf("end %s %lu\n", name, (unsigned long)comb_trace_timestamp());
}

/* Spin until `ticks` timestamp ticks have passed since `t0`. Bound: `ticks`. */
static void spin_until(uint32_t t0, uint32_t ticks)
{
    while (comb_trace_timestamp() - t0 < ticks) {
    }
}

static comb_fib_state_t complete_with(char c)
{
    mark(c);
    return COMB_FIB_COMPLETE;
}

/* ---- prio ---------------------------------------------------------------------- */

static comb_fib_state_t prio_low(comb_fib_t *f)
{
    (void)f;
    mark('L');
    mark('<');
    comb_thr_wakeup(COMB_THR(t_high)); /* preempts us here */
    comb_thr_wakeup(COMB_THR(t_same)); /* same priority: after us */
    mark('L');
    mark('>');
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t prio_high(comb_fib_t *f)
{
    (void)f;
    mark('H');
    comb_thr_wakeup(COMB_THR(t_mid)); /* below us, above t_low */
    mark('H');
    mark('>');
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t prio_mid(comb_fib_t *f)
{
    (void)f;
    return complete_with('M');
}

static comb_fib_state_t prio_same(comb_fib_t *f)
{
    (void)f;
    return complete_with('S');
}

static comb_fib_state_t prio_low_plain(comb_fib_t *f)
{
    (void)f;
    return complete_with('L');
}

static comb_fib_state_t pending_fan(comb_fib_t *f)
{
    (void)f;
    mark('F');
    comb_thr_wakeup(COMB_THR(t_same)); /* 0xC0, IRQ 27 */
    comb_thr_wakeup(COMB_THR(t_low));  /* 0xC0, IRQ 24 */
    comb_thr_wakeup(COMB_THR(t_mid));  /* 0x80 */
    mark('f');
    return COMB_FIB_COMPLETE;
}

static comb_fib_t f_prio_low = COMB_FIB_INIT(prio_low, NULL);
static comb_fib_t f_prio_high = COMB_FIB_INIT(prio_high, NULL);
static comb_fib_t f_prio_mid = COMB_FIB_INIT(prio_mid, NULL);
static comb_fib_t f_prio_same = COMB_FIB_INIT(prio_same, NULL);
static comb_fib_t f_pending_fan = COMB_FIB_INIT(pending_fan, NULL);
static comb_fib_t f_pending_low = COMB_FIB_INIT(prio_low_plain, NULL);

static void scenario_prio(void)
{
    begin("prio");
    comb_fib_add(COMB_THR(t_low), &f_prio_low);
    comb_fib_add(COMB_THR(t_high), &f_prio_high);
    comb_fib_add(COMB_THR(t_mid), &f_prio_mid);
    comb_fib_add(COMB_THR(t_same), &f_prio_same);
    comb_thr_wakeup(COMB_THR(t_low)); /* thread mode is below every thread */
    expect_trail("prio", "L<HH>ML>S");
    end("prio");

    begin("pending");
    comb_fib_add(COMB_THR(t_high), &f_pending_fan);
    comb_fib_add(COMB_THR(t_low), &f_pending_low);
    comb_fib_add(COMB_THR(t_mid), &f_prio_mid);
    comb_fib_add(COMB_THR(t_same), &f_prio_same);
    comb_thr_wakeup(COMB_THR(t_high));
    expect_trail("pending", "FfMLS");
    end("pending");
}

/* ---- lifo, yield ------------------------------------------------------------------ */

static comb_fib_state_t mark_a(comb_fib_t *f)
{
    (void)f;
    return complete_with('A');
}
static comb_fib_state_t mark_b(comb_fib_t *f)
{
    (void)f;
    return complete_with('B');
}
static comb_fib_state_t mark_c(comb_fib_t *f)
{
    (void)f;
    return complete_with('C');
}

static comb_fib_t fib_a = COMB_FIB_INIT(mark_a, NULL);
static comb_fib_t fib_b = COMB_FIB_INIT(mark_b, NULL);
static comb_fib_t fib_c = COMB_FIB_INIT(mark_c, NULL);

static unsigned yield_runs;

static comb_fib_state_t yielder(comb_fib_t *f)
{
    (void)f;
    yield_runs++;
    mark((char)('0' + yield_runs));
    return yield_runs < 3 ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static comb_fib_state_t once(comb_fib_t *f)
{
    (void)f;
    return complete_with('o');
}

static comb_fib_t fib_yield = COMB_FIB_INIT(yielder, NULL);
static comb_fib_t fib_once = COMB_FIB_INIT(once, NULL);

static void scenario_lifo_yield(void)
{
    begin("lifo");
    comb_fib_add(COMB_THR(t_mid), &fib_a);
    comb_fib_add(COMB_THR(t_mid), &fib_b);
    comb_fib_add(COMB_THR(t_mid), &fib_c);
    comb_thr_wakeup(COMB_THR(t_mid));
    expect_trail("lifo", "CBA");
    end("lifo");

    begin("yield");
    comb_fib_add(COMB_THR(t_mid), &fib_yield);
    comb_fib_add(COMB_THR(t_mid), &fib_once);
    for (unsigned i = 0; i < 4; i++)
        comb_thr_wakeup(COMB_THR(t_mid));
    expect_trail("yield", "o123");
    if (comb_fib_linked(&fib_yield) || COMB_THR(t_mid)->chain.head != NULL)
        failures++;
    end("yield");
}

/* ---- drop: pool fibers ------------------------------------------------------------------ */

struct job {
    comb_fib_t fib;
    unsigned id, runs;
};

static unsigned drops;

static comb_fib_state_t job_step(comb_fib_t *f)
{
    struct job *j = COMB_FIB_CONTAINER(f, struct job, fib);
    mark((char)('0' + j->id));
    return ++j->runs < 2 ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static void job_drop(comb_fib_t *f)
{
    struct job *j = COMB_FIB_CONTAINER(f, struct job, fib);
    mark((char)('a' + j->id));
    drops++;
}

static void scenario_drop(void)
{
    begin("drop");
    for (unsigned i = 0; i < 4; i++) {
        struct job *j = (struct job *)comb_fib_alloc(&comb_heap_main, sizeof *j, job_step, job_drop);
        if (j == NULL) {
            failures++;
            break;
        }
        j->id = i;
        comb_fib_add(COMB_THR(t_mid), &j->fib);
    }
    uint32_t in_use_before = comb_heap_in_use(&comb_heap_main);
    comb_thr_wakeup(COMB_THR(t_mid));
    comb_thr_wakeup(COMB_THR(t_mid));
    expect_trail("drop", "32103d2c1b0a");
    uint32_t in_use = comb_heap_in_use(&comb_heap_main);
    comb_printf("drop: dropped %u in_use %lu -> %lu\n", drops, (unsigned long)in_use_before,
                (unsigned long)in_use);
    if (drops != 4 || in_use_before != 4 || in_use != 0)
        failures++;
    end("drop");
}

/* ---- timer ------------------------------------------------------------------------------ */

#define TICK_CYCLES 1000u
#define PERIOD_TICKS 5u
#define PERIODS 10u
#define SLEEP_TICKS 7u
#define SLEEPS 3u

static comb_timer_t tm_period = COMB_TIMER_INIT;
static uint32_t period_ts[PERIODS];
static unsigned period_n;

static comb_fib_state_t on_period(comb_fib_t *f)
{
    static uint32_t n;
    COMB_FIB_BEGIN(f);
    while (period_n < PERIODS) {
        COMB_FIB_AWAIT_TIMER(f, &tm_period, n);
        period_ts[period_n++] = comb_trace_timestamp();
        if (n != 1u)
            failures++; /* an expiry was missed */
    }
    comb_timer_cancel(&tm_period);
    COMB_FIB_END(f);
}

struct sleeper {
    comb_fib_t fib;
    comb_timer_t timer;
    unsigned i;
    uint32_t ts[SLEEPS + 1];
};

static comb_fib_state_t sleeper_step(comb_fib_t *f)
{
    struct sleeper *s = COMB_FIB_CONTAINER(f, struct sleeper, fib);
    COMB_FIB_BEGIN(f);
    s->ts[0] = comb_trace_timestamp();
    for (s->i = 1; s->i <= SLEEPS; s->i++) {
        COMB_FIB_SLEEP(f, &s->timer, SLEEP_TICKS);
        s->ts[s->i] = comb_trace_timestamp();
    }
    COMB_FIB_END(f);
}

static comb_fib_t f_period = COMB_FIB_INIT(on_period, NULL);
static struct sleeper f_sleeper = {COMB_FIB_INIT(sleeper_step, NULL), COMB_TIMER_INIT, 0, {0}};

static void scenario_timer(void)
{
    begin("timer");
    comb_timer_systick_start(TICK_CYCLES, 0xE0); /* lowest priority */
    /* One tick in timestamp ticks, measured over 10 ticks: SysTick counts
     * the core clock on hardware, but QEMU's mps2 clocks it at half the rate
     * of the timestamp timer. Bound: 12 ticks. */
    uint32_t n0 = comb_timer_now();
    while (comb_timer_now() == n0)
        comb_thr_idle();
    uint32_t ta = comb_trace_timestamp(), n1 = comb_timer_now();
    while (comb_timer_now() - n1 < 10u)
        comb_thr_idle();
    uint32_t tick_ts = (comb_trace_timestamp() - ta + 5u) / 10u;
    comb_printf("timer: tick %lu\n", (unsigned long)tick_ts);
    comb_timer_start(&tm_period, PERIOD_TICKS, PERIOD_TICKS, COMB_THR(t_high));
    comb_fib_add(COMB_THR(t_high), &f_period);
    comb_fib_exec(COMB_THR(t_mid), &f_sleeper.fib);
    /* Root: sleep between interrupts. Bound: the last expiry comes after
     * PERIODS * PERIOD_TICKS ticks. */
    while (comb_fib_linked(&f_period) || comb_fib_linked(&f_sleeper.fib))
        comb_thr_idle();
    comb_timer_systick_stop();
    comb_printf("timer: period");
    for (unsigned i = 1; i < PERIODS; i++)
        comb_printf(" %lu", (unsigned long)(period_ts[i] - period_ts[i - 1]));
    comb_printf("\ntimer: sleep");
    for (unsigned i = 1; i <= SLEEPS; i++)
        comb_printf(" %lu", (unsigned long)(f_sleeper.ts[i] - f_sleeper.ts[i - 1]));
    comb_printf("\n");
    /* every period PERIOD_TICKS ticks; the first sleep 6-7 ticks (the
     * current tick is partly gone), then SLEEP_TICKS */
    for (unsigned i = 1; i < PERIODS; i++) {
        uint32_t d = period_ts[i] - period_ts[i - 1];
        if (d + 100u < PERIOD_TICKS * tick_ts || d > PERIOD_TICKS * tick_ts + 100u)
            failures++;
    }
    for (unsigned i = 1; i <= SLEEPS; i++) {
        uint32_t d = f_sleeper.ts[i] - f_sleeper.ts[i - 1];
        uint32_t lo = (i == 1 ? SLEEP_TICKS - 1u : SLEEP_TICKS) * tick_ts;
        if (d + 100u < lo || d > SLEEP_TICKS * tick_ts + 100u)
            failures++;
    }
    end("timer");
}

/* ---- nested ------------------------------------------------------------------------------ */

static volatile bool raw_fired;

/* The board's timer: an interrupt that is not a thread, above every thread. */
void COMB_BOARD_TIMER_HANDLER(void)
{
    comb_board_timer_stop();
    mark('R');
    raw_fired = true;
    comb_thr_wakeup(COMB_THR(t_mid)); /* from 0xFF */
}

static comb_fib_state_t nested_low_spin(comb_fib_t *f)
{
    (void)f;
    mark('l');
    uint32_t t0 = comb_trace_timestamp();
    /* Bound: the timer fires 2000 cycles after it was started; give up
     * after 100000 ticks. */
    while (!raw_fired && comb_trace_timestamp() - t0 < 100000u) {
    }
    mark('L');
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t nested_low_chain(comb_fib_t *f)
{
    (void)f;
    mark('l');
    comb_thr_wakeup(COMB_THR(t_top));
    mark('L');
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t nested_top(comb_fib_t *f)
{
    (void)f;
    mark('T');
    comb_thr_wakeup(COMB_THR(t_high)); /* from t_top (4), not t_low */
    return COMB_FIB_COMPLETE;
}

static comb_fib_state_t nested_high(comb_fib_t *f)
{
    (void)f;
    mark('H');
    comb_thr_wakeup(COMB_THR(t_mid)); /* from t_high (2) */
    return COMB_FIB_COMPLETE;
}

static comb_fib_t f_nested_spin = COMB_FIB_INIT(nested_low_spin, NULL);
static comb_fib_t f_nested_chain = COMB_FIB_INIT(nested_low_chain, NULL);
static comb_fib_t f_nested_top = COMB_FIB_INIT(nested_top, NULL);
static comb_fib_t f_nested_high = COMB_FIB_INIT(nested_high, NULL);

static void scenario_nested(void)
{
    begin("nested");
    comb_fib_add(COMB_THR(t_low), &f_nested_spin);
    comb_fib_add(COMB_THR(t_mid), &f_prio_mid);
    comb_board_timer_start(2000u, 0x10); /* fires inside t_low's spin */
    comb_thr_wakeup(COMB_THR(t_low));
    expect_trail("nested-irq", "lRML");

    comb_fib_add(COMB_THR(t_low), &f_nested_chain);
    comb_fib_add(COMB_THR(t_top), &f_nested_top);
    comb_fib_add(COMB_THR(t_high), &f_nested_high);
    comb_fib_add(COMB_THR(t_mid), &f_prio_mid);
    comb_thr_wakeup(COMB_THR(t_low));
    expect_trail("nested-thread", "lTHML");
    end("nested");
}

/* ---- latency ------------------------------------------------------------------------------ */

#define LAT_REPS 8u
#define LAT_HIGH_TICKS 4000u
#define LAT_LOW_TICKS 3000u
#define LAT_TOP_TICKS 1000u

/* Each returns YIELDED until its LAT_REPS-th run, then COMPLETE. */
static unsigned lat_runs[3];

static comb_fib_state_t lat_result(unsigned who)
{
    return ++lat_runs[who] < LAT_REPS ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static comb_fib_state_t lat_high(comb_fib_t *f)
{
    (void)f;
    uint32_t t0 = comb_trace_timestamp();
    comb_thr_wakeup(COMB_THR(t_low)); /* lower: waits for us */
    spin_until(t0, LAT_HIGH_TICKS);
    return lat_result(0);
}

static comb_fib_state_t lat_low(comb_fib_t *f)
{
    (void)f;
    uint32_t t0 = comb_trace_timestamp();
    comb_thr_wakeup(COMB_THR(t_top)); /* preempts us for LAT_TOP_TICKS */
    spin_until(t0, LAT_LOW_TICKS);
    return lat_result(1);
}

static comb_fib_state_t lat_top(comb_fib_t *f)
{
    (void)f;
    spin_until(comb_trace_timestamp(), LAT_TOP_TICKS);
    return lat_result(2);
}

static comb_fib_t f_lat_high = COMB_FIB_INIT(lat_high, NULL);
static comb_fib_t f_lat_low = COMB_FIB_INIT(lat_low, NULL);
static comb_fib_t f_lat_top = COMB_FIB_INIT(lat_top, NULL);

static void scenario_latency(void)
{
    begin("latency");
    comb_fib_add(COMB_THR(t_high), &f_lat_high);
    comb_fib_add(COMB_THR(t_low), &f_lat_low);
    comb_fib_add(COMB_THR(t_top), &f_lat_top);
    for (unsigned i = 0; i < LAT_REPS; i++) {
        comb_thr_wakeup(COMB_THR(t_high)); /* high, then low (with top inside) run here */
        spin_until(comb_trace_timestamp(), 500u);
    }
    if (comb_fib_linked(&f_lat_high) || comb_fib_linked(&f_lat_low) || comb_fib_linked(&f_lat_top))
        failures++;
    end("latency");
}

/* Scenario selection: the test harness may preload the board's preload word
 * (__comb_preload_word__, boards/common/comb_sections.ld: just above .bss,
 * written by neither the ELF loader nor Reset_Handler), e.g. QEMU -device
 * loader,addr=<that symbol's value>,data=0x5CED0020,data-len=4.
 * SELECT_MAGIC | mask runs only the scenarios of the mask (bit n = scenario n
 * of the list in main); anything else (what RAM held) runs them all. Its
 * address comes from each board's linker script: a fixed one is not RAM on
 * every board (mps2-an505's RAM is at 0x38000000). */
extern volatile uint32_t __comb_preload_word__;
#define SELECT_WORD __comb_preload_word__
#define SELECT_MAGIC 0x5CED0000u

static bool selected(unsigned n)
{
    uint32_t w = SELECT_WORD;
    return (w & 0xFFFF0000u) != SELECT_MAGIC || (w >> n & 1u);
}

int main(void)
{
    comb_board_init();
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    comb_threads_init();

    void (*const scenarios[])(void) = {scenario_prio,  scenario_lifo_yield, scenario_drop,
                                       scenario_timer, scenario_nested,     scenario_latency};
    for (unsigned i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        if (selected(i))
            scenarios[i]();

    comb_printf("schedtest: failures %u dropped %lu\n", failures, (unsigned long)comb_transport_dropped());
    (void)comb_session_end(comb_board_ts_hz() / 100u); /* the file capture does not answer */
    return failures == 0 && comb_transport_dropped() == 0 ? 0 : 1;
}
