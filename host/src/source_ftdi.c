/*
 * ftdi:[VID:PID[:IF]][/SERIAL][@BAUD]: an FTDI USB-UART through libftdi1
 * (source_devices.h). libftdi opens and configures the chip (baud rate up to
 * 12 Mbaud on the H parts, 8N1, no flow control, latency timer 1 ms, UART
 * mode, receive buffer flushed); the data are then read with asynchronous bulk
 * transfers kept in flight by source_usb.c, which strips the two status bytes
 * FTDI puts in front of every USB packet and counts the overrun and error bits
 * they carry. (libftdi's own ftdi_readstream() is not used: it switches the
 * chip to synchronous FIFO mode, which is not a UART.)
 */
#include <ctype.h>
#include <errno.h>
#include <ftdi.h>
#include <libusb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/source_devices.h"
#include "source_impl.h"

static const struct {
    uint16_t vid, pid;
    const char *name;
} known[] = {
    {0x0403, 0x6014, "FT232H"}, {0x0403, 0x6010, "FT2232H"}, {0x0403, 0x6011, "FT4232H"},
    {0x0403, 0x6015, "FT-X"},   {0x0403, 0x6001, "FT232R"},
};

/* ---- spec ------------------------------------------------------------------------ */

static int parse_hex16(const char *s, size_t n, uint16_t *out)
{
    if (n == 0 || n > 4)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return -1;
        v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower((unsigned char)s[i]) - 'a' + 10);
    }
    *out = (uint16_t)v;
    return 0;
}

int comb_ftdi_parse(const char *arg, comb_ftdi_spec *out, char *err, size_t errlen)
{
    comb_ftdi_spec sp = {.iface = 'A', .baud = COMB_FTDI_DEFAULT_BAUD};
    const char *at = strrchr(arg, '@');
    size_t head = at ? (size_t)(at - arg) : strlen(arg);
    if (at) {
        const char *b = at + 1;
        char *end;
        errno = 0;
        unsigned long baud = isdigit((unsigned char)*b) ? strtoul(b, &end, 10) : 0;
        if (!isdigit((unsigned char)*b) || errno || *end) {
            snprintf(err, errlen, "bad baud rate '%s' in 'ftdi:%s'", b, arg);
            return -1;
        }
        if (baud < COMB_FTDI_MIN_BAUD || baud > COMB_FTDI_MAX_BAUD) {
            snprintf(err, errlen, "baud rate %lu in 'ftdi:%s' is out of range (%lu-%lu for FTDI H-series chips)", baud,
                     arg, COMB_FTDI_MIN_BAUD, COMB_FTDI_MAX_BAUD);
            return -1;
        }
        sp.baud = baud;
    }
    const char *slash = memchr(arg, '/', head);
    size_t idlen = slash ? (size_t)(slash - arg) : head;
    if (slash) {
        size_t slen = head - idlen - 1;
        if (slen == 0 || slen >= sizeof sp.serial) {
            snprintf(err, errlen, "bad source 'ftdi:%s': the serial number after '/' is empty or too long", arg);
            return -1;
        }
        memcpy(sp.serial, slash + 1, slen);
        sp.serial[slen] = 0;
    }
    if (idlen) {
        /* VID:PID or VID:PID:IF */
        const char *c1 = memchr(arg, ':', idlen);
        const char *c2 = c1 ? memchr(c1 + 1, ':', idlen - (size_t)(c1 + 1 - arg)) : NULL;
        size_t pidlen = c1 ? (size_t)((c2 ? c2 : arg + idlen) - (c1 + 1)) : 0;
        bool ok = c1 && parse_hex16(arg, (size_t)(c1 - arg), &sp.vid) == 0 &&
                  parse_hex16(c1 + 1, pidlen, &sp.pid) == 0;
        if (ok && c2) {
            size_t iflen = idlen - (size_t)(c2 + 1 - arg);
            char c = iflen == 1 ? (char)toupper((unsigned char)c2[1]) : 0;
            ok = c >= 'A' && c <= 'D';
            sp.iface = c;
        }
        if (!ok) {
            snprintf(err, errlen, "bad source 'ftdi:%s': expected ftdi:[VID:PID[:IF]][/SERIAL][@BAUD], e.g. "
                                  "ftdi:0403:6014@12000000", arg);
            return -1;
        }
    }
    *out = sp;
    return 0;
}

