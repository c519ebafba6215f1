/*
 * Session helper (firmware/src/session.c) on the host port: the bytes of
 * SESSION_START / SESSION_END, and the bounded wait for the host's ack.
 */
#include <string.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/session.h"
#include "comb/trace_protocol.h"

static bool sent_equals(const uint8_t *want, size_t n)
{
    size_t len;
    const uint8_t *got = comb_host_sent(&len);
    return len == n && memcmp(got, want, n) == 0;
}

static void test_begin(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_set_timestamp(42, 1);
    CHECK_EQ_U64(comb_session_build_id(), 0); /* host build: no build-id note */
    comb_session_begin(25000000u, 25000000u);
    static const uint8_t want[] = {0xf1, 0xc1, 0xf2, 0x01, 0x00, 0xf3, 0x40, 0x78, 0x7d, 0x01,
                                   0xf3, 0x40, 0x78, 0x7d, 0x01, 0xf3, 0x00, 0x00, 0x00, 0x00,
                                   0xf3, 0x00, 0x00, 0x00, 0x00, 0xf3, 0x2a, 0x00, 0x00, 0x00};
    CHECK(sent_equals(want, sizeof want));
}

static void test_end_ack(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_set_timestamp(0x100000, 1);
    comb_host_uart_rx_push('x'); /* other bytes are ignored */
    comb_host_uart_rx_push(COMB_HOST_ACK);
    CHECK(comb_session_end(1000u));
    static const uint8_t want[] = {0xf1, 0x22, 0xf3, 0x00, 0x00, 0x10, 0x00};
    CHECK(sent_equals(want, sizeof want));
}

static void test_end_timeout(void)
{
    comb_host_reset();
    comb_transport_init(0xFFFFFFFFu, 0u);
    comb_host_set_timestamp(0xFFFFFF00u, 3); /* wraps during the wait */
    CHECK(!comb_session_end(3000u));
    size_t len;
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 7);

    /* a stopped timer does not hang the wait */
    comb_host_reset();
    comb_host_set_timestamp(5, 0);
    CHECK(!comb_session_end(1000u));

    /* session on port 31 when port 30 is off */
    comb_host_reset();
    comb_transport_init(~(1u << COMB_PORT_SCHED), 0u);
    comb_host_set_timestamp(0x100000, 0);
    comb_host_uart_rx_push(COMB_HOST_ACK);
    CHECK(comb_session_end(10u));
    static const uint8_t want31[] = {0xf9, 0x22, 0xfb, 0x00, 0x00, 0x10, 0x00};
    CHECK(sent_equals(want31, sizeof want31));

    /* both session ports off: no SESSION_END, no wait */
    comb_host_reset();
    comb_transport_init(0x3FFFFFFFu, 0u);
    comb_host_uart_rx_push(COMB_HOST_ACK);
    CHECK(!comb_session_end(1000000u));
    (void)comb_host_sent(&len);
    CHECK_EQ_U64(len, 0);
}

int main(void)
{
    test_begin();
    test_end_ack();
    test_end_timeout();
    return check_finish("test_session");
}
