/* `comb heap report` (include/comb/heap_report.h). */
#include "comb/heap_report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sites by caller (hash map) ------------------------------------------------ */

typedef struct sitemap {
    comb_heap_site *v;
    uint32_t *idx; /* slot -> index + 1 */
    size_t n, cap, slots;
} sitemap;

static comb_heap_site *site_of(sitemap *m, uint32_t caller)
{
    if ((m->n + 1) * 2 > m->slots) {
        size_t slots = m->slots ? m->slots * 2 : 256;
        uint32_t *idx = calloc(slots, sizeof *idx);
        if (!idx)
            return NULL;
        for (size_t i = 0; i < m->n; i++) {
            size_t h = (m->v[i].caller * 2654435761u) & (slots - 1);
            while (idx[h])
                h = (h + 1) & (slots - 1);
            idx[h] = (uint32_t)i + 1;
        }
        free(m->idx);
        m->idx = idx;
        m->slots = slots;
    }
    size_t h = (caller * 2654435761u) & (m->slots - 1);
    while (m->idx[h]) {
        if (m->v[m->idx[h] - 1].caller == caller)
            return &m->v[m->idx[h] - 1];
        h = (h + 1) & (m->slots - 1);
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        comb_heap_site *v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return NULL;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n] = (comb_heap_site){.caller = caller};
    m->idx[h] = (uint32_t)++m->n;
    return &m->v[m->n - 1];
}

static int site_cmp(const void *a, const void *b)
{
    const comb_heap_site *x = a, *y = b;
    if (x->allocs != y->allocs)
        return x->allocs > y->allocs ? -1 : 1;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return (x->caller > y->caller) - (x->caller < y->caller);
}

static int leak_cmp(const void *a, const void *b)
{
    const comb_heap_leak *x = a, *y = b;
    uint64_t bx = x->count * x->size, by = y->count * y->size;
    if (bx != by)
        return bx > by ? -1 : 1;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return (x->caller > y->caller) - (x->caller < y->caller);
}

static int leak_key_cmp(const void *a, const void *b)
{
    const comb_heap_leak *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    if (x->caller != y->caller)
        return x->caller < y->caller ? -1 : 1;
    return (x->first_op > y->first_op) - (x->first_op < y->first_op);
}

int comb_heap_report_build(const comb_heap_trace *t, comb_heap_report *r)
{
    memset(r, 0, sizeof *r);
    r->has_callers = t->has_caller;
    r->has_ts = t->has_ts;
    if (comb_drone_stats_of(t, &r->drone))
        return -1;
    /* per block: live flag, creating op */
    uint8_t *live = calloc(t->nblocks ? t->nblocks : 1, 1);
    size_t *born = malloc((t->nblocks ? t->nblocks : 1) * sizeof *born);
    uint32_t *size = malloc((t->nblocks ? t->nblocks : 1) * sizeof *size);
    sitemap sm = {0};
    int rc = -1;
    if (!live || !born || !size)
        goto done;
    uint64_t bytes = 0, blocks = 0;
    for (size_t k = 0; k < t->n; k++) {
        const comb_heap_op *o = &t->ops[k];
        uint32_t caller = t->has_caller ? t->caller[k] : 0;
        comb_heap_site *site = NULL;
        if (t->has_caller && caller && o->kind != COMB_HEAP_FREE && o->kind != COMB_HEAP_RESIZE) {
            site = site_of(&sm, caller);
            if (!site)
                goto done;
        }
        r->ops++;
        bool rising = false;
        switch (o->kind) {
        case COMB_HEAP_ALLOC:
        case COMB_HEAP_REALLOC:
            if (o->kind == COMB_HEAP_ALLOC)
                r->allocs++;
            else
                r->reallocs++;
            live[o->block] = 1;
            born[o->block] = k;
            size[o->block] = o->size;
            bytes += o->size;
            blocks++;
            rising = true;
            if (site) {
                site->allocs++;
                site->bytes += o->size;
            }
            break;
        case COMB_HEAP_RESIZE:
            r->resizes++;
            if (live[o->block]) {
                bytes = bytes - size[o->block] + o->size;
                size[o->block] = o->size;
                rising = o->size > o->old;
            }
            break;
        case COMB_HEAP_FREE:
            r->frees++;
            break;
        case COMB_HEAP_FAIL:
            r->fails++;
            if (r->nfailures < COMB_REPORT_MAX_FAILURES)
                r->failures[r->nfailures++] = (comb_heap_failure){k, o->size, caller};
            if (site)
                site->fails++;
            break;
        default:
            break;
        }
        if (rising) { /* a peak can only be reached right after an increase */
            if (bytes > r->peak_bytes) {
                r->peak_bytes = bytes;
                r->peak_bytes_blocks = blocks;
                r->peak_bytes_op = k;
            }
            if (blocks > r->peak_blocks) {
                r->peak_blocks = blocks;
                r->peak_blocks_bytes = bytes;
                r->peak_blocks_op = k;
            }
        }
        /* the old block of a realloc goes after the new one has counted */
        uint32_t gone = o->kind == COMB_HEAP_FREE ? o->block : o->kind == COMB_HEAP_REALLOC ? o->old : COMB_HEAP_NO_BLOCK;
        if (gone != COMB_HEAP_NO_BLOCK && live[gone]) {
            live[gone] = 0;
            bytes -= size[gone];
            blocks--;
        }
    }
    /* live at the end, grouped by (size, caller) */
    r->live_blocks = blocks;
    r->live_bytes = bytes;
    if (blocks) {
        comb_heap_leak *lk = malloc(blocks * sizeof *lk);
        if (!lk)
            goto done;
        size_t n = 0;
        for (uint32_t b = 0; b < t->nblocks; b++)
            if (live[b]) {
                uint32_t caller = t->has_caller ? t->caller[born[b]] : 0;
                lk[n++] = (comb_heap_leak){.size = size[b], .caller = caller, .count = 1, .first_op = born[b]};
                if (t->has_caller && caller) {
                    comb_heap_site *site = site_of(&sm, caller);
                    if (!site) {
                        free(lk);
                        goto done;
                    }
                    site->live_blocks++;
                    site->live_bytes += size[b];
                }
            }
        qsort(lk, n, sizeof *lk, leak_key_cmp);
        size_t u = 0;
        for (size_t i = 0; i < n; i++) {
            if (u && lk[u - 1].size == lk[i].size && lk[u - 1].caller == lk[i].caller)
                lk[u - 1].count++;
            else
                lk[u++] = lk[i];
        }
        qsort(lk, u, sizeof *lk, leak_cmp);
        r->leaks = lk;
        r->nleaks = u;
    }
    if (sm.n)
        qsort(sm.v, sm.n, sizeof *sm.v, site_cmp);
    r->sites = sm.v;
    r->nsites = sm.n;
    sm.v = NULL;
    rc = 0;
done:
    free(sm.v);
    free(sm.idx);
    free(live);
    free(born);
    free(size);
    if (rc)
        comb_heap_report_free(r);
    return rc;
}

