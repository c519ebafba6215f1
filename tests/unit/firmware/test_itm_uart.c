/*
 * The software ITM-over-UART transport (firmware/src/itm_uart.c), on the host
 * port: exact bytes on the wire, sync placement, nested writers at every
 * preemption point, ring full / drop / overflow, flush, write chunking, port
 * mask.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/trace_protocol.h"

#define RING 256u /* COMB_UART_RING_SIZE default */

/* ---- helpers ------------------------------------------------------------- */

static const uint8_t SYNC[6] = {0, 0, 0, 0, 0, 0x80};

static bool sent_equals(const uint8_t *want, size_t n)
{
    size_t len;
    const uint8_t *got = comb_host_sent(&len);
    if (len != n || memcmp(got, want, n) != 0) {
        fprintf(stderr, "  sent %zu bytes:", len);
        for (size_t i = 0; i < len && i < 64; i++)
            fprintf(stderr, " %02x", got[i]);
        fprintf(stderr, "\n  want %zu bytes:", n);
        for (size_t i = 0; i < n && i < 64; i++)
            fprintf(stderr, " %02x", want[i]);
        fprintf(stderr, "\n");
        return false;
    }
    return true;
}

enum pkt_kind { P_SYNC, P_OVF, P_SWIT };
struct pkt {
    enum pkt_kind kind;
    unsigned port, size;
    uint32_t value;
    size_t offset;
};

/* Parse the captured stream as ITM: syncs, overflows and SWIT packets only.
 * Returns the packet count, or -1 if some byte does not belong to a whole
 * packet of those kinds. */
static int parse(struct pkt *out, int max)
{
    size_t len, i = 0;
    const uint8_t *b = comb_host_sent(&len);
    int n = 0;
    while (i < len) {
        if (n == max)
            return -1;
        struct pkt p = {P_SWIT, 0, 0, 0, i};
        if (b[i] == 0x00) {
            if (i + 6 > len || memcmp(b + i, SYNC, 6) != 0)
                return -1;
            p.kind = P_SYNC;
            i += 6;
        } else if (b[i] == COMB_ITM_OVERFLOW_BYTE) {
            p.kind = P_OVF;
            i++;
        } else if ((b[i] & 3u) != 0u && (b[i] & 4u) == 0u) {
            p.port = b[i] >> 3;
            p.size = COMB_ITM_SS_BYTES(b[i]);
            if (i + 1 + p.size > len)
                return -1;
            for (unsigned k = 0; k < p.size; k++)
                p.value |= (uint32_t)b[i + 1 + k] << (8 * k);
            i += 1 + p.size;
        } else {
            return -1;
        }
        out[n++] = p;
    }
    return n;
}

static int count_kind(const struct pkt *p, int n, enum pkt_kind kind)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += p[i].kind == kind;
    return c;
}

/* ---- exact packet bytes -------------------------------------------------- */

static void test_packet_bytes(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u); /* no syncs: bytes of the packets alone */
    comb_transport_swit(0, 1, 'A');
    comb_transport_swit(1, 1, 0x1FF); /* only the low byte */
    comb_transport_swit(5, 2, 0x1234);
    comb_transport_swit(31, 4, 0xDEADBEEFu);
    comb_transport_swit(17, 4, 0xFF3F0F03u); /* rtic-scope itm singles.rs vector */
    comb_transport_swit(30, 2, 0xABCD);
    comb_transport_swit(2, 3, 0x00030201u); /* 3 -> a 4-byte packet */
    comb_transport_swit(2, 0, 0x55);         /* 0 -> nothing */
    comb_transport_swit(33, 1, 0x7);         /* port taken mod 32 */
    comb_log_u8(4, 0x80);
    comb_log_u16(4, 0x0102);
    comb_log_u32(4, 0x01020304u);
    static const uint8_t want[] = {
        0x01, 0x41,                         /* port 0, 1 byte */
        0x09, 0xFF,                         /* port 1 */
        0x2A, 0x34, 0x12,                   /* port 5, 2 bytes LE */
        0xFB, 0xEF, 0xBE, 0xAD, 0xDE,       /* port 31, 4 bytes LE */
        0x8B, 0x03, 0x0F, 0x3F, 0xFF,       /* port 17 */
        0xF2, 0xCD, 0xAB,                   /* port 30, 2 bytes */
        0x13, 0x01, 0x02, 0x03, 0x00,       /* port 2, size 3 sent as 4 */
        0x09, 0x07,                         /* port 33 -> 1 */
        0x21, 0x80,                         /* comb_log_u8 port 4 */
        0x22, 0x02, 0x01,                   /* comb_log_u16 */
        0x23, 0x04, 0x03, 0x02, 0x01,       /* comb_log_u32 */
    };
    CHECK(sent_equals(want, sizeof want));
    CHECK_EQ_U64(comb_transport_dropped(), 0);
    CHECK(comb_transport_flush());
}

