/*
 * comb log [--db FILE] [--assume-sync] [--no-ack] [--tpiu ID] [--quiet] SOURCE [OUTPUT...]
 *
 * Reads until end of input, a vanished device, Ctrl-C or SIGTERM; in every case
 * the session is closed cleanly (final commit, counters, end reason) and a one-
 * line summary goes to stderr. On a terminal, a status line on stderr shows the
 * rates and counters while it runs (capture_status.h); it is cleared before any
 * other message and before the summary.
 */
#define _GNU_SOURCE /* fopencookie */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "comb/capture.h"
#include "comb/capture_status.h"
#include "comb/output_selector.h"
#include "comb/session_store.h"
#include "comb/source.h"
#include "comb/tpiu_deformatter.h"
#include "commands.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb log [--db FILE] [--assume-sync] [--no-ack] [--tpiu ID] [--quiet] SOURCE [OUTPUT...]\n"
            "\n"
            "SOURCE:  serial:DEV[@BAUD] | ftdi:[VID:PID][/SERIAL][@BAUD] | bmp:[SERIAL]\n"
            "         | file:PATH | - | tcp:HOST:PORT | unix:PATH   (docs/capture.md)\n"
            "OUTPUT:  [path][:port]...  ':0:1' prints ports 0 and 1 (the default),\n"
            "         'heap.bin:31' writes port 31's raw payload to heap.bin, 'all.bin' every port\n"
            "  --db FILE      store the session (log lines, trace events, errors) in an SQLite file\n"
            "  --assume-sync  decode from the first byte instead of waiting for a sync packet\n"
            "  --no-ack       do not acknowledge the firmware's end-of-session event\n"
            "  --tpiu ID      the input is in TPIU/CoreSight formatter frames: keep trace ID (ITM: usually 1)\n"
            "  --quiet        no status line and no summary line on stderr\n");
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

/* ---- the terminal: status line, and messages that must not collide with it ---- */

/* stdout wrapper used when stdout is a terminal while the status line is on: it
 * tells whether the cursor is at the start of a line, where the status line may
 * be drawn without overwriting a partial line of log text. */
typedef struct tty_out {
    bool at_line_start;
} tty_out;

