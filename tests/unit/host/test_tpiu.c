/*
 * TPIU / CoreSight formatter deformatter (tpiu_deformatter.h):
 * - the OpenCSD corpus: ID 0x14 of itm_testdata_ID_0x14.bin equals
 *   itm_testdata.bin byte for byte, whatever the chunking;
 * - hand-built frames for each rule (delayed/immediate ID change, aux bits,
 *   ID 0 padding, data before any ID, other IDs, bad ID 0x7F);
 * - full and half syncs, a misaligned start realigned by a full sync;
 * - a test-side formatter that multiplexes random streams of several IDs
 *   (with delayed changes, syncs, padding): every ID comes back exactly;
 * - the sync sniffer and trace ID parsing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/tpiu_deformatter.h"

#ifndef COMB_CORPORA_DIR
#define COMB_CORPORA_DIR "../shared/corpora"
#endif

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* splitmix64 */
static uint64_t rng_state = 0x1234;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* Deformats `in` in chunks of the given sizes (cycled; 0 = all at once). */
static size_t deformat(uint8_t id, const uint8_t *in, size_t n, const size_t *chunks, size_t nchunks, uint8_t *out,
                       comb_tpiu_stats *stats)
{
    comb_tpiu t;
    comb_tpiu_init(&t, id);
    size_t o = 0, i = 0, c = 0;
    uint8_t *tmp = malloc(n + COMB_TPIU_FRAME_SIZE + 1);
    while (i < n) {
        size_t len = nchunks ? chunks[c++ % nchunks] : n - i;
        if (len > n - i)
            len = n - i;
        size_t got = comb_tpiu_feed(&t, in + i, len, tmp);
        CHECK(got <= len + COMB_TPIU_FRAME_SIZE);
        memcpy(out + o, tmp, got);
        o += got;
        i += len;
    }
    comb_tpiu_finish(&t);
    if (stats)
        *stats = *comb_tpiu_get_stats(&t);
    free(tmp);
    return o;
}

