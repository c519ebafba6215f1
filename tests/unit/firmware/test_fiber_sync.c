/*
 * What sits on top of the fiber chains (comb/future.h, comb/pulse.h,
 * comb/timer.h), on the host port's simulated NVIC: a future computed by a
 * low thread wakes its waiter with the value; pulse streams saturate and
 * count what they lost, also with a sender preempting at every point; timers
 * expire at the right ticks (one-shot, periodic, cancelled, restarted by the
 * thread they woke), a restart racing with an expiry does not see the old
 * expiry, and a protothread fiber sleeps with COMB_FIB_SLEEP.
 */
#include <string.h>

#include "check.h"
#include "comb/future.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/port_sched.h"
#include "comb/pulse.h"
#include "comb/thread.h"
#include "comb/timer.h"
#include "sched_events.h"

#define THREADS(T) T(slow, 12, 0xC0) T(waiter, 13, 0x40) T(consumer, 14, 0x60)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)

#define SYSTICK_IRQ 3u /* stands in for SysTick: the tick runs in this handler */
#define RAW_IRQ 4u     /* a peripheral interrupt above everything */

static void systick_stand_in(void)
{
    comb_timer_tick();
}

static void setup(uint32_t mask)
{
    comb_host_reset();
    comb_transport_init(mask, 0u);
    comb_timer_reset();
    for (unsigned i = 0; i < COMB_THR_COUNT; i++) {
        comb_thr_table[i].chain.head = NULL;
        comb_host_nvic_set_handler(comb_thr_table[i].irq, comb_thr_handlers[i]);
    }
    comb_threads_init();
    comb_host_nvic_set_handler(SYSTICK_IRQ, systick_stand_in);
    comb_port_irq_set_priority(SYSTICK_IRQ, 0xE0); /* lowest, as usual */
    comb_port_irq_enable(SYSTICK_IRQ);
}

static void tick(void)
{
    comb_host_nvic_raise(SYSTICK_IRQ);
}

/* ---- future ---------------------------------------------------------------- */

struct sum_job {
    comb_future_t fut;
    const uint32_t *data;
    unsigned n, i;
    uint32_t acc;
};

static unsigned sum_steps;

static comb_fib_state_t sum_body(comb_future_t *fut, uint32_t *out)
{
    struct sum_job *j = COMB_FIB_CONTAINER(fut, struct sum_job, fut);
    COMB_FIB_BEGIN(&fut->fib);
    j->acc = 0;
    for (j->i = 0; j->i < j->n; j->i++) {
        sum_steps++;
        j->acc += j->data[j->i];
        comb_thr_wakeup(comb_fib_thread(&fut->fib)); /* continue at the next run */
        COMB_FIB_YIELD(&fut->fib);
    }
    *out = j->acc;
    COMB_FIB_END(&fut->fib);
}

static struct sum_job job;
static uint32_t got[4];
static unsigned got_n, waits;

/* The waiter: takes the value and, the first time, starts the future again. */
static comb_fib_state_t wait_step(comb_fib_t *f)
{
    COMB_FIB_BEGIN(f);
    for (;;) {
        COMB_FIB_WAIT_UNTIL(f, (waits++, comb_future_ready(&job.fut)));
        CHECK(comb_thr_current() == COMB_THR(waiter));
        got[got_n++] = comb_future_value(&job.fut);
        if (got_n == 2)
            break;
        CHECK(comb_future_start(&job.fut, COMB_THR(slow))); /* from inside the wake */
        COMB_FIB_YIELD(f);
    }
    COMB_FIB_END(f);
}

