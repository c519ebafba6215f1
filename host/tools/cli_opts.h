/* Option parsing for the comb subcommands: long options that take a value
 * ("--db FILE" or "--db=FILE") or are flags, and positional arguments where a
 * command has them. Messages name the command they came from ("comb export
 * csv: --db needs a database file", "comb heap trace: unknown option '-x'
 * (try comb heap trace --help)"). */
#ifndef COMB_CLI_OPTS_H
#define COMB_CLI_OPTS_H

#include <stdbool.h>

typedef struct cli_opt {
    const char *name;   /* "--db", "-o" */
    const char *value;  /* what the value is, for messages; NULL: a flag */
    const char **str;   /* where the value goes */
    bool *flag;         /* where a flag goes */
} cli_opt;

/* Parses argv[1..argc-1] (no positional arguments); cmd is the command's
 * words after "comb" ("export csv"). Returns 0, 2 (bad usage: one line
 * printed on stderr) or 3 (--help or -h). */
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts);

/* The same, with up to maxpos positional arguments (a lone "-" is one) stored
 * in pos[0..*npos-1]; one more is bad usage ("comb CMD: unexpected argument
 * 'X'"). */
int cli_parse_pos(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts, const char **pos,
                  unsigned maxpos, unsigned *npos);

#endif
