/* The part the SWO hardware boards share (swo_board.h). */
#include "swo_board.h"

#include "comb/board.h"
#include "comb/port.h"
#include "comb/transport.h"

uint32_t comb_swo_board_hz;

bool comb_swo_board_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want, uint32_t polls)
{
    for (; polls != 0u; polls--) /* at most `polls` reads */
        if ((*reg & mask) == want)
            return true;
    return false;
}

uint32_t comb_board_core_hz(void)
{
    return comb_swo_board_hz;
}

uint32_t comb_board_ts_hz(void)
{
    return comb_swo_board_hz; /* CYCCNT */
}

int comb_port_uart_rx(void)
{
    return -1;
}

_Noreturn void comb_port_exit(int status)
{
    (void)status;
    (void)comb_transport_flush();
    for (;;) /* nothing to return to: sleep until reset */
        __asm__ volatile("wfi");
}
