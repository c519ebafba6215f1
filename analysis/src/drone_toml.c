/*
 * Drone.toml reader and section writer (include/comb/drone_toml.h).
 *
 * A small complete TOML parser: it builds values only as far as the heap
 * sections need them, but checks the syntax of the whole file so that a broken
 * file is rejected with a line number instead of being half-read.
 */
#include "comb/drone_toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/size_string.h"

typedef enum { TV_STR, TV_INT, TV_FLOAT, TV_BOOL, TV_DATE, TV_ARRAY, TV_TABLE } tv_type;

typedef struct tval {
    tv_type type;
    unsigned line;
    char *str;          /* TV_STR: decoded text; TV_FLOAT/TV_DATE: the token */
    size_t slen;
    int64_t i;          /* TV_INT, TV_BOOL */
    bool big;           /* TV_INT outside the 64-bit range */
    size_t n;           /* TV_ARRAY, TV_TABLE: items */
    struct tval *items;
    char **keys;        /* TV_TABLE: dotted keys, joined with '.' */
} tval;

typedef struct keypath {
    unsigned n;
    char **parts;
} keypath;

typedef struct kv {
    keypath table;      /* the [table] it belongs to (n = 0: root) */
    keypath key;
    unsigned line;
    tval value;
    size_t end;         /* byte offset after the line the value ends on */
} kv;

typedef struct header {
    keypath path;
    bool array;
    unsigned line;
    size_t start, end;  /* its line */
} header;

