/*
 * The `comb_events` virtual table module: heap_event and sched_event as
 * tables over event blocks (comb/sqlite_module.h, event_block.h). Compiled
 * into the host library and, with COMB_SQLITE_EXTENSION, into the loadable
 * extension (host/sqlite_ext/).
 *
 * The blocks of a table are ordered by (session, first_seq) through the index
 * <block_table>_seq, and never overlap in seq within a session (the writer and
 * xUpdate both append after the session's last stored seq), so reading blocks
 * in index order and rows in block order gives (session, seq) order: that is
 * what lets xBestIndex consume ORDER BY session, seq.
 */
#ifdef COMB_SQLITE_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#else
#include <sqlite3.h>
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "comb/sqlite_module.h"
#include "event_block.h"

typedef struct ev_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
    char *schema; /* the database the table is in ("main", or an attached one) */
    const evb_shape *shape;
    /* rows inserted and not yet written (xUpdate), all of session `session` */
    uint8_t *buf; /* evb_buffer_size() bytes, allocated at the first insert */
    evb_writer w;
    bool have_session;  /* session and stored_last are known for this transaction */
    int64_t session;
    bool stored_any;    /* the session has stored rows; stored_last is the last seq */
    int64_t stored_last;
    sqlite3_stmt *ins_block, *last_seq;
} ev_vtab;

typedef struct ev_cursor {
    sqlite3_vtab_cursor base;
    sqlite3_stmt *blocks; /* session, data, rowid of the blocks in range, in order */
    int64_t block_rowid;
    bool in_block, eof;
    evb_reader rd;
    evb_row row;
    bool has_lo, has_hi;
    int64_t lo, hi; /* seq bounds, inclusive */
} ev_cursor;

/* idxNum bits */
enum { IDX_SESSION = 1, IDX_SEQ_EQ = 2, IDX_SEQ_LO = 4, IDX_SEQ_HI = 8, IDX_LO_GT = 16, IDX_HI_LT = 32 };

static int vt_error(ev_vtab *v, int rc, const char *msg)
{
    sqlite3_free(v->base.zErrMsg);
    v->base.zErrMsg = sqlite3_mprintf("%s", msg);
    return rc;
}

/* ---- connecting --------------------------------------------------------------------------- */

static int create_blocks(sqlite3 *db, const char *schema, const evb_shape *sh, char **err)
{
    char *sql = sqlite3_mprintf(
        "CREATE TABLE IF NOT EXISTS \"%w\".\"%w\"(session INTEGER NOT NULL REFERENCES session(id),"
        " first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, events INTEGER NOT NULL, data BLOB NOT NULL);"
        "CREATE UNIQUE INDEX IF NOT EXISTS \"%w\".\"%w_seq\" ON \"%w\"(session, first_seq, last_seq);",
        schema, sh->block_table, schema, sh->block_table, sh->block_table);
    if (!sql)
        return SQLITE_NOMEM;
    int rc = sqlite3_exec(db, sql, NULL, NULL, err);
    sqlite3_free(sql);
    return rc;
}

static int ev_init(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err,
                   bool create)
{
    (void)aux;
    const evb_shape *sh = NULL;
    if (argc == 4 && strcmp(argv[3], "heap") == 0)
        sh = &evb_heap;
    else if (argc == 4 && strcmp(argv[3], "sched") == 0)
        sh = &evb_sched;
    if (!sh) {
        *err = sqlite3_mprintf("comb_events: one argument, heap or sched, expected");
        return SQLITE_ERROR;
    }
    int rc = create ? create_blocks(db, argv[1], sh, err) : SQLITE_OK;
    if (rc == SQLITE_OK)
        rc = sqlite3_declare_vtab(db, sh->decl);
    /* it only reads and appends its own block table: safe in views and triggers
     * of a file that is not trusted (PRAGMA trusted_schema = OFF) */
    if (rc == SQLITE_OK)
        rc = sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    if (rc != SQLITE_OK)
        return rc;
    ev_vtab *v = sqlite3_malloc(sizeof *v);
    if (!v)
        return SQLITE_NOMEM;
    memset(v, 0, sizeof *v);
    v->db = db;
    v->shape = sh;
    v->schema = sqlite3_mprintf("%s", argv[1]);
    if (!v->schema) {
        sqlite3_free(v);
        return SQLITE_NOMEM;
    }
    *out = &v->base;
    return SQLITE_OK;
}

