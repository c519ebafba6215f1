/* serial:DEV[@BAUD] through libserialport (any rate the adapter accepts,
 * non-standard ones included); ttys it does not know (ptys) through termios. */
#include <errno.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_impl.h"

static ssize_t sp_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    struct sp_port *port = s->impl;
    /* libserialport's timeout 0 means "wait forever"; ours means "do not wait" */
    enum sp_return r = timeout_ms == 0 ? sp_nonblocking_read(port, buf, cap)
                                       : sp_blocking_read_next(port, buf, cap, timeout_ms < 0 ? 0 : (unsigned)timeout_ms);
    if (r > 0)
        return r;
    if (r == 0)
        return 0;
    if (r == SP_ERR_FAIL && (sp_last_error_code() == EIO || sp_last_error_code() == ENXIO))
        return -1; /* device vanished (USB unplugged) */
    char *msg = sp_last_error_message();
    snprintf(err, errlen, "%s: read failed: %s", s->spec, msg ? msg : "unknown error");
    sp_free_error_message(msg);
    return -2;
}

static int sp_write(comb_source *s, const void *buf, size_t n)
{
    enum sp_return r = sp_blocking_write(s->impl, buf, n, 1000);
    return r == (enum sp_return)n ? 0 : -1;
}

static void sp_close_port(comb_source *s)
{
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
    struct sp_port *port;
    if (sp_get_port_by_name(dev, &port) != SP_OK) {
        /* Not a port libserialport enumerates: a pty, or missing. termios tells which. */
        return comb_source_open_termios(s, dev, (unsigned)baud, err, errlen);
    }
    s->impl = port;
    s->close = sp_close_port;
    if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
        int code = sp_last_error_code();
        snprintf(err, errlen, "serial:%s: cannot open: %s%s", dev, strerror(code),
                 code == EACCES ? " (add yourself to the dialout group)" :
                 code == EBUSY  ? " (another program has it open)" : "");
        return -1;
    }
    if (sp_set_baudrate(port, (int)baud) != SP_OK || sp_set_bits(port, 8) != SP_OK ||
        sp_set_parity(port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port, 1) != SP_OK ||
        sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK) {
        snprintf(err, errlen, "serial:%s: the adapter refused %lu baud 8N1", dev, baud);
        return -1;
    }
    sp_flush(port, SP_BUF_INPUT); /* stale bytes from before the capture */
    s->read = sp_read;
    s->write = sp_write;
    return 0;
}
