/*
 * Event blocks: the compact storage behind the heap_event and sched_event
 * tables (schema v5, docs/schema.md "Event blocks"). A block is one row of
 * heap_block or sched_block holding up to EVB_MAX_ROWS consecutive rows of one
 * session, in strictly increasing seq order, as a byte string:
 *
 *   block := format(0x01) row*
 *   row   := head:varint value*      head = kind | present << 3
 *
 * `present` has one bit per nullable column (in column order); the values of
 * seq and the NOT NULL columns always follow, a nullable one only when its bit
 * is set. Every value is a zigzag varint, except seq after the first row: the
 * first row's seq as is, then the step from the previous row's as an unsigned
 * varint (>= 1; it may exceed INT64_MAX), delta columns as the difference to the previous
 * value of their group (offsets, timestamps, addresses, callers/fibers repeat
 * or move by little), the rest as is. A heap or scheduler event takes 8-12
 * bytes this way instead of ~40 as a SQLite row, and a block is one B-tree
 * row instead of thousands, which is what lets the store keep up with
 * 2,000,000 events/s (docs/benchmarks.md).
 *
 * Pure C, no SQLite: used by the session store's writer (session_store.c), by
 * the virtual tables that read and write the blocks (event_table.c) and by the
 * loadable SQLite extension built from the same sources.
 */
#ifndef COMB_EVENT_BLOCK_H
#define COMB_EVENT_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVB_MAX_COLS 11     /* columns of the widest table (heap_event), session included */
#define EVB_MAX_ROWS 4096   /* rows per block */
#define EVB_MAX_ROW_BYTES (10 * (EVB_MAX_COLS + 1)) /* a row never encodes longer than this */
#define EVB_FORMAT 1

enum evb_coding {
    EVB_SESSION, /* column 0: the block's, not stored per row */
    EVB_SEQ,     /* column 1: strictly increasing, stored as the step */
    EVB_KIND,    /* an index into the table's kind names, stored in the row head */
    EVB_DELTA,   /* difference to the previous value of the same group */
    EVB_PLAIN,   /* as is */
};

#define EVB_GROUPS 4

/* The shape of one typed table. */
typedef struct evb_shape {
    const char *table;          /* "heap_event" */
    const char *block_table;    /* "heap_block" */
    const char *decl;           /* its columns, as sqlite3_declare_vtab wants them */
    unsigned ncols;
    const char *cols[EVB_MAX_COLS];
    uint8_t coding[EVB_MAX_COLS];
    uint8_t group[EVB_MAX_COLS];  /* EVB_DELTA: which running value */
    bool nullable[EVB_MAX_COLS];
    bool has_default[EVB_MAX_COLS]; /* a NULL given on insert becomes 0 (depth) */
    unsigned nkinds;
    const char *kinds[8];
    int kind_len[8];
} evb_shape;

extern const evb_shape evb_heap;  /* heap_event / heap_block */
extern const evb_shape evb_sched; /* sched_event / sched_block */

/* One row: v[i] is column i's value when bit i of `present` is set (NULL
 * otherwise); v[0] is the session, v[1] the seq; the kind column holds the
 * index into shape->kinds. */
typedef struct evb_row {
    int64_t v[EVB_MAX_COLS];
    uint32_t present;
} evb_row;

/* Builds a block in a caller-owned buffer of at least
 * EVB_MAX_ROWS * EVB_MAX_ROW_BYTES + 1 bytes (evb_buffer_size). */
typedef struct evb_writer {
    const evb_shape *shape;
    uint8_t *buf;
    size_t len;
    unsigned rows;
    int64_t first_seq, last_seq;
    int64_t prev[EVB_GROUPS];
} evb_writer;

size_t evb_buffer_size(void);

/* Starts an empty block in buf. */
void evb_writer_reset(evb_writer *w, const evb_shape *shape, uint8_t *buf);

/* Appends a row. Returns 0; 1 when the block is full (EVB_MAX_ROWS rows: store
 * it and reset first); -1 when r->v[1] is not above the block's last seq (the
 * row is not added), -2 when a NOT NULL column is absent or the kind is out of
 * range. The session column is not looked at. */
int evb_append(evb_writer *w, const evb_row *r);

/* Reads a block row by row. The bytes must stay valid while it reads. */
typedef struct evb_reader {
    const evb_shape *shape;
    const uint8_t *p, *end;
    int64_t seq;
    unsigned rows;
    int64_t prev[EVB_GROUPS];
} evb_reader;

/* false when the block does not start with a format this build reads. */
bool evb_reader_init(evb_reader *rd, const evb_shape *shape, const uint8_t *data, size_t len);

/* Decodes the next row into *r (session column left as is). 1: a row; 0: the
 * block is done; -1: the block is corrupt (truncated value, kind out of
 * range, seq not increasing). */
int evb_next(evb_reader *rd, evb_row *r);

/* The kind's index for a name, -1 when the table has no such kind. */
int evb_kind_index(const evb_shape *shape, const char *name, size_t len);

#endif
