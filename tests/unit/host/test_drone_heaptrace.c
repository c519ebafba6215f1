/*
 * Drone heaptrace importer (drone-compat.md 2): the published byte vectors,
 * per-type LIFO stacks under interleaving, the two device defects of
 * drone-core v0.14 (sizes >= 256 recorded modulo 256; resizes traced twice),
 * broken input counted instead of fatal, and the normaliser's pairing of
 * size-only frees (LIFO, and modulo 256 when nothing else matches).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/drone_heaptrace.h"

static size_t hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

typedef struct parsed {
    comb_heap_raw *raw;
    size_t n;
    comb_drone_import_stats st;
} parsed;

static void parse(const uint8_t *b, size_t len, parsed *p)
{
    CHECK(comb_drone_heaptrace_parse(b, len, &p->raw, &p->n, &p->st) == 0);
}

static void test_vectors(void)
{
    uint8_t b[64];
    parsed p;
    /* alloc 12, dealloc 12 */
    size_t n = hex("55CEAC64 59CEAC67 55CEAC14 59CEAC17", b);
    parse(b, n, &p);
    CHECK_EQ_U64(p.n, 2);
    CHECK(p.raw[0].kind == COMB_HEAP_ALLOC && p.raw[0].size == 12 && (p.raw[0].has & COMB_HR_SIZE));
    CHECK(p.raw[1].kind == COMB_HEAP_FREE && p.raw[1].size == 12);
    CHECK_EQ_U64(p.raw[0].offset, 4); /* the completing word */
    CHECK_EQ_U64(p.raw[1].offset, 12);
    CHECK_EQ_U64(p.st.allocs, 1);
    CHECK_EQ_U64(p.st.deallocs, 1);
    CHECK(comb_drone_truncation_suspected(&p.st)); /* cannot tell: every high part is 0 */
    free(p.raw);

    /* alloc 300 as the host expects it */
    n = hex("54CEAC64 79CEAC67", b);
    parse(b, n, &p);
    CHECK(p.n == 1 && p.raw[0].size == 300);
    CHECK(!comb_drone_truncation_suspected(&p.st));
    CHECK_EQ_U64(p.st.size_words_high, 1);
    free(p.raw);
    /* alloc 300 and 1024 as drone-core v0.14.3 writes them: 44 and 0 */
    n = hex("55CEAC64 79CEAC67 55CEAC64 55CEAC67", b);
    parse(b, n, &p);
    CHECK(p.n == 2 && p.raw[0].size == 44 && p.raw[1].size == 0);
    CHECK_EQ_U64(p.st.zero_size_allocs, 1);
    free(p.raw);

    /* grow 12 -> 300 and shrink 300 -> 12, host-correct */
    n = hex("55CEAC74 55CEA077 79CFAC76 54CEAC04 55CE8007 59CEAC06", b);
    parse(b, n, &p);
    CHECK_EQ_U64(p.n, 2);
    CHECK(p.raw[0].kind == COMB_HEAP_REALLOC && p.raw[0].old_size == 12 && p.raw[0].size == 300);
    CHECK(p.raw[1].kind == COMB_HEAP_REALLOC && p.raw[1].old_size == 300 && p.raw[1].size == 12);
    CHECK_EQ_U64(p.st.grows, 1);
    CHECK_EQ_U64(p.st.shrinks, 1);
    CHECK_EQ_U64(p.st.resizes_to_256, 1);
    free(p.raw);

    /* the encoder writes the same bytes */
    uint8_t e[64];
    size_t k = comb_drone_heaptrace_encode(e, COMB_HEAP_ALLOC, 0, 12, false);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_FREE, 0, 12, false);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_ALLOC, 0, 300, false);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_ALLOC, 0, 300, true);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_ALLOC, 0, 1024, true);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_REALLOC, 12, 300, false);
    k += comb_drone_heaptrace_encode(e + k, COMB_HEAP_REALLOC, 300, 12, false);
    n = hex("55CEAC64 59CEAC67 55CEAC14 59CEAC17 54CEAC64 79CEAC67 55CEAC64 79CEAC67 55CEAC64 55CEAC67"
            "55CEAC74 55CEA077 79CFAC76 54CEAC04 55CE8007 59CEAC06",
            b);
    CHECK(k == n && memcmp(e, b, n) == 0);
}