static ssize_t tty_out_write(void *cookie, const char *buf, size_t n)
{
    tty_out *t = cookie;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
        if (w < 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    if (n)
        t->at_line_start = buf[n - 1] == '\n';
    return (ssize_t)n;
}

typedef struct term {
    bool status_on;    /* stderr is a terminal and --quiet was not given */
    bool drawn;        /* the status line is on the screen */
    tty_out *out;      /* non-NULL: stdout is the terminal too */
    char line[512];    /* last status text */
} term;

static void term_clear(term *t)
{
    if (t->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        t->drawn = false;
    }
}

static void term_draw(term *t)
{
    if (!t->status_on || !t->line[0] || (t->out && !t->out->at_line_start))
        return;
    fprintf(stderr, "\r%s\033[K", t->line);
    fflush(stderr);
    t->drawn = true;
}

/* One line on stderr, never mixed with the status line. */
static void term_msg(term *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void term_msg(term *t, const char *fmt, ...)
{
    term_clear(t);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

static comb_status_sample status_sample(const comb_capture *cap)
{
    const comb_session_counters *c = &cap->counters;
    comb_status_sample s = {.bytes = c->bytes,
                            .packets = c->packets,
                            .events = c->events,
                            .overflows = c->overflows,
                            .decode_errors = c->decode_errors,
                            .bytes_skipped = c->bytes_skipped};
    /* bytes the decoder is still skipping while it waits for a sync are only
     * counted once the sync arrives; the status and the baud hint want them now */
    if (!cap->itm.synced)
        s.bytes_skipped += (uint64_t)cap->itm.skipped + cap->itm.zeros;
    return s;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int cmd_log(int argc, char **argv)
{
    const char *db_path = NULL, *spec = NULL;
    int assume_sync = 0, ack = 1, quiet = 0, nout = 0, use_tpiu = 0;
    uint8_t tpiu_id = 0;
    char err[600];
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
        } else if (strcmp(argv[i], "--tpiu") == 0) {
            if (++i == argc) {
                fprintf(stderr, "comb log: --tpiu needs a trace ID (ITM: usually 1)\n");
                free(outs_argv);
                return 2;
            }
            if (comb_tpiu_parse_id(argv[i], &tpiu_id, err, sizeof err)) {
                fprintf(stderr, "comb log: %s\n", err);
                free(outs_argv);
                return 2;
            }
            use_tpiu = 1;
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
        n += (size_t)snprintf(settings + n, sizeof settings - n, "],\"sync\":\"%s\",\"ack\":%s",
                              assume_sync ? "assume" : "wait", ack ? "true" : "false");
        if (use_tpiu && n < sizeof settings)
            n += (size_t)snprintf(settings + n, sizeof settings - n, ",\"tpiu\":%u", (unsigned)tpiu_id);
        if (n < sizeof settings)
            snprintf(settings + n, sizeof settings - n, "}");
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

    /* the status line: only when stderr is a terminal; when stdout is the same
     * terminal, log text goes through tty_out so the line is drawn only at the
     * start of a line */
    term t = {.status_on = !quiet && isatty(STDERR_FILENO)};
    static tty_out out_state = {.at_line_start = true};
    FILE *tty_stdout = NULL, *saved_stdout = stdout;
    if (t.status_on && isatty(STDOUT_FILENO)) {
        fflush(stdout);
        tty_stdout = fopencookie(&out_state, "w", (cookie_io_functions_t){.write = tty_out_write});
        if (tty_stdout) {
            setvbuf(tty_stdout, NULL, _IOLBF, 0);
            for (unsigned i = 0; i < outputs.count; i++)
                if (outputs.items[i].fp == stdout)
                    outputs.items[i].fp = tty_stdout;
            stdout = tty_stdout;
            t.out = &out_state;
        }
    }
    comb_status status_line;
    comb_status_init(&status_line, comb_now_ns());

    static comb_capture cap;
    comb_capture_config cfg = {.sync_mode = assume_sync ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT,
                               .outputs = &outputs,
                               .store = store,
                               .ack_to = ack ? src : NULL};
    comb_capture_init(&cap, &cfg);
    static comb_tpiu tpiu;
    if (use_tpiu)
        comb_tpiu_init(&tpiu, tpiu_id);
    comb_tpiu_sniffer sniffer = {0};
    bool sniff_warned = false;
    bool line_source = has_prefix(spec, "serial:") || has_prefix(spec, "ftdi:") || has_prefix(spec, "bmp:");

    const char *reason = "end_of_input";
    int status = 0;
    int64_t last_commit = comb_now_ns();
    static uint8_t buf[1 << 16];
    static uint8_t deformatted[(1 << 16) + COMB_TPIU_FRAME_SIZE];
    while (!stop_signal) {
        ssize_t n = comb_source_read(src, buf, sizeof buf, 100, err, sizeof err);
        int64_t now = comb_now_ns();
        if (n > 0) {
            if (t.out)
                term_clear(&t); /* log text may follow on the same terminal */
            if (use_tpiu) {
                size_t m = comb_tpiu_feed(&tpiu, buf, (size_t)n, deformatted);
                comb_capture_feed(&cap, deformatted, m, now); /* counters: the ITM bytes */
            } else {
                comb_capture_feed(&cap, buf, (size_t)n, now);
                if (!sniff_warned) {
                    comb_tpiu_sniff(&sniffer, buf, (size_t)n);
                    if (sniffer.syncs >= COMB_TPIU_SNIFF_THRESHOLD) {
                        sniff_warned = true;
                        term_msg(&t,
                                 "comb log: warning: the input has TPIU formatter syncs (FF FF FF 7F): it is "
                                 "probably formatted; decode it with --tpiu ID (ITM: usually 1)");
                    }
                }
            }
            comb_outputs_flush(&outputs);
            if (t.out)
                term_draw(&t); /* back at once, if the text ended with a whole line */
        } else if (n == -1) {
            reason = line_source ? "device_lost" : "end_of_input";
            break;
        } else if (n == -2) {
            term_msg(&t, "comb log: %s", err);
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
        if (!quiet) {
            comb_status_sample smp = status_sample(&cap);
            char hint[256];
            /* only sources with a line rate can have a wrong one; formatter syncs explain
             * undecodable bytes better than a wrong baud rate */
            if (line_source && !sniff_warned && sniffer.syncs == 0 &&
                comb_status_baud_hint(&status_line, &smp, hint, sizeof hint))
                term_msg(&t, "%s", hint);
            if (t.status_on && comb_status_due(&status_line, now)) {
                comb_status_update(&status_line, &smp, now);
                comb_status_format(&status_line, &smp, now, t.line, sizeof t.line, term_width());
                term_draw(&t);
            }
        }
    }
    if (stop_signal)
        reason = "interrupted";
    term_clear(&t); /* before the last partial line of text, if any */
    if (use_tpiu)
        comb_tpiu_finish(&tpiu);
    comb_capture_finish(&cap);
    comb_outputs_close(&outputs);
    if (tty_stdout) {
        fflush(tty_stdout);
        stdout = saved_stdout;
        fclose(tty_stdout);
    }
    if (store) {
        if (cap.store_failed || comb_store_session_end(store, &cap.counters, reason)) {
            fprintf(stderr, "comb log: %s\n", comb_store_errmsg(store));
            status = 1;
        }
        comb_store_close(store);
    }
    comb_source_link_stats link;
    comb_source_link_stats_get(src, &link);
    comb_source_close(src);
    if (!quiet) {
        const comb_session_counters *c = &cap.counters;
        char sess[32] = "";
        if (db_path)
            snprintf(sess, sizeof sess, "session %lld: ", (long long)session);
        char tp[200] = "", ln[200] = "";
        if (use_tpiu) {
            const comb_tpiu_stats *ts = comb_tpiu_get_stats(&tpiu);
            snprintf(tp, sizeof tp, "; tpiu ID %u: %llu frames, %llu bytes of other IDs, %llu realigned",
                     (unsigned)tpiu_id, (unsigned long long)ts->frames, (unsigned long long)ts->bytes_other,
                     (unsigned long long)ts->realigns);
        }
        if (link.overruns || link.line_errors || link.host_dropped) /* loss below the decoder */
            snprintf(ln, sizeof ln, "; link: %llu adapter overruns, %llu line errors, %llu bytes dropped by comb",
                     (unsigned long long)link.overruns, (unsigned long long)link.line_errors,
                     (unsigned long long)link.host_dropped);
        fprintf(stderr,
                "comb log: %s%llu bytes, %llu packets, %llu events, %llu log lines, %llu overflows, "
                "%llu decode errors (%llu bytes skipped), %llu trace errors%s%s; %s\n",
                sess, (unsigned long long)c->bytes, (unsigned long long)c->packets, (unsigned long long)c->events,
                (unsigned long long)c->log_lines, (unsigned long long)c->overflows,
                (unsigned long long)c->decode_errors, (unsigned long long)c->bytes_skipped,
                (unsigned long long)c->trace_errors, tp, ln, reason);
    }
    return status;
}
