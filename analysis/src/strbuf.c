#include "comb/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(comb_strbuf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void comb_sb_append(comb_strbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void comb_sb_puts(comb_strbuf *b, const char *s)
{
    comb_sb_append(b, s, strlen(s));
}

void comb_sb_vprintf(comb_strbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void comb_sb_printf(comb_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    comb_sb_vprintf(b, fmt, ap);
    va_end(ap);
}

void comb_sb_json_str(comb_strbuf *b, const char *s)
{
    if (!s) {
        comb_sb_puts(b, "null");
        return;
    }
    comb_sb_puts(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            comb_sb_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            comb_sb_printf(b, "\\u%04x", ch);
        else
            comb_sb_append(b, (const char *)&ch, 1);
    }
    comb_sb_puts(b, "\"");
}

const char *comb_sb_str(const comb_strbuf *b)
{
    return b->data ? b->data : "";
}

void comb_sb_free(comb_strbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}
