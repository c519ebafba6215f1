/*
 * The software-ITM-over-UART transport (src/itm_uart.c): configuration and the
 * calls beyond the generic comb/transport.h interface.
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

/* Default distance between sync packets, in bytes of stream. */
#define COMB_TRANSPORT_SYNC_DEFAULT 1024u

/* Set the enabled ports (bit n = port n) and the sync interval in bytes: a
 * power of two (others are rounded down; values 1..31 become 32), or 0 for no
 * sync packets at all. Without this call: all 32 ports, 1024 bytes.
 * Call before the first packet (or while no writer can run): it does not
 * touch the ring, so it may also be called later to change the mask. */
void comb_transport_init(uint32_t port_mask, uint32_t sync_interval);

/* Back to the power-on state (empty ring, counters zero, defaults). For unit
 * tests and re-initialisation; never while a writer may be running. */
void comb_transport_reset(void);

/* For fatal-error handlers that will never return to the code they
 * interrupted: forget the in-flight state of the preempted writers and
 * drainer (nesting count, drain flag), publish everything reserved so far, and
 * make sure port 1 (stderr) is enabled, so the handler can still print and
 * flush. Bytes a preempted writer had not copied yet go out as whatever the
 * ring held. */
void comb_transport_panic(void);

#endif /* COMB_ITM_UART_H */
