/*
 * The capture loop of `comb heap trace` (comb log's, without its status line
 * and TPIU deformatting): opens the source and the database, feeds the capture
 * pipeline until end of input, a vanished device, Ctrl-C or SIGTERM, and
 * closes the session cleanly in every case (final commit, counters, end
 * reason); a one-line summary goes to stderr unless quiet.
 */
#ifndef COMB_CAPTURE_RUN_H
#define COMB_CAPTURE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/output_selector.h"
#include "comb/session_store.h"

typedef struct capture_run_args {
    const char *cmd;          /* prefix of messages: "comb log" */
    const char *spec;         /* SOURCE */
    const char *db_path;      /* NULL: no database */
    const char *settings;     /* session.settings JSON */
    comb_outputs *outputs;    /* may be NULL */
    bool assume_sync, ack, quiet;
    uint32_t store_ports;     /* comb_capture_config.store_ports */
    /* results, each may be NULL */
    comb_session_counters *counters;
    int64_t *session;
    const char **reason;
} capture_run_args;

/* Returns the exit status: 0, or 1 after an error (message printed). */
int capture_run(const capture_run_args *a);

#endif
