#include "comb/capture.h"

#include <string.h>
#include <time.h>

int64_t comb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool comb_capture_commit_due(int64_t now_ns, int64_t last_commit_ns)
{
    return now_ns - last_commit_ns >= COMB_CAPTURE_COMMIT_EVERY_NS;
}

int comb_capture_read_timeout_ms(int64_t now_ns, int64_t last_commit_ns, int max_ms)
{
    int64_t left = last_commit_ns + COMB_CAPTURE_COMMIT_EVERY_NS - now_ns;
    if (left <= 0)
        return 0;
    int64_t ms = (left + 999999) / 1000000;
    return ms < max_ms ? (int)ms : max_ms;
}

static void store_result(comb_capture *c, int rc)
{
    if (rc)
        c->store_failed = true;
}

/* Whether data of `port` goes to the database (config.store_ports). */
static bool stored(const comb_capture *c, unsigned port)
{
    return c->cfg.store && !c->store_failed && (!c->cfg.store_ports || (c->cfg.store_ports >> port & 1u));
}

static void flush_line(comb_capture *c, unsigned port)
{
    if (!c->line[port].len)
        return;
    c->counters.log_lines++;
    if (stored(c, port))
        store_result(c, comb_store_log_line(c->cfg.store, port, c->line[port].first_ns, c->line[port].itm_ts,
                                            c->line[port].buf, c->line[port].len));
    c->line[port].len = 0;
}

static void log_bytes(comb_capture *c, unsigned port, const uint8_t *b, unsigned n)
{
    if (c->cfg.outputs)
        comb_outputs_write(c->cfg.outputs, port, b, n);
    for (unsigned i = 0; i < n; i++) {
        /* A line longer than the maximum is split before its (MAX+1)-th byte, so a
         * line of exactly COMB_CAPTURE_LINE_MAX bytes stays one line (no empty
         * line after it when its '\n' arrives). */
        if (b[i] != '\n' && c->line[port].len == COMB_CAPTURE_LINE_MAX)
            flush_line(c, port);
        if (c->line[port].len == 0) {
            c->line[port].first_ns = c->now_ns;
            c->line[port].itm_ts = c->itm_time_known ? (int64_t)c->itm_time : -1;
        }
        if (b[i] == '\n') {
            if (c->line[port].len == 0) { /* an empty line is still a line */
                c->counters.log_lines++;
                if (stored(c, port))
                    store_result(c, comb_store_log_line(c->cfg.store, port, c->now_ns, c->line[port].itm_ts,
                                                        NULL, 0));
                continue;
            }
            flush_line(c, port);
            continue;
        }
        c->line[port].buf[c->line[port].len++] = b[i];
    }
}

/* The event's "ts" field. Its position is looked up by name once per event
 * type: by name for every event, the lookup was 6 % of a capture's time. */
static bool ts_field(comb_capture *c, const comb_trace_event *ev, uint32_t *v)
{
    int8_t *slot = &c->ts_field[ev->type];
    if (!ev->schema)
        return false;
    if (*slot == 0) {
        *slot = -1;
        for (unsigned i = 0; i < COMB_EVT_MAX_FIELDS && ev->schema->field_names[i]; i++)
            if (strcmp(ev->schema->field_names[i], "ts") == 0)
                *slot = (int8_t)(i + 1);
    }
    if (*slot < 0 || (unsigned)*slot > ev->nfields)
        return false;
    *v = ev->values[*slot - 1];
    return true;
}

