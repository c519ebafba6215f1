/*
 * Minimal test harness for comb's C unit tests: CHECK records a failure and
 * carries on, so one run shows every broken expectation; check_finish() prints
 * a summary and gives the process exit code CTest reads.
 */
#ifndef COMB_CHECK_H
#define COMB_CHECK_H

#include <inttypes.h>
#include <stdio.h>

extern unsigned check_failures;
extern unsigned check_count;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        check_count++;                                                                      \
        if (!(cond)) {                                                                      \
            check_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                                   \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                  \
    do {                                                                                    \
        unsigned long long check_a_ = (unsigned long long)(a);                              \
        unsigned long long check_b_ = (unsigned long long)(b);                              \
        check_count++;                                                                      \
        if (check_a_ != check_b_) {                                                         \
            check_failures++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (0x%llx != 0x%llx)\n", __FILE__,  \
                    __LINE__, #a, #b, check_a_, check_b_);                                  \
        }                                                                                   \
    } while (0)

/* Prints "<name>: N checks, M failed" and returns the exit status. */
int check_finish(const char *name);

#endif
