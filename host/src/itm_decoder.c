/*
 * Streaming ARM ITM/DWT packet decoder: a byte-driven state machine.
 *
 * Wire format: ARMv7-M ARM appendix D4 / ARMv8-M (byte-level summary: the
 * project's ITM protocol reference, sections 1-9). Output format of the CLI:
 * docs/decode-json.md. Design notes:
 *
 *  - Every byte fed ends up in exactly one reported packet (valid or ERROR),
 *    and packets are reported in stream order, so the packets tile the stream:
 *    packet[i+1].offset == packet[i].offset + packet[i].length. The only
 *    exception is a zero run longer than 4 GiB while synchronised, whose
 *    length saturates at UINT32_MAX.
 *  - All state lives in the decoder; the fast path (whole packet present in
 *    the caller's buffer) and the slow path (packet assembled byte by byte
 *    across calls) produce identical packets, so any chunking of the input
 *    gives the same result.
 *  - Errors and resynchronisation:
 *      RESERVED   the header byte alone (length 1).
 *      BAD_SYNC   a run of 0x00 in header position not completed by 0x80 after
 *                 at least five zeros: the zero bytes only. The byte that ended
 *                 the run is not part of it.
 *      TOO_LONG   LTS1/GTS1 whose 4th payload byte, or GTS2 whose 6th payload
 *                 byte, still has the continuation bit: header + payload so far.
 *      GTS2_SIZE  complete GTS2 with 1, 2, 3 or 5 payload bytes: the packet.
 *      TRUNCATED  (finish only) the partial packet at end of stream.
 *      NOSYNC     bytes skipped while unsynchronised, one packet per run,
 *                 reported just before the sync that ends the run (or at
 *                 finish); runs longer than UINT32_MAX bytes are split.
 *    SYNC_WAIT: after any error the decoder is unsynchronised; everything up
 *    to the next sync becomes one NOSYNC run (the byte that ended a bad sync
 *    run starts that NOSYNC run). SYNC_ASSUME: the decoder stays synchronised;
 *    decoding resumes right after the error's bytes, and the byte that ended
 *    a bad sync run is re-parsed as a header (rust-embedded/itm test B.1).
 *  - Extension packets: the 4th payload byte carries EX[31:24] (8 bits, no
 *    continuation bit), so an extension is never too long.
 *  - GTS1 4-byte form: TS[25:21] = bits 4:0 of the last byte, clkch = bit 5,
 *    wrap = bit 6. GTS2 values are masked to their field width (22 or 38
 *    bits).
 */
#include "comb/itm_decoder.h"

#include <string.h>

enum {
    ST_UNSYNC = 0, /* skipping bytes until a sync                              */
    ST_HDR,        /* synchronised, expecting a header                         */
    ST_ZERO,       /* synchronised, inside a run of 0x00 (sync candidate)      */
    ST_SRC,        /* SWIT/HWIT payload, `need` bytes still to come           */
    ST_LTS1,       /* continuation payloads ...                               */
    ST_GTS1,
    ST_GTS2,
    ST_EXT
};

/* Header byte classes (ARMv7-M D4 / itm-protocol reference section 2). The
 * source classes equal their payload size. */
enum {
    H_S1 = 1, /* SWIT/HWIT, 1 payload byte */
    H_S2 = 2, /* 2 bytes */
    H_S4 = 4, /* 4 bytes (size code 3) */
    H_Z0,     /* 0x00: start of a sync */
    H_OV,     /* 0x70 overflow */
    H_L2,     /* 0x10-0x60 LTS2 */
    H_L1,     /* 0xC0/D0/E0/F0 LTS1 */
    H_G1,     /* 0x94 GTS1 */
    H_G2,     /* 0xB4 GTS2 */
    H_E1,     /* (b & 0x8B) == 0x08: extension, no payload */
    H_EC,     /* (b & 0x8B) == 0x88: extension with payload */
    H_RS      /* reserved: 0x80/90/A0/B0, Cxxx0100 other than 0x94/0xB4 */
};

