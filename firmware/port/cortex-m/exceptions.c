/*
 * Cortex-M fault and default exception handlers.
 *
 * Every fault and unhandled exception enters one naked stub that finds the
 * stacked exception frame (MSP or PSP, from bit 2 of EXC_RETURN in LR;
 * Thumb-1 instructions only, so the same stub runs on ARMv6-M) and tail-calls
 * comb_fault_report(frame), which names the exception from IPSR. One stub
 * instead of one per handler keeps the always-linked fault path small (hello
 * is under 2 KB, docs/size.md). The report goes to port 1 (stderr):
 *
 *   *** HardFault: ipsr=0x00000003 pc=0x00000123 lr=0x00000456 xpsr=0x01000000
 *   *** cfsr=0x00008200 hfsr=0x40000000 mmfar=0xe000edf8 bfar=0xffffffff   (Mainline)
 *
 * then the transport is flushed and comb_port_exit(1) is called (QEMU: exit
 * code 1). The transport is first put in panic mode (comb_transport_panic):
 * the interrupted code never resumes, so its in-flight state must not block us.
 */
#include "comb/cortex_m.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/port.h"

__attribute__((used, noreturn)) void comb_fault_report(const uint32_t *frame);

/* The report is built with these two helpers rather than comb_eprintf, so the
 * always-linked fault path does not pull the printf formatter into images
 * that do not use it, and needs little stack. */
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_hex(char *p, const char *label, uint32_t v)
{
    p = put_str(p, label);
    *p++ = '0';
    *p++ = 'x';
    for (int shift = 28; shift >= 0; shift -= 4)
        *p++ = "0123456789abcdef"[(v >> shift) & 0xFu];
    return p;
}

void comb_fault_report(const uint32_t *frame)
{
    /* exception numbers 2-6, then everything else */
    static const char *const names[] = {"NMI", "HardFault", "MemManage", "BusFault", "UsageFault",
                                        "unexpected exception"};
    static volatile uint32_t in_report;
    if (in_report) /* faulted while reporting: stop right here */
        comb_port_exit(1);
    in_report = 1u;

    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    comb_transport_panic();
    unsigned kind = (ipsr & 0x1FFu) - 2u; /* exception 2 (NMI) -> 0 */
    if (kind > 5u)
        kind = 5u;

    _Alignas(4) char line[160];
    char *p = put_str(line, "\n*** ");
    p = put_str(p, names[kind]);
    p = put_hex(p, ": ipsr=", ipsr & 0x1FFu); /* exception number: 3 HardFault, 16+n IRQn */
    p = put_hex(p, " pc=", frame[6]);
    p = put_hex(p, " lr=", frame[5]);
    p = put_hex(p, " xpsr=", frame[7]);
#if COMB_ARM_MAINLINE
    p = put_hex(p, "\n*** cfsr=", COMB_SCB_CFSR);
    p = put_hex(p, " hfsr=", COMB_SCB_HFSR);
    p = put_hex(p, " mmfar=", COMB_SCB_MMFAR);
    p = put_hex(p, " bfar=", COMB_SCB_BFAR);
#endif
    *p++ = '\n';
    comb_log_write(COMB_PORT_STDERR, line, (size_t)(p - line));
    (void)comb_transport_flush();
    comb_port_exit(1);
}

/* The fault entry: Default_Handler, with the fault handlers as its aliases. */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile("movs r0, #4\n"
                     "mov r1, lr\n"
                     "tst r0, r1\n"
                     "beq 1f\n"
                     "mrs r0, psp\n"
                     "b 2f\n"
                     "1: mrs r0, msp\n"
                     "2: ldr r2, =comb_fault_report\n"
                     "bx r2\n"
                     ".ltorg\n");
}

void NMI_Handler(void) __attribute__((alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((alias("Default_Handler")));

/* Everything else: weak aliases of Default_Handler. */
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));
#define COMB_IRQ_WEAK(n) void IRQ##n##_Handler(void) __attribute__((weak, alias("Default_Handler")));
COMB_IRQ_ALL(COMB_IRQ_WEAK)
