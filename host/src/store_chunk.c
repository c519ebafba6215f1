/* The virtual tables over the chunk being written (store_chunk.h).
 * `INSERT INTO heap_event SELECT * FROM comb_pending_heap` stores a whole chunk in one
 * statement: SQLite reads the rows straight from the chunk, without a bind/step/reset per
 * row (about twice as fast per row as a prepared one-row INSERT, docs/benchmarks.md). */
#include "store_chunk.h"

#include <string.h>

typedef enum pending_table { PENDING_HEAP, PENDING_SCHED, PENDING_LINE } pending_table;

typedef struct pending_vtab {
    sqlite3_vtab base;
    store_pending *pending;
    pending_table table;
} pending_vtab;

typedef struct pending_cursor {
    sqlite3_vtab_cursor base;
    size_t row;
} pending_cursor;

static const char *const pending_decl[] = {
    [PENDING_HEAP] = "CREATE TABLE x(session, seq, offset, kind, ts, ptr, old_ptr, size, old_size, caller, depth)",
    [PENDING_SCHED] = "CREATE TABLE x(session, seq, offset, kind, ts, thr, from_thr, fiber, depth)",
    [PENDING_LINE] = "CREATE TABLE x(session, seq, port, host_ns, itm_ts, text)",
};

static int pending_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                           char **err)
{
    (void)argc;
    (void)err;
    const pending_table table = strcmp(argv[0], "comb_pending_heap") == 0    ? PENDING_HEAP
                                : strcmp(argv[0], "comb_pending_sched") == 0 ? PENDING_SCHED
                                                                              : PENDING_LINE;
    int rc = sqlite3_declare_vtab(db, pending_decl[table]);
    if (rc != SQLITE_OK)
        return rc;
    pending_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->pending = aux;
    v->table = table;
    *out = &v->base;
    return SQLITE_OK;
}

static int pending_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

static int pending_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    (void)v;
    info->estimatedCost = CHUNK_ROWS;
    info->estimatedRows = CHUNK_ROWS;
    return SQLITE_OK;
}

static int pending_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    (void)v;
    pending_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int pending_close(sqlite3_vtab_cursor *c)
{
    sqlite3_free(c);
    return SQLITE_OK;
}

static int pending_filter(sqlite3_vtab_cursor *c, int idx, const char *idxs, int argc, sqlite3_value **argv)
{
    (void)idx;
    (void)idxs;
    (void)argc;
    (void)argv;
    ((pending_cursor *)c)->row = 0;
    return SQLITE_OK;
}

static int pending_next(sqlite3_vtab_cursor *c)
{
    ((pending_cursor *)c)->row++;
    return SQLITE_OK;
}

static size_t pending_rows(const pending_vtab *v)
{
    const store_chunk *ch = v->pending->active;
    if (!ch)
        return 0;
    return v->table == PENDING_HEAP ? ch->nheap : v->table == PENDING_SCHED ? ch->nsched : ch->nline;
}

static int pending_eof(sqlite3_vtab_cursor *c)
{
    return ((pending_cursor *)c)->row >= pending_rows((const pending_vtab *)c->pVtab);
}

static int pending_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((pending_cursor *)c)->row;
    return SQLITE_OK;
}

static void heap_column(sqlite3_context *ctx, const store_pending *s, const comb_heap_raw *r, int col)
{
    switch (col) {
    case 1: sqlite3_result_int64(ctx, r->seq); return;
    case 2: sqlite3_result_int64(ctx, (int64_t)r->offset); return;
    case 3: sqlite3_result_text(ctx, comb_heap_kind_name(r->kind), s->heap_kind_len[r->kind], SQLITE_STATIC); return;
    case 4: if (r->has & COMB_HR_TS) sqlite3_result_int64(ctx, (int64_t)r->ts); return;
    case 5: if (r->has & COMB_HR_PTR) sqlite3_result_int64(ctx, r->ptr); return;
    case 6: if (r->has & COMB_HR_OLD_PTR) sqlite3_result_int64(ctx, r->old_ptr); return;
    case 7: if (r->has & COMB_HR_SIZE) sqlite3_result_int64(ctx, r->size); return;
    case 8: if (r->has & COMB_HR_OLD_SIZE) sqlite3_result_int64(ctx, r->old_size); return;
    case 9: if (r->has & COMB_HR_CALLER) sqlite3_result_int64(ctx, r->caller); return;
    default: sqlite3_result_int(ctx, r->depth); return;
    }
}