#define S1 H_S1
#define S2 H_S2
#define S4 H_S4
#define Z0 H_Z0
#define OV H_OV
#define L2 H_L2
#define L1 H_L1
#define G1 H_G1
#define G2 H_G2
#define E1 H_E1
#define EC H_EC
#define RS H_RS
static const uint8_t hdr_class[256] = {
    Z0, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x00 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x10 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x20 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x30 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x40 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x50 */
    L2, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x60 */
    OV, S1, S2, S4, RS, S1, S2, S4, E1, S1, S2, S4, E1, S1, S2, S4, /* 0x70 */
    RS, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0x80 */
    RS, S1, S2, S4, G1, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0x90 */
    RS, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xA0 */
    RS, S1, S2, S4, G2, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xB0 */
    L1, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xC0 */
    L1, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xD0 */
    L1, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xE0 */
    L1, S1, S2, S4, RS, S1, S2, S4, EC, S1, S2, S4, EC, S1, S2, S4, /* 0xF0 */
};
#undef S1
#undef S2
#undef S4
#undef Z0
#undef OV
#undef L2
#undef L1
#undef G1
#undef G2
#undef E1
#undef EC
#undef RS

#define ZERO_RUN_MAX (UINT32_MAX - 1u) /* unsynced zero counter cap (sync length = zeros + 1) */

static uint32_t sat32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static inline void emit(comb_itm_decoder *d, const comb_itm_packet *pk, comb_itm_sink sink,
                        void *ctx)
{
    d->stats.packets[pk->kind]++;
    if (pk->kind == COMB_ITM_ERROR) {
        d->stats.errors[pk->error]++;
        d->stats.bytes_skipped += pk->length;
    }
    if (sink)
        sink(ctx, pk);
}

static void emit_error(comb_itm_decoder *d, comb_itm_error err, uint64_t offset, uint32_t length,
                       const uint8_t *raw, size_t rawlen, comb_itm_sink sink, void *ctx)
{
    comb_itm_packet pk;
    memset(&pk, 0, sizeof pk);
    pk.kind = COMB_ITM_ERROR;
    pk.error = err;
    pk.offset = offset;
    pk.length = length;
    if (rawlen > sizeof pk.raw)
        rawlen = sizeof pk.raw;
    if (rawlen > length)
        rawlen = length;
    if (raw && rawlen)
        memcpy(pk.raw, raw, rawlen);
    emit(d, &pk, sink, ctx);
}

/* Error reported for a zero run of `length` bytes (BAD_SYNC or TRUNCATED). */
static void emit_zero_error(comb_itm_decoder *d, comb_itm_error err, uint64_t offset,
                            uint32_t length, comb_itm_sink sink, void *ctx)
{
    static const uint8_t zeros[8];
    emit_error(d, err, offset, length, zeros, sizeof zeros, sink, ctx);
}

static void emit_sync(comb_itm_decoder *d, uint64_t offset, uint32_t length, comb_itm_sink sink,
                      void *ctx)
{
    comb_itm_packet pk;
    memset(&pk, 0, sizeof pk);
    pk.kind = COMB_ITM_SYNC;
    pk.offset = offset;
    pk.length = length;
    if (length <= sizeof pk.raw)
        pk.raw[length - 1] = 0x80; /* the rest is zero */
    d->page = 0;
    emit(d, &pk, sink, ctx);
}

/* ---- unsynchronised skipping ---------------------------------------------- */

static void flush_skip(comb_itm_decoder *d, comb_itm_sink sink, void *ctx)
{
    if (d->skipped == 0)
        return;
    emit_error(d, COMB_ITM_ERR_NOSYNC, d->skip_start, d->skipped, d->skip_raw, d->skipped, sink,
               ctx);
    d->skip_start += d->skipped;
    d->skipped = 0;
}

/* Appends `count` bytes of value `v` to the skipped run starting at `first_off`
 * (used only when the run is empty). */
static void skip_add(comb_itm_decoder *d, uint8_t v, uint32_t count, uint64_t first_off,
                     comb_itm_sink sink, void *ctx)
{
    if (d->skipped == 0)
        d->skip_start = first_off;
    while (count) {
        if (d->skipped == UINT32_MAX)
            flush_skip(d, sink, ctx);
        uint32_t room = UINT32_MAX - d->skipped;
        uint32_t k = count < room ? count : room;
        for (uint32_t i = d->skipped; i < sizeof d->skip_raw && i - d->skipped < k; i++)
            d->skip_raw[i] = v;
        d->skipped += k;
        count -= k;
    }
}

