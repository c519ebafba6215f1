/*
 * comb_log_str / comb_print / comb_eprint: the log facade's path without the
 * printf formatter. The bytes on the wire are those comb_printf produces for
 * the same text (checked against it), a disabled port sends nothing and does
 * not read the string, and an empty string sends nothing.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/log.h"

static size_t sent_copy(uint8_t *out, size_t cap)
{
    size_t len;
    const uint8_t *b = comb_host_sent(&len);
    if (len > cap)
        len = cap;
    memcpy(out, b, len);
    return len;
}

/* comb_print and comb_printf of the same plain text put the same bytes on
 * the wire (both send words from an aligned buffer, bytes for the rest). */
static void test_same_wire_as_printf(void)
{
    static _Alignas(4) const char text[] = "Hello, world!\n"; /* aligned, as printf's chunk */
    uint8_t a[64], b[64];

    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_print(text);
    size_t na = sent_copy(a, sizeof a);

    comb_host_sent_clear();
    CHECK_EQ_U64(comb_printf("%s", text), 14);
    size_t nb = sent_copy(b, sizeof b);

    /* 3 words (port 0, header 0x03), then 2 single bytes (0x01) */
    static const uint8_t want[] = {0x03, 'H', 'e', 'l', 'l', 0x03, 'o', ',', ' ', 'w', 0x03, 'o', 'r',
                                   'l', 'd', 0x01, '!', 0x01, '\n'};
    CHECK_EQ_U64(na, sizeof want);
    CHECK(na == sizeof want && memcmp(a, want, na) == 0);
    CHECK(na == nb && memcmp(a, b, na) == 0);
}

static void test_ports_and_edges(void)
{
    size_t len;
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_eprint("ab"); /* port 1, unaligned literal or not: 2 bytes fit no word */
    static const uint8_t want[] = {0x09, 'a', 0x09, 'b'};
    uint8_t got[16];
    size_t n = sent_copy(got, sizeof got);
    CHECK(n == sizeof want && memcmp(got, want, n) == 0);

    comb_host_sent_clear();
    comb_log_str(7, ""); /* nothing to send */
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);

    comb_transport_init(~(1u << 5), 0u);
    comb_log_str(5, NULL); /* disabled: the string is not even read */
    comb_log_str(5, "hidden");
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
    comb_log_str(6, "x");
    static const uint8_t want6[] = {0x31, 'x'};
    n = sent_copy(got, sizeof got);
    CHECK(n == sizeof want6 && memcmp(got, want6, n) == 0);
}

int main(void)
{
    test_same_wire_as_printf();
    test_ports_and_edges();
    return check_finish("test_log_str");
}
