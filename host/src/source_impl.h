/* Private: the vtable every source backend fills in. */
#ifndef COMB_SOURCE_IMPL_H
#define COMB_SOURCE_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "comb/source.h"

struct comb_source {
    char spec[512];
    int fd;
    bool is_regular;
    void *impl; /* backend-private (libserialport port) */
    ssize_t (*read)(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);
    int (*write)(comb_source *s, const void *buf, size_t n);
    void (*close)(comb_source *s);
    void (*link_stats)(const comb_source *s, comb_source_link_stats *out); /* may be NULL */
};

int comb_source_open_serial(comb_source *s, const char *arg, char *err, size_t errlen);
/* dev: as the user wrote it (for messages); path: what to open (symlinks resolved). */
int comb_source_open_termios(comb_source *s, const char *dev, const char *path, unsigned baud, char *err,
                             size_t errlen);

/* Read of every fd-backed source, ttys from libserialport included (source.h
 * semantics): poll, then read; a hang-up (POLLHUP/POLLERR, or read() giving 0
 * or EIO) is the end of the stream, so an unplugged adapter ends the capture. */
ssize_t comb_source_fd_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);

/* ---- ttys (serial:) ---- */
/* Exclusive use of an open tty: flock(LOCK_EX|LOCK_NB) plus TIOCEXCL. -1 with
 * "serial:DEV: busy (another program has it open)" when another holds it. */
int comb_tty_claim(int fd, const char *dev, char *err, size_t errlen);
/* Drops TIOCEXCL before close (the lock goes with the fd). */
void comb_tty_release(int fd);
/* The one-line message for a failed open() of serial:DEV (EBUSY: busy). */
void comb_serial_open_message(char *err, size_t errlen, const char *dev, int code);
/* Raw 8N1 at any rate (termios2, BOTHER), input flushed. 0, with the rate the
 * driver actually set in *actual; -1 with errno when the tty refused. */
int comb_tty_configure(int fd, unsigned baud, unsigned *actual);
int comb_source_open_ftdi(comb_source *s, const char *arg, char *err, size_t errlen);
int comb_source_open_bmp(comb_source *s, const char *arg, char *err, size_t errlen);

/* ---- source_usb.c: continuous bulk IN reading for USB capture devices ----
 *
 * A thread keeps `ntransfers` asynchronous bulk transfers of `transfer_size`
 * bytes in flight on endpoint `ep` and handles libusb events; completed data
 * goes through `filter` (may be NULL: copied as is) into a ring buffer that
 * comb_usb_stream_read() drains. So the device is read without gaps even while
 * the capture is busy (an SQLite commit), which a USB-UART's small FIFO
 * (1 KiB on an FT232H, under a millisecond at 12 Mbaud) could not absorb. */
typedef struct comb_usb_stream comb_usb_stream;
struct libusb_context;
struct libusb_device_handle;

/* Returns payload bytes written to out (room for n). */
typedef size_t (*comb_usb_filter)(void *ctx, const uint8_t *in, size_t n, uint8_t *out);

int comb_usb_stream_start(comb_usb_stream **out, struct libusb_context *usb, struct libusb_device_handle *h,
                          unsigned char ep, size_t transfer_size, unsigned ntransfers, comb_usb_filter filter,
                          void *filter_ctx, const char *who, char *err, size_t errlen);
/* Source read semantics (source.h): > 0 bytes, 0 timeout, -1 device gone, -2 error. */
ssize_t comb_usb_stream_read(comb_usb_stream *st, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);
uint64_t comb_usb_stream_dropped(const comb_usb_stream *st);
/* The lock the filter runs under, for reading what the filter counts. */
void comb_usb_stream_lock(const comb_usb_stream *st);
void comb_usb_stream_unlock(const comb_usb_stream *st);
/* Cancels the transfers, joins the thread, frees everything. NULL is fine. */
void comb_usb_stream_stop(comb_usb_stream *st);

#endif
