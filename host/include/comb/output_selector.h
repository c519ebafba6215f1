/*
 * Output selectors, Drone's syntax: `[path][:port]...`.
 *   ":0:1"        ports 0 and 1 to stdout
 *   "heap.bin:31" raw payload bytes of port 31 to heap.bin (created or truncated)
 *   "all.bin"     an output with no port receives every port
 * Payload bytes are written exactly as the firmware wrote them (no framing).
 * Several outputs may name the same port.
 */
#ifndef COMB_OUTPUT_SELECTOR_H
#define COMB_OUTPUT_SELECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COMB_MAX_OUTPUTS 32

typedef struct comb_output {
    char path[512]; /* empty: stdout */
    uint32_t ports; /* bit n = port n */
    FILE *fp;
} comb_output;

typedef struct comb_outputs {
    comb_output items[COMB_MAX_OUTPUTS];
    unsigned count;
    uint32_t any; /* union of all ports */
} comb_outputs;

/* Parses one selector. 0 on success; -1 with a one-line message naming the
 * problem (bad port number, port >= 32, empty port, path too long). */
int comb_output_parse(const char *arg, comb_output *out, char *err, size_t errlen);

/* Parses all selectors (none given: ":0:1") and opens the files. */
int comb_outputs_open(comb_outputs *outs, int argc, char **argv, char *err, size_t errlen);

void comb_outputs_write(comb_outputs *outs, unsigned port, const uint8_t *bytes, size_t n);
void comb_outputs_flush(comb_outputs *outs);
void comb_outputs_close(comb_outputs *outs);

#endif
