/* Futures (comb/future.h): a fiber whose completion publishes a value and
 * wakes a waiter. */
#include "comb/future.h"

#include <stdatomic.h>
#include <stddef.h>

#include "comb/port.h"

static comb_future_t *future_of(comb_fib_t *fib)
{
    return COMB_FIB_CONTAINER(fib, comb_future_t, fib);
}

static comb_fib_state_t step(comb_fib_t *fib)
{
    comb_future_t *fut = future_of(fib);
    uint32_t value = 0u;
    if (fut->fn(fut, &value) == COMB_FIB_YIELDED)
        return COMB_FIB_YIELDED;
    fut->value = value;
    return COMB_FIB_COMPLETE;
}

/* Drop callback: the fiber is unlinked and free to be started again, so the
 * waiter may restart it as soon as it sees `ready`. */
static void publish(comb_fib_t *fib)
{
    comb_future_t *fut = future_of(fib);
    /* value before ready: a reader that preempts between sees not-ready */
    atomic_signal_fence(memory_order_seq_cst);
    fut->ready = 1u;
    if (fut->waiter != NULL)
        comb_thr_wakeup(fut->waiter);
}

void comb_future_init(comb_future_t *fut, comb_future_fn fn, comb_thr_t *waiter)
{
    comb_fib_init(&fut->fib, step, publish);
    fut->fn = fn;
    fut->waiter = waiter;
    fut->ready = 0u;
    fut->value = 0u;
}

bool comb_future_start(comb_future_t *fut, comb_thr_t *thr)
{
    if (comb_fib_linked(&fut->fib))
        return false;
    fut->ready = 0u;
    return comb_fib_exec(thr, &fut->fib);
}

bool comb_future_take(comb_future_t *fut, uint32_t *out)
{
    if (!comb_port_cas32(&fut->ready, 1u, 0u))
        return false;
    *out = fut->value;
    return true;
}
