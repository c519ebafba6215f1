/*
 * Host port of the scheduler primitives (the Cortex-M ones are in
 * port/cortex-m/include/comb/port_sched.h, same names and contracts), over the
 * simulated NVIC of port/host/host_port.c (test API in comb/host_port.h):
 *
 *   - COMB_HOST_NVIC_IRQS interrupts, each with a pending bit, an enable bit,
 *     a priority byte (0 = highest) and a handler (comb_host_nvic_set_handler);
 *   - the current execution priority is the priority of the innermost active
 *     handler, or 256 in thread mode;
 *   - whenever something can make an interrupt runnable (pend, enable,
 *     priority change, a handler's return) the simulation runs, right there,
 *     the highest-priority pending and enabled interrupt whose priority is
 *     strictly above the current one (ties: the lowest IRQ number), and
 *     repeats; an active interrupt is never re-entered (its new pending bit
 *     waits for its return), exactly as on the NVIC.
 *
 * Single-threaded: handlers run as nested calls, like the preemption hook.
 */
#ifndef COMB_PORT_SCHED_H
#define COMB_PORT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/port.h"

void comb_port_irq_pend(unsigned irq);
void comb_port_irq_enable(unsigned irq);
void comb_port_irq_disable(unsigned irq);
void comb_port_irq_clear_pending(unsigned irq);
void comb_port_irq_set_priority(unsigned irq, uint8_t prio);
uint8_t comb_port_irq_priority(unsigned irq);
/* Innermost active simulated interrupt, or -16 in thread mode. */
int comb_port_active_irq(void);
/* Thread mode: runs every pending interrupt (comb_host_nvic_run). */
void comb_port_wait_for_interrupt(void);
/* Recorded for comb_host_systick_reload(); the tests call comb_timer_tick(). */
void comb_port_systick_start(uint32_t reload, uint8_t prio);
void comb_port_systick_stop(void);
bool comb_port_cas_ptr(void *volatile *p, void *expected, void *desired);

#endif /* COMB_PORT_SCHED_H */
