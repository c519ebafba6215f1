/*
 * Host implementation of the port hooks (comb/port.h) for unit tests, with
 * the test API of comb/host_port.h. CAS uses C11 <stdatomic.h>.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/port_sched.h"
#include "comb/trace.h"

static uint8_t sent[COMB_HOST_CAPTURE_MAX];
static size_t sent_len;
static bool tx_ready = true;
static uint32_t tx_busy;
static uint64_t tx_polls;
static uint8_t rx_queue[256];
static unsigned rx_head, rx_tail;
static comb_host_preempt_fn hook;
static void *hook_ctx;
static unsigned hook_depth;
static uint32_t ts_value, ts_step = 1u;

bool comb_port_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
    /* uint32_t and _Atomic uint32_t have the same size and representation on
     * the hosts we build on (GCC/Clang, x86-64 and AArch64). */
    return atomic_compare_exchange_strong((volatile _Atomic uint32_t *)p, &expected, desired);
}

bool comb_port_uart_tx(uint8_t byte)
{
    tx_polls++;
    if (!tx_ready)
        return false;
    if (tx_busy != 0u) {
        tx_busy--;
        return false;
    }
    if (sent_len < COMB_HOST_CAPTURE_MAX)
        sent[sent_len] = byte;
    sent_len++;
    return true;
}

int comb_port_uart_rx(void)
{
    if (rx_head == rx_tail)
        return -1;
    return rx_queue[rx_tail++ % sizeof rx_queue];
}

_Noreturn void comb_port_exit(int status)
{
    exit(status);
}

uint32_t comb_trace_timestamp(void)
{
    uint32_t t = ts_value;
    ts_value += ts_step;
    return t;
}

void comb_port_preempt_point(unsigned where)
{
    if (hook == NULL || hook_depth >= COMB_HOST_PREEMPT_MAX_DEPTH)
        return;
    unsigned depth = hook_depth++;
    hook(where, depth, hook_ctx);
    hook_depth--;
}

static void nvic_reset(void);

void comb_host_reset(void)
{
    comb_transport_reset();
    nvic_reset();
    sent_len = 0;
    tx_ready = true;
    tx_busy = 0;
    tx_polls = 0;
    rx_head = rx_tail = 0;
    hook = NULL;
    hook_ctx = NULL;
    hook_depth = 0;
    ts_value = 0;
    ts_step = 1u;
}

const uint8_t *comb_host_sent(size_t *len)
{
    *len = sent_len < COMB_HOST_CAPTURE_MAX ? sent_len : COMB_HOST_CAPTURE_MAX;
    return sent;
}

void comb_host_sent_clear(void)
{
    sent_len = 0;
}

void comb_host_uart_set_ready(bool ready)
{
    tx_ready = ready;
}

void comb_host_uart_busy_polls(uint32_t n)
{
    tx_busy = n;
}

uint64_t comb_host_uart_tx_polls(void)
{
    return tx_polls;
}

void comb_host_uart_rx_push(uint8_t byte)
{
    if (rx_head - rx_tail < sizeof rx_queue)
        rx_queue[rx_head++ % sizeof rx_queue] = byte;
}

void comb_host_set_preempt_hook(comb_host_preempt_fn fn, void *ctx)
{
    hook = fn;
    hook_ctx = ctx;
}

void comb_host_set_timestamp(uint32_t value, uint32_t step)
{
    ts_value = value;
    ts_step = step;
}

/* ---- Simulated NVIC (comb/port_sched.h) ----------------------------------- */

#define THREAD_MODE_PRIO 256u

static struct {
    uint64_t pending, enabled;
    uint8_t prio[COMB_HOST_NVIC_IRQS];
    void (*handler[COMB_HOST_NVIC_IRQS])(void);
    uint32_t taken[COMB_HOST_NVIC_IRQS];
    unsigned active[COMB_HOST_NVIC_IRQS]; /* stack of active IRQs, innermost last */
    unsigned depth;
    uint32_t systick_reload;
    uint8_t systick_prio;
} nvic;

static void nvic_reset(void)
{
    memset(&nvic, 0, sizeof nvic);
}

