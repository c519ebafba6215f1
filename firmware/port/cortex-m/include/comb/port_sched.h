/*
 * Cortex-M port of the scheduler primitives (threads and fibers: comb/thread.h,
 * comb/fiber.h): NVIC control of the interrupts that are threads, the active
 * exception, WFI, SysTick, and a pointer-sized CAS. All inline: they sit on
 * the wakeup and dispatch paths. The host port (port/host/include) declares
 * the same names over a simulated NVIC.
 *
 * Single core; callable from thread mode and any handler unless noted.
 */
#ifndef COMB_PORT_SCHED_H
#define COMB_PORT_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "comb/cortex_m.h"
#include "comb/port.h"

#define COMB_PORT_SCHED_INLINE static inline __attribute__((always_inline))

/* Pend IRQ `irq` (a software wakeup). Mainline: one store to NVIC_STIR;
 * ARMv6-M and ARMv8-M Baseline (no STIR): one store of its bit to NVIC_ISPR
 * (write-one-to-set, no read-modify-write). DSB + ISB make the core take the
 * interrupt before the next instruction when its priority is above the
 * current one, so a caller that wakes a higher-priority thread is preempted
 * inside this call. */
COMB_PORT_SCHED_INLINE void comb_port_irq_pend(unsigned irq)
{
#if COMB_ARM_MAINLINE
    COMB_NVIC_STIR = irq;
#else
    COMB_NVIC_ISPR(irq) = COMB_NVIC_BIT(irq);
#endif
    __asm__ volatile("dsb\n isb" ::: "memory");
}

COMB_PORT_SCHED_INLINE void comb_port_irq_enable(unsigned irq)
{
    COMB_NVIC_ISER(irq) = COMB_NVIC_BIT(irq);
}

COMB_PORT_SCHED_INLINE void comb_port_irq_disable(unsigned irq)
{
    COMB_NVIC_ICER(irq) = COMB_NVIC_BIT(irq);
    __asm__ volatile("dsb\n isb" ::: "memory");
}

COMB_PORT_SCHED_INLINE void comb_port_irq_clear_pending(unsigned irq)
{
    COMB_NVIC_ICPR(irq) = COMB_NVIC_BIT(irq);
}

/* Priority byte (0 = highest; a core implements only the top bits). Mainline:
 * one byte store, and the NVIC re-evaluates preemption at once. ARMv6-M and
 * ARMv8-M Baseline address NVIC_IPR by words only: the read-modify-write of
 * the word shared with three other IRQs is a PRIMASK section of 4
 * instructions (LDR, BIC/ORR, STR, MSR after CPSID), so a handler changing a
 * neighbour's priority cannot be lost. */
COMB_PORT_SCHED_INLINE void comb_port_irq_set_priority(unsigned irq, uint8_t prio)
{
#if COMB_ARM_MAINLINE
    COMB_NVIC_IPR(irq) = prio;
#else
    volatile uint32_t *w = &COMB_NVIC_IPR_WORD(irq);
    uint32_t shift = (irq & 3u) * 8u, pm, v;
    uint32_t mask = 0xFFu << shift, bits = (uint32_t)prio << shift;
    __asm__ volatile(".syntax unified\n"
                     "mrs  %[pm], primask\n"
                     "cpsid i\n"
                     "ldr  %[v], [%[w]]\n"
                     "bics %[v], %[m]\n"
                     "orrs %[v], %[b]\n"
                     "str  %[v], [%[w]]\n"
                     "msr  primask, %[pm]\n"
                     : [pm] "=&l"(pm), [v] "=&l"(v)
                     : [w] "l"(w), [m] "l"(mask), [b] "l"(bits)
                     : "cc", "memory");
#endif
    __asm__ volatile("dsb\n isb" ::: "memory");
}

COMB_PORT_SCHED_INLINE uint8_t comb_port_irq_priority(unsigned irq)
{
#if COMB_ARM_MAINLINE
    return COMB_NVIC_IPR(irq);
#else
    return (uint8_t)(COMB_NVIC_IPR_WORD(irq) >> ((irq & 3u) * 8u));
#endif
}

/* The running exception as an IRQ number: IPSR - 16. Negative for thread mode
 * (-16) and the system exceptions (SysTick -1, PendSV -2, ...). */
COMB_PORT_SCHED_INLINE int comb_port_active_irq(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    return (int)(ipsr & 0x1FFu) - 16;
}

/* Sleep until an interrupt is pending (thread mode, the root's idle loop). */
COMB_PORT_SCHED_INLINE void comb_port_wait_for_interrupt(void)
{
    __asm__ volatile("dsb\n wfi" ::: "memory");
}

/* SysTick on the processor clock: an interrupt every reload + 1 cycles, at
 * priority `prio`. For start-up code (SHPR3 is read-modify-written). */
COMB_PORT_SCHED_INLINE void comb_port_systick_start(uint32_t reload, uint8_t prio)
{
    COMB_SCB_SHPR3 = (COMB_SCB_SHPR3 & ~(0xFFu << COMB_SHPR3_SYSTICK_SHIFT)) |
                     ((uint32_t)prio << COMB_SHPR3_SYSTICK_SHIFT);
    COMB_SYST_RVR = reload;
    COMB_SYST_CVR = 0u;
    COMB_SYST_CSR = COMB_SYST_CSR_ENABLE | COMB_SYST_CSR_TICKINT | COMB_SYST_CSR_CLKSOURCE;
}

COMB_PORT_SCHED_INLINE void comb_port_systick_stop(void)
{
    COMB_SYST_CSR = 0u;
}

/* Pointers are 32 bits: the CAS of comb/port.h. */
COMB_PORT_SCHED_INLINE bool comb_port_cas_ptr(void *volatile *p, void *expected, void *desired)
{
    return comb_port_cas32((volatile uint32_t *)(volatile void *)p, (uint32_t)(uintptr_t)expected,
                           (uint32_t)(uintptr_t)desired);
}

#endif /* COMB_PORT_SCHED_H */