static void test_opencsd_corpus(void)
{
    static uint8_t framed[4096], raw[4096], out[4096];
    size_t nf = slurp(COMB_CORPORA_DIR "/opencsd-itm/itm_only_csformat/itm_testdata_ID_0x14.bin", framed, sizeof framed);
    size_t nr = slurp(COMB_CORPORA_DIR "/opencsd-itm/itm_only_raw/itm_testdata.bin", raw, sizeof raw);
    CHECK_EQ_U64(nf, 288);
    CHECK_EQ_U64(nr, 261);
    if (nf != 288 || nr != 261)
        return;

    comb_tpiu_stats st;
    size_t n = deformat(0x14, framed, nf, NULL, 0, out, &st);
    CHECK_EQ_U64(n, nr);
    CHECK(memcmp(out, raw, nr) == 0);
    CHECK_EQ_U64(st.frames, 18);
    CHECK_EQ_U64(st.bytes_out, 261);
    CHECK_EQ_U64(st.bytes_null, 6);
    CHECK_EQ_U64(st.bytes_other, 0);
    CHECK_EQ_U64(st.bytes_noid, 0);
    CHECK_EQ_U64(st.bytes_dropped, 0);
    CHECK_EQ_U64(st.full_syncs + st.half_syncs + st.realigns + st.bad_ids, 0);

    /* every two-chunk split, then 1-byte chunks, then random chunkings */
    for (size_t cut = 1; cut < nf; cut++) {
        size_t chunks[2] = {cut, nf - cut};
        memset(out, 0, sizeof out);
        size_t m = deformat(0x14, framed, nf, chunks, 2, out, NULL);
        if (m != nr || memcmp(out, raw, nr) != 0) {
            CHECK(!"split changes the output");
            fprintf(stderr, "  split at %zu\n", cut);
            break;
        }
    }
    size_t one = 1;
    CHECK_EQ_U64(deformat(0x14, framed, nf, &one, 1, out, NULL), nr);
    CHECK(memcmp(out, raw, nr) == 0);
    for (int r = 0; r < 200; r++) {
        size_t chunks[7];
        for (int k = 0; k < 7; k++)
            chunks[k] = 1 + below(40);
        size_t m = deformat(0x14, framed, nf, chunks, 7, out, NULL);
        CHECK(m == nr && memcmp(out, raw, nr) == 0);
    }

    /* another ID gets nothing; everything is counted as other */
    n = deformat(0x01, framed, nf, NULL, 0, out, &st);
    CHECK_EQ_U64(n, 0);
    CHECK_EQ_U64(st.bytes_other, 261);

    /* the same frames behind full syncs and with half syncs at every pair boundary
     * of the first frame: same output */
    static uint8_t padded[8192];
    size_t p = 0;
    for (size_t f = 0; f < nf / 16; f++) {
        if (f % 3 == 0) {
            const uint8_t sync[4] = {0xFF, 0xFF, 0xFF, 0x7F};
            memcpy(padded + p, sync, 4);
            p += 4;
        }
        for (int k = 0; k < 16; k += 2) {
            if (f == 0 || (f == 5 && k == 8)) {
                padded[p++] = 0xFF;
                padded[p++] = 0x7F;
            }
            padded[p++] = framed[f * 16 + (size_t)k];
            padded[p++] = framed[f * 16 + (size_t)k + 1];
        }
    }
    n = deformat(0x14, padded, p, NULL, 0, out, &st);
    CHECK_EQ_U64(n, nr);
    CHECK(memcmp(out, raw, nr) == 0);
    CHECK_EQ_U64(st.full_syncs, 6);
    CHECK_EQ_U64(st.half_syncs, 9);
    CHECK_EQ_U64(st.realigns, 0);
    CHECK_EQ_U64(st.bytes_dropped, 0);
    CHECK_EQ_U64(deformat(0x14, padded, p, &one, 1, out, NULL), nr);
    CHECK(memcmp(out, raw, nr) == 0);

    /* a capture that starts mid-frame: garbage, then a full sync, then frames */
    for (size_t junk = 1; junk < 16; junk++) {
        static uint8_t late[4096];
        for (size_t k = 0; k < junk; k++)
            late[k] = (uint8_t)(0x10 + k * 2); /* no FF: cannot form a sync */
        memcpy(late + junk, "\xFF\xFF\xFF\x7F", 4);
        memcpy(late + junk + 4, framed, nf);
        n = deformat(0x14, late, junk + 4 + nf, NULL, 0, out, &st);
        CHECK_EQ_U64(n, nr);
        CHECK(memcmp(out, raw, nr) == 0);
        CHECK_EQ_U64(st.full_syncs, 1);
        CHECK_EQ_U64(st.realigns, 1);
        /* junk + FF FF FF fills a whole (misaligned) frame when junk >= 13: it is
         * unpacked before the sync is recognised, and holds no ID, so no output */
        CHECK_EQ_U64(st.bytes_dropped, junk <= 12 ? junk : 0);
        CHECK_EQ_U64(st.frames, 18 + (junk >= 13));
    }
}

/* Builds one frame from 15 "slots" given as a readable spec: for each of
 * bytes 0..14 a value and, for even bytes, the aux bit. */
static void frame_from(uint8_t frame[16], const uint8_t bytes[15], const uint8_t aux_bits[8])
{
    memcpy(frame, bytes, 15);
    frame[15] = 0;
    for (int j = 0; j < 8; j++)
        frame[15] |= (uint8_t)((aux_bits[j] & 1u) << j);
}

