/*
 * Unit tests for the streaming ITM packet decoder (host/src/itm_decoder.c) and
 * its JSON form (host/src/itm_json.c).
 *
 * Sources of expected values:
 *  - rtic-scope/itm and rust-embedded/itm test vectors (A1.*, A2.*, B.*), as
 *    recorded in shared/corpora/itm-vectors.md;
 *  - the OpenCSD ITM capture itm_only_raw/itm_testdata.bin with the packet table
 *    of shared/corpora/opencsd-itm/README.md (cross-checked there against
 *    OpenCSD's own listing);
 *  - hand-built vectors for errors, pages and resynchronisation, computed from
 *    the ARMv7-M D4 packet definitions.
 * Every vector is also decoded under every 2-way split, byte at a time and under
 * random multi-way splits, and must give identical packets and stats.
 */
#include "check.h"
#include "comb/itm_decoder.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef COMB_CORPORA_DIR
#define COMB_CORPORA_DIR "../shared/corpora"
#endif

/* ---- collecting sink -------------------------------------------------------- */

#define MAXP 8192

typedef struct plist {
    size_t n;
    comb_itm_packet p[MAXP];
} plist;

static void collect(void *ctx, const comb_itm_packet *pk)
{
    plist *l = ctx;
    if (l->n < MAXP)
        l->p[l->n] = *pk;
    l->n++;
}

static bool pkt_eq(const comb_itm_packet *a, const comb_itm_packet *b)
{
    size_t rl = a->length < 8 ? a->length : 8;
    return a->kind == b->kind && a->offset == b->offset && a->length == b->length &&
           a->port == b->port && a->size == b->size && a->value == b->value && a->tc == b->tc &&
           a->clkch == b->clkch && a->wrap == b->wrap && a->sh == b->sh && a->error == b->error &&
           memcmp(a->raw, b->raw, rl) == 0;
}

static bool stats_eq(const comb_itm_stats *a, const comb_itm_stats *b)
{
    if (a->bytes != b->bytes || a->bytes_skipped != b->bytes_skipped)
        return false;
    for (int i = 0; i < COMB_ITM_KIND_COUNT; i++)
        if (a->packets[i] != b->packets[i])
            return false;
    for (int i = 0; i < COMB_ITM_ERR_COUNT; i++)
        if (a->errors[i] != b->errors[i])
            return false;
    return true;
}

/* Decodes data, cut at the sorted positions cuts[0..ncuts-1], then finish(). */
static void decode_cuts(comb_itm_sync_mode mode, const uint8_t *data, size_t n, const size_t *cuts,
                        size_t ncuts, plist *out, comb_itm_stats *st)
{
    comb_itm_decoder d;
    size_t pos = 0;
    comb_itm_decoder_init(&d, mode);
    out->n = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t next = i < ncuts ? cuts[i] : n;
        if (next > n)
            next = n;
        if (next < pos)
            next = pos;
        comb_itm_decoder_feed(&d, data + pos, next - pos, collect, out);
        pos = next;
    }
    comb_itm_decoder_finish(&d, collect, out);
    if (st)
        *st = *comb_itm_decoder_stats(&d);
}

static void decode_all(comb_itm_sync_mode mode, const uint8_t *data, size_t n, plist *out,
                       comb_itm_stats *st)
{
    decode_cuts(mode, data, n, NULL, 0, out, st);
}

static void decode_bytewise(comb_itm_sync_mode mode, const uint8_t *data, size_t n, plist *out,
                            comb_itm_stats *st)
{
    comb_itm_decoder d;
    comb_itm_decoder_init(&d, mode);
    out->n = 0;
    for (size_t i = 0; i < n; i++)
        comb_itm_decoder_feed(&d, data + i, 1, collect, out);
    comb_itm_decoder_finish(&d, collect, out);
    if (st)
        *st = *comb_itm_decoder_stats(&d);
}

/* ---- PRNG (xorshift64*, fixed seeds) ------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/* ---- invariants --------------------------------------------------------------- */

/* Packets tile the stream in order, raw bytes are the wire bytes, stats agree. */
static void check_invariants(const char *name, const uint8_t *data, size_t n, const plist *l,
                             const comb_itm_stats *st)
{
    unsigned before = check_failures;
    uint64_t pos = 0, skipped = 0;
    uint64_t kinds[COMB_ITM_KIND_COUNT] = {0}, errs[COMB_ITM_ERR_COUNT] = {0};
    bool tiled = true, raw_ok = true, fields_ok = true;

    CHECK(l->n <= MAXP);
    for (size_t i = 0; i < l->n && i < MAXP; i++) {
        const comb_itm_packet *p = &l->p[i];
        if (p->offset != pos || p->length == 0)
            tiled = false;
        if (p->offset + p->length <= n) {
            size_t rl = p->length < 8 ? p->length : 8;
            if (memcmp(p->raw, data + p->offset, rl) != 0)
                raw_ok = false;
        }
        if ((unsigned)p->kind >= COMB_ITM_KIND_COUNT)
            fields_ok = false;
        else
            kinds[p->kind]++;
        if (p->kind == COMB_ITM_ERROR) {
            if (p->error == COMB_ITM_ERR_NONE || (unsigned)p->error >= COMB_ITM_ERR_COUNT)
                fields_ok = false;
            else
                errs[p->error]++;
            skipped += p->length;
        } else if (p->error != COMB_ITM_ERR_NONE) {
            fields_ok = false;
        }
        pos = p->offset + p->length;
    }
    CHECK(tiled);
    CHECK_EQ_U64(pos, n);
    CHECK(raw_ok);
    CHECK(fields_ok);
    CHECK_EQ_U64(st->bytes, n);
    CHECK_EQ_U64(st->bytes_skipped, skipped);
    bool counts_ok = true;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        counts_ok = counts_ok && st->packets[k] == kinds[k];
    for (int e = 0; e < COMB_ITM_ERR_COUNT; e++)
        counts_ok = counts_ok && st->errors[e] == errs[e];
    CHECK(counts_ok);
    if (check_failures != before)
        fprintf(stderr, "  ... invariants of '%s' (%zu bytes, %zu packets)\n", name, n, l->n);
}

static plist ref_list, alt_list;

static bool lists_equal(const plist *a, const plist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n && i < MAXP; i++)
        if (!pkt_eq(&a->p[i], &b->p[i]))
            return false;
    return true;
}

/* Every 2-way split (if exhaustive), byte at a time, and `nrandom` random
 * multi-way splits give the reference result. */
static void check_splits(const char *name, comb_itm_sync_mode mode, const uint8_t *data, size_t n,
                         bool exhaustive, int nrandom)
{
    comb_itm_stats ref_st, st;
    unsigned before = check_failures;
    bool all_ok = true;

    decode_all(mode, data, n, &ref_list, &ref_st);
    if (exhaustive) {
        for (size_t cut = 0; cut <= n; cut++) {
            decode_cuts(mode, data, n, &cut, 1, &alt_list, &st);
            if (!lists_equal(&ref_list, &alt_list) || !stats_eq(&ref_st, &st)) {
                all_ok = false;
                fprintf(stderr, "  split of '%s' at %zu differs\n", name, cut);
            }
        }
    }
    CHECK(all_ok);
    decode_bytewise(mode, data, n, &alt_list, &st);
    CHECK(lists_equal(&ref_list, &alt_list));
    CHECK(stats_eq(&ref_st, &st));
    for (int r = 0; r < nrandom; r++) {
        size_t cuts[16];
        size_t nc = (size_t)(rng() % 16u);
        for (size_t i = 0; i < nc; i++)
            cuts[i] = n ? (size_t)(rng() % (n + 1)) : 0;
        for (size_t i = 1; i < nc; i++) /* insertion sort */
            for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
                size_t t = cuts[j];
                cuts[j] = cuts[j - 1];
                cuts[j - 1] = t;
            }
        decode_cuts(mode, data, n, cuts, nc, &alt_list, &st);
        CHECK(lists_equal(&ref_list, &alt_list));
        CHECK(stats_eq(&ref_st, &st));
    }
    if (check_failures != before)
        fprintf(stderr, "  ... chunk splits of '%s' (mode %d)\n", name, (int)mode);
}