/* ---- sync packets -------------------------------------------------------- */

static void test_sync_default_first(void)
{
    comb_host_reset(); /* default: all ports, sync every 1024 bytes */
    comb_transport_swit(0, 1, 'h');
    comb_transport_swit(0, 1, 'i');
    static const uint8_t want[] = {0, 0, 0, 0, 0, 0x80, 0x01, 'h', 0x01, 'i'};
    CHECK(sent_equals(want, sizeof want));
}

/* Independent model of the sync rule: a sync goes in front of the packet
 * whose bytes would start at, or run across, a multiple of k. */
static size_t model_stream(uint8_t *out, const unsigned *sizes, int n, uint32_t k)
{
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        unsigned len = 1 + sizes[i];
        if (k != 0 && (pos % k == 0 || pos % k + len > k)) {
            memcpy(out + pos, SYNC, 6);
            pos += 6;
        }
        out[pos++] = COMB_ITM_SWIT_HEADER(3, sizes[i]);
        for (unsigned b = 0; b < sizes[i]; b++)
            out[pos++] = (uint8_t)(i + b);
    }
    return pos;
}

static void test_sync_interval(void)
{
    static const unsigned pattern[] = {1, 4, 2, 4, 4, 1, 2, 1, 4, 2, 2, 4, 1};
    static unsigned sizes[3000];
    static uint8_t want[3000 * 11];
    const int n = 3000;
    for (int i = 0; i < n; i++)
        sizes[i] = pattern[i % 13];

    static const uint32_t intervals[] = {32, 64, 256, 1024, 0};
    for (unsigned t = 0; t < sizeof intervals / sizeof intervals[0]; t++) {
        uint32_t k = intervals[t];
        comb_host_reset();
        comb_transport_init(0xFFFFFFFFu, k);
        for (int i = 0; i < n; i++) {
            uint32_t v = 0;
            for (unsigned b = 0; b < sizes[i]; b++)
                v |= (uint32_t)(uint8_t)(i + b) << (8 * b);
            comb_transport_swit(3, sizes[i], v);
        }
        size_t wn = model_stream(want, sizes, n, k);
        CHECK(sent_equals(want, wn));

        /* Properties, independent of the model: every sync sits between whole
         * packets (the stream parses), the first packet is a sync, and every
         * multiple of k in the stream has a sync starting at most 4 bytes
         * before it (the longest packet that can run across it is 5 bytes). */
        static struct pkt pk[3000 * 2];
        int np = parse(pk, (int)(sizeof pk / sizeof pk[0]));
        CHECK(np > 0);
        if (np <= 0)
            continue;
        CHECK_EQ_U64(count_kind(pk, np, P_SWIT), n);
        if (k == 0) {
            CHECK_EQ_U64(count_kind(pk, np, P_SYNC), 0);
            continue;
        }
        CHECK(pk[0].kind == P_SYNC);
        size_t len;
        (void)comb_host_sent(&len);
        for (size_t m = k; m < len; m += k) {
            bool found = false;
            for (int i = 0; i < np && !found; i++)
                found = pk[i].kind == P_SYNC && pk[i].offset <= m && pk[i].offset + 4 >= m;
            CHECK(found);
        }
    }
}

static void test_sync_interval_rounding(void)
{
    /* 100 -> 64, 5 -> 32: check where the second sync lands with 1-byte packets
     * (2 bytes each, so syncs start exactly at multiples of the interval). */
    static const struct { uint32_t asked, used; } cases[] = {{100, 64}, {5, 32}, {64, 64}, {1500, 1024}};
    for (unsigned c = 0; c < 4; c++) {
        comb_host_reset();
        comb_transport_init(0xFFFFFFFFu, cases[c].asked);
        for (int i = 0; i < 600; i++)
            comb_transport_swit(0, 1, 'x');
        struct pkt pk[800];
        int np = parse(pk, 800);
        CHECK(np > 2);
        int second = -1;
        for (int i = 1; i < np && second < 0; i++)
            if (pk[i].kind == P_SYNC)
                second = i;
        CHECK(second > 0);
        if (second > 0)
            CHECK_EQ_U64(pk[second].offset, cases[c].used);
    }
}

