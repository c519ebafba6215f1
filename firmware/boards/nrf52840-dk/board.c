/*
 * Board: nRF52840-DK (PCA10056), nRF52840 (Cortex-M4F) at 64 MHz. Real
 * hardware: built in CI, never run there (README.md).
 *
 *   clock       the CPU always runs at 64 MHz; the 32 MHz crystal (HFXO) is
 *               started so that the trace clock, and with it the SWO bit rate,
 *               is crystal-accurate (HFINT would do within about 1.5 %)
 *   trace       CLOCK.TRACECONFIG: TRACEMUX = serial (SWO on P1.00),
 *               TRACEPORTSPEED = 32 MHz, which is the TPIU's input clock
 *               (COMB_SWO_TRACECLK_HZ in board.cmake); P1.00 output, high
 *               drive; NRZ 8N1 at COMB_SWO_BAUD (2 Mbaud: the TPIU divides
 *               by 16), set up by comb_swo_init
 *   timestamp   DWT CYCCNT at 64 MHz (the SWO transport's)
 *   receive     none, and exit = flush and sleep (WFI): no semihosting without a
 *               debugger (boards/common/swo_board.c)
 *   swi         IRQ 20 (SWI0_EGU0, the chip's own software interrupt), feature "swi"
 *   interrupts  48 vector entries (IRQs 0-47)
 */
#include "../common/swo_board.h"

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/port.h"
#include "comb/swo.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* CLOCK (nRF52840 PS, section CLOCK) */
#define CLOCK_TASKS_HFCLKSTART   REG(0x40000000u)
#define CLOCK_EVENTS_HFCLKSTARTED REG(0x40000100u)
#define CLOCK_TRACECONFIG        REG(0x4000055Cu)
#define TRACECONFIG_SWO_32MHZ    (1u << 16 | 0u) /* TRACEMUX serial, TRACEPORTSPEED 32 MHz */

/* GPIO P1 PIN_CNF[0]: P1.00 = SWO. DIR output, input buffer connected,
 * DRIVE H0H1 (high drive for a fast edge). */
#define P1_PIN_CNF0 REG(0x50000300u + 0x700u)
#define PIN_CNF_SWO (1u | 3u << 8)

#define CORE_HZ 64000000u

/* HFXO start-up: typically 0.36 ms (PS); 2^18 polls at 64 MHz are over 10 ms. */
#define HFXO_POLLS (1u << 18)

void comb_board_init(void)
{
    comb_swo_board_hz = CORE_HZ;
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    (void)comb_swo_board_wait(&CLOCK_EVENTS_HFCLKSTARTED, 1u, 1u, HFXO_POLLS); /* else HFINT */
    CLOCK_TRACECONFIG = TRACECONFIG_SWO_32MHZ;
    P1_PIN_CNF0 = PIN_CNF_SWO;
    /* On failure every port stays disabled and the program runs untraced. */
    (void)comb_swo_init(CORE_HZ, COMB_SWO_BAUD);
}

#define IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[48])(void) = {
    COMB_IRQ_BLOCK_0(IRQ_ENTRY) COMB_IRQ_BLOCK_1(IRQ_ENTRY) COMB_IRQ_BLOCK_2(IRQ_ENTRY)};