/* ---- expected packets --------------------------------------------------------- */

typedef struct exp_pkt {
    comb_itm_kind kind;
    uint64_t offset;
    uint32_t length;
    uint32_t port;
    uint8_t size;
    uint64_t value;
    uint8_t tc;
    bool clkch;
    bool wrap;
    uint8_t sh;
    comb_itm_error error;
} exp_pkt;

#define X_NONE COMB_ITM_ERR_NONE
#define SYNC(o, l) {COMB_ITM_SYNC, (o), (l), 0, 0, 0, 0, false, false, 0, X_NONE}
#define OVF(o) {COMB_ITM_OVERFLOW, (o), 1, 0, 0, 0, 0, false, false, 0, X_NONE}
#define SWIT(o, l, port, sz, v) {COMB_ITM_SWIT, (o), (l), (port), (sz), (v), 0, false, false, 0, X_NONE}
#define HWIT(o, l, port, sz, v) {COMB_ITM_HWIT, (o), (l), (port), (sz), (v), 0, false, false, 0, X_NONE}
#define LTS(o, l, v, tc) {COMB_ITM_LTS, (o), (l), 0, (l) - 1, (v), (tc), false, false, 0, X_NONE}
#define GTS1(o, l, v, clk, wr) {COMB_ITM_GTS1, (o), (l), 0, (l) - 1, (v), 0, (clk), (wr), 0, X_NONE}
#define GTS2(o, l, v) {COMB_ITM_GTS2, (o), (l), 0, (l) - 1, (v), 0, false, false, 0, X_NONE}
#define EXT(o, l, sh, v) {COMB_ITM_EXT, (o), (l), 0, (l) - 1, (v), 0, false, false, (sh), X_NONE}
#define ERR(o, l, e) {COMB_ITM_ERROR, (o), (l), 0, 0, 0, 0, false, false, 0, COMB_ITM_ERR_##e}

static void check_expected(const char *name, const plist *got, const exp_pkt *exp, size_t nexp)
{
    unsigned before = check_failures;
    CHECK_EQ_U64(got->n, nexp);
    for (size_t i = 0; i < nexp && i < got->n && i < MAXP; i++) {
        const comb_itm_packet *g = &got->p[i];
        const exp_pkt *e = &exp[i];
        unsigned b = check_failures;
        CHECK_EQ_U64(g->kind, e->kind);
        CHECK_EQ_U64(g->offset, e->offset);
        CHECK_EQ_U64(g->length, e->length);
        CHECK_EQ_U64(g->port, e->port);
        CHECK_EQ_U64(g->size, e->size);
        CHECK_EQ_U64(g->value, e->value);
        CHECK_EQ_U64(g->tc, e->tc);
        CHECK_EQ_U64(g->clkch, e->clkch);
        CHECK_EQ_U64(g->wrap, e->wrap);
        CHECK_EQ_U64(g->sh, e->sh);
        CHECK_EQ_U64(g->error, e->error);
        if (check_failures != b)
            fprintf(stderr, "  ... '%s' packet %zu (%s at %llu)\n", name, i,
                    comb_itm_kind_name(g->kind), (unsigned long long)g->offset);
    }
    if (check_failures != before)
        fprintf(stderr, "  ... in vector '%s'\n", name);
}

typedef struct vec {
    const char *name;
    comb_itm_sync_mode mode;
    const uint8_t *bytes;
    size_t n;
    const exp_pkt *exp;
    size_t nexp;
} vec;

#define A COMB_ITM_SYNC_ASSUME
#define W COMB_ITM_SYNC_WAIT
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define EXPS(...)                                                                           \
    (const exp_pkt[]){__VA_ARGS__}, sizeof((const exp_pkt[]){__VA_ARGS__}) / sizeof(exp_pkt)
#define Z5 0, 0, 0, 0, 0

