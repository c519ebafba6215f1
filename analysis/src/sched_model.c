/* What ran when, from scheduler events (include/comb/sched_model.h). */
#include "comb/sched_model.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct entity {
    uint64_t key;
    bool is_fiber;
    uint16_t thr;
    uint32_t fiber;
    uint32_t thread;   /* fibers: the entity of their thread */
    uint32_t pos;      /* stack frame of its open run, NONE when not running */
    /* a pending wakeup / a fiber resumed outside its thread, valid while the
     * generation matches (comb_sched_model_loss() bumps it, forgetting all) */
    uint32_t pending_gen, untimed_gen;
    uint64_t pending_since;
    uint64_t g_fib;    /* threads: self time of the closed runs of its fibers */
    uint64_t runs, wakeups, coalesced, added, yields, completions;
    uint64_t self_ticks;
    comb_sched_longest longest;
    comb_sched_samples latency, run_time;
} entity;

typedef struct frame {
    uint32_t ent;
    uint32_t thread_frame; /* innermost thread frame at or below this one */
    uint64_t start;
    uint64_t g_thr0, g_fib0; /* the accumulators when the run started */
} frame;

struct comb_sched_model {
    entity *ents;
    size_t nents, cap;
    uint32_t *slots; /* hash of key -> entity index + 1 */
    size_t nslots;
    frame *stack;
    size_t depth, stack_cap;
    uint32_t gen;
    uint64_t npending, nuntimed;
    /* Self time of every closed thread run. The time nested inside a run is
     * the growth of this sum while it was open: nested runs' self times
     * partition the nested interval, however deep the nesting. */
    uint64_t g_thr;
    uint64_t now;
    bool started;
    comb_sched_result r;
};

static const char *const kind_names[COMB_SCHED_KIND_COUNT] = {
    "wakeup", "enter", "exit", "fiber_added", "fiber_resumed", "fiber_yielded", "fiber_completed"};

const char *comb_sched_kind_str(unsigned kind)
{
    return kind < COMB_SCHED_KIND_COUNT ? kind_names[kind] : "?";
}

int comb_sched_kind_parse(const char *name)
{
    for (int k = 0; k < COMB_SCHED_KIND_COUNT; k++)
        if (!strcmp(name, kind_names[k]))
            return k;
    return -1;
}

comb_sched_model *comb_sched_model_new(void)
{
    comb_sched_model *m = calloc(1, sizeof *m);
    if (m)
        m->gen = 1;
    return m;
}

/* ---- entities (hash map keyed by thread or thread + fiber) --------------------------- */

static size_t slot_of(uint64_t key, size_t nslots)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (nslots - 1);
}

static int grow_slots(comb_sched_model *m)
{
    size_t nslots = m->nslots ? m->nslots * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->nents; i++) {
        size_t h = slot_of(m->ents[i].key, nslots);
        while (slots[h]) /* at most nents probes: the table is never more than half full */
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)i + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

/* The entity of key, created on first use; NONE when out of memory. */
static uint32_t lookup(comb_sched_model *m, uint64_t key, bool is_fiber, uint16_t thr, uint32_t fiber)
{
    if ((m->nents + 1) * 2 > m->nslots && grow_slots(m))
        return NONE;
    size_t h = slot_of(key, m->nslots);
    while (m->slots[h]) { /* bounded by the table size; it is at most half full */
        uint32_t i = m->slots[h] - 1;
        if (m->ents[i].key == key)
            return i;
        h = (h + 1) & (m->nslots - 1);
    }
    if (m->nents == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        entity *v = realloc(m->ents, cap * sizeof *v);
        if (!v)
            return NONE;
        m->ents = v;
        m->cap = cap;
    }
    uint32_t i = (uint32_t)m->nents++;
    m->ents[i] = (entity){.key = key, .is_fiber = is_fiber, .thr = thr, .fiber = fiber, .thread = NONE, .pos = NONE};
    m->slots[h] = i + 1;
    return i;
}

static uint32_t thread_of(comb_sched_model *m, uint16_t thr)
{
    return lookup(m, (uint64_t)1 << 63 | thr, false, thr, 0);
}

