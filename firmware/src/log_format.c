/*
 * A small printf-style formatter for the log facade: no heap, no floats, no
 * C library, no 64-bit division helper (so it stays small on Cortex-M0/M3).
 *
 * Supported:  %d %i %u %x %X %o %c %s %p %%
 *   flags     - 0 + space #
 *   width     digits or *        (negative * = '-' flag)
 *   precision .digits or .*      (ints: minimum digits; %s: maximum chars;
 *                                 negative * = no precision)
 *   length    hh h l ll z j t    (z and t: size_t / ptrdiff_t)
 * Differences from ISO C / glibc, all deliberate:
 *   - no floating point (%f %e %g %a), no %n (never writes through the
 *     arguments), no wide characters (%lc/%ls print as %c/%s), no L, no
 *     positional arguments (%1$d);
 *   - an unknown conversion such as %y is printed as is ("%y") and consumes
 *     no argument; a format that ends inside a conversion ("%-5") stops there
 *     and prints nothing for it: the formatter never reads past the NUL;
 *   - %s with NULL prints "(null)" (cut by the precision like any string);
 *   - %p prints 0x and lowercase hex digits without padding, also for NULL
 *     ("0x0", where glibc prints "(nil)");
 *   - width and precision are clamped to 4095.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/log.h"
#include "log_format.h"

#define NUM_MAX 4095

enum {
    F_LEFT = 1u,
    F_PLUS = 2u,
    F_SPACE = 4u,
    F_ZERO = 8u,
    F_ALT = 16u,
    F_UPPER = 32u,
    F_PTR = 64u,
};

enum { L_INT, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T };

static void put(struct comb_fmt_sink *s, char c)
{
    if (s->len >= s->cap && s->flush)
        s->flush(s);
    if (s->len < s->cap)
        s->buf[s->len++] = c;
    if (s->total < (uint32_t)INT_MAX)
        s->total++;
}

static void pad(struct comb_fmt_sink *s, char c, int n)
{
    while (n-- > 0)
        put(s, c);
}

/* n / 10 and n % 10 with shifts and adds (Hacker's Delight, divu10, widened
 * to 64 bits): the estimate is low by a small amount, fixed by the loop. */
static uint64_t div10(uint64_t n, unsigned *rem)
{
    uint64_t q = (n >> 1) + (n >> 2);
    q += q >> 4;
    q += q >> 8;
    q += q >> 16;
    q += q >> 32;
    q >>= 3;
    uint64_t r = n - ((q << 3) + (q << 1));
    while (r > 9u) {
        q++;
        r -= 10u;
    }
    *rem = (unsigned)r;
    return q;
}

static void put_num(struct comb_fmt_sink *s, uint64_t v, bool neg, unsigned base, unsigned flags,
                    int width, int prec)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[22]; /* 64 bits in octal */
    char pre[2];
    int nd = 0, np = 0;
    bool zero = v == 0u;

    if (!(zero && prec == 0)) {
        do {
            unsigned d;
            if (base == 10u) {
                v = div10(v, &d);
            } else {
                d = (unsigned)v & (base - 1u);
                v >>= base == 16u ? 4 : 3;
            }
            char c = digits[d];
            if ((flags & F_UPPER) && c >= 'a')
                c = (char)(c - 'a' + 'A');
            tmp[nd++] = c;
        } while (v != 0u);
    }
    if (neg)
        pre[np++] = '-';
    else if (flags & F_PLUS)
        pre[np++] = '+';
    else if (flags & F_SPACE)
        pre[np++] = ' ';
    if (base == 16u && (flags & F_ALT) && (!zero || (flags & F_PTR))) {
        pre[np++] = '0';
        pre[np++] = (flags & F_UPPER) ? 'X' : 'x';
    }
    if (base == 8u && (flags & F_ALT) && prec <= nd && (nd == 0 || tmp[nd - 1] != '0'))
        prec = nd + 1; /* '#' with %o: the first digit is a 0 */

    int zeros = prec > nd ? prec - nd : 0;
    if ((flags & (F_ZERO | F_LEFT)) == F_ZERO && prec < 0 && width > np + nd)
        zeros = width - np - nd;
    int fill = width - np - zeros - nd;
    if (!(flags & F_LEFT))
        pad(s, ' ', fill);
    for (int i = 0; i < np; i++)
        put(s, pre[i]);
    pad(s, '0', zeros);
    while (nd > 0)
        put(s, tmp[--nd]);
    if (flags & F_LEFT)
        pad(s, ' ', fill);
}

static int parse_num(const char **pf)
{
    int v = 0;
    while (**pf >= '0' && **pf <= '9') {
        if (v <= NUM_MAX)
            v = v * 10 + (**pf - '0');
        (*pf)++;
    }
    return v > NUM_MAX ? NUM_MAX : v;
}

