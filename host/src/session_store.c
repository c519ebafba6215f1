#include "comb/session_store.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"
#include "event_block.h"
#include "session_schema.h"
#include "store_chunk.h"

struct comb_store {
    sqlite3 *db;
    char *path;
    int64_t session;
    int64_t seq_log, seq_event, seq_error;
    /* per block table: a row was appended this session, and its seq (the blocks
     * of a session must not overlap: event_table.c reads them in seq order) */
    bool heap_any, sched_any;
    int64_t heap_last, sched_last;
    bool in_session;
    atomic_bool failed; /* set once, after errmsg (under mu: both threads may fail) */
    char errmsg[256];
    sqlite3_stmt *ins_heap, *ins_sched, *ins_line, *ins_other, *ins_error, *upd_start, *upd_counters, *upd_end;

    /* producer side: the chunk being filled */
    store_chunk *cur;

    /* the queue: the fields from here to `writer` are guarded by mu */
    pthread_mutex_t mu;
    pthread_cond_t work;     /* writer: a chunk was submitted, or stop */
    pthread_cond_t progress; /* producer: a chunk was written */
    pthread_cond_t committed; /* checkpointer: the writer committed */
    store_chunk *queue_head, *queue_tail, *free_chunks;
    uint64_t submitted, written;
    uint64_t commits, commits_checkpointed;
    bool stop_writer, stop_checkpointer;

    pthread_t writer, checkpointer;
    bool writer_started, checkpointer_started;
    store_pending pending; /* writer thread only: what the virtual tables read (store_chunk.h) */
    sqlite3 *ckpt_db; /* checkpointer thread only: WAL checkpoints on a second connection */
};

static int fail_msg(comb_store *s, const char *msg)
{
    pthread_mutex_lock(&s->mu);
    if (!atomic_load(&s->failed)) { /* the first error is the one reported */
        snprintf(s->errmsg, sizeof s->errmsg, "database: %s", msg);
        atomic_store(&s->failed, true);
    }
    pthread_mutex_unlock(&s->mu);
    return -1;
}

static int fail(comb_store *s, const char *what)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s: %s", what, sqlite3_errmsg(s->db));
    return fail_msg(s, msg);
}

static int exec(comb_store *s, const char *sql, const char *what)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, what);
}

