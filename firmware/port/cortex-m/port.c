/*
 * Cortex-M implementation of comb_port_cas32 (comb/port.h).
 *
 * ARMv7-M, ARMv8-M (Baseline and Mainline): LDREX / compare / STREX. Taking an
 * exception clears the local exclusive monitor, so an interrupt that lands
 * between LDREX and STREX makes the STREX fail and we retry from the LDREX,
 * re-reading the value the interrupt may have changed. The retry happens only
 * when an exception was taken inside that 3-instruction window.
 *
 * ARMv6-M (Cortex-M0/M0+, no exclusives): a PRIMASK critical section. Masked
 * after CPSID: LDR, CMP, BNE, STR, MSR = 5 instructions (about 10 cycles on a
 * Cortex-M0). The only place comb masks interrupts, and never while waiting
 * for anything.
 */
#include "comb/port.h"

bool comb_port_cas32(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
#if defined(__ARM_ARCH_6M__)
    uint32_t primask, old;
    __asm__ volatile("mrs %[pm], primask\n"
                     "cpsid i\n"
                     "ldr %[old], [%[p]]\n"
                     "cmp %[old], %[exp]\n"
                     "bne 1f\n"
                     "str %[des], [%[p]]\n"
                     "1: msr primask, %[pm]\n"
                     : [pm] "=&l"(primask), [old] "=&l"(old)
                     : [p] "l"(p), [exp] "l"(expected), [des] "l"(desired)
                     : "cc", "memory");
    return old == expected;
#else
    /* One asm block, so the compiler cannot put a memory access (a spill)
     * between LDREX and STREX. Low registers only: also valid on ARMv8-M
     * Baseline (Cortex-M23). */
    uint32_t old, failed;
    __asm__ volatile("1: ldrex %[old], [%[p]]\n"
                     "   cmp %[old], %[exp]\n"
                     "   bne 2f\n"
                     "   strex %[failed], %[des], [%[p]]\n"
                     "   cmp %[failed], #0\n"
                     "   bne 1b\n" /* an exception cleared the monitor: retry */
                     "   b 3f\n"
                     "2: clrex\n"
                     "3:\n"
                     : [old] "=&l"(old), [failed] "=&l"(failed)
                     : [p] "l"(p), [exp] "l"(expected), [des] "l"(desired)
                     : "cc", "memory");
    return old == expected;
#endif
}
