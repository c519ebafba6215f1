/*
 * SysTick timers (comb/timer.h). Running timers are on one list
 * (comb/mpsc_list.h) owned by comb_timer_tick: starts push, only the tick
 * unlinks. The expiry count shares a word with a generation number that every
 * start advances, so an expiry decided for an earlier start can be told apart
 * and dropped.
 */
#include "comb/timer.h"

#include <stddef.h>

#include "comb/port.h"
#include "comb/port_sched.h"

#define COUNT_MASK 0xFFFFu
#define GEN_SHIFT  16u

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
    t->cancelled = 1u;
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
        } else if ((int32_t)(now - t->deadline) < 0) {
            prev = n;
        } else {
            /* Read while the timer is ours: nobody can start it before it
             * is released below. */
            uint32_t gen = t->state >> GEN_SHIFT;
            comb_thr_t *thr = t->thr;
            if (t->period != 0u) {
                t->deadline += t->period;
                prev = n;
            } else {
                prev = comb_mpsc_unlink(&timers, prev, n);
                t->linked = 0u; /* released: from here on it may be started again */
            }
            COMB_PREEMPT_POINT(COMB_PP_TIMER_FIRE);
            if (post(t, gen) && thr != NULL)
                comb_thr_wakeup(thr);
        }
        n = next;
    }
}
