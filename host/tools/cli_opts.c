#include "cli_opts.h"

#include <stdio.h>
#include <string.h>

/* pos NULL: the command takes no positional arguments, and a stray one gets
 * the --help hint; with pos, a surplus one is named without it (the message
 * `comb heap` has always printed). */
static int parse(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts, const char **pos,
                 unsigned maxpos, unsigned *npos)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 3;
        const cli_opt *o = NULL;
        const char *val = NULL;
        for (unsigned k = 0; k < nopts && !o; k++) {
            size_t n = strlen(opts[k].name);
            if (!strncmp(a, opts[k].name, n) && (a[n] == 0 || (a[n] == '=' && opts[k].value))) {
                o = &opts[k];
                if (a[n] == '=')
                    val = a + n + 1;
            }
        }
        if (!o) {
            if (a[0] == '-' && a[1]) {
                fprintf(stderr, "comb %s: unknown option '%s' (try comb %s --help)\n", cmd, a, cmd);
                return 2;
            }
            if (!pos) {
                fprintf(stderr, "comb %s: unexpected argument '%s' (try comb %s --help)\n", cmd, a, cmd);
                return 2;
            }
            if (*npos >= maxpos) {
                fprintf(stderr, "comb %s: unexpected argument '%s'\n", cmd, a);
                return 2;
            }
            pos[(*npos)++] = a;
            continue;
        }
        if (!o->value) {
            *o->flag = true;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "comb %s: %s needs %s\n", cmd, o->name, o->value);
                return 2;
            }
            val = argv[++i];
        }
        *o->str = val;
    }
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts)
{
    return parse(cmd, argc, argv, opts, nopts, NULL, 0, NULL);
}

int cli_parse_pos(const char *cmd, int argc, char **argv, const cli_opt *opts, unsigned nopts, const char **pos,
                  unsigned maxpos, unsigned *npos)
{
    *npos = 0;
    return parse(cmd, argc, argv, opts, nopts, pos, maxpos, npos);
}
