/*
 * The memory functions GCC may call on its own (struct copies and zeroing;
 * strlen for a counting loop), since images link no C library. Byte loops: small, not fast. Weak, so an
 * image that links a C library gets that library's versions. Compiled with
 * -fno-tree-loop-distribute-patterns (comb_firmware.cmake) so the loops do not
 * turn back into calls to themselves.
 */
#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n) __attribute__((weak));
void *memmove(void *dst, const void *src, size_t n) __attribute__((weak));
void *memset(void *dst, int c, size_t n) __attribute__((weak));
size_t strlen(const char *s) __attribute__((weak));

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') /* bounded by the string's NUL */
        n++;
    return n;
}
