/*
 * fault: checks the fault handlers. Prints a line on port 0, then executes an
 * undefined instruction. Expected: a UsageFault report on port 1 (stderr)
 * with the stacked PC pointing at the UDF, CFSR.UNDEFINSTR (0x00010000) set,
 * and exit code 1. On ARMv6-M the same ends in HardFault.
 */
#include "comb/board.h"
#include "comb/itm_uart.h"
#include "comb/log.h"

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_printf("faulting now\n");
    __asm__ volatile("udf #0");
    comb_printf("not reached\n");
    return 0;
}