static void utc_now(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* ---- opening ------------------------------------------------------------------------------ */

int comb_store_open(const char *path, comb_store **out, char *err, size_t errlen)
{
    comb_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    atomic_init(&s->failed, false);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->progress, NULL);
    pthread_cond_init(&s->committed, NULL);
    /* NOMUTEX: one thread at a time uses the connection (the caller, or the writer
     * thread during a session), so SQLite's own per-call locking is not needed */
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "no memory");
        comb_store_close(s);
        return -1;
    }
    sqlite3_busy_timeout(s->db, 2000);
    /* heap_event and sched_event are virtual tables over event blocks (schema v5, and the 4 -> 5 migration) */
    if (comb_sqlite_register(s->db) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot register the comb_events module: %s", path, sqlite3_errmsg(s->db));
        comb_store_close(s);
        return -1;
    }
    /* Check the schema version before anything writes to the file: a file
     * this build refuses (newer, or not a comb database) is left untouched. */
    if (comb_session_schema_migrate(s->db, path, err, errlen)) {
        comb_store_close(s);
        return -1;
    }
    /* Foreign keys stay unenforced on this connection (SQLite's default): every row
     * it writes references the session row it created itself, and it deletes
     * nothing; checking each row costs about 15% of the store's throughput. */
    if (exec(s, "PRAGMA journal_mode = WAL", "enable WAL") || exec(s, "PRAGMA synchronous = NORMAL", "set sync")) {
        snprintf(err, errlen, "%s: %s", path, s->errmsg);
        comb_store_close(s);
        return -1;
    }
    if (store_pending_register(s->db, &s->pending) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot register the pending-rows tables: %s", path, sqlite3_errmsg(s->db));
        comb_store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

const char *comb_store_errmsg(const comb_store *s)
{
    return s->errmsg;
}

struct sqlite3 *comb_store_handle(comb_store *s)
{
    return s->db;
}

static int prepare(comb_store *s, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK ? 0
                                                                                               : fail(s, "prepare");
}

static void finalize_statements(comb_store *s)
{
    sqlite3_stmt **all[] = {&s->ins_heap,  &s->ins_sched, &s->ins_line,     &s->ins_other,
                            &s->ins_error, &s->upd_start, &s->upd_counters, &s->upd_end};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
}

/* ---- the writer thread ------------------------------------------------------------------- */

static int step_reset(comb_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

static int write_misc(comb_store *s, const misc_row *m)
{
    sqlite3_stmt *st;
    switch (m->what) {
    case MISC_OTHER_EVENT:
        st = s->ins_other;
        sqlite3_bind_int64(st, 1, s->session);
        sqlite3_bind_int64(st, 2, m->u.ev.seq);
        sqlite3_bind_int64(st, 3, m->u.ev.offset);
        sqlite3_bind_int(st, 4, m->u.ev.port);
        sqlite3_bind_int(st, 5, m->u.ev.type);
        sqlite3_bind_text(st, 6, m->u.ev.name, -1, SQLITE_STATIC);
        if (m->u.ev.ts >= 0)
            sqlite3_bind_int64(st, 7, m->u.ev.ts);
        sqlite3_bind_int(st, 8, m->u.ev.depth);
        sqlite3_bind_text(st, 9, m->u.ev.fields, -1, SQLITE_STATIC);
        return step_reset(s, st, "store trace event");
    case MISC_DECODE_ERROR:
        st = s->ins_error;
        sqlite3_bind_int64(st, 1, s->session);
        sqlite3_bind_int64(st, 2, m->u.err.seq);
        sqlite3_bind_int64(st, 3, m->u.err.offset);
        sqlite3_bind_text(st, 4, m->u.err.layer, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, m->u.err.kind, -1, SQLITE_STATIC);
        if (m->u.err.port >= 0)
            sqlite3_bind_int(st, 6, m->u.err.port);
        sqlite3_bind_int64(st, 7, m->u.err.length);
        return step_reset(s, st, "store decode error");
    default:
        st = s->upd_start;
        sqlite3_bind_int64(st, 1, m->u.start.version);
        sqlite3_bind_int64(st, 2, m->u.start.core_hz);
        sqlite3_bind_int64(st, 3, m->u.start.ts_hz);
        sqlite3_bind_text(st, 4, m->u.start.build_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, m->u.start.start_ts);
        sqlite3_bind_int64(st, 6, s->session);
        return step_reset(s, st, "record session start");
    }
}

static int write_counters(comb_store *s, const comb_session_counters *c)
{
    sqlite3_stmt *st = s->upd_counters;
    const uint64_t v[] = {c->bytes,         c->packets,       c->events,       c->log_lines, c->overflows,
                          c->decode_errors, c->bytes_skipped, c->trace_errors, c->dropped,   c->acks};
    int i = 0;
    for (; i < 10; i++)
        sqlite3_bind_int64(st, i + 1, (int64_t)v[i]);
    if (c->link_known) {
        sqlite3_bind_int64(st, 11, (int64_t)c->link_overruns);
        sqlite3_bind_int64(st, 12, (int64_t)c->link_line_errors);
        sqlite3_bind_int64(st, 13, (int64_t)c->link_host_dropped);
    }
    if (c->tpiu_known) {
        sqlite3_bind_int64(st, 14, (int64_t)c->tpiu_frames);
        sqlite3_bind_int64(st, 15, (int64_t)c->tpiu_bytes_other);
        sqlite3_bind_int64(st, 16, (int64_t)c->tpiu_realigns);
        sqlite3_bind_int64(st, 17, (int64_t)c->tpiu_bytes_dropped);
    }
    sqlite3_bind_int64(st, 18, s->session);
    return step_reset(s, st, "update session counters");
}

/* One event block: a row of heap_block or sched_block (event_block.h). */
static int write_block(comb_store *s, sqlite3_stmt *st, const evb_writer *w, const char *what)
{
    sqlite3_bind_int64(st, 1, s->session);
    sqlite3_bind_int64(st, 2, w->first_seq);
    sqlite3_bind_int64(st, 3, w->last_seq);
    sqlite3_bind_int64(st, 4, w->rows);
    sqlite3_bind_blob(st, 5, w->buf, (int)w->len, SQLITE_STATIC);
    return step_reset(s, st, what);
}

/* Stores one chunk; on the writer thread. */
static void write_chunk(comb_store *s, store_chunk *ch)
{
    if (atomic_load(&s->failed))
        return;
    s->pending.active = ch;
    int rc = 0;
    if (ch->heap.rows)
        rc = write_block(s, s->ins_heap, &ch->heap, "store heap events");
    if (!rc && ch->sched.rows)
        rc = write_block(s, s->ins_sched, &ch->sched, "store scheduler events");
    if (!rc && ch->nline)
        rc = step_reset(s, s->ins_line, "store log lines");
    for (size_t i = 0; !rc && i < ch->nmisc; i++)
        rc = write_misc(s, &ch->misc[i]);
    s->pending.active = NULL;
    if (rc)
        return;
    if (ch->has_counters && write_counters(s, &ch->counters))
        return;
    if (ch->end) {
        sqlite3_stmt *st = s->upd_end;
        sqlite3_bind_text(st, 1, ch->ended_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, ch->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, s->session);
        if (step_reset(s, st, "close session"))
            return;
    }
    if (ch->commit || ch->end) {
        if (exec(s, "COMMIT", ch->end ? "final commit" : "commit") || (!ch->end && exec(s, "BEGIN", "begin")))
            return;
        pthread_mutex_lock(&s->mu);
        s->commits++;
        pthread_cond_signal(&s->committed);
        pthread_mutex_unlock(&s->mu);
    }
}

static void *writer_main(void *arg)
{
    comb_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        /* waits for work: woken by every submit and by the stop request */
        while (!s->queue_head && !s->stop_writer)
            pthread_cond_wait(&s->work, &s->mu);
        store_chunk *ch = s->queue_head;
        if (!ch)
            break; /* stop, and everything submitted is written */
        s->queue_head = ch->next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        write_chunk(s, ch);
        pthread_mutex_lock(&s->mu);
        s->written = ch->ticket;
        ch->next = s->free_chunks;
        s->free_chunks = ch;
        pthread_cond_broadcast(&s->progress);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Copies committed WAL frames into the database file, so the writer never has
 * to (its connection has wal_autocheckpoint off during a session). PASSIVE: it
 * never blocks the writer; what it cannot copy yet waits for the next commit. */
static void *checkpointer_main(void *arg)
{
    comb_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        /* waits for a commit it has not checkpointed yet, or the stop request */
        while (s->commits == s->commits_checkpointed && !s->stop_checkpointer)
            pthread_cond_wait(&s->committed, &s->mu);
        if (s->stop_checkpointer)
            break;
        s->commits_checkpointed = s->commits;
        pthread_mutex_unlock(&s->mu);
        sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the producer side ------------------------------------------------------------------- */

static void chunk_reset(store_chunk *ch)
{
    evb_writer_reset(&ch->heap, &evb_heap, ch->heap.buf);
    evb_writer_reset(&ch->sched, &evb_sched, ch->sched.buf);
    ch->nline = ch->nmisc = ch->text_len = 0;
    ch->commit = ch->end = ch->has_counters = false;
}

/* Hands the current chunk to the writer and takes a free one (waiting while
 * all are queued: the bounded queue). wait: also until the writer has stored
 * it. Returns -1 when the store failed. */
static int submit(comb_store *s, bool wait)
{
    store_chunk *ch = s->cur;
    pthread_mutex_lock(&s->mu);
    const uint64_t ticket = ch->ticket = ++s->submitted; /* ch may be written and reused before we wait */
    ch->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = ch;
    else
        s->queue_head = ch;
    s->queue_tail = ch;
    pthread_cond_signal(&s->work);
    /* at most COMB_STORE_CHUNKS - 1 chunks are queued, so this ends when the writer has stored one */
    while (!s->free_chunks)
        pthread_cond_wait(&s->progress, &s->mu);
    s->cur = s->free_chunks;
    s->free_chunks = s->cur->next;
    chunk_reset(s->cur);
    while (wait && s->written < ticket) /* the writer works through the queue in order */
        pthread_cond_wait(&s->progress, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return atomic_load(&s->failed) ? -1 : 0;
}

/* The chunk to append to, or NULL when the store cannot take rows. */
static store_chunk *writable(comb_store *s)
{
    if (atomic_load(&s->failed))
        return NULL;
    if (!s->in_session) {
        fail_msg(s, "no session is open");
        return NULL;
    }
    return s->cur;
}

/* The store's threads take no signals: Ctrl-C and SIGTERM must reach the
 * capture loop's thread, whose poll() they interrupt. */
static bool start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    bool ok = pthread_create(t, NULL, fn, arg) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

static void free_chunks(comb_store *s)
{
    while (s->free_chunks) {
        store_chunk *next = s->free_chunks->next;
        free(s->free_chunks->text);
        free(s->free_chunks->heap.buf);
        free(s->free_chunks->sched.buf);
        free(s->free_chunks);
        s->free_chunks = next;
    }
}

static void stop_threads(comb_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop_writer = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->writer, NULL);
    s->writer_started = false;
    pthread_mutex_lock(&s->mu);
    s->stop_checkpointer = true;
    pthread_cond_signal(&s->committed);
    pthread_mutex_unlock(&s->mu);
    if (s->checkpointer_started)
        pthread_join(s->checkpointer, NULL);
    s->checkpointer_started = false;
    sqlite3_close(s->ckpt_db);
    s->ckpt_db = NULL;
    /* the chunks: the current one and every free one (the queue is empty now) */
    if (s->cur) {
        s->cur->next = s->free_chunks;
        s->free_chunks = s->cur;
        s->cur = NULL;
    }
    free_chunks(s);
    s->in_session = false;
    sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 1000", NULL, NULL, NULL); /* SQLite's default */
}

int comb_store_session_begin(comb_store *s, const char *source, const char *settings_json, int64_t *id)
{
    if (atomic_load(&s->failed))
        return -1;
    if (s->in_session)
        return fail_msg(s, "a session is already open");
    char now[40];
    utc_now(now, sizeof now);
    sqlite3_stmt *st;
    if (prepare(s, "INSERT INTO session(started_at, source, settings) VALUES (?, ?, ?)", &st))
        return -1;
    sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, settings_json, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(s, "create session");
    s->session = sqlite3_last_insert_rowid(s->db);
    s->pending.session = s->session;
    *id = s->session;
    s->seq_log = s->seq_event = s->seq_error = 0;
    s->heap_any = s->sched_any = false;
    finalize_statements(s);
    if (prepare(s, "INSERT INTO heap_block(session, first_seq, last_seq, events, data) VALUES (?, ?, ?, ?, ?)",
                &s->ins_heap) ||
        prepare(s, "INSERT INTO sched_block(session, first_seq, last_seq, events, data) VALUES (?, ?, ?, ?, ?)",
                &s->ins_sched) ||
        prepare(s, "INSERT INTO log_line SELECT * FROM comb_pending_line", &s->ins_line) ||
        prepare(s, "INSERT INTO other_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &s->ins_other) ||
        prepare(s, "INSERT INTO decode_error VALUES (?, ?, ?, ?, ?, ?, ?)", &s->ins_error) ||
        prepare(s, "UPDATE session SET protocol_version=?, core_hz=?, ts_hz=?, build_id=?, start_ts=? WHERE id=?",
                &s->upd_start) ||
        prepare(s,
                "UPDATE session SET bytes=?, packets=?, events=?, log_lines=?, overflows=?, decode_errors=?,"
                " bytes_skipped=?, trace_errors=?, dropped=?, acks=?, link_overruns=?, link_line_errors=?,"
                " link_host_dropped=?, tpiu_frames=?, tpiu_bytes_other=?, tpiu_realigns=?, tpiu_bytes_dropped=?"
                " WHERE id=?",
                &s->upd_counters) ||
        prepare(s, "UPDATE session SET ended_at=?, end_reason=? WHERE id=?", &s->upd_end))
        return -1;

    /* the chunks: one to fill, the rest free */
    for (int i = 0; i < COMB_STORE_CHUNKS; i++) {
        store_chunk *ch = malloc(sizeof *ch);
        uint8_t *text = malloc(CHUNK_TEXT), *heap = malloc(evb_buffer_size()), *sched = malloc(evb_buffer_size());
        if (!ch || !text || !heap || !sched) {
            free(ch);
            free(text);
            free(heap);
            free(sched);
            free_chunks(s);
            return fail_msg(s, "out of memory for the write queue");
        }
        ch->heap.buf = heap;
        ch->sched.buf = sched;
        chunk_reset(ch);
        ch->text = text;
        ch->text_cap = CHUNK_TEXT;
        ch->next = s->free_chunks;
        s->free_chunks = ch;
    }
    s->cur = s->free_chunks;
    s->free_chunks = s->cur->next;
    s->queue_head = s->queue_tail = NULL;
    s->submitted = s->written = 0;
    s->commits = s->commits_checkpointed = 0;
    s->stop_writer = s->stop_checkpointer = false;

    /* the checkpointer's connection; without it the writer checkpoints as SQLite does by default */
    if (sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
        sqlite3_exec(s->ckpt_db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) == SQLITE_OK &&
        start_thread(&s->checkpointer, checkpointer_main, s)) {
        s->checkpointer_started = true;
        sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL);
    } else {
        sqlite3_close(s->ckpt_db);
        s->ckpt_db = NULL;
    }
    s->in_session = true;
    /* The session row is durable at once; data goes in batched transactions. */
    if (exec(s, "BEGIN", "begin"))
        return -1;
    if (!start_thread(&s->writer, writer_main, s)) {
        fail_msg(s, "cannot start the writer thread");
        stop_threads(s);
        return -1;
    }
    s->writer_started = true;
    return 0;
}

int comb_store_session_start_event(comb_store *s, const comb_trace_event *ev)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    if (ch->nmisc == CHUNK_MISC && submit(s, false))
        return -1;
    ch = s->cur;
    misc_row *m = &ch->misc[ch->nmisc++];
    m->what = MISC_SESSION_START;
    uint32_t version = 0, core = 0, tshz = 0, lo = 0, hi = 0, ts = 0;
    comb_trace_event_field(ev, "version", &version);
    comb_trace_event_field(ev, "core_hz", &core);
    comb_trace_event_field(ev, "ts_hz", &tshz);
    comb_trace_event_field(ev, "build_id_lo", &lo);
    comb_trace_event_field(ev, "build_id_hi", &hi);
    comb_trace_event_field(ev, "ts", &ts);
    m->u.start.version = version;
    m->u.start.core_hz = core;
    m->u.start.ts_hz = tshz;
    m->u.start.start_ts = ts;
    snprintf(m->u.start.build_id, sizeof m->u.start.build_id, "%08x%08x", (unsigned)hi, (unsigned)lo);
    return 0;
}

int comb_store_log_line(comb_store *s, unsigned port, int64_t host_ns, int64_t itm_ts, const uint8_t *text,
                        size_t len)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    if ((ch->nline == CHUNK_LINES || ch->text_len + len > ch->text_cap) && submit(s, false))
        return -1;
    ch = s->cur;
    if (len > ch->text_cap) { /* longer than any line a capture makes (1 KiB): this chunk grows */
        uint8_t *bigger = realloc(ch->text, len);
        if (!bigger)
            return fail_msg(s, "out of memory for a log line");
        ch->text = bigger;
        ch->text_cap = len;
    }
    line_row *r = &ch->line[ch->nline++];
    r->seq = s->seq_log++;
    r->host_ns = host_ns;
    r->itm_ts = itm_ts;
    r->port = port;
    r->off = (uint32_t)ch->text_len;
    r->len = (uint32_t)len;
    if (len)
        memcpy(ch->text + ch->text_len, text, len);
    ch->text_len += len;
    return 0;
}

/* The heap_event row of a heap event, fields by position (trace_protocol.h);
 * false when the event does not have the shape its schema gives. */
static bool heap_row_of(const comb_trace_event *ev, int64_t ts64, comb_heap_raw *r)
{
    const unsigned req = ev->schema->nfields;
    if (ev->nfields != req + (ev->has_caller ? 1u : 0u))
        return false;
    const uint32_t *v = ev->values;
    const uint32_t ts = v[req - 1]; /* always the last required field */
    if (ts64 < 0 || (uint32_t)ts64 != ts)
        return false; /* the view rebuilds the raw field from the 64-bit one */
    memset(r, 0, sizeof *r);
    r->offset = ev->offset;
    r->ts = (uint64_t)ts64;
    r->depth = ev->depth;
    r->has = COMB_HR_TS;
    switch (ev->type) {
    case COMB_EVT_HEAP_ALLOC:
    case COMB_EVT_HEAP_RESIZE:
        r->kind = ev->type == COMB_EVT_HEAP_ALLOC ? COMB_HEAP_ALLOC : COMB_HEAP_RESIZE;
        r->ptr = v[0];
        r->size = v[1];
        r->has |= COMB_HR_PTR | COMB_HR_SIZE;
        break;
    case COMB_EVT_HEAP_FREE:
        r->kind = COMB_HEAP_FREE;
        r->ptr = v[0];
        r->has |= COMB_HR_PTR;
        break;
    case COMB_EVT_HEAP_REALLOC:
        r->kind = COMB_HEAP_REALLOC;
        r->old_ptr = v[0];
        r->ptr = v[1];
        r->size = v[2];
        r->has |= COMB_HR_OLD_PTR | COMB_HR_PTR | COMB_HR_SIZE;
        break;
    default: /* COMB_EVT_HEAP_FAIL */
        r->kind = COMB_HEAP_FAIL;
        r->size = v[0];
        r->has |= COMB_HR_SIZE;
        break;
    }
    if (ev->has_caller) {
        r->caller = v[req];
        r->has |= COMB_HR_CALLER;
    }
    return true;
}

/* The sched_event row of a scheduler event (columns as evb_sched); false when
 * the event does not have the shape its schema gives. */
static bool sched_row_of(const comb_trace_event *ev, int64_t ts64, int64_t seq, evb_row *r)
{
    const unsigned n = ev->schema->nfields;
    if (ev->nfields != n || ev->has_caller)
        return false;
    const uint32_t *v = ev->values;
    if (ts64 < 0 || (uint32_t)ts64 != v[n - 1])
        return false;
    r->v[1] = seq;
    r->v[2] = (int64_t)ev->offset;
    r->v[3] = ev->type - COMB_EVT_THREAD_WAKEUP; /* evb_sched's kinds are in type order */
    r->v[4] = ts64;
    r->v[5] = ev->type == COMB_EVT_THREAD_WAKEUP ? (v[0] & 0xFFu) : v[0];
    r->v[8] = ev->depth;
    r->present = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8;
    if (ev->type == COMB_EVT_THREAD_WAKEUP) {
        r->v[6] = (v[0] >> 8) & 0xFFu; /* ids is 16 bits: from << 8 | to */
        r->present |= 1u << 6;
    }
    if (ev->type >= COMB_EVT_FIBER_ADDED) {
        r->v[7] = v[1];
        r->present |= 1u << 7;
    }
    return true;
}

/* A heap_event row (columns as evb_heap) of a comb_heap_raw. */
static void heap_evb_row(const comb_heap_raw *h, evb_row *r)
{
    r->v[1] = h->seq;
    r->v[2] = (int64_t)h->offset;
    r->v[3] = h->kind; /* evb_heap's kinds are in comb_heap_kind order */
    r->v[10] = h->depth;
    r->present = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 10;
    const struct {
        unsigned flag, col;
        int64_t val;
    } opt[] = {{COMB_HR_TS, 4, (int64_t)h->ts},        {COMB_HR_PTR, 5, h->ptr},
               {COMB_HR_OLD_PTR, 6, h->old_ptr},       {COMB_HR_SIZE, 7, h->size},
               {COMB_HR_OLD_SIZE, 8, h->old_size},     {COMB_HR_CALLER, 9, h->caller}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (h->has & opt[i].flag) {
            r->v[opt[i].col] = opt[i].val;
            r->present |= 1u << opt[i].col;
        }
}

static void other_row_of(const comb_trace_event *ev, int64_t ts64, misc_row *m)
{
    m->what = MISC_OTHER_EVENT;
    m->u.ev.offset = (int64_t)ev->offset;
    m->u.ev.ts = ts64;
    m->u.ev.port = ev->port;
    m->u.ev.type = ev->type;
    m->u.ev.depth = ev->depth;
    char namebuf[24];
    snprintf(m->u.ev.name, sizeof m->u.ev.name, "%s", comb_trace_event_name(ev, namebuf, sizeof namebuf));
    char *json = m->u.ev.fields;
    const size_t cap = sizeof m->u.ev.fields;
    size_t n = 0;
    json[n++] = '{';
    for (unsigned i = 0; i < ev->nfields && i < COMB_EVT_MAX_FIELDS; i++) {
        char fname[8];
        const char *fn = ev->schema && ev->schema->field_names[i] ? ev->schema->field_names[i] : NULL;
        if (!fn) {
            snprintf(fname, sizeof fname, "f%u", i);
            fn = fname;
        }
        n += (size_t)snprintf(json + n, cap - n, "%s\"%s\":%u", i ? "," : "", fn, (unsigned)ev->values[i]);
    }
    snprintf(json + n, cap - n, "}");
}

/* Appends a row to the current chunk's heap or scheduler block (a full chunk
 * goes to the writer first). The seq must be above the table's last one in
 * this session, across chunks too. */
static int append_row(comb_store *s, bool sched, const evb_row *r)
{
    bool *any = sched ? &s->sched_any : &s->heap_any;
    int64_t *last = sched ? &s->sched_last : &s->heap_last;
    if (*any && r->v[1] <= *last) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s event seq %lld is not after the previous one (%lld) of this session",
                 sched ? "scheduler" : "heap", (long long)r->v[1], (long long)*last);
        return fail_msg(s, msg);
    }
    if ((sched ? s->cur->sched.rows : s->cur->heap.rows) == EVB_MAX_ROWS && submit(s, false))
        return -1;
    if (evb_append(sched ? &s->cur->sched : &s->cur->heap, r) != 0) /* room made, seq checked: columns */
        return fail_msg(s, "an event row without its required columns");
    *any = true;
    *last = r->v[1];
    return 0;
}

int comb_store_event(comb_store *s, const comb_trace_event *ev, int64_t ts64)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    const bool heap = ev->schema && ev->port == COMB_PORT_HEAP && ev->type >= COMB_EVT_HEAP_ALLOC &&
                      ev->type <= COMB_EVT_HEAP_FAIL;
    const bool sched = ev->schema && ev->port == COMB_PORT_SCHED && comb_sched_kind_name(ev->type);
    evb_row row;
    comb_heap_raw h;
    if (heap && heap_row_of(ev, ts64, &h)) {
        h.seq = s->seq_event++;
        heap_evb_row(&h, &row);
        return append_row(s, false, &row);
    }
    if (sched && sched_row_of(ev, ts64, s->seq_event, &row)) {
        s->seq_event++;
        return append_row(s, true, &row);
    }
    /* everything else, and typed events whose shape the typed tables cannot hold */
    if (ch->nmisc == CHUNK_MISC && submit(s, false))
        return -1;
    ch = s->cur;
    misc_row *m = &ch->misc[ch->nmisc++];
    other_row_of(ev, ts64, m);
    m->u.ev.seq = s->seq_event++;
    return 0;
}

