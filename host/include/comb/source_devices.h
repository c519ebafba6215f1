/*
 * USB capture devices behind `ftdi:` and `bmp:` sources (source.h): their
 * spec syntax, the FTDI per-packet status bytes, and the one-line messages
 * for a device that is missing, busy or not permitted. Exposed so the parts
 * that need no hardware are unit-tested (tests/unit/host/test_source_devices.c).
 *
 *   ftdi:[VID:PID[:IF]][/SERIAL][@BAUD]
 *       An FTDI USB-UART through libftdi1, read with asynchronous bulk
 *       transfers (latency timer 1 ms). VID:PID in hex (default: the first of
 *       0403:6014 FT232H, 0403:6010 FT2232H, 0403:6011 FT4232H, 0403:6015
 *       FT-X, 0403:6001 FT232R); IF the channel A-D of a multi-channel chip
 *       (default A); SERIAL the USB serial number; BAUD default 12000000
 *       (the FT232H/FT2232H maximum; 183 to 12000000).
 *   bmp:[SERIAL]
 *       A Black Magic Probe's trace capture interface through libusb (USB
 *       1d50:6018; the interface whose string is "Black Magic Trace Capture",
 *       interface 5 with bulk IN endpoint 0x85 on firmware v1.8-v1.10 and 0x83
 *       on v2.0+, found from the descriptors). The SWO rate is set on the probe
 *       (`monitor traceswo 2250000` in GDB), not here.
 */
#ifndef COMB_SOURCE_DEVICES_H
#define COMB_SOURCE_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#define COMB_FTDI_DEFAULT_BAUD 12000000ul
#define COMB_FTDI_MIN_BAUD 183ul
#define COMB_FTDI_MAX_BAUD 12000000ul

#define COMB_BMP_VID 0x1d50
#define COMB_BMP_PID 0x6018

typedef struct comb_ftdi_spec {
    uint16_t vid, pid;  /* 0, 0: any of the known FTDI UART chips */
    char iface;         /* 'A'..'D' */
    char serial[128];   /* empty: any */
    unsigned long baud;
} comb_ftdi_spec;

typedef struct comb_bmp_spec {
    char serial[128];   /* empty: the only probe (or the first) */
} comb_bmp_spec;

/* Parse the part after "ftdi:" / "bmp:". 0 on success; -1 with a one-line
 * message naming the source otherwise. */
int comb_ftdi_parse(const char *arg, comb_ftdi_spec *out, char *err, size_t errlen);
int comb_bmp_parse(const char *arg, comb_bmp_spec *out, char *err, size_t errlen);

/* Loss counted from an FTDI's line status bytes (itm-protocol.md section 4, layer b). */
typedef struct comb_ftdi_line_stats {
    uint64_t packets;  /* USB packets seen                               */
    uint64_t overruns; /* packets whose status had OE (receive overrun)  */
    uint64_t errors;   /* packets with a parity/framing error or a break */
} comb_ftdi_line_stats;

/* FTDI bulk IN data: every USB packet of max_packet bytes (the last may be
 * shorter) starts with two status bytes (modem status, line status). Copies
 * the payload bytes to out (room for n bytes) and returns how many; counts the
 * line status bits in st. */
size_t comb_ftdi_strip_status(const uint8_t *in, size_t n, size_t max_packet, uint8_t *out,
                              comb_ftdi_line_stats *st);

/* One-line message for a failed libusb call on a capture device: permission
 * (with the udev hint), busy, vanished, or the libusb error name. `code` is a
 * libusb_error. */
void comb_usb_error_message(char *err, size_t errlen, const char *who, const char *what, int code);

/* Same for libftdi's ftdi_usb_open_dev() return codes. */
void comb_ftdi_open_error_message(char *err, size_t errlen, const char *who, int code, const char *ftdi_msg);

#endif
