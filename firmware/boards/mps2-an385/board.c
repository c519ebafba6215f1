/*
 * Board: ARM MPS2 AN385 (Cortex-M3), as emulated by QEMU (-M mps2-an385).
 *
 *   trace UART  CMSDK APB UART0 at 0x40004000, BAUDDIV 16 (the minimum:
 *               25 MHz / 16 = 1.5625 Mbaud), 8N1, TX and RX enabled, polled
 *   timestamp   CMSDK APB timer 0 at 0x40000000, 25 MHz, free running from
 *               RELOAD 0xFFFFFFFF; it counts down, so the timestamp is ~VALUE
 *   exit        semihosting SYS_EXIT (QEMU needs -semihosting-config enable=on)
 *   interrupts  32 external IRQs (UART0 RX 0 / TX 1, timer0 8, timer1 9, ...)
 */
#include "comb/board.h"
#include "comb/mps2.h"
#include "comb/cortex_m.h"
#include "comb/port.h"
#include "comb/trace.h"

#define CORE_HZ 25000000u

/* CMSDK APB UART */
#define UART0_BASE    0x40004000u
#define UART_DATA     (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE    (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL     (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV  (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TXFULL 1u
#define UART_STATE_RXFULL 2u
#define UART_CTRL_TX_EN   1u
#define UART_CTRL_RX_EN   2u

/* CMSDK APB timer */
#define TIMER_CTRL    COMB_CMSDK_TIMER_CTRL(COMB_MPS2_TIMER0_BASE)
#define TIMER_VALUE   COMB_CMSDK_TIMER_VALUE(COMB_MPS2_TIMER0_BASE)
#define TIMER_RELOAD  COMB_CMSDK_TIMER_RELOAD(COMB_MPS2_TIMER0_BASE)
#define TIMER_CTRL_EN COMB_CMSDK_TIMER_EN

void comb_board_init(void)
{
    UART_BAUDDIV = 16u;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;
    TIMER_RELOAD = 0xFFFFFFFFu; /* also loads VALUE */
    TIMER_CTRL = TIMER_CTRL_EN;
}

uint32_t comb_board_core_hz(void)
{
    return CORE_HZ;
}

uint32_t comb_board_ts_hz(void)
{
    return CORE_HZ;
}

bool comb_port_uart_tx(uint8_t byte)
{
    if (UART_STATE & UART_STATE_TXFULL)
        return false;
    UART_DATA = byte;
    return true;
}

int comb_port_uart_rx(void)
{
    if (!(UART_STATE & UART_STATE_RXFULL))
        return -1;
    return (int)(UART_DATA & 0xFFu);
}

uint32_t comb_trace_timestamp(void)
{
    return ~TIMER_VALUE;
}

_Noreturn void comb_port_exit(int status)
{
    comb_semihost_exit(status);
}

/* External interrupts 0-31, right after the core vectors (linker script). */
#define COMB_IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[32])(void) = {
    COMB_IRQ_BLOCK_0(COMB_IRQ_ENTRY) COMB_IRQ_BLOCK_1(COMB_IRQ_ENTRY)};
