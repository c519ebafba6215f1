/* Drone's statistics and layout generator (include/comb/drone_layout.h). */
#include "comb/drone_layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "comb/size_string.h"

/* ---- statistics ----------------------------------------------------------------- */

typedef struct statmap {
    comb_drone_stat *v;
    size_t n, cap;
} statmap;

static comb_drone_stat *stat_at(statmap *m, uint32_t size)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->v[mid].size < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->n && m->v[lo].size == size)
        return &m->v[lo];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        comb_drone_stat *v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return NULL;
        m->v = v;
        m->cap = cap;
    }
    memmove(&m->v[lo + 1], &m->v[lo], (m->n - lo) * sizeof *m->v);
    m->v[lo] = (comb_drone_stat){.size = size};
    m->n++;
    return &m->v[lo];
}

static int st_alloc(statmap *m, uint32_t size)
{
    comb_drone_stat *e = stat_at(m, size);
    if (!e)
        return -1;
    e->cur++;
    e->total++;
    if (e->cur > e->max)
        e->max = e->cur;
    return 0;
}

static int st_dealloc(statmap *m, uint32_t size)
{
    comb_drone_stat *e = stat_at(m, size);
    if (!e)
        return -1;
    if (e->cur)
        e->cur--;
    return 0;
}

int comb_drone_stats_of(const comb_heap_trace *t, comb_drone_stats *out)
{
    memset(out, 0, sizeof *out);
    statmap m = {0};
    int rc = 0;
    for (size_t k = 0; k < t->n && rc == 0; k++) {
        const comb_heap_op *o = &t->ops[k];
        switch (o->kind) {
        case COMB_HEAP_ALLOC:
            rc = st_alloc(&m, o->size);
            break;
        case COMB_HEAP_FREE:
            rc = st_dealloc(&m, o->size);
            break;
        case COMB_HEAP_REALLOC: /* Drone: dealloc(old), then alloc(new) */
            rc = st_dealloc(&m, t->block_size[o->old]);
            if (rc == 0)
                rc = st_alloc(&m, o->size);
            break;
        case COMB_HEAP_RESIZE:
            rc = st_dealloc(&m, o->old);
            if (rc == 0)
                rc = st_alloc(&m, o->size);
            break;
        default:
            break;
        }
    }
    if (rc) {
        free(m.v);
        return -1;
    }
    out->v = m.v;
    out->n = m.n;
    for (size_t i = 0; i < m.n; i++)
        out->load += (uint64_t)m.v[i].size * m.v[i].max;
    return 0;
}

void comb_drone_stats_free(comb_drone_stats *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- the generator ----------------------------------------------------------- */

#define WORD 4u

/* Rust's `f64 as u32`: saturating, NaN -> 0. */
static uint32_t sat_u32(double x)
{
    if (isnan(x) || x <= 0.0)
        return 0;
    if (x >= 4294967295.0)
        return UINT32_MAX;
    return (uint32_t)x;
}

static uint32_t align_word(uint32_t v)
{
    if (v % WORD > 0)
        v += WORD - v % WORD;
    return v;
}

double comb_drone_ratio(uint32_t n, uint32_t i)
{
    const double slope = 4.0;
    double sum = 0;
    double mine = 0;
    for (uint32_t k = 0; k < n; k++) {
        double x = 1.0 - 2.0 * ((double)k / (double)(uint32_t)(n - 1));
        double r = 1.0 / slope + (1.0 - 1.0 / slope) * (1.0 - x * x);
        sum += r;
        if (k == i)
            mine = r;
    }
    return mine / sum;
}

static uint32_t add_capacity(uint32_t block, uint32_t free_bytes, double ratio, double total)
{
    uint32_t capacity = sat_u32(round(total / (double)block * ratio));
    if (block * capacity > free_bytes)
        capacity -= sat_u32(ceil((double)(uint32_t)(block * capacity - free_bytes) / (double)block));
    return capacity;
}

static void add_up_to_size(comb_pool *p, unsigned n, uint32_t *used, uint32_t size)
{
    for (unsigned k = n; k-- > 0;) {
        uint32_t add = (uint32_t)(size - *used) / p[k].block;
        *used += add * p[k].block;
        p[k].capacity += add;
    }
}

typedef struct in_size {
    uint32_t size, count;
} in_size;

/* Nodes the search may still visit (Drone's search is exponential). */
typedef struct budget {
    uint64_t left;
    bool out;
} budget;

static void shrink(const in_size *in, size_t len, comb_pool *out, size_t outlen, uint32_t *frag, uint32_t cutoff,
                   budget *b)
{
    if (b->out || b->left-- == 0) {
        b->out = true;
        return;
    }
    if (outlen == 1) {
        uint32_t max_block = in[len - 1].size, total = in[len - 1].count;
        for (size_t t = 0; t + 1 < len; t++) {
            *frag += (max_block - in[t].size) * in[t].count;
            total += in[t].count;
        }
        out[0] = (comb_pool){max_block, total};
        return;
    }
    size_t opt_i = 0;
    uint32_t opt_frag = cutoff;
    /* Drone's loop stops one short of the last admissible end (quirk a) */
    for (size_t i = 0; i < len - outlen; i++) {
        uint32_t cur = *frag, max_block = in[i].size;
        for (size_t t = 0; t < i; t++)
            cur += (max_block - in[t].size) * in[t].count;
        if (cur < opt_frag) {
            shrink(in + i + 1, len - i - 1, out + 1, outlen - 1, &cur, opt_frag, b);
            if (cur <= opt_frag) {
                opt_i = i;
                opt_frag = cur;
            }
        }
    }
    /* commit the best first group, re-run the tail with the optimum as bound (quirk b) */
    uint32_t max_block = in[opt_i].size, total = in[opt_i].count;
    for (size_t t = 0; t < opt_i; t++) {
        *frag += (max_block - in[t].size) * in[t].count;
        total += in[t].count;
    }
    out[0] = (comb_pool){max_block, total};
    shrink(in + opt_i + 1, len - opt_i - 1, out + 1, outlen - 1, frag, opt_frag, b);
}

/* Aligned, merged sizes (zero sizes left out); returns the count, -1 on memory. */
static long prepare(const comb_drone_stats *st, in_size **out, uint32_t *used)
{
    in_size *in = malloc((st->n ? st->n : 1) * sizeof *in);
    if (!in)
        return -1;
    size_t n = 0;
    uint32_t prev = 0;
    *used = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (st->v[i].size == 0)
            continue;
        uint32_t size = align_word(st->v[i].size);
        if (n && size == prev) {
            in[n - 1].count += st->v[i].max;
        } else {
            in[n++] = (in_size){size, st->v[i].max};
            prev = size;
        }
        *used += size * st->v[i].max;
    }
    *out = in;
    return (long)n;
}

