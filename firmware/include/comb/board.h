/*
 * Board interface: what an example's main() may call, whatever the board.
 * Each board (firmware/boards/<name>/board.c) implements these, plus the
 * board hooks of comb/port.h (UART byte I/O, comb_trace_timestamp, exit).
 */
#ifndef COMB_BOARD_H
#define COMB_BOARD_H

#include <stdint.h>

/* Clocks, the trace UART, the timestamp counter. Call first thing in main(). */
void comb_board_init(void);

/* Core clock and rate of comb_trace_timestamp(), in Hz (for SESSION_START). */
uint32_t comb_board_core_hz(void);
uint32_t comb_board_ts_hz(void);

#endif /* COMB_BOARD_H */