static void test_future(void)
{
    setup(0u);
    static const uint32_t data[5] = {1, 2, 3, 4, 5};
    memset(&job, 0, sizeof job);
    job.data = data;
    job.n = 5;
    got_n = waits = sum_steps = 0;
    comb_future_init(&job.fut, sum_body, COMB_THR(waiter));
    CHECK(!comb_future_ready(&job.fut));
    static comb_fib_t w = COMB_FIB_INIT(wait_step, NULL);
    CHECK(comb_fib_exec(COMB_THR(waiter), &w)); /* not ready: waits */
    CHECK_EQ_U64(waits, 1);
    comb_port_irq_disable(COMB_THR(slow)->irq); /* hold slow off for a moment */
    CHECK(comb_future_start(&job.fut, COMB_THR(slow)));
    CHECK(!comb_future_start(&job.fut, COMB_THR(slow))); /* running */
    CHECK(!comb_future_ready(&job.fut));
    comb_port_irq_enable(COMB_THR(slow)->irq); /* runs to completion, twice */
    /* two complete computations, the second started by the waiter */
    CHECK_EQ_U64(got_n, 2);
    CHECK(got[0] == 15 && got[1] == 15);
    CHECK_EQ_U64(sum_steps, 10);
    CHECK(comb_future_ready(&job.fut) && !comb_fib_linked(&job.fut.fib));
    CHECK(!comb_fib_linked(&w));
    /* the waiter ran only when woken: its first try, then once per completion */
    CHECK_EQ_U64(waits, 3);
    CHECK_EQ_U64(comb_host_nvic_taken(13), 3);
}

/* A start that lands between the completed fiber's unlink and the drop
 * callback that publishes (a higher interrupt at COMB_PP_FIB_UNLINKED) must
 * fail: the future is still running. Otherwise the waiter would be woken,
 * see ready and read the previous run's value while the new run goes on. */
static comb_future_t race;
static uint32_t race_runs, race_seen[4], race_seen_n;
static bool race_arm, race_started_in_gap, race_violation;

static comb_fib_state_t race_body(comb_future_t *fut, uint32_t *out)
{
    (void)fut;
    race_runs++;
    *out = 100u + race_runs;
    return COMB_FIB_COMPLETE;
}

/* In the waiter: every time ready is seen, no run may be going and the value
 * must be the one of the run that completed last. */
static comb_fib_state_t race_watch(comb_fib_t *f)
{
    (void)f;
    if (comb_future_ready(&race)) {
        if (comb_fib_linked(&race.fib) || comb_future_value(&race) != 100u + race_runs)
            race_violation = true;
        uint32_t v;
        if (comb_future_take(&race, &v) && race_seen_n < 4)
            race_seen[race_seen_n++] = v;
    }
    return COMB_FIB_YIELDED;
}

static void race_inject(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where == COMB_PP_FIB_UNLINKED && depth == 0 && race_arm) {
        race_arm = false;
        race_started_in_gap = comb_future_start(&race, COMB_THR(slow));
    }
}

static void test_future_restart_in_unlink_gap(void)
{
    setup(0u);
    race_runs = race_seen_n = 0;
    race_violation = race_started_in_gap = false;
    comb_future_init(&race, race_body, COMB_THR(waiter));
    static comb_fib_t watch;
    comb_fib_init(&watch, race_watch, NULL);
    CHECK(comb_fib_add(COMB_THR(waiter), &watch));
    race_arm = true;
    comb_host_set_preempt_hook(race_inject, NULL);
    CHECK(comb_future_start(&race, COMB_THR(slow))); /* slow runs it at once */
    comb_host_set_preempt_hook(NULL, NULL);
    CHECK(!race_arm);                 /* the hook landed in the gap */
    CHECK(!race_started_in_gap);      /* ... and its start was refused */
    CHECK(!race_violation);
    CHECK_EQ_U64(race_runs, 1);
    CHECK_EQ_U64(race_seen_n, 1);
    CHECK_EQ_U64(race_seen[0], 101);
    CHECK(!comb_future_ready(&race)); /* taken */
    /* published: it may be started again, and runs again */
    CHECK(comb_future_start(&race, COMB_THR(slow)));
    CHECK_EQ_U64(race_runs, 2);
    CHECK(!race_violation);
    CHECK_EQ_U64(race_seen_n, 2);
    CHECK_EQ_U64(race_seen[1], 102);
    /* a start while running fails, changing nothing */
    comb_port_irq_disable(COMB_THR(slow)->irq);
    CHECK(comb_future_start(&race, COMB_THR(slow)));
    CHECK(!comb_future_start(&race, COMB_THR(slow)));
    comb_port_irq_enable(COMB_THR(slow)->irq);
    CHECK_EQ_U64(race_runs, 3);
    CHECK(!race_violation);
}