int comb_format(struct comb_fmt_sink *s, const char *fmt, va_list ap)
{
    for (;;) {
        char c = *fmt++;
        if (c == '\0')
            break;
        if (c != '%') {
            put(s, c);
            continue;
        }
        unsigned flags = 0;
        for (;; fmt++) {
            c = *fmt;
            if (c == '-')
                flags |= F_LEFT;
            else if (c == '+')
                flags |= F_PLUS;
            else if (c == ' ')
                flags |= F_SPACE;
            else if (c == '0')
                flags |= F_ZERO;
            else if (c == '#')
                flags |= F_ALT;
            else
                break;
        }
        int width = 0, prec = -1;
        if (*fmt == '*') {
            fmt++;
            width = va_arg(ap, int);
            if (width < 0) {
                flags |= F_LEFT;
                width = width < -NUM_MAX ? NUM_MAX : -width;
            }
            if (width > NUM_MAX)
                width = NUM_MAX;
        } else {
            width = parse_num(&fmt);
        }
        if (*fmt == '.') {
            fmt++;
            if (*fmt == '*') {
                fmt++;
                prec = va_arg(ap, int);
                if (prec < 0)
                    prec = -1;
                else if (prec > NUM_MAX)
                    prec = NUM_MAX;
            } else {
                prec = parse_num(&fmt);
            }
        }
        int len = L_INT;
        switch (*fmt) {
        case 'h':
            fmt++;
            len = L_H;
            if (*fmt == 'h') {
                fmt++;
                len = L_HH;
            }
            break;
        case 'l':
            fmt++;
            len = L_L;
            if (*fmt == 'l') {
                fmt++;
                len = L_LL;
            }
            break;
        case 'z': fmt++; len = L_Z; break;
        case 'j': fmt++; len = L_J; break;
        case 't': fmt++; len = L_T; break;
        default: break;
        }
        c = *fmt;
        if (c == '\0')
            break; /* format ends inside a conversion */
        fmt++;

        unsigned base = 10u;
        switch (c) {
        case 'd':
        case 'i': {
            long long v;
            switch (len) {
            case L_HH: v = (signed char)va_arg(ap, int); break;
            case L_H: v = (short)va_arg(ap, int); break;
            case L_L: v = va_arg(ap, long); break;
            case L_LL: v = va_arg(ap, long long); break;
            case L_Z:
            case L_T: v = va_arg(ap, ptrdiff_t); break;
            case L_J: v = va_arg(ap, intmax_t); break;
            default: v = va_arg(ap, int); break;
            }
            uint64_t mag = v < 0 ? 0u - (uint64_t)v : (uint64_t)v;
            put_num(s, mag, v < 0, 10u, flags & ~(unsigned)F_ALT, width, prec);
            break;
        }
        case 'X':
            flags |= F_UPPER;
            /* fall through */
        case 'x':
            base = 16u;
            goto unsigned_conv;
        case 'o':
            base = 8u;
            goto unsigned_conv;
        case 'u':
        unsigned_conv: {
            uint64_t v;
            switch (len) {
            case L_HH: v = (unsigned char)va_arg(ap, unsigned); break;
            case L_H: v = (unsigned short)va_arg(ap, unsigned); break;
            case L_L: v = va_arg(ap, unsigned long); break;
            case L_LL: v = va_arg(ap, unsigned long long); break;
            case L_Z: v = va_arg(ap, size_t); break;
            case L_T: v = (size_t)va_arg(ap, ptrdiff_t); break;
            case L_J: v = va_arg(ap, uintmax_t); break;
            default: v = va_arg(ap, unsigned); break;
            }
            put_num(s, v, false, base, flags & ~(unsigned)(F_PLUS | F_SPACE), width, prec);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            put_num(s, v, false, 16u, (flags & F_LEFT) | F_ALT | F_PTR, width, -1);
            break;
        }
        case 'c': {
            char ch = (char)va_arg(ap, int);
            if (!(flags & F_LEFT))
                pad(s, ' ', width - 1);
            put(s, ch);
            if (flags & F_LEFT)
                pad(s, ' ', width - 1);
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            int n = 0;
            if (str == NULL)
                str = "(null)";
            while ((prec < 0 || n < prec) && str[n] != '\0')
                n++;
            if (!(flags & F_LEFT))
                pad(s, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(s, str[i]);
            if (flags & F_LEFT)
                pad(s, ' ', width - n);
            break;
        }
        case '%':
            put(s, '%');
            break;
        default: /* unknown conversion: shown as is, no argument consumed */
            put(s, '%');
            put(s, c);
            break;
        }
    }
    return (int)s->total;
}

int comb_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
    struct comb_fmt_sink s = {buf, 0u, 0u, 0u, NULL, 0u};
    if (n > 0u)
        s.cap = n - 1u > (size_t)INT_MAX ? (uint32_t)INT_MAX : (uint32_t)(n - 1u);
    int r = comb_format(&s, fmt, ap);
    if (n > 0u)
        buf[s.len] = '\0';
    return r;
}

int comb_snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = comb_vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}
