/* Helpers shared by the `comb heap` subcommands (cmd_heap*.c). */
#ifndef COMB_HEAP_CLI_H
#define COMB_HEAP_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "cli_opts.h" /* the subcommands parse their options with cli_parse_pos */

/* Writes text to path ("-" or NULL: stdout) through a temporary file and a
 * rename; with keep_if_same an identical existing file is left untouched.
 * Returns 0 or 1 (message printed). */
int heap_write_file(const char *cmd, const char *path, const char *text, size_t len, bool keep_if_same);

const char *heap_basename(const char *path);

/* The subcommands (cmd_heap_capture.c, cmd_heap_layout.c). */
int heap_cmd_trace(int argc, char **argv);
int heap_cmd_import(int argc, char **argv);
int heap_cmd_report(int argc, char **argv);
int heap_cmd_generate(int argc, char **argv);
int heap_cmd_verify(int argc, char **argv);

#endif
