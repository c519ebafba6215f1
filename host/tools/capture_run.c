/* The capture loop of `comb log` and `comb heap trace` (capture_run.h). */
#define _GNU_SOURCE /* fopencookie */
#include "capture_run.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "comb/capture.h"
#include "comb/capture_status.h"
#include "comb/session_store.h"
#include "comb/source.h"
#include "comb/tpiu_deformatter.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
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
    bool status_on;    /* stderr is a terminal and quiet was not asked */
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

static void print_summary(const capture_run_args *a, int64_t session, const comb_session_counters *c,
                          const comb_tpiu *tpiu, const comb_source_link_stats *link, const char *reason)
{
    char sess[32] = "";
    if (a->db_path)
        snprintf(sess, sizeof sess, "session %lld: ", (long long)session);
    char tp[200] = "", ln[200] = "";
    if (a->tpiu_id >= 0) {
        const comb_tpiu_stats *ts = comb_tpiu_get_stats(tpiu);
        snprintf(tp, sizeof tp, "; tpiu ID %u: %llu frames, %llu bytes of other IDs, %llu realigned",
                 (unsigned)a->tpiu_id, (unsigned long long)ts->frames, (unsigned long long)ts->bytes_other,
                 (unsigned long long)ts->realigns);
    }
    if (link->overruns || link->line_errors || link->host_dropped) /* loss below the decoder */
        snprintf(ln, sizeof ln, "; link: %llu adapter overruns, %llu line errors, %llu bytes dropped by comb",
                 (unsigned long long)link->overruns, (unsigned long long)link->line_errors,
                 (unsigned long long)link->host_dropped);
    fprintf(stderr,
            "%s: %s%llu bytes, %llu packets, %llu events, %llu log lines, %llu overflows, "
            "%llu decode errors (%llu bytes skipped), %llu trace errors%s%s; %s\n",
            a->cmd, sess, (unsigned long long)c->bytes, (unsigned long long)c->packets,
            (unsigned long long)c->events, (unsigned long long)c->log_lines, (unsigned long long)c->overflows,
            (unsigned long long)c->decode_errors, (unsigned long long)c->bytes_skipped,
            (unsigned long long)c->trace_errors, tp, ln, reason);
}

/* The loss counters below the decoder go into the session row with the others
 * (docs/schema.md); sources that cannot tell leave their columns NULL. */
static void fill_link_counters(comb_session_counters *c, const capture_run_args *a, comb_source *src,
                               const comb_tpiu *tpiu, bool link_source)
{
    if (link_source) {
        comb_source_link_stats link = {0};
        comb_source_link_stats_get(src, &link);
        c->link_known = true;
        c->link_overruns = link.overruns;
        c->link_line_errors = link.line_errors;
        c->link_host_dropped = link.host_dropped;
    }
    if (a->tpiu_id >= 0) {
        const comb_tpiu_stats *ts = comb_tpiu_get_stats(tpiu);
        c->tpiu_known = true;
        c->tpiu_frames = ts->frames;
        c->tpiu_bytes_other = ts->bytes_other;
        c->tpiu_realigns = ts->realigns;
        c->tpiu_bytes_dropped = ts->bytes_dropped;
    }
}

/* The commit schedule runs on the monotonic clock: a wall-clock step must not
 * delay or bunch commits. */
static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* After the store failed, its session row is still open (no end time, no
 * reason): close it through a fresh connection, as "error", keeping the
 * counters of its last commit (they match the rows that were committed). If
 * that fails too the row stays as a crash leaves it; the message says so. */
static void close_failed_session(const capture_run_args *a, int64_t session)
{
    char err[600] = "";
    comb_store *st = NULL;
    int rc = comb_store_open(a->db_path, &st, err, sizeof err);
    if (rc == 0) {
        sqlite3_stmt *q = NULL;
        rc = sqlite3_prepare_v2(comb_store_handle(st),
                                "UPDATE session SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),"
                                " end_reason = 'error' WHERE id = ? AND ended_at IS NULL",
                                -1, &q, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(q, 1, session);
            rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
        }
        if (rc)
            snprintf(err, sizeof err, "%s", sqlite3_errmsg(comb_store_handle(st)));
        sqlite3_finalize(q);
    }
    if (rc)
        fprintf(stderr, "%s: session %lld left open (no end time; counters of its last commit): %s\n", a->cmd,
                (long long)session, err);
    comb_store_close(st);
}