uint64_t comb_heap_peak_bytes(const comb_heap_trace *t)
{
    uint32_t *size = calloc(t->nblocks ? t->nblocks : 1, sizeof *size); /* live size; 0: not live */
    uint8_t *live = calloc(t->nblocks ? t->nblocks : 1, 1);
    uint64_t bytes = 0, peak = 0;
    if (!size || !live) {
        free(size);
        free(live);
        return 0;
    }
    for (size_t k = 0; k < t->n; k++) {
        const comb_heap_op *o = &t->ops[k];
        uint32_t gone = COMB_HEAP_NO_BLOCK;
        switch (o->kind) {
        case COMB_HEAP_ALLOC:
        case COMB_HEAP_REALLOC:
            live[o->block] = 1;
            size[o->block] = o->size;
            bytes += o->size;
            if (o->kind == COMB_HEAP_REALLOC)
                gone = o->old;
            break;
        case COMB_HEAP_RESIZE:
            if (live[o->block]) {
                bytes = bytes - size[o->block] + o->size;
                size[o->block] = o->size;
            }
            break;
        case COMB_HEAP_FREE:
            gone = o->block;
            break;
        default:
            break;
        }
        if (bytes > peak)
            peak = bytes;
        if (gone != COMB_HEAP_NO_BLOCK && live[gone]) {
            live[gone] = 0;
            bytes -= size[gone];
        }
    }
    free(size);
    free(live);
    return peak;
}

void comb_heap_report_free(comb_heap_report *r)
{
    comb_drone_stats_free(&r->drone);
    free(r->leaks);
    free(r->sites);
    memset(r, 0, sizeof *r);
}

/* ---- rendering ---------------------------------------------------------------------- */

void comb_report_when(const comb_report_context *c, size_t op, char *buf, size_t cap)
{
    const comb_heap_trace *t = c->trace;
    if (t && t->has_ts && op < t->n) {
        uint64_t ts = t->ts[op];
        uint64_t rel = ts >= c->ts_origin ? ts - c->ts_origin : 0;
        if (c->ts_hz)
            snprintf(buf, cap, "at %.6f s (event %zu)", (double)rel / (double)c->ts_hz, op + 1);
        else
            snprintf(buf, cap, "at tick %" PRIu64 " (event %zu)", rel, op + 1);
    } else {
        snprintf(buf, cap, "at event %zu", op + 1);
    }
}

