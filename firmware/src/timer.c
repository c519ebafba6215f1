/*
 * SysTick timers (comb/timer.h). Running timers are on one list
 * (comb/mpsc_list.h) owned by comb_timer_tick: starts push, only the tick
 * unlinks. The expiry count shares a word with a generation number that every
 * start advances, so an expiry decided for an earlier start can be told apart
 * and dropped.
 */
#include "comb/timer.h"

#include <stdatomic.h>
#include <stddef.h>

#include "comb/port.h"
#include "comb/port_sched.h"

#define COUNT_MASK 0xFFFFu
#define GEN_SHIFT  16u

/* comb_timer_t.cancelled */
#define CANCELLED      1u /* release at the next tick */
#define CANCELLED_WAKE 2u /* ... and wake `thr` then: a sleep waits for the timer */

static comb_mpsc_list_t timers;
static volatile uint32_t ticks;

static comb_timer_t *timer_of(comb_mpsc_node_t *n)
{
    return (comb_timer_t *)(void *)n; /* the node is the first member */
}

void comb_timer_systick_start(uint32_t cycles, uint8_t prio)
{
    comb_port_systick_start(cycles - 1u, prio);
}

void comb_timer_systick_stop(void)
{
    comb_port_systick_stop();
}

void comb_timer_reset(void)
{
    timers.head = NULL;
    ticks = 0u;
}

uint32_t comb_timer_now(void)
{
    return ticks;
}

bool comb_timer_start(comb_timer_t *t, uint32_t delay, uint32_t period, comb_thr_t *thr)
{
    if (!comb_port_cas32(&t->linked, 0u, 1u))
        return false;
    t->cancelled = 0u;
    t->thr = thr;
    t->period = period;
    uint32_t s;
    /* A tick still posting an expiry of the previous start may change the
     * count meanwhile: repeats only then. */
    do {
        s = t->state;
    } while (!comb_port_cas32(&t->state, s, ((s >> GEN_SHIFT) + 1u) << GEN_SHIFT));
    t->deadline = ticks + (delay ? delay : 1u);
    comb_mpsc_push(&timers, &t->node);
    return true;
}

void comb_timer_cancel(comb_timer_t *t)
{
    /* never turns CANCELLED_WAKE back into a plain cancel: the sleeper would
     * not be woken */
    (void)comb_port_cas32(&t->cancelled, 0u, CANCELLED);
}

bool comb_timer_sleep_start(comb_timer_t *t, uint32_t delay, comb_thr_t *thr)
{
    if (comb_timer_start(t, delay, 0u, thr))
        return true;
    /* Still in the tick's list: have the next tick release it and wake us.
     * `thr` first: a tick that sees CANCELLED_WAKE reads it after the
     * release, and by then it is ours. */
    t->thr = thr;
    atomic_signal_fence(memory_order_seq_cst);
    t->cancelled = CANCELLED_WAKE;
    return false;
}

uint32_t comb_timer_take(comb_timer_t *t)
{
    uint32_t s;
    /* Repeats only when an expiry was posted in between. */
    do {
        s = t->state;
        if ((s & COUNT_MASK) == 0u)
            return 0u;
    } while (!comb_port_cas32(&t->state, s, s & ~COUNT_MASK));
    return s & COUNT_MASK;
}

/* One more expiry for generation `gen`; false when a new start replaced it. */
static bool post(comb_timer_t *t, uint32_t gen)
{
    uint32_t s;
    /* Repeats only when a take or a start preempted us. */
    do {
        s = t->state;
        if (s >> GEN_SHIFT != gen)
            return false;
        if ((s & COUNT_MASK) == COUNT_MASK)
            return true; /* saturated */
    } while (!comb_port_cas32(&t->state, s, s + 1u));
    return true;
}

void comb_timer_tick(void)
{
    uint32_t now = ticks + 1u;
    ticks = now;
    comb_mpsc_node_t *prev = NULL;
    /* Bound: the timers running when the tick starts (timers started
     * meanwhile are pushed in front and seen by the next tick). */
    for (comb_mpsc_node_t *n = timers.head; n != NULL;) {
        comb_timer_t *t = timer_of(n);
        comb_mpsc_node_t *next = n->next;
        if (t->cancelled) {
            prev = comb_mpsc_unlink(&timers, prev, n);
            t->linked = 0u;
            /* Read after the release: a sleep that asked for the wake just
             * before it is seen; a start after it clears the request (the
             * starter needs no wake). */
            if (t->cancelled == CANCELLED_WAKE) {
                comb_thr_t *sleeper = t->thr;
                if (sleeper != NULL)
                    comb_thr_wakeup(sleeper);
            }
        } else if ((int32_t)(now - t->deadline) < 0) {
            prev = n;
        } else {
            /* Read while the timer is ours: nobody can start it before it
             * is released below. */
            uint32_t gen = t->state >> GEN_SHIFT;
            if (t->period != 0u) {
                t->deadline += t->period;
                prev = n;
            } else {
                prev = comb_mpsc_unlink(&timers, prev, n);
                t->linked = 0u; /* released: from here on it may be started again */
            }
            /* After the release: a sleep that found the timer still listed
             * just before it has put its own thread here. A start after the
             * release changes `thr` too, but also the generation, and then
             * nothing is posted or woken. */
            comb_thr_t *thr = t->thr;
            COMB_PREEMPT_POINT(COMB_PP_TIMER_FIRE);
            if (post(t, gen) && thr != NULL)
                comb_thr_wakeup(thr);
        }
        n = next;
    }
}
