/*
 * heapnewlib: newlib's malloc, free, calloc, realloc and its internal
 * _malloc_r (here through strdup) retargeted to the pool allocator
 * (src/heap_newlib.c), with heapdemo's layout. Every block must come from the
 * pools, and the heap trace is the pool allocator's. Exit 0 when every check
 * held and the host acknowledged SESSION_END.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "comb/board.h"
#include "comb/heap.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/session.h"

static int in_pools(const void *p)
{
    return (uintptr_t)p - (uintptr_t)comb_heap_main.base < comb_heap_main.bytes;
}

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());

    unsigned bad = 0;
    char *names[20];
    for (unsigned i = 0; i < 20u; i++) {
        char tmp[24];
        comb_snprintf(tmp, sizeof tmp, "sensor-%u", i * 37u);
        names[i] = strdup(tmp); /* newlib: _malloc_r */
        bad += names[i] == NULL || !in_pools(names[i]) || strcmp(names[i], tmp) != 0;
    }
    uint32_t *v = NULL;
    for (unsigned n = 1; n <= 100u; n++) {
        uint32_t *g = realloc(v, n * sizeof *v);
        bad += g == NULL || !in_pools(g);
        if (g == NULL)
            break;
        v = g;
        v[n - 1] = n;
    }
    for (unsigned n = 0; n < 100u; n++)
        bad += v[n] != n + 1u;
    uint8_t *z = calloc(10, 10);
    bad += z == NULL || !in_pools(z) || z[99] != 0;
    bad += malloc(0) != NULL;     /* the pools' rule */
    bad += malloc(4096) != NULL;  /* larger than every block: fails */
    free(z);
    free(v);
    for (unsigned i = 0; i < 20u; i++)
        free(names[i]);
    uint32_t in_use = comb_heap_in_use(&comb_heap_main);
    comb_printf("heapnewlib: bad %u, in use %lu, failures %lu\n", bad, (unsigned long)in_use,
                (unsigned long)comb_heap_failures(&comb_heap_main));
    return comb_session_end(5u * comb_board_ts_hz()) && bad == 0u && in_use == 0u ? 0 : 1;
}