static const char *caller_name(const comb_report_context *c, uint32_t addr, char *buf, size_t cap)
{
    if (!addr)
        return "-";
    if (c->symbolize && c->symbolize(c->symbolize_ctx, addr, buf, cap))
        return buf;
    snprintf(buf, cap, "0x%08" PRIx32, addr);
    return buf;
}

void comb_heap_report_text(const comb_heap_report *r, const comb_report_context *c, comb_strbuf *out)
{
    unsigned top = c->top ? c->top : 10;
    char when[96], who[256];
    comb_drone_stats_render(&r->drone, c->heap_size, out);
    comb_sb_puts(out, "\n");
    comb_sb_printf(out, "Events: %" PRIu64 " (%" PRIu64 " allocations, %" PRIu64 " frees, %" PRIu64 " reallocs, %" PRIu64
                        " in-place resizes, %" PRIu64 " failures)\n",
                   r->ops, r->allocs, r->frees, r->reallocs, r->resizes, r->fails);
    comb_report_when(c, r->peak_bytes_op, when, sizeof when);
    comb_sb_printf(out, "Concurrent peak: %" PRIu64 " bytes in %" PRIu64 " blocks, %s\n", r->peak_bytes,
                   r->peak_bytes_blocks, r->peak_bytes ? when : "never");
    comb_report_when(c, r->peak_blocks_op, when, sizeof when);
    comb_sb_printf(out, "Most blocks live: %" PRIu64 " blocks (%" PRIu64 " bytes), %s\n", r->peak_blocks,
                   r->peak_blocks_bytes, r->peak_blocks ? when : "never");
    comb_sb_printf(out, "Failed allocations: %" PRIu64 "\n", r->fails);
    for (size_t i = 0; i < r->nfailures; i++) {
        comb_report_when(c, r->failures[i].op, when, sizeof when);
        comb_sb_printf(out, "  %u bytes %s", (unsigned)r->failures[i].size, when);
        if (r->failures[i].caller)
            comb_sb_printf(out, ", from %s", caller_name(c, r->failures[i].caller, who, sizeof who));
        comb_sb_puts(out, "\n");
    }
    if (r->fails > r->nfailures)
        comb_sb_printf(out, "  ... and %" PRIu64 " more\n", r->fails - r->nfailures);
    comb_sb_printf(out, "Live at the end (possible leaks): %" PRIu64 " blocks, %" PRIu64 " bytes\n", r->live_blocks,
                   r->live_bytes);
    if (r->nleaks) {
        comb_sb_printf(out, "  %10s %7s  %-24s %s\n", "size", "blocks", "oldest", "caller");
        for (size_t i = 0; i < r->nleaks && i < top; i++) {
            const comb_heap_leak *l = &r->leaks[i];
            comb_report_when(c, l->first_op, when, sizeof when);
            comb_sb_printf(out, "  %10u %7" PRIu64 "  %-24s %s\n", (unsigned)l->size, l->count, when + 3,
                           caller_name(c, l->caller, who, sizeof who));
        }
        if (r->nleaks > top)
            comb_sb_printf(out, "  ... and %zu more groups\n", r->nleaks - top);
    }
    if (r->nsites) {
        comb_sb_printf(out, "Top allocation sites (of %zu):\n", r->nsites);
        comb_sb_printf(out, "  %10s %12s %8s %10s  %s\n", "allocs", "bytes", "failed", "live", "caller");
        for (size_t i = 0; i < r->nsites && i < top; i++) {
            const comb_heap_site *s = &r->sites[i];
            comb_sb_printf(out, "  %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %10" PRIu64 "  %s\n", s->allocs, s->bytes,
                           s->fails, s->live_blocks, caller_name(c, s->caller, who, sizeof who));
        }
    } else if (!r->has_callers) {
        comb_sb_puts(out, "Allocation sites: the trace carries no caller addresses\n");
    }
    const comb_heap_anomalies *a = &c->trace->anomalies;
    if (a->free_unknown || a->alloc_live || a->free_unmatched || a->repaired_mod256 || a->zero_size)
        comb_sb_printf(out,
                       "Trace anomalies: %" PRIu64 " frees of unknown blocks, %" PRIu64 " allocations over live blocks, %" PRIu64
                       " unmatched frees, %" PRIu64 " frees paired modulo 256, %" PRIu64 " zero-size requests\n",
                       a->free_unknown, a->alloc_live, a->free_unmatched, a->repaired_mod256, a->zero_size);
}

static void json_when(comb_strbuf *out, const comb_report_context *c, size_t op)
{
    comb_sb_printf(out, "{\"event\":%zu", op + 1);
    const comb_heap_trace *t = c->trace;
    if (t && t->has_ts && op < t->n) {
        uint64_t rel = t->ts[op] >= c->ts_origin ? t->ts[op] - c->ts_origin : 0;
        comb_sb_printf(out, ",\"ticks\":%" PRIu64, rel);
        if (c->ts_hz)
            comb_sb_printf(out, ",\"seconds\":%.9f", (double)rel / (double)c->ts_hz);
    }
    comb_sb_puts(out, "}");
}

