/*
 * The capture pipeline behind `comb log`: bytes -> ITM decoder -> per port:
 *   - every port: raw payload bytes to the outputs that select it (so
 *     `heap.bin:31` gets port 31's payload, as with Drone);
 *   - log ports (everything but the trace ports): lines (split at '\n', at
 *     most COMB_CAPTURE_LINE_MAX bytes) to the session store;
 *   - trace ports (30, 31): the trace event decoder; events go to the store
 *     (each into the table of its kind, session_store.h), SESSION_START fills
 *     the session row, SESSION_END is acknowledged to the target
 *     (COMB_HOST_ACK) when the source can be written to, once everything
 *     before it is committed.
 * Decode errors of both layers are counted and stored. The pipeline owns no
 * I/O loop: the caller feeds it bytes, so tests can drive it directly.
 */
#ifndef COMB_CAPTURE_H
#define COMB_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/itm_decoder.h"
#include "comb/output_selector.h"
#include "comb/session_store.h"
#include "comb/source.h"
#include "comb/trace_decoder.h"

#define COMB_CAPTURE_LINE_MAX 1024

typedef struct comb_capture_config {
    comb_itm_sync_mode sync_mode;
    comb_outputs *outputs;  /* may be NULL */
    comb_store *store;      /* may be NULL: no database */
    comb_source *ack_to;    /* may be NULL: never acknowledge */
    uint32_t store_ports;   /* 0: store every port; else only log lines and events of these
                               ports (bit n = port n); session events are always stored */
} comb_capture_config;

typedef struct comb_capture {
    comb_capture_config cfg;
    comb_itm_decoder itm;
    comb_trace_decoder trace;
    comb_ts_extender ts;
    comb_session_counters counters;
    int64_t now_ns;          /* host time of the chunk being fed */
    bool itm_time_known;     /* the stream carried ITM timestamps */
    uint64_t itm_time;       /* cumulative ITM local timestamp (plus GTS when known) */
    bool session_ended;      /* SESSION_END seen */
    bool store_failed;
    int8_t ts_field[256];    /* per event type: 1 + index of its "ts" field, -1 none, 0 not looked up yet */
    struct {
        uint8_t buf[COMB_CAPTURE_LINE_MAX];
        uint32_t len;
        int64_t first_ns;
        int64_t itm_ts;
    } line[COMB_PORT_COUNT];
} comb_capture;

void comb_capture_init(comb_capture *c, const comb_capture_config *cfg);

/* Feeds bytes that arrived at host time `host_ns` (ns since the Unix epoch). */
void comb_capture_feed(comb_capture *c, const uint8_t *bytes, size_t n, int64_t host_ns);

/* End of input: reports truncated packets/events, stores partial lines. */
void comb_capture_finish(comb_capture *c);

/* Commits during a capture (docs/capture.md): one at least every
 * COMB_CAPTURE_COMMIT_BOUND_NS. The loop starts one once COMB_CAPTURE_COMMIT_EVERY_NS
 * have passed since the last one finished, and never waits for input beyond that
 * point; the 50 ms between the two cover feeding the last read (at most 64 KiB)
 * and the commit itself, on a disk that keeps up with the stream. */
#define COMB_CAPTURE_COMMIT_BOUND_NS 250000000
#define COMB_CAPTURE_COMMIT_EVERY_NS 200000000

/* Whether a commit is due at now_ns (monotonic ns) when the last one finished at last_commit_ns. */
bool comb_capture_commit_due(int64_t now_ns, int64_t last_commit_ns);

/* How long a read may wait for input at now_ns: up to max_ms, but not past
 * the point where the next commit is due (rounded up to whole ms); 0 when it is due. */
int comb_capture_read_timeout_ms(int64_t now_ns, int64_t last_commit_ns, int max_ms);

/* Host wall clock in ns since the Unix epoch. */
int64_t comb_now_ns(void);

#endif
