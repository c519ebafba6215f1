/*
 * bmp:[SERIAL]: a Black Magic Probe's trace capture endpoint through libusb
 * (source_devices.h). The probe decodes SWO itself (NRZ at the rate set with
 * `monitor traceswo BAUD`, or Manchester) and sends the raw ITM bytes on a
 * vendor-specific interface with one bulk IN endpoint: interface 5, endpoint
 * 0x85 on firmware v1.8-v1.10, 0x83 on v2.0+. Rather than trusting those
 * numbers, the interface is found by its string "Black Magic Trace Capture"
 * (as orbuculum does), falling back to the vendor-class interface that has a
 * single bulk IN endpoint.
 */
#include <libusb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/source_devices.h"
#include "source_impl.h"

#define BMP_TRACE_STRING "Black Magic Trace Capture"

int comb_bmp_parse(const char *arg, comb_bmp_spec *out, char *err, size_t errlen)
{
    comb_bmp_spec sp = {{0}};
    size_t n = strlen(arg);
    if (n >= sizeof sp.serial) {
        snprintf(err, errlen, "bad source 'bmp:%s': the serial number is too long", arg);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)arg[i];
        if (c <= ' ' || c >= 0x7F || c == '@' || c == '/' || c == ':') {
            snprintf(err, errlen, "bad source 'bmp:%s': expected bmp: or bmp:SERIAL (the probe's USB serial number; "
                                  "its SWO rate is set in GDB with 'monitor traceswo BAUD')", arg);
            return -1;
        }
    }
    memcpy(sp.serial, arg, n + 1);
    *out = sp;
    return 0;
}

typedef struct bmp_src {
    libusb_context *usb;
    libusb_device_handle *h;
    int iface;
    bool claimed;
    comb_usb_stream *stream;
} bmp_src;

static ssize_t bmp_read(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen)
{
    bmp_src *b = s->impl;
    return comb_usb_stream_read(b->stream, buf, cap, timeout_ms, err, errlen);
}

static void bmp_link_stats(const comb_source *s, comb_source_link_stats *out)
{
    const bmp_src *b = s->impl;
    if (b->stream)
        out->host_dropped = comb_usb_stream_dropped(b->stream);
}

static void bmp_close_src(comb_source *s)
{
    bmp_src *b = s->impl;
    if (!b)
        return;
    comb_usb_stream_stop(b->stream);
    if (b->h) {
        if (b->claimed)
            libusb_release_interface(b->h, b->iface);
        libusb_close(b->h);
    }
    if (b->usb)
        libusb_exit(b->usb);
    free(b);
    s->impl = NULL;
}

/* The trace interface of an open probe: its number and bulk IN endpoint.
 * 0 found, -1 not. */
static int find_trace_interface(libusb_device *dev, libusb_device_handle *h, int *iface, unsigned char *ep,
                                uint16_t *max_packet)
{
    struct libusb_config_descriptor *cfg;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0)
        return -1;
    int best = -1, fallback = -1;
    unsigned char best_ep = 0, fallback_ep = 0;
    uint16_t best_mp = 64, fallback_mp = 64;
    for (int i = 0; i < cfg->bNumInterfaces; i++) {
        for (int a = 0; a < cfg->interface[i].num_altsetting; a++) {
            const struct libusb_interface_descriptor *d = &cfg->interface[i].altsetting[a];
            if (d->bInterfaceClass != LIBUSB_CLASS_VENDOR_SPEC || d->bNumEndpoints != 1)
                continue;
            const struct libusb_endpoint_descriptor *e = &d->endpoint[0];
            if ((e->bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK || !(e->bEndpointAddress & LIBUSB_ENDPOINT_IN))
                continue;
            unsigned char name[128] = "";
            if (d->iInterface && libusb_get_string_descriptor_ascii(h, d->iInterface, name, sizeof name) > 0 &&
                strstr((char *)name, "Trace Capture")) {
                best = d->bInterfaceNumber;
                best_ep = e->bEndpointAddress;
                best_mp = e->wMaxPacketSize;
            } else if (fallback < 0) {
                fallback = d->bInterfaceNumber;
                fallback_ep = e->bEndpointAddress;
                fallback_mp = e->wMaxPacketSize;
            }
        }
    }
    libusb_free_config_descriptor(cfg);
    if (best < 0 && fallback < 0)
        return -1;
    *iface = best >= 0 ? best : fallback;
    *ep = best >= 0 ? best_ep : fallback_ep;
    *max_packet = best >= 0 ? best_mp : fallback_mp;
    if (*max_packet == 0)
        *max_packet = 64;
    return 0;
}