/* ---- status bytes ----------------------------------------------------------------- */

size_t comb_ftdi_strip_status(const uint8_t *in, size_t n, size_t max_packet, uint8_t *out,
                              comb_ftdi_line_stats *st)
{
    size_t o = 0;
    if (max_packet < 3)
        return 0;
    for (size_t p = 0; p < n; p += max_packet) {
        size_t len = n - p < max_packet ? n - p : max_packet;
        st->packets++;
        if (len < 2)
            break; /* a truncated status: nothing to take */
        uint8_t line = in[p + 1];
        if (line & 0x02)
            st->overruns++;
        if (line & (0x04 | 0x08 | 0x10))
            st->errors++;
        memcpy(out + o, in + p + 2, len - 2);
        o += len - 2;
    }
    return o;
}

/* ---- messages ---------------------------------------------------------------------- */

void comb_ftdi_open_error_message(char *err, size_t errlen, const char *who, int code, const char *ftdi_msg)
{
    switch (code) {
    case -5:  /* unable to claim the interface */
    case -11: /* libusb_detach_kernel_driver() failed */
        snprintf(err, errlen, "%s: the device is busy (another program has it open, or the ftdi_sio driver could not "
                              "be detached: %s)", who, ftdi_msg ? ftdi_msg : "unknown error");
        break;
    case -4:
        snprintf(err, errlen, "%s: cannot open the device: %s", who, ftdi_msg ? ftdi_msg : "unknown error");
        break;
    default:
        snprintf(err, errlen, "%s: cannot open the device (libftdi error %d: %s)", who, code,
                 ftdi_msg ? ftdi_msg : "unknown error");
        break;
    }
}

/* ---- the source ------------------------------------------------------------------------ */

typedef struct ftdi_src {
    struct ftdi_context *ftdi;
    comb_usb_stream *stream;
    size_t max_packet;
    comb_ftdi_line_stats line; /* written by the USB thread under the stream's lock */
} ftdi_src;

static size_t strip_filter(void *ctx, const uint8_t *in, size_t n, uint8_t *out)
{
    ftdi_src *f = ctx;
    return comb_ftdi_strip_status(in, n, f->max_packet, out, &f->line);
}

static ssize_t ftdi_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    ftdi_src *f = s->impl;
    return comb_usb_stream_read(f->stream, buf, cap, timeout_ms, err, errlen);
}

static int ftdi_write(comb_source *s, const void *buf, size_t n)
{
    ftdi_src *f = s->impl;
    return ftdi_write_data(f->ftdi, buf, (int)n) == (int)n ? 0 : -1;
}

static void ftdi_link_stats(const comb_source *s, comb_source_link_stats *out)
{
    const ftdi_src *f = s->impl;
    if (!f->stream)
        return;
    comb_usb_stream_lock(f->stream); /* the USB thread updates the line stats under it */
    out->overruns = f->line.overruns;
    out->line_errors = f->line.errors;
    comb_usb_stream_unlock(f->stream);
    out->host_dropped = comb_usb_stream_dropped(f->stream);
}

static void ftdi_close_src(comb_source *s)
{
    ftdi_src *f = s->impl;
    if (!f)
        return;
    comb_usb_stream_stop(f->stream);
    if (f->ftdi) {
        if (f->ftdi->usb_dev)
            ftdi_usb_close(f->ftdi);
        ftdi_free(f->ftdi);
    }
    free(f);
    s->impl = NULL;
}

static bool is_known(uint16_t vid, uint16_t pid)
{
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (known[i].vid == vid && known[i].pid == pid)
            return true;
    return false;
}

