#include "json_text.h"

#include <stdio.h>
#include <string.h>

void json_append_string(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(buf);
    if (n + 2 >= cap)
        return;
    buf[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            n += (size_t)snprintf(buf + n, cap - n, "\\%c", ch);
        else if (ch < 0x20)
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", ch);
        else
            buf[n++] = (char)ch;
    }
    buf[n++] = '"';
    buf[n] = 0;
}
