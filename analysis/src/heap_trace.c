/* Heap trace normalisation (include/comb/heap_trace.h). */
#include "comb/heap_trace.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[COMB_HEAP_KIND_COUNT] = {"alloc", "free", "realloc", "resize", "fail"};

const char *comb_heap_kind_name(unsigned kind)
{
    return kind < COMB_HEAP_KIND_COUNT ? kind_names[kind] : "unknown";
}

int comb_heap_kind_parse(const char *name)
{
    for (int i = 0; i < COMB_HEAP_KIND_COUNT; i++)
        if (!strcmp(name, kind_names[i]))
            return i;
    return -1;
}

void comb_heap_trace_init(comb_heap_trace *t)
{
    memset(t, 0, sizeof *t);
}

void comb_heap_trace_free(comb_heap_trace *t)
{
    free(t->ops);
    free(t->ts);
    free(t->caller);
    free(t->block_size);
    memset(t, 0, sizeof *t);
}

static int grow(void **p, size_t elem, size_t cap)
{
    void *q = realloc(*p, elem * cap);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

int comb_heap_trace_keep(comb_heap_trace *t, bool ts, bool caller)
{
    if (ts && !t->has_ts) {
        t->ts = calloc(t->cap ? t->cap : 1, sizeof *t->ts);
        if (!t->ts)
            return -1;
        t->has_ts = true;
    }
    if (caller && !t->has_caller) {
        t->caller = calloc(t->cap ? t->cap : 1, sizeof *t->caller);
        if (!t->caller)
            return -1;
        t->has_caller = true;
    }
    return 0;
}

static int push(comb_heap_trace *t, uint8_t kind, uint32_t block, uint32_t size, uint32_t old, uint64_t ts,
                uint32_t caller)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        if (grow((void **)&t->ops, sizeof *t->ops, cap) || (t->has_ts && grow((void **)&t->ts, sizeof *t->ts, cap)) ||
            (t->has_caller && grow((void **)&t->caller, sizeof *t->caller, cap)))
            return -1;
        t->cap = cap;
    }
    t->ops[t->n] = (comb_heap_op){.block = block, .size = size, .old = old, .kind = kind};
    if (t->has_ts)
        t->ts[t->n] = ts;
    if (t->has_caller)
        t->caller[t->n] = caller;
    t->n++;
    return 0;
}

static int new_block(comb_heap_trace *t, uint32_t size, uint32_t *block)
{
    uint32_t n = t->nblocks;
    if (n == UINT32_MAX - 1)
        return -1;
    /* capacity: 1024, then doubled whenever n reaches a power of two */
    if (n == 0 || (n >= 1024 && (n & (n - 1)) == 0))
        if (grow((void **)&t->block_size, sizeof *t->block_size, n ? (size_t)n * 2 : 1024))
            return -1;
    t->block_size[n] = size;
    *block = n;
    t->nblocks++;
    return 0;
}

int comb_heap_trace_alloc(comb_heap_trace *t, uint32_t size, uint64_t ts, uint32_t caller, uint32_t *block)
{
    if (new_block(t, size, block))
        return -1;
    if (size == 0)
        t->anomalies.zero_size++;
    return push(t, COMB_HEAP_ALLOC, *block, size, 0, ts, caller);
}

int comb_heap_trace_free_block(comb_heap_trace *t, uint32_t block, uint64_t ts, uint32_t caller)
{
    return push(t, COMB_HEAP_FREE, block, t->block_size[block], 0, ts, caller);
}

int comb_heap_trace_realloc(comb_heap_trace *t, uint32_t old_block, uint32_t size, uint64_t ts, uint32_t caller,
                            uint32_t *block)
{
    if (new_block(t, size, block))
        return -1;
    if (size == 0)
        t->anomalies.zero_size++;
    return push(t, COMB_HEAP_REALLOC, *block, size, old_block, ts, caller);
}

int comb_heap_trace_resize(comb_heap_trace *t, uint32_t block, uint32_t size, uint64_t ts, uint32_t caller)
{
    uint32_t old = t->block_size[block];
    t->block_size[block] = size;
    if (size == 0)
        t->anomalies.zero_size++;
    return push(t, COMB_HEAP_RESIZE, block, size, old, ts, caller);
}

int comb_heap_trace_fail(comb_heap_trace *t, uint32_t size, uint64_t ts, uint32_t caller)
{
    return push(t, COMB_HEAP_FAIL, COMB_HEAP_NO_BLOCK, size, 0, ts, caller);
}

/* ---- builder ----------------------------------------------------------------- */

/* address -> block id, open addressing with backward-shift deletion */
typedef struct ptrmap {
    uint32_t *key, *val;
    uint8_t *used;
    size_t cap, n;
} ptrmap;

static size_t hash32(uint32_t k, size_t cap)
{
    return (size_t)((k * 2654435761u) ^ (k >> 16)) & (cap - 1);
}

