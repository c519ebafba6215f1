/*
 * The log formatter (firmware/src/log_format.c) through comb_snprintf:
 * supported conversions checked against the C library's snprintf, plus the
 * cases where comb differs on purpose (NULL, %p, unknown conversions,
 * truncated formats, clamped widths) and the 64-bit decimal conversion.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "comb/log.h"

static void check_same(const char *a, int ra, const char *b, int rb, const char *what, int line)
{
    check_count++;
    if (ra != rb || strcmp(a, b) != 0) {
        check_failures++;
        fprintf(stderr, "%s:%d: %s: comb \"%s\" (%d), libc \"%s\" (%d)\n", __FILE__, line, what, a, ra, b,
                rb);
    }
}

/* Same output and return value as the C library. */
#define SAME(...)                                                                           \
    do {                                                                                    \
        char a_[512], b_[512];                                                              \
        int ra_ = comb_snprintf(a_, sizeof a_, __VA_ARGS__);                                \
        int rb_ = snprintf(b_, sizeof b_, __VA_ARGS__);                                     \
        check_same(a_, ra_, b_, rb_, #__VA_ARGS__, __LINE__);                               \
    } while (0)

/* Exact expected text (return value = its length). */
#define GIVES(want, ...)                                                                    \
    do {                                                                                    \
        char a_[512];                                                                       \
        int ra_ = comb_snprintf(a_, sizeof a_, __VA_ARGS__);                                \
        check_same(a_, ra_, want, (int)strlen(want), #__VA_ARGS__, __LINE__);               \
    } while (0)

static void test_integers(void)
{
    SAME("%d", 0);
    SAME("%d|%d|%d", 1, -1, 123456789);
    SAME("%d %d", INT_MAX, INT_MIN);
    SAME("%i", -42);
    SAME("%u %u", 0u, UINT_MAX);
    SAME("%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
    SAME("%o %o", 8u, 0u);
    SAME("%#x %#x %#X", 0u, 255u, 255u);
    SAME("%#o %#o %#o", 0u, 8u, 01234u);
    SAME("%#.3o %#.0o %#5o", 8u, 0u, 8u);
    SAME("%#10x|%#-10x|%#010x", 0xabcu, 0xabcu, 0xabcu);
    SAME("%5d|%-5d|%05d|%05d", 42, 42, 42, -42);
    SAME("%+d %+d % d % d", 5, -5, 5, -5);
    SAME("%.3d|%.0d|%5.0d|%.0x|%-3.0u|", 7, 0, 0, 0u, 0u);
    SAME("%+08d|% 08d", 5, 5);
    SAME("%.10d|%12.10d|%-12.10d|", -123, -123, -123);
    SAME("%ld %ld %lu %lx", LONG_MIN, LONG_MAX, ULONG_MAX, 0xfeedUL);
    SAME("%lld %lld %llu", LLONG_MIN, LLONG_MAX, ULLONG_MAX);
    SAME("%llx %llX %llo %#llx", 0x0123456789abcdefULL, 0xfedcba9876543210ULL, ULLONG_MAX, 1ULL << 63);
    SAME("%25lld|%-25lld|%025lld", LLONG_MIN, LLONG_MIN, LLONG_MIN);
    SAME("%zu %zx %zd %zd", (size_t)SIZE_MAX, (size_t)0x1234, (ptrdiff_t)-5, (ptrdiff_t)PTRDIFF_MAX);
    SAME("%jd %ju %td %tu", (intmax_t)INTMAX_MIN, (uintmax_t)UINTMAX_MAX, (ptrdiff_t)-7, (ptrdiff_t)7);
    SAME("%*d|%*d|%-*d|", 6, 42, -6, 42, 6, 42);
    SAME("%.*d|%.*d|%*.*d|", 5, 42, -1, 42, 8, 4, -42);
}

/* Valid C that the compilers' format checkers warn about: flags that C says
 * are ignored, and int arguments (default promotion) narrowed by hh / h. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
static void test_unchecked_formats(void)
{
    SAME("%+ d|% +d", 5, 5);                  /* '+' wins over ' ' */
    SAME("%08.3d|%-08d|%08.0d|", 5, 5, 0);    /* '0' ignored with precision or '-' */
    SAME("%+u % u %+x % o", 5u, 5u, 5u, 5u);  /* '+' and ' ' only for signed */
    SAME("%hhd %hhd %hhu %hhx", 200, -128, 300, 0x1ff);
    SAME("%hd %hd %hu %hx", 70000, -32768, -1, 0x12345);
}
#pragma GCC diagnostic pop

static void test_chars_strings(void)
{
    SAME("%c%c%c", 'a', 'b', 'c');
    SAME("%3c|%-3c|", 'x', 'y');
    SAME("%c", 0xE9); /* passes through as one byte */
    SAME("%s", "hello");
    SAME("%10s|%-10s|", "hi", "hi");
    SAME("%.2s|%10.2s|%-10.2s|%.0s|", "hello", "hello", "hello", "hello");
    SAME("%.*s|%*s|", 3, "abcdef", -6, "ab");
    SAME("%.10s", "short");
    SAME("%s", "");
    SAME("%5s|", "");
    SAME("%%|100%%|");
    SAME("no conversions at all");
    SAME("mixed %s=%d (%#x) %c%%", "v", -3, 255u, '!');

    /* precision limits what is read: no NUL needed within it (ASan checks) */
    const char raw[3] = {'a', 'b', 'c'};
    GIVES("abc", "%.3s", raw);
    GIVES("ab", "%.*s", 2, raw);

    /* NULL string (volatile: hidden from GCC's format checker) */
    const char *volatile nul = NULL;
    GIVES("(null)", "%s", nul);
    GIVES("  (null)|(nul|", "%8s|%.4s|", nul, nul);
}

static void test_pointers(void)
{
    SAME("%p", (void *)0x1234);
    SAME("%20p|%-20p|", (void *)0xabcdef, (void *)0xabcdef);
    SAME("%p", (void *)&check_count);
    GIVES("0x0", "%p", (void *)NULL); /* glibc: "(nil)" */
}

static void test_edges(void)
{
    char buf[32];
    /* unknown conversions print as is and take no argument; a format ending
     * inside a conversion stops there */
    const char *volatile f;
    f = "%y|%d";
    GIVES("%y|7", f, 7);
    f = "%n";
    GIVES("%n", f, 0);
    f = "abc%";
    GIVES("abc", f, 0);
    f = "abc%-5";
    GIVES("abc", f, 0);
    f = "abc%5.3";
    GIVES("abc", f, 0);
    f = "x%l";
    GIVES("x", f, 0);
    f = "x%hh";
    GIVES("x", f, 0);
    f = "x%.";
    GIVES("x", f, 0);
    f = "%5%|%-%|";
    GIVES("%|%|", f, 0); /* %% takes no flags or width */

    /* truncation: snprintf semantics */
    CHECK_EQ_U64(comb_snprintf(buf, 8, "%s", "0123456789"), 10);
    CHECK(strcmp(buf, "0123456") == 0);
    CHECK_EQ_U64(comb_snprintf(buf, 16, "%300d", 1), 300);
    CHECK(strcmp(buf, "               ") == 0);
    CHECK_EQ_U64(comb_snprintf(buf, 1, "%d", 12345), 5);
    CHECK(buf[0] == '\0');
    CHECK_EQ_U64(comb_snprintf(NULL, 0, "%d", 12345), 5);
    memset(buf, 'Z', sizeof buf);
    CHECK_EQ_U64(comb_snprintf(buf, 4, "%lld", LLONG_MIN), 20);
    CHECK(strcmp(buf, "-92") == 0 && buf[4] == 'Z');

    /* width and precision clamp at 4095, with no overflow on huge numbers */
    f = "%99999999999999999999d";
    CHECK_EQ_U64(comb_snprintf(NULL, 0, f, 1), 4095);
    f = "%.99999999999999999999d";
    CHECK_EQ_U64(comb_snprintf(NULL, 0, f, 1), 4095);
    volatile int big = INT_MIN;
    CHECK_EQ_U64(comb_snprintf(NULL, 0, "%*d", big, 1), 4095);
    big = INT_MAX;
    CHECK_EQ_U64(comb_snprintf(NULL, 0, "%*d", big, 1), 4095);
    CHECK_EQ_U64(comb_snprintf(NULL, 0, "%.*d", big, 1), 4095);
    CHECK_EQ_U64(comb_snprintf(NULL, 0, "%4095d", 1), 4095);
    SAME("%-300s|", "left");
}

/* The 64-bit decimal conversion uses shifts instead of division: compare it
 * with the C library on edge values and a pseudo-random sweep. */
static void test_decimal_sweep(void)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    unsigned mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t v;
        if (i < 64)
            v = 1ULL << i;
        else if (i < 128)
            v = (1ULL << (i - 64)) - 1u;
        else if (i < 148) {
            v = 1;
            for (int k = 0; k < i - 128; k++)
                v *= 10u;
        } else if (i < 168) {
            v = 1;
            for (int k = 0; k < i - 148; k++)
                v *= 10u;
            v -= 1u;
        } else {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v = x >> (x & 63u);
        }
        char a[32], b[32];
        comb_snprintf(a, sizeof a, "%llu", (unsigned long long)v);
        snprintf(b, sizeof b, "%llu", (unsigned long long)v);
        if (strcmp(a, b) != 0 && mismatches++ < 5)
            fprintf(stderr, "decimal mismatch: %s vs %s\n", a, b);
    }
    CHECK_EQ_U64(mismatches, 0);
    SAME("%llu", ULLONG_MAX);
    SAME("%llu", ULLONG_MAX - 9u);
}

int main(void)
{
    test_integers();
    test_unchecked_formats();
    test_chars_strings();
    test_pointers();
    test_edges();
    test_decimal_sweep();
    return check_finish("test_log_format");
}