static void go_unsynced(comb_itm_decoder *d, uint64_t next_offset)
{
    d->synced = false;
    d->state = ST_UNSYNC;
    d->zeros = 0;
    d->skipped = 0;
    d->skip_start = next_offset;
    d->len = 0;
    d->need = 0;
}

/* After an error whose bytes end just before `next_offset`. */
static inline void after_error(comb_itm_decoder *d, uint64_t next_offset)
{
    if (d->mode == COMB_ITM_SYNC_WAIT) {
        go_unsynced(d, next_offset);
    } else {
        d->state = ST_HDR;
        d->len = 0;
    }
}

/* ---- packet builders -------------------------------------------------------- */

/* SWIT/HWIT packet q[0..sz]. `wide`: 8 bytes are readable at q (fast path). */
static inline void emit_source(comb_itm_decoder *d, const uint8_t *q, bool wide, uint64_t offset,
                               comb_itm_sink sink, void *ctx)
{
    comb_itm_packet pk;
    const uint8_t h = q[0];
    const unsigned ss = h & 3u;
    const unsigned sz = ss == 3u ? 4u : ss;
    uint32_t v;
    memset(&pk, 0, sizeof pk);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (wide) {
        /* one unaligned 8-byte load: raw bytes and the little-endian payload */
        static const uint64_t keep[5] = {0, 0xFFFFull, 0xFFFFFFull, 0, 0xFFFFFFFFFFull};
        uint64_t w;
        memcpy(&w, q, sizeof w);
        w &= keep[sz];
        memcpy(pk.raw, &w, sizeof w);
        v = (uint32_t)(w >> 8);
    } else
#endif
    {
        (void)wide;
        v = q[1];
        if (sz >= 2u)
            v |= (uint32_t)q[2] << 8;
        if (sz == 4u)
            v |= (uint32_t)q[3] << 16 | (uint32_t)q[4] << 24;
        memcpy(pk.raw, q, 1u + sz);
    }
    if (h & 4u) {
        pk.kind = COMB_ITM_HWIT;
        pk.port = (uint32_t)(h >> 3);
    } else {
        pk.kind = COMB_ITM_SWIT;
        pk.port = d->page * 32u + (uint32_t)(h >> 3);
    }
    pk.offset = offset;
    pk.length = 1u + sz;
    pk.size = (uint8_t)sz;
    pk.value = v;
    emit(d, &pk, sink, ctx);
}

/* Sum of the 7-bit groups of payload bytes q[0..n-1], least significant first. */
static inline uint64_t cont_value(const uint8_t *q, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)(q[i] & 0x7Fu) << (7u * i);
    return v;
}

static void emit_simple(comb_itm_decoder *d, comb_itm_kind kind, uint8_t h, uint64_t offset,
                        comb_itm_sink sink, void *ctx)
{
    comb_itm_packet pk;
    memset(&pk, 0, sizeof pk);
    pk.kind = kind;
    pk.offset = offset;
    pk.length = 1;
    pk.raw[0] = h;
    if (kind == COMB_ITM_LTS) {
        pk.value = (uint64_t)(h >> 4); /* LTS2: TS in bits 6:4, TC = 0 */
    } else if (kind == COMB_ITM_EXT) {
        pk.value = (uint64_t)((h >> 4) & 7u);
        pk.sh = (uint8_t)((h >> 2) & 1u);
        if (pk.sh == 0)
            d->page = (uint32_t)pk.value;
    }
    emit(d, &pk, sink, ctx);
}

/* A complete continuation-coded packet q[0..len-1] of class `st` (ST_LTS1,
 * ST_GTS1, ST_GTS2, ST_EXT) starting at `offset`. Emits it and returns
 * COMB_ITM_ERR_NONE, or returns COMB_ITM_ERR_GTS2_SIZE without emitting. */
