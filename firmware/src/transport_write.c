/*
 * comb_transport_write (comb/transport.h) for every transport: a byte
 * buffer as the ITM would get it from a CPU copying it to ITM_STIMn, one STR
 * per aligned word and one STRB per other byte, each a packet of its own
 * through the linked transport's comb_transport_swit.
 */
#include <stddef.h>

#include "comb/transport.h"

void comb_transport_write(unsigned port, const void *bytes, uint32_t len)
{
    const uint8_t *p = bytes;
    while (len != 0u) { /* one packet per round: at most len rounds */
        if (((uintptr_t)p & 3u) == 0u && len >= 4u) {
            uint32_t v = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            comb_transport_swit(port, 4u, v);
            p += 4;
            len -= 4u;
        } else {
            comb_transport_swit(port, 1u, *p++);
            len--;
        }
    }
}
