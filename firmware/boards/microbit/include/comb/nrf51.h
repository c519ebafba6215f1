/*
 * nRF51 peripherals the microbit board uses (nRF51 Series Reference Manual
 * v3.0: UART chapter 29, TIMER chapter 18; QEMU hw/arm/nrf51_soc.c,
 * hw/char/nrf51_uart.c, hw/timer/nrf51_timer.c). Tasks are triggered by
 * writing 1; events read 1 when they happened and are cleared by writing 0.
 * Peripheral n at 0x40000000 + 0x1000 n has IRQ n.
 */
#ifndef COMB_NRF51_H
#define COMB_NRF51_H

#include <stdint.h>

#define COMB_NRF51_REG(base, off) (*(volatile uint32_t *)((base) + (off)))

/* UART0 */
#define COMB_NRF51_UART0_BASE      0x40002000u
#define COMB_NRF51_UART_STARTRX    0x000u /* task */
#define COMB_NRF51_UART_STARTTX    0x008u /* task */
#define COMB_NRF51_UART_RXDRDY     0x108u /* event: a byte is in RXD */
#define COMB_NRF51_UART_TXDRDY     0x11Cu /* event: the byte written to TXD has gone */
#define COMB_NRF51_UART_ENABLE     0x500u /* 4: enabled */
#define COMB_NRF51_UART_PSELTXD    0x50Cu
#define COMB_NRF51_UART_PSELRXD    0x514u
#define COMB_NRF51_UART_RXD        0x518u /* reading takes the byte */
#define COMB_NRF51_UART_TXD        0x51Cu
#define COMB_NRF51_UART_BAUDRATE   0x524u
#define COMB_NRF51_UART_ENABLED    4u
#define COMB_NRF51_UART_1M         0x10000000u /* BAUDRATE: 1 Mbaud */

/* TIMER0 (32-bit capable), TIMER1 and TIMER2 (16-bit at most on the chip) */
#define COMB_NRF51_TIMER0_BASE     0x40008000u
#define COMB_NRF51_TIMER1_BASE     0x40009000u
#define COMB_NRF51_TIMER1_IRQ      9u
#define COMB_NRF51_TIMER_START     0x000u /* task */
#define COMB_NRF51_TIMER_STOP      0x004u /* task */
#define COMB_NRF51_TIMER_CLEAR     0x00Cu /* task */
#define COMB_NRF51_TIMER_CAPTURE(n) (0x040u + 4u * (n)) /* task: CC[n] = counter */
#define COMB_NRF51_TIMER_COMPARE(n) (0x140u + 4u * (n)) /* event: counter reached CC[n] */
#define COMB_NRF51_TIMER_SHORTS    0x200u /* bit n: COMPARE[n] -> CLEAR */
#define COMB_NRF51_TIMER_INTENSET  0x304u /* bit 16 + n: COMPARE[n] */
#define COMB_NRF51_TIMER_INTENCLR  0x308u
#define COMB_NRF51_TIMER_MODE      0x504u /* 0: timer */
#define COMB_NRF51_TIMER_BITMODE   0x508u /* 0: 16, 1: 8, 2: 24, 3: 32 bits */
#define COMB_NRF51_TIMER_PRESCALER 0x510u /* counts at 16 MHz >> PRESCALER (0-9) */
#define COMB_NRF51_TIMER_CC(n)     (0x540u + 4u * (n))
#define COMB_NRF51_TIMER_HZ        16000000u

#endif
