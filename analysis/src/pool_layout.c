/* Optimal pool layouts (include/comb/pool_layout.h). */
#include "comb/pool_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t comb_layout_margin(uint64_t c, double pct)
{
    if (!(pct > 0)) /* also NaN */
        return c;
    double extra = ceil((double)c * pct / 100.0);
    return c + (extra > 0 ? (uint64_t)extra : 0);
}

static uint32_t align4(uint32_t v)
{
    return v > UINT32_MAX - 3 ? UINT32_MAX - 3 : (v + 3u) & ~3u;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Distinct aligned sizes of every request (> 0), ascending. */
/* The block a request of v bytes needs: granule 8 (comb's allocator, whose
 * blocks are 4 bytes or a multiple of 8 apart): 4 for 1-4, else the next
 * multiple of 8; granule 4 (Drone's): the next multiple of 4. */
static uint32_t quantum(uint32_t v, unsigned granule)
{
    if (granule == 8)
        return v <= 4 ? 4 : v > UINT32_MAX - 7 ? UINT32_MAX - 7 : (v + 7u) & ~7u;
    return align4(v);
}

static int collect_sizes(const comb_heap_trace *t, unsigned granule, uint32_t **out, unsigned *m)
{
    size_t cap = 64, n = 0;
    uint32_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    /* a small seen-table keeps this linear for the usual few sizes */
    uint32_t last = 0;
    for (size_t k = 0; k < t->n; k++) {
        const comb_heap_op *o = &t->ops[k];
        if (o->kind == COMB_HEAP_FREE || o->size == 0)
            continue;
        uint32_t s = quantum(o->size, granule);
        if (s == last)
            continue;
        last = s;
        if (n == cap) {
            /* compact before growing */
            qsort(v, n, sizeof *v, cmp_u32);
            size_t u = 0;
            for (size_t i = 0; i < n; i++)
                if (u == 0 || v[u - 1] != v[i])
                    v[u++] = v[i];
            n = u;
            if (n > cap / 2) {
                uint32_t *nv = realloc(v, cap * 2 * sizeof *v);
                if (!nv) {
                    free(v);
                    return -1;
                }
                v = nv;
                cap *= 2;
            }
        }
        v[n++] = s;
    }
    qsort(v, n, sizeof *v, cmp_u32);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v[u - 1] != v[i])
            v[u++] = v[i];
    *out = v;
    *m = (unsigned)u;
    return 0;
}

/* The class of a request: the first size >= it (its quantum is in s). */
static unsigned key_of(const uint32_t *s, unsigned m, uint32_t size)
{
    unsigned lo = 0, hi = m;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (s[mid] < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- interval peaks ---------------------------------------------------------- */

/* States already processed: a direct-mapped cache of their 128-bit hashes
 * (2^16 entries, 1 MiB). Periodic firmware repeats its states, and a repeat
 * needs no work; a state evicted from the cache is merely processed again.
 * Bounded memory and cache-friendly, where a complete set of every state of a
 * long random trace costs more than it saves. */
#define SEEN_BITS 16
typedef struct seen128 {
    uint64_t *k; /* pairs; (0, 0) = empty */
} seen128;

/* True if (a, b) is in the cache; puts it there otherwise. */
static bool seen_insert(seen128 *s, uint64_t a, uint64_t b)
{
    if (a == 0 && b == 0)
        b = 1; /* (0, 0) marks empty slots */
    size_t h = (size_t)((a ^ (a >> 31)) * 0x9E3779B97F4A7C15ull >> (64 - SEEN_BITS));
    if (s->k[2 * h] == a && s->k[2 * h + 1] == b)
        return true;
    s->k[2 * h] = a;
    s->k[2 * h + 1] = b;
    return false;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct sweep {
    unsigned m;
    int32_t *live;
    uint64_t *r1, *r2;
    uint64_t h1, h2;
    int32_t *peak;   /* peak[j * m + k], j <= k */
    int32_t *prefix;
    /* 16-bit copies, used when no more than INT16_MAX blocks are ever live:
     * eight lanes per SIMD instruction in the inner loop */
    bool narrow;
    int16_t *peak16, *prefix16;
    bool rising;
    unsigned rmin, rmax; /* keys incremented since the last candidate */
    seen128 seen;
    uint64_t states, distinct;
} sweep;

static void inc(sweep *w, unsigned k)
{
    w->live[k]++;
    w->h1 += w->r1[k];
    w->h2 += w->r2[k];
    if (!w->rising || k < w->rmin)
        w->rmin = k;
    if (!w->rising || k > w->rmax)
        w->rmax = k;
    w->rising = true;
}

/* row[k] = max(row[k], pk[k] - base) for k in [k0, m): the hot loop. */
#if defined(__SSE2__)
#include <emmintrin.h>
static void row_max16(int16_t *row, const int16_t *pk, int16_t base, unsigned k0, unsigned m)
{
    unsigned k = k0;
    const __m128i b = _mm_set1_epi16(base);
    for (; k + 8 <= m; k += 8) {
        __m128i v = _mm_sub_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pk + k)), b);
        __m128i r = _mm_loadu_si128((const __m128i *)(const void *)(row + k));
        _mm_storeu_si128((__m128i *)(void *)(row + k), _mm_max_epi16(v, r));
    }
    for (; k < m; k++) {
        int16_t v = (int16_t)(pk[k] - base);
        row[k] = v > row[k] ? v : row[k];
    }
}
#else
static void row_max16(int16_t *row, const int16_t *pk, int16_t base, unsigned k0, unsigned m)
{
    for (unsigned k = k0; k < m; k++) {
        int16_t v = (int16_t)(pk[k] - base);
        row[k] = v > row[k] ? v : row[k];
    }
}
#endif