static inline comb_itm_error emit_cont(comb_itm_decoder *d, int st, const uint8_t *q, unsigned len,
                                       uint64_t offset, comb_itm_sink sink, void *ctx)
{
    comb_itm_packet pk;
    const unsigned n = len - 1u; /* payload bytes */
    memset(&pk, 0, sizeof pk);
    pk.offset = offset;
    pk.length = len;
    pk.size = (uint8_t)n;
    memcpy(pk.raw, q, len);
    switch (st) {
    case ST_LTS1:
        pk.kind = COMB_ITM_LTS;
        pk.tc = (uint8_t)((q[0] >> 4) & 3u);
        pk.value = cont_value(q + 1, n);
        break;
    case ST_GTS1:
        pk.kind = COMB_ITM_GTS1;
        if (n == 4u) {
            pk.value = cont_value(q + 1, 3) | (uint64_t)(q[4] & 0x1Fu) << 21;
            pk.clkch = (q[4] & 0x20u) != 0;
            pk.wrap = (q[4] & 0x40u) != 0;
        } else {
            pk.value = cont_value(q + 1, n);
        }
        break;
    case ST_GTS2:
        if (n == 4u)
            pk.value = cont_value(q + 1, 4) & 0x3FFFFFu; /* TS[47:26] */
        else if (n == 6u)
            pk.value = cont_value(q + 1, 6) & 0x3FFFFFFFFFull; /* TS[63:26] */
        else
            return COMB_ITM_ERR_GTS2_SIZE;
        pk.kind = COMB_ITM_GTS2;
        break;
    default: /* ST_EXT */
        pk.kind = COMB_ITM_EXT;
        pk.sh = (uint8_t)((q[0] >> 2) & 1u);
        if (n == 4u) /* EX[31:24]: the last byte has no continuation bit */
            pk.value = cont_value(q + 1, 3) << 3 | (uint64_t)q[4] << 24;
        else
            pk.value = cont_value(q + 1, n) << 3;
        pk.value |= (uint64_t)((q[0] >> 4) & 7u);
        if (pk.sh == 0)
            d->page = (uint32_t)pk.value;
        break;
    }
    emit(d, &pk, sink, ctx);
    return COMB_ITM_ERR_NONE;
}

/* Most payload bytes of a continuation-coded packet. */
static inline unsigned cont_max(int st)
{
    return st == ST_GTS2 ? 6u : 4u;
}

/* ---- public API ------------------------------------------------------------- */

void comb_itm_decoder_init(comb_itm_decoder *d, comb_itm_sync_mode mode)
{
    if (!d)
        return;
    memset(d, 0, sizeof *d);
    d->mode = mode == COMB_ITM_SYNC_ASSUME ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT;
    d->synced = d->mode == COMB_ITM_SYNC_ASSUME;
    d->state = d->synced ? ST_HDR : ST_UNSYNC;
}