static const vec vectors[] = {
    /* ---- rtic-scope/itm singles.rs (A1) ---- */
    {"A1.2 sync", A, BYTES(0, 0, 0, 0, 0, 0x80), EXPS(SYNC(0, 6))},
    {"A1.3 overflow", A, BYTES(0x70), EXPS(OVF(0))},
    {"A1.4 lts1+lts2", A, BYTES(0xc0, 0xc9, 0x01, 0x50), EXPS(LTS(0, 3, 0xc9, 0), LTS(3, 1, 5, 0))},
    {"A1.5 gts", A,
     BYTES(0x94, 0x80, 0xa0, 0x84, 0x60, 0xb4, 0xbd, 0xf4, 0x91, 0x01, 0xb4, 0xbd, 0xf4, 0x91, 0x81,
           0xf4, 0x07),
     EXPS(GTS1(0, 5, 0x11000, true, true), GTS2(5, 5, 0x247a3d), GTS2(10, 7, 0x3f40247a3dull))},
    {"A1.6 ext page 7", A, BYTES(0x78), EXPS(EXT(0, 1, 0, 7))},
    {"A1.7 instrumentation", A, BYTES(0x8b, 0x03, 0x0f, 0x3f, 0xff),
     EXPS(SWIT(0, 5, 17, 4, 0xff3f0f03u))},
    {"A1.8 event counter", A, BYTES(0x05, 0x2a), EXPS(HWIT(0, 2, 0, 1, 0x2a))},
    {"A1.9 exception", A, BYTES(0x0e, 0x20, 0x30), EXPS(HWIT(0, 3, 1, 2, 0x3020))},
    {"A1.10 pc sample", A, BYTES(0x17, 0x03, 0x0f, 0x3f, 0xff, 0x15, 0x00),
     EXPS(HWIT(0, 5, 2, 4, 0xff3f0f03u), HWIT(5, 2, 2, 1, 0))},
    {"A1.11 dt pc", A, BYTES(0x77, 0x03, 0x0f, 0x3f, 0xff), EXPS(HWIT(0, 5, 14, 4, 0xff3f0f03u))},
    {"A1.12 dt addr", A, BYTES(0x6e, 0x03, 0x0f), EXPS(HWIT(0, 3, 13, 2, 0x0f03))},
    {"A1.13 dt value", A,
     BYTES(0xaf, 0x03, 0x0f, 0x3f, 0xff, 0xae, 0x03, 0x0f, 0xad, 0x03),
     EXPS(HWIT(0, 5, 21, 4, 0xff3f0f03u), HWIT(5, 3, 21, 2, 0x0f03), HWIT(8, 2, 21, 1, 0x03))},
    /* ---- rtic-scope/itm iter.rs (A2) ---- */
    {"A2.1 check_timestamps", A,
     BYTES(0x15, 0x00, 0x15, 0x00, 0x15, 0x00, 0x94, 0x80, 0xa0, 0x84, 0x00, 0xb4, 0xbd, 0xf4, 0x91,
           0x01, 0xc0, 0xc9, 0x01, 0x15, 0x00, 0xc0, 0xc9, 0x01, 0x70, 0xc0, 0xc9, 0x01, 0x94, 0x80,
           0xa0, 0x84, 0x00, 0xb4, 0xbd, 0xf4, 0x91, 0x01, 0xf0, 0xc9, 0x01, 0x60),
     EXPS(HWIT(0, 2, 2, 1, 0), HWIT(2, 2, 2, 1, 0), HWIT(4, 2, 2, 1, 0),
          GTS1(6, 5, 0x11000, false, false), GTS2(11, 5, 0x247a3d), LTS(16, 3, 201, 0),
          HWIT(19, 2, 2, 1, 0), LTS(21, 3, 201, 0), OVF(24), LTS(25, 3, 201, 0),
          GTS1(28, 5, 0x11000, false, false), GTS2(33, 5, 0x247a3d), LTS(38, 3, 201, 3),
          LTS(41, 1, 6, 0))},
    {"A2.2 gts_compression", A,
     BYTES(0x60, 0x94, 0x81, 0x80, 0x80, 0x00, 0xb4, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x60, 0x94,
           0xff, 0x00, 0x60),
     EXPS(LTS(0, 1, 6, 0), GTS1(1, 5, 1, false, false), GTS2(6, 7, 1), LTS(13, 1, 6, 0),
          GTS1(14, 3, 0x7f, false, false), LTS(17, 1, 6, 0))},
    {"A2 extract_timestamp 27 bits", A, BYTES(0xc0, 0x81, 0x87, 0x9f, 0x7f),
     EXPS(LTS(0, 5, 0xfe7c381, 0))},
    {"A2 extract_timestamp gts1 25 bits", A, BYTES(0x94, 0x81, 0x87, 0x9f, 0x7f),
     EXPS(GTS1(0, 5, 0x3e7c381, true, true))},
    /* ---- rust-embedded/itm tests.rs (B) ---- */
    {"B.1 synchronization (assume)", A, BYTES(Z5, 0x80, 0, 0, 0, 0, 0x01),
     EXPS(SYNC(0, 6), ERR(6, 4, BAD_SYNC), ERR(10, 1, TRUNCATED))},
    {"B.1 synchronization (wait)", W, BYTES(Z5, 0x80, 0, 0, 0, 0, 0x01),
     EXPS(SYNC(0, 6), ERR(6, 4, BAD_SYNC), ERR(10, 1, NOSYNC))},
    {"B.2 overflow", A, BYTES(0x70), EXPS(OVF(0))},
    {"B.3 instrumentation", A, BYTES(0x01, 0x10, 0x0a, 0x30, 0x20, 0x13, 0x70, 0x60, 0x50, 0x40),
     EXPS(SWIT(0, 2, 0, 1, 0x10), SWIT(2, 3, 1, 2, 0x2030), SWIT(5, 5, 2, 4, 0x40506070))},
    {"B.4 lts1", A,
     BYTES(0x01, 0x00, 0xc0, 0x81, 0x81, 0x81, 0x01, 0x01, 0x00, 0xc0, 0x81, 0x81, 0x01, 0x01, 0x00,
           0xc0, 0x81, 0x01, 0x01, 0x00, 0xc0, 0x01),
     EXPS(SWIT(0, 2, 0, 1, 0), LTS(2, 5, 0x204081, 0), SWIT(7, 2, 0, 1, 0), LTS(9, 4, 0x4081, 0),
          SWIT(13, 2, 0, 1, 0), LTS(15, 3, 0x81, 0), SWIT(18, 2, 0, 1, 0), LTS(20, 2, 0x1, 0))},
    {"B.5 lts2", A, BYTES(0x01, 0x10, 0x40), EXPS(SWIT(0, 2, 0, 1, 0x10), LTS(2, 1, 4, 0))},
    {"B.6 gts1", A,
     BYTES(0x01, 0x00, 0x94, 0x7f, 0x01, 0x00, 0x94, 0xff, 0x7f, 0x01, 0x00, 0x94, 0xff, 0xff, 0x7f,
           0x01, 0x00, 0x94, 0xff, 0xff, 0xff, 0x7f),
     EXPS(SWIT(0, 2, 0, 1, 0), GTS1(2, 2, 0x7f, false, false), SWIT(4, 2, 0, 1, 0),
          GTS1(6, 3, 0x3fff, false, false), SWIT(9, 2, 0, 1, 0),
          GTS1(11, 4, 0x1fffff, false, false), SWIT(15, 2, 0, 1, 0),
          GTS1(17, 5, 0x3ffffff, true, true))},
    {"B.7 gts2", A, BYTES(0xb4, 0xff, 0xff, 0xff, 0x01, 0xb4, 0xff, 0xff, 0xff, 0xff, 0xff, 0x07),
     EXPS(GTS2(0, 5, 0x3fffff), GTS2(5, 7, 0x3fffffffffull))},
    {"B.8 stimulus port page", A, BYTES(0x08), EXPS(EXT(0, 1, 0, 0))},
    {"B.9 event counter", A, BYTES(0x05, 0x04), EXPS(HWIT(0, 2, 0, 1, 0x04))},
    {"B.10 exception trace", A, BYTES(0x0e, 0x10, 0x10, 0x0e, 0x10, 0x20, 0x0e, 0x00, 0x30),
     EXPS(HWIT(0, 3, 1, 2, 0x1010), HWIT(3, 3, 1, 2, 0x2010), HWIT(6, 3, 1, 2, 0x3000))},
    {"B.11 periodic pc sample", A, BYTES(0x15, 0x00, 0x17, 0x00, 0x00, 0x00, 0x80),
     EXPS(HWIT(0, 2, 2, 1, 0), HWIT(2, 5, 2, 4, 0x80000000u))},
    {"B.12 data trace pc", A, BYTES(0x47, 0x00, 0x00, 0x00, 0x80),
     EXPS(HWIT(0, 5, 8, 4, 0x80000000u))},
    {"B.13 data trace address", A, BYTES(0x4e, 0x12, 0x34), EXPS(HWIT(0, 3, 9, 2, 0x3412))},
    {"B.14 data trace value", A, BYTES(0x85, 0x12), EXPS(HWIT(0, 2, 16, 1, 0x12))},

    /* ---- packet classes, field extremes ---- */
    {"lts2 all", A, BYTES(0x10, 0x20, 0x30, 0x40, 0x50, 0x60),
     EXPS(LTS(0, 1, 1, 0), LTS(1, 1, 2, 0), LTS(2, 1, 3, 0), LTS(3, 1, 4, 0), LTS(4, 1, 5, 0),
          LTS(5, 1, 6, 0))},
    {"lts1 tc and max", A, BYTES(0xd0, 0x05, 0xe0, 0x85, 0x01, 0xf0, 0xff, 0xff, 0xff, 0x7f),
     EXPS(LTS(0, 2, 5, 1), LTS(2, 3, 0x85, 2), LTS(5, 5, 0xfffffff, 3))},
    {"swit port 31 sizes", A, BYTES(0xf9, 0xaa, 0xfa, 0x34, 0x12, 0xfb, 0x78, 0x56, 0x34, 0x12),
     EXPS(SWIT(0, 2, 31, 1, 0xaa), SWIT(2, 3, 31, 2, 0x1234), SWIT(5, 5, 31, 4, 0x12345678))},
    {"hwit disc 31, zero payload", A, BYTES(0xff, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x00),
     EXPS(HWIT(0, 5, 31, 4, 0), HWIT(5, 2, 31, 1, 0))},
    {"gts2 masked to field width", A,
     BYTES(0xb4, 0xff, 0xff, 0xff, 0x7f, 0xb4, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
     EXPS(GTS2(0, 5, 0x3fffff), GTS2(5, 7, 0x3fffffffffull))},
    {"gts1 flags only", A, BYTES(0x94, 0x80, 0x80, 0x80, 0x20, 0x94, 0x80, 0x80, 0x80, 0x40),
     EXPS(GTS1(0, 5, 0, true, false), GTS1(5, 5, 0, false, true))},
    {"ext sh=1 and long forms", A,
     BYTES(0x0c, 0xfc, 0x01, 0x88, 0x81, 0x82, 0x83, 0xff, 0xf8, 0xff, 0xff, 0xff, 0x7f),
     EXPS(EXT(0, 1, 1, 0), EXT(1, 2, 1, (1 << 3) | 7), EXT(3, 5, 0, 0xff000000u | (0x0c101u << 3)),
          EXT(8, 5, 0, 0x7fffffffu))},
    {"long sync", A, BYTES(Z5, Z5, 0x80, 0x70), EXPS(SYNC(0, 11), OVF(11))},

    /* ---- stimulus port pages ---- */
    {"pages", W,
     BYTES(Z5, 0x80, 0x28, 0x52, 0x45, 0x23, 0x0c, 0x0a, 0x01, 0x02, 0x1d, 0x05, Z5, 0x80, 0x52,
           0x01, 0x02, 0x48, 0x5b, 0x23, 0x01, 0x89, 0x67, 0x08, 0x52, 0xfe, 0x32, 0x78, 0x09, 0x11,
           0xb8, 0x81, 0x01, 0x09, 0x22),
     EXPS(SYNC(0, 6), EXT(6, 1, 0, 2), SWIT(7, 3, 74, 2, 0x2345), EXT(10, 1, 1, 0),
          SWIT(11, 3, 65, 2, 0x0201), HWIT(14, 2, 3, 1, 5), SYNC(16, 6), SWIT(22, 3, 10, 2, 0x0201),
          EXT(25, 1, 0, 4), SWIT(26, 5, 139, 4, 0x67890123), EXT(31, 1, 0, 0),
          SWIT(32, 3, 10, 2, 0x32fe), EXT(35, 1, 0, 7), SWIT(36, 2, 225, 1, 0x11),
          EXT(38, 3, 0, 0x40b), SWIT(41, 2, 0x40b * 32 + 1, 1, 0x22))},

    /* ---- errors, ASSUME mode: skip the bad bytes, carry on ---- */
    {"reserved headers (assume)", A,
     BYTES(0x70, 0x04, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0x84, 0xc4, 0xf4, 0x74, 0x70),
     EXPS(OVF(0), ERR(1, 1, RESERVED), OVF(2), ERR(3, 1, RESERVED), ERR(4, 1, RESERVED),
          ERR(5, 1, RESERVED), ERR(6, 1, RESERVED), ERR(7, 1, RESERVED), ERR(8, 1, RESERVED),
          ERR(9, 1, RESERVED), ERR(10, 1, RESERVED), OVF(11))},
    {"too long (assume)", A,
     BYTES(0xc0, 0x81, 0x82, 0x83, 0x84, 0x70, 0x94, 0xff, 0xff, 0xff, 0xff, 0x70, 0xb4, 0x80,
           0x80, 0x80, 0x80, 0x80, 0x80, 0x70),
     EXPS(ERR(0, 5, TOO_LONG), OVF(5), ERR(6, 5, TOO_LONG), OVF(11), ERR(12, 7, TOO_LONG),
          OVF(19))},
    {"gts2 size (assume)", A,
     BYTES(0xb4, 0x01, 0x70, 0xb4, 0x81, 0x01, 0xb4, 0x81, 0x81, 0x01, 0xb4, 0x81, 0x81, 0x81, 0x81,
           0x01, 0x70),
     EXPS(ERR(0, 2, GTS2_SIZE), OVF(2), ERR(3, 3, GTS2_SIZE), ERR(6, 4, GTS2_SIZE),
          ERR(10, 6, GTS2_SIZE), OVF(16))},
    {"bad sync (assume)", A,
     BYTES(0, 0, 0x70, Z5, 0, 0, 0x01, 0x05, 0, 0, 0, 0, 0x80, 0x70),
     EXPS(ERR(0, 2, BAD_SYNC), OVF(2), ERR(3, 7, BAD_SYNC), SWIT(10, 2, 0, 1, 5),
          ERR(12, 4, BAD_SYNC), ERR(16, 1, RESERVED), OVF(17))},
    {"truncated source (assume)", A, BYTES(0x70, 0x0b, 0x01, 0x02),
     EXPS(OVF(0), ERR(1, 3, TRUNCATED))},
    {"truncated sync (assume)", A, BYTES(0x70, 0, 0, 0, 0, 0, 0), EXPS(OVF(0), ERR(1, 6, TRUNCATED))},

    /* ---- errors, WAIT mode: go unsynchronised until the next sync ---- */
    {"reserved (wait)", W, BYTES(Z5, 0x80, 0x70, 0x04, 0x70, 0x01, 0x02, Z5, 0x80, 0x70),
     EXPS(SYNC(0, 6), OVF(6), ERR(7, 1, RESERVED), ERR(8, 3, NOSYNC), SYNC(11, 6), OVF(17))},
    {"too long (wait)", W, BYTES(Z5, 0x80, 0xc0, 0x81, 0x82, 0x83, 0x84, 0x70, Z5, 0x80),
     EXPS(SYNC(0, 6), ERR(6, 5, TOO_LONG), ERR(11, 1, NOSYNC), SYNC(12, 6))},
    {"gts2 size (wait)", W, BYTES(Z5, 0x80, 0xb4, 0x01, Z5, 0x80, 0x70),
     EXPS(SYNC(0, 6), ERR(6, 2, GTS2_SIZE), SYNC(8, 6), OVF(14))},
    {"bad sync (wait)", W, BYTES(Z5, 0x80, 0, 0, 0x34, 0x12, Z5, 0x80, 0x70),
     EXPS(SYNC(0, 6), ERR(6, 2, BAD_SYNC), ERR(8, 2, NOSYNC), SYNC(10, 6), OVF(16))},
    {"bad sync 0x80 (wait)", W, BYTES(Z5, 0x80, 0, 0, 0, 0, 0x80, Z5, 0x80),
     EXPS(SYNC(0, 6), ERR(6, 4, BAD_SYNC), ERR(10, 1, NOSYNC), SYNC(11, 6))},
    {"junk 00 00 34 is not a sync", W, BYTES(0, 0, 0x34, Z5, 0x80, 0x70),
     EXPS(ERR(0, 3, NOSYNC), SYNC(3, 6), OVF(9))},
    {"junk zeros merge into sync", W, BYTES(0x12, 0, 0, Z5, 0x80),
     EXPS(ERR(0, 1, NOSYNC), SYNC(1, 8))},
    {"six zeros then 01 is not a sync", W, BYTES(Z5, 0, 0x01, Z5, 0x80),
     EXPS(ERR(0, 7, NOSYNC), SYNC(7, 6))},
    {"only junk", W, BYTES(0x12, 0x34, 0, 0), EXPS(ERR(0, 4, NOSYNC))},
    {"sync at start, nothing skipped", W, BYTES(Z5, 0x80), EXPS(SYNC(0, 6))},
    {"wait: truncated packet after sync", W, BYTES(Z5, 0x80, 0xb4, 0x81),
     EXPS(SYNC(0, 6), ERR(6, 2, TRUNCATED))},
    {"wait: zeros at end after sync", W, BYTES(Z5, 0x80, 0, 0), EXPS(SYNC(0, 6), ERR(6, 2, TRUNCATED))},
    {"wait: sync resets page", W, BYTES(Z5, 0x80, 0x38, 0x09, 0x01, Z5, 0x80, 0x09, 0x02),
     EXPS(SYNC(0, 6), EXT(6, 1, 0, 3), SWIT(7, 2, 97, 1, 1), SYNC(9, 6), SWIT(15, 2, 1, 1, 2))},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vec *v = &vectors[i];
        comb_itm_stats st;
        decode_all(v->mode, v->bytes, v->n, &ref_list, &st);
        check_expected(v->name, &ref_list, v->exp, v->nexp);
        check_invariants(v->name, v->bytes, v->n, &ref_list, &st);
        check_splits(v->name, v->mode, v->bytes, v->n, true, 8);
    }
}

