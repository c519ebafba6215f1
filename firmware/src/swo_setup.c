/*
 * ITM/SWO setup (comb/swo.h): the prescaler, the register sequence that puts
 * the SWO pin in NRZ mode, the port mask and sync packets
 * (comb_transport_init), and the fatal-error hook. The write path is
 * itm_swo.c. Every register access goes through comb/swo_regs.h, so the host
 * tests check this exact sequence against a simulated register file.
 *
 * Build-time knobs:
 *   COMB_SWO_STM32=1        also program STM32 DBGMCU_CR (trace pins)
 *   COMB_SWO_TRACECLK_HZ    the TPIU's input clock when it is not the core
 *                           clock (nRF52: 32000000)
 */
#include <stdbool.h>

#include "comb/swo.h"
#include "comb/swo_regs.h"
#include "comb/trace_protocol.h"
#include "swo_state.h"

#ifndef COMB_SWO_STM32
#define COMB_SWO_STM32 0
#endif
#ifndef COMB_SWO_TRACECLK_HZ
#define COMB_SWO_TRACECLK_HZ 0u /* the core clock */
#endif

/* comb_swo_init: ITM_TCR.BUSY polls after turning the ITM off. A previous run
 * (the debug registers survive a system reset) may still be sending: at the
 * slowest prescaler a byte takes 81920 cycles, a poll a few. */
#define BUSY_POLLS (1u << 20)
/* Wait bound of one packet: 16 packets of 5 bytes, 10 bit times each. */
#define WAIT_BITS 800u
/* Flush, after ITM_TCR.BUSY clears: 8 bytes in the TPIU's buffer. */
#define DRAIN_BITS 80u
/* NRZ capture tolerance, percent (OpenOCD: "within 3%"). */
#define TOLERANCE_PERCENT 3u

struct comb_swo_limits comb_swo_limits;

static struct {
    uint32_t ports; /* ITM_TER wanted (comb_transport_init), applied by comb_swo_init */
    bool sync;      /* periodic sync packets wanted */
    bool up;        /* comb_swo_init succeeded */
} cfg = {0xFFFFFFFFu, true, false};

void comb_swo_setup_reset(void)
{
    cfg.ports = 0xFFFFFFFFu;
    cfg.sync = true;
    cfg.up = false;
    comb_swo_limits.wait_cycles = 0u;
    comb_swo_limits.drain_cycles = 0u;
}

/* With clk = d * baud + r (0 <= r < baud), the two candidate divisors are d,
 * whose rate is too fast by r / d, and d + 1, too slow by (baud - r) / (d + 1).
 * Everything but the final tolerance check fits in 32 bits (d * baud <= clk),
 * which keeps the code small: hello links it. */
comb_swo_status comb_swo_prescaler(uint32_t traceclk_hz, uint32_t baud, uint32_t *acpr)
{
    if (traceclk_hz == 0u || baud == 0u)
        return COMB_SWO_ERR_ZERO;
    uint32_t d = traceclk_hz / baud, r = traceclk_hz % baud;
    uint32_t off_by;                   /* |traceclk_hz - d * baud| of the chosen d */
    comb_swo_status off = COMB_SWO_ERR_INEXACT;
    if (d == 0u) {
        d = 1u;
        off_by = baud - traceclk_hz;
        off = COMB_SWO_ERR_TOO_FAST;
    } else if (d > COMB_TPIU_ACPR_MAX) {
        d = COMB_TPIU_ACPR_MAX + 1u;
        off_by = traceclk_hz - d * baud;
        off = COMB_SWO_ERR_TOO_SLOW;
    } else if ((uint64_t)(baud - r) * d < (uint64_t)r * (d + 1u)) {
        d++; /* (baud - r) / (d + 1) < r / d: clk / (d + 1) is the closer rate */
        off_by = baud - r;
    } else {
        off_by = r;
    }
    /* |clk / d - baud| <= 3 % of baud  <=>  100 off_by <= 3 baud d */
    if ((uint64_t)off_by * 100u > (uint64_t)baud * d * TOLERANCE_PERCENT)
        return off;
    *acpr = d - 1u;
    return COMB_SWO_OK;
}

/* `bits` bit times in core cycles, each rounded up (32-bit division only: no
 * __aeabi_uldivmod in the image). */
static uint32_t bit_times(uint32_t bits, uint32_t core_hz, uint32_t baud)
{
    uint32_t per_bit = core_hz / baud + (core_hz % baud != 0u);
    return per_bit > 0xFFFFFFFFu / bits ? 0xFFFFFFFFu : bits * per_bit;
}

static uint32_t sync_tap(void)
{
    return cfg.sync ? COMB_DWT_CTRL_SYNCTAP_24 : 0u;
}

static comb_swo_status acpr_for(uint32_t core_hz, uint32_t baud, uint32_t *acpr)
{
    return comb_swo_prescaler(COMB_SWO_TRACECLK_HZ != 0u ? COMB_SWO_TRACECLK_HZ : core_hz, baud, acpr);
}

