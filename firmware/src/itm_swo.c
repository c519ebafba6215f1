/*
 * The ITM/SWO transport's write path (implements comb/transport.h; contract,
 * costs and bounds in comb/swo.h). The hardware setup is swo_setup.c.
 *
 * One packet = one store to ITM_STIMn of the packet's width (STRB/STRH/STR):
 * the ITM frames it (header port << 3 | size, payload little-endian), so a
 * single store is already whole on the wire. What needs care is the FIFO
 * check in front of it. The stimulus port reads 0 while the ITM FIFO is full,
 * and a store into a full FIFO is lost (the ITM then emits an overflow
 * packet). The naive
 *
 *     while (STIM == 0) ;     interrupt here: its packets fill the FIFO
 *     STIM = value;           lands in a full FIFO, lost
 *
 * loses a packet whenever an interrupt that writes comes in between the check
 * and the store. Drone OS (drone-cortexm src/swo/port.rs) closes that window
 * with an exclusive pair, and so does stim_try() below:
 *
 *     LDREXB/H/  r, [STIM]    read FIFOREADY, and open the exclusive monitor
 *     CBZ        r, full      0: FIFO full, try again later
 *     STREXB/H/  r, v, [STIM] store only if the monitor is still open
 *
 * Taking an exception clears the core's local exclusive monitor (as does the
 * interrupt's own STREX), so if anything ran between the LDREX and the STREX,
 * the STREX does not store and reports failure, and we check the FIFO again.
 * (Drone retries forever; here the retries are bounded, see
 * comb_transport_swit.)
 * The store therefore always follows a FIFOREADY read with nothing in
 * between: no packet is lost to preemption, and no interrupt is masked. The
 * exclusive accesses have the packet's width, as Drone's. ARMv6-M has neither
 * ITM nor exclusives; this file is for Mainline cores only.
 *
 * Host build (COMB_PORT_HOST): the same loop, with stim_try() made of calls
 * into the simulated stimulus port (comb/swo_regs.h) and a preemption point
 * between the exclusive read and store, where a test runs a nested writer.
 */
#include "comb/port.h"
#include "comb/swo.h"
#include "comb/swo_regs.h"
#include "comb/trace.h"
#include "swo_state.h"

#if !defined(COMB_PORT_HOST)
#include "comb/cortex_m.h"
#if !COMB_ARM_MAINLINE
#error "the ITM/SWO transport needs an ARMv7-M or ARMv8-M Mainline core (ARMv6-M has no ITM): use TRANSPORT uart"
#endif
#endif

volatile uint32_t comb_transport_port_mask; /* RAM mirror of ITM_TER, set by swo_setup.c */

static volatile uint32_t dropped;

enum { STIM_FULL = 0, STIM_STORED = 1, STIM_LOST = 2 };

#if defined(COMB_PORT_HOST)
static unsigned stim_try(unsigned port, unsigned size, uint32_t value)
{
    if (comb_swo_stim_ldrex(port, size) == 0u) {
        comb_swo_stim_clrex();
        return STIM_FULL;
    }
    COMB_PREEMPT_POINT(COMB_PP_SWO_READY);
    return comb_swo_stim_strex(port, size, value) ? STIM_STORED : STIM_LOST;
}
#else
/* One asm block per width, so the compiler cannot put a memory access (a
 * spill) between LDREX and STREX. Result: 0 full, 1 stored (STREX wrote 0),
 * 2 lost (STREX wrote 1). CLREX on the full path closes the monitor the
 * LDREX opened. */
#define COMB_STIM_TRY(sfx, out, addr, val)                                                      \
    __asm__ volatile("ldrex" sfx " %[r], [%[a]]\n"                                              \
                     "cbz %[r], 1f\n"                                                           \
                     "strex" sfx " %[r], %[v], [%[a]]\n"                                        \
                     "adds %[r], %[r], #1\n"                                                    \
                     "b 2f\n"                                                                   \
                     "1: clrex\n"                                                               \
                     "2:\n"                                                                     \
                     : [r] "=&l"(out)                                                           \
                     : [a] "r"(addr), [v] "r"(val)                                              \
                     : "cc", "memory")

