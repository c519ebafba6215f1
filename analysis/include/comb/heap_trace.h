/*
 * Heap traces: the raw events a session holds (one row of the `heap_event`
 * table, docs/schema.md) and the normalised operation stream every analysis
 * works on.
 *
 * Raw events come from two kinds of source:
 *  - comb captures (trace protocol v1): blocks are identified by address;
 *    a free carries no size (the host knows it from the block's alloc);
 *  - Drone heaptrace imports: no addresses; every event carries sizes.
 *
 * Normalisation (comb_heap_builder) gives every allocated block a dense id,
 * pairs frees with their allocs (by address; without addresses with the most
 * recently allocated live block of that size), and records each operation with
 * the requested sizes it involves, so analyses never look anything up.
 * Inconsistencies are counted, never fatal (comb_heap_anomalies).
 */
#ifndef COMB_HEAP_TRACE_H
#define COMB_HEAP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum comb_heap_kind {
    COMB_HEAP_ALLOC = 0, /* a block of `size` bytes was requested and given            */
    COMB_HEAP_FREE,      /* a block was freed                                          */
    COMB_HEAP_REALLOC,   /* a block moved: new block of `size`, then the old one freed */
    COMB_HEAP_RESIZE,    /* a block kept its place with a new requested `size`         */
    COMB_HEAP_FAIL,      /* a request of `size` bytes failed (nothing allocated)        */
    COMB_HEAP_KIND_COUNT
} comb_heap_kind;

/* "alloc", "free", "realloc", "resize", "fail". */
const char *comb_heap_kind_name(unsigned kind);
/* The kind of a name, or -1. */
int comb_heap_kind_parse(const char *name);

/* Which optional fields of a raw event are present. */
enum {
    COMB_HR_TS = 1u << 0,
    COMB_HR_PTR = 1u << 1,
    COMB_HR_OLD_PTR = 1u << 2,
    COMB_HR_SIZE = 1u << 3,
    COMB_HR_OLD_SIZE = 1u << 4,
    COMB_HR_CALLER = 1u << 5,
};

/* One heap_event row. */
typedef struct comb_heap_raw {
    int64_t seq;        /* row key within the session */
    uint64_t offset;    /* stream position that orders the events (docs/schema.md) */
    uint64_t ts;        /* target timestamp ticks (64-bit), when COMB_HR_TS */
    uint32_t ptr;       /* alloc/free/resize: the block; realloc: the new block */
    uint32_t old_ptr;   /* realloc: the old block */
    uint32_t size;      /* requested size; absent for comb frees */
    uint32_t old_size;  /* Drone grow/shrink and dealloc: the size being freed */
    uint32_t caller;
    uint8_t kind;       /* comb_heap_kind */
    uint8_t has;        /* COMB_HR_* */
    uint8_t depth;      /* events still open below it when it completed */
} comb_heap_raw;

/* One normalised operation (16 bytes). */
typedef struct comb_heap_op {
    uint32_t block;     /* ALLOC/REALLOC: the new block; FREE/RESIZE: the block; FAIL: COMB_HEAP_NO_BLOCK */
    uint32_t size;      /* requested size: ALLOC/REALLOC/RESIZE the new one, FREE the block's, FAIL the request */
    uint32_t old;       /* REALLOC: the old block's id; RESIZE: its previous size */
    uint8_t kind;
    uint8_t pad[3];
} comb_heap_op;

#define COMB_HEAP_NO_BLOCK UINT32_MAX

typedef struct comb_heap_anomalies {
    uint64_t free_unknown;    /* free/realloc/resize of an address not live (allocated before the capture?) */
    uint64_t alloc_live;      /* alloc at an address already live (its free was lost): old block dropped */
    uint64_t free_unmatched;  /* size-only free with no live block of that size */
    uint64_t repaired_mod256; /* size-only free paired with a live block of the same size modulo 256 */
    uint64_t zero_size;       /* requests of size 0 (they take no memory) */
} comb_heap_anomalies;

typedef struct comb_heap_trace {
    size_t n, cap;
    comb_heap_op *ops;
    uint64_t *ts;             /* per op, when has_ts */
    uint32_t *caller;         /* per op (0: none), when has_caller */
    uint32_t nblocks;         /* block ids are 0 .. nblocks-1 */
    uint32_t *block_size;     /* current requested size of each block */
    bool has_ts, has_caller;
    comb_heap_anomalies anomalies;
} comb_heap_trace;

void comb_heap_trace_init(comb_heap_trace *t);
void comb_heap_trace_free(comb_heap_trace *t);

/* Direct construction (tests, benchmarks, the importer): each returns 0, or -1
 * when out of memory. ts/caller are stored only when the trace keeps them
 * (call comb_heap_trace_keep(t, ts, caller) first). */
int comb_heap_trace_keep(comb_heap_trace *t, bool ts, bool caller);
int comb_heap_trace_alloc(comb_heap_trace *t, uint32_t size, uint64_t ts, uint32_t caller, uint32_t *block);
int comb_heap_trace_free_block(comb_heap_trace *t, uint32_t block, uint64_t ts, uint32_t caller);
int comb_heap_trace_realloc(comb_heap_trace *t, uint32_t old_block, uint32_t size, uint64_t ts, uint32_t caller,
                            uint32_t *block);
int comb_heap_trace_resize(comb_heap_trace *t, uint32_t block, uint32_t size, uint64_t ts, uint32_t caller);
int comb_heap_trace_fail(comb_heap_trace *t, uint32_t size, uint64_t ts, uint32_t caller);

/* Normalises raw events, in the order given (sort by offset, then seq, first). */
typedef struct comb_heap_builder comb_heap_builder;
comb_heap_builder *comb_heap_builder_new(comb_heap_trace *t);
int comb_heap_builder_add(comb_heap_builder *b, const comb_heap_raw *r);
void comb_heap_builder_free(comb_heap_builder *b);

/* Builds a trace from raw events (sorted here by offset, then seq). 0 or -1. */
int comb_heap_trace_from_raw(comb_heap_raw *raw, size_t n, comb_heap_trace *t);

#endif