/* ---- nested writers ------------------------------------------------------ */

struct nest_ctx {
    int fire_at;     /* which depth-0 hook call emits inner packets (-1: none) */
    int fire_at2;    /* which depth-1 hook call emits a 2nd-level packet (-1: none) */
    int calls, calls2;
    unsigned where_fired;
    int outer_index; /* outer packet in progress when the hook fired */
    int cur_outer;
};

static void nest_hook(unsigned where, unsigned depth, void *vctx)
{
    struct nest_ctx *c = vctx;
    if (depth == 0) {
        if (c->calls++ != c->fire_at)
            return;
        c->where_fired = where;
        c->outer_index = c->cur_outer;
        comb_transport_swit(7, 2, 0xBEEF);
        comb_transport_swit(7, 4, 0x01234567u);
    } else if (depth == 1) {
        if (c->calls2++ != c->fire_at2)
            return;
        comb_transport_swit(9, 1, 0x99);
    }
}

#define OUTER_N 4
static const uint32_t outer_vals[OUTER_N] = {0x11223344u, 0x55, 0x6677, 0x8899AABBu};
static const unsigned outer_sizes[OUTER_N] = {4, 1, 2, 4};

static void run_outer(struct nest_ctx *c)
{
    for (int i = 0; i < OUTER_N; i++) {
        c->cur_outer = i;
        comb_transport_swit(2, outer_sizes[i], outer_vals[i]);
    }
}

static void check_nested_stream(const struct nest_ctx *c, bool inner, bool inner2)
{
    struct pkt pk[64];
    int np = parse(pk, 64);
    CHECK(np > 0);
    if (np <= 0)
        return;
    /* The stream is whole packets only; the outer packets are all there, in
     * order, with their values; so are the inner ones; nothing dropped. */
    int outer = 0, in7 = 0, in9 = 0, pos_inner = -1, pos_outer_cur = -1;
    for (int i = 0; i < np; i++) {
        if (pk[i].kind != P_SWIT)
            continue;
        if (pk[i].port == 2) {
            if (outer < OUTER_N) {
                CHECK_EQ_U64(pk[i].size, outer_sizes[outer]);
                CHECK_EQ_U64(pk[i].value, outer_vals[outer]);
            }
            if (inner && outer == c->outer_index)
                pos_outer_cur = i;
            outer++;
        } else if (pk[i].port == 7) {
            CHECK_EQ_U64(pk[i].value, in7 == 0 ? 0xBEEFu : 0x01234567u);
            if (in7 == 0)
                pos_inner = i;
            in7++;
        } else if (pk[i].port == 9) {
            CHECK_EQ_U64(pk[i].value, 0x99);
            in9++;
        } else {
            CHECK(0);
        }
    }
    CHECK_EQ_U64(outer, OUTER_N);
    CHECK_EQ_U64(in7, inner ? 2 : 0);
    CHECK_EQ_U64(in9, inner2 ? 1 : 0);
    CHECK_EQ_U64(count_kind(pk, np, P_OVF), 0);
    CHECK(pk[0].kind == P_SYNC);
    CHECK_EQ_U64(count_kind(pk, np, P_SYNC), 1);
    CHECK_EQ_U64(comb_transport_dropped(), 0);
    /* An interrupt before the reservation goes first; after it, second. */
    if (inner && pos_inner >= 0 && pos_outer_cur >= 0) {
        if (c->where_fired == COMB_PP_RESERVE_READ)
            CHECK(pos_inner < pos_outer_cur);
        else
            CHECK(pos_inner > pos_outer_cur);
    }
}

