/*
 * Board interface: what an example's main() may call, whatever the board.
 * Each board (firmware/boards/<name>/, docs/firmware.md "Boards") implements
 * these, plus the board hooks of comb/port.h (UART byte I/O,
 * comb_trace_timestamp, exit).
 */
#ifndef COMB_BOARD_H
#define COMB_BOARD_H

#include <stdint.h>

/* Clocks, the trace UART, the timestamp counter. Call first thing in main(). */
void comb_board_init(void);

/* Core clock and rate of comb_trace_timestamp(), in Hz (for SESSION_START). */
uint32_t comb_board_core_hz(void);
uint32_t comb_board_ts_hz(void);

/*
 * Interrupt sources for examples and tests, on boards that list the feature
 * in comb_add_board(... FEATURES ...); an example that uses them says
 * comb_add_example(... REQUIRES timer swi) and is built for those boards only.
 * The board's board.cmake defines the IRQ numbers (plain decimal, e.g.
 * COMB_BOARD_TIMER_IRQ=9); the handlers are ordinary IRQn_Handler functions,
 * named here so that examples need not know the numbers:
 *
 *   void COMB_BOARD_TIMER_HANDLER(void) { comb_board_timer_ack(); ... }
 *   comb_board_timer_start(613u, 0x40u);
 *
 * Priorities are NVIC priority bytes (0x00 highest). ARMv6-M keeps only the
 * top 2 bits, most Mainline parts 3 or 4: use values that differ in the top
 * 2 bits to be portable.
 */
#define COMB_BOARD__IRQ_HANDLER(n)  COMB_BOARD__IRQ_HANDLER_(n)
#define COMB_BOARD__IRQ_HANDLER_(n) IRQ##n##_Handler

/* Feature "timer": a hardware timer of its own (not the timestamp source)
 * interrupting every `period_cycles` core clock cycles (comb_board_core_hz;
 * every board takes 100 to 2^24) at NVIC priority `priority`. Thread mode; start/stop are not
 * reentrant. The handler must call comb_board_timer_ack() (clears the
 * timer's interrupt flag: one or two stores). */
#if defined(COMB_BOARD_TIMER_IRQ)
#define COMB_BOARD_TIMER_HANDLER COMB_BOARD__IRQ_HANDLER(COMB_BOARD_TIMER_IRQ)
#endif
void comb_board_timer_start(uint32_t period_cycles, uint8_t priority);
void comb_board_timer_ack(void);
void comb_board_timer_stop(void); /* stops, disables and un-pends the interrupt */

/* Feature "swi": an interrupt line no peripheral drives, for software
 * interrupts. enable/disable from thread mode; pend from any context (one
 * store: the handler runs at once if its priority is above the current one). */
#if defined(COMB_BOARD_SWI_IRQ)
#define COMB_BOARD_SWI_HANDLER COMB_BOARD__IRQ_HANDLER(COMB_BOARD_SWI_IRQ)
#endif
void comb_board_swi_enable(uint8_t priority);
void comb_board_swi_pend(void);
void comb_board_swi_disable(void);

#endif /* COMB_BOARD_H */
