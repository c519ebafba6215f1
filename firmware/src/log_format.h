/* Internal: the formatter's output sink, shared by log.c and log_format.c. */
#ifndef COMB_LOG_FORMAT_H
#define COMB_LOG_FORMAT_H

#include <stdarg.h>
#include <stdint.h>

struct comb_fmt_sink {
    char *buf;       /* chunk buffer */
    uint32_t cap;    /* its size */
    uint32_t len;    /* characters in it */
    uint32_t total;  /* characters produced so far (saturates) */
    /* Called when the buffer is full and another character comes: must empty
     * it (len = 0). NULL: further characters are counted, not stored. */
    void (*flush)(struct comb_fmt_sink *sink);
    unsigned port;   /* for the log sink */
};

/* Format into the sink; returns the character count (capped at INT_MAX). */
int comb_format(struct comb_fmt_sink *sink, const char *fmt, va_list ap);

#endif
