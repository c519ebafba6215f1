/*
 * hello: the smallest complete comb session.
 *
 *   sync, SESSION_START, "Hello, world!\n" on port 0, SESSION_END,
 *   then wait up to 5 s for the host's ack (COMB_HOST_ACK on the UART).
 *
 * Built for every board (docs/size.md lists its size on each): it uses the
 * board interface, the log facade and the session handshake only.
 *
 * Exit status (semihosting, QEMU's exit code): 0 when the host acknowledged
 * the end of the session, 1 when it did not. With no host attached (e.g.
 * QEMU -serial file:out.bin) nobody acks: the wait times out after 5 s and
 * the exit code is 1 even though every byte was written.
 */
#include "comb/board.h"
#include "comb/log.h"
#include "comb/session.h"

int main(void)
{
    comb_board_init(); /* every port on, default syncs (UART: every 1 KiB; SWO: every 2^24 cycles) */
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    comb_print("Hello, world!\n"); /* the log facade without the printf formatter */
    return comb_session_end(5u * comb_board_ts_hz()) ? 0 : 1;
}
