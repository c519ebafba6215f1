/* TPIU / CoreSight formatter frames -> one trace ID's bytes (tpiu_deformatter.h). */
#include "comb/tpiu_deformatter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void comb_tpiu_init(comb_tpiu *t, uint8_t trace_id)
{
    memset(t, 0, sizeof *t);
    t->want = trace_id;
    t->cur = -1;
}

/* One data byte under the current ID. */
static inline size_t put(comb_tpiu *t, uint8_t b, uint8_t *out, size_t o)
{
    if (t->cur == t->want) {
        out[o++] = b;
        t->stats.bytes_out++;
    } else if (t->cur == 0) {
        t->stats.bytes_null++;
    } else if (t->cur < 0) {
        t->stats.bytes_noid++;
    } else {
        t->stats.bytes_other++;
    }
    return o;
}

static inline void set_id(comb_tpiu *t, uint8_t mixed)
{
    uint8_t id = mixed >> 1;
    if (id == 0x7F) { /* never used: the frame is misaligned or corrupt; drop data until the next ID */
        t->stats.bad_ids++;
        t->cur = -1;
    } else {
        t->cur = id;
    }
}

static size_t unpack(comb_tpiu *t, uint8_t *out, size_t o)
{
    const uint8_t *f = t->frame;
    uint8_t aux = f[15];
    for (unsigned i = 0; i < 15; i += 2) {
        uint8_t b = f[i];
        unsigned auxbit = (aux >> (i / 2)) & 1u;
        bool last = i == 14; /* byte 14 has no data byte after it (15 is aux) */
        if (b & 1u) {
            if (!last && auxbit) { /* delayed: the next byte still belongs to the old ID */
                o = put(t, f[i + 1], out, o);
                set_id(t, b);
            } else {
                set_id(t, b);
                if (!last)
                    o = put(t, f[i + 1], out, o);
            }
        } else {
            o = put(t, (uint8_t)(b | auxbit), out, o);
            if (!last)
                o = put(t, f[i + 1], out, o);
        }
    }
    t->stats.frames++;
    return o;
}

size_t comb_tpiu_feed(comb_tpiu *t, const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    t->stats.bytes_in += n;
    for (size_t k = 0; k < n; k++) {
        uint8_t b = in[k];
        t->shift = (t->shift << 8) | b;
        if (t->shift == COMB_TPIU_SYNC) {
            /* The frame buffer holds the sync's three FF bytes when the sync sits
             * on a frame boundary; anything else was a partial (misaligned) frame. */
            t->stats.full_syncs++;
            if (t->len != 3) {
                t->stats.realigns++;
                t->stats.bytes_dropped += t->len > 3 ? t->len - 3u : 0u;
            }
            t->len = 0;
            continue;
        }
        t->frame[t->len++] = b;
        if ((t->len & 1u) == 0 && b == 0x7F && t->frame[t->len - 2] == 0xFF) {
            t->len -= 2; /* half sync: idle filler */
            t->stats.half_syncs++;
            continue;
        }
        if (t->len == COMB_TPIU_FRAME_SIZE) {
            o = unpack(t, out, o);
            t->len = 0;
        }
    }
    return o;
}

void comb_tpiu_finish(comb_tpiu *t)
{
    t->stats.bytes_dropped += t->len;
    t->len = 0;
}

const comb_tpiu_stats *comb_tpiu_get_stats(const comb_tpiu *t)
{
    return &t->stats;
}

int comb_tpiu_parse_id(const char *s, uint8_t *id, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long v = 0;
    bool ok = s && *s && s[0] != '-' && s[0] != '+' && s[0] != ' ';
    if (ok) {
        bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
        v = strtoul(hex ? s + 2 : s, &end, hex ? 16 : 10);
        ok = !errno && end != (hex ? s + 2 : s) && !*end && v >= COMB_TPIU_ID_MIN && v <= COMB_TPIU_ID_MAX;
    }
    if (!ok) {
        snprintf(err, errlen, "bad trace ID '%s': expected %d-%d (0x%02x-0x%02x); ITM usually has 1", s ? s : "",
                 COMB_TPIU_ID_MIN, COMB_TPIU_ID_MAX, COMB_TPIU_ID_MIN, COMB_TPIU_ID_MAX);
        return -1;
    }
    *id = (uint8_t)v;
    return 0;
}

void comb_tpiu_sniff(comb_tpiu_sniffer *s, const uint8_t *in, size_t n)
{
    uint32_t sh = s->shift;
    for (size_t k = 0; k < n; k++) {
        sh = (sh << 8) | in[k];
        if (sh == COMB_TPIU_SYNC)
            s->syncs++;
    }
    s->shift = sh;
}
