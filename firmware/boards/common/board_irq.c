/*
 * NVIC helpers shared by the boards (board_irq.h), and the "swi" feature of
 * comb/board.h on top of them: COMB_BOARD_SWI_IRQ comes from the board's
 * board.cmake.
 */
#include "board_irq.h"

#include "comb/board.h"
#include "comb/cortex_m.h"

#define NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280u)
/* The 32-bit NVIC_IPR register holding the priority byte of `irq`. */
#define NVIC_IPR_WORD(irq) (*(volatile uint32_t *)&COMB_NVIC_IPR((irq) & ~3u))

void comb_board_irq_enable(unsigned irq, uint8_t priority)
{
    unsigned shift = 8u * (irq & 3u);
    NVIC_IPR_WORD(irq) = (NVIC_IPR_WORD(irq) & ~(0xFFu << shift)) | (uint32_t)priority << shift;
    NVIC_ICPR0 = 1u << irq;
    COMB_NVIC_ISER0 = 1u << irq;
}

void comb_board_irq_disable(unsigned irq)
{
    COMB_NVIC_ICER0 = 1u << irq;
    NVIC_ICPR0 = 1u << irq;
}

#if defined(COMB_BOARD_SWI_IRQ)
_Static_assert(COMB_BOARD_SWI_IRQ < 32, "the helpers reach IRQs 0-31 only");

void comb_board_swi_enable(uint8_t priority)
{
    comb_board_irq_enable(COMB_BOARD_SWI_IRQ, priority);
}

void comb_board_swi_pend(void)
{
    COMB_NVIC_ISPR0 = 1u << COMB_BOARD_SWI_IRQ;
}

void comb_board_swi_disable(void)
{
    comb_board_irq_disable(COMB_BOARD_SWI_IRQ);
}
#endif
