/* What `comb export` and `comb dashboard` share: opening --db/--session,
 * reading --layout/--heap and --elf, the --from/--to window, and writing an
 * output file through a temporary name. */
#ifndef COMB_DASH_CLI_H
#define COMB_DASH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "comb/dashboard_data.h"
#include "comb/drone_toml.h"
#include "comb/elf_symbols.h"

typedef struct dash_args {
    const char *db, *session, *layout, *heap, *from, *to, *elf;
} dash_args;

typedef struct dash_opened {
    comb_dash *d;
    comb_drone_toml toml;   /* when --layout */
    bool has_toml;
    comb_dash_options opts; /* layout and window from the arguments */
    comb_elf_symbols *syms; /* --elf: names threads, fibers (set on d) and callers */
    comb_dash_names names;
} dash_opened;

/* Returns 0, 1 (error) or 2 (bad usage); a message line is printed. The
 * window is kept inside the session: a --to past its end is moved there (a
 * line on stderr says so), a --from at or past its end is bad usage. */
int dash_open(const char *cmd, const dash_args *a, dash_opened *o);

/* When the timeline was cut at its row limit, one line on stderr naming the
 * window drawn and how to narrow it (comb_dash_window_note). */
void dash_report_window(const char *cmd, const comb_dash *d, const comb_dash_window *w);
void dash_close(dash_opened *o);

/* An output file written whole or not at all: "-" or NULL is stdout. */
typedef struct out_stream {
    FILE *f;
    char *path, *tmp;
} out_stream;

int out_stream_open(const char *cmd, const char *path, out_stream *s);
/* ok: keep it (rename into place); else remove the temporary file.
 * Returns 0, or 1 (message printed) when the data could not be written. */
int out_stream_close(const char *cmd, out_stream *s, bool ok);

#endif
