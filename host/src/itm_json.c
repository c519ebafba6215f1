/*
 * One ITM packet as one JSON object (format: docs/decode-json.md).
 *
 * Built in a local buffer with hand-rolled integer formatting (this sits on the
 * `comb decode --json` hot path), then copied out with snprintf semantics.
 */
#include "comb/itm_decoder.h"

#include <string.h>

/* Longest possible object is well under 256 bytes: 9 keys, two 20-digit and
 * three 10-digit numbers, 16 hex digits of raw. */
#define JSON_MAX 320

typedef struct jbuf {
    char *p;
} jbuf;

static void put_str(jbuf *j, const char *s)
{
    size_t n = strlen(s);
    memcpy(j->p, s, n);
    j->p += n;
}

static void put_u64(jbuf *j, uint64_t v)
{
    char tmp[20];
    int i = 0;
    do {
        tmp[i++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v);
    while (i)
        *j->p++ = tmp[--i];
}

/* ,"key":<number> */
static void key_u64(jbuf *j, const char *key, uint64_t v)
{
    *j->p++ = ',';
    *j->p++ = '"';
    put_str(j, key);
    *j->p++ = '"';
    *j->p++ = ':';
    put_u64(j, v);
}

static void key_bool(jbuf *j, const char *key, bool v)
{
    *j->p++ = ',';
    *j->p++ = '"';
    put_str(j, key);
    put_str(j, v ? "\":true" : "\":false");
}

static void key_str(jbuf *j, const char *key, const char *v)
{
    *j->p++ = ',';
    *j->p++ = '"';
    put_str(j, key);
    put_str(j, "\":\"");
    put_str(j, v); /* only fixed lower-case names: nothing to escape */
    *j->p++ = '"';
}

int comb_itm_packet_to_json(const comb_itm_packet *packet, char *buf, size_t cap)
{
    char out[JSON_MAX];
    jbuf j = {out};
    static const char hex[] = "0123456789abcdef";

    if (!packet) {
        if (buf && cap)
            buf[0] = '\0';
        return 0;
    }
    const comb_itm_packet *pk = packet;
    put_str(&j, "{\"type\":\"");
    put_str(&j, comb_itm_kind_name(pk->kind));
    *j.p++ = '"';
    key_u64(&j, "offset", pk->offset);
    key_u64(&j, "length", pk->length);
    switch (pk->kind) {
    case COMB_ITM_SWIT:
    case COMB_ITM_HWIT:
        key_u64(&j, "port", pk->port);
        key_u64(&j, "size", pk->size);
        key_u64(&j, "value", pk->value);
        break;
    case COMB_ITM_LTS:
        key_u64(&j, "value", pk->value);
        key_u64(&j, "tc", pk->tc);
        break;
    case COMB_ITM_GTS1:
        key_u64(&j, "value", pk->value);
        key_u64(&j, "size", pk->size);
        key_bool(&j, "clkch", pk->clkch);
        key_bool(&j, "wrap", pk->wrap);
        break;
    case COMB_ITM_GTS2:
        key_u64(&j, "value", pk->value);
        key_u64(&j, "size", pk->size);
        break;
    case COMB_ITM_EXT:
        key_u64(&j, "sh", pk->sh);
        key_u64(&j, "value", pk->value);
        break;
    case COMB_ITM_ERROR:
        key_str(&j, "error", comb_itm_error_name(pk->error));
        key_u64(&j, "skipped", pk->length);
        break;
    default: /* sync, overflow: no fields */
        break;
    }
    {
        size_t n = pk->length < sizeof pk->raw ? pk->length : sizeof pk->raw;
        put_str(&j, ",\"raw\":\"");
        for (size_t i = 0; i < n; i++) {
            *j.p++ = hex[pk->raw[i] >> 4];
            *j.p++ = hex[pk->raw[i] & 15u];
        }
        *j.p++ = '"';
    }
    *j.p++ = '}';

    size_t len = (size_t)(j.p - out);
    if (buf && cap) {
        size_t k = len < cap - 1u ? len : cap - 1u;
        memcpy(buf, out, k);
        buf[k] = '\0';
    }
    return (int)len;
}