/* An interrupt emits whole events between the words of another: one stack per type. */
static void test_interleaving(void)
{
    uint8_t b[128], w[12];
    size_t n = 0;
    /* thread: A1(100) ... ISR: A1(8) A2(8), D1(8) D2(8) ... thread: A2(100) */
    comb_drone_heaptrace_encode(w, COMB_HEAP_ALLOC, 0, 100, false);
    memcpy(b + n, w, 4);
    n += 4;
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 8, false);
    /* nested again inside the ISR's alloc: an alloc of 16 between its words */
    uint8_t w2[12];
    comb_drone_heaptrace_encode(w2, COMB_HEAP_FREE, 0, 8, false);
    memcpy(b + n, w2, 4);
    n += 4;
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 16, false);
    memcpy(b + n, w2 + 4, 4);
    n += 4;
    memcpy(b + n, w + 4, 4);
    n += 4;
    /* a grow nested inside a shrink */
    uint8_t g[12], s[12];
    comb_drone_heaptrace_encode(s, COMB_HEAP_REALLOC, 40, 20, false);
    comb_drone_heaptrace_encode(g, COMB_HEAP_REALLOC, 20, 60, false);
    memcpy(b + n, s, 8);
    n += 8;
    memcpy(b + n, g, 12);
    n += 12;
    memcpy(b + n, s + 8, 4);
    n += 4;
    parsed p;
    parse(b, n, &p);
    CHECK_EQ_U64(p.n, 6);
    CHECK_EQ_U64(p.st.broken_frames, 0);
    if (p.n == 6) {
        CHECK(p.raw[0].kind == COMB_HEAP_ALLOC && p.raw[0].size == 8);
        CHECK(p.raw[1].kind == COMB_HEAP_ALLOC && p.raw[1].size == 16);
        CHECK(p.raw[2].kind == COMB_HEAP_FREE && p.raw[2].size == 8);
        CHECK(p.raw[3].kind == COMB_HEAP_ALLOC && p.raw[3].size == 100);
        CHECK(p.raw[4].kind == COMB_HEAP_REALLOC && p.raw[4].old_size == 20 && p.raw[4].size == 60);
        CHECK(p.raw[5].kind == COMB_HEAP_REALLOC && p.raw[5].old_size == 40 && p.raw[5].size == 20);
        for (size_t i = 1; i < p.n; i++)
            CHECK(p.raw[i].offset > p.raw[i - 1].offset);
    }
    free(p.raw);
}

static void test_double_tracing(void)
{
    uint8_t b[256];
    size_t n = 0;
    /* v0.14 Allocator::grow: GROW(12, 40), then its own ALLOC(40) and DEALLOC(12) */
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 12, false);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_REALLOC, 12, 40, false);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 40, false);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_FREE, 0, 12, false);
    /* with the size bug: GROW(40, 300) then ALLOC(300 -> 44), DEALLOC(40) */
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_REALLOC, 40, 300, true);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 300, true);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_FREE, 0, 40, true);
    /* the block of 300 freed: recorded as 44 */
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_FREE, 0, 300, true);
    /* a GROW not followed by its duplicates (GlobalAlloc path) stays as it is */
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 8, false);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_REALLOC, 8, 16, false);
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_FREE, 0, 16, false);
    parsed p;
    parse(b, n, &p);
    CHECK_EQ_U64(p.st.double_traced, 2);
    CHECK_EQ_U64(p.st.truncated_confirmed, 1);
    CHECK_EQ_U64(p.st.grows, 3);
    CHECK_EQ_U64(p.n, 7);
    CHECK(comb_drone_truncation_suspected(&p.st));
    if (p.n == 7) {
        CHECK(p.raw[1].kind == COMB_HEAP_REALLOC && p.raw[1].old_size == 12 && p.raw[1].size == 40);
        CHECK(p.raw[2].kind == COMB_HEAP_REALLOC && p.raw[2].old_size == 40 && p.raw[2].size == 300);
        CHECK(p.raw[3].kind == COMB_HEAP_FREE && p.raw[3].size == 44);
    }
    /* normalised: the free of 44 finds no 44-byte block and pairs with the 300-byte one */
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    CHECK(comb_heap_trace_from_raw(p.raw, p.n, &t) == 0);
    CHECK_EQ_U64(t.anomalies.repaired_mod256, 1);
    CHECK_EQ_U64(t.anomalies.free_unmatched, 0);
    CHECK_EQ_U64(t.n, 7);
    CHECK(t.ops[3].kind == COMB_HEAP_FREE && t.ops[3].size == 300 && t.ops[3].block == t.ops[2].block);
    comb_heap_trace_free(&t);
    free(p.raw);
}