static void test_empty_and_null(void)
{
    comb_itm_decoder d;
    plist *l = &ref_list;
    static const uint8_t one[1] = {0x70};

    /* A1.1: empty stream, both modes */
    for (int m = 0; m < 2; m++) {
        l->n = 0;
        comb_itm_decoder_init(&d, m ? A : W);
        comb_itm_decoder_feed(&d, NULL, 0, collect, l);
        comb_itm_decoder_feed(&d, one, 0, collect, l);
        comb_itm_decoder_feed(&d, NULL, 5, collect, l); /* ignored */
        comb_itm_decoder_finish(&d, collect, l);
        CHECK_EQ_U64(l->n, 0);
        CHECK_EQ_U64(comb_itm_decoder_stats(&d)->bytes, 0);
    }
    /* NULL sink: stats still kept */
    comb_itm_decoder_init(&d, A);
    comb_itm_decoder_feed(&d, one, 1, NULL, NULL);
    comb_itm_decoder_finish(&d, NULL, NULL);
    CHECK_EQ_U64(comb_itm_decoder_stats(&d)->packets[COMB_ITM_OVERFLOW], 1);
    CHECK_EQ_U64(comb_itm_decoder_stats(&d)->bytes, 1);
    /* finish twice: nothing more; feeding after finish continues the offsets */
    static const uint8_t part[] = {0x0b, 0x01};
    l->n = 0;
    comb_itm_decoder_init(&d, A);
    comb_itm_decoder_feed(&d, part, sizeof part, collect, l);
    comb_itm_decoder_finish(&d, collect, l);
    comb_itm_decoder_finish(&d, collect, l);
    CHECK_EQ_U64(l->n, 1);
    CHECK_EQ_U64(l->p[0].error, COMB_ITM_ERR_TRUNCATED);
    comb_itm_decoder_feed(&d, one, 1, collect, l);
    CHECK_EQ_U64(l->n, 2);
    CHECK_EQ_U64(l->p[1].kind, COMB_ITM_OVERFLOW);
    CHECK_EQ_U64(l->p[1].offset, 2);
    /* out-of-range mode is WAIT */
    comb_itm_decoder_init(&d, (comb_itm_sync_mode)7);
    CHECK_EQ_U64(d.mode, W);
    CHECK(comb_itm_decoder_stats(NULL) == NULL);
}

