/*
 * The package test app on one of comb's boards: a log line that uses the
 * heap of its Drone.toml, and the session handshake. Exit status 0 when the
 * host acknowledged the end of the session (QEMU).
 */
#include "comb/board.h"
#include "comb/heap.h"
#include "comb/log.h"
#include "comb/session.h"

int main(void)
{
    comb_board_init();
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    char *p = comb_alloc(40);
    comb_printf("package app: %u-byte block from the %s heap\n",
                p ? (unsigned)comb_heap_usable_size(&comb_heap_main, p) : 0u, p ? "Drone.toml" : "(failed)");
    comb_free(p);
    return comb_session_end(5u * comb_board_ts_hz()) ? 0 : 1;
}
