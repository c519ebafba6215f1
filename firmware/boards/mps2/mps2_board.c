/*
 * Boards mps2-an385 (M3), mps2-an386 (M4F), mps2-an500 (M7) and mps2-an505
 * (M33), as emulated by QEMU (-M <board>). The addresses and the clock of
 * each FPGA image are in comb/mps2.h.
 *
 *   trace UART  CMSDK APB UART0, BAUDDIV 16 (the minimum: SYSCLK / 16 baud),
 *               8N1, TX and RX enabled, polled
 *   timestamp   CMSDK APB timer 0 on SYSCLK, free running from RELOAD
 *               0xFFFFFFFF; it counts down, so the timestamp is ~VALUE
 *   timer       CMSDK APB timer 1 (feature "timer", comb/board.h)
 *   exit        semihosting SYS_EXIT (QEMU needs -semihosting-config enable=on)
 *   interrupts  COMB_MPS2_IRQS external IRQs in the vector table (board.cmake)
 */
#include "../common/board_irq.h"

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/mps2.h"
#include "comb/port.h"
#include "comb/trace.h"

#define UART0 COMB_MPS2_UART0_BASE
#define TIMER0 COMB_MPS2_TIMER0_BASE
#define TIMER1 COMB_MPS2_TIMER1_BASE

_Static_assert(COMB_BOARD_TIMER_IRQ == COMB_MPS2_TIMER1_IRQ, "board.cmake and comb/mps2.h agree");

void comb_board_init(void)
{
    COMB_CMSDK_UART_BAUDDIV(UART0) = 16u;
    COMB_CMSDK_UART_CTRL(UART0) = COMB_CMSDK_UART_TX_EN | COMB_CMSDK_UART_RX_EN;
    COMB_CMSDK_TIMER_RELOAD(TIMER0) = 0xFFFFFFFFu; /* also loads VALUE */
    COMB_CMSDK_TIMER_CTRL(TIMER0) = COMB_CMSDK_TIMER_EN;
}

uint32_t comb_board_core_hz(void)
{
    return COMB_MPS2_SYSCLK_HZ;
}

uint32_t comb_board_ts_hz(void)
{
    return COMB_MPS2_SYSCLK_HZ;
}

bool comb_port_uart_tx(uint8_t byte)
{
    if (COMB_CMSDK_UART_STATE(UART0) & COMB_CMSDK_UART_TXFULL)
        return false;
    COMB_CMSDK_UART_DATA(UART0) = byte;
    return true;
}

int comb_port_uart_rx(void)
{
    if (!(COMB_CMSDK_UART_STATE(UART0) & COMB_CMSDK_UART_RXFULL))
        return -1;
    return (int)(COMB_CMSDK_UART_DATA(UART0) & 0xFFu);
}

uint32_t comb_trace_timestamp(void)
{
    return ~COMB_CMSDK_TIMER_VALUE(TIMER0);
}

_Noreturn void comb_port_exit(int status)
{
    comb_semihost_exit(status);
}

/* Timer 1 counts SYSCLK, the core clock: the period is RELOAD + 1 cycles
 * (it reloads on the 1 -> 0 transition that raises the interrupt). */
void comb_board_timer_start(uint32_t period_cycles, uint8_t priority)
{
    COMB_CMSDK_TIMER_CTRL(TIMER1) = 0u;
    COMB_CMSDK_TIMER_INTCLEAR(TIMER1) = 1u;
    COMB_CMSDK_TIMER_RELOAD(TIMER1) = period_cycles - 1u;
    comb_board_irq_enable(COMB_BOARD_TIMER_IRQ, priority);
    COMB_CMSDK_TIMER_CTRL(TIMER1) = COMB_CMSDK_TIMER_EN | COMB_CMSDK_TIMER_IRQEN;
}

void comb_board_timer_ack(void)
{
    COMB_CMSDK_TIMER_INTCLEAR(TIMER1) = 1u;
}

void comb_board_timer_stop(void)
{
    COMB_CMSDK_TIMER_CTRL(TIMER1) = 0u;
    COMB_CMSDK_TIMER_INTCLEAR(TIMER1) = 1u;
    comb_board_irq_disable(COMB_BOARD_TIMER_IRQ);
}

/* External interrupts, right after the core vectors (linker script):
 * COMB_MPS2_IRQ_BLOCKS blocks of 16 (board.cmake: 2 on AN385/AN386/AN500,
 * which have 32; 8 on AN505, whose IoTKit NVIC has 32 + 92). */
#define IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[])(void) = {
    COMB_IRQ_BLOCK_0(IRQ_ENTRY) COMB_IRQ_BLOCK_1(IRQ_ENTRY)
#if COMB_MPS2_IRQ_BLOCKS > 2
    COMB_IRQ_BLOCK_2(IRQ_ENTRY) COMB_IRQ_BLOCK_3(IRQ_ENTRY) COMB_IRQ_BLOCK_4(IRQ_ENTRY)
    COMB_IRQ_BLOCK_5(IRQ_ENTRY) COMB_IRQ_BLOCK_6(IRQ_ENTRY) COMB_IRQ_BLOCK_7(IRQ_ENTRY)
#endif
};
