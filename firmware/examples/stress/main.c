/*
 * stress: the UART transport under real nested interrupts: SysTick and the
 * board's example timer (comb/board.h feature "timer"), on every QEMU board.
 *
 *   thread     port 2: 4-byte packets 0, 1, 2, ... (N of them)
 *   SysTick    port 3: 2-byte sequence numbers, then a 4-byte ~sequence
 *              (lowest priority, preempts the thread)
 *   timer      port 4: 4-byte sequence numbers, then a 1-byte low byte
 *              (higher priority, preempts SysTick and the thread)
 *
 * The interrupts land at arbitrary instructions of the writers, so every
 * window of the ring buffer protocol gets hit. At the end the thread prints
 * "stress: thread=N systick=S timer=T dropped=D\n" on port 1 and exits 0.
 * check.py decodes the capture and checks that every packet is whole, every
 * port's sequence is complete and in order, and the counts match.
 *
 *   qemu-system-arm -M mps2-an385 -display none -monitor none \
 *     -semihosting-config enable=on,target=native -serial file:stress.bin \
 *     -kernel stress.elf && python3 check.py stress.bin
 */
#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/itm_uart.h"
#include "comb/log.h"

#define N_THREAD 20000u

static volatile uint32_t systick_count, timer_count;

void SysTick_Handler(void)
{
    uint32_t n = systick_count;
    comb_transport_swit(3, 2, n & 0xFFFFu);
    comb_transport_swit(3, 4, ~n);
    systick_count = n + 1u;
}

void COMB_BOARD_TIMER_HANDLER(void)
{
    comb_board_timer_ack();
    uint32_t n = timer_count;
    comb_transport_swit(4, 4, n);
    comb_transport_swit(4, 1, n & 0xFFu);
    timer_count = n + 1u;
}

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);

    COMB_SCB_SHPR3 = (COMB_SCB_SHPR3 & 0x00FFFFFFu) | (0xE0u << 24); /* SysTick: lowest */
    COMB_SYST_RVR = 997u;
    COMB_SYST_CVR = 0u;
    COMB_SYST_CSR = 7u; /* CPU clock, interrupt, enable */

    comb_board_timer_start(614u, 0x40u); /* above SysTick */

    for (uint32_t i = 0; i < N_THREAD; i++)
        comb_transport_swit(2, 4, i);

    COMB_SYST_CSR = 0u;
    comb_board_timer_stop();
    comb_eprintf("stress: thread=%lu systick=%lu timer=%lu dropped=%lu\n", (unsigned long)N_THREAD,
                 (unsigned long)systick_count, (unsigned long)timer_count,
                 (unsigned long)comb_transport_dropped());
    return comb_transport_flush() ? 0 : 1;
}