static uint32_t fiber_of(comb_sched_model *m, uint16_t thr, uint32_t fiber)
{
    uint32_t t = thread_of(m, thr);
    if (t == NONE)
        return NONE;
    uint32_t f = lookup(m, (uint64_t)thr << 32 | fiber, true, thr, fiber);
    if (f != NONE)
        m->ents[f].thread = t;
    return f;
}

/* ---- runs ------------------------------------------------------------------------------ */

/* Moves the frames from `pos` up by `delta` (+1 or -1) in the stack, keeping
 * the entities' positions and the fibers' thread frames right. */
static void shift_frames(comb_sched_model *m, size_t pos, int delta)
{
    size_t n = m->depth - pos;
    memmove(&m->stack[(size_t)((ptrdiff_t)pos + delta)], &m->stack[pos], n * sizeof *m->stack);
    size_t lo = (size_t)((ptrdiff_t)pos + delta);
    for (size_t i = lo; i < lo + n; i++) { /* at most the stack depth */
        frame *f = &m->stack[i];
        m->ents[f->ent].pos = (uint32_t)i;
        if (f->thread_frame >= pos && f->thread_frame != NONE)
            f->thread_frame = (uint32_t)((ptrdiff_t)f->thread_frame + delta);
    }
    m->depth = (size_t)((ptrdiff_t)m->depth + delta);
}

/* Starts a run of `ent` at m->now in frame `at` (the top, or lower when it
 * was stamped before the runs above it started: on_resume). */
static int push_at(comb_sched_model *m, size_t at, uint32_t ent, uint32_t thread_frame)
{
    if (m->depth == m->stack_cap) {
        size_t cap = m->stack_cap ? m->stack_cap * 2 : 16;
        frame *v = realloc(m->stack, cap * sizeof *v);
        if (!v)
            return -1;
        m->stack = v;
        m->stack_cap = cap;
    }
    if (at < m->depth)
        shift_frames(m, at, +1);
    else
        m->depth++;
    entity *e = &m->ents[ent];
    uint32_t pos = (uint32_t)at;
    m->stack[pos] = (frame){.ent = ent,
                            .thread_frame = e->is_fiber ? thread_frame : pos,
                            .start = m->now,
                            .g_thr0 = m->g_thr,
                            .g_fib0 = e->is_fiber ? m->ents[e->thread].g_fib : 0};
    e->pos = pos;
    return 0;
}

static int push(comb_sched_model *m, uint32_t ent, uint32_t thread_frame)
{
    return push_at(m, m->depth, ent, thread_frame);
}

/* Drops the frames from `pos` up without an end; returns how many. */
static uint64_t abandon_from(comb_sched_model *m, size_t pos)
{
    uint64_t n = 0;
    while (m->depth > pos) { /* at most the stack depth, each frame once */
        m->ents[m->stack[--m->depth].ent].pos = NONE;
        n++;
    }
    return n;
}

/* Whether the runs above frame `pos` only look nested in it because of how
 * events with equal timestamps are ordered. An event is stamped before it is
 * emitted; an interrupt in between emits its own events first, and when they
 * carry the same tick (a coarse timer, QEMU) the stream offset puts them first.
 * So an end of X stamped at the tick a preempting thread started (its start
 * == now), or a thread that started at the same tick as X (it was entered
 * first and preempted by X before emitting), is ordered by the tick, not by
 * the offset: X ends under them and they stay open. Fibers above X must belong
 * to one of those threads. */
static bool same_tick_above(const comb_sched_model *m, uint32_t pos)
{
    const frame *x = &m->stack[pos];
    for (size_t i = pos + 1; i < m->depth; i++) { /* at most the stack depth */
        const frame *f = &m->stack[i];
        if (f->thread_frame == i) {
            if (f->start != m->now && f->start != x->start)
                return false;
        } else if (f->thread_frame <= pos) {
            return false; /* a fiber of X's thread nested in X: its end was lost */
        }
    }
    return true;
}

