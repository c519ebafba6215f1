/*
 * Futures: a fiber that completes with a 32-bit value and then wakes the
 * thread waiting for it (Drone OS's add_future, without the heap).
 *
 *   static comb_fib_state_t sum(comb_future_t *fut, uint32_t *out)
 *   {
 *       struct job *j = COMB_FIB_CONTAINER(fut, struct job, fut);
 *       COMB_FIB_BEGIN(&fut->fib);
 *       while (j->i < j->n) { j->acc += j->data[j->i++]; COMB_FIB_YIELD(&fut->fib); }
 *       *out = j->acc;
 *       COMB_FIB_END(&fut->fib);
 *   }
 *   comb_future_init(&job.fut, sum, COMB_THR(ui));   // ui is woken when done
 *   comb_future_start(&job.fut, COMB_THR(slow));      // computed by slow's chain
 *   ... in a fiber of ui: COMB_FIB_WAIT_UNTIL(f, comb_future_ready(&job.fut));
 *
 * The body returns COMB_FIB_YIELDED to continue later and COMB_FIB_COMPLETE
 * after storing the result in *out. Completion publishes the value, marks the
 * future ready and wakes `waiter` (if not NULL); the waiter's thread then
 * sees comb_future_ready() true, with the value (or consumes it with
 * comb_future_take). The future may be started again once ready, also by the
 * waiter while it is being woken.
 *
 * One state word (idle, running, ready) carries both "started" and "ready":
 * completion turns running into ready with one store, after the value and
 * after the fiber left its chain, so a start can never slip in between the
 * fiber's unlink and the publication (it sees running and fails) and a
 * waiter never sees ready while a second run is going.
 *
 * OWNERSHIP: the caller's storage (static or embedded), untouched by the
 * runtime while not started. IRQ SAFETY: start from any context;
 * ready/value from any context.
 */
#ifndef COMB_FUTURE_H
#define COMB_FUTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/fiber.h"
#include "comb/thread.h"

typedef struct comb_future comb_future_t;
typedef comb_fib_state_t (*comb_future_fn)(comb_future_t *fut, uint32_t *out);

struct comb_future {
    comb_fib_t fib;          /* the fiber running `fn` (protothread state in fib.pt) */
    comb_future_fn fn;
    comb_thr_t *waiter;      /* woken on completion; NULL: nobody */
    volatile uint32_t state; /* COMB_FUTURE_IDLE, _RUNNING or _READY */
    uint32_t value;
};

/* comb_future_t.state: never started or taken (IDLE), started and not yet
 * published (RUNNING), value published (READY). */
enum { COMB_FUTURE_IDLE = 0u, COMB_FUTURE_RUNNING = 1u, COMB_FUTURE_READY = 2u };

/* Set up a future that is not running. */
void comb_future_init(comb_future_t *fut, comb_future_fn fn, comb_thr_t *waiter);

/* Not ready any more; add its fiber to `thr` and wake `thr`. False, changing
 * nothing, when it is still running: from a successful start until the
 * completion published the value (also while the completed fiber is being
 * unlinked, before its drop callback published). Lock-free: one CAS, retried
 * only when an interrupt changed the state between its read and the CAS. */
bool comb_future_start(comb_future_t *fut, comb_thr_t *thr);

static inline bool comb_future_ready(const comb_future_t *fut)
{
    return fut->state == COMB_FUTURE_READY;
}

/* Consume a completion: when ready, make it idle, store the value in *out
 * and return true (exactly one of several racing takers gets it); false when
 * not ready. For a waiter that sees each result once. */
bool comb_future_take(comb_future_t *fut, uint32_t *out);

/* The value (meaningful once ready). */
static inline uint32_t comb_future_value(const comb_future_t *fut)
{
    return fut->value;
}

#endif /* COMB_FUTURE_H */
