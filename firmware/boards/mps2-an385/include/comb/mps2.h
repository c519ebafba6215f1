/*
 * mps2-an385/an386/an500 peripherals the board and the QEMU test examples use
 * (QEMU hw/arm/mps2.c; ../shared/reference/qemu.md section 7). All on the
 * 25 MHz SYSCLK.
 */
#ifndef COMB_MPS2_H
#define COMB_MPS2_H

#include <stdint.h>

/* CMSDK APB timers: 32-bit down-counters; the interrupt fires on 1 -> 0. */
#define COMB_MPS2_TIMER0_BASE 0x40000000u /* comb's timestamp source */
#define COMB_MPS2_TIMER1_BASE 0x40001000u
#define COMB_MPS2_TIMER1_IRQ  9u
#define COMB_CMSDK_TIMER_CTRL(base)     (*(volatile uint32_t *)((base) + 0x00u)) /* bit 0 EN, bit 3 IRQEN */
#define COMB_CMSDK_TIMER_VALUE(base)    (*(volatile uint32_t *)((base) + 0x04u))
#define COMB_CMSDK_TIMER_RELOAD(base)   (*(volatile uint32_t *)((base) + 0x08u)) /* also loads VALUE */
#define COMB_CMSDK_TIMER_INTCLEAR(base) (*(volatile uint32_t *)((base) + 0x0Cu)) /* write 1 to clear */
#define COMB_CMSDK_TIMER_EN    1u
#define COMB_CMSDK_TIMER_IRQEN 8u

#endif
