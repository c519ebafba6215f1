/*
 * comb fibers report: per-thread and per-fiber latency and run-time
 * statistics of a stored session (docs/scheduler-analysis.md).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "comb/elf_symbols.h"
#include "comb/heap_session.h"
#include "comb/sched_report.h"
#include "comb/sched_session.h"
#include "cli_opts.h"
#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: comb fibers report --db FILE [--session N] [--elf FIRMWARE.elf] [--json]\n"
               "\n"
               "Per thread: runs, wakeup-to-entry latency and run time (self time, without\n"
               "preemptions) as p50/p99/max, CPU share and the longest run; per fiber the same\n"
               "from resume to yield or completion. Times in microseconds, each row with a\n"
               "second line in core cycles (JSON: also ticks). --session N picks a session\n"
               "(default: the latest); --elf names threads (comb_thr_name_<name> symbols) and\n"
               "fibers (their objects). Problems in\n"
               "the trace (missing events, runs still open at the end, timestamps far out of\n"
               "line, which are left out) are listed as warnings.\n");
}

static const char *thread_name_cb(void *ctx, uint16_t thr, char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return comb_elf_absolute_named(ctx, "comb_thr_name_", thr);
}

static const char *fiber_name_cb(void *ctx, uint32_t addr, char *buf, size_t cap)
{
    return comb_elf_object_at(ctx, addr, buf, cap);
}

static int cmd_report(int argc, char **argv)
{
    const char *db = NULL, *session = NULL, *elf = NULL;
    bool json = false;
    const cli_opt opts[] = {{"--db", "a value", &db, NULL},
                             {"--session", "a value", &session, NULL},
                             {"--elf", "a value", &elf, NULL},
                             {"--json", NULL, NULL, &json}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("fibers report", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc == 3) {
        usage(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (!db) {
        fprintf(stderr, "comb fibers report: --db FILE is required\n");
        return 2;
    }
    int64_t id = 0;
    if (session && comb_heap_session_parse_id(session, &id)) {
        fprintf(stderr, "comb fibers report: --session needs a session number, not '%s'\n", session);
        return 2;
    }
    char err[1024];
    comb_elf_symbols *syms = NULL;
    if (elf && comb_elf_symbols_load(elf, &syms, err, sizeof err)) {
        fprintf(stderr, "comb fibers report: %s\n", err);
        return 1;
    }
    comb_sched_session info;
    comb_sched_result r;
    if (comb_sched_session_report(db, id, &info, &r, err, sizeof err)) {
        fprintf(stderr, "comb fibers report: %s\n", err);
        comb_elf_symbols_free(syms);
        return 1;
    }
    comb_sched_report_context c = {.session = info.id,
                                   .core_hz = info.core_hz,
                                   .ts_hz = info.ts_hz,
                                   .thread_name = syms ? thread_name_cb : NULL,
                                   .fiber_name = syms ? fiber_name_cb : NULL,
                                   .names_ctx = syms};
    comb_strbuf sb = {0};
    if (json)
        comb_sched_report_json(&r, &c, &sb);
    else
        comb_sched_report_text(&r, &c, &sb);
    rc = 0;
    if (sb.oom) {
        fprintf(stderr, "comb fibers report: out of memory\n");
        rc = 1;
    } else if (fwrite(comb_sb_str(&sb), 1, sb.len, stdout) != sb.len || fflush(stdout)) {
        fprintf(stderr, "comb fibers report: cannot write to standard output\n");
        rc = 1;
    }
    comb_sb_free(&sb);
    comb_sched_result_free(&r);
    comb_elf_symbols_free(syms);
    return rc;
}

int cmd_fibers(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "comb fibers: unknown subcommand '%s' (try comb fibers --help)\n", sub);
    return 2;
}