void comb_itm_decoder_feed(comb_itm_decoder *d, const uint8_t *bytes, size_t n, comb_itm_sink sink,
                           void *ctx)
{
    if (!d || !bytes || n == 0)
        return;
    const uint8_t *p = bytes;
    const uint8_t *const end = bytes + n;
    const uint64_t base = d->offset;
#define OFF(ptr) (base + (uint64_t)((ptr) - bytes))

    d->stats.bytes += n;
    while (p < end) {
        switch (d->state) {
        case ST_HDR:
            /* Tight loop over headers while synchronised. */
            while (p < end) {
                const uint8_t b = *p;
                const unsigned c = hdr_class[b];
                int cst;
                if (c <= H_S4) {
                    /* SWIT / HWIT, c = payload size */
                    if ((size_t)(end - p) > c) {
                        emit_source(d, p, (size_t)(end - p) >= 8u, OFF(p), sink, ctx);
                        p += 1u + c;
                        continue;
                    }
                    d->pkt_offset = OFF(p);
                    d->buf[0] = b;
                    d->len = 1;
                    d->need = (uint8_t)c;
                    d->state = ST_SRC;
                    p++;
                    break;
                }
                switch (c) {
                case H_OV:
                    emit_simple(d, COMB_ITM_OVERFLOW, b, OFF(p), sink, ctx);
                    p++;
                    continue;
                case H_L2:
                    emit_simple(d, COMB_ITM_LTS, b, OFF(p), sink, ctx);
                    p++;
                    continue;
                case H_E1:
                    emit_simple(d, COMB_ITM_EXT, b, OFF(p), sink, ctx);
                    p++;
                    continue;
                case H_L1:
                    cst = ST_LTS1;
                    break;
                case H_G1:
                    cst = ST_GTS1;
                    break;
                case H_G2:
                    cst = ST_GTS2;
                    break;
                case H_EC:
                    cst = ST_EXT;
                    break;
                case H_Z0:
                    d->pkt_offset = OFF(p);
                    d->zeros = 1;
                    d->state = ST_ZERO;
                    p++;
                    goto next_state;
                default: /* H_RS: reserved header */
                    emit_error(d, COMB_ITM_ERR_RESERVED, OFF(p), 1, p, 1, sink, ctx);
                    p++;
                    if (d->mode == COMB_ITM_SYNC_WAIT) {
                        go_unsynced(d, OFF(p));
                        goto next_state;
                    }
                    continue;
                }
                /* Continuation-coded packet (LTS1, GTS1, GTS2, EXT with C). */
                const unsigned max = cont_max(cst);
                if ((size_t)(end - p) > max) {
                    /* fast path: the longest possible packet is in the buffer */
                    unsigned k = 1; /* index of the last payload byte */
                    const unsigned last = cst == ST_EXT ? max : max + 1u;
                    while (k < last && (p[k] & 0x80u))
                        k++;
                    comb_itm_error err = COMB_ITM_ERR_TOO_LONG;
                    if (k <= max)
                        err = emit_cont(d, cst, p, k + 1u, OFF(p), sink, ctx);
                    else
                        k = max;
                    const uint8_t *q = p;
                    p += k + 1u;
                    if (err != COMB_ITM_ERR_NONE) {
                        emit_error(d, err, OFF(q), k + 1u, q, k + 1u, sink, ctx);
                        if (d->mode == COMB_ITM_SYNC_WAIT) {
                            go_unsynced(d, OFF(p));
                            goto next_state;
                        }
                    }
                    continue;
                }
                d->pkt_offset = OFF(p);
                d->buf[0] = b;
                d->len = 1;
                d->state = cst;
                p++;
                break;
            }
        next_state:
            break;

        case ST_SRC:
            while (p < end) {
                d->buf[d->len++] = *p++;
                if (--d->need == 0) {
                    emit_source(d, d->buf, true, d->pkt_offset, sink, ctx);
                    d->len = 0;
                    d->state = ST_HDR;
                    break;
                }
            }
            break;

        case ST_LTS1:
        case ST_GTS1:
        case ST_GTS2:
        case ST_EXT: {
            const uint8_t b = *p++;
            d->buf[d->len++] = b;
            const bool more = (b & 0x80u) != 0;
            const unsigned payload = (unsigned)d->len - 1u;
            if (d->state == ST_EXT) {
                if (!more || payload == 4u) {
                    (void)emit_cont(d, ST_EXT, d->buf, d->len, d->pkt_offset, sink, ctx);
                    d->len = 0;
                    d->state = ST_HDR;
                }
            } else if (!more) {
                comb_itm_error err =
                    emit_cont(d, d->state, d->buf, d->len, d->pkt_offset, sink, ctx);
                if (err != COMB_ITM_ERR_NONE) {
                    emit_error(d, err, d->pkt_offset, d->len, d->buf, d->len, sink, ctx);
                    after_error(d, OFF(p));
                } else {
                    d->len = 0;
                    d->state = ST_HDR;
                }
            } else if (payload == cont_max(d->state)) {
                emit_error(d, COMB_ITM_ERR_TOO_LONG, d->pkt_offset, d->len, d->buf, d->len, sink,
                           ctx);
                after_error(d, OFF(p));
            }
            break;
        }

        case ST_ZERO:
            while (p < end) {
                const uint8_t b = *p;
                if (b == 0) {
                    if (d->zeros < 5u)
                        d->zeros++;
                    p++;
                    continue;
                }
                const uint64_t run = OFF(p) - d->pkt_offset;
                if (b == 0x80u && d->zeros >= 5u) {
                    p++;
                    emit_sync(d, d->pkt_offset, sat32(run + 1u), sink, ctx);
                    d->zeros = 0;
                    d->state = ST_HDR;
                    break;
                }
                /* Not a sync: report the zeros; `b` is handled by the next state
                 * (re-parsed as a header in ASSUME mode, skipped in WAIT mode). */
                emit_zero_error(d, COMB_ITM_ERR_BAD_SYNC, d->pkt_offset, sat32(run), sink, ctx);
                d->zeros = 0;
                after_error(d, OFF(p));
                break;
            }
            break;

        default: /* ST_UNSYNC */
            while (p < end) {
                const uint8_t b = *p++;
                if (b == 0) {
                    if (d->zeros < ZERO_RUN_MAX)
                        d->zeros++;
                    else /* the oldest zero of the run can no longer be part of the sync */
                        skip_add(d, 0, 1, OFF(p) - 1u - d->zeros, sink, ctx);
                    continue;
                }
                if (b == 0x80u && d->zeros >= 5u) {
                    const uint64_t sync_off = OFF(p) - 1u - d->zeros;
                    flush_skip(d, sink, ctx);
                    emit_sync(d, sync_off, d->zeros + 1u, sink, ctx);
                    d->zeros = 0;
                    d->synced = true;
                    d->state = ST_HDR;
                    break;
                }
                const uint64_t first = OFF(p) - 1u - d->zeros;
                if (d->zeros) {
                    skip_add(d, 0, d->zeros, first, sink, ctx);
                    d->zeros = 0;
                }
                skip_add(d, b, 1, first, sink, ctx);
            }
            break;
        }
    }
    d->offset = base + n;
#undef OFF
}

