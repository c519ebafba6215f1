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

/* Drop callback: the fiber is unlinked and free to be added again, but the
 * state still says running, so a start that preempted the walk between the
 * unlink and here failed. One store publishes and frees the future at once:
 * the waiter may restart it as soon as it sees ready. */
static void publish(comb_fib_t *fib)
{
    comb_future_t *fut = future_of(fib);
    /* value before ready: a reader that preempts between sees running */
    atomic_signal_fence(memory_order_seq_cst);
    fut->state = COMB_FUTURE_READY;
    atomic_signal_fence(memory_order_seq_cst);
    if (fut->waiter != NULL)
        comb_thr_wakeup(fut->waiter);
}

void comb_future_init(comb_future_t *fut, comb_future_fn fn, comb_thr_t *waiter)
{
    comb_fib_init(&fut->fib, step, publish);
    fut->fn = fn;
    fut->waiter = waiter;
    fut->state = COMB_FUTURE_IDLE;
    fut->value = 0u;
}

bool comb_future_start(comb_future_t *fut, comb_thr_t *thr)
{
    uint32_t s;
    /* Claim the future. Repeats only when an interrupt changed the word
     * between the read and the CAS (a take, or a start that then makes us
     * fail); once running, nothing but the publication moves it. */
    do {
        s = fut->state;
        if (s == COMB_FUTURE_RUNNING)
            return false;
    } while (!comb_port_cas32(&fut->state, s, COMB_FUTURE_RUNNING));
    /* Ours: not running means its fiber left the chain (the state turns
     * ready only in the drop callback), so this add cannot fail; if the
     * fiber was added by hand meanwhile, give the claim back. */
    if (!comb_fib_exec(thr, &fut->fib)) {
        fut->state = s;
        return false;
    }
    return true;
}

bool comb_future_take(comb_future_t *fut, uint32_t *out)
{
    if (!comb_port_cas32(&fut->state, COMB_FUTURE_READY, COMB_FUTURE_IDLE))
        return false;
    *out = fut->value;
    return true;
}