int capture_run(const capture_run_args *a)
{
    char err[600];
    const char *spec = a->spec;
    comb_source *src;
    if (comb_source_open(spec, &src, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", a->cmd, err);
        if (a->outputs)
            comb_outputs_close(a->outputs);
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
            if (a->outputs)
                comb_outputs_close(a->outputs);
            return 1;
        }
    }

    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns on a signal */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* the status line: only when stderr is a terminal; when outputs print to the
     * same terminal, their text goes through tty_out so the line is drawn only at
     * the start of a line. The outputs are closed here, before tty_out, because
     * comb_outputs_close leaves only the current stdout open. */
    term t = {.status_on = !a->quiet && isatty(STDERR_FILENO)};
    static tty_out out_state = {.at_line_start = true};
    FILE *tty_stdout = NULL, *saved_stdout = stdout;
    if (t.status_on && a->outputs && isatty(STDOUT_FILENO)) {
        fflush(stdout);
        tty_stdout = fopencookie(&out_state, "w", (cookie_io_functions_t){.write = tty_out_write});
        if (tty_stdout) {
            setvbuf(tty_stdout, NULL, _IOLBF, 0);
            for (unsigned i = 0; i < a->outputs->count; i++)
                if (a->outputs->items[i].fp == stdout)
                    a->outputs->items[i].fp = tty_stdout;
            stdout = tty_stdout;
            t.out = &out_state;
        }
    }
    comb_status status_line;
    comb_status_init(&status_line, comb_now_ns(), a->cmd);

    static comb_capture cap;
    comb_capture_config cfg = {.sync_mode = a->assume_sync ? COMB_ITM_SYNC_ASSUME : COMB_ITM_SYNC_WAIT,
                               .outputs = a->outputs,
                               .store = store,
                               .ack_to = a->ack ? src : NULL,
                               .store_ports = a->store_ports};
    comb_capture_init(&cap, &cfg);
    static comb_tpiu tpiu;
    if (a->tpiu_id >= 0)
        comb_tpiu_init(&tpiu, (uint8_t)a->tpiu_id);
    comb_tpiu_sniffer sniffer = {0};
    bool sniff_warned = false;
    bool line_source = has_prefix(spec, "serial:") || has_prefix(spec, "ftdi:") || has_prefix(spec, "bmp:");
    /* the USB sources see the adapter's line status and their own buffer (comb_source_link_stats) */
    bool link_source = has_prefix(spec, "ftdi:") || has_prefix(spec, "bmp:");

    const char *reason = "end_of_input";
    int status = 0;
    int64_t last_commit = mono_ns();
    static uint8_t buf[1 << 16];
    static uint8_t deformatted[(1 << 16) + COMB_TPIU_FRAME_SIZE];
    while (!stop_signal) {
        /* wait for input, but never past the next commit (capture.h) */
        int wait_ms = store ? comb_capture_read_timeout_ms(mono_ns(), last_commit, 100) : 100;
        ssize_t n = comb_source_read(src, buf, sizeof buf, wait_ms, err, sizeof err);
        int64_t now = comb_now_ns();
        if (n > 0) {
            if (t.out)
                term_clear(&t); /* log text may follow on the same terminal */
            if (a->tpiu_id >= 0) {
                size_t m = comb_tpiu_feed(&tpiu, buf, (size_t)n, deformatted);
                comb_capture_feed(&cap, deformatted, m, now); /* counters: the ITM bytes */
            } else {
                comb_capture_feed(&cap, buf, (size_t)n, now);
                if (!sniff_warned) {
                    comb_tpiu_sniff(&sniffer, buf, (size_t)n);
                    if (sniffer.syncs >= COMB_TPIU_SNIFF_THRESHOLD) {
                        sniff_warned = true;
                        term_msg(&t,
                                 "%s: warning: the input has TPIU formatter syncs (FF FF FF 7F): it is "
                                 "probably formatted; decode it with --tpiu ID (ITM: usually 1)",
                                 a->cmd);
                    }
                }
            }
            if (a->outputs)
                comb_outputs_flush(a->outputs);
            if (t.out)
                term_draw(&t); /* back at once, if the text ended with a whole line */
        } else if (n == -1) {
            reason = line_source ? "device_lost" : "end_of_input";
            break;
        } else if (n == -2) {
            term_msg(&t, "%s: %s", a->cmd, err);
            reason = "error";
            status = 1;
            break;
        }
        if (store && comb_capture_commit_due(mono_ns(), last_commit)) {
            fill_link_counters(&cap.counters, a, src, &tpiu, link_source);
            if (comb_store_checkpoint(store, &cap.counters))
                cap.store_failed = true;
            last_commit = mono_ns(); /* the bound counts from the end of this commit */
        }
        if (cap.store_failed) {
            reason = "error";
            status = 1;
            break;
        }
        if (!a->quiet) {
            comb_status_sample smp = status_sample(&cap);
            char hint[256];
            /* only sources with a line rate can have a wrong one; formatter syncs explain
             * undecodable bytes better than a wrong baud rate */
            if (line_source && !sniff_warned && sniffer.syncs == 0 &&
                comb_status_baud_hint(&status_line, &smp, hint, sizeof hint)) {
                term_msg(&t, "%s", hint);
            }
            if (t.status_on && comb_status_due(&status_line, now)) {
                comb_status_update(&status_line, &smp, now);
                comb_status_format(&status_line, &smp, now, t.line, sizeof t.line, term_width());
                term_draw(&t);
            }
        }
    }
    if (stop_signal && status == 0)
        reason = "interrupted";
    term_clear(&t); /* before the last partial line of text, if any */
    if (a->tpiu_id >= 0)
        comb_tpiu_finish(&tpiu);
    comb_capture_finish(&cap);
    if (a->outputs)
        comb_outputs_close(a->outputs);
    if (tty_stdout) {
        fflush(tty_stdout);
        stdout = saved_stdout;
        fclose(tty_stdout);
    }
    fill_link_counters(&cap.counters, a, src, &tpiu, link_source);
    if (store) {
        /* a failure while decoding (cap.store_failed) or in the final commit ends the session as "error" */
        bool failed = cap.store_failed || comb_store_session_end(store, &cap.counters, reason);
        if (failed) {
            fprintf(stderr, "%s: %s\n", a->cmd, comb_store_errmsg(store));
            reason = "error";
            status = 1;
        }
        comb_store_close(store);
        if (failed)
            close_failed_session(a, session);
    }
    comb_source_link_stats link;
    comb_source_link_stats_get(src, &link);
    comb_source_close(src);
    if (!a->quiet)
        print_summary(a, session, &cap.counters, &tpiu, &link, reason);
    return status;
}
