/*
 * Host decoder against the golden vectors: ITM decoder + trace event decoder
 * must turn each vector's bytes into exactly its event, error and log lines,
 * whatever the chunking of the input.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/itm_decoder.h"
#include "comb/trace_decoder.h"
#include "vector_file.h"

struct got {
    comb_trace_decoder td;
    comb_trace_event events[VEC_MAX_ITEMS];
    unsigned nevents;
    struct {
        unsigned port;
        comb_trace_error e;
    } errors[VEC_MAX_ITEMS];
    unsigned nerrors;
    uint8_t log[32][256];
    size_t loglen[32];
};

static void on_event(void *ctx, const comb_trace_event *ev)
{
    struct got *g = ctx;
    if (g->nevents < VEC_MAX_ITEMS)
        g->events[g->nevents] = *ev;
    g->nevents++;
}

static void on_error(void *ctx, unsigned port, comb_trace_error e, uint64_t offset)
{
    (void)offset;
    struct got *g = ctx;
    if (g->nerrors < VEC_MAX_ITEMS) {
        g->errors[g->nerrors].port = port;
        g->errors[g->nerrors].e = e;
    }
    g->nerrors++;
}

static void on_packet(void *ctx, const comb_itm_packet *p)
{
    struct got *g = ctx;
    if (comb_trace_decoder_owns(&g->td, p) || p->kind != COMB_ITM_SWIT) {
        comb_trace_decoder_packet(&g->td, p);
        return;
    }
    if (p->port < 32)
        for (unsigned i = 0; i < p->size && g->loglen[p->port] < 256; i++)
            g->log[p->port][g->loglen[p->port]++] = (uint8_t)(p->value >> (8 * i));
}

static void decode(const struct vector *v, struct got *g, size_t chunk)
{
    memset(g, 0, sizeof *g);
    comb_trace_decoder_init(&g->td, COMB_TRACE_DEFAULT_PORTS,
                            (comb_trace_sink){.event = on_event, .error = on_error, .ctx = g});
    comb_itm_decoder itm;
    comb_itm_decoder_init(&itm, COMB_ITM_SYNC_ASSUME);
    for (size_t off = 0; off < v->nbytes; off += chunk) {
        size_t n = v->nbytes - off < chunk ? v->nbytes - off : chunk;
        comb_itm_decoder_feed(&itm, v->bytes + off, n, on_packet, g);
    }
    comb_itm_decoder_finish(&itm, on_packet, g);
    comb_trace_decoder_finish(&g->td);
}

static int same_event(const struct vec_event *want, const comb_trace_event *got)
{
    char buf[32];
    if (want->port != got->port || strcmp(want->name, comb_trace_event_name(got, buf, sizeof buf)) != 0)
        return 0;
    if (!got->schema) { /* unknown type: fields are f0, f1, ... */
        if (want->nfields != got->nfields)
            return 0;
        for (unsigned i = 0; i < got->nfields; i++) {
            char fname[8];
            uint64_t val;
            snprintf(fname, sizeof fname, "f%u", i);
            if (vec_event_get(want, fname, &val) || val != got->values[i])
                return 0;
        }
        return 1;
    }
    if (want->nfields != got->nfields)
        return 0;
    for (unsigned i = 0; i < want->nfields; i++) {
        uint32_t val;
        if (!comb_trace_event_field(got, want->fields[i].name, &val) || val != want->fields[i].value)
            return 0;
    }
    return 1;
}

static void check_vector(const struct vector *v, size_t chunk)
{
    struct got *g = calloc(1, sizeof *g);
    decode(v, g, chunk);
    int ok = g->nevents == v->nevents && g->nerrors == v->nerrors;
    for (unsigned i = 0; ok && i < v->nevents; i++)
        ok = same_event(&v->events[i], &g->events[i]);
    for (unsigned i = 0; ok && i < v->nerrors; i++)
        ok = g->errors[i].port == v->errors[i].port &&
             strcmp(comb_trace_error_name(g->errors[i].e), v->errors[i].name) == 0;
    size_t want_len[32] = {0};
    for (unsigned i = 0; i < v->nlogs; i++) {
        unsigned p = v->logs[i].port;
        ok = ok && p < 32 && g->loglen[p] >= want_len[p] + v->logs[i].len &&
             memcmp(g->log[p] + want_len[p], v->logs[i].text, v->logs[i].len) == 0;
        if (p < 32)
            want_len[p] += v->logs[i].len;
    }
    for (unsigned p = 0; p < 32; p++)
        ok = ok && g->loglen[p] == want_len[p];
    check_count++;
    if (!ok) {
        check_failures++;
        fprintf(stderr, "%s/%s (chunk %zu): got %u events, %u errors (want %u, %u)\n", v->file, v->name,
                chunk, g->nevents, g->nerrors, v->nevents, v->nerrors);
        for (unsigned i = 0; i < g->nevents && i < VEC_MAX_ITEMS; i++) {
            char buf[32];
            fprintf(stderr, "  event %u: port %u %s", i, g->events[i].port,
                    comb_trace_event_name(&g->events[i], buf, sizeof buf));
            for (unsigned f = 0; f < g->events[i].nfields; f++)
                fprintf(stderr, " 0x%x", (unsigned)g->events[i].values[f]);
            fprintf(stderr, "\n");
        }
        for (unsigned i = 0; i < g->nerrors && i < VEC_MAX_ITEMS; i++)
            fprintf(stderr, "  error %u: port %u %s\n", i, g->errors[i].port,
                    comb_trace_error_name(g->errors[i].e));
    }
    free(g);
}

static void test_ts_extend(void)
{
    comb_ts_extender x = {0};
    CHECK_EQ_U64(comb_ts_extend(&x, 0xFFFFFFF0u), 0xFFFFFFF0u);
    CHECK_EQ_U64(comb_ts_extend(&x, 0x00000010u), 0x100000010ull);  /* forward wrap */
    CHECK_EQ_U64(comb_ts_extend(&x, 0xFFFFFFFFu), 0xFFFFFFFFull);   /* nested event, slightly earlier */
    CHECK_EQ_U64(comb_ts_extend(&x, 0x00000020u), 0x100000020ull);
    comb_ts_extender y = {0};
    CHECK_EQ_U64(comb_ts_extend(&y, 100), 100);
    CHECK_EQ_U64(comb_ts_extend(&y, 0xFFFFFFF0u), 0); /* would go below zero: clamped */
}

int main(void)
{
    size_t n;
    struct vector *v = vectors_load(COMB_VECTORS_DIR, &n);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        check_vector(&v[i], v[i].nbytes ? v[i].nbytes : 1);
        check_vector(&v[i], 1);
        check_vector(&v[i], 3);
    }
    free(v);
    test_ts_extend();
    return check_finish("test_trace_vectors");
}
