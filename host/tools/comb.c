/* comb: command-line front over the comb_host library. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb COMMAND [OPTIONS] ...\n"
            "\n"
            "commands:\n"
            "  log     capture a target's ITM stream: print log ports, store the session\n"
            "  decode  print every ITM packet of a captured stream (--json: one object per line)\n"
            "  heap    heap traces: capture, import, report, generate and verify pool layouts, C header\n"
            "  fibers  scheduler traces: per-thread and per-fiber latency, run time and CPU share\n"
            "  export  a session as CSV (tables, or the dashboard's plot data) or Perfetto trace JSON\n"
            "  dashboard  plots (gnuplot, PNG and SVG) and a static HTML page of a session\n"
            "  version print the version and the protocol/schema versions\n"
            "\n"
            "`comb COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "log") == 0)
        return cmd_log(argc - 1, argv + 1);
    if (strcmp(cmd, "decode") == 0)
        return cmd_decode(argc - 1, argv + 1);
    if (strcmp(cmd, "heap") == 0)
        return cmd_heap(argc - 1, argv + 1);
    if (strcmp(cmd, "fibers") == 0)
        return cmd_fibers(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "dashboard") == 0)
        return cmd_dashboard(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
        return cmd_version();
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "comb: unknown command '%s' (try comb --help)\n", cmd);
    return 2;
}
