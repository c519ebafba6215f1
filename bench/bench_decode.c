/*
 * bench_decode: single-core throughput of the ITM decoder, alone and with the
 * trace event decoder behind it, on a deterministic in-memory stream.
 *
 *   bench_decode [--mb N] [--runs N] [--chunk BYTES] [--seed N] [--random-mb N]
 *
 * MB = 10^6 bytes. Streams are generated before timing (bench_gen.c); every
 * run is checked against what the generator wrote, so a fast but wrong decoder
 * cannot post a figure. See docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_gen.h"
#include "comb/itm_decoder.h"
#include "comb/trace_decoder.h"

typedef struct opts {
    uint64_t mb, random_mb, runs, chunk, seed;
} opts;

/* ---- sinks ------------------------------------------------------------------ */

/* The trivial sink of the timed ITM runs. */
typedef struct count_ctx {
    uint64_t n[COMB_ITM_KIND_COUNT];
} count_ctx;

static void count_sink(void *ctx, const comb_itm_packet *p)
{
    ((count_ctx *)ctx)->n[p->kind]++;
}

/* Untimed pass: what the decoder saw, for the mix table. */
typedef struct mix_ctx {
    uint64_t n[COMB_ITM_KIND_COUNT], bytes[COMB_ITM_KIND_COUNT];
    uint64_t swit_n[5], text_bytes, event_bytes;
} mix_ctx;

static void mix_sink(void *ctx, const comb_itm_packet *p)
{
    mix_ctx *m = ctx;
    m->n[p->kind]++;
    m->bytes[p->kind] += p->length;
    if (p->kind == COMB_ITM_SWIT) {
        m->swit_n[p->size]++;
        if (p->port == COMB_PORT_SCHED || p->port == COMB_PORT_HEAP)
            m->event_bytes += p->length;
        else
            m->text_bytes += p->length;
    }
}

/* ITM + trace event decode. */
typedef struct trace_ctx {
    comb_trace_decoder trace;
    uint64_t events, errors, checksum;
} trace_ctx;

static void trace_packet(void *ctx, const comb_itm_packet *p)
{
    comb_trace_decoder_packet(&((trace_ctx *)ctx)->trace, p);
}

static void trace_event(void *ctx, const comb_trace_event *e)
{
    trace_ctx *t = ctx;
    t->events++;
    t->checksum += e->values[e->nfields ? e->nfields - 1 : 0];
}

static void trace_error(void *ctx, unsigned port, comb_trace_error e, uint64_t offset)
{
    (void)port;
    (void)e;
    (void)offset;
    ((trace_ctx *)ctx)->errors++;
}

/* ---- runs ------------------------------------------------------------------- */

static comb_itm_decoder dec;

static double run_itm(const bench_stream *s, size_t chunk, comb_itm_sink sink, void *ctx)
{
    comb_itm_decoder_init(&dec, COMB_ITM_SYNC_WAIT);
    const double t0 = bench_now();
    for (size_t off = 0; off < s->len; off += chunk) {
        size_t n = s->len - off < chunk ? s->len - off : chunk;
        comb_itm_decoder_feed(&dec, s->data + off, n, sink, ctx);
    }
    comb_itm_decoder_finish(&dec, sink, ctx);
    return bench_now() - t0;
}

/* The decoder must report exactly the packets the generator wrote, and no error. */
static void check_itm(const bench_stream *s, const char *what)
{
    const comb_itm_stats *st = comb_itm_decoder_stats(&dec);
    bool ok = st->bytes == s->len;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        ok = ok && st->packets[k] == s->packets[k];
    if (!ok) {
        fprintf(stderr, "bench_decode: %s: decoder output does not match the generated stream\n", what);
        for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
            fprintf(stderr, "  %-9s generated %llu decoded %llu\n", comb_itm_kind_name((comb_itm_kind)k),
                    (unsigned long long)s->packets[k], (unsigned long long)st->packets[k]);
        exit(1);
    }
}

typedef struct result {
    double best, worst;
} result;

static void take(result *r, double t, unsigned i)
{
    if (i == 0 || t < r->best)
        r->best = t;
    if (i == 0 || t > r->worst)
        r->worst = t;
}

static uint64_t total_packets(const bench_stream *s)
{
    uint64_t n = 0;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        n += s->packets[k];
    return n;
}

