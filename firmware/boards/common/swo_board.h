/*
 * What the hardware boards traced over SWO (bluepill, nucleo-f429zi,
 * nrf52840-dk) share, in swo_board.c: the clock they report, no receive
 * path, and an exit for a board with no debugger. Internal to
 * firmware/boards: compiled into every board that lists swo_board.c in its
 * SOURCES.
 *
 *   comb_board_core_hz / comb_board_ts_hz   comb_swo_board_hz (the timestamp
 *                                           is CYCCNT: the core clock)
 *   comb_port_uart_rx                       -1: nothing is ever received, so
 *                                           comb_session_end waits its timeout
 *   comb_port_exit                          flush the trace, then sleep (WFI)
 *                                           forever: without a debugger there
 *                                           is no semihosting, and its BKPT
 *                                           would fault
 */
#ifndef COMB_SWO_BOARD_H
#define COMB_SWO_BOARD_H

#include <stdbool.h>
#include <stdint.h>

/* SWO bit rate (board.cmake passes the COMB_SWO_BAUD cache variable). */
#ifndef COMB_SWO_BAUD
#define COMB_SWO_BAUD 2000000u
#endif

/* The core clock, Hz: set by the board's comb_board_init once the clocks run. */
extern uint32_t comb_swo_board_hz;

/* Clock bring-up: wait until (*reg & mask) == want, at most `polls` reads.
 * False when the bound ran out (the board then falls back to a slower clock). */
bool comb_swo_board_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t polls);

#endif
