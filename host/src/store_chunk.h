/*
 * What the session store's capture-side calls hand to its writer thread: a
 * chunk holding one event block each for heap_event and sched_event (encoded
 * by the capture thread as the events arrive, event_block.h), log lines, the
 * rare rows written one statement each, and the commit/end requests that
 * close it. And the eponymous virtual table comb_pending_line, through which
 * one `INSERT INTO log_line SELECT * FROM comb_pending_line` stores a whole
 * chunk's lines. Internal to the session store (session_store.c); one chunk
 * belongs to one thread at a time.
 */
#ifndef COMB_STORE_CHUNK_H
#define COMB_STORE_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "comb/session_store.h"
#include "event_block.h"

#define CHUNK_LINES 1024          /* log lines per chunk */
#define CHUNK_TEXT (256u * 1024u) /* their bytes (a longer line gets a bigger buffer) */
#define CHUNK_MISC 64             /* other events, decode errors, session updates */

/* A log_line row; its text is chunk->text[off, off + len). itm_ts < 0: NULL. */
typedef struct line_row {
    int64_t seq, host_ns, itm_ts;
    uint32_t port, off, len;
} line_row;

enum misc_what { MISC_OTHER_EVENT, MISC_DECODE_ERROR, MISC_SESSION_START };

/* The rare rows, written one statement each. */
typedef struct misc_row {
    uint8_t what;
    union {
        struct {
            int64_t seq, offset, ts;
            uint8_t port, type, depth;
            char name[24];
            char fields[256]; /* 7 fields of at most 28 characters each */
        } ev;
        struct {
            int64_t seq, offset;
            int port;
            uint32_t length;
            const char *layer; /* static strings */
            char kind[24];
        } err;
        struct {
            uint32_t version, core_hz, ts_hz, start_ts;
            char build_id[24];
        } start;
    } u;
} misc_row;

typedef struct store_chunk {
    struct store_chunk *next;
    uint64_t ticket; /* submission number */
    size_t nline, nmisc, text_len;
    bool commit, end;                /* commit after the rows; end: close the session row too */
    bool has_counters;
    comb_session_counters counters;  /* written before the commit when has_counters */
    char reason[24], ended_at[40];   /* end */
    evb_writer heap, sched; /* the blocks (buffers of evb_buffer_size() bytes, malloc'd) */
    line_row line[CHUNK_LINES];
    misc_row misc[CHUNK_MISC];
    uint8_t *text; /* the lines' bytes (malloc'd, CHUNK_TEXT or more) */
    size_t text_cap;
} store_chunk;

/* What the virtual table reads. The writer thread sets `active` to the chunk
 * it is storing, around its INSERT statement; nothing else touches it then. */
typedef struct store_pending {
    const store_chunk *active;
    int64_t session;
} store_pending;

/* Registers the table on `db` (it lives on that connection only, never in the
 * file), reading through `p`, which must outlive the connection. SQLITE_OK or
 * an SQLite error code. */
int store_pending_register(sqlite3 *db, store_pending *p);

#endif
