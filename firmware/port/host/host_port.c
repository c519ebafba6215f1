/*
 * Host implementation of the port hooks (comb/port.h) for unit tests, with
 * the test API of comb/host_port.h. CAS uses C11 <stdatomic.h>.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "comb/host_port.h"
#include "comb/itm_uart.h"
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

void comb_host_reset(void)
{
    comb_transport_reset();
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
