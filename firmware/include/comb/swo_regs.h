/*
 * The trace registers the ITM/SWO transport programs, and the one thin layer
 * every access to them goes through.
 *
 * Addresses and bits: ARMv7-M/ARMv8-M ITM, DWT and debug registers, CoreSight
 * TPIU, STM32 DBGMCU (F1/F2/F3/F4/F7/L1 layout); shared/reference
 * itm-protocol.md section 14 lists them with sources.
 *
 * Access layer: on targets each access is one volatile load or store of the
 * register. In the host build (COMB_PORT_HOST) the same calls go to the
 * simulated register file of port/host/swo_sim.c (comb/swo_sim.h), so unit
 * tests see the exact ordered list of writes and can make the stimulus ports
 * busy. Only src/itm_swo.c and src/swo_setup.c use this header.
 */
#ifndef COMB_SWO_REGS_H
#define COMB_SWO_REGS_H

#include <stdbool.h>
#include <stdint.h>

/* ITM: stimulus port n (write = one packet of the store's width; read bit 0 =
 * FIFOREADY, 0 while the FIFO is full), enables, privilege, control, lock. */
#define COMB_REG_ITM_STIM(n) (0xE0000000u + 4u * (n))
#define COMB_REG_ITM_TER     0xE0000E00u
#define COMB_REG_ITM_TPR     0xE0000E40u
#define COMB_REG_ITM_TCR     0xE0000E80u
#define COMB_REG_ITM_LAR     0xE0000FB0u
#define COMB_ITM_TCR_ITMENA     (1u << 0)
#define COMB_ITM_TCR_SYNCENA    (1u << 2)
#define COMB_ITM_TCR_TRACEBUSID(id) ((uint32_t)(id) << 16) /* 7 bits; TPIU frames only */
#define COMB_ITM_TCR_BUSY       (1u << 23)                 /* read only */
#define COMB_ITM_LAR_UNLOCK     0xC5ACCE55u

/* DWT: CYCCNT (the timestamp source), the sync packet tap on it, and the
 * lock that Cortex-M7 puts on its writes (write-ignored where absent). */
#define COMB_REG_DWT_CTRL   0xE0001000u
#define COMB_REG_DWT_CYCCNT 0xE0001004u
#define COMB_REG_DWT_LAR    0xE0001FB0u /* CoreSight lock (Cortex-M7); key COMB_ITM_LAR_UNLOCK */
#define COMB_DWT_CTRL_CYCCNTENA     (1u << 0)
#define COMB_DWT_CTRL_SYNCTAP_MASK  (3u << 10)
#define COMB_DWT_CTRL_SYNCTAP_24    (1u << 10) /* a sync packet each time CYCCNT bit 24 toggles */
#define COMB_DWT_CTRL_NOCYCCNT      (1u << 25) /* read only: no cycle counter */

/* Debug Exception and Monitor Control: TRCENA powers ITM, DWT and TPIU. */
#define COMB_REG_DEMCR      0xE000EDFCu
#define COMB_DEMCR_TRCENA   (1u << 24)

/* TPIU: port size, asynchronous prescaler (SWO bit rate = TRACECLKIN /
 * (ACPR + 1), 13 bits), pin protocol, formatter. */
#define COMB_REG_TPIU_CSPSR 0xE0040004u
#define COMB_REG_TPIU_ACPR  0xE0040010u
#define COMB_REG_TPIU_SPPR  0xE00400F0u
#define COMB_REG_TPIU_FFCR  0xE0040304u
#define COMB_TPIU_ACPR_MAX  0x1FFFu
#define COMB_TPIU_SPPR_NRZ  2u
#define COMB_TPIU_FFCR_TRIGIN 0x100u /* EnFCont (bit 1) clear: formatter bypassed */

/* STM32 DBGMCU_CR: trace pins (TRACE_IOEN, TRACE_MODE 00 = asynchronous SWO)
 * and debug/trace kept alive in sleep, stop and standby. */
#define COMB_REG_DBGMCU_CR       0xE0042004u
#define COMB_DBGMCU_LOW_POWER    7u /* DBG_SLEEP | DBG_STOP | DBG_STANDBY */
#define COMB_DBGMCU_TRACE_IOEN   (1u << 5)
#define COMB_DBGMCU_TRACE_MODE   (3u << 6)

/* Preemption points of the SWO write path (host build, comb/port.h
 * COMB_PREEMPT_POINT), numbered apart from the UART transport's (from 1), the
 * allocator's (from 16) and the scheduler's (from 32, comb/mpsc_list.h). */
enum comb_swo_preempt_point {
    COMB_PP_SWO_READY = 48, /* exclusive read saw FIFOREADY, exclusive store not done yet */
    COMB_PP_SWO_FULL,       /* a poll found the FIFO full */
    COMB_PP_SWO_LOST,       /* the exclusive store failed: an exception came in between */
};

#if defined(COMB_PORT_HOST)
/* Host build: the simulated register file (port/host/swo_sim.c). */
uint32_t comb_swo_reg_read(uint32_t addr);
void comb_swo_reg_write(uint32_t addr, uint32_t value);
/* The three halves of the exclusive stimulus write (LDREX, CLREX, STREX of
 * `size` bytes: 1, 2 or 4) and a plain store, as the core performs them. */
uint32_t comb_swo_stim_ldrex(unsigned port, unsigned size);
void comb_swo_stim_clrex(void);
bool comb_swo_stim_strex(unsigned port, unsigned size, uint32_t value);
void comb_swo_stim_store(unsigned port, unsigned size, uint32_t value);
#else
static inline uint32_t comb_swo_reg_read(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}
static inline void comb_swo_reg_write(uint32_t addr, uint32_t value)
{
    *(volatile uint32_t *)(uintptr_t)addr = value;
}
/* A plain store of the packet's width: STRB / STRH / STR. */
static inline void comb_swo_stim_store(unsigned port, unsigned size, uint32_t value)
{
    uintptr_t a = COMB_REG_ITM_STIM(port);
    if (size == 1u)
        *(volatile uint8_t *)a = (uint8_t)value;
    else if (size == 2u)
        *(volatile uint16_t *)a = (uint16_t)value;
    else
        *(volatile uint32_t *)a = value;
}
#endif

#endif /* COMB_SWO_REGS_H */