/* ---- pulse streams ------------------------------------------------------------- */

static comb_pulse_t stream;
static uint32_t taken_total, takes;

static comb_fib_state_t consume(comb_fib_t *f)
{
    static uint32_t n;
    COMB_FIB_BEGIN(f);
    for (;;) {
        COMB_FIB_AWAIT_PULSE(f, &stream, n);
        taken_total += n;
        takes++;
    }
    COMB_FIB_END(f);
}

static void raw_sender(void)
{
    comb_pulse_send(&stream, 1);
}

static void test_pulse_saturation(void)
{
    setup(0u);
    comb_pulse_init(&stream, 5, NULL);
    comb_pulse_send(&stream, 3);
    CHECK_EQ_U64(comb_pulse_take(&stream), 3);
    CHECK_EQ_U64(comb_pulse_take(&stream), 0);
    comb_pulse_send(&stream, 4);
    comb_pulse_send(&stream, 3); /* 7 > 5 */
    CHECK_EQ_U64(comb_pulse_lost(&stream), 2);
    comb_pulse_send(&stream, 0xFFFFFFFFu); /* no overflow of the count */
    CHECK_EQ_U64(comb_pulse_take(&stream), 5);
    CHECK_EQ_U64(comb_pulse_lost(&stream), 2 + 0xFFFFFFFFu);
    comb_pulse_init(&stream, 0, NULL); /* limit 0 means 1 */
    comb_pulse_send(&stream, 2);
    CHECK_EQ_U64(comb_pulse_take(&stream), 1);
}

static void test_pulse_to_fiber(void)
{
    setup(0u);
    comb_pulse_init(&stream, 8, COMB_THR(consumer));
    taken_total = takes = 0;
    static comb_fib_t c;
    comb_fib_init(&c, consume, NULL);
    CHECK(comb_fib_exec(COMB_THR(consumer), &c));
    comb_host_nvic_set_handler(RAW_IRQ, raw_sender);
    comb_port_irq_set_priority(RAW_IRQ, 0x10);
    comb_port_irq_enable(RAW_IRQ);
    for (unsigned i = 0; i < 5; i++)
        comb_host_nvic_raise(RAW_IRQ); /* each wakes the consumer, which takes 1 */
    CHECK_EQ_U64(taken_total, 5);
    CHECK_EQ_U64(takes, 5);
    /* while the consumer cannot run, pulses pile up and saturate */
    comb_port_irq_disable(COMB_THR(consumer)->irq);
    for (unsigned i = 0; i < 20; i++)
        comb_pulse_send(&stream, 1);
    CHECK_EQ_U64(taken_total, 5);
    CHECK_EQ_U64(comb_pulse_lost(&stream), 12);
    CHECK(comb_host_nvic_pending(COMB_THR(consumer)->irq));
    comb_port_irq_enable(COMB_THR(consumer)->irq);
    CHECK_EQ_U64(taken_total, 13); /* one run takes the saturated 8 */
    CHECK_EQ_U64(takes, 6);
}

/* A sender lands at every preemption point of sends and takes: nothing is
 * created or lost besides what the limit drops. */
static unsigned p_hits, p_target, p_sent;

static void pulse_inject(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if ((where != COMB_PP_PULSE_SEND && where != COMB_PP_PULSE_TAKE) || depth != 0)
        return;
    if (p_hits++ == p_target) {
        comb_pulse_send(&stream, 2);
        p_sent += 2;
    }
}

static void test_pulse_every_point(void)
{
    unsigned k;
    for (k = 0; k < 100; k++) {
        setup(0u);
        comb_pulse_init(&stream, 6, NULL);
        p_hits = 0;
        p_target = k;
        p_sent = 0;
        uint32_t taken = 0;
        comb_host_set_preempt_hook(pulse_inject, NULL);
        for (unsigned i = 0; i < 4; i++) {
            comb_pulse_send(&stream, 1);
            p_sent++;
            if (i & 1)
                taken += comb_pulse_take(&stream);
        }
        comb_host_set_preempt_hook(NULL, NULL);
        taken += comb_pulse_take(&stream);
        CHECK_EQ_U64(taken + comb_pulse_lost(&stream), p_sent);
        if (p_sent == 4)
            break; /* k past the last point */
    }
    CHECK(k >= 6);
}

