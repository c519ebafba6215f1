#include "bench_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- stream writer --------------------------------------------------------- */

void bench_stream_init(bench_stream *w, size_t cap, size_t sync_interval)
{
    memset(w, 0, sizeof *w);
    w->cap = cap < 4096 ? 4096 : cap;
    w->data = malloc(w->cap);
    if (!w->data) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", w->cap);
        exit(1);
    }
    w->sync_interval = sync_interval;
}

void bench_stream_free(bench_stream *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

static void reserve(bench_stream *w, size_t n)
{
    if (w->len + n <= w->cap)
        return;
    size_t cap = w->cap * 2;
    while (cap < w->len + n)
        cap *= 2;
    uint8_t *p = realloc(w->data, cap);
    if (!p) {
        fprintf(stderr, "bench: out of memory (%zu bytes)\n", cap);
        exit(1);
    }
    w->data = p;
    w->cap = cap;
}

static void put_raw(bench_stream *w, comb_itm_kind kind, const uint8_t *b, size_t n)
{
    reserve(w, n);
    memcpy(w->data + w->len, b, n);
    w->len += n;
    w->packets[kind]++;
    w->bytes[kind] += n;
}

void bench_sync(bench_stream *w)
{
    static const uint8_t sync[COMB_ITM_SYNC_LEN] = {0, 0, 0, 0, 0, COMB_ITM_SYNC_LAST};
    put_raw(w, COMB_ITM_SYNC, sync, sizeof sync);
    if (w->sync_interval)
        w->next_sync = (w->len / w->sync_interval + 1) * w->sync_interval;
}

/* One packet, preceded by a sync when the byte count crossed the interval. */
static void put(bench_stream *w, comb_itm_kind kind, const uint8_t *b, size_t n)
{
    if (w->sync_interval && w->len >= w->next_sync)
        bench_sync(w);
    put_raw(w, kind, b, n);
}

void bench_overflow(bench_stream *w)
{
    const uint8_t b = COMB_ITM_OVERFLOW_BYTE;
    put(w, COMB_ITM_OVERFLOW, &b, 1);
}

void bench_swit(bench_stream *w, unsigned port, unsigned size, uint32_t value)
{
    uint8_t b[5] = {COMB_ITM_SWIT_HEADER(port, size), (uint8_t)value, (uint8_t)(value >> 8),
                    (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
    put(w, COMB_ITM_SWIT, b, 1u + size);
    w->swit_size[size]++;
}

/* n continuation-coded payload bytes of `v` (7 bits each, C on all but the last). */
static unsigned cont_encode(uint32_t v, uint8_t *out)
{
    unsigned n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        if (v)
            out[n] |= 0x80u;
        n++;
    } while (v && n < 4);
    return n;
}

void bench_lts(bench_stream *w, uint32_t delta)
{
    if (delta == 0)
        delta = 1;
    if (delta <= 6) {
        const uint8_t b = (uint8_t)(delta << 4);
        put(w, COMB_ITM_LTS, &b, 1);
        return;
    }
    if (delta > 0x0FFFFFFFu)
        delta = 0x0FFFFFFFu;
    uint8_t b[5] = {0xC0};
    unsigned n = cont_encode(delta, b + 1);
    put(w, COMB_ITM_LTS, b, 1u + n);
}

void bench_text(bench_stream *w, unsigned port, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    for (; len >= 4; p += 4, len -= 4)
        bench_swit(w, port, 4, (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    if (len >= 2) {
        bench_swit(w, port, 2, (uint32_t)p[0] | (uint32_t)p[1] << 8);
        p += 2;
        len -= 2;
    }
    if (len)
        bench_swit(w, port, 1, p[0]);
}

/* ---- events ---------------------------------------------------------------- */

typedef struct gen_event {
    unsigned port, type, n;
    uint8_t sizes[COMB_EVT_MAX_FIELDS];
    uint32_t values[COMB_EVT_MAX_FIELDS];
} gen_event;

static void field(gen_event *e, unsigned size, uint32_t v)
{
    e->sizes[e->n] = (uint8_t)size;
    e->values[e->n] = v;
    e->n++;
}

static void size_field(gen_event *e, uint32_t v)
{
    field(e, v < 65536u ? 2u : 4u, v);
}

static uint32_t tick(bench_traffic *t)
{
    t->ts += 20u + bench_below(&t->rng, 2000); /* ~40 us apart at 25 MHz */
    return t->ts;
}

void bench_traffic_init(bench_traffic *t, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->rng.s = seed;
    t->ts = 1000;
    t->nest_permille = 20;
}

static uint32_t heap_ptr(bench_traffic *t)
{
    return 0x20000000u + 8u * bench_below(&t->rng, 0x8000); /* 256 KiB of RAM */
}

static uint32_t req_size(bench_traffic *t)
{
    if (bench_below(&t->rng, 50) == 0)
        return 65536u + bench_below(&t->rng, 100000); /* large: 4-byte size field */
    return 4u + bench_below(&t->rng, 508);
}

static uint32_t take_live(bench_traffic *t, bool remove)
{
    unsigned i = bench_below(&t->rng, t->nlive);
    uint32_t p = t->live[i];
    if (remove)
        t->live[i] = t->live[--t->nlive];
    return p;
}

static void add_live(bench_traffic *t, uint32_t p)
{
    if (t->nlive < sizeof t->live / sizeof t->live[0])
        t->live[t->nlive++] = p;
    else
        t->live[bench_below(&t->rng, t->nlive)] = p;
}

/* category: 0 heap, 1 scheduler, -1 either. */
static void make_event(bench_traffic *t, gen_event *e, int category)
{
    memset(e, 0, sizeof *e);
    if (category < 0)
        category = bench_below(&t->rng, 100) < 55 ? 0 : 1;
    unsigned r = bench_below(&t->rng, 100);
    if (category == 0) {
        e->port = COMB_PORT_HEAP;
        if (r < 45 || t->nlive == 0) {
            uint32_t p = heap_ptr(t);
            e->type = COMB_EVT_HEAP_ALLOC;
            field(e, 4, p);
            size_field(e, req_size(t));
            add_live(t, p);
        } else if (r < 85) {
            e->type = COMB_EVT_HEAP_FREE;
            field(e, 4, take_live(t, true));
        } else if (r < 93) {
            e->type = COMB_EVT_HEAP_RESIZE;
            field(e, 4, take_live(t, false));
            size_field(e, req_size(t));
        } else if (r < 98) {
            uint32_t p = heap_ptr(t);
            e->type = COMB_EVT_HEAP_REALLOC;
            field(e, 4, take_live(t, true));
            field(e, 4, p);
            size_field(e, req_size(t));
            add_live(t, p);
        } else {
            e->type = COMB_EVT_HEAP_FAIL;
            size_field(e, req_size(t));
        }
    } else {
        e->port = COMB_PORT_SCHED;
        const uint32_t thr = bench_below(&t->rng, 8);
        const uint32_t fiber = 0x20010000u + 64u * bench_below(&t->rng, 256);
        if (r < 20) {
            uint32_t from = bench_below(&t->rng, 4) == 0 ? COMB_THREAD_NONE : bench_below(&t->rng, 8);
            e->type = COMB_EVT_THREAD_WAKEUP;
            field(e, 2, from << 8 | thr);
        } else if (r < 80) {
            e->type = r < 50 ? COMB_EVT_THREAD_ENTER : COMB_EVT_THREAD_EXIT;
            field(e, 2, thr);
        } else {
            e->type = r < 88   ? COMB_EVT_FIBER_RESUMED
                      : r < 96 ? COMB_EVT_FIBER_YIELDED
                      : r < 98 ? COMB_EVT_FIBER_ADDED
                               : COMB_EVT_FIBER_COMPLETED;
            field(e, 2, thr);
            field(e, 4, fiber);
        }
    }
    field(e, 4, tick(t));
}

static void emit_header(bench_stream *w, const gen_event *e)
{
    bench_swit(w, e->port, 1, COMB_EVT_HEADER(e->type, e->n));
}

static void emit_fields(bench_stream *w, const gen_event *e, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        bench_swit(w, e->port, e->sizes[i], e->values[i]);
}

void bench_event_raw(bench_stream *w, unsigned port, unsigned type, unsigned n, const uint8_t *sizes,
                     const uint32_t *values)
{
    bench_swit(w, port, 1, COMB_EVT_HEADER(type, n));
    for (unsigned i = 0; i < n; i++)
        bench_swit(w, port, sizes[i], values[i]);
}

void bench_event(bench_stream *w, bench_traffic *t)
{
    gen_event outer;
    make_event(t, &outer, -1);
    t->events++;
    t->by_type[outer.type]++;
    emit_header(w, &outer);
    if (outer.n >= 2 && bench_below(&t->rng, 1000) < t->nest_permille) {
        /* an interrupt preempts the writer after the first field */
        emit_fields(w, &outer, 0, 1);
        gen_event inner;
        make_event(t, &inner, outer.port == COMB_PORT_HEAP ? 0 : 1);
        emit_header(w, &inner);
        emit_fields(w, &inner, 0, inner.n);
        t->events++;
        t->nested++;
        t->by_type[inner.type]++;
        emit_fields(w, &outer, 1, outer.n);
        return;
    }
    emit_fields(w, &outer, 0, outer.n);
}

void bench_session_start(bench_stream *w, bench_traffic *t)
{
    const uint8_t sizes[6] = {2, 4, 4, 4, 4, 4};
    const uint32_t values[6] = {COMB_PROTOCOL_VERSION, 25000000u, 25000000u, 0x1234abcdu, 0x5678ef01u, t->ts};
    bench_event_raw(w, COMB_PORT_SCHED, COMB_EVT_SESSION_START, 6, sizes, values);
    t->events++;
    t->by_type[COMB_EVT_SESSION_START]++;
}

void bench_session_end(bench_stream *w, bench_traffic *t)
{
    const uint8_t sizes[1] = {4};
    const uint32_t values[1] = {tick(t)};
    bench_event_raw(w, COMB_PORT_SCHED, COMB_EVT_SESSION_END, 1, sizes, values);
    t->events++;
    t->by_type[COMB_EVT_SESSION_END]++;
}

void bench_log_line(bench_stream *w, bench_traffic *t)
{
    char line[160];
    int n;
    unsigned port = COMB_PORT_STDOUT;
    bench_rng *r = &t->rng;
    switch (bench_below(r, 8)) {
    case 0:
        port = COMB_PORT_STDERR;
        n = snprintf(line, sizeof line, "warning: queue %u high water mark %u/%u\n", bench_below(r, 8),
                     60 + bench_below(r, 4), 64u);
        break;
    case 1:
    case 2:
        n = snprintf(line, sizeof line, "[%10u] heap: %u blocks live, %u bytes free\n", t->ts, t->nlive,
                     bench_below(r, 200000));
        break;
    case 3:
    case 4:
        n = snprintf(line, sizeof line, "sched: thread %u woke thread %u at tick %u\n", bench_below(r, 8),
                     bench_below(r, 8), t->ts);
        break;
    case 5:
        n = snprintf(line, sizeof line, "sensor %u: %u.%02u degC\n", bench_below(r, 4), 18 + bench_below(r, 10),
                     bench_below(r, 100));
        break;
    default:
        n = snprintf(line, sizeof line, "net: rx %u bytes from 10.0.%u.%u\n", 64 + bench_below(r, 1400),
                     bench_below(r, 256), bench_below(r, 256));
        break;
    }
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    bench_text(w, port, line, (size_t)n);
    t->log_lines++;
}

void bench_drop(bench_stream *w, bench_traffic *t)
{
    gen_event e;
    make_event(t, &e, 0);
    emit_header(w, &e);
    emit_fields(w, &e, 0, 1); /* the rest is lost */
    t->partial++;
    bench_overflow(w);
    const uint8_t sizes[2] = {4, 4};
    const uint32_t values[2] = {1u + bench_below(&t->rng, 8), tick(t)};
    bench_event_raw(w, COMB_PORT_SCHED, COMB_EVT_DROPPED, 2, sizes, values);
    t->events++;
    t->by_type[COMB_EVT_DROPPED]++;
}

void bench_gen_mixed(bench_stream *w, bench_traffic *t, size_t bytes)
{
    bench_session_start(w, t);
    while (w->len < bytes) {
        if (bench_below(&t->rng, 100000) < 5) { /* occasional overflow */
            bench_drop(w, t);
            continue;
        }
        if (bench_below(&t->rng, 100) < 10) /* some local timestamps */
            bench_lts(w, bench_below(&t->rng, 10) == 0 ? 1u + bench_below(&t->rng, 6)
                                                       : 7u + bench_below(&t->rng, 50000));
        if (bench_below(&t->rng, 100) < 20) /* ~45% of the bytes are text */
            bench_log_line(w, t);
        else
            bench_event(w, t);
    }
}

/* ---- worst case: random mix of every packet kind --------------------------- */

/* n payload bytes with C set on all but the last; the last byte keeps bit 7
 * clear unless `last_free` (extension EX[31:24]). */
static void cont_random(bench_rng *r, uint8_t *out, unsigned n, bool last_free)
{
    uint64_t x = bench_rand(r);
    for (unsigned i = 0; i < n; i++, x >>= 8) {
        out[i] = (uint8_t)(x & 0x7Fu);
        if (i + 1 < n)
            out[i] |= 0x80u;
        else if (last_free)
            out[i] = (uint8_t)x;
    }
}

void bench_gen_random_mix(bench_stream *w, uint64_t seed, size_t bytes)
{
    bench_rng r = {seed};
    static const unsigned sizes[3] = {1, 2, 4};
    bench_sync(w);
    while (w->len < bytes) {
        uint8_t b[8];
        uint64_t x = bench_rand(&r);
        unsigned n;
        comb_itm_kind kind;
        switch (x & 7u) {
        case 0:
            bench_sync(w);
            continue;
        case 1:
            kind = COMB_ITM_OVERFLOW;
            b[0] = COMB_ITM_OVERFLOW_BYTE;
            n = 1;
            break;
        case 2:
        case 3: {
            unsigned sz = sizes[((x >> 3) & 0xFFFFu) % 3u];
            unsigned port = (unsigned)(x >> 24) & 31u;
            kind = (x & 7u) == 2 ? COMB_ITM_SWIT : COMB_ITM_HWIT;
            b[0] = (uint8_t)(port << 3 | (kind == COMB_ITM_HWIT ? 4u : 0u) | (sz == 4 ? 3u : sz));
            uint32_t v = (uint32_t)(x >> 32);
            memcpy(b + 1, &v, 4);
            n = 1 + sz;
            if (kind == COMB_ITM_SWIT)
                w->swit_size[sz]++;
            break;
        }
        case 4:
            kind = COMB_ITM_LTS;
            if ((x >> 3) & 1u) {
                b[0] = (uint8_t)((1u + ((x >> 4) & 0xFFFFu) % 6u) << 4); /* LTS2 */
                n = 1;
            } else {
                b[0] = (uint8_t)(0xC0u | (((x >> 4) & 3u) << 4)); /* LTS1, random TC */
                n = 1 + 1 + (unsigned)((x >> 6) & 3u);
                cont_random(&r, b + 1, n - 1, false);
            }
            break;
        case 5:
            kind = COMB_ITM_GTS1;
            b[0] = 0x94;
            n = 1 + 1 + (unsigned)((x >> 3) & 3u);
            cont_random(&r, b + 1, n - 1, false);
            break;
        case 6:
            kind = COMB_ITM_GTS2;
            b[0] = 0xB4;
            n = ((x >> 3) & 1u) ? 7 : 5;
            cont_random(&r, b + 1, n - 1, false);
            break;
        default: {
            kind = COMB_ITM_EXT;
            unsigned payload = (unsigned)((x >> 3) % 5u); /* 0-4 */
            unsigned ex = (unsigned)(x >> 8) & 7u;
            unsigned sh = (unsigned)(x >> 11) & 1u;
            b[0] = (uint8_t)((payload ? 0x80u : 0u) | ex << 4 | 0x08u | sh << 2);
            n = 1 + payload;
            if (payload)
                cont_random(&r, b + 1, payload, payload == 4);
            break;
        }
        }
        put(w, kind, b, n);
    }
}

/* ---- helpers --------------------------------------------------------------- */

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool bench_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end)
        return false;
    *out = v;
    return true;
}
