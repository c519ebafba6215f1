/* One function per `comb` subcommand; each returns the process exit status. */
#ifndef COMB_COMMANDS_H
#define COMB_COMMANDS_H

int cmd_log(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_heap(int argc, char **argv);
int cmd_fibers(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_dashboard(int argc, char **argv);
int cmd_version(void);

#endif