static void test_frame_rules(void)
{
    uint8_t f[16], out[64];
    comb_tpiu_stats st;
    comb_tpiu t;

    /* immediate change (aux 0): the byte after the ID belongs to the new ID.
     * byte 0: ID 1 (aux 0), byte 1: 'a' (ID 1), byte 2: data 0x42|aux1 = 0x43,
     * byte 3: 'b', byte 4: ID 2 delayed (aux 1): byte 5 'c' is still ID 1,
     * byte 6: data 0x10 (ID 2), byte 7 'd' (ID 2), byte 8: ID 1 immediate,
     * byte 9 'e' (ID 1), bytes 10-13 data for ID 1, byte 14: ID 0 (no data after). */
    const uint8_t bytes[15] = {0x03, 'a', 0x42, 'b', 0x05, 'c', 0x10, 'd', 0x03, 'e', 0x20, 'f', 0x30, 'g', 0x01};
    const uint8_t aux[8] = {0, 1, 1, 0, 0, 1, 0, 1};
    frame_from(f, bytes, aux);
    comb_tpiu_init(&t, 1);
    size_t n = comb_tpiu_feed(&t, f, 16, out);
    const uint8_t want1[] = {'a', 0x43, 'b', 'c', 'e', 0x21, 'f', 0x30, 'g'};
    CHECK_EQ_U64(n, sizeof want1);
    CHECK(memcmp(out, want1, sizeof want1) == 0);
    st = t.stats;
    CHECK_EQ_U64(st.bytes_out, 9);
    CHECK_EQ_U64(st.bytes_other, 2);
    CHECK_EQ_U64(st.frames, 1);

    comb_tpiu_init(&t, 2);
    n = comb_tpiu_feed(&t, f, 16, out);
    const uint8_t want2[] = {0x10, 'd'};
    CHECK_EQ_U64(n, 2);
    CHECK(memcmp(out, want2, 2) == 0);
    CHECK_EQ_U64(t.stats.bytes_other, 9);

    /* the next frame continues under ID 0 (set by byte 14): all padding */
    const uint8_t pad[15] = {0};
    const uint8_t aux0[8] = {0};
    uint8_t f2[16];
    frame_from(f2, pad, aux0);
    comb_tpiu_init(&t, 1);
    comb_tpiu_feed(&t, f, 16, out);
    CHECK_EQ_U64(comb_tpiu_feed(&t, f2, 16, out), 0);
    CHECK_EQ_U64(t.stats.bytes_null, 15);

    /* data before any ID: dropped and counted */
    comb_tpiu_init(&t, 1);
    CHECK_EQ_U64(comb_tpiu_feed(&t, f2, 16, out), 0);
    CHECK_EQ_U64(t.stats.bytes_noid, 15);

    /* ID change at byte 14 with aux 1: takes effect for the next frame anyway */
    uint8_t b3[15];
    memset(b3, 0x22, sizeof b3);
    b3[0] = 0x03; /* ID 1 */
    b3[14] = 0x05; /* ID 2 */
    const uint8_t aux3[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    frame_from(f2, b3, aux3);
    comb_tpiu_init(&t, 2);
    comb_tpiu_feed(&t, f2, 16, out);
    CHECK_EQ_U64(t.stats.bytes_other, 13);
    memset(b3, 0x44, sizeof b3);
    frame_from(f2, b3, aux0);
    CHECK_EQ_U64(comb_tpiu_feed(&t, f2, 16, out), 15);
    CHECK(out[0] == 0x44 && out[14] == 0x44);

    /* restating the current ID (repeated every 8 frames by real formatters) changes nothing,
     * whatever its aux bit */
    memset(b3, 0x66, sizeof b3);
    b3[0] = 0x05;
    b3[6] = 0x05;
    const uint8_t aux4[8] = {1, 0, 0, 1, 0, 0, 0, 0};
    frame_from(f2, b3, aux4);
    CHECK_EQ_U64(comb_tpiu_feed(&t, f2, 16, out), 13);

    /* ID 0x7F (0xFF in a mixed byte) cannot be valid: data dropped until the next ID */
    memset(b3, 0x66, sizeof b3);
    b3[0] = 0xFF;
    b3[8] = 0x05;
    frame_from(f2, b3, aux0);
    comb_tpiu_init(&t, 2);
    n = comb_tpiu_feed(&t, f2, 16, out);
    CHECK_EQ_U64(t.stats.bad_ids, 1);
    CHECK_EQ_U64(n, 6); /* bytes 9..14 */
    CHECK_EQ_U64(t.stats.bytes_noid, 7);

    /* a partial frame at the end is dropped and counted */
    comb_tpiu_init(&t, 2);
    comb_tpiu_feed(&t, f2, 10, out);
    comb_tpiu_finish(&t);
    CHECK_EQ_U64(t.stats.bytes_dropped, 10);
    CHECK_EQ_U64(t.stats.frames, 0);
}

/* ---- a test-side formatter ------------------------------------------------ */

typedef struct item {
    uint8_t id, b;
} item;

typedef struct enc {
    uint8_t *buf;
    size_t len, cap;
    uint8_t frame[16];
    int pos;
    int cur;
    unsigned frames;
    unsigned syncs, hsyncs;
    uint64_t data; /* data bytes placed (padding included) */
} enc;

static void emit_raw(enc *e, uint8_t b)
{
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 4096;
        e->buf = realloc(e->buf, e->cap);
    }
    e->buf[e->len++] = b;
}