static uint64_t nvic_bit(unsigned irq)
{
    if (irq >= COMB_HOST_NVIC_IRQS) {
        fprintf(stderr, "host NVIC: IRQ %u out of range\n", irq);
        abort();
    }
    return (uint64_t)1 << irq;
}

static bool nvic_is_active(unsigned irq)
{
    for (unsigned i = 0; i < nvic.depth; i++)
        if (nvic.active[i] == irq)
            return true;
    return false;
}

/* Take runnable interrupts until none is left at the current level. Each
 * taken handler runs nested; its own dispatches happen inside it. */
static void nvic_dispatch(void)
{
    for (;;) {
        unsigned current = nvic.depth ? nvic.prio[nvic.active[nvic.depth - 1]] : THREAD_MODE_PRIO;
        unsigned best = COMB_HOST_NVIC_IRQS, best_prio = current;
        uint64_t ready = nvic.pending & nvic.enabled;
        for (unsigned irq = 0; irq < COMB_HOST_NVIC_IRQS; irq++)
            if ((ready >> irq & 1u) && nvic.prio[irq] < best_prio && !nvic_is_active(irq)) {
                best = irq;
                best_prio = nvic.prio[irq];
            }
        if (best == COMB_HOST_NVIC_IRQS)
            return;
        nvic.pending &= ~nvic_bit(best);
        nvic.taken[best]++;
        nvic.active[nvic.depth++] = best;
        if (nvic.handler[best] != NULL)
            nvic.handler[best]();
        nvic.depth--;
    }
}

void comb_port_irq_pend(unsigned irq)
{
    nvic.pending |= nvic_bit(irq);
    nvic_dispatch();
}

void comb_port_irq_enable(unsigned irq)
{
    nvic.enabled |= nvic_bit(irq);
    nvic_dispatch();
}

void comb_port_irq_disable(unsigned irq)
{
    nvic.enabled &= ~nvic_bit(irq);
}

void comb_port_irq_clear_pending(unsigned irq)
{
    nvic.pending &= ~nvic_bit(irq);
}

void comb_port_irq_set_priority(unsigned irq, uint8_t prio)
{
    (void)nvic_bit(irq);
    nvic.prio[irq] = prio;
    nvic_dispatch();
}

uint8_t comb_port_irq_priority(unsigned irq)
{
    (void)nvic_bit(irq);
    return nvic.prio[irq];
}

int comb_port_active_irq(void)
{
    return nvic.depth ? (int)nvic.active[nvic.depth - 1] : -16;
}

void comb_port_wait_for_interrupt(void)
{
    comb_host_nvic_run();
}

void comb_port_systick_start(uint32_t reload, uint8_t prio)
{
    nvic.systick_reload = reload;
    nvic.systick_prio = prio;
}

void comb_port_systick_stop(void)
{
    nvic.systick_reload = 0;
    nvic.systick_prio = 0;
}

bool comb_port_cas_ptr(void *volatile *p, void *expected, void *desired)
{
    /* void * and _Atomic(void *) share size and representation on the hosts
     * we build on, as for comb_port_cas32. */
    return atomic_compare_exchange_strong((void *volatile _Atomic *)p, &expected, desired);
}

void comb_host_nvic_set_handler(unsigned irq, void (*fn)(void))
{
    (void)nvic_bit(irq);
    nvic.handler[irq] = fn;
}

void comb_host_nvic_run(void)
{
    nvic_dispatch();
}

void comb_host_nvic_raise(unsigned irq)
{
    comb_port_irq_pend(irq);
}

bool comb_host_nvic_pending(unsigned irq)
{
    return (nvic.pending & nvic_bit(irq)) != 0u;
}

bool comb_host_nvic_enabled(unsigned irq)
{
    return (nvic.enabled & nvic_bit(irq)) != 0u;
}

uint32_t comb_host_nvic_taken(unsigned irq)
{
    return nvic.taken[nvic_bit(irq) ? irq : 0];
}

uint32_t comb_host_systick_reload(void)
{
    return nvic.systick_reload;
}

uint8_t comb_host_systick_priority(void)
{
    return nvic.systick_prio;
}
