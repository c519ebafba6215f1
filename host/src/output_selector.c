#include "comb/output_selector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int comb_output_parse(const char *arg, comb_output *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(arg, ':');
    size_t plen = colon ? (size_t)(colon - arg) : strlen(arg);
    if (plen >= sizeof out->path) {
        snprintf(err, errlen, "output '%.40s...': path too long", arg);
        return -1;
    }
    memcpy(out->path, arg, plen);
    out->path[plen] = 0;
    int nports = 0;
    while (colon) {
        const char *p = colon + 1;
        colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len == 0 || len > 3 || strspn(p, "0123456789") < len) {
            snprintf(err, errlen, "output '%s': '%.*s' is not a port number (0-31)", arg, (int)len, p);
            return -1;
        }
        unsigned port = (unsigned)strtoul(p, NULL, 10);
        if (port >= 32) {
            snprintf(err, errlen, "output '%s': port %u is out of range (0-31)", arg, port);
            return -1;
        }
        out->ports |= 1u << port;
        nports++;
    }
    if (nports == 0)
        out->ports = 0xFFFFFFFFu;
    return 0;
}

int comb_outputs_open(comb_outputs *outs, int argc, char **argv, char *err, size_t errlen)
{
    static char *defaults[] = {":0:1"};
    memset(outs, 0, sizeof *outs);
    if (argc == 0) {
        argc = 1;
        argv = defaults;
    }
    if (argc > COMB_MAX_OUTPUTS) {
        snprintf(err, errlen, "too many outputs (at most %d)", COMB_MAX_OUTPUTS);
        return -1;
    }
    /* Parse every selector before creating any file: a bad selector must not
     * leave files truncated or open behind it. */
    for (int i = 0; i < argc; i++)
        if (comb_output_parse(argv[i], &outs->items[i], err, errlen)) {
            memset(outs, 0, sizeof *outs);
            return -1;
        }
    for (int i = 0; i < argc; i++) {
        comb_output *o = &outs->items[outs->count];
        if (o->path[0]) {
            o->fp = fopen(o->path, "wb");
            if (!o->fp) {
                snprintf(err, errlen, "output '%s': cannot create %s: %s", argv[i], o->path, strerror(errno));
                comb_outputs_close(outs);
                return -1;
            }
        } else {
            o->fp = stdout;
        }
        outs->any |= o->ports;
        outs->count++;
    }
    return 0;
}

void comb_outputs_write(comb_outputs *outs, unsigned port, const uint8_t *bytes, size_t n)
{
    if (port >= 32 || !((outs->any >> port) & 1u))
        return;
    for (unsigned i = 0; i < outs->count; i++)
        if ((outs->items[i].ports >> port) & 1u)
            fwrite(bytes, 1, n, outs->items[i].fp);
}

void comb_outputs_flush(comb_outputs *outs)
{
    for (unsigned i = 0; i < outs->count; i++)
        fflush(outs->items[i].fp);
}

void comb_outputs_close(comb_outputs *outs)
{
    for (unsigned i = 0; i < outs->count; i++) {
        if (outs->items[i].fp && outs->items[i].fp != stdout)
            fclose(outs->items[i].fp);
        outs->items[i].fp = NULL;
    }
    fflush(stdout);
}
