/*
 * The software-ITM-over-UART transport (src/itm_uart.c): its configuration.
 * Its calls (comb_transport_init/reset/panic included) are the generic ones
 * of comb/transport.h.
 *
 * Build-time knobs (define on the compiler command line):
 *   COMB_UART_RING_SIZE  ring buffer bytes, power of two >= 32 (default 256)
 *   COMB_UART_TX_SPIN    polls of the UART per byte before a drain gives up
 *                        (default 100000; see itm_uart.c for the bounds)
 */
#ifndef COMB_ITM_UART_H
#define COMB_ITM_UART_H

#include <stdint.h>

#include "comb/transport.h"

#endif /* COMB_ITM_UART_H */
