/*
 * Corruption: a long valid stream framed as comb firmware frames it (a sync
 * packet whenever another KiB has gone out, log text on ports 0 and 1, trace
 * events on ports 30 and 31, some nested, a few local timestamps) is damaged
 * every few KiB by one of: dropped bytes, flipped bits, inserted garbage.
 *
 * Oracle, per damage site: the decoder recovers at one of the first two sync
 * packets after the damage (the "recovery sync"); every packet outside the
 * damaged zones (from the damage to the recovery sync) equals the clean
 * decode's packet at the same place, so nothing outside a zone is lost or
 * invented; every byte is in exactly one packet; errors and skipped bytes are
 * counted. Where the damage made the decoder report an error (it then skipped
 * to the recovery sync), the events whose header follows the recovery sync
 * equal the clean decode's exactly. (Damage the decoder cannot see, such as a
 * flipped payload bit, changes values but not framing: ITM has no checksum.
 * Its events are not compared, only its packets outside the zone.)
 *
 * The corrupted stream is also decoded in random chunks: same packets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/itm_decoder.h"
#include "comb/trace_decoder.h"
#include "comb/trace_protocol.h"

/* ---- PRNG -------------------------------------------------------------------- */
static uint64_t rng;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* ---- byte buffer --------------------------------------------------------------- */
typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static void put(bytes *b, const uint8_t *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* ---- generator: comb framing ------------------------------------------------------ */
typedef struct gen {
    bytes out;
    size_t next_sync;
    unsigned syncs;
} gen;

static void gen_sync(gen *g)
{
    static const uint8_t sync[6] = {0, 0, 0, 0, 0, 0x80};
    put(&g->out, sync, 6);
    g->syncs++;
}

/* One whole packet; a sync first when the byte count has crossed another KiB. */
static void gen_packet(gen *g, const uint8_t *p, size_t n)
{
    if (g->out.len >= g->next_sync) {
        gen_sync(g);
        g->next_sync = (g->out.len / 1024 + 1) * 1024;
    }
    put(&g->out, p, n);
}

static void gen_swit(gen *g, unsigned port, unsigned size, uint32_t v)
{
    uint8_t p[5] = {COMB_ITM_SWIT_HEADER(port, size), (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    gen_packet(g, p, 1 + size);
}

static void gen_text(gen *g, unsigned port)
{
    static const char words[] = "heap pool fiber thread alloc free ready wake sleep tick irq dma uart ok";
    unsigned len = 20 + below(41);
    char line[64];
    for (unsigned i = 0; i < len; i++)
        line[i] = words[below(sizeof words - 1)];
    line[len] = '\n';
    len++;
    unsigned i = 0;
    for (; i + 4 <= len; i += 4)
        gen_swit(g, port, 4, (uint32_t)line[i] | (uint32_t)line[i + 1] << 8 | (uint32_t)line[i + 2] << 16 |
                                 (uint32_t)line[i + 3] << 24);
    if (len - i >= 2) {
        gen_swit(g, port, 2, (uint32_t)line[i] | (uint32_t)line[i + 1] << 8);
        i += 2;
    }
    if (i < len)
        gen_swit(g, port, 1, (uint8_t)line[i]);
}

static const uint8_t event_types[] = {COMB_EVT_HEAP_ALLOC,    COMB_EVT_HEAP_FREE,      COMB_EVT_HEAP_REALLOC,
                                      COMB_EVT_HEAP_RESIZE,   COMB_EVT_HEAP_FAIL,      COMB_EVT_THREAD_WAKEUP,
                                      COMB_EVT_THREAD_ENTER,  COMB_EVT_THREAD_EXIT,    COMB_EVT_FIBER_ADDED,
                                      COMB_EVT_FIBER_RESUMED, COMB_EVT_FIBER_YIELDED,  COMB_EVT_FIBER_COMPLETED};
static uint32_t ts_now = 1000;

static void gen_event(gen *g, int nest_depth)
{
    unsigned type = event_types[below(sizeof event_types)];
    const struct comb_evt_schema *s = comb_evt_schema_of(type);
    unsigned port = type >= COMB_EVT_THREAD_WAKEUP ? COMB_PORT_SCHED : COMB_PORT_HEAP;
    unsigned n = s->nfields + (s->optional_caller && below(4) == 0);
    gen_swit(g, port, 1, COMB_EVT_HEADER(type, n));
    for (unsigned f = 0; f < n; f++) {
        unsigned kind = f < s->nfields ? s->kinds[f] : COMB_F_U32;
        uint32_t v;
        if (kind == COMB_F_U16)
            v = below(0x10000);
        else if (kind == COMB_F_SIZE)
            v = below(50) == 0 ? 65536 + below(1 << 20) : 1 + below(4096);
        else if (f == n - 1 || (s->field_names[f] && strcmp(s->field_names[f], "ts") == 0))
            v = (ts_now += 1 + below(500));
        else
            v = 0x20000000u + (uint32_t)below(1 << 18) * 8;
        unsigned size = kind == COMB_F_U16 ? 2 : kind == COMB_F_SIZE ? (v < 65536 ? 2 : 4) : 4;
        gen_swit(g, port, size, v);
        /* an interrupt preempts after the first field and emits whole events */
        if (f == 0 && nest_depth < 3 && below(50) == 0)
            gen_event(g, nest_depth + 1);
    }
}

static void generate(gen *g, size_t target)
{
    memset(g, 0, sizeof *g);
    gen_sync(g);
    g->next_sync = 1024;
    while (g->out.len < target) {
        unsigned r = below(100);
        if (r < 45)
            gen_text(g, below(8) == 0 ? 1 : 0);
        else if (r < 97)
            gen_event(g, 0);
        else if (r < 99) { /* a local timestamp: LTS2 or a 2-byte LTS1 */
            if (below(2)) {
                uint8_t p = (uint8_t)((1 + below(6)) << 4);
                gen_packet(g, &p, 1);
            } else {
                uint8_t p[2] = {0xC0, (uint8_t)below(0x80)};
                gen_packet(g, p, 2);
            }
        } else {
            gen_swit(g, 2 + below(28), 4, (uint32_t)rnd()); /* a user port word */
        }
    }
}

/* ---- decoding ---------------------------------------------------------------------- */
typedef struct pkt {
    uint64_t end; /* offset + length */
    uint64_t value;
    uint32_t length, port;
    uint8_t kind, size, error, tc;
} pkt;

typedef struct ev {
    uint64_t header, done; /* offset of the header packet; end of the packet that completed it */
    uint32_t values[COMB_EVT_MAX_FIELDS];
    uint8_t port, type, nfields, sizes[COMB_EVT_MAX_FIELDS];
} ev;

typedef struct decoded {
    pkt *p;
    size_t np, capp;
    ev *e;
    size_t ne, cape;
    comb_trace_decoder trace;
    uint64_t cur; /* end offset of the packet being handed to the trace decoder */
    comb_itm_stats stats;
} decoded;

static void on_event(void *ctx, const comb_trace_event *e)
{
    decoded *d = ctx;
    if (d->ne == d->cape) {
        d->cape = d->cape ? d->cape * 2 : 4096;
        d->e = realloc(d->e, d->cape * sizeof *d->e);
    }
    ev *x = &d->e[d->ne++];
    memset(x, 0, sizeof *x);
    x->header = e->offset;
    x->done = d->cur;
    x->port = e->port;
    x->type = e->type;
    x->nfields = e->nfields;
    memcpy(x->sizes, e->sizes, sizeof x->sizes);
    memcpy(x->values, e->values, sizeof x->values);
}

static void on_trace_error(void *ctx, unsigned port, comb_trace_error error, uint64_t offset)
{
    (void)ctx, (void)port, (void)error, (void)offset;
}

static void on_packet(void *ctx, const comb_itm_packet *k)
{
    decoded *d = ctx;
    if (d->np == d->capp) {
        d->capp = d->capp ? d->capp * 2 : 65536;
        d->p = realloc(d->p, d->capp * sizeof *d->p);
    }
    pkt *x = &d->p[d->np++];
    memset(x, 0, sizeof *x);
    x->end = k->offset + k->length;
    x->length = k->length;
    x->kind = (uint8_t)k->kind;
    x->port = k->port;
    x->size = k->size;
    x->value = k->value;
    x->error = (uint8_t)k->error;
    x->tc = k->tc;
    d->cur = k->offset + k->length;
    comb_trace_decoder_packet(&d->trace, k);
}

/* chunk 0: all at once; else random chunks of 1..chunk bytes */
static void decode(decoded *d, const uint8_t *p, size_t n, unsigned chunk)
{
    memset(d, 0, sizeof *d);
    comb_trace_decoder_init(&d->trace, COMB_TRACE_DEFAULT_PORTS,
                            (comb_trace_sink){.event = on_event, .error = on_trace_error, .ctx = d});
    comb_itm_decoder dec;
    comb_itm_decoder_init(&dec, COMB_ITM_SYNC_WAIT);
    for (size_t i = 0; i < n;) {
        size_t k = chunk ? 1 + below(chunk) : n - i;
        if (k > n - i)
            k = n - i;
        comb_itm_decoder_feed(&dec, p + i, k, on_packet, d);
        i += k;
    }
    comb_itm_decoder_finish(&dec, on_packet, d);
    comb_trace_decoder_finish(&d->trace);
    d->stats = *comb_itm_decoder_stats(&dec);
}

static void decoded_free(decoded *d)
{
    free(d->p);
    free(d->e);
}

static int pkt_same(const pkt *a, const pkt *b, int64_t delta)
{
    if (a->kind != b->kind || (int64_t)a->end - delta != (int64_t)b->end)
        return 0;
    if (a->kind == COMB_ITM_SYNC) /* a zero run merged with garbage zeros is longer; it ends in the same place */
        return 1;
    return a->length == b->length && a->port == b->port && a->size == b->size && a->value == b->value &&
           a->error == b->error && a->tc == b->tc;
}

static int ev_same(const ev *a, const ev *b, int64_t delta)
{
    if ((int64_t)a->header - delta != (int64_t)b->header || a->port != b->port || a->type != b->type ||
        a->nfields != b->nfields || a->nfields > COMB_EVT_MAX_FIELDS)
        return 0;
    for (unsigned f = 0; f < a->nfields; f++)
        if (a->sizes[f] != b->sizes[f] || a->values[f] != b->values[f])
            return 0;
    return 1;
}

/* ---- damage ------------------------------------------------------------------------- */
enum { DROP, FLIP, INSERT, NKINDS };
static const char *const kind_names[NKINDS] = {"drop", "flip", "insert"};

typedef struct site {
    int kind;
    size_t orig_start, orig_end; /* damaged bytes in the clean stream ([start, start) for an insertion) */
    size_t corr_start, corr_end; /* the same in the corrupted stream                                     */
    int64_t delta;               /* corrupted offset - clean offset, after this site                     */
    /* results */
    size_t recovery_pkt;          /* index of the recovery sync in the corrupted decode */
    uint64_t recovery_end;        /* its end, corrupted offset */
    int errored;                  /* the decoder reported an error in the zone          */
} site;

static size_t damage(const bytes *clean, bytes *out, site *sites, size_t max_sites)
{
    size_t ns = 0, i = 0;
    int64_t delta = 0;
    out->len = 0;
    size_t next = 3000 + below(3000);
    while (i < clean->len) {
        if (i == next && ns < max_sites && clean->len - i > 8192) {
            site *s = &sites[ns++];
            memset(s, 0, sizeof *s);
            s->kind = (int)below(NKINDS);
            s->orig_start = i;
            s->corr_start = out->len;
            if (s->kind == DROP) {
                size_t k = 1 + below(3);
                i += k;
                delta -= (int64_t)k;
                s->orig_end = i;
                s->corr_end = out->len;
            } else if (s->kind == FLIP) {
                uint8_t b = clean->p[i] ^ (uint8_t)(1u << below(8));
                put(out, &b, 1);
                i++;
                if (below(3) == 0) { /* a second flip nearby */
                    size_t gap = below(4);
                    put(out, clean->p + i, gap);
                    i += gap;
                    b = clean->p[i] ^ (uint8_t)(1u << below(8));
                    put(out, &b, 1);
                    i++;
                }
                s->orig_end = i;
                s->corr_end = out->len;
            } else {
                size_t k = 1 + below(64);
                for (size_t j = 0; j < k; j++) {
                    uint8_t b = (uint8_t)rnd();
                    put(out, &b, 1);
                }
                delta += (int64_t)k;
                s->orig_end = i;
                s->corr_end = out->len;
            }
            s->delta = delta;
            next = i + 4096 + below(4096);
            continue;
        }
        put(out, clean->p + i, 1);
        i++;
    }
    return ns;
}

static void run(uint64_t seed, size_t size)
{
    rng = seed;
    gen g;
    generate(&g, size);
    decoded clean;
    decode(&clean, g.out.p, g.out.len, 0);
    CHECK_EQ_U64(clean.stats.packets[COMB_ITM_ERROR], 0);
    CHECK_EQ_U64(clean.stats.packets[COMB_ITM_SYNC], g.syncs);

    enum { MAX_SITES = 4096 };
    static site sites[MAX_SITES];
    bytes bad = {0};
    size_t ns = damage(&g.out, &bad, sites, MAX_SITES);
    CHECK(ns > 100);
    decoded dam;
    decode(&dam, bad.p, bad.len, 0);

    /* every byte in exactly one packet; errors and skipped bytes accounted */
    uint64_t total = 0, skipped = 0, errors = 0;
    for (size_t k = 0; k < dam.np; k++) {
        total += dam.p[k].length;
        CHECK(k == 0 || dam.p[k].end > dam.p[k - 1].end);
        if (dam.p[k].kind == COMB_ITM_ERROR) {
            skipped += dam.p[k].length;
            errors++;
        }
    }
    CHECK_EQ_U64(total, bad.len);
    CHECK_EQ_U64(dam.stats.bytes_skipped, skipped);
    CHECK_EQ_U64(dam.stats.packets[COMB_ITM_ERROR], errors);

    /* clean sync ends, to bound where recovery happens */
    uint64_t *sync_end = malloc(clean.np * sizeof *sync_end);
    size_t nsync = 0;
    for (size_t k = 0; k < clean.np; k++)
        if (clean.p[k].kind == COMB_ITM_SYNC)
            sync_end[nsync++] = clean.p[k].end;

    /* find each site's recovery sync: the first sync the damaged decode reports ending after the damage */
    size_t k = 0;
    unsigned counts[NKINDS] = {0}, errored[NKINDS] = {0}, second_sync = 0;
    for (size_t s = 0; s < ns; s++) {
        site *st = &sites[s];
        while (k < dam.np && dam.p[k].end <= st->corr_start)
            k++;
        size_t first_in_zone = k;
        /* a zero run cut by the damage is reported as an error that may end right where the damage starts */
        if (k > 0 && dam.p[k - 1].kind == COMB_ITM_ERROR && dam.p[k - 1].end == st->corr_start)
            first_in_zone = k - 1;
        while (k < dam.np && !(dam.p[k].kind == COMB_ITM_SYNC && dam.p[k].end > st->corr_end))
            k++;
        if (k == dam.np) {
            CHECK(!"no recovery sync after a damage site");
            ns = s;
            break;
        }
        st->recovery_pkt = k;
        st->recovery_end = dam.p[k].end;
        for (size_t j = first_in_zone; j < k; j++)
            st->errored |= dam.p[j].kind == COMB_ITM_ERROR;
        counts[st->kind]++;
        errored[st->kind] += (unsigned)st->errored;
        /* recovery at the first or second sync after the damage */
        size_t f = 0;
        while (f < nsync && sync_end[f] <= st->orig_end)
            f++;
        int64_t rec_orig = (int64_t)st->recovery_end - st->delta;
        int ok = (f < nsync && rec_orig == (int64_t)sync_end[f]) || (f + 1 < nsync && rec_orig == (int64_t)sync_end[f + 1]);
        second_sync += f + 1 < nsync && rec_orig == (int64_t)sync_end[f + 1];
        if (!ok) {
            CHECK(!"recovery later than the second sync after the damage");
            fprintf(stderr, "  site %zu (%s at %zu): recovered at clean offset %lld\n", s, kind_names[st->kind],
                    st->orig_start, (long long)rec_orig);
        }
    }

    /* packets outside the zones equal the clean ones, in order */
    size_t a = 0, b = 0, mismatches = 0;
    for (size_t s = 0; s <= ns && mismatches < 5; s++) {
        /* the stretch before site s (after the previous recovery sync, included) */
        uint64_t corr_limit = s < ns ? sites[s].corr_start : UINT64_MAX;
        uint64_t orig_limit = s < ns ? sites[s].orig_start : UINT64_MAX;
        int64_t delta = s ? sites[s - 1].delta : 0;
        while (a < dam.np && dam.p[a].end <= corr_limit && b < clean.np && clean.p[b].end <= orig_limit &&
               !(dam.p[a].kind == COMB_ITM_ERROR && dam.p[a].end == corr_limit)) {
            if (!pkt_same(&dam.p[a], &clean.p[b], delta)) {
                CHECK(!"packet outside a damaged zone differs");
                fprintf(stderr, "  before site %zu: damaged packet %zu (end %llu) vs clean %zu (end %llu)\n", s, a,
                        (unsigned long long)dam.p[a].end, b, (unsigned long long)clean.p[b].end);
                mismatches++;
                break;
            }
            a++, b++;
        }
        if (s == ns)
            break;
        /* both sides must have reached the site */
        if (!((a == dam.np || dam.p[a].end > corr_limit ||
               (dam.p[a].kind == COMB_ITM_ERROR && dam.p[a].end == corr_limit)) &&
              (b == clean.np || clean.p[b].end > orig_limit))) {
            CHECK(!"packet counts differ before a damage site");
            fprintf(stderr, "  site %zu (%s at %zu)\n", s, kind_names[sites[s].kind], sites[s].orig_start);
            if (getenv("DEBUG_CORRUPTION")) {
                const site *p0 = s ? &sites[s - 1] : NULL;
                if (p0)
                    fprintf(stderr, "  prev site %s orig %zu-%zu corr %zu-%zu rec_end %llu delta %lld\n",
                            kind_names[p0->kind], p0->orig_start, p0->orig_end, p0->corr_start, p0->corr_end,
                            (unsigned long long)p0->recovery_end, (long long)p0->delta);
                fprintf(stderr, "  this site corr %zu-%zu; a=%zu end %llu kind %u len %u; b=%zu end %llu kind %u len %u\n",
                        sites[s].corr_start, sites[s].corr_end, a, (unsigned long long)dam.p[a].end, dam.p[a].kind,
                        dam.p[a].length, b, (unsigned long long)clean.p[b].end, clean.p[b].kind, clean.p[b].length);
            }
            mismatches++;
        }
        /* skip the zones: up to the recovery sync, which is compared */
        a = sites[s].recovery_pkt;
        int64_t rec_orig = (int64_t)sites[s].recovery_end - sites[s].delta;
        while (b < clean.np && (int64_t)clean.p[b].end < rec_orig)
            b++;
    }
    CHECK_EQ_U64(a, dam.np);
    CHECK_EQ_U64(b, clean.np);

    /* events after an errored zone's recovery sync (up to the next site) equal the clean ones */
    size_t ea = 0, eb = 0, compared = 0;
    for (size_t s = 0; s <= ns; s++) {
        int check = s == 0 || sites[s - 1].errored;
        uint64_t lo_c = s ? sites[s - 1].recovery_end : 0;
        int64_t delta = s ? sites[s - 1].delta : 0;
        uint64_t hi_c = s < ns ? sites[s].corr_start : UINT64_MAX;
        uint64_t hi_o = s < ns ? sites[s].orig_start : UINT64_MAX;
        /* header after the recovery sync, completed before the next site */
        size_t a0 = ea, b0 = eb;
        while (ea < dam.ne && dam.e[ea].done <= hi_c)
            ea++;
        while (eb < clean.ne && clean.e[eb].done <= hi_o)
            eb++;
        if (!check)
            continue;
        size_t i = a0, j = b0;
        for (;;) {
            while (i < ea && dam.e[i].header < lo_c)
                i++;
            while (j < eb && (int64_t)clean.e[j].header < (int64_t)lo_c - delta)
                j++;
            if (i == ea || j == eb)
                break;
            if (!ev_same(&dam.e[i], &clean.e[j], delta)) {
                CHECK(!"event after recovery differs");
                fprintf(stderr, "  after site %zu: damaged event at %llu vs clean at %llu\n", s ? s - 1 : 0,
                        (unsigned long long)dam.e[i].header, (unsigned long long)clean.e[j].header);
                if (getenv("DEBUG_CORRUPTION")) {
                    const site *st = &sites[s - 1];
                    fprintf(stderr, "  site %s orig %zu-%zu corr %zu-%zu delta %lld rec_end %llu lo_c %llu\n",
                            kind_names[st->kind], st->orig_start, st->orig_end, st->corr_start, st->corr_end,
                            (long long)st->delta, (unsigned long long)st->recovery_end, (unsigned long long)lo_c);
                    for (unsigned f = 0; f < dam.e[i].nfields; f++)
                        fprintf(stderr, "   field %u: dam %u/%x clean %u/%x\n", f, dam.e[i].sizes[f], dam.e[i].values[f],
                                clean.e[j].sizes[f], clean.e[j].values[f]);
                    for (int q = -2; q < 3; q++) {
                        const ev *x = &dam.e[i + (size_t)q], *y = &clean.e[j + (size_t)q];
                        fprintf(stderr, "   dam hdr %llu done %llu p%u t%u n%u v0 %x | clean hdr %llu done %llu p%u t%u n%u v0 %x\n",
                                (unsigned long long)x->header, (unsigned long long)x->done, x->port, x->type, x->nfields, x->values[0],
                                (unsigned long long)y->header, (unsigned long long)y->done, y->port, y->type, y->nfields, y->values[0]);
                    }
                }
                break;
            }
            i++, j++, compared++;
        }
        while (i < ea && dam.e[i].header < lo_c)
            i++;
        while (j < eb && (int64_t)clean.e[j].header < (int64_t)lo_c - delta)
            j++;
        if (i != ea || j != eb) {
            CHECK(!"event counts differ after recovery");
            fprintf(stderr, "  after site %zu: %zu vs %zu events left\n", s ? s - 1 : 0, ea - i, eb - j);
        }
    }
    CHECK(compared > clean.ne / 5);

    /* chunking does not change the damaged decode */
    decoded chunked;
    decode(&chunked, bad.p, bad.len, 300);
    CHECK_EQ_U64(chunked.np, dam.np);
    size_t diff = 0;
    for (size_t q = 0; q < dam.np && q < chunked.np; q++)
        diff += !pkt_same(&dam.p[q], &chunked.p[q], 0) || dam.p[q].length != chunked.p[q].length;
    CHECK_EQ_U64(diff, 0);
    CHECK_EQ_U64(chunked.ne, dam.ne);
    decoded_free(&chunked);

    printf("seed %llu: %zu bytes, %zu packets, %zu events; %zu damage sites: ", (unsigned long long)seed, g.out.len,
           clean.np, clean.ne, ns);
    for (int t = 0; t < NKINDS; t++)
        printf("%s %u (%u reported an error)%s", kind_names[t], counts[t], errored[t], t + 1 < NKINDS ? ", " : "");
    printf("; %u recovered at the second sync; %llu bytes skipped in %llu errors; %zu events compared after recovery\n",
           second_sync, (unsigned long long)skipped, (unsigned long long)errors, compared);
    /* random garbage decodes as valid packets more often than one might think (most
     * bytes are valid headers), but a good share of it is caught */
    CHECK(errored[INSERT] * 2 >= counts[INSERT]);

    free(sync_end);
    decoded_free(&dam);
    decoded_free(&clean);
    free(bad.p);
    free(g.out.p);
}

int main(void)
{
    run(1, 2u << 20);
    run(2, 2u << 20);
    run(0xC0FFEE, 1u << 20);
    return check_finish("test_corruption");
}
