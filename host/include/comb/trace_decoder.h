/*
 * Trace event decoder: turns the ITM packets of the trace ports (30 and 31 by
 * default) into protocol v1 events (trace-protocol/SPEC.md).
 *
 * Feed it every packet the ITM decoder produces, in order. It keeps one stack
 * of partially received events per port: a 1-byte packet opens an event, 2-
 * and 4-byte packets fill the innermost open one, and an event is delivered the
 * moment its last field arrives. Events preempted by an interrupt therefore come
 * out after the interrupt's own events (completion order); sort by timestamp for
 * time order.
 *
 * Lost data is never guessed at: an ITM overflow or decode error abandons every
 * partial event (reported as COMB_TRACE_ERR_TRUNCATED), a field with no open
 * event is reported and dropped, and an event whose field sizes do not match its
 * schema is reported and dropped. Events of types unknown to v1 are delivered
 * with schema == NULL so newer firmware stays readable.
 *
 * No allocation; not thread-safe (one per stream).
 */
#ifndef COMB_TRACE_DECODER_H
#define COMB_TRACE_DECODER_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/itm_decoder.h"
#include "comb/trace_protocol.h"

typedef struct comb_trace_event {
    uint8_t port;
    uint8_t type;
    const struct comb_evt_schema *schema; /* NULL for a type v1 does not define */
    uint8_t nfields;
    uint8_t sizes[COMB_EVT_MAX_FIELDS];   /* 2 or 4 */
    uint32_t values[COMB_EVT_MAX_FIELDS];
    bool has_caller;                      /* trailing optional caller field present */
    uint8_t depth;                        /* events still open below it on its port */
    uint64_t offset;                      /* stream offset of the header packet */
} comb_trace_event;

typedef enum comb_trace_error {
    COMB_TRACE_ERR_ORPHAN_FIELD = 0, /* field packet with no open event            */
    COMB_TRACE_ERR_BAD_SHAPE,        /* field count/sizes do not match the type    */
    COMB_TRACE_ERR_TOO_DEEP,         /* more than COMB_EVT_MAX_NESTING open events */
    COMB_TRACE_ERR_TRUNCATED,        /* open event abandoned (overflow, error, end) */
    COMB_TRACE_ERR_COUNT
} comb_trace_error;

typedef struct comb_trace_sink {
    void (*event)(void *ctx, const comb_trace_event *event);
    void (*error)(void *ctx, unsigned port, comb_trace_error error, uint64_t offset);
    void *ctx;
} comb_trace_sink;

typedef struct comb_trace_decoder_stats {
    uint64_t events;
    uint64_t errors[COMB_TRACE_ERR_COUNT];
} comb_trace_decoder_stats;

typedef struct comb_trace_open_event {
    comb_trace_event ev;
    uint8_t expected; /* fields announced by the header */
} comb_trace_open_event;

typedef struct comb_trace_decoder {
    uint32_t port_mask; /* ports carrying trace events */
    comb_trace_sink sink;
    uint8_t depth[COMB_PORT_COUNT];
    comb_trace_open_event open[COMB_PORT_COUNT][COMB_EVT_MAX_NESTING];
    comb_trace_decoder_stats stats;
} comb_trace_decoder;

/* The default trace ports: 30 and 31. */
#define COMB_TRACE_DEFAULT_PORTS ((1u << COMB_PORT_SCHED) | (1u << COMB_PORT_HEAP))

void comb_trace_decoder_init(comb_trace_decoder *d, uint32_t port_mask, comb_trace_sink sink);

/* True when `packet` is a SWIT packet on one of the decoder's trace ports
 * (everything else is the caller's to route, e.g. log ports). */
bool comb_trace_decoder_owns(const comb_trace_decoder *d, const comb_itm_packet *packet);

/* Feed one ITM packet. SWIT packets on other ports and timestamps are ignored;
 * overflow and error packets abandon all open events. */
void comb_trace_decoder_packet(comb_trace_decoder *d, const comb_itm_packet *packet);

/* End of stream: abandons (and reports) every open event. */
void comb_trace_decoder_finish(comb_trace_decoder *d);

/* Field value by schema name ("ptr", "size", "ts", ...); false if absent. */
bool comb_trace_event_field(const comb_trace_event *event, const char *name, uint32_t *value);

/* Stable event name: the schema name, or "unknown_<type>". Writes into buf. */
const char *comb_trace_event_name(const comb_trace_event *event, char *buf, unsigned cap);

const char *comb_trace_error_name(comb_trace_error error);

/* Extends 32-bit target timestamps to 64 bits: picks the value closest to the
 * previous one, so wraps forward and small backward steps (events completed
 * out of order by nesting) both come out right, as long as consecutive events
 * are less than 2^31 ticks apart. */
typedef struct comb_ts_extender {
    bool started;
    uint64_t last;
} comb_ts_extender;
uint64_t comb_ts_extend(comb_ts_extender *x, uint32_t ts);

#endif /* COMB_TRACE_DECODER_H */
