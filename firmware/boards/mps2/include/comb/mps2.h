/*
 * The MPS2 FPGA images comb runs on in QEMU, and the CMSDK peripherals their
 * boards use (QEMU hw/arm/mps2.c and hw/arm/mps2-tz.c + armsse.c; see
 * docs/firmware.md, "Boards"):
 *
 *   AN385 (M3), AN386 (M4F), AN500 (M7)   one memory map and peripheral set,
 *                                         25 MHz; AN500 moves the PSRAM, unused
 *   AN505 (M33, TrustZone)                comb_add_board defines COMB_MPS2_AN505;
 *                                         20 MHz; QEMU boots it in Secure state,
 *                                         so everything is reached through the
 *                                         Secure aliases (address bit 28 set)
 *
 * Every peripheral here is on the board's SYSCLK (COMB_MPS2_SYSCLK_HZ).
 */
#ifndef COMB_MPS2_H
#define COMB_MPS2_H

#include <stdint.h>

#if defined(COMB_MPS2_AN505)
#define COMB_MPS2_SYSCLK_HZ   20000000u
#define COMB_MPS2_UART0_BASE  0x50200000u /* APB expansion PPC 1, Secure alias of 0x40200000 */
#define COMB_MPS2_TIMER0_BASE 0x50000000u /* IoTKit timer 0, Secure alias of 0x40000000 */
#define COMB_MPS2_TIMER1_BASE 0x50001000u
#define COMB_MPS2_TIMER1_IRQ  4u
#else
#define COMB_MPS2_SYSCLK_HZ   25000000u
#define COMB_MPS2_UART0_BASE  0x40004000u
#define COMB_MPS2_TIMER0_BASE 0x40000000u
#define COMB_MPS2_TIMER1_BASE 0x40001000u
#define COMB_MPS2_TIMER1_IRQ  9u
#endif

/* Timer 0 is comb's timestamp source (free running); timer 1 is the board's
 * example timer (comb_board_timer_*, comb/board.h). */

/* CMSDK APB timers: 32-bit down-counters; the interrupt fires on 1 -> 0. */
#define COMB_CMSDK_TIMER_CTRL(base)     (*(volatile uint32_t *)((base) + 0x00u)) /* bit 0 EN, bit 3 IRQEN */
#define COMB_CMSDK_TIMER_VALUE(base)    (*(volatile uint32_t *)((base) + 0x04u))
#define COMB_CMSDK_TIMER_RELOAD(base)   (*(volatile uint32_t *)((base) + 0x08u)) /* also loads VALUE */
#define COMB_CMSDK_TIMER_INTCLEAR(base) (*(volatile uint32_t *)((base) + 0x0Cu)) /* write 1 to clear */
#define COMB_CMSDK_TIMER_EN    1u
#define COMB_CMSDK_TIMER_IRQEN 8u

/* CMSDK APB UART: 8N1, baud = SYSCLK / BAUDDIV (BAUDDIV >= 16). */
#define COMB_CMSDK_UART_DATA(base)    (*(volatile uint32_t *)((base) + 0x00u))
#define COMB_CMSDK_UART_STATE(base)   (*(volatile uint32_t *)((base) + 0x04u)) /* bit 0 TXFULL, 1 RXFULL */
#define COMB_CMSDK_UART_CTRL(base)    (*(volatile uint32_t *)((base) + 0x08u)) /* bit 0 TX_EN, bit 1 RX_EN */
#define COMB_CMSDK_UART_BAUDDIV(base) (*(volatile uint32_t *)((base) + 0x10u))
#define COMB_CMSDK_UART_TXFULL 1u
#define COMB_CMSDK_UART_RXFULL 2u
#define COMB_CMSDK_UART_TX_EN  1u
#define COMB_CMSDK_UART_RX_EN  2u

#endif