/* Reorders the frames from thread frame `tp` up when only the ordering of
 * equal ticks put them there (same_tick_above): threads that started at the
 * same tick as tp's go below it (they enclose it), tp and its fibers next,
 * threads that started at this very tick (m->now) last, each with its fibers,
 * each group in stack order. Returns where a new run of tp's thread goes (the
 * end of its group), -1 when some frame above started at another tick (a
 * real nesting: nothing is moved), -2 when out of memory. */
static long regroup(comb_sched_model *m, uint32_t tp)
{
    size_t n = m->depth - tp;
    uint64_t t0 = m->stack[tp].start;
    uint8_t *grp = malloc(n);
    frame *tmp = malloc(n * sizeof *tmp);
    uint32_t *map = malloc(n * sizeof *map);
    long at = -2;
    if (!grp || !tmp || !map)
        goto done;
    at = -1;
    for (size_t i = tp; i < m->depth; i++) { /* at most the stack depth */
        const frame *f = &m->stack[i];
        if (i == tp || f->thread_frame == tp)
            grp[i - tp] = 1;
        else if (f->thread_frame == i && f->start == m->now)
            grp[i - tp] = 2;
        else if (f->thread_frame == i && f->start == t0)
            grp[i - tp] = 0;
        else if (f->thread_frame != i && f->thread_frame > tp && f->thread_frame < i)
            grp[i - tp] = grp[f->thread_frame - tp]; /* a fiber goes with its thread */
        else
            goto done;
    }
    size_t k = 0;
    for (uint8_t g = 0; g < 3; g++) {
        for (size_t i = 0; i < n; i++) /* n per group */
            if (grp[i] == g) {
                tmp[k] = m->stack[tp + i];
                map[i] = (uint32_t)(tp + k++);
            }
        if (g == 1)
            at = (long)(tp + k);
    }
    for (size_t i = 0; i < n; i++) { /* at most the stack depth */
        frame *f = &m->stack[tp + i];
        *f = tmp[i];
        if (f->thread_frame != NONE && f->thread_frame >= tp)
            f->thread_frame = map[f->thread_frame - tp];
        m->ents[f->ent].pos = (uint32_t)(tp + i);
    }
done:
    free(grp);
    free(tmp);
    free(map);
    return at;
}

/* Ends the run in frame `pos` at m->now. Runs above it either started at the
 * same tick (same_tick_above: they stay open, X ends under them), or never
 * ended (their end was lost): then they are dropped, and this run's self time,
 * which includes theirs, is no sample. */
static int close_run(comb_sched_model *m, uint32_t pos)
{
    bool under = pos + 1 < m->depth && same_tick_above(m, pos);
    bool damaged = pos + 1 < m->depth && !under;
    if (damaged)
        m->r.problems.lost_ends += abandon_from(m, pos + 1);
    frame *f = &m->stack[pos];
    entity *e = &m->ents[f->ent];
    uint64_t wall = m->now - f->start;
    uint64_t nested = m->g_thr - f->g_thr0;
    if (e->is_fiber)
        nested += m->ents[e->thread].g_fib - f->g_fib0;
    uint64_t self = nested < wall ? wall - nested : 0;
    /* the enclosing runs subtract this run's self time, complete or not */
    if (e->is_fiber)
        m->ents[e->thread].g_fib += self;
    else
        m->g_thr += self;
    if (!damaged) {
        if (comb_sched_samples_add(&e->run_time, self))
            return -1;
        e->self_ticks += self;
        if (!e->longest.valid || self > e->longest.ticks)
            e->longest = (comb_sched_longest){true, f->start, self};
    }
    e->pos = NONE;
    if (under) {
        /* Runs above that started at this tick began after X ended: X's self
         * time is not nested in them (those that started with X enclose it). */
        for (size_t i = pos + 1; i < m->depth && !e->is_fiber; i++) /* at most the stack depth */
            if (m->stack[i].start == m->now && m->stack[i].start != f->start)
                m->stack[i].g_thr0 += self;
        m->r.same_tick_reorders++;
        shift_frames(m, pos + 1, -1);
    } else {
        m->depth = pos;
    }
    return 0;
}