int comb_source_open_bmp(comb_source *s, const char *arg, char *err, size_t errlen)
{
    comb_bmp_spec sp;
    if (comb_bmp_parse(arg, &sp, err, errlen))
        return -1;
    char who[200];
    snprintf(who, sizeof who, *arg ? "bmp:%s" : "bmp", arg);

    bmp_src *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", who);
        return -1;
    }
    s->impl = b;
    s->close = bmp_close_src;
    int rc = libusb_init(&b->usb);
    if (rc != 0) {
        b->usb = NULL;
        comb_usb_error_message(err, errlen, who, "cannot initialise libusb (is USB available here?)", rc);
        return -1;
    }
    libusb_device **list;
    ssize_t n = libusb_get_device_list(b->usb, &list);
    if (n < 0) {
        comb_usb_error_message(err, errlen, who, "cannot list USB devices", (int)n);
        return -1;
    }
    int probes = 0, denied = 0, no_trace = 0;
    unsigned char ep = 0;
    uint16_t mp = 64;
    for (ssize_t i = 0; i < n && !b->h; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) != 0 || d.idVendor != COMB_BMP_VID ||
            d.idProduct != COMB_BMP_PID)
            continue;
        libusb_device_handle *h;
        rc = libusb_open(list[i], &h);
        if (rc != 0) {
            denied += rc == LIBUSB_ERROR_ACCESS;
            continue;
        }
        if (sp.serial[0]) {
            unsigned char got[256] = "";
            if (!d.iSerialNumber || libusb_get_string_descriptor_ascii(h, d.iSerialNumber, got, sizeof got) <= 0 ||
                strcmp((char *)got, sp.serial) != 0) {
                libusb_close(h);
                continue;
            }
        }
        probes++;
        if (find_trace_interface(list[i], h, &b->iface, &ep, &mp) != 0) {
            no_trace++;
            libusb_close(h);
            continue;
        }
        b->h = h;
    }
    libusb_free_device_list(list, 1);
    if (!b->h) {
        if (no_trace)
            snprintf(err, errlen, "%s: the Black Magic Probe has no trace capture interface (firmware built without "
                                  "SWO support?)", who);
        else if (denied && !probes)
            comb_usb_error_message(err, errlen, who, "found a Black Magic Probe but cannot open it",
                                   LIBUSB_ERROR_ACCESS);
        else if (sp.serial[0])
            snprintf(err, errlen, "%s: no Black Magic Probe with serial number '%s' is connected (USB %04x:%04x)", who,
                     sp.serial, COMB_BMP_VID, COMB_BMP_PID);
        else
            snprintf(err, errlen, "%s: no Black Magic Probe is connected (USB %04x:%04x)", who, COMB_BMP_VID,
                     COMB_BMP_PID);
        return -1;
    }
    libusb_set_auto_detach_kernel_driver(b->h, 1); /* no-op where unsupported */
    rc = libusb_claim_interface(b->h, b->iface);
    if (rc != 0) {
        char what[64];
        snprintf(what, sizeof what, "cannot claim trace interface %d", b->iface);
        comb_usb_error_message(err, errlen, who, what, rc);
        return -1;
    }
    b->claimed = true;
    /* full-speed probe, 64-byte packets: 4 KiB transfers, 16 in flight */
    if (comb_usb_stream_start(&b->stream, b->usb, b->h, ep, (size_t)mp * 64, 16, NULL, NULL, who, err, errlen))
        return -1;
    s->read = bmp_read;
    s->write = NULL; /* the trace endpoint only goes one way */
    s->link_stats = bmp_link_stats;
    return 0;
}