/* ---- timers ------------------------------------------------------------------ */

static comb_timer_t t1, t2, t3;

static void test_timer_one_shot_and_periodic(void)
{
    setup(0u);
    comb_timer_t z = COMB_TIMER_INIT;
    t1 = t2 = t3 = z;
    uint32_t t0 = comb_timer_now();
    CHECK(comb_timer_start(&t1, 3, 0, COMB_THR(consumer)));  /* ticks 3 */
    CHECK(comb_timer_start(&t2, 2, 3, COMB_THR(waiter)));    /* ticks 2, 5, 8, ... */
    CHECK(comb_timer_start(&t3, 0, 0, NULL));                /* delay 0 = 1 */
    CHECK(!comb_timer_start(&t1, 1, 0, NULL));               /* running */
    unsigned fired1[12] = {0}, fired2[12] = {0}, fired3[12] = {0};
    for (unsigned i = 1; i <= 10; i++) {
        tick();
        CHECK_EQ_U64(comb_timer_now() - t0, i);
        fired1[i] = comb_timer_take(&t1);
        fired2[i] = comb_timer_take(&t2);
        fired3[i] = comb_timer_take(&t3);
    }
    for (unsigned i = 1; i <= 10; i++) {
        CHECK_EQ_U64(fired1[i], i == 3);
        CHECK_EQ_U64(fired2[i], i == 2 || i == 5 || i == 8);
        CHECK_EQ_U64(fired3[i], i == 1);
    }
    CHECK(!comb_timer_running(&t1) && !comb_timer_running(&t3) && comb_timer_running(&t2));
    CHECK_EQ_U64(comb_host_nvic_taken(14), 1); /* consumer woken once */
    CHECK_EQ_U64(comb_host_nvic_taken(13), 3); /* waiter three times */
    /* expiries accumulate until taken */
    for (unsigned i = 0; i < 7; i++)
        tick(); /* 11, 14, 17 */
    CHECK_EQ_U64(comb_timer_take(&t2), 3);
    /* cancel: released by the next tick, no expiry after */
    comb_timer_cancel(&t2);
    CHECK(comb_timer_running(&t2));
    CHECK(!comb_timer_start(&t2, 1, 0, NULL));
    tick(); /* 18 */
    CHECK(!comb_timer_running(&t2));
    for (unsigned i = 0; i < 6; i++)
        tick();
    CHECK_EQ_U64(comb_timer_take(&t2), 0);
    /* restart after release: a new one-shot */
    CHECK(comb_timer_start(&t2, 2, 0, NULL));
    tick();
    CHECK_EQ_U64(comb_timer_take(&t2), 0);
    tick();
    CHECK_EQ_U64(comb_timer_take(&t2), 1);
    CHECK(!comb_timer_running(&t2));
}

/* A fiber of the woken thread restarts its one-shot timer at once (the
 * thread is above the tick's priority, so it runs inside the tick). */
static uint32_t restart_at[8];
static unsigned restarts;

static comb_fib_state_t restarter(comb_fib_t *f)
{
    if (comb_timer_take(&t1) != 0) {
        restart_at[restarts++] = comb_timer_now();
        CHECK(comb_timer_start(&t1, 4, 0, comb_fib_thread(f)));
    }
    return restarts < 5 ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static void test_timer_restart_from_woken_thread(void)
{
    setup(0u);
    comb_timer_t z = COMB_TIMER_INIT;
    t1 = z;
    restarts = 0;
    static comb_fib_t r;
    comb_fib_init(&r, restarter, NULL);
    CHECK(comb_fib_add(COMB_THR(waiter), &r));
    uint32_t t0 = comb_timer_now();
    CHECK(comb_timer_start(&t1, 4, 0, COMB_THR(waiter)));
    for (unsigned i = 0; i < 22; i++)
        tick();
    CHECK_EQ_U64(restarts, 5);
    for (unsigned i = 0; i < restarts; i++)
        CHECK_EQ_U64(restart_at[i] - t0, 4 * (i + 1));
    CHECK(!comb_fib_linked(&r));
}

/* A start that lands between the tick's decision to expire a timer and the
 * posting of that expiry (a higher interrupt restarting it) must not inherit
 * the old expiry: the new start counts from its own delay. */
static bool restart_in_hook;

static void restart_inject(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where == COMB_PP_TIMER_FIRE && depth == 0 && restart_in_hook) {
        restart_in_hook = false;
        CHECK(comb_timer_start(&t1, 3, 0, NULL)); /* released already: allowed */
    }
}