static void json_caller(comb_strbuf *out, const comb_report_context *c, uint32_t addr)
{
    char who[256];
    if (!addr) {
        comb_sb_puts(out, "null");
        return;
    }
    comb_sb_printf(out, "{\"addr\":%" PRIu32, addr);
    if (c->symbolize && c->symbolize(c->symbolize_ctx, addr, who, sizeof who)) {
        comb_sb_puts(out, ",\"symbol\":");
        comb_sb_json_str(out, who);
    }
    comb_sb_puts(out, "}");
}

void comb_heap_report_json(const comb_heap_report *r, const comb_report_context *c, comb_strbuf *out)
{
    comb_sb_puts(out, "{\"sizes\":[");
    for (size_t i = 0; i < r->drone.n; i++)
        comb_sb_printf(out, "%s{\"size\":%u,\"max_load\":%u,\"total\":%u,\"live_at_end\":%u}", i ? "," : "",
                       (unsigned)r->drone.v[i].size, (unsigned)r->drone.v[i].max, (unsigned)r->drone.v[i].total,
                       (unsigned)r->drone.v[i].cur);
    uint32_t load = 0;
    for (size_t i = 0; i < r->drone.n; i++)
        load += r->drone.v[i].size * r->drone.v[i].max;
    comb_sb_printf(out, "],\"max_heap_load\":%u", (unsigned)load);
    if (c->heap_size)
        comb_sb_printf(out, ",\"heap_size\":%u,\"max_heap_load_pct\":%.2f", (unsigned)c->heap_size,
                       (double)load / (double)c->heap_size * 100.0);
    comb_sb_printf(out,
                   ",\"events\":{\"total\":%" PRIu64 ",\"alloc\":%" PRIu64 ",\"free\":%" PRIu64 ",\"realloc\":%" PRIu64
                   ",\"resize\":%" PRIu64 ",\"fail\":%" PRIu64 "}",
                   r->ops, r->allocs, r->frees, r->reallocs, r->resizes, r->fails);
    comb_sb_printf(out, ",\"peak_bytes\":{\"bytes\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"when\":", r->peak_bytes,
                   r->peak_bytes_blocks);
    json_when(out, c, r->peak_bytes_op);
    comb_sb_printf(out, "},\"peak_blocks\":{\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"when\":", r->peak_blocks,
                   r->peak_blocks_bytes);
    json_when(out, c, r->peak_blocks_op);
    comb_sb_printf(out, "},\"failures\":{\"count\":%" PRIu64 ",\"first\":[", r->fails);
    for (size_t i = 0; i < r->nfailures; i++) {
        comb_sb_printf(out, "%s{\"size\":%u,\"when\":", i ? "," : "", (unsigned)r->failures[i].size);
        json_when(out, c, r->failures[i].op);
        comb_sb_puts(out, ",\"caller\":");
        json_caller(out, c, r->failures[i].caller);
        comb_sb_puts(out, "}");
    }
    comb_sb_printf(out, "]},\"live_at_end\":{\"blocks\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"groups\":[",
                   r->live_blocks, r->live_bytes);
    for (size_t i = 0; i < r->nleaks; i++) {
        const comb_heap_leak *l = &r->leaks[i];
        comb_sb_printf(out, "%s{\"size\":%u,\"blocks\":%" PRIu64 ",\"oldest\":", i ? "," : "", (unsigned)l->size,
                       l->count);
        json_when(out, c, l->first_op);
        comb_sb_puts(out, ",\"caller\":");
        json_caller(out, c, l->caller);
        comb_sb_puts(out, "}");
    }
    comb_sb_puts(out, "]},\"sites\":[");
    for (size_t i = 0; i < r->nsites; i++) {
        const comb_heap_site *s = &r->sites[i];
        comb_sb_printf(out, "%s{\"caller\":", i ? "," : "");
        json_caller(out, c, s->caller);
        comb_sb_printf(out,
                       ",\"allocs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"fails\":%" PRIu64 ",\"live_blocks\":%" PRIu64
                       ",\"live_bytes\":%" PRIu64 "}",
                       s->allocs, s->bytes, s->fails, s->live_blocks, s->live_bytes);
    }
    const comb_heap_anomalies *a = &c->trace->anomalies;
    comb_sb_printf(out,
                   "],\"anomalies\":{\"free_unknown\":%" PRIu64 ",\"alloc_live\":%" PRIu64 ",\"free_unmatched\":%" PRIu64
                   ",\"repaired_mod256\":%" PRIu64 ",\"zero_size\":%" PRIu64 "}}",
                   a->free_unknown, a->alloc_live, a->free_unmatched, a->repaired_mod256, a->zero_size);
}
