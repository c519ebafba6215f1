/*
 * SysTick-based timers: one-shot (sleep for N ticks) and periodic, each
 * expiry counted in the timer and waking a thread, whose fibers take the
 * count (docs/scheduler.md).
 *
 *   void SysTick_Handler(void) { comb_timer_tick(); }     // or COMB_TIMER_SYSTICK_HANDLER()
 *   comb_timer_systick_start(25000u, 0xE0);               // 1 ms at 25 MHz, lowest priority
 *
 *   static comb_timer_t every_5ms = COMB_TIMER_INIT;
 *   comb_timer_start(&every_5ms, 5, 5, COMB_THR(control)); // periodic, wakes `control`
 *   ... fiber of control:  COMB_FIB_AWAIT_TIMER(f, &every_5ms, c->n);
 *   ... any fiber:         COMB_FIB_SLEEP(f, &c->sleep, 20);   // 20 ticks
 *
 * UNITS: ticks of comb_timer_tick() calls (SysTick periods). A timer started
 * with delay d first expires at the d-th tick from now, that is after d - 1
 * to d tick periods (the current period is partly gone); a periodic one then
 * every `period` ticks exactly.
 *
 * OWNERSHIP: timers are the caller's storage (static or embedded). From
 * comb_timer_start until the tick releases it (a one-shot's expiry, or the
 * tick after comb_timer_cancel) the timer is in the tick's list and must not
 * be modified or reused (other than by cancel and comb_timer_sleep_start);
 * comb_timer_start returns false meanwhile.
 *
 * IRQ SAFETY: start, cancel, take and now from any context, nested (the list
 * of comb/mpsc_list.h, CAS on the expiry count). comb_timer_tick from one
 * handler only (SysTick). A one-shot timer is released before its expiry is
 * posted, so the woken fiber can start it again at once; an expiry of a
 * previous start that races with a new start is discarded (each start opens a
 * new generation), never counted for the new one.
 *
 * COST per tick: one pass over the running timers (bound: the timers running
 * when the tick starts), nothing traced unless a timer expires (its wakeup).
 */
#ifndef COMB_TIMER_H
#define COMB_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/fiber.h"
#include "comb/mpsc_list.h"
#include "comb/thread.h"

typedef struct comb_timer {
    comb_mpsc_node_t node;       /* the tick's list; first member */
    volatile uint32_t linked;    /* 1 from start until the tick released it */
    volatile uint32_t cancelled; /* 0, 1 cancelled, 2 cancelled + wake thr at release */
    volatile uint32_t state;     /* generation << 16 | expiries not taken (saturates at 0xFFFF) */
    uint32_t deadline;           /* tick count of the next expiry */
    uint32_t period;             /* 0: one-shot */
    comb_thr_t *thr;             /* woken at each expiry; NULL: nobody */
} comb_timer_t;

#define COMB_TIMER_INIT {{NULL}, 0u, 0u, 0u, 0u, 0u, NULL}

/* SysTick on the processor clock every `cycles` cycles (1 - 2^24) at
 * priority `prio`. Thread mode, at start-up. */
void comb_timer_systick_start(uint32_t cycles, uint8_t prio);
void comb_timer_systick_stop(void);

/* One tick: from the SysTick handler (only there). */
void comb_timer_tick(void);

/* Defines SysTick_Handler as comb_timer_tick(). */
#define COMB_TIMER_SYSTICK_HANDLER()       \
    void SysTick_Handler(void);            \
    void SysTick_Handler(void)             \
    {                                      \
        comb_timer_tick();                 \
    }

/* Forget every running timer and restart the tick count at 0: for unit tests
 * and re-initialisation, never while a timer function may run. */
void comb_timer_reset(void);

/* Ticks since start-up (wraps at 2^32). */
uint32_t comb_timer_now(void);

/* Start: first expiry at the `delay`-th tick from now (0 counts as 1), then
 * every `period` ticks (0: one-shot). Each expiry adds 1 to the timer's count
 * and wakes `thr`. Discards expiries not taken yet. False (nothing changed)
 * while the timer is still in the tick's list. */
bool comb_timer_start(comb_timer_t *t, uint32_t delay, uint32_t period, comb_thr_t *thr);

/* Stop a running timer: no expiry after the next tick, which releases it.
 * An expiry already being posted may still arrive. */
void comb_timer_cancel(comb_timer_t *t);

/* COMB_FIB_SLEEP's start: comb_timer_start(t, ticks, 0, thr), true when it
 * started. When the timer is still in the tick's list (cancelled and not yet
 * released, or running from an earlier start) it is cancelled instead, and
 * the tick that releases it (the next one) wakes `thr`, which then calls this
 * again and starts it; false meanwhile. Any context; the waking tick's
 * thread_wakeup comes from 0xFF as for an expiry. */
bool comb_timer_sleep_start(comb_timer_t *t, uint32_t ticks, comb_thr_t *thr);

/* Expiries since the last take (0: none), and reset to 0. */
uint32_t comb_timer_take(comb_timer_t *t);

/* True while the timer is in the tick's list. */
static inline bool comb_timer_running(const comb_timer_t *t)
{
    return t->linked != 0u;
}

/* In a fiber: yield until the timer expired, storing the expiries in `out`. */
#define COMB_FIB_AWAIT_TIMER(f, timer, out) COMB_FIB_WAIT_UNTIL(f, ((out) = comb_timer_take(timer)) != 0u)

/* In a fiber: sleep `ticks` ticks on the one-shot `timer`, waking the
 * fiber's own thread. A timer still in the tick's list (cancelled, or
 * started elsewhere and running) never makes the sleep hang: it is cancelled,
 * the fiber waits for the tick that releases it (that tick wakes it), then
 * sleeps its `ticks` from there (comb_timer_sleep_start). Two resume points
 * on one line: the second is marked with COMB_FIB_PT_SECOND. */
#define COMB_FIB_SLEEP(f, timer, ticks)                                        \
    do {                                                                       \
        (f)->pt = __LINE__;                                                    \
        __attribute__((fallthrough));                                          \
    case __LINE__:                                                             \
        if (!comb_timer_sleep_start((timer), (ticks), comb_fib_thread(f)))     \
            return COMB_FIB_YIELDED;                                           \
        (f)->pt = COMB_FIB_PT_SECOND | __LINE__;                               \
        __attribute__((fallthrough));                                          \
    case COMB_FIB_PT_SECOND | __LINE__:                                        \
        if (comb_timer_take(timer) == 0u)                                      \
            return COMB_FIB_YIELDED;                                           \
    } while (0)

#endif /* COMB_TIMER_H */