static int pm_reserve(ptrmap *m)
{
    if ((m->n + 1) * 4 < m->cap * 3)
        return 0;
    size_t cap = m->cap ? m->cap * 2 : 1024;
    ptrmap nm = {.key = malloc(cap * sizeof(uint32_t)), .val = malloc(cap * sizeof(uint32_t)), .used = calloc(cap, 1),
                 .cap = cap};
    if (!nm.key || !nm.val || !nm.used) {
        free(nm.key);
        free(nm.val);
        free(nm.used);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i]) {
            size_t h = hash32(m->key[i], cap);
            while (nm.used[h])
                h = (h + 1) & (cap - 1);
            nm.used[h] = 1;
            nm.key[h] = m->key[i];
            nm.val[h] = m->val[i];
            nm.n++;
        }
    free(m->key);
    free(m->val);
    free(m->used);
    *m = nm;
    return 0;
}

static bool pm_get(const ptrmap *m, uint32_t k, uint32_t *v, size_t *slot)
{
    if (!m->cap)
        return false;
    for (size_t h = hash32(k, m->cap);; h = (h + 1) & (m->cap - 1)) {
        if (!m->used[h])
            return false;
        if (m->key[h] == k) {
            *v = m->val[h];
            if (slot)
                *slot = h;
            return true;
        }
    }
}

static int pm_put(ptrmap *m, uint32_t k, uint32_t v)
{
    size_t slot;
    uint32_t old;
    if (pm_get(m, k, &old, &slot)) {
        m->val[slot] = v;
        return 0;
    }
    if (pm_reserve(m))
        return -1;
    size_t h = hash32(k, m->cap);
    while (m->used[h])
        h = (h + 1) & (m->cap - 1);
    m->used[h] = 1;
    m->key[h] = k;
    m->val[h] = v;
    m->n++;
    return 0;
}

static void pm_del(ptrmap *m, size_t slot)
{
    size_t i = slot;
    m->used[i] = 0;
    m->n--;
    for (size_t j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
        size_t h = hash32(m->key[j], m->cap);
        /* move j back to i if its home is not in (i, j] (cyclically) */
        bool in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (!in_range) {
            m->key[i] = m->key[j];
            m->val[i] = m->val[j];
            m->used[i] = 1;
            m->used[j] = 0;
            i = j;
        }
    }
}

/* size -> stack of live block ids (for traces without addresses) */
typedef struct sizestack {
    uint32_t size;
    uint32_t n, cap;
    uint32_t *ids;
} sizestack;

struct comb_heap_builder {
    comb_heap_trace *t;
    ptrmap live;
    sizestack *stacks;
    size_t nstacks, capstacks;
};

comb_heap_builder *comb_heap_builder_new(comb_heap_trace *t)
{
    comb_heap_builder *b = calloc(1, sizeof *b);
    if (b)
        b->t = t;
    return b;
}

void comb_heap_builder_free(comb_heap_builder *b)
{
    if (!b)
        return;
    free(b->live.key);
    free(b->live.val);
    free(b->live.used);
    for (size_t i = 0; i < b->nstacks; i++)
        free(b->stacks[i].ids);
    free(b->stacks);
    free(b);
}

static sizestack *stack_of(comb_heap_builder *b, uint32_t size, bool create)
{
    /* few distinct sizes: binary search over a sorted array */
    size_t lo = 0, hi = b->nstacks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->stacks[mid].size < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < b->nstacks && b->stacks[lo].size == size)
        return &b->stacks[lo];
    if (!create)
        return NULL;
    if (b->nstacks == b->capstacks) {
        size_t cap = b->capstacks ? b->capstacks * 2 : 64;
        if (grow((void **)&b->stacks, sizeof *b->stacks, cap))
            return NULL;
        b->capstacks = cap;
    }
    memmove(&b->stacks[lo + 1], &b->stacks[lo], (b->nstacks - lo) * sizeof *b->stacks);
    b->stacks[lo] = (sizestack){.size = size};
    b->nstacks++;
    return &b->stacks[lo];
}

static int stack_push(comb_heap_builder *b, uint32_t size, uint32_t id)
{
    sizestack *s = stack_of(b, size, true);
    if (!s)
        return -1;
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 16;
        if (grow((void **)&s->ids, sizeof *s->ids, cap))
            return -1;
        s->cap = cap;
    }
    s->ids[s->n++] = id;
    return 0;
}

/* Pops the live block a size-only free refers to; false if none. */
static bool stack_pop(comb_heap_builder *b, uint32_t size, uint32_t *id)
{
    sizestack *s = stack_of(b, size, false);
    if (s && s->n) {
        *id = s->ids[--s->n];
        return true;
    }
    /* Drone v0.12-v0.14 record sizes >= 256 modulo 256 in frees, but the new
     * size of a grow/shrink correctly: pair with such a block if there is one
     * (the most recently allocated). */
    if (size < 256) {
        sizestack *best = NULL;
        for (size_t i = 0; i < b->nstacks; i++) {
            sizestack *c = &b->stacks[i];
            if (c->size >= 256 && (c->size & 0xFF) == size && c->n && (!best || c->ids[c->n - 1] > best->ids[best->n - 1]))
                best = c;
        }
        if (best) {
            *id = best->ids[--best->n];
            b->t->anomalies.repaired_mod256++;
            return true;
        }
    }
    return false;
}