static void test_nested_every_point(void)
{
    /* Dry run: how many preemption points does the outer sequence pass? */
    struct nest_ctx dry = {-1, -1, 0, 0, 0, -1, 0};
    comb_host_reset();
    comb_host_set_preempt_hook(nest_hook, &dry);
    run_outer(&dry);
    int points = dry.calls;
    CHECK(points >= OUTER_N * 8);

    unsigned seen_where = 0;
    for (int k = 0; k < points; k++) {
        struct nest_ctx c = {k, -1, 0, 0, 0, -1, 0};
        comb_host_reset();
        comb_host_set_preempt_hook(nest_hook, &c);
        run_outer(&c);
        seen_where |= 1u << c.where_fired;
        /* no flush: whoever drains must have sent everything already */
        size_t len;
        (void)comb_host_sent(&len);
        CHECK_EQ_U64(len, 6 + 5 + 2 + 3 + 5 + 3 + 5); /* sync + outer + inner */
        check_nested_stream(&c, true, false);

        /* and a second level: an interrupt inside the interrupt, at each of
         * the inner writer's own points */
        struct nest_ctx d0 = {k, -1, 0, 0, 0, -1, 0};
        comb_host_reset();
        comb_host_set_preempt_hook(nest_hook, &d0);
        run_outer(&d0);
        for (int j = 0; j < d0.calls2; j++) {
            struct nest_ctx d = {k, j, 0, 0, 0, -1, 0};
            comb_host_reset();
            comb_host_set_preempt_hook(nest_hook, &d);
            run_outer(&d);
            (void)comb_host_sent(&len);
            CHECK_EQ_U64(len, 6 + 5 + 2 + 3 + 5 + 3 + 5 + 2);
            check_nested_stream(&d, true, true);
        }
    }
    /* every kind of point was exercised */
    for (unsigned w = COMB_PP_RESERVE_READ; w < COMB_PP_COUNT; w++)
        CHECK((seen_where >> w) & 1u);
}

/* ---- ring full ----------------------------------------------------------- */

struct fill_ctx {
    unsigned fire_where;
    int fired;
    int count;
};

static void fill_hook(unsigned where, unsigned depth, void *vctx)
{
    struct fill_ctx *c = vctx;
    if (depth != 0 || where != c->fire_where || c->fired)
        return;
    c->fired = 1;
    for (int i = 0; i < c->count; i++)
        comb_transport_swit(6, 1, (uint32_t)i);
}

static void test_full_drain_flag_held(void)
{
    /* The outer writer is preempted right after taking the drain flag: its 5
     * bytes are published, not sent. The interrupt writes 200 2-byte packets:
     * 125 fit (5 + 250 = 255 bytes), 75 are dropped (flag held, no room). */
    struct fill_ctx c = {COMB_PP_DRAIN_LOCKED, 0, 200};
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_set_preempt_hook(fill_hook, &c);
    comb_transport_swit(2, 4, 0xCAFEF00Du);
    CHECK(c.fired);
    CHECK_EQ_U64(comb_transport_dropped(), 75);
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 255); /* the drainer sent the interrupt's packets too */

    comb_transport_swit(3, 1, 0x99); /* next packet: overflow first */
    comb_transport_swit(3, 1, 0x9A); /* and only once */
    struct pkt pk[300];
    int np = parse(pk, 300);
    CHECK_EQ_U64(np, 1 + 125 + 1 + 2);
    if (np == 129) {
        CHECK(pk[0].kind == P_SWIT && pk[0].port == 2 && pk[0].value == 0xCAFEF00Du);
        for (int i = 0; i < 125; i++)
            CHECK(pk[1 + i].kind == P_SWIT && pk[1 + i].port == 6 && pk[1 + i].value == (uint32_t)i);
        CHECK(pk[126].kind == P_OVF);
        CHECK(pk[127].kind == P_SWIT && pk[127].value == 0x99);
        CHECK(pk[128].kind == P_SWIT && pk[128].value == 0x9A);
    }
    CHECK_EQ_U64(comb_transport_dropped(), 75);
    CHECK(comb_transport_flush());
}

static void test_full_sync_then_overflow(void)
{
    /* Interval 256: outer = sync + 5 bytes; the interrupt's packets fill
     * positions 11..254 (122 packets); the next one would run across 256 and
     * needs a sync, which does not fit: 78 dropped. The packet after the drain
     * then carries sync, overflow, packet -- in that order. */
    struct fill_ctx c = {COMB_PP_DRAIN_LOCKED, 0, 200};
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 256u);
    comb_host_set_preempt_hook(fill_hook, &c);
    comb_transport_swit(2, 4, 0xCAFEF00Du);
    CHECK_EQ_U64(comb_transport_dropped(), 78);
    comb_transport_swit(3, 1, 0x99);
    size_t len;
    const uint8_t *b = comb_host_sent(&len);
    CHECK_EQ_U64(len, 11 + 244 + 6 + 1 + 2);
    if (len == 11 + 244 + 6 + 1 + 2) {
        static const uint8_t tail[] = {0, 0, 0, 0, 0, 0x80, 0x70, 0x19, 0x99};
        CHECK(memcmp(b + 255, tail, sizeof tail) == 0);
    }
}

