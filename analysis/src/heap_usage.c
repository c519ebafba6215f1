/* Streaming heap usage (include/comb/heap_usage.h). The placement rules are
 * heap_replay.c's, step for step; tests/unit/host/test_dashboard_heap.c checks
 * that both give the same peaks on the same traces. */
#include "comb/heap_usage.h"

#include <stdlib.h>
#include <string.h>

#define NOT_PLACED UINT16_MAX

int comb_heap_usage_init(comb_heap_usage *u, const comb_pool *pools, unsigned npools, const comb_replay_policy *policy)
{
    memset(u, 0, sizeof *u);
    if (npools >= NOT_PLACED)
        return -1;
    u->pools = calloc(npools ? npools : 1, sizeof *u->pools);
    if (!u->pools)
        return -1;
    u->npools = npools;
    for (unsigned i = 0; i < npools; i++)
        u->pools[i] = (comb_usage_pool){.block = pools[i].block, .capacity = pools[i].capacity};
    for (unsigned i = 1; i < npools; i++) { /* stable insertion sort by block, as the replay does */
        comb_usage_pool x = u->pools[i];
        unsigned j = i;
        while (j > 0 && u->pools[j - 1].block > x.block) {
            u->pools[j] = u->pools[j - 1];
            j--;
        }
        u->pools[j] = x;
    }
    u->realloc_in_place = policy && policy->realloc_in_place;
    return 0;
}

void comb_heap_usage_free(comb_heap_usage *u)
{
    free(u->pools);
    free(u->where);
    free(u->sizes.v);
    memset(u, 0, sizeof *u);
}

unsigned comb_usage_size_classes(uint32_t max_size, comb_pool *out)
{
    unsigned n = 0;
    uint64_t b = 8;
    do {
        out[n++] = (comb_pool){.block = b > UINT32_MAX ? UINT32_MAX : (uint32_t)b, .capacity = COMB_REPLAY_UNBOUNDED};
        b *= 2;
    } while (b / 2 < max_size && n < 33);
    return n;
}

/* ---- Drone's per-size statistics ------------------------------------------------ */

