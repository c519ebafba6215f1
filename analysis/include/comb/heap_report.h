/*
 * `comb heap report`: what Drone prints (the per-size table and "Maximum heap
 * load"), then what it cannot see: the concurrent peak (bytes and blocks
 * requested at the same moment, and when), failed allocations, blocks still
 * live at the end (possible leaks) with sizes and callers, and the top
 * allocation sites when the trace carries caller addresses.
 */
#ifndef COMB_HEAP_REPORT_H
#define COMB_HEAP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/drone_layout.h"
#include "comb/heap_trace.h"
#include "comb/strbuf.h"

typedef struct comb_heap_site {
    uint32_t caller;
    uint64_t allocs;      /* allocations and moving reallocs made there */
    uint64_t bytes;       /* bytes they requested */
    uint64_t fails;
    uint64_t live_blocks; /* still live at the end */
    uint64_t live_bytes;
} comb_heap_site;

typedef struct comb_heap_leak {
    uint32_t size, caller;
    uint64_t count;
    size_t first_op;      /* the oldest of them */
} comb_heap_leak;

typedef struct comb_heap_failure {
    size_t op;
    uint32_t size, caller;
} comb_heap_failure;

#define COMB_REPORT_MAX_FAILURES 20 /* listed individually */

typedef struct comb_heap_report {
    comb_drone_stats drone;
    uint64_t ops, allocs, frees, reallocs, resizes, fails;
    /* concurrent peak of requested bytes, and the blocks live then */
    uint64_t peak_bytes, peak_bytes_blocks;
    size_t peak_bytes_op;
    /* concurrent peak of live blocks, and the bytes then */
    uint64_t peak_blocks, peak_blocks_bytes;
    size_t peak_blocks_op;
    uint64_t live_blocks, live_bytes; /* at the end */
    comb_heap_leak *leaks;            /* by (size, caller), most bytes first */
    size_t nleaks;
    comb_heap_failure failures[COMB_REPORT_MAX_FAILURES];
    size_t nfailures;                 /* listed (fails counts all) */
    comb_heap_site *sites;            /* by caller, most allocations first; none without callers */
    size_t nsites;
    bool has_callers, has_ts;
} comb_heap_report;

int comb_heap_report_build(const comb_heap_trace *t, comb_heap_report *r);

/* Just the concurrent peak of requested bytes (0 on memory exhaustion). */
uint64_t comb_heap_peak_bytes(const comb_heap_trace *t);
void comb_heap_report_free(comb_heap_report *r);

/* How rendering names things. */
typedef struct comb_report_context {
    const comb_heap_trace *trace;
    uint32_t heap_size;       /* for "Maximum heap load: N / P%" (0: no percentage) */
    uint64_t ts_hz;           /* ticks per second, 0: show ticks */
    uint64_t ts_origin;       /* tick of time 0 */
    /* optional: "main+0x1a (main.c:42)" for a caller address; NULL: hex only */
    const char *(*symbolize)(void *ctx, uint32_t addr, char *buf, size_t cap);
    void *symbolize_ctx;
    unsigned top;             /* sites and leak groups listed (default 10) */
} comb_report_context;

/* Text report: Drone's table and load line, a blank line, the rest. */
void comb_heap_report_text(const comb_heap_report *r, const comb_report_context *c, comb_strbuf *out);

/* One JSON object (no trailing newline). */
void comb_heap_report_json(const comb_heap_report *r, const comb_report_context *c, comb_strbuf *out);

/* "at 1.234567 s (event 42)", "at tick 123 (event 42)" or "at event 42". */
void comb_report_when(const comb_report_context *c, size_t op, char *buf, size_t cap);

#endif