int comb_store_heap_event(comb_store *s, const comb_heap_raw *r)
{
    if (!writable(s))
        return -1;
    if (r->kind >= COMB_HEAP_KIND_COUNT)
        return fail_msg(s, "heap event of an unknown kind");
    evb_row row;
    heap_evb_row(r, &row);
    return append_row(s, false, &row);
}

const char *comb_sched_kind_name(unsigned type)
{
    switch (type) {
    case COMB_EVT_THREAD_WAKEUP: return "wakeup";
    case COMB_EVT_THREAD_ENTER: return "enter";
    case COMB_EVT_THREAD_EXIT: return "exit";
    case COMB_EVT_FIBER_ADDED: return "fiber_added";
    case COMB_EVT_FIBER_RESUMED: return "fiber_resumed";
    case COMB_EVT_FIBER_YIELDED: return "fiber_yielded";
    case COMB_EVT_FIBER_COMPLETED: return "fiber_completed";
    default: return NULL;
    }
}

int comb_store_decode_error(comb_store *s, uint64_t offset, const char *layer, const char *kind, int port,
                            uint32_t length)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    if (ch->nmisc == CHUNK_MISC && submit(s, false))
        return -1;
    ch = s->cur;
    misc_row *m = &ch->misc[ch->nmisc++];
    m->what = MISC_DECODE_ERROR;
    m->u.err.seq = s->seq_error++;
    m->u.err.offset = (int64_t)offset;
    m->u.err.layer = strcmp(layer, "itm") == 0 ? "itm" : "trace";
    snprintf(m->u.err.kind, sizeof m->u.err.kind, "%s", kind);
    m->u.err.port = port;
    m->u.err.length = length;
    return 0;
}

int comb_store_checkpoint(comb_store *s, const comb_session_counters *c)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    ch->commit = true;
    ch->has_counters = true;
    ch->counters = *c;
    return submit(s, true);
}

int comb_store_session_end(comb_store *s, const comb_session_counters *c, const char *reason)
{
    store_chunk *ch = writable(s);
    if (!ch)
        return -1;
    ch->end = true;
    ch->has_counters = true;
    ch->counters = *c;
    snprintf(ch->reason, sizeof ch->reason, "%s", reason);
    utc_now(ch->ended_at, sizeof ch->ended_at);
    int rc = submit(s, true);
    stop_threads(s);
    return rc;
}

void comb_store_close(comb_store *s)
{
    if (!s)
        return;
    if (s->in_session) {
        /* keep what was captured: commit it, as the last checkpoint left the counters */
        if (!atomic_load(&s->failed)) {
            s->cur->commit = true;
            submit(s, true);
        }
        stop_threads(s);
    }
    finalize_statements(s);
    if (s->db) {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL); /* keep what was captured */
        sqlite3_close(s->db);
    }
    pthread_cond_destroy(&s->committed);
    pthread_cond_destroy(&s->progress);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}
