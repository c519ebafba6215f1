/*
 * Threads: NVIC interrupts fixed at build time, each running a chain of
 * fibers (comb/fiber.h) when it fires (Drone OS's model; docs/scheduler.md).
 *
 * A thread is an external interrupt. Waking it pends that interrupt; the NVIC
 * then runs it by priority: a thread that wakes a higher-priority thread is
 * preempted by it at once, a lower or equal one runs after the waker
 * returns (equal ones in turn, lowest IRQ number first). Thread mode (the
 * root: main) initialises, then sleeps in comb_thr_idle() between interrupts.
 *
 * THE TABLE. One list per image, an X-macro of T(name, irq, priority):
 *
 *   // threads.h, included wherever threads are named
 *   #define APP_THREADS(T) T(sample, 9, 0x20) T(worker, 24, 0x80) T(slow, 25, 0xC0)
 *   COMB_THREADS_DECLARE(APP_THREADS)
 *
 *   // exactly one .c file
 *   COMB_THREADS_DEFINE(APP_THREADS)
 *   ...  comb_threads_init();  comb_fib_exec(COMB_THR(worker), &fib);
 *
 * The position in the list is the thread's index: the `thr` of the trace
 * events (0xFF = root or an interrupt that is not a thread). DEFINE creates
 * the thread states (comb_thr_table, static data, no heap), the handler
 * IRQ<irq>_Handler of each thread (overriding the weak default of the
 * vector table), comb_threads_init(), and for each thread an ELF absolute
 * symbol comb_thr_name_<name> whose value is its index, so the host names
 * threads from the ELF with no bytes on the wire. `irq` is a decimal IRQ
 * number (0-239, or a macro expanding to one); priority 0 is the highest
 * (cores implement only the top bits: use values that differ there).
 *
 * CONCURRENCY / IRQ SAFETY. comb_thr_wakeup, comb_thr_set_priority,
 * comb_thr_current from thread mode and any handler. A thread's handler is
 * never re-entered (the NVIC does not preempt an active interrupt with
 * itself); a wakeup while it runs makes it run again after it returns.
 *
 * TRACING (port 30, SPEC v1): thread_wakeup (from, to) in comb_thr_wakeup,
 * thread_enter / thread_exit around every run of a handler, with timestamps
 * (comb_trace_timestamp). A disabled port costs 3 instructions per event in
 * the handler's walk and 4 in comb_thr_wakeup (comb/sched_trace.h).
 */
#ifndef COMB_THREAD_H
#define COMB_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/fiber.h"
#include "comb/trace_protocol.h"

/* One thread. All fields are the runtime's. */
typedef struct comb_thr {
    comb_mpsc_list_t chain;    /* its fibers, newest first */
    uint16_t irq;              /* its interrupt */
    uint8_t index;             /* position in the table = `thr` of the trace */
    uint8_t prio;              /* priority set by comb_threads_init */
} comb_thr_t;

/* ---- The table ------------------------------------------------------------ */

#define COMB_THR__ID(name, irq, prio) COMB_THR_ID_##name,
#define COMB_THR__STATE(name, irq, prio) {{NULL}, (irq), COMB_THR_ID_##name, (prio)},
#define COMB_THR__CAT3(a, b, c) a##b##c
#define COMB_THR__HANDLER_NAME(irq) COMB_THR__CAT3(IRQ, irq, _Handler)
#define COMB_THR__HANDLER(name, irq, prio)                       \
    void COMB_THR__HANDLER_NAME(irq)(void);                      \
    void COMB_THR__HANDLER_NAME(irq)(void)                       \
    {                                                            \
        comb_thr_run(&comb_thr_table[COMB_THR_ID_##name]);       \
    }
#define COMB_THR__HANDLER_PTR(name, irq, prio) COMB_THR__HANDLER_NAME(irq),
/* comb_thr_name_<name> = index: assembled in list order with a running counter. */
#define COMB_THR__NAME_SYM(name, irq, prio)                                     \
    ".globl comb_thr_name_" #name "\n"                                          \
    ".set comb_thr_name_" #name ", comb_thr__next_index\n"                      \
    ".set comb_thr__next_index, comb_thr__next_index + 1\n"

#define COMB_THREADS_DECLARE(LIST)                                                    \
    enum { LIST(COMB_THR__ID) COMB_THR_COUNT };                                       \
    _Static_assert(COMB_THR_COUNT < COMB_THREAD_NONE, "at most 255 threads");          \
    extern comb_thr_t comb_thr_table[COMB_THR_COUNT];                                 \
    /* Handlers in table order, for the host's simulated NVIC. */                     \
    extern void (*const comb_thr_handlers[COMB_THR_COUNT])(void);                     \
    /* Priorities, then enable every thread's interrupt. Thread mode, once. */        \
    void comb_threads_init(void);

#if defined(__ELF__)
#define COMB_THR__NAME_SYMBOLS(LIST) __asm__(".set comb_thr__next_index, 0\n" LIST(COMB_THR__NAME_SYM));
#else
#define COMB_THR__NAME_SYMBOLS(LIST)
#endif

#define COMB_THREADS_DEFINE(LIST)                                                     \
    comb_thr_t comb_thr_table[COMB_THR_COUNT] = {LIST(COMB_THR__STATE)};              \
    LIST(COMB_THR__HANDLER)                                                           \
    void (*const comb_thr_handlers[COMB_THR_COUNT])(void) = {LIST(COMB_THR__HANDLER_PTR)}; \
    void comb_threads_init(void)                                                      \
    {                                                                                 \
        comb_thr_init(comb_thr_table, COMB_THR_COUNT);                                \
    }                                                                                 \
    COMB_THR__NAME_SYMBOLS(LIST)

/* The thread `name` of the table. */
#define COMB_THR(name) (&comb_thr_table[COMB_THR_ID_##name])

/* ---- Runtime -------------------------------------------------------------- */

/* Set each thread's priority, clear a stale pending bit, enable its IRQ.
 * Thread mode, once, before any wakeup (comb_threads_init calls it). */
void comb_thr_init(comb_thr_t *table, unsigned count);

/* Pend the thread's interrupt (emitting thread_wakeup first). From any
 * context. A higher-priority thread has run to completion (or to its own
 * preemption) when this returns; a lower or equal one runs later. */
void comb_thr_wakeup(comb_thr_t *thr);

/* Change the thread's priority now (0 = highest). From any context. */
void comb_thr_set_priority(comb_thr_t *thr, uint8_t prio);
uint8_t comb_thr_priority(const comb_thr_t *thr);

/* The thread whose handler is running here, or NULL in thread mode and in
 * interrupts that are not threads (also when such an interrupt preempted a
 * thread). */
comb_thr_t *comb_thr_current(void);

/* Index of comb_thr_current(), COMB_THREAD_NONE (0xFF) for NULL: the `from`
 * of thread_wakeup. */
unsigned comb_thr_current_index(void);

/* The root's idle step: sleep until an interrupt (WFI), then return after the
 * handlers that became runnable have run. */
void comb_thr_idle(void);

/* The body of every thread's handler (generated by COMB_THREADS_DEFINE):
 * mark the thread current (saving the previous one, restored on return, so
 * nesting is exact), thread_enter, resume each fiber of the chain once
 * (newest first; completed ones are unlinked and finished), thread_exit.
 * Only from the thread's own handler: it is the chain's single owner. */
void comb_thr_run(comb_thr_t *thr);

#endif /* COMB_THREAD_H */
