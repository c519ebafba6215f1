/* Semihosting exit (comb/cortex_m.h). */
#include "comb/cortex_m.h"

#define SYS_EXIT                       0x18u
#define ADP_Stopped_ApplicationExit    0x20026u
#define ADP_Stopped_RunTimeErrorUnknown 0x20023u

_Noreturn void comb_semihost_exit(int status)
{
    /* AArch32 SYS_EXIT: r0 = operation, r1 = the reason code itself. */
    register uint32_t r0 __asm__("r0") = SYS_EXIT;
    register uint32_t r1 __asm__("r1") = status == 0 ? ADP_Stopped_ApplicationExit
                                                     : ADP_Stopped_RunTimeErrorUnknown;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) /* not reached when a debugger / QEMU handles the call */
        __asm__ volatile("bkpt 0");
}
