/*
 * capture_status.h: refresh timing, rates, the status line text and its
 * width limit, and the wrong-baud-rate hint decision. Pure logic: every time
 * here is synthetic.
 */
#include <string.h>

#include "check.h"
#include "comb/capture_status.h"

#define MS 1000000LL
#define S 1000000000LL

static void check_contains(const char *hay, const char *needle)
{
    check_count++;
    if (!strstr(hay, needle)) {
        check_failures++;
        fprintf(stderr, "  '%s' does not contain '%s'\n", hay, needle);
    }
}

static void test_due(void)
{
    comb_status s;
    int64_t t0 = 1700000000 * S;
    comb_status_init(&s, t0, "comb log");
    CHECK(!comb_status_due(&s, t0));
    CHECK(!comb_status_due(&s, t0 + 249 * MS));
    CHECK(comb_status_due(&s, t0 + 250 * MS));
    comb_status_sample c = {0};
    comb_status_update(&s, &c, t0 + 260 * MS);
    CHECK(!comb_status_due(&s, t0 + 500 * MS));
    CHECK(comb_status_due(&s, t0 + 510 * MS));
    CHECK(!comb_status_due(&s, t0 - S)); /* a clock step backwards is not "due" */
}

static void test_rates_and_text(void)
{
    comb_status s;
    int64_t t0 = 5 * S;
    comb_status_init(&s, t0, "comb log");
    comb_status_sample c = {.bytes = 300000, .packets = 60000, .events = 12345, .overflows = 2, .decode_errors = 3,
                            .bytes_skipped = 44};
    comb_status_update(&s, &c, t0 + 250 * MS);
    CHECK(s.bytes_per_s > 1199999.0 && s.bytes_per_s < 1200001.0);
    CHECK(s.packets_per_s > 239999.0 && s.packets_per_s < 240001.0);

    char line[256];
    size_t n = comb_status_format(&s, &c, t0 + 250 * MS, line, sizeof line, 0);
    CHECK_EQ_U64(n, strlen(line));
    check_contains(line, "comb log: 0:00:00");
    check_contains(line, "1.20 MB/s");
    check_contains(line, "240 kpkt/s");
    check_contains(line, "12345 events");
    check_contains(line, "2 overflows");
    check_contains(line, "3 errors");
    check_contains(line, "44 skipped");
    CHECK(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);

    /* the next interval: rate over that interval only */
    comb_status_sample c2 = c;
    c2.bytes += 1000;
    c2.packets += 10;
    comb_status_update(&s, &c2, t0 + 750 * MS);
    CHECK(s.bytes_per_s > 1999.0 && s.bytes_per_s < 2001.0);
    comb_status_format(&s, &c2, t0 + 750 * MS, line, sizeof line, 0);
    check_contains(line, "2.00 kB/s");
    check_contains(line, "20 pkt/s");

    /* elapsed time, h:mm:ss */
    comb_status_format(&s, &c2, t0 + 3723 * S, line, sizeof line, 0);
    check_contains(line, "comb log: 1:02:03");

    /* idle: no new bytes -> 0 B/s */
    comb_status_update(&s, &c2, t0 + 1000 * MS);
    comb_status_format(&s, &c2, t0 + 1000 * MS, line, sizeof line, 0);
    check_contains(line, " 0 B/s");

    /* never wider than the terminal (width - 1 so it never wraps) */
    n = comb_status_format(&s, &c2, t0, line, sizeof line, 40);
    CHECK_EQ_U64(n, 39);
    CHECK_EQ_U64(strlen(line), 39);
    n = comb_status_format(&s, &c2, t0, line, 10, 0);
    CHECK_EQ_U64(n, 9);
    CHECK_EQ_U64(strlen(line), 9);
}

static void test_fmt_rate(void)
{
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0 B/s"},          {999, "999 B/s"},        {1000, "1.00 kB/s"},    {12345, "12.3 kB/s"},
        {123456, "123 kB/s"},  {1.2e6, "1.20 MB/s"},    {45.6e6, "45.6 MB/s"},  {456e6, "456 MB/s"},
        {2e9, "2.00 GB/s"},    {-5, "0 B/s"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char buf[32];
        comb_status_fmt_rate(cases[k].v, "B/s", buf, sizeof buf);
        check_count++;
        if (strcmp(buf, cases[k].text) != 0) {
            check_failures++;
            fprintf(stderr, "  rate %g: '%s', expected '%s'\n", cases[k].v, buf, cases[k].text);
        }
    }
}