/* Every header byte is classified as the D4 table says (independent oracle). */
static void test_header_classes(void)
{
    unsigned reserved = 0;
    for (unsigned h = 1; h < 256; h++) {
        uint8_t buf[8] = {(uint8_t)h, 0x81, 0x82, 0x83, 0x04, 0x05, 0x06, 0x07};
        comb_itm_kind kind;
        uint32_t len;
        if (h & 3u) {
            kind = (h & 4u) ? COMB_ITM_HWIT : COMB_ITM_SWIT;
            len = 1u + ((h & 3u) == 3u ? 4u : (h & 3u));
        } else if (h == 0x70) {
            kind = COMB_ITM_OVERFLOW;
            len = 1;
        } else if (h >= 0x10 && h <= 0x60 && (h & 0x0Fu) == 0) {
            kind = COMB_ITM_LTS;
            len = 1;
        } else if (h == 0xC0 || h == 0xD0 || h == 0xE0 || h == 0xF0) {
            kind = COMB_ITM_LTS;
            len = 5;
        } else if (h == 0x94) {
            kind = COMB_ITM_GTS1;
            len = 5;
        } else if (h == 0xB4) {
            kind = COMB_ITM_GTS2;
            len = 5;
        } else if ((h & 0x0Fu) == 0x08 || (h & 0x0Fu) == 0x0C) {
            kind = COMB_ITM_EXT;
            len = (h & 0x80u) ? 5 : 1;
        } else {
            kind = COMB_ITM_ERROR;
            len = 1;
            reserved++;
        }
        comb_itm_stats st;
        decode_all(A, buf, sizeof buf, &ref_list, &st);
        CHECK(ref_list.n >= 1);
        CHECK_EQ_U64(ref_list.p[0].kind, kind);
        CHECK_EQ_U64(ref_list.p[0].length, len);
        if (kind == COMB_ITM_ERROR)
            CHECK_EQ_U64(ref_list.p[0].error, COMB_ITM_ERR_RESERVED);
        if (ref_list.p[0].kind != kind)
            fprintf(stderr, "  ... header 0x%02x\n", h);
        check_invariants("header class", buf, sizeof buf, &ref_list, &st);
    }
    CHECK_EQ_U64(reserved, 18); /* 14 x Cxxx0100 besides 0x94/0xB4, plus 0x80/0x90/0xA0/0xB0 */
}

/* ---- OpenCSD corpus ------------------------------------------------------------ */

/* README table of opencsd-itm/: every packet after the first sync, with the full
 * channel number (page * 32 + port) for SWIT and the LE payload for DWT. */
static const exp_pkt ocsd_expected[] = {
    ERR(0, 16, NOSYNC),
    SYNC(16, 6),                             /* 00 00 00 00 00 80 */
    OVF(22),                                 /* 70 */
    SWIT(23, 2, 3, 1, 0xbbu),                /* 19 bb */
    LTS(25, 1, 2u, 0),                       /* 20 */
    SYNC(26, 6),                             /* 00 00 00 00 00 80 */
    SWIT(32, 2, 1, 1, 0xacu),                /* 09 ac */
    LTS(34, 1, 2u, 0),                       /* 20 */
    SWIT(35, 3, 1, 2, 0x2345u),              /* 0a 45 23 */
    SWIT(38, 5, 1, 4, 0x67890123u),          /* 0b 23 01 89 67 */
    LTS(43, 2, 0xdu, 1),                     /* d0 0d */
    SYNC(45, 6),                             /* 00 00 00 00 00 80 */
    HWIT(51, 2, 0, 1, 0x15u),                /* 05 15 */
    LTS(53, 4, 0x12402u, 0),                 /* c0 82 c8 04 */
    HWIT(57, 3, 1, 2, 0x1004u),              /* 0e 04 10 */
    LTS(60, 3, 0x3220u, 1),                  /* d0 a0 64 */
    HWIT(63, 5, 2, 4, 0x1000u),              /* 17 00 10 00 00 */
    LTS(68, 3, 0x1342u, 2),                  /* e0 c2 26 */
    HWIT(71, 5, 2, 4, 0x1080u),              /* 17 80 10 00 00 */
    HWIT(76, 2, 2, 1, 0x0u),                 /* 15 00 */
    OVF(78),                                 /* 70 */
    HWIT(79, 2, 18, 1, 0x44u),               /* 95 44 */
    LTS(81, 5, 0x7543f5eu, 3),               /* f0 de fe d0 3a */
    HWIT(86, 3, 16, 2, 0x5566u),             /* 86 66 55 */
    LTS(89, 2, 0x78u, 0),                    /* c0 78 */
    HWIT(91, 5, 20, 4, 0x778899aau),         /* a7 aa 99 88 77 */
    LTS(96, 1, 6u, 0),                       /* 60 */
    HWIT(97, 3, 1, 2, 0x2123u),              /* 0e 23 21 */
    LTS(100, 1, 3u, 0),                      /* 30 */
    HWIT(101, 3, 1, 2, 0x3003u),             /* 0e 03 30 */
    HWIT(104, 5, 6, 4, 0x2000u),             /* 37 00 20 00 00 */
    HWIT(109, 3, 5, 2, 0x322u),              /* 2e 22 03 */
    HWIT(112, 2, 17, 1, 0x11u),              /* 8d 11 */
    LTS(114, 1, 4u, 0),                      /* 40 */
    HWIT(115, 3, 19, 2, 0x2233u),            /* 9e 33 22 */
    LTS(118, 1, 3u, 0),                      /* 30 */
    HWIT(119, 5, 21, 4, 0x44556677u),        /* af 77 66 55 44 */
    LTS(124, 1, 2u, 0),                      /* 20 */
    SYNC(125, 6),                            /* 00 00 00 00 00 80 */
    OVF(131),                                /* 70 */
    SWIT(132, 2, 10, 1, 0xacu),              /* 51 ac */
    LTS(134, 1, 2u, 0),                      /* 20 */
    EXT(135, 1, 0, 2u),                      /* 28 */
    SWIT(136, 3, 74, 2, 0x2345u),            /* 52 45 23 */
    EXT(139, 1, 0, 4u),                      /* 48 */
    SWIT(140, 5, 139, 4, 0x67890123u),       /* 5b 23 01 89 67 */
    EXT(145, 1, 0, 0u),                      /* 08 */
    SWIT(146, 3, 10, 2, 0x32feu),            /* 52 fe 32 */
    SYNC(149, 6),                            /* 00 00 00 00 00 80 */
    OVF(155),                                /* 70 */
    GTS1(156, 5, 0xf23456u, 0, 0),           /* 94 d6 e8 c8 07 */
    GTS2(161, 7, 0x4080c13u),                /* b4 93 98 a0 a0 80 00 */
    SWIT(168, 3, 16, 2, 0x1234u),            /* 82 34 12 */
    GTS1(171, 2, 0x7au, 0, 0),               /* 94 7a */
    SWIT(173, 5, 16, 4, 0x56789abcu),        /* 83 bc 9a 78 56 */
    GTS1(178, 3, 0x2712u, 0, 0),             /* 94 92 4e */
    SWIT(181, 3, 17, 2, 0x9876u),            /* 8a 76 98 */
    GTS1(184, 4, 0x42353u, 0, 0),            /* 94 d3 c6 10 */
    SWIT(188, 5, 17, 4, 0x54321adcu),        /* 8b dc 1a 32 54 */
    GTS1(193, 5, 0x2fea782u, 0, 0),          /* 94 82 cf fa 17 */
    SWIT(198, 3, 17, 2, 0xa5a5u),            /* 8a a5 a5 */
    GTS1(201, 5, 0x2fea782u, 1, 1),          /* 94 82 cf fa 77 */
    SWIT(206, 3, 17, 2, 0xb6b6u),            /* 8a b6 b6 */
    GTS2(209, 7, 0x4080c13u),                /* b4 93 98 a0 a0 80 00 */
    SWIT(216, 3, 17, 2, 0xc7c7u),            /* 8a c7 c7 */
    GTS1(219, 5, 0x343923au, 0, 1),          /* 94 ba a4 8e 5a */
    SWIT(224, 3, 17, 2, 0xc7c7u),            /* 8a c7 c7 */
    GTS1(227, 2, 0x5du, 0, 0),               /* 94 5d */
    SWIT(229, 3, 17, 2, 0xd8d8u),            /* 8a d8 d8 */
    GTS2(232, 7, 0x4080c14u),                /* b4 94 98 a0 a0 80 00 */
    SWIT(239, 3, 17, 2, 0xe9e9u),            /* 8a e9 e9 */
    GTS1(242, 3, 0x3451u, 0, 0),             /* 94 d1 68 */
    SWIT(245, 3, 16, 2, 0xf0f0u),            /* 82 f0 f0 */
    GTS1(248, 5, 0x3afe32u, 0, 1),           /* 94 b2 fc eb 41 */
    GTS2(253, 5, 0x48d16u),                  /* b4 96 9a 92 00 */
    SWIT(258, 3, 16, 2, 0x0101u),            /* 82 01 01 */
};