/* The state at the end of a run of increments. Since the previous candidate
 * only decrements happened, then increments of keys rmin..rmax: an interval
 * that contains none of those keys cannot exceed what it had then, so only
 * intervals [j, k] with j <= rmax and k >= rmin are updated. */
static void candidate(sweep *w)
{
    w->rising = false;
    w->states++;
    if (seen_insert(&w->seen, w->h1, w->h2))
        return;
    w->distinct++;
    unsigned m = w->m, rmin = w->rmin, rmax = w->rmax;
    if (w->narrow) {
        int16_t *p = w->prefix16;
        p[0] = 0;
        for (unsigned i = 0; i < m; i++)
            p[i + 1] = (int16_t)(p[i] + w->live[i]);
        for (unsigned j = 0; j <= rmax; j++) {
            int16_t *row = w->peak16 + (size_t)j * m;
            unsigned k0 = j > rmin ? j : rmin;
            /* rows and the new values both grow with k: when the largest new
             * value is no more than the row's smallest peak, nothing changes */
            if ((int16_t)(p[m] - p[j]) <= row[k0])
                continue;
            row_max16(row, p + 1, p[j], k0, m);
        }
        return;
    }
    int32_t *p = w->prefix;
    p[0] = 0;
    for (unsigned i = 0; i < m; i++)
        p[i + 1] = p[i] + w->live[i];
    for (unsigned j = 0; j <= rmax; j++) {
        int32_t *row = w->peak + (size_t)j * m;
        const int32_t base = p[j];
        const int32_t *pk = p + 1;
        unsigned k0 = j > rmin ? j : rmin;
        if (p[m] - base <= row[k0])
            continue; /* see above */
        for (unsigned k = k0; k < m; k++) {
            int32_t v = pk[k] - base;
            row[k] = v > row[k] ? v : row[k];
        }
    }
}

static void dec(sweep *w, unsigned k)
{
    if (w->rising)
        candidate(w);
    w->live[k]--;
    w->h1 -= w->r1[k];
    w->h2 -= w->r2[k];
}

