#include <stdio.h>

#include "commands.h"
#include "comb/session_store.h"
#include "comb/trace_protocol.h"

int cmd_version(void)
{
    printf("comb 0.1.0 (trace protocol v%u, database schema v%d)\n", COMB_PROTOCOL_VERSION, COMB_SCHEMA_VERSION);
    return 0;
}