static void test_baud_hint(void)
{
    comb_status s;
    char hint[300];
    comb_status_init(&s, 0, "comb log");

    /* not enough bytes to judge: no decision yet */
    comb_status_sample c = {.bytes = 4095, .bytes_skipped = 4095};
    CHECK(!comb_status_baud_hint(&s, &c, hint, sizeof hint));
    CHECK(!s.hint_decided);

    /* all garbage: hint, once */
    c.bytes = 4096;
    c.bytes_skipped = 4096;
    c.decode_errors = 1;
    hint[0] = 0;
    CHECK(comb_status_baud_hint(&s, &c, hint, sizeof hint));
    check_contains(hint, "baud rate is probably wrong");
    check_contains(hint, "100% of the first 4096 bytes");
    CHECK(strchr(hint, '\n') == NULL);
    CHECK(!comb_status_baud_hint(&s, &c, hint, sizeof hint));

    /* a clean start (joined mid-stream: up to a KiB before the first sync): no hint,
     * and no later hint either: "right after start" only */
    comb_status_init(&s, 0, "comb log");
    comb_status_sample ok = {.bytes = 4096, .bytes_skipped = 1023, .decode_errors = 1};
    CHECK(!comb_status_baud_hint(&s, &ok, hint, sizeof hint));
    CHECK(s.hint_decided);
    comb_status_sample bad = {.bytes = 1 << 20, .bytes_skipped = 1 << 20, .decode_errors = 9999};
    CHECK(!comb_status_baud_hint(&s, &bad, hint, sizeof hint));

    /* exactly half skipped: hint; just under: none */
    comb_status_init(&s, 0, "comb log");
    comb_status_sample half = {.bytes = 8192, .bytes_skipped = 4096};
    CHECK(comb_status_baud_hint(&s, &half, hint, sizeof hint));
    check_contains(hint, "50%");
    comb_status_init(&s, 0, "comb log");
    half.bytes_skipped = 4095;
    CHECK(!comb_status_baud_hint(&s, &half, hint, sizeof hint));

    /* synchronised but one decode error per 128 bytes or more: hint */
    comb_status_init(&s, 0, "comb log");
    comb_status_sample dense = {.bytes = 8192, .bytes_skipped = 600, .decode_errors = 64};
    CHECK(comb_status_baud_hint(&s, &dense, hint, sizeof hint));
    check_contains(hint, "64 decode errors");
    comb_status_init(&s, 0, "comb log");
    dense.decode_errors = 63;
    CHECK(!comb_status_baud_hint(&s, &dense, hint, sizeof hint));

    /* inconsistent input (more skipped than read) is clamped, not a crash */
    comb_status_init(&s, 0, "comb log");
    comb_status_sample odd = {.bytes = 5000, .bytes_skipped = 9000};
    CHECK(comb_status_baud_hint(&s, &odd, hint, sizeof hint));
    check_contains(hint, "100%");
}

/* Both texts start with the command they run under. */
static void test_label(void)
{
    comb_status s;
    char text[300];
    comb_status_init(&s, 0, "comb heap trace");
    comb_status_sample c = {.bytes = 4096, .bytes_skipped = 4096, .decode_errors = 1};
    comb_status_update(&s, &c, 250000000);
    comb_status_format(&s, &c, 250000000, text, sizeof text, 0);
    CHECK(strncmp(text, "comb heap trace: 0:00:00  ", 26) == 0);
    CHECK(comb_status_baud_hint(&s, &c, text, sizeof text));
    CHECK(strncmp(text, "comb heap trace: hint: ", 23) == 0);
}

int main(void)
{
    test_due();
    test_rates_and_text();
    test_fmt_rate();
    test_baud_hint();
    test_label();
    return check_finish("test_capture_status");
}