/* peak[j][k] = most blocks of sizes s_j..s_k live at once (move semantics). */
static int interval_peaks(const comb_heap_trace *t, const uint32_t *s, unsigned m, sweep *w)
{
    memset(w, 0, sizeof *w);
    w->m = m;
    w->live = calloc(m, sizeof *w->live);
    w->r1 = malloc(m * sizeof *w->r1);
    w->r2 = malloc(m * sizeof *w->r2);
    w->prefix = malloc((m + 1) * sizeof *w->prefix);
    w->peak = calloc((size_t)m * m, sizeof *w->peak);
    uint16_t *bkey = malloc((t->nblocks ? t->nblocks : 1) * sizeof *bkey);
    if (!w->live || !w->r1 || !w->r2 || !w->prefix || !w->peak || !bkey) {
        free(bkey);
        return -1;
    }
    /* most blocks ever live at once: decides the 16-bit path */
    {
        int64_t live = 0, most = 0;
        for (size_t k = 0; k < t->n; k++) {
            const comb_heap_op *o = &t->ops[k];
            if (o->kind == COMB_HEAP_ALLOC || o->kind == COMB_HEAP_REALLOC || o->kind == COMB_HEAP_FAIL ||
                o->kind == COMB_HEAP_RESIZE)
                live++;
            if (live > most)
                most = live;
            if (o->kind == COMB_HEAP_FREE || o->kind == COMB_HEAP_REALLOC || o->kind == COMB_HEAP_FAIL ||
                o->kind == COMB_HEAP_RESIZE)
                live--;
        }
        w->narrow = most < INT16_MAX;
    }
    if (w->narrow) {
        w->peak16 = calloc((size_t)m * m, sizeof *w->peak16);
        w->prefix16 = malloc((m + 1) * sizeof *w->prefix16);
        if (!w->peak16 || !w->prefix16) {
            free(bkey);
            return -1;
        }
    }
    w->seen.k = calloc((size_t)2 << SEEN_BITS, sizeof *w->seen.k);
    if (!w->seen.k) {
        free(bkey);
        return -1;
    }
    uint64_t seed = 0x636F6D62u;     /* "comb": fixed, so runs are reproducible */
    for (unsigned i = 0; i < m; i++) {
        w->r1[i] = splitmix(&seed);
        w->r2[i] = splitmix(&seed);
    }
    const uint16_t NONE = UINT16_MAX;
    for (size_t k = 0; k < t->n; k++) {
        const comb_heap_op *o = &t->ops[k];
        switch (o->kind) {
        case COMB_HEAP_ALLOC:
            bkey[o->block] = o->size ? (uint16_t)key_of(s, m, o->size) : NONE;
            if (bkey[o->block] != NONE)
                inc(w, bkey[o->block]);
            break;
        case COMB_HEAP_FREE:
            if (bkey[o->block] != NONE)
                dec(w, bkey[o->block]);
            break;
        case COMB_HEAP_REALLOC:
            bkey[o->block] = o->size ? (uint16_t)key_of(s, m, o->size) : NONE;
            if (bkey[o->block] != NONE)
                inc(w, bkey[o->block]);
            if (bkey[o->old] != NONE)
                dec(w, bkey[o->old]);
            break;
        case COMB_HEAP_RESIZE: {
            uint16_t nk = o->size ? (uint16_t)key_of(s, m, o->size) : NONE;
            uint16_t ok = bkey[o->block];
            if (nk == ok)
                break;
            if (nk != NONE)
                inc(w, nk);
            if (ok != NONE)
                dec(w, ok);
            bkey[o->block] = nk;
            break;
        }
        case COMB_HEAP_FAIL:
            if (o->size) {
                unsigned fk = key_of(s, m, o->size);
                inc(w, fk);
                dec(w, fk);
            }
            break;
        default:
            break;
        }
    }
    if (w->rising)
        candidate(w);
    free(bkey);
    if (w->narrow)
        for (size_t i = 0; i < (size_t)m * m; i++)
            w->peak[i] = w->peak16[i];
    return 0;
}

static void sweep_free(sweep *w)
{
    free(w->live);
    free(w->r1);
    free(w->r2);
    free(w->prefix);
    free(w->peak);
    free(w->peak16);
    free(w->prefix16);
    free(w->seen.k);
}

/* ---- the DP -------------------------------------------------------------------- */

int comb_pool_layout_capacities(const comb_heap_trace *t, comb_pool *pools, unsigned npools, double margin_pct,
                                const comb_replay_policy *policy)
{
    comb_pool *unb = calloc(npools ? npools : 1, sizeof *unb);
    comb_replay_pool *st = malloc((npools ? npools : 1) * sizeof *st);
    if (!unb || !st) {
        free(unb);
        free(st);
        return -1;
    }
    for (unsigned i = 0; i < npools; i++)
        unb[i] = (comb_pool){pools[i].block, COMB_REPLAY_UNBOUNDED};
    comb_replay_result res;
    int rc = comb_heap_replay(t, unb, npools, policy, false, st, &res);
    if (rc == 0) {
        /* st is in ascending block order; pools may not be */
        for (unsigned i = 0; i < npools; i++)
            for (unsigned j = 0; j < npools; j++)
                if (st[j].block == pools[i].block) {
                    uint64_t c = comb_layout_margin(st[j].peak, margin_pct);
                    pools[i].capacity = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
                    st[j].block = 0; /* used (equal blocks: each once) */
                    break;
                }
    }
    free(unb);
    free(st);
    return rc;
}