static int ev_create(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    return ev_init(db, aux, argc, argv, out, err, true);
}

static int ev_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err)
{
    return ev_init(db, aux, argc, argv, out, err, false);
}

static int ev_disconnect(sqlite3_vtab *tab)
{
    ev_vtab *v = (ev_vtab *)tab;
    sqlite3_finalize(v->ins_block);
    sqlite3_finalize(v->last_seq);
    sqlite3_free(v->buf);
    sqlite3_free(v->schema);
    sqlite3_free(v);
    return SQLITE_OK;
}

/* DROP TABLE heap_event drops its blocks too. */
static int ev_destroy(sqlite3_vtab *tab)
{
    ev_vtab *v = (ev_vtab *)tab;
    char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w\"", v->schema, v->shape->block_table);
    int rc = sql ? sqlite3_exec(v->db, sql, NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return rc;
    return ev_disconnect(tab);
}

/* ---- planning ----------------------------------------------------------------------------- */

static int ev_best_index(sqlite3_vtab *tab, sqlite3_index_info *info)
{
    (void)tab;
    int session = -1, eq = -1, lo = -1, hi = -1, idx = 0;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (!c->usable)
            continue;
        if (c->iColumn == 0 && c->op == SQLITE_INDEX_CONSTRAINT_EQ && session < 0)
            session = i;
        else if (c->iColumn == 1 && c->op == SQLITE_INDEX_CONSTRAINT_EQ && eq < 0)
            eq = i;
        else if (c->iColumn == 1 && (c->op == SQLITE_INDEX_CONSTRAINT_GT || c->op == SQLITE_INDEX_CONSTRAINT_GE) &&
                 lo < 0)
            lo = i;
        else if (c->iColumn == 1 && (c->op == SQLITE_INDEX_CONSTRAINT_LT || c->op == SQLITE_INDEX_CONSTRAINT_LE) &&
                 hi < 0)
            hi = i;
    }
    /* argv order in xFilter: session, then the seq value or bounds; SQLite
     * checks every constraint again (omit stays 0), so a bound only has to
     * narrow what is read, never to be exact */
    int n = 0;
    if (session >= 0) {
        info->aConstraintUsage[session].argvIndex = ++n;
        idx |= IDX_SESSION;
    }
    if (eq >= 0) {
        info->aConstraintUsage[eq].argvIndex = ++n;
        idx |= IDX_SEQ_EQ;
    } else {
        if (lo >= 0) {
            info->aConstraintUsage[lo].argvIndex = ++n;
            idx |= IDX_SEQ_LO | (info->aConstraint[lo].op == SQLITE_INDEX_CONSTRAINT_GT ? IDX_LO_GT : 0);
        }
        if (hi >= 0) {
            info->aConstraintUsage[hi].argvIndex = ++n;
            idx |= IDX_SEQ_HI | (info->aConstraint[hi].op == SQLITE_INDEX_CONSTRAINT_LT ? IDX_HI_LT : 0);
        }
    }
    info->idxNum = idx;

    /* rows come in (session, seq) order */
    bool ordered = info->nOrderBy > 0;
    for (int i = 0; i < info->nOrderBy && ordered; i++) {
        const struct sqlite3_index_orderby *o = &info->aOrderBy[i];
        const bool want = (i == 0 && o->iColumn == 0) || (i == 0 && o->iColumn == 1 && session >= 0) ||
                          (i == 1 && o->iColumn == 1 && info->aOrderBy[0].iColumn == 0);
        ordered = want && !o->desc;
    }
    if (ordered && info->nOrderBy <= 2)
        info->orderByConsumed = 1;

    double rows = session >= 0 ? 1e5 : 1e7;
    if (eq >= 0)
        rows = session >= 0 ? 1 : 10;
    else if (lo >= 0 || hi >= 0)
        rows /= 4;
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = rows;
    if (session >= 0 && eq >= 0)
        info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* *st, prepared on first use from `fmt` with the block table's schema and name (two %w). */
