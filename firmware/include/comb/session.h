/*
 * Session helper: the events that open and close a trace, and the end-of-run
 * handshake with the host.
 *
 *   comb_session_begin(core_hz, ts_hz);   SESSION_START (version, clocks, build id)
 *   ... trace, log ...
 *   if (comb_session_end(timeout)) ...    SESSION_END, flush, wait for COMB_HOST_ACK
 *
 * The host (`comb log`) answers SESSION_END with one COMB_HOST_ACK byte (0x06)
 * on the UART once it has decoded it: when the ack arrives, every byte before
 * SESSION_END has reached the host and the firmware may stop (QEMU loses the
 * tail of the output on some backends if it exits earlier).
 */
#ifndef COMB_SESSION_H
#define COMB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

/* Emit SESSION_START (on port 30, or 31 if 30 is disabled) with the protocol
 * version, the core clock, the rate of comb_trace_timestamp() and the build id
 * (comb_session_build_id()). */
void comb_session_begin(uint32_t core_hz, uint32_t ts_hz);

/* Emit SESSION_END, flush, then wait until the host sends COMB_HOST_ACK on the
 * UART or `timeout_ticks` ticks of comb_trace_timestamp() have passed (other
 * received bytes are ignored). Returns true when the ack came. Returns false
 * at once when ports 30 and 31 are both disabled (no SESSION_END, so no ack
 * can come), and also when the timestamp stops advancing for 2^24 polls.
 * QEMU delivers the first host-to-guest byte only ~1 s after start: allow
 * several seconds. */
bool comb_session_end(uint32_t timeout_ticks);

/* First 8 bytes of the GNU build-id note (ld --build-id=sha1), as a
 * little-endian 64-bit number: build_id_lo = bytes 0-3, build_id_hi = bytes
 * 4-7 of the note's descriptor. 0 when the image has no note (host builds). */
uint64_t comb_session_build_id(void);

#endif /* COMB_SESSION_H */
