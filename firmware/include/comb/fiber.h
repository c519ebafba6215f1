/*
 * Fibers: stackless tasks run by a thread's interrupt handler (Drone OS's
 * model; docs/scheduler.md). A fiber is a C callback plus its state; each
 * thread (comb/thread.h) owns a chain of fibers, and every time the thread's
 * interrupt fires it resumes each fiber of its chain once, newest first (LIFO).
 * A resumed fiber returns:
 *
 *   COMB_FIB_YIELDED   it stays in the chain and is resumed at the next run;
 *   COMB_FIB_COMPLETE  it is unlinked, its drop callback runs, and its storage
 *                      goes back to the pool allocator if it came from there.
 *
 * A fiber runs in its thread's interrupt context at the thread's priority:
 * it must return instead of waiting. The protothread helpers below let a
 * sequential fiber be written top to bottom:
 *
 *   struct blink { comb_fib_t fib; unsigned i; comb_timer_t t; };
 *   static comb_fib_state_t blink_step(comb_fib_t *f)
 *   {
 *       struct blink *b = COMB_FIB_CONTAINER(f, struct blink, fib);
 *       COMB_FIB_BEGIN(f);
 *       for (b->i = 0; b->i < 10; b->i++) {
 *           led_toggle();
 *           COMB_FIB_SLEEP(f, &b->t, 100);        // comb/timer.h
 *       }
 *       COMB_FIB_END(f);
 *   }
 *
 * Locals do not survive a yield (keep state in the fiber's struct), and a
 * `switch` must not enclose a yield point (the helpers are a switch on the
 * resume point, as in protothreads).
 *
 * OWNERSHIP. Static fibers (COMB_FIB_INIT / comb_fib_init) belong to the
 * caller; from comb_fib_add until it completes the chain uses the fiber and
 * the caller must not modify it. Once it completed it may be added again,
 * also by its drop callback or by a handler preempting it (the chain no longer
 * touches it). Pool fibers (comb_fib_alloc) belong to the chain once added
 * and are freed right after their drop callback.
 *
 * CONCURRENCY / IRQ SAFETY. comb_fib_add may be called from thread mode and
 * any interrupt at once, nested, without locks (a CAS on the chain head).
 * Only the owning thread's handler resumes and unlinks fibers. No interrupt
 * masking, no heap inside the runtime (comb_fib_alloc uses the pool allocator
 * only when the caller asks for it).
 *
 * TRACING (port 30, SPEC v1): fiber_added, fiber_resumed, fiber_yielded,
 * fiber_completed with the thread index, the fiber's address and a
 * timestamp. A disabled port costs 3 or 4 instructions per event (the mask
 * load, a shift, a branch; plus the mask's address where it is not in a
 * register: comb/sched_trace.h).
 */
#ifndef COMB_FIBER_H
#define COMB_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/mpsc_list.h"

struct comb_heap;
struct comb_thr;

typedef enum comb_fib_state {
    COMB_FIB_YIELDED = 0,
    COMB_FIB_COMPLETE = 1,
} comb_fib_state_t;

typedef struct comb_fib comb_fib_t;

/* One step of the fiber: called with the fiber itself, in its thread's
 * handler. */
typedef comb_fib_state_t (*comb_fib_fn)(comb_fib_t *fib);
/* Called once after the fiber completed and was unlinked, in its thread's
 * handler, before a pool fiber's storage is freed. */
typedef void (*comb_fib_drop_fn)(comb_fib_t *fib);

/* All fields are the runtime's; read them through the functions below. */
struct comb_fib {
    comb_mpsc_node_t node;     /* chain link (comb/mpsc_list.h); first member */
    comb_fib_fn fn;
    comb_fib_drop_fn drop;     /* NULL: none */
    struct comb_thr *thr;      /* the chain it was last added to */
    struct comb_heap *heap;    /* non-NULL: storage from this heap (comb_fib_alloc) */
    volatile uint32_t linked;  /* 1 from a successful add until it completed */
    uint32_t pt;               /* protothread resume point, 0 = start */
};

/* Static initialiser: `static comb_fib_t f = COMB_FIB_INIT(step, drop);` */
#define COMB_FIB_INIT(fn, drop) {{NULL}, (fn), (drop), NULL, NULL, 0u, 0u}

