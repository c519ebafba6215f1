/*
 * For the scheduler unit tests (test_thread*.c, test_fiber*.c): the port-30
 * events of the host port's captured UART bytes, decoded with one nesting
 * stack as SPEC.md 3.2 describes (sync packets skipped). Header-only: each
 * test is its own executable.
 */
#ifndef COMB_TEST_SCHED_EVENTS_H
#define COMB_TEST_SCHED_EVENTS_H

#include <stdint.h>
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/trace_protocol.h"

struct sched_event {
    unsigned type, n;
    uint32_t f[7];
};

#define SCHED_EVENTS_MAX 4096u

/* Completed events of port 30 in completion order; returns their number. */
static inline unsigned sched_events(struct sched_event *ev, unsigned max)
{
    size_t len;
    const uint8_t *b = comb_host_sent(&len);
    struct sched_event open[COMB_EVT_MAX_NESTING];
    unsigned need[COMB_EVT_MAX_NESTING];
    unsigned depth = 0, n = 0;
    for (size_t i = 0; i < len;) {
        if (b[i] == 0x00u) { /* sync: 00 00 00 00 00 80 */
            CHECK(i + 6 <= len && b[i + 5] == COMB_ITM_SYNC_LAST);
            i += 6;
            continue;
        }
        unsigned port = b[i] >> 3, size = COMB_ITM_SS_BYTES(b[i]);
        CHECK(size != 0 && i + 1 + size <= len);
        if (size == 0 || i + 1 + size > len)
            break;
        uint32_t v = 0;
        for (unsigned k = 0; k < size; k++)
            v |= (uint32_t)b[i + 1 + k] << (8 * k);
        i += 1 + size;
        if (port != COMB_PORT_SCHED)
            continue;
        if (size == 1) {
            CHECK(depth < COMB_EVT_MAX_NESTING);
            if (depth >= COMB_EVT_MAX_NESTING)
                break;
            memset(&open[depth], 0, sizeof open[depth]);
            open[depth].type = COMB_EVT_HEADER_TYPE(v);
            need[depth] = COMB_EVT_HEADER_NFIELDS(v);
            depth++;
        } else {
            CHECK(depth > 0);
            if (depth == 0)
                continue;
            open[depth - 1].f[open[depth - 1].n++] = v;
            need[depth - 1]--;
        }
        while (depth > 0 && need[depth - 1] == 0) {
            depth--;
            CHECK(n < max);
            if (n < max)
                ev[n++] = open[depth];
        }
    }
    CHECK_EQ_U64(depth, 0);
    return n;
}

/* Events of one type (and thread, unless thr is ~0u) among ev[0..n). */
static inline unsigned sched_count(const struct sched_event *ev, unsigned n, unsigned type, unsigned thr)
{
    unsigned c = 0;
    for (unsigned i = 0; i < n; i++)
        if (ev[i].type == type && (thr == ~0u || ev[i].f[0] == thr))
            c++;
    return c;
}

static inline uint32_t sched_lo32(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

#endif /* COMB_TEST_SCHED_EVENTS_H */
