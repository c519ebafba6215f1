/*
 * The capture loop shared by `comb log` and `comb heap trace`: opens the
 * source and the database, feeds the capture pipeline (through the TPIU
 * deformatter with --tpiu) until end of input, a vanished device, Ctrl-C or
 * SIGTERM, and closes the session cleanly in every case (final commit,
 * counters, end reason). Unless quiet, a one-line summary (with the TPIU and
 * link statistics) goes to stderr, and on a terminal a status line on stderr
 * shows the rates and counters while it runs (capture_status.h); it is cleared
 * before any other message and before the summary.
 */
#ifndef COMB_CAPTURE_RUN_H
#define COMB_CAPTURE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/output_selector.h"

typedef struct capture_run_args {
    const char *cmd;          /* prefix of messages: "comb log" */
    const char *spec;         /* SOURCE */
    const char *db_path;      /* NULL: no database */
    const char *settings;     /* session.settings JSON */
    comb_outputs *outputs;    /* NULL: none; else open, and closed by capture_run on every path */
    bool assume_sync, ack;
    bool quiet;               /* no status line, no hint, no summary */
    int tpiu_id;              /* -1: raw ITM; else TPIU frames, keeping this trace ID */
    uint32_t store_ports;     /* comb_capture_config.store_ports */
} capture_run_args;

/* Returns the exit status: 0, or 1 after an error (message printed). */
int capture_run(const capture_run_args *a);

#endif