void comb_itm_decoder_finish(comb_itm_decoder *d, comb_itm_sink sink, void *ctx)
{
    if (!d)
        return;
    switch (d->state) {
    case ST_HDR:
        break;
    case ST_ZERO:
        emit_zero_error(d, COMB_ITM_ERR_TRUNCATED, d->pkt_offset, sat32(d->offset - d->pkt_offset),
                        sink, ctx);
        break;
    case ST_SRC:
    case ST_LTS1:
    case ST_GTS1:
    case ST_GTS2:
    case ST_EXT:
        emit_error(d, COMB_ITM_ERR_TRUNCATED, d->pkt_offset, d->len, d->buf, d->len, sink, ctx);
        break;
    default: /* ST_UNSYNC */
        if (d->zeros)
            skip_add(d, 0, d->zeros, d->offset - d->zeros, sink, ctx);
        flush_skip(d, sink, ctx);
        break;
    }
    /* Anything fed after finish() is treated as a new stream at the same offset. */
    d->len = 0;
    d->need = 0;
    d->zeros = 0;
    if (d->mode == COMB_ITM_SYNC_WAIT) {
        go_unsynced(d, d->offset);
    } else {
        d->state = ST_HDR;
    }
}

const comb_itm_stats *comb_itm_decoder_stats(const comb_itm_decoder *d)
{
    return d ? &d->stats : NULL;
}

const char *comb_itm_kind_name(comb_itm_kind kind)
{
    static const char *const names[COMB_ITM_KIND_COUNT] = {
        [COMB_ITM_SYNC] = "sync", [COMB_ITM_OVERFLOW] = "overflow", [COMB_ITM_SWIT] = "swit",
        [COMB_ITM_HWIT] = "hwit", [COMB_ITM_LTS] = "lts",           [COMB_ITM_GTS1] = "gts1",
        [COMB_ITM_GTS2] = "gts2", [COMB_ITM_EXT] = "ext",           [COMB_ITM_ERROR] = "error",
    };
    if ((unsigned)kind >= COMB_ITM_KIND_COUNT)
        return "unknown";
    return names[kind];
}

const char *comb_itm_error_name(comb_itm_error error)
{
    static const char *const names[COMB_ITM_ERR_COUNT] = {
        [COMB_ITM_ERR_NONE] = "none",
        [COMB_ITM_ERR_NOSYNC] = "nosync",
        [COMB_ITM_ERR_BAD_SYNC] = "bad_sync",
        [COMB_ITM_ERR_RESERVED] = "reserved",
        [COMB_ITM_ERR_TOO_LONG] = "too_long",
        [COMB_ITM_ERR_GTS2_SIZE] = "gts2_size",
        [COMB_ITM_ERR_TRUNCATED] = "truncated",
    };
    if ((unsigned)error >= COMB_ITM_ERR_COUNT)
        return "unknown";
    return names[error];
}
