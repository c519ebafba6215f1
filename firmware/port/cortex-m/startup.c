/*
 * Cortex-M reset and core vector table. The board supplies the external
 * interrupt part of the table (section .vectors.irq, placed right after
 * .vectors by its linker script) and the memory layout symbols:
 *
 *   __stack_top__                          initial main stack pointer
 *   __data_load__, __data_start__, __data_end__   .data image in flash / in RAM
 *   __bss_start__, __bss_end__             .bss in RAM
 *
 * Reset_Handler: enable the FPU (hard-float builds), the configurable fault
 * handlers (Mainline), copy .data, zero .bss, run main(), and hand its
 * return value to comb_port_exit().
 */
#include "comb/cortex_m.h"
#include "comb/port.h"

extern uint32_t __stack_top__[];
extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];

int main(void);

/* Coprocessor Access Control: CP10/CP11 = the FPU. */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* Hard-float images (the M4F, M7 and M33 boards) may touch FP registers
     * in any function: give thread and handler code full FPU access first.
     * The barriers make the next instruction see it. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
#if COMB_ARM_MAINLINE
    COMB_SCB_SHCSR |= COMB_SHCSR_FAULTS_ENA; /* MemManage/Bus/Usage faults get their own handlers */
#endif
    /* volatile: keeps GCC from turning the loops into memcpy/memset calls */
    const uint32_t *src = __data_load__;
    for (volatile uint32_t *dst = __data_start__; dst < __data_end__;)
        *dst++ = *src++;
    for (volatile uint32_t *dst = __bss_start__; dst < __bss_end__;)
        *dst++ = 0u;
    /* Called through a volatile pointer, so that an image linked with LTO
     * keeps main as a function of its own (symbol tables, backtraces,
     * `comb heap report --elf`) instead of inlining it here. */
    int (*volatile entry)(void) = main;
    comb_port_exit(entry());
}

__attribute__((used, section(".vectors"))) const comb_vector_t comb_core_vectors[16] = {
    {.stack = __stack_top__},
    {.handler = Reset_Handler},
    {.handler = NMI_Handler},
    {.handler = HardFault_Handler},
    {.handler = MemManage_Handler},  /* reserved on ARMv6-M */
    {.handler = BusFault_Handler},   /* reserved on ARMv6-M */
    {.handler = UsageFault_Handler}, /* reserved on ARMv6-M */
    {.handler = 0},                  /* SecureFault on ARMv8-M with TrustZone: unused */
    {.handler = 0},
    {.handler = 0},
    {.handler = 0},
    {.handler = SVC_Handler},
    {.handler = DebugMon_Handler},
    {.handler = 0},
    {.handler = PendSV_Handler},
    {.handler = SysTick_Handler},
};