static int on_wakeup(comb_sched_model *m, entity *t)
{
    t->wakeups++;
    if (t->pending_gen == m->gen) {
        t->coalesced++;
    } else {
        t->pending_gen = m->gen;
        t->pending_since = m->now;
        m->npending++;
    }
    return 0;
}

static int on_enter(comb_sched_model *m, uint32_t ti)
{
    entity *t = &m->ents[ti];
    t->runs++;
    if (t->pos != NONE) /* running already: its exit was lost */
        m->r.problems.lost_ends += abandon_from(m, t->pos);
    if (t->pending_gen == m->gen) {
        t->pending_gen = 0;
        m->npending--;
        if (comb_sched_samples_add(&t->latency, m->now - t->pending_since))
            return -1;
    }
    return push(m, ti, NONE);
}

static int on_thread_exit(comb_sched_model *m, entity *t)
{
    if (t->pos == NONE) {
        m->r.problems.exit_without_enter++;
        return 0;
    }
    return close_run(m, t->pos);
}

static int on_resume(comb_sched_model *m, uint32_t fi)
{
    entity *f = &m->ents[fi];
    f->runs++;
    if (f->pos != NONE)
        m->r.problems.lost_ends += abandon_from(m, f->pos);
    if (f->untimed_gen == m->gen) {
        f->untimed_gen = 0;
        m->nuntimed--;
        m->r.problems.lost_ends++;
    }
    uint32_t tf = m->depth ? m->stack[m->depth - 1].thread_frame : NONE;
    if (tf != NONE && m->stack[tf].ent == f->thread)
        return push(m, fi, tf);
    /* Its thread runs, under threads that started at the same tick as it
     * (entered first, emitted later: they enclose it) or at this very tick
     * (the resume was stamped before they preempted it): see same_tick_above. */
    uint32_t tp = m->ents[f->thread].pos;
    if (tp != NONE) {
        long at = regroup(m, tp);
        if (at == -2)
            return -1;
        if (at >= 0) {
            m->r.same_tick_reorders++;
            return push_at(m, (size_t)at, fi, m->ents[f->thread].pos);
        }
    }
    /* its thread is not the one running: counted, resumes and ends still
     * counted, but the run is not timed */
    m->r.problems.fiber_not_running++;
    f->untimed_gen = m->gen;
    m->nuntimed++;
    return 0;
}

static int on_fiber_end(comb_sched_model *m, entity *f, bool completed)
{
    if (completed)
        f->completions++;
    else
        f->yields++;
    if (f->pos != NONE)
        return close_run(m, f->pos);
    if (f->untimed_gen == m->gen) {
        f->untimed_gen = 0;
        m->nuntimed--;
        return 0;
    }
    m->r.problems.fiber_end_without_resume++;
    return 0;
}

int comb_sched_model_event(comb_sched_model *m, const comb_sched_event *e)
{
    uint64_t ts = e->ts;
    if (!m->started) {
        m->started = true;
        m->r.first_ts = ts;
        m->now = ts;
    } else if (ts < m->now) {
        m->r.problems.out_of_order++;
        ts = m->now;
    }
    m->now = ts;
    m->r.last_ts = ts;
    m->r.events++;
    uint32_t i;
    switch (e->kind) {
    case COMB_SCHED_WAKEUP:
    case COMB_SCHED_ENTER:
    case COMB_SCHED_EXIT:
        if ((i = thread_of(m, e->thr)) == NONE)
            return -1;
        if (e->kind == COMB_SCHED_WAKEUP)
            return on_wakeup(m, &m->ents[i]);
        return e->kind == COMB_SCHED_ENTER ? on_enter(m, i) : on_thread_exit(m, &m->ents[i]);
    case COMB_SCHED_FIBER_ADDED:
    case COMB_SCHED_FIBER_RESUMED:
    case COMB_SCHED_FIBER_YIELDED:
    case COMB_SCHED_FIBER_COMPLETED:
        if ((i = fiber_of(m, e->thr, e->fiber)) == NONE)
            return -1;
        if (e->kind == COMB_SCHED_FIBER_ADDED) {
            m->ents[i].added++;
            return 0;
        }
        if (e->kind == COMB_SCHED_FIBER_RESUMED)
            return on_resume(m, i);
        return on_fiber_end(m, &m->ents[i], e->kind == COMB_SCHED_FIBER_COMPLETED);
    default:
        return 0;
    }
}

