/*
 * USB capture sources without hardware (source_devices.h): ftdi: and bmp:
 * spec parsing, FTDI status-byte stripping and line-status counting, the
 * one-line messages for a device that is missing, busy or not permitted, and
 * opening a device that is not there.
 */
#include <libusb.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "comb/source.h"
#include "comb/source_devices.h"

static void check_msg(const char *err, const char *needle)
{
    check_count++;
    if (!strstr(err, needle) || strchr(err, '\n')) {
        check_failures++;
        fprintf(stderr, "  message '%s' does not contain '%s' (or is not one line)\n", err, needle);
    }
}

static void test_ftdi_parse(void)
{
    comb_ftdi_spec sp;
    char err[300];

    CHECK(comb_ftdi_parse("", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0 && sp.pid == 0 && sp.iface == 'A' && sp.serial[0] == 0);
    CHECK_EQ_U64(sp.baud, 12000000);

    CHECK(comb_ftdi_parse("0403:6014", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0x0403 && sp.pid == 0x6014 && sp.iface == 'A');

    CHECK(comb_ftdi_parse("0403:6010:b/FT4XYZ@3000000", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0x0403 && sp.pid == 0x6010 && sp.iface == 'B');
    CHECK(strcmp(sp.serial, "FT4XYZ") == 0);
    CHECK_EQ_U64(sp.baud, 3000000);

    CHECK(comb_ftdi_parse("/A12345", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0 && strcmp(sp.serial, "A12345") == 0 && sp.baud == 12000000);

    CHECK(comb_ftdi_parse("@2250000", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0 && sp.serial[0] == 0);
    CHECK_EQ_U64(sp.baud, 2250000);

    CHECK(comb_ftdi_parse("1D50:AbCd@183", &sp, err, sizeof err) == 0);
    CHECK(sp.vid == 0x1d50 && sp.pid == 0xabcd && sp.baud == 183);

    static const struct {
        const char *arg, *msg;
    } bad[] = {
        {"xyz", "expected ftdi:[VID:PID[:IF]][/SERIAL][@BAUD]"},
        {"0403", "expected ftdi:"},
        {"0403:", "expected ftdi:"},
        {":6014", "expected ftdi:"},
        {"04031:6014", "expected ftdi:"},
        {"0403:6014:E", "expected ftdi:"},
        {"0403:6014:AB", "expected ftdi:"},
        {"0403:60g4", "expected ftdi:"},
        {"0403:6014/", "serial number after '/' is empty"},
        {"@", "bad baud rate ''"},
        {"@abc", "bad baud rate 'abc'"},
        {"@12M", "bad baud rate '12M'"},
        {"@-5", "bad baud rate '-5'"},
        {"@12000001", "out of range (183-12000000"},
        {"@100", "out of range"},
        {"@99999999999999999999999", "bad baud rate"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        err[0] = 0;
        CHECK(comb_ftdi_parse(bad[k].arg, &sp, err, sizeof err) == -1);
        check_msg(err, bad[k].msg);
    }
}

static void test_bmp_parse(void)
{
    comb_bmp_spec sp;
    char err[300];
    CHECK(comb_bmp_parse("", &sp, err, sizeof err) == 0 && sp.serial[0] == 0);
    CHECK(comb_bmp_parse("7BB180B4", &sp, err, sizeof err) == 0 && strcmp(sp.serial, "7BB180B4") == 0);
    const char *bad[] = {"a b", "x@2250000", "/dev/ttyACM0", "1d50:6018", "\x01"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        err[0] = 0;
        CHECK(comb_bmp_parse(bad[k], &sp, err, sizeof err) == -1);
        check_msg(err, "expected bmp: or bmp:SERIAL");
    }
    char longs[200];
    memset(longs, 'A', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    CHECK(comb_bmp_parse(longs, &sp, err, sizeof err) == -1);
    check_msg(err, "too long");
}

static void test_ftdi_status(void)
{
    /* a transfer of three high-speed packets: 512, 512 and 100 bytes, each with
     * two status bytes first; the second reports an overrun, the third a framing error */
    static uint8_t in[1124], out[1124];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7);
    in[0] = 0x01, in[1] = 0x60;           /* modem status, line status: THRE|TEMT (normal) */
    in[512] = 0x01, in[513] = 0x60 | 0x02; /* OE */
    in[1024] = 0x01, in[1025] = 0x60 | 0x08; /* FE */
    comb_ftdi_line_stats st = {0};
    size_t n = comb_ftdi_strip_status(in, sizeof in, 512, out, &st);
    CHECK_EQ_U64(n, 510 + 510 + 98);
    CHECK(memcmp(out, in + 2, 510) == 0);
    CHECK(memcmp(out + 510, in + 514, 510) == 0);
    CHECK(memcmp(out + 1020, in + 1026, 98) == 0);
    CHECK_EQ_U64(st.packets, 3);
    CHECK_EQ_U64(st.overruns, 1);
    CHECK_EQ_U64(st.errors, 1);

    /* status-only packets (what the chip sends every latency period when idle) */
    const uint8_t idle[2] = {0x01, 0x60};
    CHECK_EQ_U64(comb_ftdi_strip_status(idle, 2, 512, out, &st), 0);
    CHECK_EQ_U64(st.packets, 4);

    /* full-speed packets (64 bytes), break and parity bits counted once per packet */
    uint8_t fs[130];
    memset(fs, 0x55, sizeof fs);
    fs[0] = 0x01, fs[1] = 0x10 | 0x04; /* BI | PE */
    fs[64] = 0x01, fs[65] = 0x60;
    fs[128] = 0x01, fs[129] = 0x60;
    comb_ftdi_line_stats st2 = {0};
    CHECK_EQ_U64(comb_ftdi_strip_status(fs, sizeof fs, 64, out, &st2), 62 + 62);
    CHECK_EQ_U64(st2.packets, 3);
    CHECK_EQ_U64(st2.errors, 1);
    CHECK_EQ_U64(st2.overruns, 0);

    /* a truncated 1-byte packet contributes nothing */
    comb_ftdi_line_stats st3 = {0};
    const uint8_t one[1] = {0x01};
    CHECK_EQ_U64(comb_ftdi_strip_status(one, 1, 64, out, &st3), 0);
}

static void test_messages(void)
{
    char err[400];
    comb_usb_error_message(err, sizeof err, "bmp", "cannot claim trace interface 5", LIBUSB_ERROR_ACCESS);
    check_msg(err, "bmp: cannot claim trace interface 5: permission denied");
    check_msg(err, "udev");
    comb_usb_error_message(err, sizeof err, "bmp", "cannot claim trace interface 5", LIBUSB_ERROR_BUSY);
    check_msg(err, "busy (another program has it open)");
    comb_usb_error_message(err, sizeof err, "ftdi", "cannot start reading", LIBUSB_ERROR_NO_DEVICE);
    check_msg(err, "unplugged");
    comb_usb_error_message(err, sizeof err, "ftdi", "x", LIBUSB_ERROR_IO);
    check_msg(err, "ftdi: x: ");

    comb_ftdi_open_error_message(err, sizeof err, "ftdi:0403:6014", -5, "unable to claim usb device");
    check_msg(err, "ftdi:0403:6014: the device is busy");
    check_msg(err, "ftdi_sio");
    comb_ftdi_open_error_message(err, sizeof err, "ftdi", -11, "libusb_detach_kernel_driver () failed");
    check_msg(err, "busy");
    comb_ftdi_open_error_message(err, sizeof err, "ftdi", -4, "usb_open() failed");
    check_msg(err, "ftdi: cannot open the device: usb_open() failed");
    comb_ftdi_open_error_message(err, sizeof err, "ftdi", -9, NULL);
    check_msg(err, "libftdi error -9");
}

/* Opening a device that is not attached: one line, no source. If a device
 * with this (impossible) serial number existed we would have opened it. */
static void missing(const char *spec, const char *needle)
{
    comb_source *src = NULL;
    char err[400] = "";
    int rc = comb_source_open(spec, &src, err, sizeof err);
    CHECK(rc == -1);
    CHECK(src == NULL);
    check_count++;
    if (!(strstr(err, needle) || strstr(err, "permission denied") || strstr(err, "cannot initialise")) ||
        strchr(err, '\n')) {
        check_failures++;
        fprintf(stderr, "  %s: unexpected message '%s'\n", spec, err);
    }
    if (rc == 0)
        comb_source_close(src);
}

static void test_open_missing(void)
{
    missing("ftdi:0403:6014/comb-no-such-serial", "no 0403:6014 with serial number 'comb-no-such-serial'");
    missing("ftdi:1234:5678@115200", "no 1234:5678 is connected");
    missing("bmp:comb-no-such-serial", "no Black Magic Probe with serial number 'comb-no-such-serial'");
    /* parse errors come before any USB access */
    comb_source *src = NULL;
    char err[400];
    CHECK(comb_source_open("ftdi:zz", &src, err, sizeof err) == -1);
    check_msg(err, "bad source 'ftdi:zz'");
    CHECK(comb_source_open("bmp:a/b", &src, err, sizeof err) == -1);
    check_msg(err, "bad source 'bmp:a/b'");
    CHECK(comb_source_open("ftdi@3000000", &src, err, sizeof err) == -1);
    check_msg(err, "ftdi:[VID:PID][/SERIAL][@BAUD]");

    /* a source that knows nothing of link loss reports zeros */
    CHECK(comb_source_open("file:/dev/null", &src, err, sizeof err) == 0);
    comb_source_link_stats ls = {1, 2, 3};
    comb_source_link_stats_get(src, &ls);
    CHECK(ls.overruns == 0 && ls.line_errors == 0 && ls.host_dropped == 0);
    comb_source_close(src);
}

int main(void)
{
    test_ftdi_parse();
    test_bmp_parse();
    test_ftdi_status();
    test_messages();
    test_open_missing();
    return check_finish("test_source_devices");
}
