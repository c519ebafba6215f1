/*
 * Board: BBC micro:bit v1 (nRF51822, Cortex-M0 at 16 MHz), as emulated by
 * QEMU (-M microbit). ARMv6-M: no LDREX/STREX, so the port's CAS and the
 * allocator's free lists run their PRIMASK sections here (comb/port_atomic.h).
 *
 *   trace UART  UART0 at 0x40002000, 1 Mbaud 8N1 (TXD P0.24, RXD P0.25 on the
 *               micro:bit's USB bridge), TX and RX started, polled
 *   timestamp   TIMER0, 32-bit, prescaler 0: 16 MHz, free running; read by
 *               capturing into CC[0]
 *   timer       TIMER1 (16-bit, IRQ 9), compare 0 with clear (feature "timer")
 *   swi         SWI0 (IRQ 20): a line reserved for software interrupts
 *   exit        semihosting SYS_EXIT (QEMU needs -semihosting-config enable=on)
 *   interrupts  32 external IRQs
 *
 * QEMU also models a SysTick, which the real nRF51 does not have: the test
 * examples that use SysTick run in QEMU only.
 */
#include <stdbool.h>

#include "../common/board_irq.h"

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/nrf51.h"
#include "comb/port.h"
#include "comb/trace.h"

#define UART(off)   COMB_NRF51_REG(COMB_NRF51_UART0_BASE, off)
#define TIMER0(off) COMB_NRF51_REG(COMB_NRF51_TIMER0_BASE, off)
#define TIMER1(off) COMB_NRF51_REG(COMB_NRF51_TIMER1_BASE, off)

_Static_assert(COMB_BOARD_TIMER_IRQ == COMB_NRF51_TIMER1_IRQ, "board.cmake and comb/nrf51.h agree");

#define CORE_HZ 16000000u
#define PIN_TXD 24u
#define PIN_RXD 25u

/* A byte has been written to TXD since start-up: from then on TXDRDY tells
 * whether TXD can take the next one. Only the transport's drain-flag holder
 * calls comb_port_uart_tx, one at a time, so a plain flag is enough. */
static bool tx_used;

void comb_board_init(void)
{
    UART(COMB_NRF51_UART_PSELTXD) = PIN_TXD;
    UART(COMB_NRF51_UART_PSELRXD) = PIN_RXD;
    UART(COMB_NRF51_UART_BAUDRATE) = COMB_NRF51_UART_1M;
    UART(COMB_NRF51_UART_ENABLE) = COMB_NRF51_UART_ENABLED;
    UART(COMB_NRF51_UART_STARTTX) = 1u;
    UART(COMB_NRF51_UART_STARTRX) = 1u;

    TIMER0(COMB_NRF51_TIMER_MODE) = 0u;
    TIMER0(COMB_NRF51_TIMER_BITMODE) = 3u; /* 32 bits */
    TIMER0(COMB_NRF51_TIMER_PRESCALER) = 0u;
    TIMER0(COMB_NRF51_TIMER_CLEAR) = 1u;
    TIMER0(COMB_NRF51_TIMER_START) = 1u;
}

uint32_t comb_board_core_hz(void)
{
    return CORE_HZ;
}

uint32_t comb_board_ts_hz(void)
{
    return COMB_NRF51_TIMER_HZ;
}

bool comb_port_uart_tx(uint8_t byte)
{
    if (tx_used && !UART(COMB_NRF51_UART_TXDRDY))
        return false;
    UART(COMB_NRF51_UART_TXDRDY) = 0u;
    UART(COMB_NRF51_UART_TXD) = byte;
    tx_used = true;
    return true;
}

int comb_port_uart_rx(void)
{
    if (!UART(COMB_NRF51_UART_RXDRDY))
        return -1;
    /* clear first: reading RXD raises RXDRDY again when more bytes wait */
    UART(COMB_NRF51_UART_RXDRDY) = 0u;
    return (int)(UART(COMB_NRF51_UART_RXD) & 0xFFu);
}

/* Capture and read: two accesses. An interrupt between them that reads the
 * timestamp too captures a later value into the same CC[0], which we then
 * read: the result is still a time between this call's start and its end. */
uint32_t comb_trace_timestamp(void)
{
    TIMER0(COMB_NRF51_TIMER_CAPTURE(0)) = 1u;
    return TIMER0(COMB_NRF51_TIMER_CC(0));
}

_Noreturn void comb_port_exit(int status)
{
    comb_semihost_exit(status);
}

/* TIMER1 is 16-bit on the nRF51: periods above 65535 cycles count at a
 * prescaled rate (16 MHz >> p) and lose their low bits. With COMPARE[0] ->
 * CLEAR the counter runs 0 .. CC[0]: one period is CC[0] ticks. */
void comb_board_timer_start(uint32_t period_cycles, uint8_t priority)
{
    uint32_t prescaler = 0u;
    while (period_cycles > 0xFFFFu && prescaler < 9u) { /* at most 9 rounds */
        period_cycles >>= 1;
        prescaler++;
    }
    TIMER1(COMB_NRF51_TIMER_STOP) = 1u;
    TIMER1(COMB_NRF51_TIMER_MODE) = 0u;
    TIMER1(COMB_NRF51_TIMER_BITMODE) = 0u; /* 16 bits */
    TIMER1(COMB_NRF51_TIMER_PRESCALER) = prescaler;
    TIMER1(COMB_NRF51_TIMER_CC(0)) = period_cycles > 0xFFFFu ? 0xFFFFu : period_cycles;
    TIMER1(COMB_NRF51_TIMER_SHORTS) = 1u; /* COMPARE[0] -> CLEAR: periodic */
    TIMER1(COMB_NRF51_TIMER_COMPARE(0)) = 0u;
    TIMER1(COMB_NRF51_TIMER_INTENSET) = 1u << 16;
    TIMER1(COMB_NRF51_TIMER_CLEAR) = 1u;
    comb_board_irq_enable(COMB_BOARD_TIMER_IRQ, priority);
    TIMER1(COMB_NRF51_TIMER_START) = 1u;
}

void comb_board_timer_ack(void)
{
    TIMER1(COMB_NRF51_TIMER_COMPARE(0)) = 0u;
    /* read back: the clear must reach the peripheral before the handler
     * returns, or the still-high line pends the interrupt again */
    (void)TIMER1(COMB_NRF51_TIMER_COMPARE(0));
}

void comb_board_timer_stop(void)
{
    TIMER1(COMB_NRF51_TIMER_STOP) = 1u;
    TIMER1(COMB_NRF51_TIMER_INTENCLR) = 1u << 16;
    TIMER1(COMB_NRF51_TIMER_COMPARE(0)) = 0u;
    comb_board_irq_disable(COMB_BOARD_TIMER_IRQ);
}

/* External interrupts 0-31, right after the core vectors (linker script). */
#define IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[32])(void) = {
    COMB_IRQ_BLOCK_0(IRQ_ENTRY) COMB_IRQ_BLOCK_1(IRQ_ENTRY)};
