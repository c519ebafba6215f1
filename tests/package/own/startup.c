/*
 * The project's own startup, standing in for a vendor's (CubeMX, nRF SDK):
 * its names, not comb's. Enables the FPU (hard-float build), copies .data,
 * zeroes .bss, runs main, sleeps.
 */
#include <stdint.h>

extern uint32_t app_stack_top[], app_data[], app_data_end[], app_data_load[], app_bss[], app_bss_end[];
int main(void);

void app_reset(void)
{
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10, CP11 */
    __asm__ volatile("dsb\n isb" ::: "memory");
    const uint32_t *src = app_data_load;
    for (volatile uint32_t *dst = app_data; dst < app_data_end;)
        *dst++ = *src++;
    for (volatile uint32_t *dst = app_bss; dst < app_bss_end;)
        *dst++ = 0u;
    (void)main();
    for (;;)
        __asm__ volatile("wfi");
}

static void app_fault(void)
{
    for (;;)
        ;
}

__attribute__((used, section(".isr_vector"))) void *const app_vectors[16] = {
    app_stack_top, (void *)app_reset, (void *)app_fault, (void *)app_fault,
};
