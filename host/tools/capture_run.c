/* The capture loop of `comb heap trace` (capture_run.h). */
#include "capture_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/capture.h"
#include "comb/session_store.h"
#include "comb/source.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

int capture_run(const capture_run_args *a)
{
    char err[600];
    const char *spec = a->spec;
    comb_source *src;
    if (comb_source_open(spec, &src, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", a->cmd, err);
        return 1;
    }
    comb_store *store = NULL;
    int64_t session = 0;
    if (a->db_path) {
        if (comb_store_open(a->db_path, &store, err, sizeof err) ||
            comb_store_session_begin(store, spec, a->settings, &session)) {
            fprintf(stderr, "%s: %s\n", a->cmd, store ? comb_store_errmsg(store) : err);
            comb_store_close(store);
            comb_source_close(src);
            return 1;
        }
    }

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns on a signal */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static comb_capture cap;
    comb_capture_config cfg = {.sync_mode = a->assume_sync ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT,
                               .outputs = a->outputs,
                               .store = store,
                               .ack_to = a->ack ? src : NULL,
                               .store_ports = a->store_ports};
    comb_capture_init(&cap, &cfg);

    const char *reason = "end_of_input";
    int status = 0;
    int64_t last_commit = comb_now_ns();
    static uint8_t buf[1 << 16];
    while (!stop_signal) {
        ssize_t n = comb_source_read(src, buf, sizeof buf, 100, err, sizeof err);
        int64_t now = comb_now_ns();
        if (n > 0) {
            comb_capture_feed(&cap, buf, (size_t)n, now);
            if (a->outputs)
                comb_outputs_flush(a->outputs);
        } else if (n == -1) {
            reason = strncmp(spec, "serial:", 7) == 0 ? "device_lost" : "end_of_input";
            break;
        } else if (n == -2) {
            fprintf(stderr, "%s: %s\n", a->cmd, err);
            reason = "error";
            status = 1;
            break;
        }
        if (store && now - last_commit >= 250000000) {
            if (comb_store_checkpoint(store, &cap.counters))
                cap.store_failed = true;
            last_commit = now;
        }
        if (cap.store_failed)
            break;
    }
    if (stop_signal)
        reason = "interrupted";
    comb_capture_finish(&cap);
    if (a->outputs)
        comb_outputs_flush(a->outputs);
    if (store) {
        if (cap.store_failed || comb_store_session_end(store, &cap.counters, reason)) {
            fprintf(stderr, "%s: %s\n", a->cmd, comb_store_errmsg(store));
            status = 1;
        }
        comb_store_close(store);
    }
    comb_source_close(src);
    if (a->counters)
        *a->counters = cap.counters;
    if (a->session)
        *a->session = session;
    if (a->reason)
        *a->reason = reason;
    if (!a->quiet) {
        const comb_session_counters *c = &cap.counters;
        char sess[32] = "";
        if (a->db_path)
            snprintf(sess, sizeof sess, "session %lld: ", (long long)session);
        fprintf(stderr,
                "%s: %s%llu bytes, %llu packets, %llu events, %llu log lines, %llu overflows, "
                "%llu decode errors (%llu bytes skipped), %llu trace errors; %s\n",
                a->cmd, sess, (unsigned long long)c->bytes, (unsigned long long)c->packets,
                (unsigned long long)c->events, (unsigned long long)c->log_lines, (unsigned long long)c->overflows,
                (unsigned long long)c->decode_errors, (unsigned long long)c->bytes_skipped,
                (unsigned long long)c->trace_errors, reason);
    }
    return status;
}