int comb_pool_layout_optimal(const comb_heap_trace *t, const comb_layout_options *o, comb_heap_layout *out,
                             comb_layout_info *info, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    snprintf(out->name, sizeof out->name, "main");
    if (o->max_pools < 1) {
        snprintf(err, errlen, "at least one pool is needed");
        return -1;
    }
    uint32_t *s;
    unsigned m;
    if (collect_sizes(t, o->granule == 8 ? 8 : 4, &s, &m)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    info->nsizes = m;
    if (m == 0) {
        free(s);
        return 0;
    }
    if (m > COMB_LAYOUT_MAX_SIZES) {
        snprintf(err, errlen, "the trace has %u distinct request sizes; at most %u are supported", m,
                 COMB_LAYOUT_MAX_SIZES);
        free(s);
        return -1;
    }
    sweep w;
    if (interval_peaks(t, s, m, &w)) {
        sweep_free(&w);
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    info->states = w.states;
    info->distinct_states = w.distinct;

    unsigned n = o->max_pools < m ? o->max_pools : m;
    /* F[p][k]: best cost of sizes 0..k-1 in exactly p pools */
    const uint64_t INF = UINT64_MAX;
    uint64_t *F = malloc((size_t)(n + 1) * (m + 1) * sizeof *F);
    uint32_t *from = malloc((size_t)(n + 1) * (m + 1) * sizeof *from);
    if (!F || !from) {
        free(F);
        free(from);
        sweep_free(&w);
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < (size_t)(n + 1) * (m + 1); i++)
        F[i] = INF;
    F[0] = 0;
    for (unsigned p = 1; p <= n; p++)
        for (unsigned k = p; k <= m; k++) {
            uint64_t best = INF;
            uint32_t arg = 0;
            for (unsigned j = p - 1; j < k; j++) { /* last pool: sizes j..k-1 */
                uint64_t prev = F[(size_t)(p - 1) * (m + 1) + j];
                if (prev == INF)
                    continue;
                uint64_t cost =
                    (uint64_t)s[k - 1] * comb_layout_margin((uint32_t)w.peak[(size_t)j * m + (k - 1)], o->margin_pct);
                if (prev + cost < best) {
                    best = prev + cost;
                    arg = j;
                }
            }
            F[(size_t)p * (m + 1) + k] = best;
            from[(size_t)p * (m + 1) + k] = arg;
        }
    unsigned bestp = 1;
    for (unsigned p = 2; p <= n; p++)
        if (F[(size_t)p * (m + 1) + m] < F[(size_t)bestp * (m + 1) + m])
            bestp = p;
    info->model_bytes = F[(size_t)bestp * (m + 1) + m];
    out->pools = calloc(bestp, sizeof *out->pools);
    if (!out->pools) {
        free(F);
        free(from);
        sweep_free(&w);
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->npools = bestp;
    unsigned k = m;
    for (unsigned p = bestp; p >= 1; p--) {
        uint32_t j = from[(size_t)p * (m + 1) + k];
        out->pools[p - 1] = (comb_pool){s[k - 1], (uint32_t)w.peak[(size_t)j * m + (k - 1)]};
        k = j;
    }
    free(F);
    free(from);
    sweep_free(&w);
    free(s);
    if (comb_pool_layout_capacities(t, out->pools, out->npools, o->margin_pct, &o->policy)) {
        comb_layout_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint64_t bytes = comb_layout_bytes(out);
    info->bytes = bytes;
    if (bytes > UINT32_MAX) {
        comb_layout_free(out);
        snprintf(err, errlen, "the layout needs %llu bytes, more than 32 bits can address", (unsigned long long)bytes);
        return -1;
    }
    out->size = (uint32_t)bytes;
    return 0;
}

void comb_layout_share_spare(comb_heap_layout *l, uint32_t size)
{
    uint64_t used = comb_layout_bytes(l);
    if (used >= size || l->npools == 0)
        return;
    uint64_t spare = size - used;
    /* every pool grows by the same fraction spare / used of its capacity */
    if (used > 0)
        for (unsigned i = 0; i < l->npools; i++) {
            comb_pool *p = &l->pools[i];
            uint64_t add = (uint64_t)p->capacity * spare / used; /* floor(cap x spare / used) */
            p->capacity += (uint32_t)add;
        }
    used = comb_layout_bytes(l);
    /* what is left: from the largest block down */
    comb_layout_sort(l);
    for (unsigned i = l->npools; i-- > 0;) {
        comb_pool *p = &l->pools[i];
        uint64_t add = (size - used) / p->block;
        p->capacity += (uint32_t)add;
        used += add * p->block;
    }
    l->size = (uint32_t)used;
}

uint64_t comb_layout_drone_frag(const comb_drone_stats *st, const comb_heap_layout *l)
{
    comb_heap_layout c;
    if (comb_layout_copy(&c, l))
        return 0;
    comb_layout_sort(&c);
    uint64_t frag = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].size == 0)
            continue;
        uint32_t a = align4(st->v[i].size);
        for (unsigned p = 0; p < c.npools; p++)
            if (c.pools[p].block >= a && c.pools[p].capacity) {
                frag += (uint64_t)(c.pools[p].block - a) * st->v[i].max;
                break;
            }
    }
    comb_layout_free(&c);
    return frag;
}
