/* Session helper (comb/session.h). */
#include "comb/session.h"
#include "comb/port.h"
#include "comb/trace.h"

#if !defined(COMB_PORT_HOST)
/* Start of the .note.gnu.build-id section, defined by the board's linker
 * script. Weak: a linker script without it gives build id 0. */
extern const uint8_t __comb_build_id_note[] __attribute__((weak));

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
#endif

uint64_t comb_session_build_id(void)
{
#if defined(COMB_PORT_HOST)
    return 0u;
#else
    /* ELF note: namesz, descsz, type (3 = NT_GNU_BUILD_ID), "GNU\0", desc */
    const uint8_t *n = __comb_build_id_note;
    if (n == NULL || le32(n) != 4u || le32(n + 4) < 8u || le32(n + 8) != 3u || n[12] != 'G' ||
        n[13] != 'N' || n[14] != 'U' || n[15] != '\0')
        return 0u;
    return le32(n + 16) | (uint64_t)le32(n + 20) << 32;
#endif
}

void comb_session_begin(uint32_t core_hz, uint32_t ts_hz)
{
    comb_trace_session_start(core_hz, ts_hz, comb_session_build_id());
}

/* Poll bound when the timestamp does not move (timer not running). */
#define STALL_POLLS (1u << 24)

bool comb_session_end(uint32_t timeout_ticks)
{
    if (!comb_transport_enabled(COMB_PORT_SCHED) && !comb_transport_enabled(COMB_PORT_HEAP))
        return false;
    comb_trace_session_end();
    (void)comb_transport_flush();

    uint32_t start = comb_trace_timestamp(), last = start, still = 0;
    for (;;) {
        if (comb_port_uart_rx() == (int)COMB_HOST_ACK)
            return true;
        uint32_t now = comb_trace_timestamp();
        if (now - start >= timeout_ticks)
            return false;
        if (now != last) {
            last = now;
            still = 0;
        } else if (++still >= STALL_POLLS) {
            return false;
        }
    }
}
