/*
 * comb log [--db FILE] [--assume-sync] [--no-ack] [--quiet] SOURCE [OUTPUT...]
 *
 * Reads until end of input, a vanished device, Ctrl-C or SIGTERM; in every case
 * the session is closed cleanly (final commit, counters, end reason) and a one-
 * line summary goes to stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/capture.h"
#include "comb/output_selector.h"
#include "comb/session_store.h"
#include "comb/source.h"
#include "commands.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb log [--db FILE] [--assume-sync] [--no-ack] [--quiet] SOURCE [OUTPUT...]\n"
            "\n"
            "SOURCE:  serial:DEV[@BAUD] | file:PATH | - | tcp:HOST:PORT | unix:PATH\n"
            "OUTPUT:  [path][:port]...  ':0:1' prints ports 0 and 1 (the default),\n"
            "         'heap.bin:31' writes port 31's raw payload to heap.bin, 'all.bin' every port\n"
            "  --db FILE      store the session (log lines, trace events, errors) in an SQLite file\n"
            "  --assume-sync  decode from the first byte instead of waiting for a sync packet\n"
            "  --no-ack       do not acknowledge the firmware's end-of-session event\n"
            "  --quiet        no summary line on stderr\n");
}

/* Appends s to buf as a JSON string literal. */
static void json_str(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 2 >= cap)
        return;
    buf[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", ch);
        else if (ch < 0x20)
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", ch);
        else
            buf[n++] = (char)ch;
    }
    buf[n++] = '"';
    buf[n] = 0;
}

int cmd_log(int argc, char **argv)
{
    const char *db_path = NULL, *spec = NULL;
    int assume_sync = 0, ack = 1, quiet = 0, nout = 0;
    char **outs_argv = calloc((size_t)argc, sizeof *outs_argv);
    if (!outs_argv)
        return 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (++i == argc) {
                fprintf(stderr, "comb log: --db needs a file name\n");
                free(outs_argv);
                return 2;
            }
            db_path = argv[i];
        } else if (strcmp(argv[i], "--assume-sync") == 0)
            assume_sync = 1;
        else if (strcmp(argv[i], "--no-ack") == 0)
            ack = 0;
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            free(outs_argv);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "comb log: unknown option '%s'\n", argv[i]);
            free(outs_argv);
            return 2;
        } else if (!spec)
            spec = argv[i];
        else
            outs_argv[nout++] = argv[i];
    }
    if (!spec) {
        fprintf(stderr, "comb log: no SOURCE given (try comb log --help)\n");
        free(outs_argv);
        return 2;
    }

    char err[600];
    comb_outputs outputs;
    if (comb_outputs_open(&outputs, nout, outs_argv, err, sizeof err)) {
        fprintf(stderr, "comb log: %s\n", err);
        free(outs_argv);
        return 2;
    }
    comb_source *src;
    if (comb_source_open(spec, &src, err, sizeof err)) {
        fprintf(stderr, "comb log: %s\n", err);
        comb_outputs_close(&outputs);
        free(outs_argv);
        return 1;
    }
    comb_store *store = NULL;
    int64_t session = 0;
    if (db_path) {
        char settings[2048] = "{\"outputs\":[";
        for (int i = 0; i < nout; i++) {
            if (i)
                strncat(settings, ",", sizeof settings - strlen(settings) - 1);
            json_str(settings, sizeof settings, outs_argv[i]);
        }
        size_t n = strlen(settings);
        snprintf(settings + n, sizeof settings - n, "],\"sync\":\"%s\",\"ack\":%s}", assume_sync ? "assume" : "wait",
                 ack ? "true" : "false");
        if (comb_store_open(db_path, &store, err, sizeof err) ||
            comb_store_session_begin(store, spec, settings, &session)) {
            fprintf(stderr, "comb log: %s\n", store ? comb_store_errmsg(store) : err);
            comb_store_close(store);
            comb_source_close(src);
            comb_outputs_close(&outputs);
            free(outs_argv);
            return 1;
        }
    }
    free(outs_argv);

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns on a signal */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static comb_capture cap;
    comb_capture_config cfg = {.sync_mode = assume_sync ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT,
                               .outputs = &outputs,
                               .store = store,
                               .ack_to = ack ? src : NULL};
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
            comb_outputs_flush(&outputs);
        } else if (n == -1) {
            reason = strncmp(spec, "serial:", 7) == 0 ? "device_lost" : "end_of_input";
            break;
        } else if (n == -2) {
            fprintf(stderr, "comb log: %s\n", err);
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
    comb_outputs_close(&outputs);
    if (store) {
        if (cap.store_failed || comb_store_session_end(store, &cap.counters, reason)) {
            fprintf(stderr, "comb log: %s\n", comb_store_errmsg(store));
            status = 1;
        }
        comb_store_close(store);
    }
    comb_source_close(src);
    if (!quiet) {
        const comb_session_counters *c = &cap.counters;
        char sess[32] = "";
        if (db_path)
            snprintf(sess, sizeof sess, "session %lld: ", (long long)session);
        fprintf(stderr,
                "comb log: %s%llu bytes, %llu packets, %llu events, %llu log lines, %llu overflows, "
                "%llu decode errors (%llu bytes skipped), %llu trace errors; %s\n",
                sess, (unsigned long long)c->bytes, (unsigned long long)c->packets, (unsigned long long)c->events,
                (unsigned long long)c->log_lines, (unsigned long long)c->overflows,
                (unsigned long long)c->decode_errors, (unsigned long long)c->bytes_skipped,
                (unsigned long long)c->trace_errors, reason);
    }
    return status;
}
