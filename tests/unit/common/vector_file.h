/* Reader for the golden vector files trace-protocol/vectors/NAME.vec (format: vectors/README.md). */
#ifndef COMB_VECTOR_FILE_H
#define COMB_VECTOR_FILE_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_BYTES 4096
#define VEC_MAX_ITEMS 32
#define VEC_MAX_FIELDS 8

struct vec_field {
    char name[16];
    uint64_t value;
};

struct vec_event {
    unsigned port;
    char name[32];
    unsigned nfields;
    struct vec_field fields[VEC_MAX_FIELDS];
    int nest_after; /* emit@K: K; -1 for a top-level emit or an event line */
};

struct vec_error {
    unsigned port;
    char name[32];
};

struct vec_log {
    unsigned port;
    uint8_t text[256];
    size_t len;
};

struct vector {
    char file[64];
    char name[64];
    int both; /* mode: both */
    uint8_t bytes[VEC_MAX_BYTES];
    size_t nbytes;
    struct vec_event events[VEC_MAX_ITEMS];
    unsigned nevents;
    struct vec_event emits[VEC_MAX_ITEMS];
    unsigned nemits;
    struct vec_error errors[VEC_MAX_ITEMS];
    unsigned nerrors;
    struct vec_log logs[VEC_MAX_ITEMS];
    unsigned nlogs;
};

/* Loads every *.vec in `dir` (sorted by file name). Returns a malloc'd array
 * (free() it) and sets *count; on any syntax error prints file:line and exits 2. */
struct vector *vectors_load(const char *dir, size_t *count);

/* Field lookup; returns 0 and sets *value when found. */
int vec_event_get(const struct vec_event *ev, const char *name, uint64_t *value);

#endif