static int run_shrink(const comb_drone_stats *st, uint32_t pools, const uint32_t *size_or_null, uint32_t cutoff,
                      uint64_t max_steps, comb_heap_layout *out, uint32_t *frag)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "main");
    *frag = 0;
    if (pools == 0)
        return -1;
    in_size *in;
    uint32_t used;
    long m = prepare(st, &in, &used);
    if (m < 0)
        return -1;
    if (m == 0) {
        free(in);
        return 0;
    }
    if ((uint32_t)m < pools)
        pools = (uint32_t)m;
    out->pools = calloc(pools, sizeof *out->pools);
    if (!out->pools) {
        free(in);
        return -1;
    }
    out->npools = pools;
    if (size_or_null)
        cutoff = *size_or_null - used; /* u32, wraps when used > size, as in Drone */
    budget b = {.left = max_steps};
    shrink(in, (size_t)m, out->pools, pools, frag, cutoff, &b);
    free(in);
    if (b.out) {
        comb_layout_free(out);
        return 1;
    }
    return 0;
}

int comb_drone_layout_shrink(const comb_drone_stats *st, uint32_t pools, uint32_t cutoff, uint64_t max_steps,
                             comb_heap_layout *out, uint32_t *frag)
{
    int rc = run_shrink(st, pools, NULL, cutoff, max_steps ? max_steps : UINT64_MAX, out, frag);
    if (rc)
        return rc;
    out->size = (uint32_t)comb_layout_bytes(out);
    return 0;
}

int comb_drone_rule_optimal(const comb_drone_stats *st, uint32_t pools, comb_heap_layout *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "main");
    if (pools == 0)
        return -1;
    in_size *in;
    uint32_t used;
    long lm = prepare(st, &in, &used);
    if (lm < 0)
        return -1;
    size_t m = (size_t)lm;
    if (m == 0) {
        free(in);
        return 0;
    }
    size_t n = pools < m ? pools : m;
    uint64_t *pre = calloc(m + 1, sizeof *pre);       /* prefix sums of the per-size peaks */
    uint64_t *F = malloc((n + 1) * (m + 1) * sizeof *F);
    size_t *from = malloc((n + 1) * (m + 1) * sizeof *from);
    if (!pre || !F || !from) {
        free(pre);
        free(F);
        free(from);
        free(in);
        return -1;
    }
    for (size_t i = 0; i < m; i++)
        pre[i + 1] = pre[i] + in[i].count;
    for (size_t i = 0; i < (n + 1) * (m + 1); i++)
        F[i] = UINT64_MAX;
    F[0] = 0;
    for (size_t p = 1; p <= n; p++)
        for (size_t k = p; k <= m; k++)
            for (size_t j = p - 1; j < k; j++) {
                uint64_t prev = F[(p - 1) * (m + 1) + j];
                if (prev == UINT64_MAX)
                    continue;
                uint64_t c = prev + (uint64_t)in[k - 1].size * (pre[k] - pre[j]);
                if (c < F[p * (m + 1) + k]) {
                    F[p * (m + 1) + k] = c;
                    from[p * (m + 1) + k] = j;
                }
            }
    size_t bestp = 1;
    for (size_t p = 2; p <= n; p++)
        if (F[p * (m + 1) + m] < F[bestp * (m + 1) + m])
            bestp = p;
    out->pools = calloc(bestp, sizeof *out->pools);
    if (out->pools) {
        out->npools = (unsigned)bestp;
        size_t k = m;
        for (size_t p = bestp; p >= 1; p--) {
            size_t j = from[p * (m + 1) + k];
            out->pools[p - 1] = (comb_pool){in[k - 1].size, (uint32_t)(pre[k] - pre[j])};
            k = j;
        }
        out->size = (uint32_t)comb_layout_bytes(out);
    }
    free(pre);
    free(F);
    free(from);
    free(in);
    return out->pools ? 0 : -1;
}

