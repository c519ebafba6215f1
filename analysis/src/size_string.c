#include "comb/size_string.h"

#include <stdio.h>
#include <string.h>

int comb_size_parse(const char *s, size_t len, uint32_t *out, char *err, size_t errlen)
{
    uint64_t mul = 1;
    if (len == 0) {
        snprintf(err, errlen, "empty size");
        return -1;
    }
    if (s[len - 1] == 'M') {
        mul = 1048576;
        len--;
    } else if (s[len - 1] == 'K') {
        mul = 1024;
        len--;
    }
    unsigned base = 10;
    size_t i = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (len > 1 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    if (i == len) {
        snprintf(err, errlen, "no digits in size");
        return -1;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            d = 99;
        if (d >= base) {
            snprintf(err, errlen, "invalid %s digit '%c' in size", base == 16 ? "hex" : base == 8 ? "octal" : "decimal",
                     c >= 0x20 && c < 0x7F ? c : '?');
            return -1;
        }
        v = v * base + d;
        if (v > UINT32_MAX) {
            snprintf(err, errlen, "size does not fit in 32 bits");
            return -1;
        }
    }
    v *= mul;
    if (v > UINT32_MAX) {
        snprintf(err, errlen, "size does not fit in 32 bits");
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

char *comb_size_format(uint32_t v, char *buf)
{
    if (v > 0 && v % 1048576u == 0)
        snprintf(buf, COMB_SIZE_STRING_MAX, "%uM", (unsigned)(v / 1048576u));
    else if (v > 0 && v % 1024u == 0)
        snprintf(buf, COMB_SIZE_STRING_MAX, "%uK", (unsigned)(v / 1024u));
    else
        snprintf(buf, COMB_SIZE_STRING_MAX, "%u", (unsigned)v);
    return buf;
}
