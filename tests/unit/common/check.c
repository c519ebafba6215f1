#include "check.h"

unsigned check_failures;
unsigned check_count;

int check_finish(const char *name)
{
    printf("%s: %u checks, %u failed\n", name, check_count, check_failures);
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    return check_failures ? 1 : 0;
}
