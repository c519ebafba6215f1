/*
 * libFuzzer target: the ITM decoder (itm_decoder.h), with the trace event
 * decoder and the JSON printer on top.
 *
 * Input: one control byte, then the stream. Control bit 0 picks the sync mode
 * (wait/assume); the other bits seed the chunking of the second decode.
 *
 * Oracles (abort on violation, so libFuzzer reports it):
 * - chunk-split invariance: decoding the stream whole and in random chunks
 *   gives exactly the same packets;
 * - tiling: packets are contiguous, in order, and cover every byte exactly once;
 * - the stats agree with the packets;
 * - the JSON of every packet fits what snprintf semantics promise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/itm_decoder.h"
#include "comb/trace_decoder.h"

#define MAX_PACKETS (1u << 16)

typedef struct collected {
    comb_itm_packet *p;
    size_t n;
    comb_trace_decoder trace;
    uint64_t events, trace_errors;
    int json; /* also print every packet as JSON */
} collected;

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_itm_decoder: oracle violated: %s\n", what);
        abort();
    }
}

static void on_event(void *ctx, const comb_trace_event *e)
{
    collected *c = ctx;
    check(e->nfields <= COMB_EVT_MAX_FIELDS, "event field count");
    c->events++;
}

static void on_trace_error(void *ctx, unsigned port, comb_trace_error error, uint64_t offset)
{
    collected *c = ctx;
    (void)offset;
    check(port < 32 && error < COMB_TRACE_ERR_COUNT, "trace error fields");
    c->trace_errors++;
}

static void on_packet(void *ctx, const comb_itm_packet *pk)
{
    collected *c = ctx;
    check(c->n < MAX_PACKETS, "more packets than bytes");
    c->p[c->n++] = *pk;
    comb_trace_decoder_packet(&c->trace, pk);
    if (!c->json)
        return;
    char small[16], big[512];
    int need = comb_itm_packet_to_json(pk, small, sizeof small);
    check(need >= 0 && strlen(small) < sizeof small, "json truncation");
    int got = comb_itm_packet_to_json(pk, big, sizeof big);
    check(got == need && (size_t)got < sizeof big && strlen(big) == (size_t)got, "json length");
}

static void decode(collected *c, comb_itm_sync_mode mode, const uint8_t *data, size_t size, uint32_t seed)
{
    c->n = 0;
    c->events = c->trace_errors = 0;
    comb_trace_decoder_init(&c->trace, COMB_TRACE_DEFAULT_PORTS,
                            (comb_trace_sink){.event = on_event, .error = on_trace_error, .ctx = c});
    comb_itm_decoder d;
    comb_itm_decoder_init(&d, mode);
    size_t i = 0;
    while (i < size) {
        size_t k = size - i;
        if (seed) { /* xorshift: chunks of 1..16 bytes */
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
            k = 1 + seed % 16;
            if (k > size - i)
                k = size - i;
        }
        comb_itm_decoder_feed(&d, data + i, k, on_packet, c);
        i += k;
    }
    comb_itm_decoder_finish(&d, on_packet, c);
    comb_trace_decoder_finish(&c->trace);

    /* tiling and stats */
    const comb_itm_stats *st = comb_itm_decoder_stats(&d);
    check(st->bytes == size, "stats.bytes");
    uint64_t off = 0, skipped = 0, per_kind[COMB_ITM_KIND_COUNT] = {0};
    for (size_t k = 0; k < c->n; k++) {
        const comb_itm_packet *p = &c->p[k];
        check(p->offset == off, "packets are contiguous");
        check(p->length > 0, "empty packet");
        check(p->kind < COMB_ITM_KIND_COUNT, "packet kind");
        off += p->length;
        per_kind[p->kind]++;
        if (p->kind == COMB_ITM_ERROR)
            skipped += p->length;
    }
    check(off == size, "packets cover every byte");
    check(st->bytes_skipped == skipped, "stats.bytes_skipped");
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        check(st->packets[k] == per_kind[k], "stats.packets");
}

static int same_packet(const comb_itm_packet *a, const comb_itm_packet *b)
{
    size_t raw = a->length < sizeof a->raw ? a->length : sizeof a->raw;
    return a->kind == b->kind && a->offset == b->offset && a->length == b->length && a->port == b->port &&
           a->size == b->size && a->value == b->value && a->tc == b->tc && a->clkch == b->clkch &&
           a->wrap == b->wrap && a->sh == b->sh && a->error == b->error && memcmp(a->raw, b->raw, raw) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static collected whole, split;
    if (!whole.p) {
        whole.p = malloc(MAX_PACKETS * sizeof *whole.p);
        split.p = malloc(MAX_PACKETS * sizeof *split.p);
    }
    if (size < 1 || size >= MAX_PACKETS)
        return 0;
    uint8_t ctl = data[0];
    comb_itm_sync_mode mode = (ctl & 1) ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT;
    whole.json = 1;
    decode(&whole, mode, data + 1, size - 1, 0);
    decode(&split, mode, data + 1, size - 1, 0x9E3779B9u ^ (uint32_t)ctl << 8 ^ (uint32_t)size);
    check(whole.n == split.n, "chunking changes the packet count");
    for (size_t k = 0; k < whole.n; k++)
        check(same_packet(&whole.p[k], &split.p[k]), "chunking changes a packet");
    check(whole.events == split.events && whole.trace_errors == split.trace_errors, "chunking changes events");
    return 0;
}
