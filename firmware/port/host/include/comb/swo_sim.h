/*
 * Simulated trace registers for the host tests of the ITM/SWO transport
 * (port/host/swo_sim.c): the host side of comb/swo_regs.h's access layer,
 * plus a test API to preset, observe and disturb it. Single-threaded.
 *
 * What it models, as the hardware does it:
 *   - ITM, DWT and TPIU ignore writes and read 0 until DEMCR.TRCENA is set;
 *   - ITM_TCR, ITM_TER and ITM_TPR ignore writes until ITM_LAR is unlocked,
 *     and the DWT's registers until DWT_LAR is (as on Cortex-M7, the
 *     strictest core: Cortex-M3/M4 have no DWT lock);
 *   - ITM_TCR.BUSY reads 1 while the test says so;
 *   - DWT_CYCCNT advances by a step at every read while DWT_CTRL.CYCCNTENA;
 *   - a stimulus port reads 1 (FIFOREADY), or 0 while the test makes the
 *     FIFO busy; a store to a port enabled in ITM_TER with ITM_TCR.ITMENA
 *     becomes a packet, or an overflow when the FIFO is full;
 *   - one exclusive monitor: LDREX opens it, CLREX, STREX and an exception
 *     (comb_swo_sim_exception) close it; a STREX with it closed stores nothing.
 * Every write the code makes is logged in order, applied or not.
 */
#ifndef COMB_SWO_SIM_H
#define COMB_SWO_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "comb/swo_regs.h"

#define COMB_SWO_SIM_FOREVER 0xFFFFFFFFu

typedef struct {
    uint32_t addr, value;
} comb_swo_sim_write;

typedef struct {
    unsigned port, size;
    uint32_t value;
} comb_swo_sim_packet;

/* Power-on state: every register 0, ITM and DWT locked, CYCCNT step 10, FIFO ready,
 * monitor closed, logs and counters empty. */
void comb_swo_sim_reset(void);

/* Set a register as the hardware or a debugger would (not logged, no gating). */
void comb_swo_sim_set(uint32_t addr, uint32_t value);
/* A register's current value (no side effect). */
uint32_t comb_swo_sim_get(uint32_t addr);

/* The register writes made through comb_swo_reg_write so far, in order. */
const comb_swo_sim_write *comb_swo_sim_writes(size_t *n);
/* Every access the code made (register reads and writes, stimulus
 * operations); 0 means it did no work at all. */
uint64_t comb_swo_sim_accesses(void);
void comb_swo_sim_log_clear(void);

/* ITM_TCR.BUSY reads 1 for the next `reads` reads of ITM_TCR (FOREVER: always). */
void comb_swo_sim_tcr_busy(uint32_t reads);
/* DWT_CYCCNT increment per read (when CYCCNTENA). */
void comb_swo_sim_cyccnt_step(uint32_t step);

/* The FIFO reads full for the next `polls` exclusive reads (FOREVER: always). */
void comb_swo_sim_stim_busy(uint32_t polls);
uint64_t comb_swo_sim_stim_polls(void);
/* Packets that entered the FIFO, in order. */
const comb_swo_sim_packet *comb_swo_sim_packets(size_t *n);
/* Stores into a full FIFO (the ITM sends an overflow packet for them). */
uint32_t comb_swo_sim_overflows(void);
/* STREXes that found the monitor closed. */
uint32_t comb_swo_sim_strex_failures(void);
/* Exception entry or return: closes the monitor. */
void comb_swo_sim_exception(void);

#endif /* COMB_SWO_SIM_H */
