/* Status line and baud-rate hint logic of the capture commands (capture_status.h). */
#include "comb/capture_status.h"

#include <stdio.h>
#include <string.h>

void comb_status_init(comb_status *s, int64_t now_ns, const char *label)
{
    memset(s, 0, sizeof *s);
    s->label = label;
    s->start_ns = now_ns;
    s->last_ns = now_ns;
}

bool comb_status_due(const comb_status *s, int64_t now_ns)
{
    return now_ns - s->last_ns >= COMB_STATUS_INTERVAL_NS;
}

static double per_second(uint64_t now, uint64_t before, int64_t dt_ns)
{
    if (dt_ns <= 0 || now < before)
        return 0.0;
    return (double)(now - before) * 1e9 / (double)dt_ns;
}

void comb_status_update(comb_status *s, const comb_status_sample *c, int64_t now_ns)
{
    int64_t dt = now_ns - s->last_ns;
    if (dt > 0) {
        s->bytes_per_s = per_second(c->bytes, s->last.bytes, dt);
        s->packets_per_s = per_second(c->packets, s->last.packets, dt);
    }
    s->last = *c;
    s->last_ns = now_ns;
}

void comb_status_fmt_rate(double v, const char *unit, char *buf, size_t cap)
{
    if (v < 0)
        v = 0;
    if (v < 1e3)
        snprintf(buf, cap, "%.0f %s", v, unit);
    else if (v < 1e6)
        snprintf(buf, cap, "%.*f k%s", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3, unit);
    else if (v < 1e9)
        snprintf(buf, cap, "%.*f M%s", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6, unit);
    else
        snprintf(buf, cap, "%.2f G%s", v / 1e9, unit);
}

size_t comb_status_format(const comb_status *s, const comb_status_sample *c, int64_t now_ns, char *buf, size_t cap,
                          unsigned width)
{
    if (cap == 0)
        return 0;
    int64_t el = (now_ns - s->start_ns) / 1000000000LL;
    if (el < 0)
        el = 0;
    char bps[32], pps[32];
    comb_status_fmt_rate(s->bytes_per_s, "B/s", bps, sizeof bps);
    comb_status_fmt_rate(s->packets_per_s, "pkt/s", pps, sizeof pps);
    int n = snprintf(buf, cap,
                     "%s: %lld:%02lld:%02lld  %s  %s  %llu events  %llu overflows  %llu errors  %llu skipped",
                     s->label, (long long)(el / 3600), (long long)(el / 60 % 60), (long long)(el % 60), bps, pps,
                     (unsigned long long)c->events, (unsigned long long)c->overflows,
                     (unsigned long long)c->decode_errors, (unsigned long long)c->bytes_skipped);
    size_t len = n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
    if (width > 0 && len > width - 1)
        len = width - 1;
    buf[len] = 0;
    return len;
}

bool comb_status_baud_hint(comb_status *s, const comb_status_sample *c, char *buf, size_t cap)
{
    if (s->hint_decided || c->bytes < COMB_STATUS_HINT_MIN_BYTES)
        return false;
    s->hint_decided = true;
    uint64_t skipped = c->bytes_skipped > c->bytes ? c->bytes : c->bytes_skipped;
    bool mostly_skipped = skipped * 2 >= c->bytes;
    bool error_dense = c->decode_errors * 128 >= c->bytes;
    if (!mostly_skipped && !error_dense)
        return false;
    unsigned pct = (unsigned)(skipped * 100 / c->bytes);
    snprintf(buf, cap,
             "%s: hint: %u%% of the first %llu bytes could not be decoded (%llu decode errors): the baud rate is "
             "probably wrong (it must match the target's within about 3%%)",
             s->label, pct, (unsigned long long)c->bytes, (unsigned long long)c->decode_errors);
    return true;
}
