/* The virtual table over the log lines of the chunk being written (store_chunk.h).
 * `INSERT INTO log_line SELECT * FROM comb_pending_line` stores a whole chunk's lines in
 * one statement: SQLite reads the rows straight from the chunk, without a bind/step/reset
 * per row (about twice as fast per row as a prepared one-row INSERT, docs/benchmarks.md). */
#include "store_chunk.h"

#include <string.h>

typedef struct pending_vtab {
    sqlite3_vtab base;
    store_pending *pending;
} pending_vtab;

typedef struct pending_cursor {
    sqlite3_vtab_cursor base;
    size_t row;
} pending_cursor;


static int pending_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                           char **err)
{
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(session, seq, port, host_ns, itm_ts, text)");
    if (rc != SQLITE_OK)
        return rc;
    pending_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->pending = aux;
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
    info->estimatedCost = CHUNK_LINES;
    info->estimatedRows = CHUNK_LINES;
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
    return ch ? ch->nline : 0;
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
    line_column(ctx, ch, &ch->line[row], col);
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
    return sqlite3_create_module(db, "comb_pending_line", &pending_module, p);
}
