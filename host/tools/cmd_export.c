/*
 * comb export csv | perfetto: one session of a database in other formats
 * (docs/dashboards.md).
 *
 *   csv      --db FILE [--session N] --table heap|sched|log [-o FILE.csv]
 *   csv      --db FILE [--session N] --plots DIR [--layout Drone.toml [--heap NAME]] [--from T] [--to T]
 *            [--elf FIRMWARE.elf]
 *   perfetto --db FILE [--session N] [--elf FIRMWARE.elf] [-o trace.json]
 */
#include <stdio.h>
#include <string.h>

#include "cli_opts.h"
#include "comb/session_export.h"
#include "commands.h"
#include "dash_cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb export csv --db FILE [--session N] --table heap|sched|log [-o FILE.csv]\n"
            "       comb export csv --db FILE [--session N] --plots DIR [--layout Drone.toml [--heap NAME]]\n"
            "                       [--from T] [--to T] [--elf FIRMWARE.elf]\n"
            "       comb export perfetto --db FILE [--session N] [--elf FIRMWARE.elf] [-o trace.json]\n"
            "\n"
            "csv --table: the session's rows of heap_event, sched_event or log_line with a session-time\n"
            "  column, in the order the analyses read them.\n"
            "csv --plots: the aggregated data of every dashboard plot (heap_usage.csv, heap_pools.csv,\n"
            "  alloc_sizes.csv, latency_hist.csv, latency_cdf.csv, timeline.csv, log_rate.csv) and\n"
            "  meta.gp, which the gnuplot scripts in dashboards/ read: gnuplot -c dashboards/X.gp DIR X.svg\n"
            "perfetto: Chrome trace-event JSON for https://ui.perfetto.dev: a track per thread with its\n"
            "  runs and fibers, wakeups as arrows, heap bytes in use as a counter, log lines as instants.\n"
            "\n"
            "--session N: default the latest. -o: default standard output. T: session time in seconds\n"
            "(or with s, ms, us, ns); the timeline shows [--from, --to], by default its first 40 runs.\n"
            "--elf names threads (comb_thr_name_ symbols) and fibers (their objects).\n"
            "(docs/dashboards.md)\n");
}

static int export_csv(int argc, char **argv)
{
    dash_args a = {0};
    const char *table = NULL, *out = NULL, *plots = NULL;
    const cli_opt opts[] = {{"--db", "a database file", &a.db, NULL},
                            {"--session", "a session number", &a.session, NULL},
                            {"--table", "heap, sched or log", &table, NULL},
                            {"--plots", "a directory", &plots, NULL},
                            {"--layout", "a Drone.toml file", &a.layout, NULL},
                            {"--heap", "a heap name", &a.heap, NULL},
                            {"--from", "a session time", &a.from, NULL},
                            {"--to", "a session time", &a.to, NULL},
                            {"--elf", "the firmware ELF file", &a.elf, NULL},
                            {"-o", "an output file", &out, NULL},
                            {"--output", "an output file", &out, NULL}};
    int rc = cli_parse("export csv", argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc == 3) {
        usage(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (!table == !plots) {
        fprintf(stderr, "comb export csv: give one of --table heap|sched|log or --plots DIR\n");
        return 2;
    }
    int t = -1;
    if (table && (t = comb_export_table_parse(table)) < 0) {
        fprintf(stderr, "comb export csv: --table is heap, sched or log, not '%s'\n", table);
        return 2;
    }
    if (table && (a.layout || a.from || a.to || a.elf)) {
        fprintf(stderr, "comb export csv: --layout, --from, --to and --elf go with --plots\n");
        return 2;
    }
    if (plots && out) {
        fprintf(stderr, "comb export csv: --plots writes a directory; -o goes with --table\n");
        return 2;
    }
    dash_opened o;
    if ((rc = dash_open("export csv", &a, &o)))
        return rc;
    char err[1200];
    if (plots) {
        comb_dash_data data;
        rc = comb_dash_write_plot_data(o.d, &o.opts, plots, &data, err, sizeof err);
        if (rc) {
            fprintf(stderr, "comb export csv: %s\n", err);
        } else {
            dash_report_window("export csv", o.d, &data.window);
            comb_dash_data_free(&data);
        }
        dash_close(&o);
        return rc ? 1 : 0;
    }
    out_stream s;
    if (out_stream_open("export csv", out, &s)) {
        dash_close(&o);
        return 1;
    }
    rc = comb_export_csv(o.d, (comb_export_table)t, s.f, err, sizeof err);
    if (rc)
        fprintf(stderr, "comb export csv: %s\n", err);
    rc = out_stream_close("export csv", &s, rc == 0) || rc ? 1 : 0;
    dash_close(&o);
    return rc;
}

static int export_perfetto(int argc, char **argv)
{
    dash_args a = {0};
    const char *out = NULL;
    const cli_opt opts[] = {{"--db", "a database file", &a.db, NULL},
                            {"--session", "a session number", &a.session, NULL},
                            {"--elf", "the firmware ELF file", &a.elf, NULL},
                            {"-o", "an output file", &out, NULL},
                            {"--output", "an output file", &out, NULL}};
    int rc = cli_parse("export perfetto", argc, argv, opts, sizeof opts / sizeof opts[0]);
    if (rc == 3) {
        usage(stdout);
        return 0;
    }
    if (rc)
        return rc;
    dash_opened o;
    if ((rc = dash_open("export perfetto", &a, &o)))
        return rc;
    out_stream s;
    if (out_stream_open("export perfetto", out, &s)) {
        dash_close(&o);
        return 1;
    }
    char err[1200];
    comb_perfetto_stats st;
    rc = comb_export_perfetto(o.d, s.f, &st, err, sizeof err);
    if (rc)
        fprintf(stderr, "comb export perfetto: %s\n", err);
    rc = out_stream_close("export perfetto", &s, rc == 0) || rc ? 1 : 0;
    if (!rc && out && strcmp(out, "-"))
        fprintf(stderr,
                "comb export perfetto: %s: %llu trace events (%llu runs, %llu fiber runs, %llu wakeup arrows, "
                "%llu heap counter values, %llu log lines)\n",
                out, (unsigned long long)st.events, (unsigned long long)st.runs, (unsigned long long)st.fiber_runs,
                (unsigned long long)st.flows, (unsigned long long)st.counters, (unsigned long long)st.log_lines);
    dash_close(&o);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "comb export: give csv or perfetto (comb export --help)\n");
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "csv"))
        return export_csv(argc - 1, argv + 1);
    if (!strcmp(sub, "perfetto"))
        return export_perfetto(argc - 1, argv + 1);
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "comb export: unknown format '%s': give csv or perfetto (comb export --help)\n", sub);
    return 2;
}
