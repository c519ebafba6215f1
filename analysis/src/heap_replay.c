/* Replay of a heap trace through the pool policy (include/comb/heap_replay.h). */
#include "comb/heap_replay.h"

#include <stdlib.h>
#include <string.h>

#define NOT_PLACED UINT16_MAX

typedef struct replay {
    comb_replay_pool *p;
    unsigned np;
    uint32_t *used;
    uint16_t *where; /* pool of each block */
    comb_replay_result *res;
    size_t op;
} replay;

/* First pool whose block is >= size (np if none). */
static unsigned first_fit(const replay *r, uint32_t size)
{
    unsigned lo = 0, hi = r->np;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (r->p[mid].block < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Pool that serves a request of size, without taking it; np if none. */
static unsigned find(const replay *r, uint32_t size)
{
    for (unsigned i = first_fit(r, size); i < r->np; i++)
        if (r->used[i] < r->p[i].capacity)
            return i;
    return r->np;
}

static void fail(replay *r, uint32_t size, unsigned fit)
{
    comb_replay_result *res = r->res;
    res->failures++;
    if (fit == r->np)
        res->too_large++;
    if (!res->failed) {
        res->failed = true;
        res->first_fail_op = r->op;
        res->first_fail_size = size;
    }
}

static void take(replay *r, unsigned i, uint32_t size)
{
    r->used[i]++;
    r->p[i].served++;
    if (i > 0 && r->p[i - 1].block >= size)
        r->p[i].borrowed++;
    if (r->used[i] > r->p[i].peak) {
        r->p[i].peak = r->used[i];
        r->p[i].peak_op = r->op;
    }
}

/* Places a new block; returns its pool or NOT_PLACED. */
static uint16_t place(replay *r, uint32_t size)
{
    if (size == 0)
        return NOT_PLACED;
    r->res->requests++;
    unsigned i = find(r, size);
    if (i == r->np) {
        fail(r, size, first_fit(r, size));
        return NOT_PLACED;
    }
    take(r, i, size);
    return (uint16_t)i;
}

static void release(replay *r, uint32_t block)
{
    uint16_t w = r->where[block];
    if (w != NOT_PLACED) {
        r->used[w]--;
        r->where[block] = NOT_PLACED;
    }
}

int comb_heap_replay(const comb_heap_trace *t, const comb_pool *pools, unsigned npools, const comb_replay_policy *policy,
                     bool stop_at_first, comb_replay_pool *out, comb_replay_result *res)
{
    memset(res, 0, sizeof *res);
    if (npools >= NOT_PLACED)
        return -1;
    for (unsigned i = 0; i < npools; i++)
        out[i] = (comb_replay_pool){.block = pools[i].block, .capacity = pools[i].capacity};
    for (unsigned i = 1; i < npools; i++) { /* stable insertion sort by block */
        comb_replay_pool x = out[i];
        unsigned j = i;
        while (j > 0 && out[j - 1].block > x.block) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = x;
    }
    replay r = {.p = out, .np = npools, .res = res};
    r.used = calloc(npools ? npools : 1, sizeof *r.used);
    r.where = malloc((t->nblocks ? t->nblocks : 1) * sizeof *r.where);
    if (!r.used || !r.where) {
        free(r.used);
        free(r.where);
        return -1;
    }
    memset(r.where, 0xFF, (t->nblocks ? t->nblocks : 1) * sizeof *r.where);
    bool in_place = policy && policy->realloc_in_place;
    for (size_t k = 0; k < t->n; k++) {
        const comb_heap_op *o = &t->ops[k];
        r.op = k;
        switch (o->kind) {
        case COMB_HEAP_ALLOC:
            r.where[o->block] = place(&r, o->size);
            break;
        case COMB_HEAP_FREE:
            release(&r, o->block);
            break;
        case COMB_HEAP_REALLOC: {
            uint16_t w = r.where[o->old];
            if (in_place && w != NOT_PLACED && o->size > 0 && r.p[w].block >= o->size) {
                r.where[o->block] = w; /* fits: stays */
                r.where[o->old] = NOT_PLACED;
                break;
            }
            r.where[o->block] = place(&r, o->size);
            release(&r, o->old);
            break;
        }
        case COMB_HEAP_RESIZE: {
            uint16_t w = r.where[o->block];
            if (w != NOT_PLACED && (o->size == 0 || r.p[w].block >= o->size) && (in_place || o->size == 0))
                break;
            if (w != NOT_PLACED && o->size == 0) {
                release(&r, o->block);
                break;
            }
            uint16_t n = place(&r, o->size);
            if (n == NOT_PLACED && o->size > 0 && w != NOT_PLACED)
                break; /* failed: the block stays where it was */
            release(&r, o->block);
            r.where[o->block] = n;
            break;
        }
        case COMB_HEAP_FAIL:
            if (o->size > 0) {
                res->requests++;
                unsigned i = find(&r, o->size);
                if (i == r.np) {
                    fail(&r, o->size, first_fit(&r, o->size));
                } else { /* served for an instant: the layout must have room for it */
                    res->fails_now_ok++;
                    take(&r, i, o->size);
                    r.used[i]--;
                }
            }
            break;
        default:
            break;
        }
        if (stop_at_first && res->failed)
            break;
    }
    free(r.used);
    free(r.where);
    return 0;
}