void comb_sched_model_loss(comb_sched_model *m)
{
    m->r.problems.loss_points++;
    m->r.problems.runs_cut += abandon_from(m, 0) + m->nuntimed;
    m->r.problems.wakeups_cut += m->npending;
    m->npending = m->nuntimed = 0;
    m->gen++; /* forgets every pending wakeup and untimed fiber run at once */
}

/* ---- results ------------------------------------------------------------------------------ */

static int thread_cmp(const void *a, const void *b)
{
    const comb_sched_thread *x = a, *y = b;
    return (x->thr > y->thr) - (x->thr < y->thr);
}

static int fiber_cmp(const void *a, const void *b)
{
    const comb_sched_fiber *x = a, *y = b;
    if (x->thr != y->thr)
        return x->thr < y->thr ? -1 : 1;
    return (x->fiber > y->fiber) - (x->fiber < y->fiber);
}

int comb_sched_model_finish(comb_sched_model *m, comb_sched_result *out)
{
    memset(out, 0, sizeof *out);
    m->r.problems.open_at_end += m->depth + m->nuntimed;
    size_t nthreads = 0, nfibers = 0;
    for (size_t i = 0; i < m->nents; i++) {
        if (m->ents[i].is_fiber)
            nfibers++;
        else
            nthreads++;
        m->r.sample_bytes += comb_sched_samples_bytes(&m->ents[i].latency) +
                             comb_sched_samples_bytes(&m->ents[i].run_time);
    }
    int rc = -1;
    m->r.threads = calloc(nthreads ? nthreads : 1, sizeof *m->r.threads);
    m->r.fibers = calloc(nfibers ? nfibers : 1, sizeof *m->r.fibers);
    if (!m->r.threads || !m->r.fibers)
        goto done;
    for (size_t i = 0; i < m->nents; i++) {
        entity *e = &m->ents[i];
        if (e->is_fiber) {
            comb_sched_fiber *f = &m->r.fibers[m->r.nfibers++];
            *f = (comb_sched_fiber){.thr = e->thr,
                                    .fiber = e->fiber,
                                    .added = e->added,
                                    .resumes = e->runs,
                                    .yields = e->yields,
                                    .completions = e->completions,
                                    .self_ticks = e->self_ticks,
                                    .longest = e->longest};
            if (comb_sched_samples_stats(&e->run_time, &f->run_time))
                goto done;
        } else {
            comb_sched_thread *t = &m->r.threads[m->r.nthreads++];
            *t = (comb_sched_thread){.thr = e->thr,
                                     .runs = e->runs,
                                     .wakeups = e->wakeups,
                                     .coalesced = e->coalesced,
                                     .self_ticks = e->self_ticks,
                                     .longest = e->longest};
            if (comb_sched_samples_stats(&e->latency, &t->latency) ||
                comb_sched_samples_stats(&e->run_time, &t->run_time))
                goto done;
        }
        /* the samples are no longer needed: give the memory back as we go */
        comb_sched_samples_free(&e->latency);
        comb_sched_samples_free(&e->run_time);
    }
    qsort(m->r.threads, m->r.nthreads, sizeof *m->r.threads, thread_cmp);
    qsort(m->r.fibers, m->r.nfibers, sizeof *m->r.fibers, fiber_cmp);
    *out = m->r;
    memset(&m->r, 0, sizeof m->r);
    rc = 0;
done:
    comb_sched_model_free(m);
    return rc;
}

void comb_sched_model_free(comb_sched_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nents; i++) {
        comb_sched_samples_free(&m->ents[i].latency);
        comb_sched_samples_free(&m->ents[i].run_time);
    }
    free(m->ents);
    free(m->slots);
    free(m->stack);
    comb_sched_result_free(&m->r);
    free(m);
}

void comb_sched_result_free(comb_sched_result *r)
{
    free(r->threads);
    free(r->fibers);
    memset(r, 0, sizeof *r);
}
