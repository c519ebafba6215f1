/*
 * The trace transport: how one ITM software-source packet leaves the chip.
 * Exactly one transport is linked into an image, chosen at build time:
 *   - itm_uart.c: software ITM framing over a UART (Cortex-M0, QEMU), with
 *     periodic sync packets and an overflow packet after drops (comb/itm_uart.h);
 *   - itm_swo.c + swo_setup.c: the ITM stimulus ports, SWO in NRZ mode
 *     (Mainline cores, comb/swo.h).
 * The log facade, the heap tracer and the scheduler tracer all sit on this.
 *
 * Contract for every function here:
 *   - callable from thread mode and from any interrupt priority, nested;
 *   - a packet (1, 2 or 4 payload bytes) is emitted whole: packets of a
 *     preempting interrupt come before or after it, never inside it;
 *   - no interrupt masking while waiting for the wire; every wait is bounded
 *     (see the implementation for the bound);
 *   - on a full transport the packet is dropped and counted, and the stream
 *     carries an ITM overflow packet (0x70) before the next packet that gets out.
 */
#ifndef COMB_TRANSPORT_H
#define COMB_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

/* Bit n set = port n enabled. On the UART transport it is this RAM word
 * (default: all ports, see comb_transport_init); on ITM it mirrors ITM_TER. */
extern volatile uint32_t comb_transport_port_mask;

/* One load and one test: the cost of a disabled port. */
static inline bool comb_transport_enabled(unsigned port)
{
    return (comb_transport_port_mask >> (port & 31u)) & 1u;
}

/* Emit one SWIT packet on `port` (0-31) carrying the low `size` bytes (1, 2 or
 * 4) of `value`, little-endian on the wire. Does not check the port mask:
 * callers test comb_transport_enabled() first so a disabled port costs nothing. */
void comb_transport_swit(unsigned port, unsigned size, uint32_t value);

/* Emit `len` bytes on `port` as a sequence of packets (words where aligned, as
 * the ITM does). Not atomic as a whole: a preempting writer may interleave
 * between packets. */
void comb_transport_write(unsigned port, const void *bytes, uint32_t len);

/* Push everything queued out to the wire (bounded wait, documented in the
 * implementation). Returns false if bytes were still queued at the bound. */
bool comb_transport_flush(void);

/* Packets dropped since start (transport full). */
uint32_t comb_transport_dropped(void);

/* Default distance between sync packets (UART: bytes of stream; ITM: any
 * non-zero value means the hardware's periodic syncs, see comb/swo.h). */
#define COMB_TRANSPORT_SYNC_DEFAULT 1024u

/* Set the enabled ports (bit n = port n) and the sync interval. UART: in
 * bytes, a power of two (others are rounded down; values 1..31 become 32), or
 * 0 for no sync packets at all; without this call: all 32 ports, 1024 bytes.
 * Call before the first packet (or while no writer can run): it does not
 * touch the ring, so it may also be called later to change the mask.
 * ITM/SWO: see comb/swo.h. */
void comb_transport_init(uint32_t port_mask, uint32_t sync_interval);

/* Back to the power-on state (counters zero, defaults; UART: empty ring;
 * ITM/SWO: every port off until comb_swo_init). For unit tests and
 * re-initialisation; never while a writer may be running. */
void comb_transport_reset(void);

/* For fatal-error handlers that will never return to the code they
 * interrupted: forget the in-flight state of the preempted writers and
 * drainer (nesting count, drain flag), publish everything reserved so far, and
 * make sure port 1 (stderr) is enabled, so the handler can still print and
 * flush. Bytes a preempted writer had not copied yet go out as whatever the
 * ring held. (ITM/SWO has no such state: it only enables port 1.) */
void comb_transport_panic(void);

#endif /* COMB_TRANSPORT_H */