comb_swo_status comb_swo_init(uint32_t core_hz, uint32_t baud)
{
    uint32_t acpr;
    comb_swo_status st = acpr_for(core_hz, baud, &acpr);
    if (st != COMB_SWO_OK)
        return st;
    /* Trace power first: without TRCENA, ITM, DWT and TPIU ignore writes. */
    comb_swo_reg_write(COMB_REG_DEMCR, comb_swo_reg_read(COMB_REG_DEMCR) | COMB_DEMCR_TRCENA);
    uint32_t dwt = comb_swo_reg_read(COMB_REG_DWT_CTRL);
    if (dwt & COMB_DWT_CTRL_NOCYCCNT)
        return COMB_SWO_ERR_NO_CYCCNT;
#if COMB_SWO_STM32
    comb_swo_reg_write(COMB_REG_DBGMCU_CR,
                       (comb_swo_reg_read(COMB_REG_DBGMCU_CR) & ~COMB_DBGMCU_TRACE_MODE) |
                           COMB_DBGMCU_TRACE_IOEN | COMB_DBGMCU_LOW_POWER);
#endif
    /* The software locks: ITM_LAR guards ITM_TCR/TER/TPR; DWT_LAR guards the
     * DWT on cores that implement it (Cortex-M7: DWT_CTRL and CYCCNT writes
     * are ignored until it is unlocked). Without a lock the write is ignored. */
    comb_swo_reg_write(COMB_REG_ITM_LAR, COMB_ITM_LAR_UNLOCK);
    comb_swo_reg_write(COMB_REG_DWT_LAR, COMB_ITM_LAR_UNLOCK);
    /* ITM off while the port under it changes (a second call: nothing is
     * traced from here until it succeeds). */
    comb_swo_reg_write(COMB_REG_ITM_TCR, 0u);
    cfg.up = false;
    comb_transport_port_mask = 0u;
    uint32_t n = BUSY_POLLS;
    while ((comb_swo_reg_read(COMB_REG_ITM_TCR) & COMB_ITM_TCR_BUSY) != 0u) /* at most BUSY_POLLS polls */
        if (--n == 0u)
            return COMB_SWO_ERR_BUSY; /* left off: ITM_TCR = 0, TPIU and DWT untouched */
    comb_swo_reg_write(COMB_REG_TPIU_CSPSR, 1u); /* 1-bit port */
    comb_swo_reg_write(COMB_REG_TPIU_ACPR, acpr);
    comb_swo_reg_write(COMB_REG_TPIU_SPPR, COMB_TPIU_SPPR_NRZ);
    comb_swo_reg_write(COMB_REG_TPIU_FFCR, COMB_TPIU_FFCR_TRIGIN);
    comb_swo_reg_write(COMB_REG_DWT_CTRL,
                       (dwt & ~COMB_DWT_CTRL_SYNCTAP_MASK) | COMB_DWT_CTRL_CYCCNTENA | sync_tap());
    comb_swo_reg_write(COMB_REG_ITM_TPR, 0u);
    comb_swo_reg_write(COMB_REG_ITM_TER, cfg.ports);
    comb_swo_limits.wait_cycles = bit_times(WAIT_BITS, core_hz, baud);
    comb_swo_limits.drain_cycles = bit_times(DRAIN_BITS, core_hz, baud);
    cfg.up = true;
    comb_transport_port_mask = cfg.ports;
    comb_swo_reg_write(COMB_REG_ITM_TCR,
                       COMB_ITM_TCR_TRACEBUSID(1u) | COMB_ITM_TCR_SYNCENA | COMB_ITM_TCR_ITMENA);
    /* CYCCNT wraps a cycle later: its bit 24 toggles, the ITM sends a sync. */
    comb_swo_reg_write(COMB_REG_DWT_CYCCNT, 0xFFFFFFFFu);
    return COMB_SWO_OK;
}

comb_swo_status comb_swo_set_clock(uint32_t core_hz, uint32_t baud)
{
    if (!cfg.up)
        return COMB_SWO_ERR_NOT_INIT;
    uint32_t acpr;
    comb_swo_status st = acpr_for(core_hz, baud, &acpr);
    if (st != COMB_SWO_OK)
        return st;
    /* No flush here: the clock has changed already, so what is queued goes
     * out at the wrong rate whatever we do; the caller flushed before. */
    comb_swo_reg_write(COMB_REG_TPIU_ACPR, acpr);
    comb_swo_limits.wait_cycles = bit_times(WAIT_BITS, core_hz, baud);
    comb_swo_limits.drain_cycles = bit_times(DRAIN_BITS, core_hz, baud);
    return COMB_SWO_OK;
}

uint32_t comb_swo_wait_cycles(void)
{
    return comb_swo_limits.wait_cycles;
}

void comb_transport_init(uint32_t port_mask, uint32_t sync_interval)
{
    cfg.ports = port_mask;
    cfg.sync = sync_interval != 0u;
    if (!cfg.up)
        return; /* comb_swo_init applies both */
    comb_swo_reg_write(COMB_REG_DWT_CTRL,
                       (comb_swo_reg_read(COMB_REG_DWT_CTRL) & ~COMB_DWT_CTRL_SYNCTAP_MASK) | sync_tap());
    comb_swo_reg_write(COMB_REG_ITM_TER, port_mask);
    comb_transport_port_mask = port_mask;
}

void comb_transport_panic(void)
{
    uint32_t stderr_bit = 1u << COMB_PORT_STDERR;
    cfg.ports |= stderr_bit;
    if (!cfg.up)
        return;
    comb_swo_reg_write(COMB_REG_ITM_TER, comb_swo_reg_read(COMB_REG_ITM_TER) | stderr_bit);
    comb_transport_port_mask = comb_transport_port_mask | stderr_bit;
}
