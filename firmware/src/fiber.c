/*
 * Fibers (comb/fiber.h): set-up, adding to a thread's chain, and what
 * happens to one that completed. The walk that resumes them is the thread's
 * handler (thread.c); the list itself (lock-free push, owner-only unlink, and
 * why that is correct) is comb/mpsc_list.h.
 */
#include "comb/fiber.h"

#include <stddef.h>

#include "comb/port.h"
#include "comb/sched_trace.h"
#include "comb/thread.h"

void (*comb_fib_pool_free)(struct comb_heap *heap, void *block);

void comb_fib_init(comb_fib_t *fib, comb_fib_fn fn, comb_fib_drop_fn drop)
{
    fib->node.next = NULL;
    fib->fn = fn;
    fib->drop = drop;
    fib->thr = NULL;
    fib->heap = NULL;
    fib->linked = 0u;
    fib->pt = 0u;
}

bool comb_fib_add(comb_thr_t *thr, comb_fib_t *fib)
{
    /* Claim first: two contexts adding the same fiber must not both link it
     * (that would make a cycle). */
    if (!comb_port_cas32(&fib->linked, 0u, 1u))
        return false;
    fib->thr = thr;
    fib->pt = 0u;
    /* Traced before the push: once pushed, a handler preempting us may run
     * the fiber, and "added" must not come after its "resumed" in time. */
    comb_trace_fiber(COMB_EVT_FIBER_ADDED, thr->index, fib);
    comb_mpsc_push(&thr->chain, &fib->node);
    return true;
}

bool comb_fib_exec(comb_thr_t *thr, comb_fib_t *fib)
{
    if (!comb_fib_add(thr, fib))
        return false;
    comb_thr_wakeup(thr);
    return true;
}

void comb_fib_finish(comb_fib_t *fib)
{
    struct comb_heap *heap = fib->heap;
    comb_fib_drop_fn drop = fib->drop;
    if (heap == NULL)
        fib->linked = 0u; /* static: may be added again from here on */
    /* An interrupt here sees a static fiber free but its drop not yet run
     * (a future still running: comb/future.h relies on that order). */
    COMB_PREEMPT_POINT(COMB_PP_FIB_UNLINKED);
    if (drop != NULL)
        drop(fib);
    if (heap != NULL)
        comb_fib_pool_free(heap, fib);
}
