/*
 * Host port: the comb/port.h hooks for unit tests on the build machine, plus a
 * test API to look at and steer them. Single-threaded: "interrupts" are
 * simulated by the preemption hook, which the transport calls at every point
 * where a real interrupt could change the outcome (enum comb_preempt_point).
 */
#ifndef COMB_HOST_PORT_H
#define COMB_HOST_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/port.h"

/* Bytes the capture keeps; later bytes are counted but not stored. */
#define COMB_HOST_CAPTURE_MAX (1u << 20)
/* Deepest simulated interrupt nesting the hook is called at. */
#define COMB_HOST_PREEMPT_MAX_DEPTH 8u

/* Everything back to the start: transport state (comb_transport_reset),
 * capture, UART ready, RX queue empty, no hook, timestamp 0 step 1. */
void comb_host_reset(void);

/* The bytes the transport handed to the UART so far, in order. */
const uint8_t *comb_host_sent(size_t *len);
void comb_host_sent_clear(void);

/* UART transmitter: ready=false makes every comb_port_uart_tx() refuse the
 * byte ("TX full") until set back to true. busy_polls(n): the next n calls
 * refuse, then it is ready again. */
void comb_host_uart_set_ready(bool ready);
void comb_host_uart_busy_polls(uint32_t n);
/* Calls of comb_port_uart_tx() so far (accepted or refused). */
uint64_t comb_host_uart_tx_polls(void);

/* Queue one byte for comb_port_uart_rx(). */
void comb_host_uart_rx_push(uint8_t byte);

/* Simulated interrupts: fn(where, depth, ctx) is called at every preemption
 * point reached; depth = how many hook calls are already active below this
 * one (0 for a first-level "interrupt"). The hook may call any transport / log
 * / trace function, which reach preemption points again (nested interrupts);
 * calls deeper than COMB_HOST_PREEMPT_MAX_DEPTH are not made. NULL: none. */
typedef void (*comb_host_preempt_fn)(unsigned where, unsigned depth, void *ctx);
void comb_host_set_preempt_hook(comb_host_preempt_fn fn, void *ctx);

/* comb_trace_timestamp() returns `value`, then value + step, value + 2*step... */
void comb_host_set_timestamp(uint32_t value, uint32_t step);

/* ---- Simulated NVIC (comb/port_sched.h: the port hooks the thread runtime
 * calls; these are the test's side). comb_host_reset() clears it: nothing
 * pending or enabled, priorities 0, no handlers. */
#define COMB_HOST_NVIC_IRQS 64u

/* fn runs when IRQ `irq` is taken (NULL: taking it does nothing). */
void comb_host_nvic_set_handler(unsigned irq, void (*fn)(void));
/* Thread mode "WFI": take every pending, enabled interrupt, highest priority
 * first, until none is left (nested ones as they become runnable). */
void comb_host_nvic_run(void);
/* Pend IRQ `irq` as a peripheral would (same as comb_port_irq_pend). */
void comb_host_nvic_raise(unsigned irq);
bool comb_host_nvic_pending(unsigned irq);
bool comb_host_nvic_enabled(unsigned irq);
/* Times IRQ `irq` was taken since the reset. */
uint32_t comb_host_nvic_taken(unsigned irq);
/* The last comb_port_systick_start() arguments (0, 0 when stopped). */
uint32_t comb_host_systick_reload(void);
uint8_t comb_host_systick_priority(void);

#endif /* COMB_HOST_PORT_H */
