/*
 * Threads (comb/thread.h): wakeup, priorities, the current thread, and the
 * handler body that runs a thread's fiber chain (in one function: it is the
 * dispatch path, bench/sched_bench.py counts its instructions).
 *
 * The current thread is one pointer. Each handler saves it, sets its own and
 * restores the saved value before returning (Drone OS's scheme). Handlers nest
 * strictly, so an interrupt landing anywhere in that sequence, even between
 * the load of the old value and the store of the new one, restores what it
 * found before we resume: the pointer is always the innermost running thread
 * as of its last thread handler. An interrupt that is not a thread does not
 * touch it, so comb_thr_current() also checks that the running exception is
 * that thread's interrupt.
 */
#include "comb/thread.h"

#include <stddef.h>

#include "comb/mpsc_list.h"
#include "comb/port.h"
#include "comb/port_sched.h"
#include "comb/sched_trace.h"

static comb_thr_t *volatile current;

void comb_thr_init(comb_thr_t *table, unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        comb_port_irq_set_priority(table[i].irq, table[i].prio);
        comb_port_irq_clear_pending(table[i].irq);
        comb_port_irq_enable(table[i].irq);
    }
}

comb_thr_t *comb_thr_current(void)
{
    comb_thr_t *t = current;
    /* An interrupt between the two reads returns before we go on and leaves
     * both as they were. */
    if (t == NULL || comb_port_active_irq() != (int)t->irq)
        return NULL;
    return t;
}

unsigned comb_thr_current_index(void)
{
    comb_thr_t *t = comb_thr_current();
    return t ? t->index : COMB_THREAD_NONE;
}

void comb_thr_wakeup(comb_thr_t *thr)
{
    /* Traced before the pend: a higher-priority thread runs inside the pend,
     * and its thread_enter must come after the wakeup in time. */
    comb_trace_thread_wakeup(comb_thr_current_index, thr->index);
    comb_port_irq_pend(thr->irq);
}

void comb_thr_set_priority(comb_thr_t *thr, uint8_t prio)
{
    comb_port_irq_set_priority(thr->irq, prio);
}

uint8_t comb_thr_priority(const comb_thr_t *thr)
{
    return comb_port_irq_priority(thr->irq);
}

void comb_thr_idle(void)
{
    comb_port_wait_for_interrupt();
}

void comb_thr_run(comb_thr_t *thr)
{
    comb_thr_t *saved = current;
    current = thr;
    unsigned index = thr->index;
    comb_trace_thread_enter(index);
    comb_mpsc_node_t *prev = NULL;
    /* Resume each fiber once, newest first. Bound: the fibers in the chain
     * when the walk starts; fibers added meanwhile are pushed in front of
     * them and wait for the next run. */
    for (comb_mpsc_node_t *n = thr->chain.head; n != NULL;) {
        comb_fib_t *fib = (comb_fib_t *)(void *)n; /* the node is its first member */
        COMB_PREEMPT_POINT(COMB_PP_FIB_RESUMED);
        comb_trace_fiber(COMB_EVT_FIBER_RESUMED, index, fib);
        comb_fib_state_t st = fib->fn(fib);
        COMB_PREEMPT_POINT(COMB_PP_FIB_RETURNED);
        comb_mpsc_node_t *next = n->next;
        if (st == COMB_FIB_YIELDED) {
            comb_trace_fiber(COMB_EVT_FIBER_YIELDED, index, fib);
            prev = n;
        } else {
            comb_trace_fiber(COMB_EVT_FIBER_COMPLETED, index, fib);
            prev = comb_mpsc_unlink(&thr->chain, prev, n);
            comb_fib_finish(fib); /* preemption point COMB_PP_FIB_UNLINKED inside */
        }
        n = next;
    }
    comb_trace_thread_exit(index);
    current = saved;
}
