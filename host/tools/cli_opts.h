/* Option parsing for `comb export` and `comb dashboard`: long options that
 * take a value ("--db FILE" or "--db=FILE") or are flags. Messages name the
 * command they came from ("comb export csv: --db needs a database file"). */
#ifndef COMB_CLI_OPTS_H
#define COMB_CLI_OPTS_H

#include <stdbool.h>

typedef struct cli_opt {
    const char *name;   /* "--db", "-o" */
    const char *value;  /* what the value is, for messages; NULL: a flag */
    const char **str;   /* where the value goes */
    bool *flag;         /* where a flag goes */
} cli_opt;

/* Parses argv[1..argc-1] (no positional arguments). Returns 0, 2 (bad usage:
 * one line printed on stderr) or 3 (--help or -h). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts);

#endif