static void on_event(void *ctx, const comb_trace_event *ev)
{
    comb_capture *c = ctx;
    c->counters.events++;
    uint32_t v, hi;
    int64_t ts64 = -1;
    if (ev->type == COMB_EVT_CLOCK && comb_trace_event_field(ev, "ts_lo", &v) &&
        comb_trace_event_field(ev, "ts_hi", &hi)) {
        c->ts.started = true;
        c->ts.last = ((uint64_t)hi << 32) | v;
        ts64 = (int64_t)c->ts.last;
    } else if (ts_field(c, ev, &v)) {
        ts64 = (int64_t)comb_ts_extend(&c->ts, v);
    }
    if (ev->type == COMB_EVT_DROPPED && comb_trace_event_field(ev, "packets", &v))
        c->counters.dropped += v;
    if (c->cfg.store && !c->store_failed) {
        if (ev->type == COMB_EVT_SESSION_START)
            store_result(c, comb_store_session_start_event(c->cfg.store, ev));
        /* session/control events (types below the heap range) are always kept */
        if (ev->type < COMB_EVT_HEAP_ALLOC || stored(c, ev->port))
            store_result(c, comb_store_event(c->cfg.store, ev, ts64)); /* into its typed table */
    }
    if (ev->type == COMB_EVT_SESSION_END) {
        c->session_ended = true;
        if (c->cfg.ack_to) {
            /* Everything before SESSION_END is decoded; commit it before the target may exit. */
            if (c->cfg.store && !c->store_failed)
                store_result(c, comb_store_checkpoint(c->cfg.store, &c->counters));
            if (c->cfg.outputs)
                comb_outputs_flush(c->cfg.outputs);
            const uint8_t ack = COMB_HOST_ACK;
            if (comb_source_write(c->cfg.ack_to, &ack, 1) == 0)
                c->counters.acks++;
        }
    }
}

static void on_trace_error(void *ctx, unsigned port, comb_trace_error e, uint64_t offset)
{
    comb_capture *c = ctx;
    c->counters.trace_errors++;
    if (c->cfg.store && !c->store_failed)
        store_result(c, comb_store_decode_error(c->cfg.store, offset, "trace", comb_trace_error_name(e), (int)port, 0));
}

static void on_packet(void *ctx, const comb_itm_packet *p)
{
    comb_capture *c = ctx;
    c->counters.packets++;
    switch (p->kind) {
    case COMB_ITM_SWIT:
        if (p->port < COMB_PORT_COUNT && p->size <= 4) {
            uint8_t b[4];
            for (unsigned i = 0; i < p->size; i++)
                b[i] = (uint8_t)(p->value >> (8 * i));
            if (comb_trace_decoder_owns(&c->trace, p)) {
                /* trace ports: raw payload to the outputs that select them ("heap.bin:31"), events to the store */
                if (c->cfg.outputs)
                    comb_outputs_write(c->cfg.outputs, p->port, b, p->size);
                comb_trace_decoder_packet(&c->trace, p);
            } else {
                log_bytes(c, p->port, b, p->size);
            }
        }
        return;
    case COMB_ITM_LTS:
        c->itm_time_known = true;
        c->itm_time += p->value;
        return;
    case COMB_ITM_GTS1:
        /* low 26 bits replace; the next LTS deltas count from here */
        c->itm_time_known = true;
        c->itm_time = (c->itm_time & ~(uint64_t)0x3FFFFFF) | (p->value & 0x3FFFFFF);
        return;
    case COMB_ITM_GTS2:
        c->itm_time = (c->itm_time & 0x3FFFFFF) | (p->value << 26);
        return;
    case COMB_ITM_OVERFLOW:
        c->counters.overflows++;
        comb_trace_decoder_packet(&c->trace, p);
        return;
    case COMB_ITM_ERROR:
        c->counters.decode_errors++;
        c->counters.bytes_skipped += p->length;
        if (c->cfg.store && !c->store_failed)
            store_result(c, comb_store_decode_error(c->cfg.store, p->offset, "itm", comb_itm_error_name(p->error),
                                                    -1, p->length));
        comb_trace_decoder_packet(&c->trace, p);
        return;
    default:
        return;
    }
}

void comb_capture_init(comb_capture *c, const comb_capture_config *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    comb_itm_decoder_init(&c->itm, cfg->sync_mode);
    comb_trace_decoder_init(&c->trace, COMB_TRACE_DEFAULT_PORTS,
                            (comb_trace_sink){.event = on_event, .error = on_trace_error, .ctx = c});
}

void comb_capture_feed(comb_capture *c, const uint8_t *bytes, size_t n, int64_t host_ns)
{
    c->now_ns = host_ns;
    c->counters.bytes += n;
    comb_itm_decoder_feed(&c->itm, bytes, n, on_packet, c);
}

void comb_capture_finish(comb_capture *c)
{
    comb_itm_decoder_finish(&c->itm, on_packet, c);
    comb_trace_decoder_finish(&c->trace);
    for (unsigned port = 0; port < COMB_PORT_COUNT; port++)
        flush_line(c, port);
    if (c->cfg.outputs)
        comb_outputs_flush(c->cfg.outputs);
}