static void frame_done(enc *e)
{
    /* between frames: sometimes a full sync; within the frame's pairs: sometimes a half sync */
    if (below(5) == 0) {
        emit_raw(e, 0xFF), emit_raw(e, 0xFF), emit_raw(e, 0xFF), emit_raw(e, 0x7F);
        e->syncs++;
    }
    for (int k = 0; k < 16; k += 2) {
        if (below(20) == 0) {
            emit_raw(e, 0xFF), emit_raw(e, 0x7F);
            e->hsyncs++;
        }
        emit_raw(e, e->frame[k]);
        emit_raw(e, e->frame[k + 1]);
    }
    e->frames++;
    e->pos = 0;
    memset(e->frame, 0, sizeof e->frame);
}

static void put_mixed_id(enc *e, uint8_t id, unsigned aux)
{
    e->frame[e->pos] = (uint8_t)((id << 1) | 1u);
    e->frame[15] |= (uint8_t)(aux << (e->pos / 2));
    e->pos++;
}

static void put_mixed_data(enc *e, uint8_t b)
{
    e->frame[e->pos] = (uint8_t)(b & 0xFE);
    e->frame[15] |= (uint8_t)((b & 1u) << (e->pos / 2));
    e->pos++;
    e->data++;
}

static void put_data(enc *e, uint8_t b)
{
    e->frame[e->pos++] = b;
    e->data++;
}

/* Formats items (each a byte of one ID) like a CoreSight formatter. */
static void encode(enc *e, const item *it, size_t n)
{
    size_t k = 0;
    while (k < n || e->pos != 0) {
        if (e->pos == 15) {
            frame_done(e);
            continue;
        }
        /* past the end: pad under ID 0 */
        item cur_it = k < n ? it[k] : (item){0, 0};
        item next_it = k + 1 < n ? it[k + 1] : (item){0, 0};
        if (e->pos == 14) {
            if (cur_it.id != e->cur) {
                put_mixed_id(e, cur_it.id, below(2)); /* the aux bit does not matter here */
                e->cur = cur_it.id;
            } else {
                put_mixed_data(e, cur_it.b);
                k++;
            }
            continue;
        }
        if (cur_it.id != e->cur) { /* immediate change, the next byte is the new ID's */
            put_mixed_id(e, cur_it.id, 0);
            e->cur = cur_it.id;
            put_data(e, cur_it.b);
            k++;
        } else if (next_it.id != e->cur) { /* delayed change: the next byte is still the old ID's */
            put_mixed_id(e, next_it.id, 1);
            put_data(e, cur_it.b);
            e->cur = next_it.id;
            k++;
        } else if (below(30) == 0) { /* restate the current ID */
            put_mixed_id(e, (uint8_t)e->cur, below(2));
            put_data(e, cur_it.b);
            k++;
        } else {
            put_mixed_data(e, cur_it.b);
            put_data(e, next_it.b);
            k += 2;
        }
    }
}

