/*
 * Port layer: the few primitives the portable firmware (transport, log,
 * session) needs from the CPU architecture and the board. Each is provided by
 * exactly one implementation linked into an image:
 *
 *   hook                     Cortex-M image                      host unit tests
 *   comb_port_cas32          port/cortex-m/port.c (LDREX/STREX,  port/host (C11 <stdatomic.h>)
 *                            PRIMASK on ARMv6-M)
 *   comb_port_uart_tx/_rx    boards/<board>/board.c              port/host (capture buffer)
 *   comb_trace_timestamp     boards/<board>/board.c (trace.h)    port/host (programmable)
 *   comb_port_exit           boards/<board>/board.c              port/host (exit())
 *   comb_lifo_pop/push,      port/cortex-m/include/              port/host/include/
 *   comb_atomic_* (inline)   comb/port_atomic.h (LDREX/STREX,    comb/port_atomic.h (C11
 *                            PRIMASK on ARMv6-M)                 atomics, ABA-tagged head)
 *
 * Single-core model: the portable code assumes that everything that can
 * preempt it is an interrupt handler on the same core, which runs to
 * completion before the preempted code resumes (strict LIFO nesting).
 */
#ifndef COMB_PORT_H
#define COMB_PORT_H

#include <stdbool.h>
#include <stdint.h>

/* Atomically: if (*p == expected) { *p = desired; return true; } return false.
 * Safe against preemption by any interrupt at any instruction. Full compiler
 * barrier. Never spins for long: the LDREX/STREX version retries only when an
 * exception was taken inside its 3-instruction window. */
bool comb_port_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired);

/* UART: try to hand one byte to the transmitter. Returns false, without
 * waiting, when the transmitter cannot take it now (TX FIFO/holding register
 * full). The caller bounds its retries. */
bool comb_port_uart_tx(uint8_t byte);

/* UART: one received byte (0-255), or -1 when none is waiting. Never waits. */
int comb_port_uart_rx(void);

/* Stop the program with `status` (0 = success). On QEMU this is semihosting
 * SYS_EXIT; on hardware the board decides (e.g. breakpoint + reset). */
_Noreturn void comb_port_exit(int status);

/* Preemption points: on the host build, the transport calls
 * comb_port_preempt_point(where) at every place where an interrupt could land
 * and change the outcome, so unit tests can run a nested writer there
 * (port/host/include/comb/host_port.h). On targets it compiles to nothing. */
enum comb_preempt_point {
    COMB_PP_RESERVE_READ = 1, /* reserve head/tail read, before the reservation CAS */
    COMB_PP_RESERVED,         /* reservation taken, nothing copied yet */
    COMB_PP_COPY,             /* part of the reservation copied */
    COMB_PP_COPIED,           /* whole reservation copied, not yet published */
    COMB_PP_COMMIT_READ,      /* outermost writer read the reserve head (c) */
    COMB_PP_COMMIT_STORED,    /* ... stored commit = c, nest still 1 */
    COMB_PP_COMMIT_NEST0,     /* ... nest back to 0, before re-checking the head */
    COMB_PP_DRAIN_LOCKED,     /* drain flag acquired */
    COMB_PP_DRAIN_BYTE,       /* one byte moved to the UART, flag held */
    COMB_PP_DRAIN_DONE,       /* moved all it saw published, flag still held */
    COMB_PP_DRAIN_UNLOCKED,   /* drain flag released, before the re-check */
    COMB_PP_COUNT,
    /* Allocator (comb/port_atomic.h, host build only), numbered apart so the
     * transport's points stay 1..COMB_PP_COUNT-1. */
    COMB_PP_HEAP_POP = 16,    /* pop read the head and the next link, before its CAS */
    COMB_PP_HEAP_PUSH,        /* push wrote the link, before its CAS */
    COMB_PP_HEAP_BUMP,        /* bump pointer read, before its CAS */
    COMB_PP_HEAP_COUNTER,     /* statistics counter read, before its CAS */
};

#if defined(COMB_PORT_HOST)
void comb_port_preempt_point(unsigned where);
#define COMB_PREEMPT_POINT(where) comb_port_preempt_point(where)
#else
#define COMB_PREEMPT_POINT(where) ((void)0)
#endif

#endif /* COMB_PORT_H */
