/* JSON text for the settings the capture commands store in session rows. */
#ifndef COMB_JSON_TEXT_H
#define COMB_JSON_TEXT_H

#include <stddef.h>

/* Appends s to the NUL-terminated buf as a JSON string literal (quotes,
 * backslash escapes, \u00XX for control bytes). Output that would not fit in
 * cap is cut short, never overrun. */
void json_append_string(char *buf, size_t cap, const char *s);

#endif