/* Before a block is placed at r->ptr: a block still live there lost its free;
 * drop it first. */
static int evict(comb_heap_builder *b, const comb_heap_raw *r)
{
    size_t slot;
    uint32_t old;
    if ((r->has & COMB_HR_PTR) && pm_get(&b->live, r->ptr, &old, &slot)) {
        b->t->anomalies.alloc_live++;
        pm_del(&b->live, slot);
        return comb_heap_trace_free_block(b->t, old, (r->has & COMB_HR_TS) ? r->ts : 0, 0);
    }
    return 0;
}

static int add_block(comb_heap_builder *b, const comb_heap_raw *r, uint32_t id)
{
    if (r->has & COMB_HR_PTR)
        return pm_put(&b->live, r->ptr, id);
    return stack_push(b, b->t->block_size[id], id);
}

/* The live block r frees (by address, else by size); false if unknown. */
static bool take_block(comb_heap_builder *b, const comb_heap_raw *r, uint32_t ptr, bool has_ptr, uint32_t size,
                       bool has_size, uint32_t *id)
{
    if (has_ptr) {
        size_t slot;
        if (pm_get(&b->live, ptr, id, &slot)) {
            pm_del(&b->live, slot);
            return true;
        }
        b->t->anomalies.free_unknown++;
        return false;
    }
    if (has_size) {
        if (stack_pop(b, size, id))
            return true;
        b->t->anomalies.free_unmatched++;
        return false;
    }
    (void)r;
    b->t->anomalies.free_unknown++;
    return false;
}

int comb_heap_builder_add(comb_heap_builder *b, const comb_heap_raw *r)
{
    comb_heap_trace *t = b->t;
    uint64_t ts = (r->has & COMB_HR_TS) ? r->ts : 0;
    uint32_t caller = (r->has & COMB_HR_CALLER) ? r->caller : 0;
    bool has_ptr = (r->has & COMB_HR_PTR) != 0;
    uint32_t id, old;
    switch (r->kind) {
    case COMB_HEAP_ALLOC:
        if (evict(b, r) || comb_heap_trace_alloc(t, r->size, ts, caller, &id))
            return -1;
        return add_block(b, r, id);
    case COMB_HEAP_FREE:
        /* comb: by address; Drone: the size freed is in `size` (or old_size) */
        if (take_block(b, r, r->ptr, has_ptr, (r->has & COMB_HR_SIZE) ? r->size : r->old_size,
                       (r->has & (COMB_HR_SIZE | COMB_HR_OLD_SIZE)) != 0, &id))
            return comb_heap_trace_free_block(t, id, ts, caller);
        return 0;
    case COMB_HEAP_REALLOC:
        if (take_block(b, r, r->old_ptr, (r->has & COMB_HR_OLD_PTR) != 0, r->old_size,
                       (r->has & COMB_HR_OLD_SIZE) != 0, &old)) {
            if (evict(b, r) || comb_heap_trace_realloc(t, old, r->size, ts, caller, &id))
                return -1;
        } else if (evict(b, r) || comb_heap_trace_alloc(t, r->size, ts, caller, &id)) {
            return -1;
        }
        return add_block(b, r, id);
    case COMB_HEAP_RESIZE: {
        size_t slot;
        if (has_ptr && pm_get(&b->live, r->ptr, &id, &slot))
            return comb_heap_trace_resize(t, id, r->size, ts, caller);
        t->anomalies.free_unknown++;
        if (comb_heap_trace_alloc(t, r->size, ts, caller, &id))
            return -1;
        return add_block(b, r, id);
    }
    case COMB_HEAP_FAIL:
        return comb_heap_trace_fail(t, r->size, ts, caller);
    default:
        return 0;
    }
}

static int raw_cmp(const void *a, const void *b)
{
    const comb_heap_raw *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int comb_heap_trace_from_raw(comb_heap_raw *raw, size_t n, comb_heap_trace *t)
{
    bool sorted = true, ts = false, caller = false;
    for (size_t i = 0; i < n; i++) {
        if (i && raw_cmp(&raw[i - 1], &raw[i]) > 0)
            sorted = false;
        ts |= (raw[i].has & COMB_HR_TS) != 0;
        caller |= (raw[i].has & COMB_HR_CALLER) != 0;
    }
    if (!sorted)
        qsort(raw, n, sizeof *raw, raw_cmp);
    if (comb_heap_trace_keep(t, ts, caller))
        return -1;
    comb_heap_builder *b = comb_heap_builder_new(t);
    if (!b)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (comb_heap_builder_add(b, &raw[i])) {
            comb_heap_builder_free(b);
            return -1;
        }
    comb_heap_builder_free(b);
    return 0;
}
