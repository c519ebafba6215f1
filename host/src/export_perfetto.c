/*
 * comb export perfetto (include/comb/session_export.h): three ordered passes,
 * scheduler events (ts, offset), heap events (offset, seq) and log lines
 * (seq), each written as it streams. Thread numbers are 16 bits (as
 * thread_enter and the dashboard use them); their state lives in a table
 * grown per thread seen, found through a fixed index of every possible
 * number, so memory grows with the threads, not with the session.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "comb/session_export.h"
#include "dashboard_internal.h"

#define NTHR 65536          /* thread numbers are 16 bits */
#define THREAD_MODE NTHR    /* the key of wakers outside any comb thread (from_thr 255) */
#define THREAD_MODE_TID (NTHR + 1)
#define NPORTS 256
#define MAX_PENDING_FLOWS 8 /* wakeups of a thread waiting for its next run that get an arrow */
#define HOST_PID 2
#define TARGET_PID 1

/* ---- JSON text ------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || len > n || (len == 2 && c < 0xC2))
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
        return 0; /* overlong, surrogates */
    if (len == 4 && ((c == 0xF0 && s[1] < 0x90) || c > 0xF4 || (c == 0xF4 && s[1] >= 0x90)))
        return 0;
    return len;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_string(FILE *f, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc((int)c, f);
            i++;
        } else if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            fputc((int)c, f);
            i++;
        } else {
            size_t len = utf8_len(s + i, n - i);
            if (len) {
                fwrite(s + i, 1, len, f);
                i += len;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

/* ---- the writer ------------------------------------------------------------------------- */

typedef struct thread_state {
    uint32_t key;     /* thread number, or THREAD_MODE */
    bool run_open, fiber_open;
    uint32_t fiber;
    unsigned npending;
    uint64_t pending[MAX_PENDING_FLOWS]; /* flow ids waiting for this thread's next run */
} thread_state;

typedef struct writer {
    FILE *f;
    const comb_dash *d;
    const comb_dash_info *info;
    bool first;
    uint64_t next_flow;
    uint32_t index[NTHR + 1];  /* key -> position in states + 1; 0: not seen */
    thread_state *states;      /* in the order they were seen */
    size_t nstates, capstates;
    comb_perfetto_stats *st;
} writer;

/* The state of a thread (or THREAD_MODE), created when first seen; NULL when
 * out of memory. */
static thread_state *state_of(writer *w, uint32_t key)
{
    if (w->index[key])
        return &w->states[w->index[key] - 1];
    if (w->nstates == w->capstates) {
        size_t cap = w->capstates ? w->capstates * 2 : 16;
        thread_state *v = realloc(w->states, cap * sizeof *v);
        if (!v)
            return NULL;
        w->states = v;
        w->capstates = cap;
    }
    w->states[w->nstates] = (thread_state){.key = key};
    w->index[key] = (uint32_t)++w->nstates;
    return &w->states[w->nstates - 1];
}

/* µs of session time */
static double us_of(const writer *w, int64_t ts)
{
    return comb_dash_time(w->info, ts) * (w->info->ts_hz ? 1e6 : 1);
}

/* Starts an event object: {"ph":"X","ts":...,"pid":P,"tid":T (tid < 0: none) */
static void ev(writer *w, char ph, double ts_us, int pid, int tid)
{
    fputs(w->first ? "\n" : ",\n", w->f);
    w->first = false;
    fprintf(w->f, "{\"ph\":\"%c\",\"ts\":%.3f,\"pid\":%d", ph, ts_us, pid);
    if (tid >= 0)
        fprintf(w->f, ",\"tid\":%d", tid);
    w->st->events++;
}

static int tid_of(unsigned key)
{
    return key == THREAD_MODE ? THREAD_MODE_TID : (int)key + 1;
}

static void slice_begin(writer *w, double t, unsigned thr, const char *cat, const char *name)
{
    ev(w, 'B', t, TARGET_PID, tid_of(thr));
    fprintf(w->f, ",\"cat\":\"%s\",\"name\":", cat);
    json_string(w->f, name, strlen(name));
    fputc('}', w->f);
}

static void slice_end(writer *w, double t, unsigned thr)
{
    ev(w, 'E', t, TARGET_PID, tid_of(thr));
    fputc('}', w->f);
}

static void close_fiber(writer *w, double t, thread_state *s)
{
    if (s->fiber_open) {
        slice_end(w, t, s->key);
        s->fiber_open = false;
    }
}

static void close_run(writer *w, double t, thread_state *s)
{
    close_fiber(w, t, s);
    if (s->run_open) {
        slice_end(w, t, s->key);
        s->run_open = false;
    }
}

/* from: the waker's key (THREAD_MODE for from_thr 255) */
static int on_wakeup(writer *w, double t, unsigned to, unsigned from)
{
    thread_state *src = state_of(w, from);
    if (!src)
        return -1;
    char name[200];
    if (!src->run_open) { /* thread mode, or a waker outside any run: a slice for the arrow to start from */
        ev(w, 'X', t, TARGET_PID, tid_of(from));
        char label[160];
        comb_dash_thread_label(w->d, to, label, sizeof label);
        snprintf(name, sizeof name, "wakeup %s", label);
        fputs(",\"dur\":0,\"cat\":\"wakeup\",\"name\":", w->f);
        json_string(w->f, name, strlen(name));
        fputc('}', w->f);
    }
    thread_state *dst = state_of(w, to);
    if (!dst)
        return -1;
    if (dst->npending == MAX_PENDING_FLOWS)
        return 0; /* its run will have arrows from the first few wakeups */
    uint64_t id = ++w->next_flow;
    dst->pending[dst->npending++] = id;
    ev(w, 's', t, TARGET_PID, tid_of(from));
    fprintf(w->f, ",\"cat\":\"wakeup\",\"name\":\"wakeup\",\"id\":%" PRIu64 "}", id);
    w->st->flows++;
    return 0;
}

static void on_enter(writer *w, double t, thread_state *s)
{
    unsigned thr = s->key;
    close_run(w, t, s); /* its exit was lost */
    char name[160];
    comb_dash_thread_label(w->d, thr, name, sizeof name);
    slice_begin(w, t, thr, "run", name);
    s->run_open = true;
    w->st->runs++;
    for (unsigned i = 0; i < s->npending; i++) {
        ev(w, 'f', t, TARGET_PID, tid_of(thr));
        fprintf(w->f, ",\"bp\":\"e\",\"cat\":\"wakeup\",\"name\":\"wakeup\",\"id\":%" PRIu64 "}", s->pending[i]);
    }
    s->npending = 0;
}

static int sched_pass(comb_dash *d, writer *w, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT kind, ts, thr, from_thr, fiber FROM sched_event"
                     " WHERE session = ?1 AND ts IS NOT NULL ORDER BY ts, offset",
                     &st, err, errlen))
        return -1;
    int rc;
    double t = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        t = us_of(w, sqlite3_column_int64(st, 1));
        sqlite3_int64 thr64 = sqlite3_column_int64(st, 2), from64 = sqlite3_column_int64(st, 3);
        uint32_t fiber = (uint32_t)sqlite3_column_int64(st, 4);
        if (!kind || thr64 < 0 || thr64 >= NTHR) {
            w->st->unmatched += kind != NULL; /* not a thread number: no track for it */
            continue;
        }
        unsigned thr = (unsigned)thr64;
        thread_state *s = state_of(w, thr);
        if (!s)
            goto oom;
        if (!strcmp(kind, "wakeup")) {
            /* from_thr is 8 bits on the wire; 255 (or none) is thread mode */
            unsigned from = from64 >= 0 && from64 < 255 && sqlite3_column_type(st, 3) != SQLITE_NULL
                                ? (unsigned)from64 : THREAD_MODE;
            if (on_wakeup(w, t, thr, from))
                goto oom;
        } else if (!strcmp(kind, "enter")) {
            on_enter(w, t, s);
        } else if (!strcmp(kind, "exit")) {
            if (s->run_open)
                close_run(w, t, s);
            else
                w->st->unmatched++;
        } else if (!strcmp(kind, "fiber_resumed")) {
            close_fiber(w, t, s); /* its yield was lost */
            char name[160];
            comb_dash_fiber_label(d, fiber, name, sizeof name);
            slice_begin(w, t, thr, "fiber", name);
            s->fiber_open = true;
            s->fiber = fiber;
            w->st->fiber_runs++;
        } else if (!strcmp(kind, "fiber_yielded") || !strcmp(kind, "fiber_completed")) {
            if (s->fiber_open && s->fiber == fiber)
                close_fiber(w, t, s);
            else
                w->st->unmatched++;
        } else if (!strcmp(kind, "fiber_added")) {
            ev(w, 'i', t, TARGET_PID, tid_of(thr));
            fprintf(w->f, ",\"s\":\"t\",\"cat\":\"fiber\",\"name\":\"fiber added 0x%08" PRIx32 "\"}", fiber);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dash_sql_error(d, err, errlen);
    for (size_t i = 0; i < w->nstates; i++) /* still running when the capture ended */
        close_run(w, t, &w->states[i]);
    return 0;
oom:
    sqlite3_finalize(st);
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* The requested bytes in use, from the normalised trace (frees carry no size). */
static int heap_pass(comb_dash *d, writer *w, char *err, size_t errlen)
{
    int64_t timed;
    if (dash_query_i64(d, "SELECT count(ts) = count(*) AND count(*) > 0 FROM heap_event WHERE session = ?1", &timed,
                       NULL, err, errlen))
        return -1;
    if (!timed)
        return 0; /* imports without timestamps have no place on a timeline */
    comb_pool classes[33];
    unsigned npools = comb_usage_size_classes(8, classes);
    comb_heap_usage u;
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    comb_heap_builder *b = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    comb_replay_policy policy = {.realloc_in_place = true};
    if (comb_heap_usage_init(&u, classes, npools, &policy)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (comb_heap_trace_keep(&t, true, false) || !(b = comb_heap_builder_new(&t))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (dash_prepare(d,
                     "SELECT kind, ts, ptr, old_ptr, size, old_size, offset, seq FROM heap_event"
                     " WHERE session = ?1 ORDER BY offset, seq",
                     &st, err, errlen))
        goto out;
    double last = -1e300;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0);
        int k = kind ? comb_heap_kind_parse(kind) : -1;
        if (k < 0)
            continue;
        comb_heap_raw r = {.kind = (uint8_t)k, .ts = (uint64_t)sqlite3_column_int64(st, 1), .has = COMB_HR_TS};
        static const uint8_t flag[] = {COMB_HR_PTR, COMB_HR_OLD_PTR, COMB_HR_SIZE, COMB_HR_OLD_SIZE};
        uint32_t *dst[] = {&r.ptr, &r.old_ptr, &r.size, &r.old_size};
        for (int c = 0; c < 4; c++)
            if (sqlite3_column_type(st, 2 + c) != SQLITE_NULL) {
                *dst[c] = (uint32_t)sqlite3_column_int64(st, 2 + c);
                r.has |= flag[c];
            }
        r.offset = (uint64_t)sqlite3_column_int64(st, 6);
        r.seq = sqlite3_column_int64(st, 7);
        t.n = 0; /* the builder only appends; the ops are consumed here */
        if (comb_heap_builder_add(b, &r)) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (!t.n)
            continue;
        for (size_t i = 0; i < t.n; i++)
            if (comb_heap_usage_step(&u, &t.ops[i], t.block_size)) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
        double ts = us_of(w, (int64_t)r.ts);
        if (ts < last)
            ts = last; /* a nested event stamped before the one it interrupted */
        last = ts;
        ev(w, 'C', ts, TARGET_PID, -1);
        fprintf(w->f, ",\"name\":\"heap\",\"args\":{\"bytes in use\":%" PRIu64 "}}", u.requested);
        w->st->counters++;
    }
    if (step != SQLITE_DONE) {
        dash_sql_error(d, err, errlen);
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    comb_heap_builder_free(b);
    comb_heap_trace_free(&t);
    comb_heap_usage_free(&u);
    return rc;
}

static int log_pass(comb_dash *d, writer *w, bool ports[NPORTS], char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (dash_prepare(d,
                     "SELECT port, host_ns - (SELECT min(host_ns) FROM log_line WHERE session = ?1), text"
                     " FROM log_line WHERE session = ?1 ORDER BY seq",
                     &st, err, errlen))
        return -1;
    int rc;
    double last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        unsigned port = (unsigned)sqlite3_column_int(st, 0) & 0xFF;
        double t = (double)sqlite3_column_int64(st, 1) / 1e3;
        if (t < last)
            t = last; /* arrival order is seq order; the host clock may be adjusted */
        last = t;
        const char *text = sqlite3_column_blob(st, 2);
        size_t n = (size_t)sqlite3_column_bytes(st, 2);
        ports[port] = true;
        ev(w, 'i', t, HOST_PID, (int)port + 1);
        fputs(",\"s\":\"t\",\"cat\":\"log\",\"name\":", w->f);
        json_string(w->f, text ? text : "", n > 120 ? 120 : n);
        fputs(",\"args\":{\"text\":", w->f);
        json_string(w->f, text ? text : "", n);
        fputs("}}", w->f);
        w->st->log_lines++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : dash_sql_error(d, err, errlen);
}

static void meta(writer *w, int pid, int tid, const char *what, const char *name, int sort)
{
    ev(w, 'M', 0, pid, tid);
    fprintf(w->f, ",\"name\":\"%s\",\"args\":{\"name\":", what);
    json_string(w->f, name, strlen(name));
    fputs("}}", w->f);
    if (sort >= 0) {
        ev(w, 'M', 0, pid, tid);
        fprintf(w->f, ",\"name\":\"%s_sort_index\",\"args\":{\"sort_index\":%d}}",
                tid >= 0 ? "thread" : "process", sort);
    }
}

int comb_export_perfetto(comb_dash *d, FILE *f, comb_perfetto_stats *stats, char *err, size_t errlen)
{
    comb_perfetto_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->f = f;
    w->d = d;
    w->info = &d->info;
    w->first = true;
    w->st = stats;
    const comb_dash_info *i = &d->info;
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"source\":", f);
    json_string(f, i->source, strlen(i->source));
    fprintf(f, ",\"session\":%lld,\"started_at\":", (long long)i->id);
    json_string(f, i->started_at, strlen(i->started_at));
    fprintf(f, ",\"core_hz\":%" PRIu64 ",\"ts_hz\":%" PRIu64 ",\"time_unit\":\"%s\"},\"traceEvents\":[", i->core_hz,
            i->ts_hz, i->ts_hz ? "us" : "ticks");
    bool ports[NPORTS] = {false};
    int rc = -1;
    if (sched_pass(d, w, err, errlen) || heap_pass(d, w, err, errlen) ||
        log_pass(d, w, ports, err, errlen))
        goto out;
    char name[600];
    snprintf(name, sizeof name, "target: %s (session %lld)", i->source, (long long)i->id);
    meta(w, TARGET_PID, -1, "process_name", name, 0);
    for (uint32_t key = 0; key <= THREAD_MODE; key++) { /* in thread order, thread mode last */
        if (!w->index[key])
            continue;
        if (key == THREAD_MODE)
            snprintf(name, sizeof name, "thread mode / other interrupts");
        else
            comb_dash_thread_label(d, key, name, sizeof name);
        meta(w, TARGET_PID, tid_of(key), "thread_name", name, (int)key);
    }
    if (stats->log_lines) {
        meta(w, HOST_PID, -1, "process_name", "host: log lines (arrival time since the first line)", 1);
        for (unsigned p = 0; p < NPORTS; p++)
            if (ports[p]) {
                snprintf(name, sizeof name, "log port %u", p);
                meta(w, HOST_PID, (int)p + 1, "thread_name", name, (int)p);
            }
    }
    fputs("\n]}\n", f);
    rc = 0;
out:
    free(w->states);
    free(w);
    return rc;
}
