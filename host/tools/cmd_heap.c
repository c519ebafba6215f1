/*
 * comb heap SUBCOMMAND: heap trace sessions, reports, layouts (docs/heap-analysis.md).
 *
 *   trace     --db FILE SOURCE                          capture port 31 alone
 *   import    --drone FILE --db FILE                    import a Drone v0.14 heaptrace
 *   report    --db FILE [--session N] [--json] [--elf]  Drone's table and more
 *   generate  --db FILE --pools N [--size ...]          optimal layout
 *   verify    --db FILE --layout Drone.toml             replay against a layout
 *   header    --layout Drone.toml [-o OUT]              C header for the firmware allocator
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comb/drone_toml.h"
#include "comb/layout_header.h"
#include "commands.h"
#include "heap_cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: comb heap SUBCOMMAND [OPTIONS]\n"
            "\n"
            "subcommands:\n"
            "  trace    --db FILE SOURCE\n"
            "           capture a heap trace (port 31) alone into a new session\n"
            "  import   --drone FILE --db FILE\n"
            "           import a Drone OS v0.14 heaptrace file as a new session\n"
            "  report   [--json] [--elf FIRMWARE.elf] [--size SIZE | --layout Drone.toml]\n"
            "           Drone's statistics, the concurrent peak, failures, leaks, allocation sites\n"
            "  generate --pools N [--size SIZE] [--heap NAME] [--margin PCT] [--format drone|c-header]\n"
            "           [--write Drone.toml]\n"
            "           the smallest layout of at most N pools that passes the session\n"
            "  verify   --layout Drone.toml [--heap NAME]\n"
            "           replay the session against a layout; exit 0 only if nothing fails\n"
            "  header   --layout Drone.toml [-o OUT]\n"
            "           write the C header the firmware allocator is built from (docs/heap-layout-header.md)\n"
            "\n"
            "Every subcommand that reads a database takes --db FILE and --session N (default: the latest).\n");
}

const char *heap_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int heap_write_file(const char *cmd, const char *path, const char *text, size_t len, bool keep_if_same)
{
    if (!path || !strcmp(path, "-")) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout)) {
            fprintf(stderr, "comb heap %s: cannot write to standard output\n", cmd);
            return 1;
        }
        return 0;
    }
    struct stat st;
    mode_t mode = 0644;
    if (stat(path, &st) == 0) {
        mode = st.st_mode & 07777;
        if (keep_if_same && (size_t)st.st_size == len) {
            /* unchanged: leave the file (and its time stamp, so builds do not redo work) */
            FILE *f = fopen(path, "rb");
            if (f) {
                char *old = malloc(len ? len : 1);
                bool same = old && fread(old, 1, len, f) == len && fgetc(f) == EOF && !memcmp(old, text, len);
                free(old);
                fclose(f);
                if (same)
                    return 0;
            }
        }
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return 1;
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "comb heap %s: cannot write %s: %s\n", cmd, tmp, strerror(errno));
        free(tmp);
        return 1;
    }
    bool ok = fwrite(text, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (ok)
        chmod(tmp, mode);
    if (!ok || rename(tmp, path)) {
        fprintf(stderr, "comb heap %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return 1;
    }
    free(tmp);
    return 0;
}

/* ---- header ---------------------------------------------------------------- */

static int cmd_header(int argc, char **argv)
{
    const char *layout = NULL, *out = NULL;
    const cli_opt opts[] = {{"--layout", "a Drone.toml file", &layout, NULL}, {"-o", "an output file", &out, NULL},
                             {"--output", "an output file", &out, NULL}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap header", argc, argv, opts, 3, pos, 0, &npos);
    if (rc == 3) {
        printf("usage: comb heap header --layout Drone.toml [-o OUT]\n"
               "\n"
               "Writes the C header with the heaps and pools of every [heap.NAME] section (format:\n"
               "docs/heap-layout-header.md) to OUT (default: standard output). OUT is left untouched\n"
               "when its content would not change.\n");
        return 0;
    }
    if (rc)
        return rc;
    if (!layout) {
        fprintf(stderr, "comb heap header: --layout Drone.toml is required\n");
        return 2;
    }
    char err[700];
    comb_drone_toml t;
    if (comb_drone_toml_load(layout, &t, err, sizeof err) || comb_drone_toml_check(&t, err, sizeof err)) {
        fprintf(stderr, "comb heap header: %s\n", err);
        if (t.text)
            comb_drone_toml_free(&t);
        return 1;
    }
    comb_strbuf sb = {0};
    if (comb_layout_header(t.heaps, t.nheaps, heap_basename(layout), &sb, err, sizeof err)) {
        fprintf(stderr, "comb heap header: %s: %s\n", layout, err);
        comb_sb_free(&sb);
        comb_drone_toml_free(&t);
        return 1;
    }
    rc = heap_write_file("header", out, comb_sb_str(&sb), sb.len, true);
    comb_sb_free(&sb);
    comb_drone_toml_free(&t);
    return rc;
}

int cmd_heap(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "header"))
        return cmd_header(argc - 1, argv + 1);
    if (!strcmp(sub, "trace"))
        return heap_cmd_trace(argc - 1, argv + 1);
    if (!strcmp(sub, "import"))
        return heap_cmd_import(argc - 1, argv + 1);
    if (!strcmp(sub, "report"))
        return heap_cmd_report(argc - 1, argv + 1);
    if (!strcmp(sub, "generate"))
        return heap_cmd_generate(argc - 1, argv + 1);
    if (!strcmp(sub, "verify"))
        return heap_cmd_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "comb heap: unknown subcommand '%s' (try comb heap --help)\n", sub);
    return 2;
}