static void test_broken_input(void)
{
    uint8_t b[256];
    size_t n = 0;
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 12, false);
    memcpy(b + n, "\x00\x00\x00\x00", 4); /* header 0xC5: unknown */
    n += 4;
    uint8_t w[12];
    comb_drone_heaptrace_encode(w, COMB_HEAP_FREE, 0, 12, false);
    memcpy(b + n, w + 4, 4); /* D2 without D1 */
    n += 4;
    comb_drone_heaptrace_encode(w, COMB_HEAP_REALLOC, 4, 8, false);
    memcpy(b + n, w, 4); /* B1, then B3 without B2 */
    n += 4;
    memcpy(b + n, w + 8, 4);
    n += 4;
    n += comb_drone_heaptrace_encode(b + n, COMB_HEAP_ALLOC, 0, 20, false);
    comb_drone_heaptrace_encode(w, COMB_HEAP_ALLOC, 0, 99, false);
    memcpy(b + n, w, 4); /* an A1 left open at the end */
    n += 4;
    b[n++] = 0x55; /* and half a word */
    b[n++] = 0xCE;
    parsed p;
    parse(b, n, &p);
    CHECK_EQ_U64(p.n, 2); /* alloc 12 and alloc 20 survive */
    CHECK(p.n == 2 && p.raw[0].size == 12 && p.raw[1].size == 20);
    CHECK_EQ_U64(p.st.invalid_words, 1);
    CHECK_EQ_U64(p.st.broken_frames, 3);
    CHECK_EQ_U64(p.st.first_problem_offset, 8);
    CHECK_EQ_U64(p.st.trailing_bytes, 2);
    free(p.raw);

    /* an A2 with non-zero padding is a broken frame */
    n = 0;
    comb_drone_heaptrace_encode(w, COMB_HEAP_ALLOC, 0, 12, false);
    memcpy(b, w, 8);
    b[6] ^= 0x01; /* p1 of A2 */
    parse(b, 8, &p);
    CHECK_EQ_U64(p.n, 0);
    CHECK_EQ_U64(p.st.broken_frames, 1);
    free(p.raw);

    /* empty input */
    parse(b, 0, &p);
    CHECK_EQ_U64(p.n, 0);
    CHECK(p.raw == NULL);
    CHECK(!comb_drone_truncation_suspected(&p.st));
}

/* Size-only frees pair with the most recent live block of their size. */
static void test_pairing(void)
{
    comb_heap_raw r[] = {
        {.seq = 0, .offset = 0, .kind = COMB_HEAP_ALLOC, .size = 8, .has = COMB_HR_SIZE},
        {.seq = 1, .offset = 1, .kind = COMB_HEAP_ALLOC, .size = 8, .has = COMB_HR_SIZE},
        {.seq = 2, .offset = 2, .kind = COMB_HEAP_FREE, .size = 8, .has = COMB_HR_SIZE},
        {.seq = 3, .offset = 3, .kind = COMB_HEAP_FREE, .size = 16, .has = COMB_HR_SIZE}, /* nothing of 16 */
        {.seq = 4, .offset = 4, .kind = COMB_HEAP_REALLOC, .old_size = 8, .size = 24,
         .has = COMB_HR_SIZE | COMB_HR_OLD_SIZE},
        {.seq = 5, .offset = 5, .kind = COMB_HEAP_FREE, .size = 24, .has = COMB_HR_SIZE},
    };
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    CHECK(comb_heap_trace_from_raw(r, 6, &t) == 0);
    CHECK_EQ_U64(t.n, 5);
    CHECK_EQ_U64(t.anomalies.free_unmatched, 1);
    CHECK(t.ops[2].kind == COMB_HEAP_FREE && t.ops[2].block == 1); /* LIFO */
    CHECK(t.ops[3].kind == COMB_HEAP_REALLOC && t.ops[3].old == 0 && t.ops[3].size == 24);
    CHECK(t.ops[4].kind == COMB_HEAP_FREE && t.ops[4].block == t.ops[3].block);
    comb_heap_trace_free(&t);
}

int main(void)
{
    test_vectors();
    test_interleaving();
    test_double_tracing();
    test_broken_input();
    test_pairing();
    return check_finish("test_drone_heaptrace");
}
