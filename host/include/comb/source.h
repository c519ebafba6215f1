/*
 * Byte sources for capture: where the ITM stream comes from.
 *
 *   serial:DEV[@BAUD]  a USB-UART or any tty (libserialport; ptys through termios2), 8N1, raw,
 *                      BAUD default 115200, non-standard rates included; DEV may be a
 *                      symlink (/dev/serial/by-id/...); stale bytes are drained on open;
 *                      the tty is taken for exclusive use (flock + TIOCEXCL), a second
 *                      open fails as "busy"; a hang-up (unplug) is the end of the stream
 *   ftdi:[VID:PID[:IF]][/SERIAL][@BAUD]
 *                      an FTDI USB-UART through libftdi1 (FT232H/FT2232H up to 12 Mbaud),
 *                      asynchronous bulk reads (source_devices.h)
 *   bmp:[SERIAL]       a Black Magic Probe's trace capture USB endpoint (libusb)
 *   file:PATH          a regular file (or fifo), read to its end
 *   -                  standard input
 *   tcp:HOST:PORT      a TCP server (OpenOCD/J-Link SWO port, orbuculum, QEMU -serial tcp:...)
 *   unix:PATH          a Unix-domain stream socket (QEMU -chardev socket,path=...)
 *
 * Sources that can talk back (serial, ftdi, tcp, unix) accept writes: the capture
 * acknowledges the firmware's SESSION_END so it may exit without losing bytes.
 * Errors come back as a one-line message in `err`, naming the source.
 */
#ifndef COMB_SOURCE_H
#define COMB_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct comb_source comb_source;

/* Returns 0 and *out on success; -1 with a message in err otherwise. */
int comb_source_open(const char *spec, comb_source **out, char *err, size_t errlen);

/* Waits up to timeout_ms (-1 = forever) for bytes. Returns the number read
 * (> 0), 0 on timeout or EINTR, -1 at end of stream (peer closed, end of file,
 * device gone), -2 on error (message in err). */
ssize_t comb_source_read(comb_source *src, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);

/* Writes all of buf; -1 if the source cannot be written to or the write failed. */
int comb_source_write(comb_source *src, const void *buf, size_t n);

/* Loss below the decoder that a source can see (itm-protocol.md section 4):
 * layer (b), what the adapter reports (FTDI line status), and layer (c), bytes
 * the host dropped because it did not read fast enough. Zero for sources that
 * cannot tell. */
typedef struct comb_source_link_stats {
    uint64_t overruns;     /* adapter receive overruns (FTDI OE)            */
    uint64_t line_errors;  /* parity/framing errors and breaks              */
    uint64_t host_dropped; /* bytes dropped by comb's own buffer when full  */
} comb_source_link_stats;

void comb_source_link_stats_get(const comb_source *src, comb_source_link_stats *out);

/* The spec it was opened with. */
const char *comb_source_spec(const comb_source *src);

void comb_source_close(comb_source *src);

#endif
