/*
 * libFuzzer target: output selector parsing (output_selector.h), Drone's
 * `[path][:port]...`, against a reference parser written independently here:
 * success iff every ':'-separated field after the path is 1-3 decimal digits
 * with a value below 32; the path is what precedes the first ':' (shorter than
 * the path buffer); no port means every port.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/output_selector.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_output_selector: oracle violated: %s\n", what);
        abort();
    }
}

static int reference(const char *s, char *path, size_t pathcap, uint32_t *ports)
{
    size_t i = 0;
    while (s[i] && s[i] != ':')
        i++;
    if (i >= pathcap)
        return -1;
    memcpy(path, s, i);
    path[i] = 0;
    uint32_t mask = 0;
    int any = 0;
    while (s[i] == ':') {
        i++;
        unsigned digits = 0, value = 0;
        while (s[i] && s[i] != ':') {
            if (s[i] < '0' || s[i] > '9' || ++digits > 3)
                return -1;
            value = value * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (digits == 0 || value >= 32)
            return -1;
        mask |= 1u << value;
        any = 1;
    }
    *ports = any ? mask : 0xFFFFFFFFu;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char arg[2048];
    if (size >= sizeof arg)
        return 0;
    memcpy(arg, data, size);
    arg[size] = 0; /* a C string: up to the first NUL, as argv would be */

    comb_output out;
    char err[4096] = "";
    int rc = comb_output_parse(arg, &out, err, sizeof err);
    check(rc == 0 || rc == -1, "return code");

    char path[sizeof out.path];
    uint32_t ports = 0;
    int ref = reference(arg, path, sizeof path, &ports);
    check(rc == ref, "accepts/rejects differently from the reference");
    if (rc == 0) {
        check(strlen(out.path) < sizeof out.path, "path terminated");
        check(strcmp(out.path, path) == 0, "path differs from the reference");
        check(out.ports == ports, "ports differ from the reference");
    } else {
        check(err[0] != 0, "error without a message");
        check(strlen(err) < sizeof err, "message terminated");
    }
    return 0;
}