static void row(const char *name, const bench_stream *s, const result *r, uint64_t events)
{
    const double mb = (double)s->len / 1e6;
    printf("  %-40s %8.1f %8.1f-%-7.1f %8.1f", name, mb / r->best, mb / r->worst, mb / r->best,
           (double)total_packets(s) / r->best / 1e6);
    if (events)
        printf(" %10.2f", (double)events / r->best / 1e6);
    else
        printf(" %10s", "-");
    printf(" %8.3f\n", r->best);
}

static void print_mix(const char *title, const bench_stream *s, const mix_ctx *m)
{
    uint64_t np = 0, nb = 0;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        np += m->n[k], nb += m->bytes[k];
    printf("%s: %llu packets, %.2f bytes/packet\n", title, (unsigned long long)np, (double)nb / (double)np);
    printf("  %-14s %12s %7s %12s %7s\n", "kind", "packets", "%pkt", "bytes", "%bytes");
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++) {
        if (!m->n[k])
            continue;
        if (k == COMB_ITM_SWIT) {
            static const unsigned sz[3] = {1, 2, 4};
            for (int i = 0; i < 3; i++) {
                char name[24];
                snprintf(name, sizeof name, "swit %u-byte", sz[i]);
                uint64_t n = m->swit_n[sz[i]];
                printf("  %-14s %12llu %6.1f%% %12llu %6.1f%%\n", name, (unsigned long long)n,
                       100.0 * (double)n / (double)np, (unsigned long long)(n * (1 + sz[i])),
                       100.0 * (double)(n * (1 + sz[i])) / (double)nb);
            }
            continue;
        }
        printf("  %-14s %12llu %6.1f%% %12llu %6.1f%%\n", comb_itm_kind_name((comb_itm_kind)k),
               (unsigned long long)m->n[k], 100.0 * (double)m->n[k] / (double)np, (unsigned long long)m->bytes[k],
               100.0 * (double)m->bytes[k] / (double)nb);
    }
    (void)s;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_decode [--mb N] [--runs N] [--chunk BYTES] [--seed N] [--random-mb N]\n"
               "  --mb N         size of the mixed stream in MB (10^6 bytes; default 200)\n"
               "  --random-mb N  size of the worst-case random-mix stream (default: same as --mb)\n"
               "  --runs N       timed runs per figure, the best is reported (default 3)\n"
               "  --chunk BYTES  bytes per comb_itm_decoder_feed call (default 65536, as comb log)\n"
               "  --seed N       PRNG seed (default 0xC0B)\n");
}