typedef struct parser {
    const char *s;
    size_t n, i;
    unsigned line;
    const char *path;
    char *err;
    size_t errlen;
    bool failed;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int perr(parser *p, const char *fmt, ...)
{
    if (!p->failed) {
        int k = snprintf(p->err, p->errlen, "%s:%u: ", p->path, p->line);
        if (k >= 0 && (size_t)k < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    p->failed = true;
    return -1;
}

static int peek(const parser *p, size_t ahead)
{
    return p->i + ahead < p->n ? (unsigned char)p->s[p->i + ahead] : -1;
}

static void adv(parser *p)
{
    if (p->i < p->n) {
        if (p->s[p->i] == '\n')
            p->line++;
        p->i++;
    }
}

static void skip_ws(parser *p)
{
    while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
        p->i++;
}

static bool at_eol(const parser *p)
{
    int c = peek(p, 0);
    return c == -1 || c == '\n' || (c == '\r' && peek(p, 1) == '\n');
}

/* Consumes a newline (or nothing at end of file). */
static int eat_eol(parser *p)
{
    if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
        p->i++;
    if (peek(p, 0) == '\n') {
        adv(p);
        return 0;
    }
    if (peek(p, 0) == -1)
        return 0;
    return perr(p, "expected end of line");
}

static int skip_comment(parser *p)
{
    if (peek(p, 0) != '#')
        return 0;
    while (!at_eol(p)) {
        int c = peek(p, 0);
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return perr(p, "control character in comment");
        p->i++;
    }
    return 0;
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_all(parser *p)
{
    for (;;) {
        skip_ws(p);
        if (peek(p, 0) == '#' && skip_comment(p))
            return -1;
        if (peek(p, 0) == '\n' || (peek(p, 0) == '\r' && peek(p, 1) == '\n')) {
            if (eat_eol(p))
                return -1;
            continue;
        }
        return 0;
    }
}

/* ---- strings --------------------------------------------------------------- */

typedef struct sbuf {
    char *d;
    size_t len, cap;
} sbuf;

static int sb_put(parser *p, sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->d, cap);
        if (!d)
            return perr(p, "out of memory");
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = 0;
    return 0;
}

static int put_utf8(parser *p, sbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return perr(p, "invalid Unicode escape");
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(p, b, u, n);
}

static int escape(parser *p, sbuf *b)
{
    int c = peek(p, 0);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    case 'u':
    case 'U': {
        unsigned digits = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        p->i++;
        for (unsigned k = 0; k < digits; k++) {
            int h = peek(p, 0);
            unsigned d;
            if (h >= '0' && h <= '9')
                d = (unsigned)(h - '0');
            else if (h >= 'a' && h <= 'f')
                d = (unsigned)(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F')
                d = (unsigned)(h - 'A' + 10);
            else
                return perr(p, "invalid \\%c escape (needs %u hex digits)", c, digits);
            cp = cp * 16 + d;
            p->i++;
        }
        return put_utf8(p, b, cp);
    }
    default:
        return perr(p, "invalid escape sequence in string");
    }
    p->i++;
    return sb_put(p, b, simple, 1);
}

static int check_char(parser *p, int c, bool multiline, unsigned start_line)
{
    if (c == -1) {
        p->line = start_line; /* name the line the string starts on */
        return perr(p, "unterminated string");
    }
    if (c == '\n' || c == '\r') {
        if (!multiline)
            return perr(p, "unterminated string (newline before the closing quote)");
        if (c == '\r' && peek(p, 1) != '\n')
            return perr(p, "bare carriage return in string");
        return 0;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F)
        return perr(p, "control character in string");
    return 0;
}

/* At the opening quote(s). */
static int parse_string(parser *p, tval *v)
{
    char q = (char)peek(p, 0);
    bool literal = q == '\'';
    bool multi = peek(p, 1) == q && peek(p, 2) == q;
    sbuf b = {0};
    v->type = TV_STR;
    v->line = p->line;
    p->i += multi ? 3 : 1;
    if (multi) { /* a newline right after the opening delimiter is trimmed */
        if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
            p->i++;
        if (peek(p, 0) == '\n')
            adv(p);
    }
    if (sb_put(p, &b, "", 0))
        goto fail;
    for (;;) {
        int c = peek(p, 0);
        if (c == q) {
            if (!multi) {
                p->i++;
                break;
            }
            if (peek(p, 1) == q && peek(p, 2) == q) {
                /* up to two more quotes belong to the content */
                size_t extra = 0;
                while (extra < 2 && peek(p, 3 + extra) == q)
                    extra++;
                for (size_t k = 0; k < extra; k++)
                    if (sb_put(p, &b, &q, 1))
                        goto fail;
                p->i += 3 + extra;
                break;
            }
        }
        if (check_char(p, c, multi, v->line))
            goto fail;
        if (c == '\\' && !literal) {
            p->i++;
            if (multi) { /* line-ending backslash: skip whitespace and newlines */
                size_t j = p->i;
                while (j < p->n && (p->s[j] == ' ' || p->s[j] == '\t'))
                    j++;
                if (j < p->n && (p->s[j] == '\n' || (p->s[j] == '\r' && j + 1 < p->n && p->s[j + 1] == '\n'))) {
                    p->i = j;
                    while (peek(p, 0) == ' ' || peek(p, 0) == '\t' || peek(p, 0) == '\n' ||
                           (peek(p, 0) == '\r' && peek(p, 1) == '\n'))
                        adv(p);
                    continue;
                }
            }
            if (escape(p, &b))
                goto fail;
            continue;
        }
        char ch = (char)c;
        if (sb_put(p, &b, &ch, 1))
            goto fail;
        adv(p);
    }
    v->str = b.d;
    v->slen = b.len;
    return 0;
fail:
    free(b.d);
    return -1;
}

/* ---- keys ------------------------------------------------------------------- */

static void keypath_free(keypath *k)
{
    for (unsigned i = 0; i < k->n; i++)
        free(k->parts[i]);
    free(k->parts);
    k->parts = NULL;
    k->n = 0;
}

static bool bare_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int parse_key(parser *p, keypath *k)
{
    k->n = 0;
    k->parts = NULL;
    for (;;) {
        skip_ws(p);
        char *part = NULL;
        int c = peek(p, 0);
        if (c == '"' || c == '\'') {
            if (peek(p, 1) == c && peek(p, 2) == c) {
                keypath_free(k);
                return perr(p, "multi-line strings cannot be keys");
            }
            tval v = {0};
            if (parse_string(p, &v)) {
                keypath_free(k);
                return -1;
            }
            part = v.str;
        } else if (bare_char(c)) {
            size_t st = p->i;
            while (bare_char(peek(p, 0)))
                p->i++;
            part = malloc(p->i - st + 1);
            if (part) {
                memcpy(part, p->s + st, p->i - st);
                part[p->i - st] = 0;
            }
        } else {
            keypath_free(k);
            return perr(p, c == -1 || c == '\n' || c == '\r' ? "expected a key" : "invalid character '%c' in key",
                        c);
        }
        char **parts = part ? realloc(k->parts, (k->n + 1) * sizeof *parts) : NULL;
        if (!parts) {
            free(part);
            keypath_free(k);
            return perr(p, "out of memory");
        }
        k->parts = parts;
        k->parts[k->n++] = part;
        skip_ws(p);
        if (peek(p, 0) != '.')
            return 0;
        p->i++;
    }
}

static char *keypath_join(const keypath *k)
{
    size_t n = 1;
    for (unsigned i = 0; i < k->n; i++)
        n += strlen(k->parts[i]) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = 0;
    for (unsigned i = 0; i < k->n; i++) {
        if (i)
            strcat(s, ".");
        strcat(s, k->parts[i]);
    }
    return s;
}

static bool keypath_eq(const keypath *a, const keypath *b)
{
    if (a->n != b->n)
        return false;
    for (unsigned i = 0; i < a->n; i++)
        if (strcmp(a->parts[i], b->parts[i]))
            return false;
    return true;
}

/* ---- values ------------------------------------------------------------------ */

static void tval_free(tval *v)
{
    free(v->str);
    for (size_t i = 0; i < v->n; i++) {
        tval_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

static int parse_value(parser *p, tval *v, unsigned depth);

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Digits of `base` with single underscores between digits; 0 or -1. */
static int digits(const char *s, size_t n, unsigned base, uint64_t *out, bool *big)
{
    uint64_t v = 0;
    if (n == 0 || s[0] == '_' || s[n - 1] == '_')
        return -1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        unsigned d;
        if (c == '_') {
            if (s[i + 1] == '_')
                return -1;
            continue;
        }
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        if (d >= base)
            return -1;
        if (v > (UINT64_MAX - d) / base)
            *big = true;
        else
            v = v * base + d;
    }
    *out = v;
    return 0;
}

static bool looks_like_date(const char *t, size_t n)
{
    return (n >= 5 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && is_digit(t[3]) && t[4] == '-') ||
           (n >= 3 && is_digit(t[0]) && is_digit(t[1]) && t[2] == ':');
}

static bool valid_float(const char *t, size_t n)
{
    size_t i = 0;
    if (i < n && (t[i] == '+' || t[i] == '-'))
        i++;
    const char *rest = t + i;
    size_t rn = n - i;
    if ((rn == 3 && (!memcmp(rest, "inf", 3) || !memcmp(rest, "nan", 3))))
        return true;
    /* integer part */
    size_t st = i;
    while (i < n && (is_digit(t[i]) || t[i] == '_'))
        i++;
    uint64_t dummy;
    bool big = false;
    if (digits(t + st, i - st, 10, &dummy, &big) || (i - st > 1 && t[st] == '0'))
        return false;
    bool frac = false, exp = false;
    if (i < n && t[i] == '.') {
        i++;
        st = i;
        while (i < n && (is_digit(t[i]) || t[i] == '_'))
            i++;
        if (digits(t + st, i - st, 10, &dummy, &big))
            return false;
        frac = true;
    }
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        st = i;
        while (i < n && (is_digit(t[i]) || t[i] == '_'))
            i++;
        if (digits(t + st, i - st, 10, &dummy, &big))
            return false;
        exp = true;
    }
    return i == n && (frac || exp);
}

static int parse_scalar(parser *p, tval *v)
{
    size_t st = p->i;
    v->line = p->line;
    while (bare_char(peek(p, 0)) || peek(p, 0) == '+' || peek(p, 0) == '.' || peek(p, 0) == ':')
        p->i++;
    size_t n = p->i - st;
    const char *t = p->s + st;
    if (n == 0) {
        int c = peek(p, 0);
        if (c == -1 || c == '\n' || c == '\r' || c == '#')
            return perr(p, "expected a value");
        return perr(p, "invalid character '%c' at the start of a value", c);
    }
    if (n == 10 && looks_like_date(t, n) && peek(p, 0) == ' ' && is_digit(peek(p, 1)) && is_digit(peek(p, 2)) &&
        peek(p, 3) == ':') {
        p->i++; /* "1979-05-27 07:32:00": date, space, time */
        while (bare_char(peek(p, 0)) || peek(p, 0) == '+' || peek(p, 0) == '.' || peek(p, 0) == ':')
            p->i++;
        n = p->i - st;
    }
    if ((n == 4 && !memcmp(t, "true", 4)) || (n == 5 && !memcmp(t, "false", 5))) {
        v->type = TV_BOOL;
        v->i = n == 4;
        return 0;
    }
    if (looks_like_date(t, n)) {
        for (size_t k = 0; k < n; k++)
            if (!is_digit(t[k]) && !strchr("-:.TZtz +", t[k]))
                return perr(p, "invalid date/time '%.*s'", (int)n, t);
        v->type = TV_DATE;
        v->str = strndup(t, n);
        return v->str ? 0 : perr(p, "out of memory");
    }
    size_t i = 0;
    bool neg = false;
    if (t[0] == '+' || t[0] == '-') {
        neg = t[0] == '-';
        i = 1;
    }
    uint64_t u = 0;
    bool big = false;
    if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
        unsigned base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
        if (i || digits(t + 2, n - 2, base, &u, &big))
            return perr(p, "invalid integer '%.*s'", (int)n, t);
    } else if (memchr(t, '.', n) || ((memchr(t, 'e', n) || memchr(t, 'E', n)) && !memchr(t, 'x', n)) ||
               (n - i == 3 && (!memcmp(t + i, "inf", 3) || !memcmp(t + i, "nan", 3)))) {
        if (!valid_float(t, n))
            return perr(p, "invalid number '%.*s'", (int)n, t);
        v->type = TV_FLOAT;
        v->str = strndup(t, n);
        return v->str ? 0 : perr(p, "out of memory");
    } else {
        if (digits(t + i, n - i, 10, &u, &big) || (n - i > 1 && t[i] == '0'))
            return perr(p, "invalid value '%.*s' (strings need quotes)", (int)n, t);
    }
    v->type = TV_INT;
    if (big || u > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        v->big = true;
        v->i = neg ? INT64_MIN : INT64_MAX;
    } else {
        v->i = neg ? (int64_t)(0 - u) : (int64_t)u;
    }
    return 0;
}

static int push_item(parser *p, tval *v, tval *item, char *key)
{
    tval *items = realloc(v->items, (v->n + 1) * sizeof *items);
    if (!items)
        goto oom;
    v->items = items;
    if (v->type == TV_TABLE) {
        char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
        if (!keys)
            goto oom;
        v->keys = keys;
        v->keys[v->n] = key;
    }
    v->items[v->n++] = *item;
    return 0;
oom:
    free(key);
    tval_free(item);
    return perr(p, "out of memory");
}

static int parse_array(parser *p, tval *v, unsigned depth)
{
    v->type = TV_ARRAY;
    v->line = p->line;
    p->i++;
    for (;;) {
        if (skip_all(p))
            return -1;
        if (peek(p, 0) == ']') {
            p->i++;
            return 0;
        }
        tval item = {0};
        if (parse_value(p, &item, depth + 1)) {
            tval_free(&item); /* what it holds so far */
            return -1;
        }
        if (push_item(p, v, &item, NULL))
            return -1;
        if (skip_all(p))
            return -1;
        if (peek(p, 0) == ',') {
            p->i++;
            continue;
        }
        if (peek(p, 0) == ']') {
            p->i++;
            return 0;
        }
        return perr(p, peek(p, 0) == -1 ? "unterminated array (missing ']')" : "expected ',' or ']' in array");
    }
}

static int parse_inline_table(parser *p, tval *v, unsigned depth)
{
    v->type = TV_TABLE;
    v->line = p->line;
    p->i++;
    skip_ws(p);
    if (peek(p, 0) == '}') {
        p->i++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        keypath k;
        if (at_eol(p))
            return perr(p, "newline inside an inline table");
        if (parse_key(p, &k))
            return -1;
        char *key = keypath_join(&k);
        keypath_free(&k);
        if (!key)
            return perr(p, "out of memory");
        for (size_t i = 0; i < v->n; i++)
            if (!strcmp(v->keys[i], key)) {
                perr(p, "duplicate key '%s' in inline table", key);
                free(key);
                return -1;
            }
        skip_ws(p);
        if (peek(p, 0) != '=') {
            free(key);
            return perr(p, "expected '=' after a key");
        }
        p->i++;
        skip_ws(p);
        tval item = {0};
        if (parse_value(p, &item, depth + 1)) {
            free(key);
            tval_free(&item);
            return -1;
        }
        if (push_item(p, v, &item, key))
            return -1;
        skip_ws(p);
        if (peek(p, 0) == ',') {
            p->i++;
            continue;
        }
        if (peek(p, 0) == '}') {
            p->i++;
            return 0;
        }
        return perr(p, at_eol(p) ? "newline inside an inline table (missing '}')" : "expected ',' or '}' in inline table");
    }
}

static int parse_value(parser *p, tval *v, unsigned depth)
{
    if (depth > 64)
        return perr(p, "values nested too deeply");
    int c = peek(p, 0);
    if (c == '"' || c == '\'')
        return parse_string(p, v);
    if (c == '[')
        return parse_array(p, v, depth);
    if (c == '{')
        return parse_inline_table(p, v, depth);
    return parse_scalar(p, v);
}

/* ---- document ---------------------------------------------------------------- */

typedef struct doc {
    kv *kvs;
    size_t nkv;
    header *hdrs;
    size_t nhdr;
} doc;

static void doc_free(doc *d)
{
    for (size_t i = 0; i < d->nkv; i++) {
        keypath_free(&d->kvs[i].table);
        keypath_free(&d->kvs[i].key);
        tval_free(&d->kvs[i].value);
    }
    for (size_t i = 0; i < d->nhdr; i++)
        keypath_free(&d->hdrs[i].path);
    free(d->kvs);
    free(d->hdrs);
}

static int keypath_copy(keypath *dst, const keypath *src)
{
    dst->n = 0;
    dst->parts = src->n ? calloc(src->n, sizeof *dst->parts) : NULL;
    if (src->n && !dst->parts)
        return -1;
    for (unsigned i = 0; i < src->n; i++) {
        dst->parts[i] = strdup(src->parts[i]);
        if (!dst->parts[i]) {
            keypath_free(dst);
            return -1;
        }
        dst->n++;
    }
    return 0;
}

static int parse_doc(parser *p, doc *d)
{
    keypath cur = {0};
    size_t cur_first_kv = 0;
    while (p->i < p->n) {
        size_t line_start = p->i;
        skip_ws(p);
        if (skip_comment(p))
            return -1;
        if (at_eol(p)) {
            if (eat_eol(p))
                return -1;
            continue;
        }
        if (peek(p, 0) == '[') {
            header h = {.line = p->line, .start = line_start};
            h.array = peek(p, 1) == '[';
            p->i += h.array ? 2 : 1;
            if (parse_key(p, &h.path))
                return -1;
            if (peek(p, 0) != ']' || (h.array && peek(p, 1) != ']')) {
                keypath_free(&h.path);
                return perr(p, h.array ? "expected ']]' after the table name" : "expected ']' after the table name");
            }
            p->i += h.array ? 2 : 1;
            skip_ws(p);
            if (skip_comment(p) || eat_eol(p)) {
                keypath_free(&h.path);
                return -1;
            }
            h.end = p->i;
            if (!h.array)
                for (size_t i = 0; i < d->nhdr; i++)
                    if (!d->hdrs[i].array && keypath_eq(&d->hdrs[i].path, &h.path)) {
                        char *name = keypath_join(&h.path);
                        perr(p, "table [%s] defined twice (first on line %u)", name ? name : "?", d->hdrs[i].line);
                        /* the error names the line of the header, not the next one */
                        if (name)
                            snprintf(p->err, p->errlen, "%s:%u: table [%s] defined twice (first on line %u)",
                                     p->path, h.line, name, d->hdrs[i].line);
                        free(name);
                        keypath_free(&h.path);
                        return -1;
                    }
            header *hs = realloc(d->hdrs, (d->nhdr + 1) * sizeof *hs);
            if (!hs) {
                keypath_free(&h.path);
                return perr(p, "out of memory");
            }
            d->hdrs = hs;
            d->hdrs[d->nhdr++] = h;
            cur = h.path;
            cur_first_kv = d->nkv;
            continue;
        }
        kv e = {.line = p->line};
        if (parse_key(p, &e.key))
            return -1;
        if (peek(p, 0) != '=') {
            keypath_free(&e.key);
            return perr(p, "expected '=' after a key");
        }
        p->i++;
        skip_ws(p);
        if (parse_value(p, &e.value, 0)) {
            keypath_free(&e.key);
            tval_free(&e.value);
            return -1;
        }
        skip_ws(p);
        if (skip_comment(p) || (!at_eol(p) && perr(p, "expected end of line after a value")) || eat_eol(p)) {
            keypath_free(&e.key);
            tval_free(&e.value);
            return -1;
        }
        e.end = p->i;
        for (size_t i = cur_first_kv; i < d->nkv; i++)
            if (keypath_eq(&d->kvs[i].key, &e.key)) {
                char *name = keypath_join(&e.key);
                snprintf(p->err, p->errlen, "%s:%u: duplicate key '%s' (first on line %u)", p->path, e.line,
                         name ? name : "?", d->kvs[i].line);
                p->failed = true;
                free(name);
                keypath_free(&e.key);
                tval_free(&e.value);
                return -1;
            }
        if (keypath_copy(&e.table, &cur)) {
            keypath_free(&e.key);
            tval_free(&e.value);
            return perr(p, "out of memory");
        }
        kv *ks = realloc(d->kvs, (d->nkv + 1) * sizeof *ks);
        if (!ks) {
            keypath_free(&e.table);
            keypath_free(&e.key);
            tval_free(&e.value);
            return perr(p, "out of memory");
        }
        d->kvs = ks;
        d->kvs[d->nkv++] = e;
    }
    return 0;
}

/* ---- heap sections ------------------------------------------------------------- */

static int fail_at(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int fail_at(char *err, size_t errlen, const char *path, unsigned line, const char *fmt, ...)
{
    int k = snprintf(err, errlen, "%s:%u: ", path, line);
    if (k >= 0 && (size_t)k < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *type_name(tv_type t)
{
    static const char *const names[] = {"a string", "an integer", "a float", "a boolean", "a date", "an array",
                                        "a table"};
    return names[t];
}

/* A size: size string, or a non-negative TOML integer that fits 32 bits. */
static int value_size(const tval *v, const char *path, const char *what, uint32_t *out, char *err, size_t errlen)
{
    if (v->type == TV_STR) {
        char why[96];
        if (strlen(v->str) != v->slen || comb_size_parse(v->str, v->slen, out, why, sizeof why))
            return fail_at(err, errlen, path, v->line, "%s: invalid size string \"%s\": %s", what, v->str,
                           strlen(v->str) != v->slen ? "NUL in string" : why);
        return 0;
    }
    if (v->type == TV_INT) {
        if (v->big || v->i < 0 || v->i > (int64_t)UINT32_MAX)
            return fail_at(err, errlen, path, v->line, "%s: %s is out of range (0 to 4294967295)", what,
                           v->big ? "value" : "integer");
        *out = (uint32_t)v->i;
        return 0;
    }
    return fail_at(err, errlen, path, v->line, "%s must be a size string like \"10K\", not %s", what,
                   type_name(v->type));
}

static int value_u32(const tval *v, const char *path, const char *what, uint32_t *out, char *err, size_t errlen)
{
    if (v->type != TV_INT)
        return fail_at(err, errlen, path, v->line, "%s must be an integer, not %s", what, type_name(v->type));
    if (v->big || v->i < 0 || v->i > (int64_t)UINT32_MAX)
        return fail_at(err, errlen, path, v->line, "%s is out of range (0 to 4294967295)", what);
    *out = (uint32_t)v->i;
    return 0;
}

static int read_pools(const tval *arr, const char *path, const char *heap, comb_heap_layout *l, char *err,
                      size_t errlen)
{
    char what[160];
    if (arr->type != TV_ARRAY)
        return fail_at(err, errlen, path, arr->line, "`heap.%s.pools` must be an array of { block, capacity }, not %s",
                       heap, type_name(arr->type));
    l->pools = arr->n ? calloc(arr->n, sizeof *l->pools) : NULL;
    if (arr->n && !l->pools)
        return fail_at(err, errlen, path, arr->line, "out of memory");
    for (size_t i = 0; i < arr->n; i++) {
        const tval *t = &arr->items[i];
        if (t->type != TV_TABLE)
            return fail_at(err, errlen, path, t->line,
                           "`heap.%s.pools` item %zu must be a table { block = \"SIZE\", capacity = N }, not %s", heap,
                           i + 1, type_name(t->type));
        const tval *block = NULL, *cap = NULL;
        for (size_t k = 0; k < t->n; k++) {
            if (!strcmp(t->keys[k], "block"))
                block = &t->items[k];
            else if (!strcmp(t->keys[k], "capacity"))
                cap = &t->items[k];
            else
                return fail_at(err, errlen, path, t->line, "`heap.%s.pools` item %zu: unknown key '%s'", heap, i + 1,
                               t->keys[k]);
        }
        if (!block || !cap)
            return fail_at(err, errlen, path, t->line, "`heap.%s.pools` item %zu has no `%s`", heap, i + 1,
                           block ? "capacity" : "block");
        snprintf(what, sizeof what, "`heap.%s.pools` item %zu `block`", heap, i + 1);
        if (value_size(block, path, what, &l->pools[i].block, err, errlen))
            return -1;
        if (l->pools[i].block == 0)
            return fail_at(err, errlen, path, block->line, "%s must not be 0", what);
        snprintf(what, sizeof what, "`heap.%s.pools` item %zu `capacity`", heap, i + 1);
        if (value_u32(cap, path, what, &l->pools[i].capacity, err, errlen))
            return -1;
        l->npools++;
    }
    return 0;
}

static int read_heaps(const doc *d, comb_drone_toml *t, char *err, size_t errlen)
{
    const char *path = t->path;
    for (size_t i = 0; i < d->nkv; i++) {
        const kv *e = &d->kvs[i];
        if (e->table.n == 0 && !strcmp(e->key.parts[0], "heap"))
            return fail_at(err, errlen, path, e->line, "heaps must be [heap.NAME] tables (e.g. [heap.main])");
        if (e->table.n == 1 && !strcmp(e->table.parts[0], "heap"))
            return fail_at(err, errlen, path, e->line,
                           "keys directly under [heap] are the Drone v0.11 format; v0.14 uses [heap.main]");
    }
    for (size_t h = 0; h < d->nhdr; h++) {
        const header *hd = &d->hdrs[h];
        if (hd->path.n < 2 || strcmp(hd->path.parts[0], "heap"))
            continue;
        char *name = keypath_join(&hd->path);
        if (hd->array || hd->path.n > 2) {
            fail_at(err, errlen, path, hd->line, "unsupported table [%s%s]: heaps are [heap.NAME] tables",
                    name ? name : "?", hd->array ? "] (array of tables" : "");
            free(name);
            return -1;
        }
        free(name);
        const char *hn = hd->path.parts[1];
        if (strlen(hn) == 0 || strlen(hn) >= sizeof t->heaps[0].name)
            return fail_at(err, errlen, path, hd->line, "heap name '%s' is empty or too long", hn);
        comb_heap_layout *hs = realloc(t->heaps, (t->nheaps + 1) * sizeof *hs);
        comb_drone_heap_section *ss = hs ? realloc(t->sections, (t->nheaps + 1) * sizeof *ss) : NULL;
        if (hs)
            t->heaps = hs;
        if (!hs || !ss)
            return fail_at(err, errlen, path, hd->line, "out of memory");
        t->sections = ss;
        comb_heap_layout *l = &t->heaps[t->nheaps];
        memset(l, 0, sizeof *l);
        t->sections[t->nheaps] = (comb_drone_heap_section){.start = hd->start, .end = hd->end};
        t->nheaps++;
        snprintf(l->name, sizeof l->name, "%s", hn);
        l->line = hd->line;
        const tval *size = NULL, *pools = NULL, *origin = NULL;
        for (size_t i = 0; i < d->nkv; i++) {
            const kv *e = &d->kvs[i];
            if (!keypath_eq(&e->table, &hd->path))
                continue;
            if (e->end > t->sections[t->nheaps - 1].end)
                t->sections[t->nheaps - 1].end = e->end;
            if (e->key.n != 1)
                continue;
            if (!strcmp(e->key.parts[0], "size")) {
                size = &e->value;
                l->size_line = e->line;
            } else if (!strcmp(e->key.parts[0], "pools")) {
                pools = &e->value;
                l->pools_line = e->line;
            } else if (!strcmp(e->key.parts[0], "origin")) {
                origin = &e->value;
            }
        }
        char what[128];
        if (!size)
            return fail_at(err, errlen, path, hd->line, "[heap.%s] has no `size`", hn);
        snprintf(what, sizeof what, "`heap.%s.size`", hn);
        if (value_size(size, path, what, &l->size, err, errlen))
            return -1;
        if (origin) {
            snprintf(what, sizeof what, "`heap.%s.origin`", hn);
            if (origin->type == TV_STR ? value_size(origin, path, what, &l->origin, err, errlen)
                                       : value_u32(origin, path, what, &l->origin, err, errlen))
                return -1;
            l->has_origin = true;
        }
        if (!pools)
            return fail_at(err, errlen, path, hd->line, "[heap.%s] has no `pools`", hn);
        if (read_pools(pools, path, hn, l, err, errlen))
            return -1;
    }
    return 0;
}

int comb_drone_toml_parse(const char *path, const char *text, size_t len, comb_drone_toml *out, char *err,
                          size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    out->text = malloc(len + 1);
    if (!out->text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(out->text, text, len);
    out->text[len] = 0;
    out->len = len;
    if (memchr(text, 0, len)) {
        const char *z = memchr(text, 0, len);
        unsigned line = 1;
        for (const char *c = text; c < z; c++)
            line += *c == '\n';
        fail_at(err, errlen, path, line, "NUL byte in file (not a text file?)");
        comb_drone_toml_free(out);
        return -1;
    }
    parser p = {.s = out->text, .n = len, .line = 1, .path = out->path, .err = err, .errlen = errlen};
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
        p.i = 3; /* UTF-8 byte order mark */
    doc d = {0};
    int rc = parse_doc(&p, &d);
    if (rc == 0)
        rc = read_heaps(&d, out, err, errlen);
    doc_free(&d);
    if (rc)
        comb_drone_toml_free(out);
    return rc;
}

int comb_drone_toml_load(const char *path, comb_drone_toml *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8192;
            if (cap > ((size_t)64 << 20)) {
                snprintf(err, errlen, "%s: file too large for a Drone.toml", path);
                free(buf);
                fclose(f);
                return -1;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return -1;
    }
    int rc = comb_drone_toml_parse(path, buf ? buf : "", len, out, err, errlen);
    free(buf);
    return rc;
}

void comb_drone_toml_free(comb_drone_toml *t)
{
    for (unsigned i = 0; i < t->nheaps; i++)
        comb_layout_free(&t->heaps[i]);
    free(t->heaps);
    free(t->sections);
    free(t->text);
    memset(t, 0, sizeof *t);
}

const comb_heap_layout *comb_drone_toml_heap(const comb_drone_toml *t, const char *name)
{
    for (unsigned i = 0; i < t->nheaps; i++)
        if (!strcmp(t->heaps[i].name, name))
            return &t->heaps[i];
    return NULL;
}

int comb_drone_toml_check(const comb_drone_toml *t, char *err, size_t errlen)
{
    if (!comb_drone_toml_heap(t, "main")) {
        snprintf(err, errlen, "%s: no [heap.main] section", t->path);
        return -1;
    }
    for (unsigned i = 0; i < t->nheaps; i++) {
        const comb_heap_layout *l = &t->heaps[i];
        uint64_t sum = comb_layout_bytes(l);
        if (sum != l->size)
            return fail_at(err, errlen, t->path, l->size_line ? l->size_line : l->line,
                           "`heap.%s` pools add up to %llu, but `heap.%s.size` is %u", l->name,
                           (unsigned long long)sum, l->name, (unsigned)l->size);
    }
    return 0;
}

void comb_drone_toml_replace(const comb_drone_toml *t, const char *name, const char *section, comb_strbuf *out)
{
    for (unsigned i = 0; i < t->nheaps; i++) {
        if (strcmp(t->heaps[i].name, name))
            continue;
        const comb_drone_heap_section *s = &t->sections[i];
        comb_sb_append(out, t->text, s->start);
        comb_sb_puts(out, section);
        /* a section that ended the file without a newline: the new one has one */
        comb_sb_append(out, t->text + s->end, t->len - s->end);
        return;
    }
    comb_sb_append(out, t->text, t->len);
    if (t->len && t->text[t->len - 1] != '\n')
        comb_sb_puts(out, "\n");
    if (t->len && !(t->len >= 2 && t->text[t->len - 1] == '\n' && t->text[t->len - 2] == '\n'))
        comb_sb_puts(out, "\n");
    comb_sb_puts(out, section);
}
