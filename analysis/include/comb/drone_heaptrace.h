/*
 * Drone OS v0.12-v0.14 heaptrace files (drone-compat.md 2): the payload bytes
 * of port 31, little-endian 32-bit words XOR 0xC5ACCE55; header byte A1/A2
 * alloc, D1/D2 dealloc, B1/B2/B3 grow, C1/C2/C3 shrink, one LIFO frame stack
 * per event type (an interrupt may emit whole events between the words of
 * another).
 *
 * The parser never stops halfway: unknown words and broken frames are counted
 * and skipped, and the device defects of drone-core v0.12-v0.14 are detected
 * and counted (drone-compat.md 2.3):
 *  - sizes of 256 bytes or more recorded modulo 256 (the first word carries
 *    size >> 24 instead of size >> 8): visible as first words whose payload is
 *    always 0; confirmed by resizes to >= 256 bytes whose following ALLOC was
 *    recorded modulo 256, and by frees that only match modulo 256 (paired so
 *    by the normaliser, comb_heap_anomalies.repaired_mod256);
 *  - resizes traced twice (GROW/SHRINK(o, n) immediately followed by their own
 *    ALLOC(n) and DEALLOC(o)): the duplicate ALLOC/DEALLOC are dropped.
 */
#ifndef COMB_DRONE_HEAPTRACE_H
#define COMB_DRONE_HEAPTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/heap_trace.h"

#define COMB_DRONE_HEAPTRACE_KEY 0xC5ACCE55u

typedef struct comb_drone_import_stats {
    uint64_t words;               /* whole 4-byte words read */
    uint64_t trailing_bytes;      /* a partial word at the end (ignored, as Drone does) */
    uint64_t allocs, deallocs, grows, shrinks; /* events decoded (before duplicate removal) */
    uint64_t invalid_words;       /* unknown header byte */
    uint64_t broken_frames;       /* continuation without a start, bad padding, overflow, leftovers */
    uint64_t first_problem_offset;/* byte offset of the first invalid word or broken frame */
    /* size truncation (drone-compat.md 2.3, defect 1) */
    uint64_t size_words;          /* first words of alloc/dealloc/grow/shrink */
    uint64_t size_words_high;     /* of which with a non-zero payload (host-correct encoding of >= 256) */
    uint64_t zero_size_allocs;    /* ALLOC(0): a real zero-size request, or a multiple of 256 truncated */
    uint64_t resizes_to_256;      /* GROW/SHRINK whose (correctly encoded) new size is >= 256 */
    uint64_t truncated_confirmed; /* duplicate ALLOCs after a resize that show the new size modulo 256 */
    /* double tracing of resizes (defect 2) */
    uint64_t double_traced;       /* GROW/SHRINK + ALLOC + DEALLOC triples; ALLOC and DEALLOC dropped */
} comb_drone_import_stats;

/* True when the file looks like drone-core v0.12-v0.14 output, whose sizes of
 * 256 or more are recorded modulo 256: size words exist and none has a high part. */
bool comb_drone_truncation_suspected(const comb_drone_import_stats *s);

/*
 * Decodes a heaptrace file into raw heap events (heap_trace.h): ALLOC and FREE
 * with `size`, REALLOC (grow/shrink: the block moves) with `old_size` and
 * `size`. No addresses, no timestamps; `offset` is the byte offset of the word
 * that completes the event (Drone traces before the operation, so completion
 * order is operation order), `seq` counts from 0. *out is malloc'ed (NULL when
 * there are no events). Returns 0, or -1 only when out of memory.
 */
int comb_drone_heaptrace_parse(const uint8_t *data, size_t len, comb_heap_raw **out, size_t *n,
                               comb_drone_import_stats *stats);

/* Encoder (tests, benchmarks, examples): appends the words of one event to buf
 * (at least 12 bytes free) and returns the bytes written. kind is ALLOC, FREE
 * (dealloc), or REALLOC with grow = new > old (else shrink). With `v014_bug`
 * the first word carries size >> 24 as drone-core v0.12-v0.14 writes it. */
size_t comb_drone_heaptrace_encode(uint8_t *buf, unsigned kind, uint32_t old_size, uint32_t size, bool v014_bug);

#endif