static void test_full_uart_stuck(void)
{
    /* UART refuses everything: the ring fills (128 2-byte packets), then every
     * packet tries one drain (bounded wait), fails and is dropped. */
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_uart_set_ready(false);
    for (int i = 0; i < 200; i++)
        comb_transport_swit(4, 1, (uint32_t)i);
    CHECK_EQ_U64(comb_transport_dropped(), 72);
    CHECK(!comb_transport_flush());
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
    /* bounded: each write polls the UART at most a few times COMB_UART_TX_SPIN (64 here) */
    CHECK(comb_host_uart_tx_polls() <= 200u * 2u * 64u);

    comb_host_uart_set_ready(true);
    CHECK(comb_transport_flush());
    comb_transport_swit(4, 1, 0xEE);
    struct pkt pk[200];
    int np = parse(pk, 200);
    CHECK_EQ_U64(np, 128 + 2);
    if (np == 130) {
        for (int i = 0; i < 128; i++)
            CHECK(pk[i].kind == P_SWIT && pk[i].value == (uint32_t)i);
        CHECK(pk[128].kind == P_OVF);
        CHECK(pk[129].kind == P_SWIT && pk[129].value == 0xEE);
    }
}

/* A drop that lands between the reservation of a packet carrying 0x70 and
 * the bookkeeping after it must still be reported by a later 0x70. */
static void race_hook(unsigned where, unsigned depth, void *vctx)
{
    int *fired = vctx;
    if (depth != 0 || where != COMB_PP_RESERVED || *fired)
        return;
    *fired = 1;
    comb_host_uart_set_ready(false);
    for (int i = 0; i < 200; i++)
        comb_transport_swit(6, 1, (uint32_t)i);
}

static void test_overflow_race(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_uart_set_ready(false);
    for (int i = 0; i < 130; i++) /* 128 fit, 2 dropped */
        comb_transport_swit(4, 1, (uint32_t)i);
    CHECK_EQ_U64(comb_transport_dropped(), 2);
    comb_host_uart_set_ready(true);
    CHECK(comb_transport_flush());

    int fired = 0;
    comb_host_set_preempt_hook(race_hook, &fired);
    comb_transport_swit(5, 1, 0xAA); /* carries 0x70; the interrupt drops more */
    CHECK(fired);
    uint32_t dropped = comb_transport_dropped();
    CHECK(dropped > 2);
    comb_host_set_preempt_hook(NULL, NULL);
    comb_host_uart_set_ready(true);
    CHECK(comb_transport_flush());
    comb_transport_swit(5, 1, 0xBB);

    struct pkt pk[600];
    int np = parse(pk, 600);
    CHECK(np > 132);
    if (np > 132) {
        CHECK(pk[128].kind == P_OVF);
        CHECK(pk[129].kind == P_SWIT && pk[129].value == 0xAA);
        CHECK(pk[np - 2].kind == P_OVF); /* the later drops are reported */
        CHECK(pk[np - 1].kind == P_SWIT && pk[np - 1].value == 0xBB);
    }
}

/* ---- flush ---------------------------------------------------------------- */

static void flush_hook(unsigned where, unsigned depth, void *vctx)
{
    int *result = vctx;
    if (depth == 0 && where == COMB_PP_DRAIN_BYTE && *result == -1)
        *result = comb_transport_flush(); /* preempting the drainer: cannot finish */
}

static void test_flush(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_uart_busy_polls(10); /* slow UART: the wait absorbs it */
    comb_transport_swit(0, 4, 0x64636261u);
    CHECK(comb_transport_flush());
    static const uint8_t want[] = {0x03, 'a', 'b', 'c', 'd'};
    CHECK(sent_equals(want, sizeof want));
    CHECK(comb_transport_flush()); /* nothing queued: true */

    /* UART stuck for a while: the write gives up, flush too, later flush works */
    comb_host_sent_clear();
    comb_host_uart_busy_polls(1000);
    comb_transport_swit(0, 1, 'z');
    CHECK(!comb_transport_flush());
    comb_host_uart_busy_polls(0);
    CHECK(comb_transport_flush());
    static const uint8_t want2[] = {0x01, 'z'};
    CHECK(sent_equals(want2, sizeof want2));

    /* flush from an interrupt that preempted the drainer: false, no wait */
    int result = -1;
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_set_preempt_hook(flush_hook, &result);
    comb_transport_swit(0, 4, 0x64636261u);
    CHECK_EQ_U64(result, 0);
    CHECK(comb_transport_flush());
    CHECK(sent_equals(want, sizeof want));
}

/* ---- write chunking -------------------------------------------------------- */

