/* serial:DEV[@BAUD] through libserialport (any rate the adapter accepts,
 * non-standard ones included); ttys it does not know (ptys) through termios2.
 * Both take the tty for exclusive use and read it through comb_source_fd_read. */
#include <errno.h>
#include <libserialport.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_impl.h"

static int sp_write(comb_source *s, const void *buf, size_t n)
{
    enum sp_return r = sp_blocking_write(s->impl, buf, n, 1000);
    return r == (enum sp_return)n ? 0 : -1;
}

static void sp_close_port(comb_source *s)
{
    comb_tty_release(s->fd);
    if (s->impl) {
        sp_close(s->impl);
        sp_free_port(s->impl);
    }
}

int comb_source_open_serial(comb_source *s, const char *arg, char *err, size_t errlen)
{
    char dev[400];
    unsigned long baud = 115200;
    const char *at = strrchr(arg, '@');
    size_t devlen = at ? (size_t)(at - arg) : strlen(arg);
    if (devlen == 0 || devlen >= sizeof dev) {
        snprintf(err, errlen, "bad source 'serial:%s': expected serial:DEV[@BAUD]", arg);
        return -1;
    }
    memcpy(dev, arg, devlen);
    dev[devlen] = 0;
    if (at) {
        char *end;
        errno = 0;
        baud = strtoul(at + 1, &end, 10);
        if (errno || *end || baud == 0 || baud > 100000000ul) {
            snprintf(err, errlen, "bad baud rate '%s' in 'serial:%s'", at + 1, arg);
            return -1;
        }
    }
    /* libserialport knows a port by its kernel name (ttyUSB0): resolve
     * /dev/serial/by-id/... links first, or it would not find the adapter */
    char path[PATH_MAX];
    if (!realpath(dev, path)) {
        comb_serial_open_message(err, errlen, dev, errno);
        return -1;
    }
    struct sp_port *port;
    if (sp_get_port_by_name(path, &port) != SP_OK) {
        /* Not a port libserialport knows: a pty, or not a tty at all. */
        return comb_source_open_termios(s, dev, path, (unsigned)baud, err, errlen);
    }
    s->impl = port;
    s->close = sp_close_port;
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        comb_serial_open_message(err, errlen, dev, sp_last_error_code());
        return -1;
    }
    if (sp_get_port_handle(port, &s->fd) != SP_OK) {
        snprintf(err, errlen, "serial:%s: no file descriptor", dev);
        return -1;
    }
    if (comb_tty_claim(s->fd, dev, err, errlen))
        return -1;
    if (sp_set_baudrate(port, (int)baud) != SP_OK || sp_set_bits(port, 8) != SP_OK ||
        sp_set_parity(port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port, 1) != SP_OK ||
        sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK) {
        snprintf(err, errlen, "serial:%s: the adapter refused %lu baud 8N1", dev, baud);
        return -1;
    }
    sp_flush(port, SP_BUF_INPUT); /* stale bytes from before the capture */
    /* Read through the fd, not sp_blocking_read_next: after an unplug the tty is
     * readable with read() returning 0, which that call retries until its
     * timeout, so the capture would never see the device go. */
    s->read = comb_source_fd_read;
    s->write = sp_write;
    return 0;
}