static comb_drone_stat *size_at(comb_heap_usage *u, uint32_t size)
{
    comb_drone_stats *s = &u->sizes;
    size_t lo = 0, hi = s->n;
    while (lo < hi) { /* few distinct sizes: binary search over a sorted array */
        size_t mid = (lo + hi) / 2;
        if (s->v[mid].size < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->v[lo].size == size)
        return &s->v[lo];
    if (s->n == u->size_cap) {
        size_t cap = u->size_cap ? u->size_cap * 2 : 64;
        comb_drone_stat *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return NULL;
        s->v = v;
        u->size_cap = cap;
    }
    memmove(&s->v[lo + 1], &s->v[lo], (s->n - lo) * sizeof *s->v);
    s->v[lo] = (comb_drone_stat){.size = size};
    s->n++;
    return &s->v[lo];
}

static int size_alloc(comb_heap_usage *u, uint32_t size)
{
    comb_drone_stat *e = size_at(u, size);
    if (!e)
        return -1;
    e->cur++;
    e->total++;
    if (e->cur > e->max) {
        u->sizes.load += size; /* Σ size × max grows by one block of this size */
        e->max = e->cur;
    }
    return 0;
}

static int size_dealloc(comb_heap_usage *u, uint32_t size)
{
    comb_drone_stat *e = size_at(u, size);
    if (!e)
        return -1;
    if (e->cur)
        e->cur--;
    return 0;
}

/* ---- placement (heap_replay.c's rules) ------------------------------------------- */

static unsigned first_fit(const comb_heap_usage *u, uint32_t size)
{
    unsigned lo = 0, hi = u->npools;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (u->pools[mid].block < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unsigned find(const comb_heap_usage *u, uint32_t size)
{
    for (unsigned i = first_fit(u, size); i < u->npools; i++)
        if (u->pools[i].in_use < u->pools[i].capacity)
            return i;
    return u->npools;
}

static void fail(comb_heap_usage *u, uint32_t size, unsigned fit)
{
    u->failures++;
    if (fit == u->npools)
        u->too_large++;
    if (!u->failed) {
        u->failed = true;
        u->first_fail_op = u->ops;
        u->first_fail_size = size;
    }
}

static void take(comb_heap_usage *u, unsigned i, uint32_t size)
{
    comb_usage_pool *p = &u->pools[i];
    p->in_use++;
    p->served++;
    u->pool_bytes += p->block;
    if (i > 0 && u->pools[i - 1].block >= size)
        p->borrowed++;
    if (p->in_use > p->peak)
        p->peak = p->in_use;
}

static void give_back(comb_heap_usage *u, unsigned i)
{
    u->pools[i].in_use--;
    u->pool_bytes -= u->pools[i].block;
}

static uint16_t place(comb_heap_usage *u, uint32_t size)
{
    if (size == 0)
        return NOT_PLACED;
    u->requests++;
    unsigned i = find(u, size);
    if (i == u->npools) {
        fail(u, size, first_fit(u, size));
        return NOT_PLACED;
    }
    take(u, i, size);
    return (uint16_t)i;
}

static void release(comb_heap_usage *u, uint32_t block)
{
    uint16_t w = u->where[block];
    if (w != NOT_PLACED) {
        give_back(u, w);
        u->where[block] = NOT_PLACED;
    }
}

/* Makes where[] cover block ids up to `block`. */
static int cover(comb_heap_usage *u, uint32_t block)
{
    if (block < u->nwhere)
        return 0;
    size_t n = u->nwhere ? u->nwhere : 1024;
    while (n <= block)
        n *= 2;
    uint16_t *w = realloc(u->where, n * sizeof *w);
    if (!w)
        return -1;
    memset(w + u->nwhere, 0xFF, (n - u->nwhere) * sizeof *w);
    u->where = w;
    u->nwhere = n;
    return 0;
}

static void sub_sat(uint64_t *v, uint64_t d)
{
    *v = *v > d ? *v - d : 0;
}

static void peak_requested(comb_heap_usage *u)
{
    if (u->requested > u->peak_requested) {
        u->peak_requested = u->requested;
        u->peak_requested_blocks = u->live_blocks;
        u->peak_requested_op = u->ops;
    }
}

int comb_heap_usage_step(comb_heap_usage *u, const comb_heap_op *o, const uint32_t *block_size)
{
    if (o->kind != COMB_HEAP_FAIL && cover(u, o->kind == COMB_HEAP_REALLOC && o->old > o->block ? o->old : o->block))
        return -1;
    int rc = 0;
    switch (o->kind) {
    case COMB_HEAP_ALLOC:
        u->allocs++;
        u->requested += o->size;
        u->live_blocks++;
        rc = size_alloc(u, o->size);
        u->where[o->block] = place(u, o->size);
        break;
    case COMB_HEAP_FREE:
        u->frees++;
        sub_sat(&u->requested, o->size);
        sub_sat(&u->live_blocks, 1);
        rc = size_dealloc(u, o->size);
        release(u, o->block);
        break;
    case COMB_HEAP_REALLOC: {
        u->reallocs++;
        uint32_t old_size = block_size[o->old];
        /* the new block is taken before the old one goes back: both count for a moment */
        u->requested += o->size;
        u->live_blocks++;
        peak_requested(u);
        sub_sat(&u->requested, old_size);
        sub_sat(&u->live_blocks, 1);
        rc = size_dealloc(u, old_size);
        if (rc == 0)
            rc = size_alloc(u, o->size);
        uint16_t w = u->where[o->old];
        if (u->realloc_in_place && w != NOT_PLACED && o->size > 0 && u->pools[w].block >= o->size) {
            u->where[o->block] = w; /* fits: stays */
            u->where[o->old] = NOT_PLACED;
            break;
        }
        u->where[o->block] = place(u, o->size);
        release(u, o->old);
        break;
    }
    case COMB_HEAP_RESIZE: {
        u->resizes++;
        u->requested += o->size;
        sub_sat(&u->requested, o->old);
        rc = size_dealloc(u, o->old);
        if (rc == 0)
            rc = size_alloc(u, o->size);
        uint16_t w = u->where[o->block];
        if (w != NOT_PLACED && (o->size == 0 || u->pools[w].block >= o->size) && (u->realloc_in_place || o->size == 0))
            break;
        uint16_t n = place(u, o->size);
        if (n == NOT_PLACED && o->size > 0 && w != NOT_PLACED)
            break; /* failed: the block stays where it was */
        release(u, o->block);
        u->where[o->block] = n;
        break;
    }
    case COMB_HEAP_FAIL:
        u->fails++;
        if (o->size > 0) {
            u->requests++;
            unsigned i = find(u, o->size);
            if (i == u->npools) {
                fail(u, o->size, first_fit(u, o->size));
            } else { /* served for an instant: the pools must have room for it */
                u->fails_now_ok++;
                take(u, i, o->size);
                if (u->pool_bytes > u->peak_pool_bytes) {
                    u->peak_pool_bytes = u->pool_bytes;
                    u->peak_pool_bytes_op = u->ops;
                }
                give_back(u, i);
            }
        }
        break;
    default:
        break;
    }
    peak_requested(u);
    if (u->pool_bytes > u->peak_pool_bytes) {
        u->peak_pool_bytes = u->pool_bytes;
        u->peak_pool_bytes_op = u->ops;
    }
    u->ops++;
    return rc;
}