static uint8_t ocsd_bin[512];
static size_t ocsd_len;

static void load_ocsd(void)
{
    const char *path = COMB_CORPORA_DIR "/opencsd-itm/itm_only_raw/itm_testdata.bin";
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return;
    }
    ocsd_len = fread(ocsd_bin, 1, sizeof ocsd_bin, f);
    fclose(f);
    CHECK_EQ_U64(ocsd_len, 261);
}

static void test_opencsd(void)
{
    comb_itm_stats st;
    if (ocsd_len != 261)
        return;
    /* the first 16 bytes, as given in the README */
    static const uint8_t junk[16] = {0xf0, 0x00, 0x00, 0x34, 0x00, 0x12, 0x33, 0x44,
                                     0x12, 0x43, 0x55, 0x66, 0x22, 0x77, 0x88, 0x99};
    CHECK(memcmp(ocsd_bin, junk, sizeof junk) == 0);

    decode_all(W, ocsd_bin, ocsd_len, &ref_list, &st);
    check_expected("opencsd itm_only_raw", &ref_list, ocsd_expected,
                   sizeof ocsd_expected / sizeof ocsd_expected[0]);
    check_invariants("opencsd", ocsd_bin, ocsd_len, &ref_list, &st);
    /* per-kind counts = README "Packet counts per section" (NOTSYNC as one run) */
    CHECK_EQ_U64(st.bytes, 261);
    CHECK_EQ_U64(st.packets[COMB_ITM_SYNC], 5);
    CHECK_EQ_U64(st.packets[COMB_ITM_OVERFLOW], 4);
    CHECK_EQ_U64(st.packets[COMB_ITM_SWIT], 20);
    CHECK_EQ_U64(st.packets[COMB_ITM_HWIT], 15);
    CHECK_EQ_U64(st.packets[COMB_ITM_LTS], 14);
    CHECK_EQ_U64(st.packets[COMB_ITM_GTS1], 10);
    CHECK_EQ_U64(st.packets[COMB_ITM_GTS2], 4);
    CHECK_EQ_U64(st.packets[COMB_ITM_EXT], 3);
    CHECK_EQ_U64(st.packets[COMB_ITM_ERROR], 1);
    CHECK_EQ_U64(st.errors[COMB_ITM_ERR_NOSYNC], 1);
    CHECK_EQ_U64(st.bytes_skipped, 16);
    check_splits("opencsd (wait)", W, ocsd_bin, ocsd_len, true, 50);

    /* Each test section on its own (OpenCSD's itm-decode-test resets per section). */
    static const size_t sect[6] = {0, 26, 45, 125, 149, 261};
    for (int s = 1; s < 5; s++) {
        decode_all(W, ocsd_bin + sect[s], sect[s + 1] - sect[s], &alt_list, &st);
        size_t first = 0;
        while (ocsd_expected[first].offset < sect[s])
            first++;
        bool ok = true;
        size_t k = 0;
        for (size_t i = first; i < sizeof ocsd_expected / sizeof ocsd_expected[0] &&
                               ocsd_expected[i].offset < sect[s + 1];
             i++, k++) {
            const comb_itm_packet *g = &alt_list.p[k];
            const exp_pkt *e = &ocsd_expected[i];
            ok = ok && k < alt_list.n && g->kind == e->kind && g->offset + sect[s] == e->offset &&
                 g->value == e->value && g->port == e->port;
        }
        CHECK(ok);
        CHECK_EQ_U64(alt_list.n, k);
    }

    /* ASSUME mode: the junk decodes as (bogus) packets, the first sync is lost
     * because the junk ends in a continued extension, and decoding is exact
     * from the sync at 26 on. */
    static const exp_pkt assume_head[] = {
        LTS(0, 2, 0, 3),            /* f0 00 */
        ERR(2, 1, BAD_SYNC),        /* 00 */
        ERR(3, 1, RESERVED),        /* 34 */
        ERR(4, 1, BAD_SYNC),        /* 00 */
        SWIT(5, 3, 2, 2, 0x4433),   /* 12 33 44 */
        SWIT(8, 3, 2, 2, 0x5543),   /* 12 43 55 */
        HWIT(11, 3, 12, 2, 0x7722), /* 66 22 77 */
        EXT(14, 3, 0, 0xc8),        /* 88 99 00: page 200 */
        ERR(17, 4, BAD_SYNC),       /* 00 00 00 00 */
        ERR(21, 1, RESERVED),       /* 80 */
        OVF(22),
        SWIT(23, 2, 200 * 32 + 3, 1, 0xbb),
        LTS(25, 1, 2, 0),
    };
    size_t nh = sizeof assume_head / sizeof assume_head[0];
    size_t nexp = sizeof ocsd_expected / sizeof ocsd_expected[0];
    decode_all(A, ocsd_bin, ocsd_len, &ref_list, &st);
    check_invariants("opencsd (assume)", ocsd_bin, ocsd_len, &ref_list, &st);
    CHECK_EQ_U64(ref_list.n, nh + nexp - 5);
    plist *head = &alt_list;
    head->n = nh;
    memcpy(head->p, ref_list.p, nh * sizeof head->p[0]);
    check_expected("opencsd (assume) head", head, assume_head, nh);
    head->n = ref_list.n - nh;
    memcpy(head->p, ref_list.p + nh, head->n * sizeof head->p[0]);
    check_expected("opencsd (assume) tail", head, ocsd_expected + 5, nexp - 5);
    check_splits("opencsd (assume)", A, ocsd_bin, ocsd_len, true, 50);
}

