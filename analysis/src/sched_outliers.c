/* Timestamp outliers in stream order (include/comb/sched_outliers.h). */
#include "comb/sched_outliers.h"

#include <stdbool.h>
#include <stdlib.h>

#define W COMB_SCHED_OUTLIER_WINDOW
#define AHEAD 2u

/* Sliding-window extreme over the last W kept events: a deque of (index,
 * ts) whose ts are monotonic from the front, the front being the extreme. */
typedef struct deque {
    uint64_t idx[W], ts[W];
    unsigned head, len;
} deque;

static void dq_push(deque *d, uint64_t idx, uint64_t ts, bool is_min)
{
    /* Pops each entry at most once over the whole stream: amortised O(1). */
    while (d->len) {
        unsigned back = (d->head + d->len - 1) % W;
        if (is_min ? d->ts[back] < ts : d->ts[back] > ts)
            break;
        d->len--;
    }
    if (d->len && d->idx[d->head] + W <= idx) { /* slid out of the window */
        d->head = (d->head + 1) % W;
        d->len--;
    }
    unsigned at = (d->head + d->len) % W;
    d->idx[at] = idx;
    d->ts[at] = ts;
    d->len++;
}

struct comb_sched_outliers {
    uint64_t floor;
    deque lo, hi;            /* min and max of the kept window */
    uint64_t kept;           /* events kept so far (window index) */
    uint64_t pend_ts[AHEAD + 1], pend_off[AHEAD + 1]; /* undecided, oldest first */
    unsigned npend;
    uint64_t *out;           /* outliers' offsets */
    size_t n, cap;
};

comb_sched_outliers *comb_sched_outliers_new(uint64_t floor_ticks)
{
    comb_sched_outliers *o = calloc(1, sizeof *o);
    if (o)
        o->floor = floor_ticks;
    return o;
}

void comb_sched_outliers_free(comb_sched_outliers *o)
{
    if (o)
        free(o->out);
    free(o);
}

static bool out_of_line(const comb_sched_outliers *o, uint64_t ts, const uint64_t *after, unsigned nafter)
{
    if (!o->kept || !nafter)
        return false;
    uint64_t lo = o->lo.ts[o->lo.head], hi = o->hi.ts[o->hi.head];
    for (unsigned i = 0; i < nafter; i++) {
        lo = after[i] < lo ? after[i] : lo;
        hi = after[i] > hi ? after[i] : hi;
    }
    uint64_t limit = hi - lo > o->floor ? hi - lo : o->floor;
    return (ts > hi && ts - hi > limit) || (ts < lo && lo - ts > limit);
}

/* Decides the oldest pending event with the ones after it. */
static int decide(comb_sched_outliers *o)
{
    uint64_t ts = o->pend_ts[0], off = o->pend_off[0];
    if (out_of_line(o, ts, o->pend_ts + 1, o->npend - 1)) {
        if (o->n == o->cap) {
            size_t cap = o->cap ? o->cap * 2 : 16;
            uint64_t *v = realloc(o->out, cap * sizeof *v);
            if (!v)
                return -1;
            o->out = v;
            o->cap = cap;
        }
        o->out[o->n++] = off;
    } else {
        dq_push(&o->lo, o->kept, ts, true);
        dq_push(&o->hi, o->kept, ts, false);
        o->kept++;
    }
    for (unsigned i = 1; i < o->npend; i++) {
        o->pend_ts[i - 1] = o->pend_ts[i];
        o->pend_off[i - 1] = o->pend_off[i];
    }
    o->npend--;
    return 0;
}

int comb_sched_outliers_feed(comb_sched_outliers *o, uint64_t ts, uint64_t offset)
{
    o->pend_ts[o->npend] = ts;
    o->pend_off[o->npend] = offset;
    if (++o->npend == AHEAD + 1)
        return decide(o);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int comb_sched_outliers_finish(comb_sched_outliers *o, uint64_t **offsets, size_t *n)
{
    *offsets = NULL;
    *n = 0;
    while (o->npend) /* at most AHEAD + 1 */
        if (decide(o)) {
            comb_sched_outliers_free(o);
            return -1;
        }
    if (o->n) /* stream order is offset order; sorted anyway for bsearch */
        qsort(o->out, o->n, sizeof *o->out, cmp_u64);
    *offsets = o->out;
    *n = o->n;
    o->out = NULL;
    comb_sched_outliers_free(o);
    return 0;
}
