/* Private: the vtable every source backend fills in. */
#ifndef COMB_SOURCE_IMPL_H
#define COMB_SOURCE_IMPL_H

#include <stdbool.h>

#include "comb/source.h"

struct comb_source {
    char spec[512];
    int fd;
    bool is_regular;
    void *impl; /* backend-private (libserialport port) */
    ssize_t (*read)(comb_source *s, void *buf, size_t cap, int timeout_ms, char *err, size_t errlen);
    int (*write)(comb_source *s, const void *buf, size_t n);
    void (*close)(comb_source *s);
};

int comb_source_open_serial(comb_source *s, const char *arg, char *err, size_t errlen);
int comb_source_open_termios(comb_source *s, const char *dev, unsigned baud, char *err, size_t errlen);

#endif
