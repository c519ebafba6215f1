/* A growing byte string for building text (reports, TOML, headers). */
#ifndef COMB_STRBUF_H
#define COMB_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct comb_strbuf {
    char *data; /* NUL-terminated once anything was appended; NULL before */
    size_t len, cap;
    bool oom;   /* an append failed; the content is truncated */
} comb_strbuf;

void comb_sb_append(comb_strbuf *b, const char *s, size_t n);
void comb_sb_puts(comb_strbuf *b, const char *s);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void comb_sb_printf(comb_strbuf *b, const char *fmt, ...);
void comb_sb_vprintf(comb_strbuf *b, const char *fmt, va_list ap);
/* s as a JSON string literal (quotes, backslashes and control characters
 * escaped; other bytes as they are); NULL as null. */
void comb_sb_json_str(comb_strbuf *b, const char *s);
/* The text ("" when empty); stays owned by the buffer. */
const char *comb_sb_str(const comb_strbuf *b);
void comb_sb_free(comb_strbuf *b);

#endif