static void sched_column(sqlite3_context *ctx, const store_pending *s, const sched_row *r, int col)
{
    switch (col) {
    case 1: sqlite3_result_int64(ctx, r->seq); return;
    case 2: sqlite3_result_int64(ctx, r->offset); return;
    case 3:
        sqlite3_result_text(ctx, comb_sched_kind_name(r->kind), s->sched_kind_len[r->kind - COMB_EVT_THREAD_WAKEUP],
                            SQLITE_STATIC);
        return;
    case 4: sqlite3_result_int64(ctx, r->ts); return;
    case 5: sqlite3_result_int64(ctx, r->thr); return;
    case 6: if (r->kind == COMB_EVT_THREAD_WAKEUP) sqlite3_result_int64(ctx, r->from_thr); return;
    case 7: if (r->kind >= COMB_EVT_FIBER_ADDED) sqlite3_result_int64(ctx, r->fiber); return;
    default: sqlite3_result_int(ctx, r->depth); return;
    }
}

static void line_column(sqlite3_context *ctx, const store_chunk *ch, const line_row *r, int col)
{
    switch (col) {
    case 1: sqlite3_result_int64(ctx, r->seq); return;
    case 2: sqlite3_result_int64(ctx, r->port); return;
    case 3: sqlite3_result_int64(ctx, r->host_ns); return;
    case 4: if (r->itm_ts >= 0) sqlite3_result_int64(ctx, r->itm_ts); return;
    default: sqlite3_result_blob(ctx, ch->text + r->off, (int)r->len, SQLITE_STATIC); return;
    }
}

static int pending_column(sqlite3_vtab_cursor *c, sqlite3_context *ctx, int col)
{
    const pending_vtab *v = (const pending_vtab *)c->pVtab;
    const store_chunk *ch = v->pending->active;
    const size_t row = ((pending_cursor *)c)->row;
    if (col == 0) {
        sqlite3_result_int64(ctx, v->pending->session);
        return SQLITE_OK;
    }
    switch (v->table) {
    case PENDING_HEAP: heap_column(ctx, v->pending, &ch->heap[row], col); break;
    case PENDING_SCHED: sched_column(ctx, v->pending, &ch->sched[row], col); break;
    default: line_column(ctx, ch, &ch->line[row], col); break;
    }
    return SQLITE_OK;
}

static const sqlite3_module pending_module = {
    .xConnect = pending_connect, /* no xCreate: eponymous only */
    .xBestIndex = pending_best_index,
    .xDisconnect = pending_disconnect,
    .xOpen = pending_open,
    .xClose = pending_close,
    .xFilter = pending_filter,
    .xNext = pending_next,
    .xEof = pending_eof,
    .xColumn = pending_column,
    .xRowid = pending_rowid,
};

int store_pending_register(sqlite3 *db, store_pending *p)
{
    for (unsigned k = 0; k < COMB_HEAP_KIND_COUNT; k++)
        p->heap_kind_len[k] = (int)strlen(comb_heap_kind_name(k));
    for (unsigned t = COMB_EVT_THREAD_WAKEUP; t <= COMB_EVT_FIBER_COMPLETED; t++)
        p->sched_kind_len[t - COMB_EVT_THREAD_WAKEUP] = (int)strlen(comb_sched_kind_name(t));
    static const char *const names[] = {"comb_pending_heap", "comb_pending_sched", "comb_pending_line"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = sqlite3_create_module(db, names[i], &pending_module, p);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}