int main(int argc, char **argv)
{
    opts o = {.mb = 200, .random_mb = 0, .runs = 3, .chunk = 65536, .seed = 0xC0B};
    bool random_set = false;
    for (int i = 1; i < argc; i++) {
        uint64_t *dst = NULL;
        if (strcmp(argv[i], "--mb") == 0)
            dst = &o.mb;
        else if (strcmp(argv[i], "--random-mb") == 0)
            dst = &o.random_mb, random_set = true;
        else if (strcmp(argv[i], "--runs") == 0)
            dst = &o.runs;
        else if (strcmp(argv[i], "--chunk") == 0)
            dst = &o.chunk;
        else if (strcmp(argv[i], "--seed") == 0)
            dst = &o.seed;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        const char *val = i + 1 < argc ? argv[++i] : NULL;
        if (!dst || !bench_parse_u64(val, dst)) {
            usage(stderr);
            return 2;
        }
    }
    if (!random_set)
        o.random_mb = o.mb;
    if (o.mb == 0 || o.runs == 0 || o.chunk == 0 || o.mb > 100000 || o.random_mb > 100000) {
        usage(stderr);
        return 2;
    }
    const unsigned runs = (unsigned)o.runs;

    /* ---- mixed stream ---- */
    const double g0 = bench_now();
    bench_stream s;
    bench_traffic t;
    bench_stream_init(&s, (size_t)o.mb * 1000000u + 4096u, 1024);
    bench_traffic_init(&t, o.seed);
    bench_gen_mixed(&s, &t, (size_t)o.mb * 1000000u);
    const double gen_s = bench_now() - g0;

    printf("bench_decode: mixed stream of %.1f MB (%zu bytes, seed 0x%llx, generated in %.2f s),\n"
           "  fed in %llu-byte chunks, single thread, best of %u runs\n\n",
           (double)s.len / 1e6, s.len, (unsigned long long)o.seed, gen_s, (unsigned long long)o.chunk, runs);

    mix_ctx mix;
    memset(&mix, 0, sizeof mix);
    run_itm(&s, (size_t)o.chunk, mix_sink, &mix);
    check_itm(&s, "mixed stream");
    print_mix("packet mix of the mixed stream", &s, &mix);
    printf("  SWIT bytes: %.1f%% text (ports 0/1), %.1f%% trace events (ports 30/31)\n",
           100.0 * (double)mix.text_bytes / (double)s.len, 100.0 * (double)mix.event_bytes / (double)s.len);
    uint64_t heap = 0;
    for (unsigned k = COMB_EVT_HEAP_ALLOC; k <= COMB_EVT_HEAP_FAIL; k++)
        heap += t.by_type[k];
    printf("  %llu events (%llu heap, %llu other; %llu nested in another), %llu log lines, "
           "%llu overflows (each cutting one event short)\n\n",
           (unsigned long long)t.events, (unsigned long long)heap, (unsigned long long)(t.events - heap),
           (unsigned long long)t.nested, (unsigned long long)t.log_lines, (unsigned long long)t.partial);

    result r_itm = {0, 0}, r_trace = {0, 0}, r_rand = {0, 0};
    count_ctx cnt;
    for (unsigned i = 0; i < runs; i++) {
        memset(&cnt, 0, sizeof cnt);
        take(&r_itm, run_itm(&s, (size_t)o.chunk, count_sink, &cnt), i);
        check_itm(&s, "mixed stream");
    }

    static trace_ctx tc;
    for (unsigned i = 0; i < runs; i++) {
        memset(&tc, 0, sizeof tc);
        comb_trace_decoder_init(&tc.trace, COMB_TRACE_DEFAULT_PORTS,
                                (comb_trace_sink){.event = trace_event, .error = trace_error, .ctx = &tc});
        const double t0 = bench_now();
        run_itm(&s, (size_t)o.chunk, trace_packet, &tc);
        comb_trace_decoder_finish(&tc.trace);
        take(&r_trace, bench_now() - t0, i);
        check_itm(&s, "mixed stream (trace)");
        if (tc.events != t.events || tc.errors != t.partial) {
            fprintf(stderr, "bench_decode: trace decoder: %llu events, %llu errors; generated %llu, %llu cut short\n",
                    (unsigned long long)tc.events, (unsigned long long)tc.errors, (unsigned long long)t.events,
                    (unsigned long long)t.partial);
            return 1;
        }
    }
    bench_stream mixed_summary = s; /* keep sizes/counts for the table */
    mixed_summary.data = NULL;
    bench_stream_free(&s);

    /* ---- worst case: random mix of all packet kinds ---- */
    bench_stream rs;
    bench_stream_init(&rs, (size_t)o.random_mb * 1000000u + 4096u, 0);
    bench_gen_random_mix(&rs, o.seed ^ 0x5EEDull, (size_t)o.random_mb * 1000000u);
    memset(&mix, 0, sizeof mix);
    run_itm(&rs, (size_t)o.chunk, mix_sink, &mix);
    check_itm(&rs, "random mix");
    for (unsigned i = 0; i < runs; i++) {
        memset(&cnt, 0, sizeof cnt);
        take(&r_rand, run_itm(&rs, (size_t)o.chunk, count_sink, &cnt), i);
        check_itm(&rs, "random mix");
    }
    print_mix("packet mix of the worst-case random stream", &rs, &mix);
    printf("\n");

    printf("  %-40s %8s %16s %8s %10s %8s\n", "benchmark", "MB/s", "(range of runs)", "Mpkt/s", "Mevents/s",
           "best s");
    row("ITM decode, counting sink", &mixed_summary, &r_itm, 0);
    row("ITM + trace event decode", &mixed_summary, &r_trace, t.events);
    row("ITM decode, random mix (worst case)", &rs, &r_rand, 0);
    printf("\n  ITM + trace event decode: %.0f events/s\n", (double)t.events / r_trace.best);
    const double mbs = (double)mixed_summary.len / 1e6 / r_itm.best;
    printf("  target: ITM decode >= 400 MB/s on the mixed stream, single core: %s (%.1f MB/s)\n",
           mbs >= 400.0 ? "met" : "MISSED", mbs);
    bench_stream_free(&rs);
    return 0;
}