static int prepare_once(ev_vtab *v, sqlite3_stmt **st, const char *fmt)
{
    if (*st)
        return SQLITE_OK;
    char *sql = sqlite3_mprintf(fmt, v->schema, v->shape->block_table);
    int rc = sql ? sqlite3_prepare_v3(v->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) : SQLITE_NOMEM;
    sqlite3_free(sql);
    return rc == SQLITE_OK ? rc : vt_error(v, rc, sqlite3_errmsg(v->db));
}

static int flush(ev_vtab *v)
{
    if (!v->have_session || v->w.rows == 0)
        return SQLITE_OK;
    int rc = prepare_once(v, &v->ins_block,
                          "INSERT INTO \"%w\".\"%w\"(session, first_seq, last_seq, events, data) VALUES (?, ?, ?, ?, ?)");
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_stmt *st = v->ins_block;
    sqlite3_bind_int64(st, 1, v->session);
    sqlite3_bind_int64(st, 2, v->w.first_seq);
    sqlite3_bind_int64(st, 3, v->w.last_seq);
    sqlite3_bind_int64(st, 4, v->w.rows);
    sqlite3_bind_blob(st, 5, v->w.buf, (int)v->w.len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return vt_error(v, rc == SQLITE_ROW ? SQLITE_ERROR : rc, sqlite3_errmsg(v->db));
    v->stored_any = true;
    v->stored_last = v->w.last_seq;
    evb_writer_reset(&v->w, v->shape, v->buf);
    return SQLITE_OK;
}

static void discard(ev_vtab *v)
{
    if (v->buf)
        evb_writer_reset(&v->w, v->shape, v->buf);
    v->have_session = false; /* what is stored may have been rolled back too */
}

/* The session's last stored seq, for the order check. */
static int load_session(ev_vtab *v, int64_t session)
{
    int rc = prepare_once(v, &v->last_seq,
                          "SELECT last_seq FROM \"%w\".\"%w\" WHERE session = ? ORDER BY first_seq DESC LIMIT 1");
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(v->last_seq, 1, session);
    rc = sqlite3_step(v->last_seq);
    v->stored_any = rc == SQLITE_ROW;
    v->stored_last = v->stored_any ? sqlite3_column_int64(v->last_seq, 0) : 0;
    sqlite3_reset(v->last_seq);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vt_error(v, rc, sqlite3_errmsg(v->db));
    v->have_session = true;
    v->session = session;
    return SQLITE_OK;
}

/* An integer value as a column of INTEGER affinity holds it; false for
 * anything that is not a whole number. */
static bool integer_value(sqlite3_value *val, int64_t *out)
{
    switch (sqlite3_value_numeric_type(val)) {
    case SQLITE_INTEGER: *out = sqlite3_value_int64(val); return true;
    case SQLITE_FLOAT: {
        const double d = sqlite3_value_double(val);
        if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return false;
        *out = (int64_t)d;
        return true;
    }
    default: return false;
    }
}

static int row_of_args(ev_vtab *v, sqlite3_value **cols, evb_row *r)
{
    const evb_shape *sh = v->shape;
    memset(r, 0, sizeof *r);
    for (unsigned c = 0; c < sh->ncols; c++) {
        sqlite3_value *val = cols[c];
        char *msg = NULL;
        if (sqlite3_value_type(val) == SQLITE_NULL) {
            if (sh->has_default[c]) {
                r->v[c] = 0;
                r->present |= 1u << c;
            } else if (!sh->nullable[c]) {
                msg = sqlite3_mprintf("%s.%s cannot be NULL", sh->table, sh->cols[c]);
            }
        } else if (sh->coding[c] == EVB_KIND) {
            const int k = sqlite3_value_type(val) == SQLITE_TEXT
                              ? evb_kind_index(sh, (const char *)sqlite3_value_text(val), (size_t)sqlite3_value_bytes(val))
                              : -1;
            if (k < 0) {
                char *names = sqlite3_mprintf("%s", sh->kinds[0]);
                for (unsigned i = 1; names && i < sh->nkinds; i++) {
                    char *more = sqlite3_mprintf("%s, %s", names, sh->kinds[i]);
                    sqlite3_free(names);
                    names = more;
                }
                msg = sqlite3_mprintf("%s.kind: '%s' is not one of %s", sh->table, sqlite3_value_text(val),
                                      names ? names : "");
                sqlite3_free(names);
            } else {
                r->v[c] = k;
                r->present |= 1u << c;
            }
        } else if (integer_value(val, &r->v[c])) {
            r->present |= 1u << c;
        } else {
            msg = sqlite3_mprintf("%s.%s: '%s' is not an integer", sh->table, sh->cols[c], sqlite3_value_text(val));
        }
        if (msg) {
            sqlite3_free(v->base.zErrMsg);
            v->base.zErrMsg = msg;
            return SQLITE_CONSTRAINT;
        }
    }
    return SQLITE_OK;
}

static int ev_update(sqlite3_vtab *tab, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
    ev_vtab *v = (ev_vtab *)tab;
    const evb_shape *sh = v->shape;
    if (argc == 1 || sqlite3_value_type(argv[0]) != SQLITE_NULL) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg = sqlite3_mprintf("%s is append-only: UPDATE and DELETE are not supported (its rows live in "
                                          "%s; delete a session's blocks there)",
                                          sh->table, sh->block_table);
        return SQLITE_CONSTRAINT;
    }
    if (sqlite3_value_type(argv[1]) != SQLITE_NULL)
        return vt_error(v, SQLITE_CONSTRAINT, "a rowid cannot be given: rows are keyed by (session, seq)");
    evb_row r;
    int rc = row_of_args(v, argv + 2, &r);
    if (rc != SQLITE_OK)
        return rc;
    if (!v->buf) {
        v->buf = sqlite3_malloc64(evb_buffer_size());
        if (!v->buf)
            return SQLITE_NOMEM;
        evb_writer_reset(&v->w, sh, v->buf);
    }
    /* the stored end is looked up again whenever the buffer starts afresh: the
     * block table may have changed since (a DELETE of a session's blocks) */
    if (!v->have_session || v->session != r.v[0] || v->w.rows == 0) {
        if ((rc = flush(v)) != SQLITE_OK || (rc = load_session(v, r.v[0])) != SQLITE_OK)
            return rc;
    }
    const bool after_buffer = v->w.rows == 0 || r.v[1] > v->w.last_seq;
    if (!after_buffer || (v->stored_any && r.v[1] <= v->stored_last)) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg = sqlite3_mprintf("%s: seq %lld of session %lld is not after the session's last seq %lld "
                                          "(rows of a session are appended in increasing seq order)",
                                          sh->table, (long long)r.v[1], (long long)r.v[0],
                                          (long long)(v->w.rows ? v->w.last_seq : v->stored_last));
        return SQLITE_CONSTRAINT;
    }
    if (evb_append(&v->w, &r) == 1) { /* full: store it, start the next block */
        if ((rc = flush(v)) != SQLITE_OK)
            return rc;
        evb_append(&v->w, &r);
    }
    *rowid = r.v[1];
    return SQLITE_OK;
}