static void test_random_multiplex(void)
{
    enum { N = 200000, IDS = 3 };
    static const uint8_t ids[IDS] = {0x01, 0x02, 0x14};
    item *it = malloc(N * sizeof *it);
    static uint8_t expect[IDS][N];
    size_t nexp[IDS] = {0};
    unsigned src = 0;
    for (size_t k = 0; k < N; k++) {
        if (below(8) == 0)
            src = below(IDS + 1); /* IDS = padding under ID 0 */
        uint8_t b = (uint8_t)rnd();
        if (below(10) == 0)
            b = below(2) ? 0xFF : 0x7F; /* sync-like bytes in the data */
        if (src == IDS) {
            it[k] = (item){0, b};
        } else {
            it[k] = (item){ids[src], b};
            expect[src][nexp[src]++] = b;
        }
    }
    enc e = {.cur = -1};
    encode(&e, it, N);

    uint8_t *out = malloc(e.len + 64);
    for (unsigned s = 0; s < IDS; s++) {
        comb_tpiu_stats st;
        size_t chunks[5] = {1 + below(100), 1 + below(5000), 1, 16, 4096};
        size_t n = deformat(ids[s], e.buf, e.len, chunks, 5, out, &st);
        CHECK_EQ_U64(n, nexp[s]);
        CHECK(memcmp(out, expect[s], nexp[s]) == 0);
        CHECK_EQ_U64(st.frames, e.frames);
        CHECK_EQ_U64(st.full_syncs, e.syncs);
        CHECK_EQ_U64(st.half_syncs, e.hsyncs);
        CHECK_EQ_U64(st.realigns, 0);
        CHECK_EQ_U64(st.bad_ids, 0);
        CHECK_EQ_U64(st.bytes_dropped, 0);
        CHECK_EQ_U64(st.bytes_out + st.bytes_other + st.bytes_null + st.bytes_noid, e.data);
        CHECK_EQ_U64(st.bytes_noid, 0);
    }
    CHECK(e.syncs > 0 && e.hsyncs > 0);
    free(out);
    free(e.buf);
    free(it);
}

static void test_sniffer(void)
{
    comb_tpiu_sniffer s = {0};
    const uint8_t raw[] = {0, 0, 0, 0, 0, 0x80, 0x01, 'a', 0xFB, 0xFF, 0xFF, 0xFF, 0x7F}; /* one 0x7FFFFFFF payload */
    comb_tpiu_sniff(&s, raw, sizeof raw);
    CHECK_EQ_U64(s.syncs, 1);
    /* split across calls */
    comb_tpiu_sniffer s2 = {0};
    const uint8_t a[] = {0xFF, 0xFF}, b[] = {0xFF}, c[] = {0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0x00};
    comb_tpiu_sniff(&s2, a, 2);
    comb_tpiu_sniff(&s2, b, 1);
    comb_tpiu_sniff(&s2, c, sizeof c);
    CHECK_EQ_U64(s2.syncs, 2);
}

static void test_parse_id(void)
{
    char err[200];
    uint8_t id = 0;
    CHECK(comb_tpiu_parse_id("1", &id, err, sizeof err) == 0 && id == 1);
    CHECK(comb_tpiu_parse_id("0x14", &id, err, sizeof err) == 0 && id == 0x14);
    CHECK(comb_tpiu_parse_id("0X6f", &id, err, sizeof err) == 0 && id == 0x6F);
    CHECK(comb_tpiu_parse_id("20", &id, err, sizeof err) == 0 && id == 20);
    const char *bad[] = {"", "0", "0x70", "112", "x", "1x", "-1", "0x", "99999999999999999999", "+3"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        err[0] = 0;
        id = 0xAA;
        CHECK(comb_tpiu_parse_id(bad[k], &id, err, sizeof err) == -1);
        CHECK(id == 0xAA);
        CHECK(strstr(err, "bad trace ID") != NULL && strchr(err, '\n') == NULL);
    }
}

int main(void)
{
    test_opencsd_corpus();
    test_frame_rules();
    test_random_multiplex();
    test_sniffer();
    test_parse_id();
    return check_finish("test_tpiu");
}