int comb_drone_layout_optimize(const comb_drone_stats *st, uint32_t size, uint32_t pools, comb_heap_layout *out,
                               uint32_t *frag)
{
    if (run_shrink(st, pools, &size, 0, UINT64_MAX, out, frag))
        return -1;
    /* extend(): share out the free memory with the bell-shaped ratios */
    comb_pool *p = out->pools;
    unsigned n = out->npools;
    uint32_t used = 0;
    for (unsigned k = 0; k < n; k++)
        used += p[k].block * p[k].capacity;
    double free_bytes = (double)(uint32_t)(size - used);
    for (unsigned k = 0; k < n; k++) {
        uint32_t add = add_capacity(p[k].block, size - used, comb_drone_ratio(n, k), free_bytes);
        used += add * p[k].block;
        p[k].capacity += add;
    }
    add_up_to_size(p, n, &used, size);
    out->size = used;
    return 0;
}

int comb_drone_layout_empty(uint32_t size, uint32_t pools, comb_heap_layout *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "main");
    if (pools == 0)
        return 0;
    out->pools = calloc(pools, sizeof *out->pools);
    if (!out->pools)
        return -1;
    out->npools = pools;
    uint32_t pool_min = WORD, pool_max = size / 20, used = 0, prev = 0;
    for (uint32_t i = 0; i < pools; i++) {
        double x = pow((double)i / (double)(uint32_t)(pools - 1), 2.75) * (double)(uint32_t)(pool_max - pool_min);
        uint32_t block = align_word(pool_min + sat_u32(round(x)));
        if (block <= prev)
            block = prev + WORD;
        uint32_t cap = add_capacity(block, size - used, comb_drone_ratio(pools, i), (double)size);
        used += block * cap;
        prev = block;
        out->pools[i] = (comb_pool){block, cap};
    }
    add_up_to_size(out->pools, pools, &used, size);
    out->size = used;
    return 0;
}

/* ---- the statistics table ------------------------------------------------------- */

static unsigned digits_u64(uint64_t v)
{
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

void comb_drone_stats_render(const comb_drone_stats *st, uint32_t size, comb_strbuf *out)
{
    static const char *const titles[3] = {"Block Size", "Max Load", "Total Allocations"};
    unsigned w[3];
    for (int c = 0; c < 3; c++)
        w[c] = (unsigned)strlen(titles[c]);
    char buf[COMB_SIZE_STRING_MAX];
    for (size_t i = 0; i < st->n; i++) {
        unsigned a = (unsigned)strlen(comb_size_format(st->v[i].size, buf));
        unsigned b = digits_u64(st->v[i].max), c = digits_u64(st->v[i].total);
        if (a > w[0])
            w[0] = a;
        if (b > w[1])
            w[1] = b;
        if (c > w[2])
            w[2] = c;
    }
    comb_sb_printf(out, " %*s | %*s | %*s \n", (int)w[0], titles[0], (int)w[1], titles[1], (int)w[2], titles[2]);
    for (int c = 0; c < 3; c++) {
        if (c)
            comb_sb_puts(out, "+");
        for (unsigned k = 0; k < w[c] + 2; k++)
            comb_sb_puts(out, "-");
    }
    comb_sb_puts(out, "\n");
    for (size_t i = 0; i < st->n; i++)
        comb_sb_printf(out, " %*s | %*u | %*u \n", (int)w[0], comb_size_format(st->v[i].size, buf), (int)w[1],
                       (unsigned)st->v[i].max, (int)w[2], (unsigned)st->v[i].total);
    comb_sb_puts(out, "\n");
    /* Drone sums in u32 */
    uint32_t load = 0;
    for (size_t i = 0; i < st->n; i++)
        load += st->v[i].size * st->v[i].max;
    if (size)
        comb_sb_printf(out, "Maximum heap load: %u / %.2f%%\n", (unsigned)load, (double)load / (double)size * 100.0);
    else
        comb_sb_printf(out, "Maximum heap load: %u\n", (unsigned)load);
}