/* The transaction: buffered rows are written before anything could read or
 * commit them, or before a savepoint that could keep them (so a rollback to
 * any open savepoint only ever has to drop the buffer). */
static int ev_begin(sqlite3_vtab *tab)
{
    (void)tab;
    return SQLITE_OK;
}

static int ev_sync(sqlite3_vtab *tab)
{
    return flush((ev_vtab *)tab);
}

static int ev_commit(sqlite3_vtab *tab)
{
    ((ev_vtab *)tab)->have_session = false; /* another connection may append next */
    return SQLITE_OK;
}

static int ev_rollback(sqlite3_vtab *tab)
{
    discard((ev_vtab *)tab);
    return SQLITE_OK;
}

static int ev_savepoint(sqlite3_vtab *tab, int n)
{
    (void)n;
    return flush((ev_vtab *)tab);
}

static int ev_release(sqlite3_vtab *tab, int n)
{
    (void)tab;
    (void)n;
    return SQLITE_OK;
}

static int ev_rollback_to(sqlite3_vtab *tab, int n)
{
    (void)n;
    discard((ev_vtab *)tab);
    return SQLITE_OK;
}

/* ---- reading ------------------------------------------------------------------------------ */

static int ev_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out)
{
    (void)tab;
    ev_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->eof = true;
    *out = &c->base;
    return SQLITE_OK;
}

