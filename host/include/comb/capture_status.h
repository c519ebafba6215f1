/*
 * The live status line of `comb log` and the wrong-baud-rate hint, as pure
 * logic: the caller passes counter samples and times, the module computes
 * rates and formats text; it does no I/O and reads no clock, so tests drive
 * it with synthetic times.
 *
 * Status line (shown by comb log only when stderr is a terminal), refreshed
 * every COMB_STATUS_INTERVAL_NS:
 *
 *   comb log: 0:01:23  1.20 MB/s  240k pkt/s  1234567 events  0 overflows  0 errors  0 skipped
 *
 * Rates are taken over the interval since the previous refresh.
 *
 * Baud hint: decided once, on the first sample holding at least
 * COMB_STATUS_HINT_MIN_BYTES bytes. A target at the right rate sends a sync
 * packet at least every KiB (comb firmware) and decodes cleanly after it, so
 * when half of those first bytes could not be decoded (skipped, or still
 * waiting for a sync), or there is a decode error per 128 bytes, the line rate
 * is almost certainly wrong.
 */
#ifndef COMB_CAPTURE_STATUS_H
#define COMB_CAPTURE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMB_STATUS_INTERVAL_NS 250000000LL /* 4 refreshes a second */
#define COMB_STATUS_HINT_MIN_BYTES 4096u

/* What the status line shows; comb log fills it from the capture counters.
 * bytes_skipped should include bytes the decoder is still skipping while it
 * waits for a sync (they are only counted as skipped once the sync comes). */
typedef struct comb_status_sample {
    uint64_t bytes, packets, events, overflows, decode_errors, bytes_skipped;
} comb_status_sample;

typedef struct comb_status {
    const char *label; /* prefix of both texts: the command, e.g. "comb log" */
    int64_t start_ns;  /* init time */
    int64_t last_ns;   /* time of the last update */
    comb_status_sample last;
    double bytes_per_s, packets_per_s;
    bool hint_decided; /* the baud hint was given or ruled out */
} comb_status;

/* `label` (not copied; must outlive s) starts the status line and the hint. */
void comb_status_init(comb_status *s, int64_t now_ns, const char *label);

/* True when a refresh is due (COMB_STATUS_INTERVAL_NS since the last update). */
bool comb_status_due(const comb_status *s, int64_t now_ns);

/* Takes a new sample: recomputes the rates over the time since the last one. */
void comb_status_update(comb_status *s, const comb_status_sample *c, int64_t now_ns);

/* Formats the status line for sample c (no carriage return, no newline), cut
 * to at most width - 1 characters when width > 0 so the terminal never wraps
 * it. Returns the length written. */
size_t comb_status_format(const comb_status *s, const comb_status_sample *c, int64_t now_ns, char *buf, size_t cap,
                          unsigned width);

/* Returns true exactly once, when the first COMB_STATUS_HINT_MIN_BYTES bytes
 * look like a wrong line rate, and writes the one-line hint (no newline) to
 * buf. Returns false otherwise, and always once the decision has been made. */
bool comb_status_baud_hint(comb_status *s, const comb_status_sample *c, char *buf, size_t cap);

/* Human-readable rate: "950 B/s", "12.3 kB/s", "1.20 MB/s" (powers of 1000). */
void comb_status_fmt_rate(double per_s, const char *unit, char *buf, size_t cap);

#endif
