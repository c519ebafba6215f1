/*
 * Board: "blue pill", STM32F103C8 (Cortex-M3), 8 MHz crystal. Real hardware:
 * built in CI, never run there (README.md).
 *
 *   clock       HSE 8 MHz x 9 (PLL) = 72 MHz; APB1 36 MHz, APB2 72 MHz; flash
 *               2 wait states + prefetch. No crystal: HSI/2 x 16 = 64 MHz; no
 *               PLL lock: HSI 8 MHz. comb_board_core_hz() says which.
 *   trace       SWO on PB3 (TRACESWO), NRZ 8N1 at COMB_SWO_BAUD (2 Mbaud:
 *               the TPIU divides by 36 at 72 MHz, 32 at 64, 4 at 8), set up by
 *               comb_swo_init; JTAG released (AFIO_MAPR.SWJ_CFG = 010: SWD
 *               only), which frees PB3 for trace
 *   timestamp   DWT CYCCNT at the core clock (the SWO transport's)
 *   receive     none, and exit = flush and sleep (WFI): no semihosting without a
 *               debugger (boards/common/swo_board.c)
 *   swi         IRQ 22 (CAN_SCE: comb never turns CAN on), feature "swi"
 *   interrupts  43 vector entries (the F103C8's IRQs 0-42; no padding: 20
 *               bytes of flash count in hello, docs/size.md)
 */
#include "../common/swo_board.h"

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/port.h"
#include "comb/swo.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* RCC (RM0008 section 7.3) */
#define RCC_CR      REG(0x40021000u)
#define RCC_CFGR    REG(0x40021004u)
#define RCC_APB2ENR REG(0x40021018u)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_PLL     2u
#define RCC_CFGR_SWS_MASK   (3u << 2)
#define RCC_CFGR_SWS_PLL    (2u << 2)
#define RCC_CFGR_PPRE1_DIV2 (4u << 8)  /* APB1 at most 36 MHz */
#define RCC_CFGR_PLLSRC_HSE (1u << 16) /* else HSI / 2 */
#define RCC_CFGR_PLLMUL(x)  ((uint32_t)((x) - 2u) << 18)
#define RCC_APB2ENR_AFIOEN  (1u << 0)
#define RCC_APB2ENR_IOPBEN  (1u << 3)

/* Flash: 2 wait states above 48 MHz, prefetch buffer on (RM0008 3.3.3). */
#define FLASH_ACR REG(0x40022000u)
#define FLASH_ACR_2WS_PREFETCH 0x12u

/* AFIO_MAPR.SWJ_CFG = 010: JTAG-DP off, SW-DP on; PB3 (JTDO) is released. */
#define AFIO_MAPR REG(0x40010004u)
#define AFIO_MAPR_SWD_ONLY (2u << 24)

/* PB3: alternate function push-pull, 50 MHz (CNF 10, MODE 11). */
#define GPIOB_CRL REG(0x40010C00u)
#define PB3_AF_PP_50MHZ (0xBu << 12)

/* Oscillator and PLL start-up waits: HSE takes about 2 ms (DS5319); 2^18
 * polls of a few cycles at the 8 MHz reset clock are over 100 ms. */
#define CLOCK_POLLS (1u << 18)

static void clocks(void)
{
    comb_swo_board_hz = 8000000u; /* HSI, the reset clock, until the PLL runs */
    FLASH_ACR = FLASH_ACR_2WS_PREFETCH; /* before the clock goes up */
    RCC_CR |= RCC_CR_HSEON;
    bool hse = comb_swo_board_wait(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY, CLOCK_POLLS);
    if (hse) {
        RCC_CFGR = RCC_CFGR_PLLSRC_HSE | RCC_CFGR_PLLMUL(9u) | RCC_CFGR_PPRE1_DIV2;
    } else {
        RCC_CR &= ~RCC_CR_HSEON;
        RCC_CFGR = RCC_CFGR_PLLMUL(16u) | RCC_CFGR_PPRE1_DIV2; /* HSI / 2 x 16 */
    }
    RCC_CR |= RCC_CR_PLLON;
    if (!comb_swo_board_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY, CLOCK_POLLS))
        return; /* stay on HSI */
    RCC_CFGR |= RCC_CFGR_SW_PLL;
    if (comb_swo_board_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL, CLOCK_POLLS))
        comb_swo_board_hz = hse ? 72000000u : 64000000u;
}

void comb_board_init(void)
{
    clocks();
    RCC_APB2ENR |= RCC_APB2ENR_AFIOEN | RCC_APB2ENR_IOPBEN;
    AFIO_MAPR = AFIO_MAPR_SWD_ONLY; /* SWJ_CFG reads back undefined: write it whole */
    GPIOB_CRL = (GPIOB_CRL & ~(0xFu << 12)) | PB3_AF_PP_50MHZ;
    /* TRCENA, DBGMCU trace pins (COMB_SWO_STM32), TPIU, ITM, CYCCNT. On
     * failure every port stays disabled and the program runs untraced. */
    (void)comb_swo_init(comb_swo_board_hz, COMB_SWO_BAUD);
}

#define IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[43])(void) = {
    COMB_IRQ_BLOCK_0(IRQ_ENTRY) COMB_IRQ_BLOCK_1(IRQ_ENTRY) IRQ_ENTRY(32) IRQ_ENTRY(33) IRQ_ENTRY(34)
        IRQ_ENTRY(35) IRQ_ENTRY(36) IRQ_ENTRY(37) IRQ_ENTRY(38) IRQ_ENTRY(39) IRQ_ENTRY(40) IRQ_ENTRY(41)
            IRQ_ENTRY(42)};
