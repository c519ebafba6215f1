/*
 * Board: NUCLEO-F429ZI, STM32F429ZI (Cortex-M4F). Real hardware: built in CI,
 * never run there (README.md).
 *
 *   clock       HSE bypass: the ST-LINK's 8 MHz MCO output (the board's
 *               default solder bridges); PLL M 4, N 168, P 2 = 168 MHz (Q 7:
 *               48 MHz), voltage scale 1, no over-drive; AHB 168, APB1 42,
 *               APB2 84 MHz; flash 5 wait states, prefetch and caches on. No
 *               HSE: the same PLL from HSI 16 MHz (M 8); no PLL lock: HSI
 *               16 MHz. comb_board_core_hz() says which.
 *   trace       SWO on PB3 (TRACESWO, alternate function 0, its reset
 *               function, set again here), NRZ 8N1 at COMB_SWO_BAUD (2 Mbaud:
 *               the TPIU divides by 84 at 168 MHz), set up by comb_swo_init
 *               with DBGMCU_CR (COMB_SWO_STM32)
 *   timestamp   DWT CYCCNT at the core clock (the SWO transport's)
 *   receive     none, and exit = flush and sleep (WFI): no semihosting without a
 *               debugger (boards/common/swo_board.c)
 *   swi         IRQ 22 (CAN1_SCE: comb never turns CAN on), feature "swi"
 *   interrupts  96 vector entries (the F429's 91 IRQs, 0-90, padded)
 */
#include "../common/swo_board.h"

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/port.h"
#include "comb/swo.h"

#define REG(addr) (*(volatile uint32_t *)(addr))

/* RCC (RM0090 section 6.3) */
#define RCC_CR      REG(0x40023800u)
#define RCC_PLLCFGR REG(0x40023804u)
#define RCC_CFGR    REG(0x40023808u)
#define RCC_AHB1ENR REG(0x40023830u)
#define RCC_APB1ENR REG(0x40023840u)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_PLLCFGR_VALUE(m, n, src) ((m) | (n) << 6 | 0u << 16 /* P = 2 */ | (src) << 22 | 7u << 24)
#define RCC_PLLCFGR_SRC_HSE 1u
#define RCC_CFGR_SW_PLL   2u
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL  (2u << 2)
#define RCC_CFGR_APB_DIV  (5u << 10 | 4u << 13) /* APB1 / 4, APB2 / 2 */
#define RCC_AHB1ENR_GPIOBEN (1u << 1)
#define RCC_APB1ENR_PWREN   (1u << 28)

/* PWR_CR.VOS = 11: scale 1, needed above 144 MHz (RM0090 5.4.1). */
#define PWR_CR REG(0x40007000u)
#define PWR_CR_VOS_SCALE1 (3u << 14)

/* Flash: 5 wait states at 168 MHz and 2.7-3.6 V; prefetch, I- and D-cache. */
#define FLASH_ACR REG(0x40023C00u)
#define FLASH_ACR_168MHZ (5u | 1u << 8 | 1u << 9 | 1u << 10)

/* GPIOB: PB3 in alternate function mode (MODER 10), AF0, very high speed. */
#define GPIOB_MODER   REG(0x40020400u)
#define GPIOB_OSPEEDR REG(0x40020408u)
#define GPIOB_AFRL    REG(0x40020420u)

/* Oscillator, PLL and switch waits: HSE bypass is ready at once, the PLL
 * locks in well under a millisecond; 2^18 polls at 16 MHz are over 50 ms. */
#define CLOCK_POLLS (1u << 18)

static void clocks(void)
{
    comb_swo_board_hz = 16000000u; /* HSI, the reset clock, until the PLL runs */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR; /* the clock reaches PWR before the write below */
    PWR_CR |= PWR_CR_VOS_SCALE1;
    FLASH_ACR = FLASH_ACR_168MHZ; /* before the clock goes up */
    RCC_CR |= RCC_CR_HSEBYP | RCC_CR_HSEON;
    if (comb_swo_board_wait(&RCC_CR, RCC_CR_HSERDY, RCC_CR_HSERDY, CLOCK_POLLS)) {
        RCC_PLLCFGR = RCC_PLLCFGR_VALUE(4u, 168u, RCC_PLLCFGR_SRC_HSE); /* 8 / 4 x 168 / 2 */
    } else {
        RCC_CR &= ~(RCC_CR_HSEON | RCC_CR_HSEBYP);
        RCC_PLLCFGR = RCC_PLLCFGR_VALUE(8u, 168u, 0u); /* 16 / 8 x 168 / 2 */
    }
    RCC_CR |= RCC_CR_PLLON;
    if (!comb_swo_board_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY, CLOCK_POLLS))
        return; /* stay on HSI */
    RCC_CFGR = RCC_CFGR_APB_DIV; /* the bus dividers before the fast clock */
    RCC_CFGR = RCC_CFGR_APB_DIV | RCC_CFGR_SW_PLL;
    if (comb_swo_board_wait(&RCC_CFGR, RCC_CFGR_SWS_MASK, RCC_CFGR_SWS_PLL, CLOCK_POLLS))
        comb_swo_board_hz = 168000000u;
}

void comb_board_init(void)
{
    clocks();
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOBEN;
    (void)RCC_AHB1ENR;
    GPIOB_AFRL &= ~(0xFu << 12);                           /* AF0: TRACESWO */
    GPIOB_OSPEEDR |= 3u << 6;                              /* very high speed */
    GPIOB_MODER = (GPIOB_MODER & ~(3u << 6)) | (2u << 6); /* alternate function */
    /* TRCENA, DBGMCU trace pins (COMB_SWO_STM32), TPIU, ITM, CYCCNT. On
     * failure every port stays disabled and the program runs untraced. */
    (void)comb_swo_init(comb_swo_board_hz, COMB_SWO_BAUD);
}

#define IRQ_ENTRY(n) IRQ##n##_Handler,
__attribute__((used, section(".vectors.irq"))) void (*const comb_board_irq_vectors[96])(void) = {
    COMB_IRQ_BLOCK_0(IRQ_ENTRY) COMB_IRQ_BLOCK_1(IRQ_ENTRY) COMB_IRQ_BLOCK_2(IRQ_ENTRY)
        COMB_IRQ_BLOCK_3(IRQ_ENTRY) COMB_IRQ_BLOCK_4(IRQ_ENTRY) COMB_IRQ_BLOCK_5(IRQ_ENTRY)};