static void test_timer_restart_races_expiry(void)
{
    setup(0u);
    comb_timer_t z = COMB_TIMER_INIT;
    t1 = z;
    CHECK(comb_timer_start(&t1, 2, 0, COMB_THR(consumer)));
    restart_in_hook = true;
    comb_host_set_preempt_hook(restart_inject, NULL);
    tick();
    tick(); /* expires; the hook restarts it before the expiry is posted */
    comb_host_set_preempt_hook(NULL, NULL);
    CHECK(!restart_in_hook);
    CHECK_EQ_U64(comb_timer_take(&t1), 0);              /* the old expiry was dropped */
    CHECK_EQ_U64(comb_host_nvic_taken(COMB_THR(consumer)->irq), 0); /* and woke nobody */
    tick();
    tick();
    CHECK_EQ_U64(comb_timer_take(&t1), 0);
    tick(); /* third tick after the restart */
    CHECK_EQ_U64(comb_timer_take(&t1), 1);
}

/* COMB_FIB_SLEEP in a protothread fiber; timer wakeups come from 0xFF (the
 * tick's handler is not a thread). */
struct sleeper {
    comb_fib_t fib;
    comb_timer_t t;
    unsigned i;
    uint32_t woke[4];
};

static comb_fib_state_t sleeper_step(comb_fib_t *f)
{
    struct sleeper *s = COMB_FIB_CONTAINER(f, struct sleeper, fib);
    COMB_FIB_BEGIN(f);
    for (s->i = 0; s->i < 3; s->i++) {
        COMB_FIB_SLEEP(f, &s->t, 5);
        s->woke[s->i] = comb_timer_now();
    }
    COMB_FIB_END(f);
}

static void test_sleep(void)
{
    setup(1u << COMB_PORT_SCHED);
    static struct sleeper s;
    memset(&s, 0, sizeof s);
    comb_fib_init(&s.fib, sleeper_step, NULL);
    uint32_t t0 = comb_timer_now();
    CHECK(comb_fib_exec(COMB_THR(slow), &s.fib));
    for (unsigned i = 0; i < 20; i++)
        tick();
    CHECK(s.woke[0] - t0 == 5 && s.woke[1] - t0 == 10 && s.woke[2] - t0 == 15);
    CHECK(!comb_fib_linked(&s.fib) && !comb_timer_running(&s.t));
    static struct sched_event ev[256];
    unsigned n = sched_events(ev, 256);
    /* wakeups: root -> slow once (exec), then one per expiry from 0xFF */
    CHECK_EQ_U64(sched_count(ev, n, COMB_EVT_THREAD_WAKEUP, COMB_THREAD_NONE << 8 | 0), 4);
    CHECK_EQ_U64(sched_count(ev, n, COMB_EVT_THREAD_ENTER, 0), 4);
    CHECK_EQ_U64(sched_count(ev, n, COMB_EVT_FIBER_RESUMED, 0), 4);
    CHECK_EQ_U64(sched_count(ev, n, COMB_EVT_FIBER_YIELDED, 0), 3);
    CHECK_EQ_U64(sched_count(ev, n, COMB_EVT_FIBER_COMPLETED, 0), 1);
    /* ticks without an expiry emit nothing */
    CHECK_EQ_U64(n, 1 + 4 * 5);
}

/* COMB_FIB_SLEEP on a timer that is still in the tick's list must not hang:
 * (a) cancelled just before (a timeout that was not needed), (b) still
 * running from a start for nobody. The sleep waits for the tick that
 * releases the timer (it wakes the fiber), then sleeps its ticks. */
