/*
 * Drone.toml (drone-compat.md 5): reads the `[heap.NAME]` sections of a whole
 * TOML file, and rewrites one of them in place.
 *
 * The reader parses the complete file as TOML (strings of all four kinds,
 * integers, floats, booleans, dates, arrays, inline tables, table headers,
 * comments), so a malformed file is rejected with `FILE:LINE: problem` wherever
 * the problem is. Of the content it interprets only the heap sections:
 * `size` (size string, or a TOML integer), `origin` (integer), `pools` (an array
 * of `{ block = SIZE, capacity = INTEGER }`). Heaps must be written as
 * `[heap.NAME]` tables; other keys of those tables are ignored.
 *
 * The writer replaces the bytes of one section, from the start of its header
 * line to the end of the line its last key/value ends on, and keeps every other
 * byte of the file as it was (comments and blank lines after the last
 * key/value belong to what follows). A missing section is appended.
 */
#ifndef COMB_DRONE_TOML_H
#define COMB_DRONE_TOML_H

#include <stddef.h>

#include "comb/heap_layout.h"
#include "comb/strbuf.h"

typedef struct comb_drone_heap_section {
    size_t start, end; /* byte range of the section in text */
} comb_drone_heap_section;

typedef struct comb_drone_toml {
    char path[512];     /* for messages */
    char *text;         /* the file, NUL-terminated */
    size_t len;
    unsigned nheaps;    /* heaps in file order */
    comb_heap_layout *heaps;
    comb_drone_heap_section *sections;
} comb_drone_toml;

/* Parses text (copied). `path` names the file in messages. 0, or -1 with
 * "PATH:LINE: problem" in err. */
int comb_drone_toml_parse(const char *path, const char *text, size_t len, comb_drone_toml *out, char *err,
                          size_t errlen);

/* Reads and parses a file. */
int comb_drone_toml_load(const char *path, comb_drone_toml *out, char *err, size_t errlen);

void comb_drone_toml_free(comb_drone_toml *t);

/* The heap called `name`, or NULL. */
const comb_heap_layout *comb_drone_toml_heap(const comb_drone_toml *t, const char *name);

/* Drone's validation: every heap's pools add up to its size, and `heap.main`
 * exists. 0, or -1 with e.g.
 * "Drone.toml:12: `heap.main` pools add up to 10236, but `heap.main.size` is 10240". */
int comb_drone_toml_check(const comb_drone_toml *t, char *err, size_t errlen);

/* The file with the section of heap `name` replaced by `section` (which should
 * end with a newline), or appended when the file has no such section. */
void comb_drone_toml_replace(const comb_drone_toml *t, const char *name, const char *section, comb_strbuf *out);

#endif
