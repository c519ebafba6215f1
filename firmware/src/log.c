/*
 * Log facade (comb/log.h): raw bytes and plain strings go to the transport as
 * they are; printf formats into a small stack buffer and hands it to the
 * transport in chunks, so the stack cost is fixed (COMB_LOG_CHUNK bytes)
 * whatever the length of the text. No heap. The formatter (log_format.c) is
 * reached only from the printf functions, so --gc-sections leaves it out of
 * images that do not call them.
 */
#include "comb/log.h"
#include "log_format.h"

/* Chunk buffer size: a multiple of 4, so that every full chunk goes out as
 * 4-byte packets (5 wire bytes per 4 characters). */
#ifndef COMB_LOG_CHUNK
#define COMB_LOG_CHUNK 32u
#endif
_Static_assert(COMB_LOG_CHUNK >= 4u && COMB_LOG_CHUNK % 4u == 0u, "COMB_LOG_CHUNK: multiple of 4");

void comb_log_write(unsigned port, const void *buf, size_t len)
{
    if (comb_log_enabled(port))
        comb_transport_write(port, buf, (uint32_t)len);
}

void comb_log_str(unsigned port, const char *s)
{
    if (!comb_log_enabled(port))
        return;
    uint32_t n = 0;
    while (s[n] != '\0') /* bounded by the string's NUL */
        n++;
    comb_transport_write(port, s, n);
}

static void flush_chunk(struct comb_fmt_sink *s)
{
    comb_transport_write(s->port, s->buf, s->len);
    s->len = 0u;
}

int comb_log_vprintf(unsigned port, const char *fmt, va_list ap)
{
    if (!comb_log_enabled(port))
        return 0;
    _Alignas(4) char chunk[COMB_LOG_CHUNK];
    struct comb_fmt_sink s = {chunk, COMB_LOG_CHUNK, 0u, 0u, flush_chunk, port};
    int n = comb_format(&s, fmt, ap);
    if (s.len != 0u)
        flush_chunk(&s);
    return n;
}

int comb_log_printf(unsigned port, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = comb_log_vprintf(port, fmt, ap);
    va_end(ap);
    return n;
}

bool comb_log_flush(void)
{
    return comb_transport_flush();
}