/* ---- truncation at every position ---------------------------------------------- */

static uint8_t valid_stream[2048];
static size_t valid_len;

static void append(const uint8_t *b, size_t n)
{
    if (valid_len + n <= sizeof valid_stream) {
        memcpy(valid_stream + valid_len, b, n);
        valid_len += n;
    }
}

static void build_valid_stream(void)
{
    static const uint8_t sync[] = {Z5, 0x80};
    valid_len = 0;
    append(sync, sizeof sync);
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vec *v = &vectors[i];
        bool clean = true;
        for (size_t k = 0; k < v->nexp; k++)
            clean = clean && v->exp[k].kind != COMB_ITM_ERROR;
        if (clean)
            append(v->bytes, v->n);
    }
    if (ocsd_len > 16)
        append(ocsd_bin + 16, ocsd_len - 16);
    static const uint8_t long_sync[] = {Z5, Z5, 0, 0x80, 0x70};
    append(long_sync, sizeof long_sync);
}

static void test_truncation(void)
{
    static plist full, cut;
    comb_itm_stats st;
    build_valid_stream();
    CHECK(valid_len > 400);
    for (int m = 0; m < 2; m++) {
        comb_itm_sync_mode mode = m ? A : W;
        decode_all(mode, valid_stream, valid_len, &full, &st);
        CHECK_EQ_U64(st.packets[COMB_ITM_ERROR], 0);
        check_invariants("valid stream", valid_stream, valid_len, &full, &st);
        bool all_ok = true;
        for (size_t k = 0; k <= valid_len; k++) {
            /* expected: the packets that end by k, then the one cut at k */
            size_t i = 0;
            bool ok = true;
            decode_all(mode, valid_stream, k, &cut, &st);
            while (i < full.n && full.p[i].offset + full.p[i].length <= k) {
                ok = ok && i < cut.n && pkt_eq(&full.p[i], &cut.p[i]);
                i++;
            }
            if (i < full.n && full.p[i].offset < k) {
                const comb_itm_packet *c = &cut.p[i];
                comb_itm_error want = COMB_ITM_ERR_TRUNCATED;
                if (mode == W && i == 0)
                    want = COMB_ITM_ERR_NOSYNC; /* inside the very first sync */
                ok = ok && cut.n == i + 1 && c->kind == COMB_ITM_ERROR && c->error == want &&
                     c->offset == full.p[i].offset && c->length == k - full.p[i].offset;
            } else {
                ok = ok && cut.n == i;
            }
            if (!ok) {
                all_ok = false;
                fprintf(stderr, "  truncation at %zu (mode %d) wrong\n", k, (int)mode);
            }
            check_invariants("truncated", valid_stream, k, &cut, &st);
        }
        CHECK(all_ok);
        check_splits("valid stream", mode, valid_stream, valid_len, true, 20);
    }
}

/* ---- garbage and recovery ------------------------------------------------------- */

static uint8_t garbage[8192];

static void fill_garbage(uint8_t *g, size_t n, int flavour)
{
    /* flavour 0: uniform; 1: rich in zeros, 0x80 and continuation bytes */
    static const uint8_t pick[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x80, 0xff, 0x94, 0xb4,
                                   0xc0, 0x70, 0x08, 0x88, 0x03, 0x04, 0x01};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng();
        g[i] = flavour ? pick[r % sizeof pick] : (uint8_t)(r >> 24);
    }
}

static void test_garbage(void)
{
    comb_itm_stats st;
    for (int round = 0; round < 120; round++) {
        size_t n = (size_t)(rng() % sizeof garbage) + 1;
        int flavour = round & 1;
        fill_garbage(garbage, n, flavour);
        for (int m = 0; m < 2; m++) {
            comb_itm_sync_mode mode = m ? A : W;
            decode_all(mode, garbage, n, &ref_list, &st);
            check_invariants("garbage", garbage, n, &ref_list, &st);
            check_splits("garbage", mode, garbage, n, n <= 300, 3);
        }
    }
    /* a long biased stream contains syncs, bad syncs and every error class */
    fill_garbage(garbage, sizeof garbage, 1);
    decode_all(W, garbage, sizeof garbage, &ref_list, &st);
    check_invariants("biased garbage", garbage, sizeof garbage, &ref_list, &st);
    CHECK(st.packets[COMB_ITM_SYNC] > 0);
    CHECK(st.errors[COMB_ITM_ERR_NOSYNC] > 0);
    CHECK(st.errors[COMB_ITM_ERR_RESERVED] > 0);
    decode_all(A, garbage, sizeof garbage, &ref_list, &st);
    check_invariants("biased garbage (assume)", garbage, sizeof garbage, &ref_list, &st);
    CHECK(st.errors[COMB_ITM_ERR_BAD_SYNC] > 0);
    CHECK(st.errors[COMB_ITM_ERR_RESERVED] > 0);
    CHECK(st.errors[COMB_ITM_ERR_TOO_LONG] > 0);
    CHECK(st.errors[COMB_ITM_ERR_GTS2_SIZE] > 0);
}

/* garbage + (zeros) + clean stream starting with a sync: after that sync, the
 * packets are exactly those of the clean stream. */
