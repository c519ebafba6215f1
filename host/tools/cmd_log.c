/*
 * comb log [--db FILE] [--assume-sync] [--no-ack] [--tpiu ID] [--quiet] SOURCE [OUTPUT...]
 *
 * Parses the options, opens the outputs, records the settings of the session
 * and hands over to the capture loop (capture_run.h), which reads until end of
 * input, a vanished device, Ctrl-C or SIGTERM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_run.h"
#include "comb/output_selector.h"
#include "comb/tpiu_deformatter.h"
#include "commands.h"
#include "json_text.h"

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
    char settings[2048] = "{\"outputs\":[";
    for (int i = 0; i < nout; i++) {
        if (i)
            strncat(settings, ",", sizeof settings - strlen(settings) - 1);
        json_append_string(settings, sizeof settings, outs_argv[i]);
    }
    free(outs_argv);
    size_t n = strlen(settings);
    n += (size_t)snprintf(settings + n, sizeof settings - n, "],\"sync\":\"%s\",\"ack\":%s",
                          assume_sync ? "assume" : "wait", ack ? "true" : "false");
    if (use_tpiu && n < sizeof settings)
        n += (size_t)snprintf(settings + n, sizeof settings - n, ",\"tpiu\":%u", (unsigned)tpiu_id);
    if (n < sizeof settings)
        snprintf(settings + n, sizeof settings - n, "}");

    capture_run_args a = {.cmd = "comb log",
                          .spec = spec,
                          .db_path = db_path,
                          .settings = settings,
                          .outputs = &outputs,
                          .assume_sync = assume_sync,
                          .ack = ack,
                          .quiet = quiet,
                          .tpiu_id = use_tpiu ? tpiu_id : -1};
    return capture_run(&a);
}