static inline unsigned stim_try(unsigned port, unsigned size, uint32_t value)
{
    uintptr_t a = COMB_REG_ITM_STIM(port);
    uint32_t r;
    if (size == 1u)
        COMB_STIM_TRY("b", r, a, value);
    else if (size == 2u)
        COMB_STIM_TRY("h", r, a, value);
    else
        COMB_STIM_TRY("", r, a, value);
    return r;
}
#endif

/* A deadline on CYCCNT, with a poll cap in case CYCCNT was stopped: a poll
 * takes more than 4 cycles, so the cap never ends a wait early while CYCCNT
 * counts. */
struct deadline {
    uint32_t start, cycles, polls;
};

static void deadline_start(struct deadline *d, uint32_t cycles)
{
    d->start = comb_swo_reg_read(COMB_REG_DWT_CYCCNT);
    d->cycles = cycles;
    d->polls = cycles / 4u;
}

static bool deadline_passed(struct deadline *d)
{
    if (d->polls == 0u)
        return true;
    d->polls--;
    return comb_swo_reg_read(COMB_REG_DWT_CYCCNT) - d->start >= d->cycles;
}

/* The port as the hardware sees it now: a debugger may have disabled it, or
 * trace altogether (reads of ITM registers return 0 without TRCENA). */
static bool port_live(unsigned port)
{
    return (comb_swo_reg_read(COMB_REG_ITM_TCR) & COMB_ITM_TCR_ITMENA) != 0u &&
           ((comb_swo_reg_read(COMB_REG_ITM_TER) >> port) & 1u) != 0u;
}

static void count_drop(void)
{
    uint32_t d;
    do /* retried only when a preempting writer dropped a packet in between */
        d = dropped;
    while (!comb_port_cas32(&dropped, d, d + 1u));
}

void comb_transport_swit(unsigned port, unsigned size, uint32_t value)
{
    port &= 31u;
    if (size == 0u)
        return;
    if (size > 2u)
        size = 4u; /* ITM has 1, 2 and 4-byte packets; 3 is sent as 4 */
    if (!port_live(port))
        return;
    struct deadline d;
    deadline_start(&d, comb_swo_limits.wait_cycles);
    /* Bounded by the deadline (comb/swo.h). Lateness is decided before the
     * try, so the last try comes after the deadline: time spent in a long
     * preempting handler never drops a packet the FIFO could take now. */
    for (;;) {
        bool late = deadline_passed(&d);
        unsigned r = stim_try(port, size, value);
        if (r == STIM_STORED)
            return;
        COMB_PREEMPT_POINT(r == STIM_FULL ? COMB_PP_SWO_FULL : COMB_PP_SWO_LOST);
        if (late)
            break;
    }
    count_drop();
    comb_swo_stim_store(port, size, value); /* into the full FIFO: the ITM's own overflow packet */
}

/* ITM_TCR.BUSY clears once the ITM has handed everything to the TPIU; its
 * own buffer then needs a few byte times more. Bounded by wait_cycles +
 * drain_cycles (comb_swo_limits), with the poll caps of struct deadline. */
bool comb_transport_flush(void)
{
    if ((comb_swo_reg_read(COMB_REG_ITM_TCR) & COMB_ITM_TCR_ITMENA) == 0u)
        return true; /* no trace: nothing can be queued */
    struct deadline d;
    deadline_start(&d, comb_swo_limits.wait_cycles);
    while (comb_swo_reg_read(COMB_REG_ITM_TCR) & COMB_ITM_TCR_BUSY)
        if (deadline_passed(&d))
            return false;
    deadline_start(&d, comb_swo_limits.drain_cycles);
    while (!deadline_passed(&d))
        ;
    return true;
}

uint32_t comb_transport_dropped(void)
{
    return dropped;
}

void comb_transport_reset(void)
{
    dropped = 0u;
    comb_transport_port_mask = 0u;
    comb_swo_setup_reset();
}

#if !defined(COMB_PORT_HOST) /* the host port provides a programmable one */
uint32_t comb_trace_timestamp(void)
{
    return comb_swo_reg_read(COMB_REG_DWT_CYCCNT);
}
#endif
