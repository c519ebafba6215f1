#include "comb/trace_decoder.h"

#include <stdio.h>
#include <string.h>

void comb_trace_decoder_init(comb_trace_decoder *d, uint32_t port_mask, comb_trace_sink sink)
{
    memset(d, 0, sizeof *d);
    d->port_mask = port_mask;
    d->sink = sink;
}

static void report(comb_trace_decoder *d, unsigned port, comb_trace_error e, uint64_t offset)
{
    d->stats.errors[e]++;
    if (d->sink.error)
        d->sink.error(d->sink.ctx, port, e, offset);
}

static bool field_fits(uint8_t kind, uint8_t size)
{
    switch (kind) {
    case COMB_F_U16: return size == 2;
    case COMB_F_U32: return size == 4;
    case COMB_F_SIZE: return size == 2 || size == 4;
    default: return false;
    }
}

/* Checks an event against its schema; unknown types pass (forward compatible). */
static bool shape_ok(comb_trace_event *ev)
{
    if (ev->type == COMB_EVT_INVALID)
        return false;
    const struct comb_evt_schema *s = ev->schema;
    if (!s)
        return true;
    if (ev->nfields != s->nfields && !(s->optional_caller && ev->nfields == s->nfields + 1))
        return false;
    for (unsigned i = 0; i < s->nfields; i++)
        if (!field_fits(s->kinds[i], ev->sizes[i]))
            return false;
    ev->has_caller = ev->nfields > s->nfields;
    if (ev->has_caller && ev->sizes[s->nfields] != 4)
        return false;
    return true;
}

static void complete(comb_trace_decoder *d, unsigned port)
{
    comb_trace_event *ev = &d->open[port][--d->depth[port]].ev;
    if (!shape_ok(ev)) {
        report(d, port, COMB_TRACE_ERR_BAD_SHAPE, ev->offset);
        return;
    }
    ev->depth = d->depth[port];
    d->stats.events++;
    if (d->sink.event)
        d->sink.event(d->sink.ctx, ev);
}

static void abandon_all(comb_trace_decoder *d)
{
    for (unsigned port = 0; port < COMB_PORT_COUNT; port++)
        while (d->depth[port]) {
            d->depth[port]--;
            report(d, port, COMB_TRACE_ERR_TRUNCATED, d->open[port][d->depth[port]].ev.offset);
        }
}

bool comb_trace_decoder_owns(const comb_trace_decoder *d, const comb_itm_packet *p)
{
    return p->kind == COMB_ITM_SWIT && p->port < COMB_PORT_COUNT && ((d->port_mask >> p->port) & 1u);
}

void comb_trace_decoder_packet(comb_trace_decoder *d, const comb_itm_packet *p)
{
    if (p->kind == COMB_ITM_OVERFLOW || p->kind == COMB_ITM_ERROR) {
        abandon_all(d);
        return;
    }
    if (!comb_trace_decoder_owns(d, p))
        return;
    unsigned port = p->port;
    if (p->size == 1) { /* header: opens an event */
        if (d->depth[port] == COMB_EVT_MAX_NESTING) {
            report(d, port, COMB_TRACE_ERR_TOO_DEEP, p->offset);
            return;
        }
        comb_trace_open_event *o = &d->open[port][d->depth[port]++];
        memset(o, 0, sizeof *o);
        o->ev.port = (uint8_t)port;
        o->ev.type = (uint8_t)COMB_EVT_HEADER_TYPE(p->value);
        o->ev.schema = comb_evt_schema_of(o->ev.type);
        o->ev.offset = p->offset;
        o->expected = (uint8_t)COMB_EVT_HEADER_NFIELDS(p->value);
        if (o->expected == 0)
            complete(d, port);
        return;
    }
    if (d->depth[port] == 0) {
        report(d, port, COMB_TRACE_ERR_ORPHAN_FIELD, p->offset);
        return;
    }
    comb_trace_open_event *o = &d->open[port][d->depth[port] - 1];
    o->ev.sizes[o->ev.nfields] = p->size;
    o->ev.values[o->ev.nfields] = (uint32_t)p->value;
    o->ev.nfields++;
    if (o->ev.nfields == o->expected)
        complete(d, port);
}

void comb_trace_decoder_finish(comb_trace_decoder *d)
{
    abandon_all(d);
}

bool comb_trace_event_field(const comb_trace_event *ev, const char *name, uint32_t *value)
{
    if (!ev->schema)
        return false;
    for (unsigned i = 0; i < ev->nfields && i < COMB_EVT_MAX_FIELDS && ev->schema->field_names[i]; i++)
        if (strcmp(ev->schema->field_names[i], name) == 0) {
            *value = ev->values[i];
            return true;
        }
    return false;
}

const char *comb_trace_event_name(const comb_trace_event *ev, char *buf, unsigned cap)
{
    if (ev->schema)
        return ev->schema->name;
    snprintf(buf, cap, "unknown_%u", (unsigned)ev->type);
    return buf;
}

const char *comb_trace_error_name(comb_trace_error e)
{
    static const char *const names[COMB_TRACE_ERR_COUNT] = {"orphan_field", "bad_shape", "too_deep",
                                                            "truncated"};
    return (unsigned)e < COMB_TRACE_ERR_COUNT ? names[e] : "unknown";
}

uint64_t comb_ts_extend(comb_ts_extender *x, uint32_t ts)
{
    if (!x->started) {
        x->started = true;
        x->last = ts;
        return ts;
    }
    int32_t step = (int32_t)(ts - (uint32_t)x->last);
    if (step < 0 && (uint64_t)(-(int64_t)step) > x->last)
        step = 0 - (int32_t)(uint32_t)x->last; /* never go below zero */
    x->last = (uint64_t)((int64_t)x->last + step);
    return x->last;
}