/* The struct of type `type` whose member `member` is the fiber `fib`. */
#define COMB_FIB_CONTAINER(fib, type, member) ((type *)(void *)((char *)(fib) - offsetof(type, member)))

/* Set up a fiber that is not in any chain (its resume point back to the start). */
void comb_fib_init(comb_fib_t *fib, comb_fib_fn fn, comb_fib_drop_fn drop);

/* A fiber of `size` bytes (the fiber at the start, the caller's state after
 * it; at least sizeof(comb_fib_t)) from heap `heap` (comb/heap.h), initialised
 * as comb_fib_init does; the rest of the block is zeroed. NULL when the heap
 * has no block (nothing traced but the allocator's heap_fail). The block is
 * freed to `heap` after the fiber's drop callback; a pool fiber that is
 * never added must be freed by the caller. */
comb_fib_t *comb_fib_alloc(struct comb_heap *heap, size_t size, comb_fib_fn fn, comb_fib_drop_fn drop);

/* Push `fib` on the chain of thread `thr` (resumed at the thread's next run,
 * before every fiber already there), from its start (resume point 0). Does
 * not wake the thread (comb_thr_wakeup, or comb_fib_exec below). Returns
 * false, changing nothing, when the fiber is in a chain already (added and
 * not yet completed). */
bool comb_fib_add(struct comb_thr *thr, comb_fib_t *fib);

/* comb_fib_add, then comb_thr_wakeup(thr) when the add succeeded. */
bool comb_fib_exec(struct comb_thr *thr, comb_fib_t *fib);

/* The thread whose chain holds the fiber (from its add on): a fiber wakes
 * its own thread with comb_thr_wakeup(comb_fib_thread(f)). */
static inline struct comb_thr *comb_fib_thread(const comb_fib_t *fib)
{
    return fib->thr;
}

/* True from a successful add until it completed (pool fibers: until freed). */
static inline bool comb_fib_linked(const comb_fib_t *fib)
{
    return fib->linked != 0u;
}

/* ---- Protothread helpers -------------------------------------------------
 * Inside a fiber callback, with `f` its comb_fib_t pointer. Each yield point
 * records __LINE__, so two yield points must not share a source line. */

#define COMB_FIB_BEGIN(f)   \
    switch ((f)->pt) {      \
    case 0:

/* A helper with two resume points on one source line (COMB_FIB_SLEEP) marks
 * the second with this bit: no __LINE__ has it, so no label collides. */
#define COMB_FIB_PT_SECOND 0x80000000u

/* Return YIELDED; the next run continues after this statement. */
#define COMB_FIB_YIELD(f)               \
    do {                                \
        (f)->pt = __LINE__;             \
        return COMB_FIB_YIELDED;        \
    case __LINE__:;                     \
    } while (0)

/* Yield until `cond` is true (tested at every run, first right away). */
#define COMB_FIB_WAIT_UNTIL(f, cond)    \
    do {                                \
        (f)->pt = __LINE__;             \
        __attribute__((fallthrough));   \
    case __LINE__:                      \
        if (!(cond))                    \
            return COMB_FIB_YIELDED;    \
    } while (0)

/* Complete now (from anywhere between BEGIN and END). */
#define COMB_FIB_EXIT(f)                \
    do {                                \
        (f)->pt = 0u;                   \
        return COMB_FIB_COMPLETE;       \
    } while (0)

/* End of the body: completes. */
#define COMB_FIB_END(f) \
    }                   \
    COMB_FIB_EXIT(f)

/* ---- Used by the thread runtime (comb/thread.h) -------------------------- */

/* A fiber that completed and was unlinked from its chain: lets it be added
 * again (static fibers), runs its drop callback, frees its storage (pool
 * fibers). Called by the thread's handler (comb_thr_run) only. */
void comb_fib_finish(comb_fib_t *fib);

/* How a completed pool fiber is freed: comb_heap_free, stored by
 * comb_fib_alloc (so that images without the pool allocator do not link it). */
extern void (*comb_fib_pool_free)(struct comb_heap *heap, void *block);

#endif /* COMB_FIBER_H */