static int ev_close(sqlite3_vtab_cursor *cur)
{
    ev_cursor *c = (ev_cursor *)cur;
    sqlite3_finalize(c->blocks);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* Moves to the next row within the bounds, across blocks. */
static int advance(ev_cursor *c)
{
    ev_vtab *v = (ev_vtab *)c->base.pVtab;
    for (;;) { /* ends: every turn consumes a row or a block */
        if (c->in_block) {
            const int rc = evb_next(&c->rd, &c->row);
            if (rc < 0) {
                sqlite3_free(v->base.zErrMsg);
                v->base.zErrMsg = sqlite3_mprintf("%s: a block of session %lld in %s is corrupt", v->shape->table,
                                                  (long long)c->row.v[0], v->shape->block_table);
                return SQLITE_CORRUPT;
            }
            if (rc > 0) {
                if (c->has_lo && c->row.v[1] < c->lo)
                    continue;
                if (c->has_hi && c->row.v[1] > c->hi) {
                    c->in_block = false; /* the rest of this block is above too */
                    continue;
                }
                return SQLITE_OK;
            }
            c->in_block = false;
        }
        const int rc = sqlite3_step(c->blocks);
        if (rc == SQLITE_DONE) {
            c->eof = true;
            return SQLITE_OK;
        }
        if (rc != SQLITE_ROW)
            return vt_error(v, rc, sqlite3_errmsg(v->db));
        const uint8_t *data = sqlite3_column_blob(c->blocks, 1);
        const size_t len = (size_t)sqlite3_column_bytes(c->blocks, 1);
        memset(&c->row, 0, sizeof c->row);
        c->row.v[0] = sqlite3_column_int64(c->blocks, 0);
        c->row.present = 1;
        c->block_rowid = sqlite3_column_int64(c->blocks, 2);
        if (!evb_reader_init(&c->rd, v->shape, data, len)) {
            sqlite3_free(v->base.zErrMsg);
            v->base.zErrMsg = sqlite3_mprintf("%s: a block of session %lld in %s has an unknown format",
                                              v->shape->table, (long long)c->row.v[0], v->shape->block_table);
            return SQLITE_CORRUPT;
        }
        c->in_block = true;
    }
}

static int ev_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxs, int argc, sqlite3_value **argv)
{
    (void)idxs;
    (void)argc;
    ev_cursor *c = (ev_cursor *)cur;
    ev_vtab *v = (ev_vtab *)cur->pVtab;
    int rc = flush(v); /* rows inserted earlier in this transaction are read too */
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_finalize(c->blocks);
    c->blocks = NULL;
    c->in_block = false;
    c->eof = true;
    c->has_lo = c->has_hi = false;
    int a = 0;
    bool none = false; /* a bound no row can meet */
    int64_t session = 0;
    if (idx & IDX_SESSION)
        none |= !integer_value(argv[a++], &session);
    if (idx & IDX_SEQ_EQ) {
        int64_t s;
        if (integer_value(argv[a++], &s)) {
            c->has_lo = c->has_hi = true;
            c->lo = c->hi = s;
        } else {
            none = true;
        }
    }
    for (int bound = 0; bound < 2; bound++) {
        const bool is_lo = bound == 0;
        if (!(idx & (is_lo ? IDX_SEQ_LO : IDX_SEQ_HI)))
            continue;
        sqlite3_value *val = argv[a++];
        const int t = sqlite3_value_numeric_type(val);
        if (t != SQLITE_INTEGER && t != SQLITE_FLOAT)
            continue; /* SQLite's own check decides */
        const bool strict = idx & (is_lo ? IDX_LO_GT : IDX_HI_LT);
        int64_t b;
        if (t == SQLITE_INTEGER) {
            b = sqlite3_value_int64(val);
            if (strict && b == (is_lo ? INT64_MAX : INT64_MIN)) {
                none = true;
                continue;
            }
            if (strict)
                b += is_lo ? 1 : -1;
        } else {
            const double two63 = 9223372036854775808.0;
            double d = sqlite3_value_double(val);
            d = is_lo ? (strict ? floor(d) + 1 : ceil(d)) : (strict ? ceil(d) - 1 : floor(d));
            if (d != d || (is_lo && d >= two63) || (!is_lo && d < -two63)) {
                none = true; /* NaN, or above (below) every int64 */
                continue;
            }
            if (d < -two63 || d >= two63)
                continue; /* every int64 is within: no bound on this side */
            b = (int64_t)d;
        }
        if (is_lo) {
            c->has_lo = true;
            c->lo = b;
        } else {
            c->has_hi = true;
            c->hi = b;
        }
    }
    if (none)
        return SQLITE_OK;
    char *sql = sqlite3_mprintf("SELECT session, data, rowid FROM \"%w\".\"%w\" WHERE 1%s%s%s"
                                " ORDER BY session, first_seq",
                                v->schema, v->shape->block_table, (idx & IDX_SESSION) ? " AND session = ?1" : "",
                                c->has_lo ? " AND last_seq >= ?2" : "", c->has_hi ? " AND first_seq <= ?3" : "");
    if (!sql)
        return SQLITE_NOMEM;
    rc = sqlite3_prepare_v2(v->db, sql, -1, &c->blocks, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return vt_error(v, rc, sqlite3_errmsg(v->db));
    if (idx & IDX_SESSION)
        sqlite3_bind_int64(c->blocks, 1, session);
    if (c->has_lo)
        sqlite3_bind_int64(c->blocks, 2, c->lo);
    if (c->has_hi)
        sqlite3_bind_int64(c->blocks, 3, c->hi);
    c->eof = false;
    return advance(c);
}

static int ev_next(sqlite3_vtab_cursor *cur)
{
    return advance((ev_cursor *)cur);
}

static int ev_eof(sqlite3_vtab_cursor *cur)
{
    return ((ev_cursor *)cur)->eof;
}

static int ev_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const ev_cursor *c = (const ev_cursor *)cur;
    const evb_shape *sh = ((const ev_vtab *)cur->pVtab)->shape;
    if (!(c->row.present >> col & 1u))
        return SQLITE_OK; /* NULL */
    if (sh->coding[col] == EVB_KIND) {
        const int64_t k = c->row.v[col];
        sqlite3_result_text(ctx, sh->kinds[k], sh->kind_len[k], SQLITE_STATIC);
    } else {
        sqlite3_result_int64(ctx, c->row.v[col]);
    }
    return SQLITE_OK;
}

