/* Exact percentiles of tick durations (include/comb/sched_stats.h). */
#include "comb/sched_stats.h"

#include <stdlib.h>
#include <string.h>

static int widen(comb_sched_samples *s)
{
    uint64_t *w = malloc((s->cap ? s->cap : 1) * sizeof *w);
    if (!w)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        w[i] = s->v32[i];
    free(s->v32);
    s->v32 = NULL;
    s->v64 = w;
    return 0;
}

int comb_sched_samples_add(comb_sched_samples *s, uint64_t ticks)
{
    if (ticks > UINT32_MAX && !s->v64 && widen(s))
        return -1;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        if (s->v64) {
            uint64_t *v = realloc(s->v64, cap * sizeof *v);
            if (!v)
                return -1;
            s->v64 = v;
        } else {
            uint32_t *v = realloc(s->v32, cap * sizeof *v);
            if (!v)
                return -1;
            s->v32 = v;
        }
        s->cap = cap;
    }
    if (s->v64)
        s->v64[s->n++] = ticks;
    else
        s->v32[s->n++] = (uint32_t)ticks;
    return 0;
}

/* LSD radix sort, 8 bits per pass; passes over bytes that are equal in every
 * sample are skipped (short durations sort in 1-3 passes). One definition for
 * the 32- and 64-bit sample arrays. */
#define COMB_DEFINE_RADIX(name, type)                                                                              \
    static int name(type *v, size_t n)                                                                             \
    {                                                                                                              \
        type *tmp = malloc(n * sizeof *tmp);                                                                       \
        if (!tmp)                                                                                                  \
            return -1;                                                                                             \
        type *src = v, *dst = tmp;                                                                                 \
        for (unsigned shift = 0; shift < 8 * sizeof(type); shift += 8) {                                          \
            size_t count[256] = {0};                                                                               \
            for (size_t i = 0; i < n; i++)                                                                         \
                count[(src[i] >> shift) & 0xFF]++;                                                                 \
            if (count[(src[0] >> shift) & 0xFF] == n)                                                              \
                continue;                                                                                          \
            size_t pos = 0;                                                                                        \
            for (unsigned b = 0; b < 256; b++) {                                                                   \
                size_t c = count[b];                                                                               \
                count[b] = pos;                                                                                    \
                pos += c;                                                                                          \
            }                                                                                                      \
            for (size_t i = 0; i < n; i++)                                                                         \
                dst[count[(src[i] >> shift) & 0xFF]++] = src[i];                                                   \
            type *t = src;                                                                                         \
            src = dst;                                                                                             \
            dst = t;                                                                                               \
        }                                                                                                          \
        if (src != v)                                                                                              \
            memcpy(v, src, n * sizeof *v);                                                                         \
        free(tmp);                                                                                                 \
        return 0;                                                                                                  \
    }

COMB_DEFINE_RADIX(radix32, uint32_t)
COMB_DEFINE_RADIX(radix64, uint64_t)

static uint64_t at(const comb_sched_samples *s, size_t i)
{
    return s->v64 ? s->v64[i] : s->v32[i];
}

uint64_t comb_sched_rank(const comb_sched_samples *sorted, unsigned pct)
{
    if (sorted->n == 0)
        return 0;
    /* rank = ceil(pct * n / 100), at least 1 */
    size_t rank = (size_t)(((uint64_t)pct * sorted->n + 99) / 100);
    if (rank < 1)
        rank = 1;
    if (rank > sorted->n)
        rank = sorted->n;
    return at(sorted, rank - 1);
}

int comb_sched_samples_stats(comb_sched_samples *s, comb_sched_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s->n == 0)
        return 0;
    if (s->n > 1 && (s->v64 ? radix64(s->v64, s->n) : radix32(s->v32, s->n)))
        return -1;
    out->count = s->n;
    out->min = at(s, 0);
    out->p50 = comb_sched_rank(s, 50);
    out->p90 = comb_sched_rank(s, 90);
    out->p99 = comb_sched_rank(s, 99);
    out->max = at(s, s->n - 1);
    return 0;
}

size_t comb_sched_samples_bytes(const comb_sched_samples *s)
{
    return s->cap * (s->v64 ? sizeof *s->v64 : sizeof *s->v32);
}

void comb_sched_samples_free(comb_sched_samples *s)
{
    free(s->v32);
    free(s->v64);
    memset(s, 0, sizeof *s);
}
