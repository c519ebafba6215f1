/*
 * schedbench: dispatch overhead of the thread runtime in instructions
 * (make bench, bench/sched_bench.py), measured on a QEMU instruction trace
 * (-singlestep -d exec: one line per instruction executed).
 *
 * Each case runs between bench_mark(case) and bench_mark(0):
 *
 *   1 bare       pend a plain IRQ handler (the same NVIC pend as a wakeup:
 *                STIR, DSB, ISB) that does the work itself
 *   2 thread     comb_thr_wakeup() of a thread whose chain holds one fiber
 *                doing the same work; port 30 disabled
 *   3 traced     the same with port 30 enabled: thread_wakeup, thread_enter,
 *                fiber_resumed, fiber_yielded, thread_exit go out through the
 *                UART transport
 *
 * The work is one counter increment; sched_bench.py counts the instructions
 * from bench_mark(case) to the first instruction of the work (the bare
 * handler, or the fiber callback: "wakeup to fiber") and from the work's
 * return to bench_mark(0) (back in the woken-up code). Every case runs
 * REPEAT times; the script takes the median (the transport's periodic sync
 * packets make a traced run differ now and then). Tracing is compiled in
 * for every case: case 2 is "tracing off" as an image ships with it.
 *
 * Port 0: "schedbench done"; exit 0.
 */
#include "comb/board.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/port_sched.h"
#include "comb/thread.h"

#define THREADS(T) T(bench, 29, 0x80)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)

#define BARE_IRQ 30u
#define REPEAT 5u

static volatile uint32_t counter;

/* The path tracer looks for calls of this function. */
__attribute__((noinline)) void bench_mark(unsigned id);
__attribute__((noinline)) void bench_mark(unsigned id)
{
    __asm__ volatile("" ::"r"(id) : "memory");
}

/* The bare interrupt handler: the work, nothing else. */
void IRQ30_Handler(void);
void IRQ30_Handler(void)
{
    counter++;
}

__attribute__((noinline)) static void bare_wakeup(void)
{
    comb_port_irq_pend(BARE_IRQ);
}

/* The fiber: the same work, then stays in the chain. */
__attribute__((noinline)) comb_fib_state_t bench_fiber_step(comb_fib_t *f);
__attribute__((noinline)) comb_fib_state_t bench_fiber_step(comb_fib_t *f)
{
    (void)f;
    counter++;
    return COMB_FIB_YIELDED;
}

static comb_fib_t bench_fiber = COMB_FIB_INIT(bench_fiber_step, NULL);

int main(void)
{
    comb_board_init();
    comb_threads_init();
    comb_port_irq_set_priority(BARE_IRQ, 0x80);
    comb_port_irq_enable(BARE_IRQ);
    comb_fib_add(COMB_THR(bench), &bench_fiber);

    const uint32_t all = 0xFFFFFFFFu, no_sched = ~(1u << COMB_PORT_SCHED);
    for (unsigned r = 0; r < REPEAT; r++) {
        comb_transport_init(no_sched, COMB_TRANSPORT_SYNC_DEFAULT);
        bench_mark(1);
        bare_wakeup();
        bench_mark(0);
        bench_mark(2);
        comb_thr_wakeup(COMB_THR(bench));
        bench_mark(0);
        comb_transport_init(all, COMB_TRANSPORT_SYNC_DEFAULT);
        bench_mark(3);
        comb_thr_wakeup(COMB_THR(bench));
        bench_mark(0);
    }
    comb_printf("schedbench done %lu\n", (unsigned long)counter);
    return counter == 3u * REPEAT && comb_transport_flush() ? 0 : 1;
}