/* Unique in the table (SQLite's OR plans drop rows with equal rowids): the
 * block's rowid and the row's index in it (< EVB_MAX_ROWS = 2^12). */
static int ev_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    const ev_cursor *c = (const ev_cursor *)cur;
    *rowid = (sqlite3_int64)((uint64_t)c->block_rowid << 12 | (c->rd.rows - 1u));
    return SQLITE_OK;
}

static const sqlite3_module events_module = {
    .iVersion = 2, /* savepoints */
    .xCreate = ev_create,
    .xConnect = ev_connect,
    .xBestIndex = ev_best_index,
    .xDisconnect = ev_disconnect,
    .xDestroy = ev_destroy,
    .xOpen = ev_open,
    .xClose = ev_close,
    .xFilter = ev_filter,
    .xNext = ev_next,
    .xEof = ev_eof,
    .xColumn = ev_column,
    .xRowid = ev_rowid,
    .xUpdate = ev_update,
    .xBegin = ev_begin,
    .xSync = ev_sync,
    .xCommit = ev_commit,
    .xRollback = ev_rollback,
    .xSavepoint = ev_savepoint,
    .xRelease = ev_release,
    .xRollbackTo = ev_rollback_to,
};

int comb_sqlite_register(sqlite3 *db)
{
    return sqlite3_create_module_v2(db, "comb_events", &events_module, NULL, NULL);
}