/* Finds the device; on failure writes the reason (missing / not permitted). */
static libusb_device *find_device(libusb_context *usb, libusb_device **list, ssize_t n, const comb_ftdi_spec *sp,
                                  const char *who, char *err, size_t errlen)
{
    int denied = 0;
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) != 0)
            continue;
        if (sp->vid || sp->pid ? d.idVendor != sp->vid || d.idProduct != sp->pid : !is_known(d.idVendor, d.idProduct))
            continue;
        /* it must open (permission) and, when asked, carry the serial number */
        libusb_device_handle *h;
        int rc = libusb_open(list[i], &h);
        if (rc != 0) {
            if (rc == LIBUSB_ERROR_ACCESS)
                denied++;
            continue;
        }
        bool match = true;
        if (sp->serial[0]) {
            unsigned char got[256] = "";
            match = d.iSerialNumber &&
                    libusb_get_string_descriptor_ascii(h, d.iSerialNumber, got, sizeof got) > 0 &&
                    strcmp((char *)got, sp->serial) == 0;
        }
        libusb_close(h);
        if (match)
            return list[i];
    }
    (void)usb;
    char what[200];
    if (sp->vid || sp->pid)
        snprintf(what, sizeof what, "%04x:%04x", sp->vid, sp->pid);
    else
        snprintf(what, sizeof what, "FTDI UART (0403:6014, 6010, 6011, 6015, 6001)");
    if (denied)
        comb_usb_error_message(err, errlen, who, "found a device but cannot open it", LIBUSB_ERROR_ACCESS);
    else if (sp->serial[0])
        snprintf(err, errlen, "%s: no %s with serial number '%s' is connected", who, what, sp->serial);
    else
        snprintf(err, errlen, "%s: no %s is connected", who, what);
    return NULL;
}

int comb_source_open_ftdi(comb_source *s, const char *arg, char *err, size_t errlen)
{
    comb_ftdi_spec sp;
    if (comb_ftdi_parse(arg, &sp, err, errlen))
        return -1;
    char who[200];
    snprintf(who, sizeof who, *arg ? "ftdi:%s" : "ftdi", arg);

    ftdi_src *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "%s: out of memory", who);
        return -1;
    }
    s->impl = f;
    s->close = ftdi_close_src;
    f->ftdi = ftdi_new(); /* also initialises a libusb context */
    if (!f->ftdi) {
        snprintf(err, errlen, "%s: cannot initialise libftdi/libusb (is USB available here?)", who);
        return -1;
    }
    f->ftdi->module_detach_mode = AUTO_DETACH_REATACH_SIO_MODULE; /* give /dev/ttyUSBn back afterwards */
    if (ftdi_set_interface(f->ftdi, (enum ftdi_interface)(INTERFACE_A + (sp.iface - 'A'))) != 0) {
        snprintf(err, errlen, "%s: %s", who, ftdi_get_error_string(f->ftdi));
        return -1;
    }
    libusb_device **list;
    ssize_t n = libusb_get_device_list(f->ftdi->usb_ctx, &list);
    if (n < 0) {
        comb_usb_error_message(err, errlen, who, "cannot list USB devices", (int)n);
        return -1;
    }
    libusb_device *dev = find_device(f->ftdi->usb_ctx, list, n, &sp, who, err, errlen);
    int rc = dev ? ftdi_usb_open_dev(f->ftdi, dev) : -3;
    libusb_free_device_list(list, 1);
    if (!dev)
        return -1;
    if (rc < 0) {
        comb_ftdi_open_error_message(err, errlen, who, rc, ftdi_get_error_string(f->ftdi));
        return -1;
    }
    if (ftdi_set_bitmode(f->ftdi, 0, BITMODE_RESET) < 0 || ftdi_set_baudrate(f->ftdi, (int)sp.baud) < 0 ||
        ftdi_set_line_property(f->ftdi, BITS_8, STOP_BIT_1, NONE) < 0 ||
        ftdi_setflowctrl(f->ftdi, SIO_DISABLE_FLOW_CTRL) < 0 || ftdi_set_latency_timer(f->ftdi, 1) < 0) {
        snprintf(err, errlen, "%s: the adapter refused %lu baud 8N1: %s", who, sp.baud,
                 ftdi_get_error_string(f->ftdi));
        return -1;
    }
    ftdi_tciflush(f->ftdi); /* stale bytes from before the capture */
    f->max_packet = f->ftdi->max_packet_size ? f->ftdi->max_packet_size : 64;
    /* 32 packets per transfer (16 KiB on a high-speed chip), 16 in flight */
    if (comb_usb_stream_start(&f->stream, f->ftdi->usb_ctx, f->ftdi->usb_dev, (unsigned char)f->ftdi->out_ep,
                              f->max_packet * 32, 16, strip_filter, f, who, err, errlen))
        return -1;
    s->read = ftdi_read;
    s->write = ftdi_write;
    s->link_stats = ftdi_link_stats;
    return 0;
}