struct timeout_user {
    comb_fib_t fib;
    comb_timer_t t;
    uint32_t slept_from, woke;
    bool cancel_first;
};

static comb_fib_state_t timeout_user_step(comb_fib_t *f)
{
    struct timeout_user *u = COMB_FIB_CONTAINER(f, struct timeout_user, fib);
    COMB_FIB_BEGIN(f);
    if (u->cancel_first) {
        CHECK(comb_timer_start(&u->t, 50, 0, comb_fib_thread(f))); /* a timeout ... */
        comb_timer_cancel(&u->t);                                 /* ... not needed after all */
    }
    u->slept_from = comb_timer_now();
    COMB_FIB_SLEEP(f, &u->t, 3);
    u->woke = comb_timer_now();
    COMB_FIB_END(f);
}

static void sleep_on_listed_timer(bool cancel_first)
{
    setup(0u);
    static struct timeout_user u;
    memset(&u, 0, sizeof u);
    u.cancel_first = cancel_first;
    comb_fib_init(&u.fib, timeout_user_step, NULL);
    if (!cancel_first)
        CHECK(comb_timer_start(&u.t, 40, 40, NULL)); /* periodic, woke nobody */
    CHECK(comb_fib_exec(COMB_THR(slow), &u.fib));
    CHECK(comb_fib_linked(&u.fib) && comb_timer_running(&u.t)); /* waits for the release */
    for (unsigned i = 0; i < 10 && comb_fib_linked(&u.fib); i++)
        tick();
    CHECK(!comb_fib_linked(&u.fib));
    /* one tick to release the timer, then the 3 ticks of the sleep */
    CHECK_EQ_U64(u.woke - u.slept_from, 1 + 3);
    CHECK(!comb_timer_running(&u.t));
}

static void test_sleep_on_listed_timer(void)
{
    sleep_on_listed_timer(true);
    sleep_on_listed_timer(false);
}

/* The sleep starts while the tick is expiring that one-shot (at
 * COMB_PP_TIMER_FIRE, between its release and the post of the expiry): the
 * sleep gets the timer at once, the stale expiry is not counted for it, and
 * it sleeps its full 3 ticks. */
static struct timeout_user race_user;
static bool sleep_in_hook;

static void sleep_inject(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where == COMB_PP_TIMER_FIRE && depth == 0 && sleep_in_hook) {
        sleep_in_hook = false;
        CHECK(comb_fib_exec(COMB_THR(slow), &race_user.fib));
    }
}

static void test_sleep_races_expiry(void)
{
    setup(0u);
    memset(&race_user, 0, sizeof race_user);
    comb_fib_init(&race_user.fib, timeout_user_step, NULL);
    CHECK(comb_timer_start(&race_user.t, 1, 0, NULL)); /* one-shot for nobody, expires at the next tick */
    sleep_in_hook = true;
    comb_host_set_preempt_hook(sleep_inject, NULL);
    tick();
    comb_host_set_preempt_hook(NULL, NULL);
    CHECK(!sleep_in_hook);
    for (unsigned i = 0; i < 10 && comb_fib_linked(&race_user.fib); i++)
        tick();
    CHECK(!comb_fib_linked(&race_user.fib));
    CHECK_EQ_U64(race_user.woke - race_user.slept_from, 3);
}

static void test_systick_port(void)
{
    setup(0u);
    comb_timer_systick_start(25000u, 0xE0);
    CHECK_EQ_U64(comb_host_systick_reload(), 24999u);
    CHECK_EQ_U64(comb_host_systick_priority(), 0xE0);
    comb_timer_systick_stop();
    CHECK_EQ_U64(comb_host_systick_reload(), 0);
}

int main(void)
{
    test_future();
    test_future_restart_in_unlink_gap();
    test_pulse_saturation();
    test_pulse_to_fiber();
    test_pulse_every_point();
    test_timer_one_shot_and_periodic();
    test_timer_restart_from_woken_thread();
    test_timer_restart_races_expiry();
    test_sleep();
    test_sleep_on_listed_timer();
    test_sleep_races_expiry();
    test_systick_port();
    return check_finish("test_fiber_sync");
}