static void test_write_chunking(void)
{
    _Alignas(4) uint8_t buf[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0xA0 + i);

    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_transport_write(1, buf, 11); /* aligned: 2 words + 3 bytes */
    static const uint8_t want1[] = {0x0B, 0xA0, 0xA1, 0xA2, 0xA3, 0x0B, 0xA4, 0xA5, 0xA6, 0xA7,
                                    0x09, 0xA8, 0x09, 0xA9, 0x09, 0xAA};
    CHECK(sent_equals(want1, sizeof want1));

    comb_host_sent_clear();
    comb_transport_write(1, buf + 1, 10); /* bytes 1-3, word 4-7, bytes 8-10 */
    static const uint8_t want2[] = {0x09, 0xA1, 0x09, 0xA2, 0x09, 0xA3, 0x0B, 0xA4, 0xA5, 0xA6,
                                    0xA7, 0x09, 0xA8, 0x09, 0xA9, 0x09, 0xAA};
    CHECK(sent_equals(want2, sizeof want2));

    comb_host_sent_clear();
    comb_transport_write(1, buf, 0);
    comb_transport_write(1, buf, 3); /* short, aligned: bytes */
    static const uint8_t want3[] = {0x09, 0xA0, 0x09, 0xA1, 0x09, 0xA2};
    CHECK(sent_equals(want3, sizeof want3));

    comb_host_sent_clear();
    comb_log_write(2, buf + 4, 8); /* via the log facade */
    static const uint8_t want4[] = {0x13, 0xA4, 0xA5, 0xA6, 0xA7, 0x13, 0xA8, 0xA9, 0xAA, 0xAB};
    CHECK(sent_equals(want4, sizeof want4));
}

/* ---- port mask --------------------------------------------------------------- */

static void test_port_mask(void)
{
    comb_host_reset();
    CHECK_EQ_U64(comb_transport_port_mask, 0xFFFFFFFFu); /* default: all */
    comb_transport_init(~(1u << 3), 0u);
    CHECK(!comb_transport_enabled(3));
    CHECK(!comb_log_enabled(3));
    CHECK(comb_log_enabled(4));
    CHECK(comb_log_enabled(31));
    comb_log_u8(3, 1);
    comb_log_u16(3, 2);
    comb_log_u32(3, 3);
    comb_log_write(3, "abc", 3);
    CHECK_EQ_U64(comb_log_printf(3, "hidden %d", 42), 0);
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
    comb_log_u8(4, 0x42);
    static const uint8_t want[] = {0x21, 0x42};
    CHECK(sent_equals(want, sizeof want));

    comb_host_sent_clear();
    comb_transport_init(0u, 0u);
    comb_log_u8(0, 1);
    CHECK_EQ_U64(comb_log_printf(0, "x"), 0);
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
}

/* ---- printf on the wire --------------------------------------------------------- */

static void test_printf_wire(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    CHECK_EQ_U64(comb_printf("Hello, world!\n"), 14);
    /* aligned stack chunk: 3 words, then 2 bytes */
    static const uint8_t want[] = {0x03, 'H', 'e', 'l', 'l', 0x03, 'o', ',', ' ', 'w', 0x03, 'o', 'r',
                                   'l', 'd', 0x01, '!', 0x01, '\n'};
    CHECK(sent_equals(want, sizeof want));

    /* long output goes out in chunks, nothing lost */
    comb_host_sent_clear();
    CHECK_EQ_U64(comb_eprintf("%0100d|%s", 7, "end"), 104);
    struct pkt pk[200];
    int np = parse(pk, 200);
    char text[200];
    size_t tn = 0;
    for (int i = 0; i < np; i++) {
        CHECK(pk[i].kind == P_SWIT && pk[i].port == 1);
        for (unsigned b = 0; b < pk[i].size && tn < sizeof text; b++)
            text[tn++] = (char)(pk[i].value >> (8 * b));
    }
    CHECK_EQ_U64(tn, 104);
    CHECK(tn == 104 && text[98] == '0' && text[99] == '7' && memcmp(text + 100, "|end", 4) == 0);
    CHECK(comb_log_flush());
}

int main(void)
{
    test_packet_bytes();
    test_sync_default_first();
    test_sync_interval();
    test_sync_interval_rounding();
    test_nested_every_point();
    test_full_drain_flag_held();
    test_full_sync_then_overflow();
    test_full_uart_stuck();
    test_overflow_race();
    test_flush();
    test_write_chunking();
    test_port_mask();
    test_printf_wire();
    return check_finish("test_itm_uart");
}
