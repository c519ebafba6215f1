/*
 * Log facade: text and raw values on ITM stimulus ports, over the linked
 * transport (comb/transport.h). Port 0 = stdout, port 1 = stderr
 * (COMB_PORT_STDOUT / COMB_PORT_STDERR), 2-29 free for the application.
 *
 * Callable from thread mode and any interrupt, nested; no heap, no interrupt
 * masking. comb_log_u8/u16/u32 emit exactly one packet each (atomic on the
 * wire); text is sent as a sequence of packets that a preempting writer may
 * interleave with on other ports (the host reassembles per port) or, on the
 * same port, between packets.
 */
#ifndef COMB_LOG_H
#define COMB_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/trace_protocol.h"
#include "comb/transport.h"

#if defined(__GNUC__)
#define COMB_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define COMB_PRINTF_LIKE(f, a)
#endif

/* One load and one test. */
static inline bool comb_log_enabled(unsigned port)
{
    return comb_transport_enabled(port);
}

/* One 1-, 2- or 4-byte packet carrying v, if the port is enabled. */
static inline void comb_log_u8(unsigned port, uint8_t v)
{
    if (comb_log_enabled(port))
        comb_transport_swit(port, 1u, v);
}
static inline void comb_log_u16(unsigned port, uint16_t v)
{
    if (comb_log_enabled(port))
        comb_transport_swit(port, 2u, v);
}
static inline void comb_log_u32(unsigned port, uint32_t v)
{
    if (comb_log_enabled(port))
        comb_transport_swit(port, 4u, v);
}

/* Raw bytes (4-byte packets where the buffer is word aligned, else 1-byte). */
void comb_log_write(unsigned port, const void *buf, size_t len);

/* NUL-terminated text on `port`, as is: no formatting, so an image that logs
 * only with this (and comb_log_write) does not link the printf formatter
 * (about 1.5 KB on Cortex-M3). Nothing is read from `s` when the port is
 * disabled. */
void comb_log_str(unsigned port, const char *s);

#define comb_print(s)  comb_log_str(COMB_PORT_STDOUT, (s))
#define comb_eprint(s) comb_log_str(COMB_PORT_STDERR, (s))

/* printf-style text on `port`; returns the number of characters produced
 * (0 when the port is disabled: nothing is formatted then). See
 * src/log_format.c for the conversions supported. */
int comb_log_printf(unsigned port, const char *fmt, ...) COMB_PRINTF_LIKE(2, 3);
int comb_log_vprintf(unsigned port, const char *fmt, va_list ap) COMB_PRINTF_LIKE(2, 0);

#define comb_printf(...)  comb_log_printf(COMB_PORT_STDOUT, __VA_ARGS__)
#define comb_eprintf(...) comb_log_printf(COMB_PORT_STDERR, __VA_ARGS__)

/* Push everything queued to the wire (bounded); false if bytes remain. */
bool comb_log_flush(void);

/* The formatter itself, into a buffer, C99 snprintf semantics: writes at most
 * n - 1 characters plus a NUL (when n > 0), returns the full length. */
int comb_snprintf(char *buf, size_t n, const char *fmt, ...) COMB_PRINTF_LIKE(3, 4);
int comb_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap) COMB_PRINTF_LIKE(3, 0);

#endif /* COMB_LOG_H */