static void test_recovery(void)
{
    static uint8_t buf[4096];
    static plist clean, mixed;
    comb_itm_stats st;
    if (ocsd_len != 261)
        return;
    const uint8_t *good = ocsd_bin + 16; /* starts with a sync */
    const size_t ngood = ocsd_len - 16;
    for (int m = 0; m < 2; m++) {
        comb_itm_sync_mode mode = m ? A : W;
        decode_all(mode, good, ngood, &clean, &st);
        CHECK_EQ_U64(st.packets[COMB_ITM_ERROR], 0);
        for (int round = 0; round < 60; round++) {
            size_t ng = (size_t)(rng() % 1000) + 1;
            /* WAIT mode, even rounds: uniform garbage (no sync of its own) and
             * no padding: exactly one nosync run, then the clean packets.
             * Otherwise the garbage may hold syncs and leave a packet open;
             * 8 zeros of padding guarantee that such a packet ends before the
             * sync's last five zeros. */
            bool strict = mode == W && (round & 1) == 0;
            fill_garbage(buf, ng, strict ? 0 : (round >> 1) & 1);
            size_t pad = strict ? 0 : 8;
            memset(buf + ng, 0, pad);
            memcpy(buf + ng + pad, good, ngood);
            size_t n = ng + pad + ngood;
            decode_all(mode, buf, n, &mixed, &st);
            check_invariants("recovery", buf, n, &mixed, &st);
            bool ok = mixed.n >= clean.n;
            size_t base = mixed.n - clean.n;
            /* the sync ends where the clean stream's first sync ends */
            ok = ok && mixed.p[base].kind == COMB_ITM_SYNC &&
                 mixed.p[base].offset + mixed.p[base].length == ng + pad + 6;
            for (size_t i = 1; ok && i < clean.n; i++) {
                comb_itm_packet want = clean.p[i];
                want.offset += ng + pad;
                ok = pkt_eq(&want, &mixed.p[base + i]);
            }
            if (strict && ok) {
                /* WAIT: everything before the sync is one nosync run (the
                 * garbage has no sync of its own: checked by the count) */
                ok = base == 1 && mixed.p[0].error == COMB_ITM_ERR_NOSYNC &&
                     mixed.p[0].offset == 0 && mixed.p[0].length == mixed.p[1].offset;
            }
            if (!ok)
                fprintf(stderr, "  recovery round %d (mode %d, %zu garbage bytes) failed\n",
                        round, (int)mode, ng);
            CHECK(ok);
            if (round < 4)
                check_splits("recovery", mode, buf, n, true, 5);
        }
    }
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_of(comb_itm_sync_mode mode, const uint8_t *b, size_t n, size_t idx,
                    const char *want)
{
    char out[512];
    decode_all(mode, b, n, &ref_list, NULL);
    CHECK(idx < ref_list.n);
    if (idx >= ref_list.n)
        return;
    int len = comb_itm_packet_to_json(&ref_list.p[idx], out, sizeof out);
    CHECK_EQ_U64(len, strlen(want));
    CHECK(strcmp(out, want) == 0);
    if (strcmp(out, want) != 0)
        fprintf(stderr, "  json: got  %s\n        want %s\n", out, want);
}

static void test_json(void)
{
    static const uint8_t sw[] = {0x0b, 0x23, 0x01, 0x89, 0x67};
    json_of(A, sw, sizeof sw, 0,
            "{\"type\":\"swit\",\"offset\":0,\"length\":5,\"port\":1,\"size\":4,\"value\":1737031971,"
            "\"raw\":\"0b23018967\"}");
    static const uint8_t hw[] = {0x70, 0x0e, 0x20, 0x30};
    json_of(A, hw, sizeof hw, 0, "{\"type\":\"overflow\",\"offset\":0,\"length\":1,\"raw\":\"70\"}");
    json_of(A, hw, sizeof hw, 1,
            "{\"type\":\"hwit\",\"offset\":1,\"length\":3,\"port\":1,\"size\":2,\"value\":12320,"
            "\"raw\":\"0e2030\"}");
    static const uint8_t sy[] = {Z5, Z5, 0x80};
    json_of(W, sy, sizeof sy, 0,
            "{\"type\":\"sync\",\"offset\":0,\"length\":11,\"raw\":\"0000000000000000\"}");
    static const uint8_t lts[] = {0xf0, 0xde, 0xfe, 0xd0, 0x3a, 0x50};
    json_of(A, lts, sizeof lts, 0,
            "{\"type\":\"lts\",\"offset\":0,\"length\":5,\"value\":122961758,\"tc\":3,"
            "\"raw\":\"f0defed03a\"}");
    json_of(A, lts, sizeof lts, 1,
            "{\"type\":\"lts\",\"offset\":5,\"length\":1,\"value\":5,\"tc\":0,\"raw\":\"50\"}");
    static const uint8_t g1[] = {0x94, 0x80, 0xa0, 0x84, 0x60, 0xb4, 0xbd, 0xf4, 0x91, 0x81, 0xf4,
                                 0x07};
    json_of(A, g1, sizeof g1, 0,
            "{\"type\":\"gts1\",\"offset\":0,\"length\":5,\"value\":69632,\"size\":4,"
            "\"clkch\":true,\"wrap\":true,\"raw\":\"9480a08460\"}");
    json_of(A, g1, sizeof g1, 1,
            "{\"type\":\"gts2\",\"offset\":5,\"length\":7,\"value\":271659072061,\"size\":6,"
            "\"raw\":\"b4bdf49181f407\"}");
    static const uint8_t ext[] = {0x78, 0x0c};
    json_of(A, ext, sizeof ext, 0,
            "{\"type\":\"ext\",\"offset\":0,\"length\":1,\"sh\":0,\"value\":7,\"raw\":\"78\"}");
    json_of(A, ext, sizeof ext, 1,
            "{\"type\":\"ext\",\"offset\":1,\"length\":1,\"sh\":1,\"value\":0,\"raw\":\"0c\"}");
    static const uint8_t junk[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22};
    json_of(W, junk, sizeof junk, 0,
            "{\"type\":\"error\",\"offset\":0,\"length\":10,\"error\":\"nosync\",\"skipped\":10,"
            "\"raw\":\"123456789abcdef0\"}");
    static const uint8_t gbad[] = {0xb4, 0x01};
    json_of(A, gbad, sizeof gbad, 0,
            "{\"type\":\"error\",\"offset\":0,\"length\":2,\"error\":\"gts2_size\",\"skipped\":2,"
            "\"raw\":\"b401\"}");

    /* snprintf semantics */
    comb_itm_packet pk;
    memset(&pk, 0, sizeof pk);
    pk.kind = COMB_ITM_SWIT;
    pk.offset = UINT64_MAX;
    pk.length = UINT32_MAX;
    pk.port = UINT32_MAX;
    pk.size = 4;
    pk.value = UINT64_MAX;
    memset(pk.raw, 0xab, sizeof pk.raw);
    const char *big = "{\"type\":\"swit\",\"offset\":18446744073709551615,\"length\":4294967295,"
                      "\"port\":4294967295,\"size\":4,\"value\":18446744073709551615,"
                      "\"raw\":\"abababababababab\"}";
    char out[400];
    int need = comb_itm_packet_to_json(&pk, NULL, 0);
    CHECK_EQ_U64(need, strlen(big));
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(comb_itm_packet_to_json(&pk, out, 1), strlen(big));
    CHECK(out[0] == '\0' && out[1] == 'x');
    memset(out, 'x', sizeof out);
    CHECK_EQ_U64(comb_itm_packet_to_json(&pk, out, 10), strlen(big));
    CHECK(memcmp(out, big, 9) == 0 && out[9] == '\0' && out[10] == 'x');
    CHECK_EQ_U64(comb_itm_packet_to_json(&pk, out, (size_t)need), strlen(big));
    CHECK(strlen(out) == (size_t)need - 1);
    CHECK_EQ_U64(comb_itm_packet_to_json(&pk, out, (size_t)need + 1), strlen(big));
    CHECK(strcmp(out, big) == 0);
    /* out-of-range kind and error still produce valid JSON */
    pk.kind = (comb_itm_kind)42;
    CHECK(comb_itm_packet_to_json(&pk, out, sizeof out) > 0);
    CHECK(strncmp(out, "{\"type\":\"unknown\"", 17) == 0);
    pk.kind = COMB_ITM_ERROR;
    pk.error = (comb_itm_error)42;
    comb_itm_packet_to_json(&pk, out, sizeof out);
    CHECK(strstr(out, "\"error\":\"unknown\"") != NULL);

    /* every packet of a long biased garbage decode formats without overflow */
    fill_garbage(garbage, sizeof garbage, 1);
    decode_all(W, garbage, sizeof garbage, &ref_list, NULL);
    bool ok = true;
    for (size_t i = 0; i < ref_list.n && i < MAXP; i++) {
        int len = comb_itm_packet_to_json(&ref_list.p[i], out, sizeof out);
        ok = ok && len > 0 && len < 256 && (size_t)len == strlen(out) && out[0] == '{' &&
             out[len - 1] == '}' && strchr(out, '\n') == NULL;
    }
    CHECK(ok);
}

static void test_names(void)
{
    static const char *const kinds[] = {"sync", "overflow", "swit", "hwit", "lts",
                                        "gts1", "gts2",     "ext",  "error"};
    static const char *const errs[] = {"none",     "nosync",    "bad_sync", "reserved",
                                       "too_long", "gts2_size", "truncated"};
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        CHECK(strcmp(comb_itm_kind_name((comb_itm_kind)k), kinds[k]) == 0);
    for (int e = 0; e < COMB_ITM_ERR_COUNT; e++)
        CHECK(strcmp(comb_itm_error_name((comb_itm_error)e), errs[e]) == 0);
    CHECK(strcmp(comb_itm_kind_name(COMB_ITM_KIND_COUNT), "unknown") == 0);
    CHECK(strcmp(comb_itm_error_name(COMB_ITM_ERR_COUNT), "unknown") == 0);
}

int main(void)
{
    load_ocsd();
    test_names();
    test_empty_and_null();
    test_header_classes();
    test_vectors();
    test_opencsd();
    test_truncation();
    test_garbage();
    test_recovery();
    test_json();
    return check_finish("test_itm_decoder");
}
