/*
 * Simulated trace registers (comb/swo_sim.h): the host build's side of the
 * comb/swo_regs.h access layer.
 */
#include <stdbool.h>

#include "comb/swo_sim.h"

#define MAX_REGS    64u
#define MAX_WRITES  256u
#define MAX_PACKETS 4096u

static struct {
    uint32_t addr[MAX_REGS], value[MAX_REGS];
    unsigned nregs;
    comb_swo_sim_write writes[MAX_WRITES];
    size_t nwrites;
    uint64_t accesses;
    bool unlocked;     /* ITM_LAR */
    bool dwt_unlocked; /* DWT_LAR */
    uint32_t tcr_busy;
    uint32_t cyccnt_step;
    uint32_t stim_busy;
    uint64_t stim_polls;
    bool monitor;
    comb_swo_sim_packet packets[MAX_PACKETS];
    size_t npackets;
    uint32_t overflows;
    uint32_t strex_failures;
} sim;

static uint32_t *reg(uint32_t addr)
{
    for (unsigned i = 0; i < sim.nregs; i++)
        if (sim.addr[i] == addr)
            return &sim.value[i];
    if (sim.nregs == MAX_REGS)
        return NULL;
    sim.addr[sim.nregs] = addr;
    sim.value[sim.nregs] = 0u;
    return &sim.value[sim.nregs++];
}

static uint32_t get(uint32_t addr)
{
    uint32_t *r = reg(addr);
    return r ? *r : 0u;
}

static void set(uint32_t addr, uint32_t v)
{
    uint32_t *r = reg(addr);
    if (r)
        *r = v;
}

/* ITM (0xE0000000), DWT (0xE0001000), TPIU (0xE0040000) need TRCENA. */
static bool gated(uint32_t addr)
{
    bool trace = (addr >> 12) == 0xE0000u || (addr >> 12) == 0xE0001u || (addr >> 12) == 0xE0040u;
    return trace && (get(COMB_REG_DEMCR) & COMB_DEMCR_TRCENA) == 0u;
}

static bool itm_on(void)
{
    return !gated(COMB_REG_ITM_TCR) && (get(COMB_REG_ITM_TCR) & COMB_ITM_TCR_ITMENA) != 0u;
}

void comb_swo_sim_reset(void)
{
    sim.nregs = 0;
    sim.nwrites = 0;
    sim.accesses = 0;
    sim.unlocked = false;
    sim.dwt_unlocked = false;
    sim.tcr_busy = 0;
    sim.cyccnt_step = 10u;
    sim.stim_busy = 0;
    sim.stim_polls = 0;
    sim.monitor = false;
    sim.npackets = 0;
    sim.overflows = 0;
    sim.strex_failures = 0;
}

uint32_t comb_swo_reg_read(uint32_t addr)
{
    sim.accesses++;
    if (gated(addr))
        return 0u;
    uint32_t v = get(addr);
    if (addr == COMB_REG_ITM_TCR && sim.tcr_busy != 0u) {
        v |= COMB_ITM_TCR_BUSY;
        if (sim.tcr_busy != COMB_SWO_SIM_FOREVER)
            sim.tcr_busy--;
    }
    if (addr == COMB_REG_DWT_CYCCNT && (get(COMB_REG_DWT_CTRL) & COMB_DWT_CTRL_CYCCNTENA))
        set(addr, v + sim.cyccnt_step);
    return v;
}

void comb_swo_reg_write(uint32_t addr, uint32_t value)
{
    sim.accesses++;
    if (sim.nwrites < MAX_WRITES)
        sim.writes[sim.nwrites++] = (comb_swo_sim_write){addr, value};
    if (gated(addr))
        return;
    if (addr == COMB_REG_ITM_LAR) {
        sim.unlocked = value == COMB_ITM_LAR_UNLOCK;
        return;
    }
    if (addr == COMB_REG_DWT_LAR) {
        sim.dwt_unlocked = value == COMB_ITM_LAR_UNLOCK;
        return;
    }
    bool itm_locked = addr == COMB_REG_ITM_TCR || addr == COMB_REG_ITM_TER || addr == COMB_REG_ITM_TPR;
    if (itm_locked && !sim.unlocked)
        return;
    if ((addr >> 12) == 0xE0001u && !sim.dwt_unlocked)
        return; /* the Cortex-M7 DWT: every register */
    if (addr == COMB_REG_ITM_TCR)
        value &= ~COMB_ITM_TCR_BUSY; /* read only */
    if (addr == COMB_REG_DWT_CTRL)
        value = (value & ~COMB_DWT_CTRL_NOCYCCNT) | (get(addr) & COMB_DWT_CTRL_NOCYCCNT);
    set(addr, value);
}

/* The FIFO as a poll sees it; a busy poll uses up one of the busy polls. */
static bool fifo_ready(bool consume)
{
    if (sim.stim_busy == 0u)
        return true;
    if (consume && sim.stim_busy != COMB_SWO_SIM_FOREVER)
        sim.stim_busy--;
    return false;
}

static void enter_fifo(unsigned port, unsigned size, uint32_t value)
{
    if (!itm_on() || ((get(COMB_REG_ITM_TER) >> port) & 1u) == 0u)
        return; /* writes to a disabled port are ignored */
    if (size < 4u)
        value &= (1u << (8u * size)) - 1u;
    if (sim.npackets < MAX_PACKETS)
        sim.packets[sim.npackets++] = (comb_swo_sim_packet){port, size, value};
}

uint32_t comb_swo_stim_ldrex(unsigned port, unsigned size)
{
    (void)port;
    (void)size;
    sim.accesses++;
    sim.stim_polls++;
    sim.monitor = true;
    if (!itm_on())
        return 0u;
    return fifo_ready(true) ? 1u : 0u;
}

void comb_swo_stim_clrex(void)
{
    sim.monitor = false;
}

bool comb_swo_stim_strex(unsigned port, unsigned size, uint32_t value)
{
    sim.accesses++;
    if (!sim.monitor) {
        sim.strex_failures++;
        return false;
    }
    sim.monitor = false;
    enter_fifo(port, size, value);
    return true;
}

void comb_swo_stim_store(unsigned port, unsigned size, uint32_t value)
{
    sim.accesses++;
    if (!fifo_ready(false)) {
        if (itm_on())
            sim.overflows++;
        return;
    }
    enter_fifo(port, size, value);
}

void comb_swo_sim_set(uint32_t addr, uint32_t value)
{
    set(addr, value);
}

uint32_t comb_swo_sim_get(uint32_t addr)
{
    return get(addr);
}

const comb_swo_sim_write *comb_swo_sim_writes(size_t *n)
{
    *n = sim.nwrites;
    return sim.writes;
}

uint64_t comb_swo_sim_accesses(void)
{
    return sim.accesses;
}

void comb_swo_sim_log_clear(void)
{
    sim.nwrites = 0;
    sim.accesses = 0;
}

void comb_swo_sim_tcr_busy(uint32_t reads)
{
    sim.tcr_busy = reads;
}

void comb_swo_sim_cyccnt_step(uint32_t step)
{
    sim.cyccnt_step = step;
}

void comb_swo_sim_stim_busy(uint32_t polls)
{
    sim.stim_busy = polls;
}

uint64_t comb_swo_sim_stim_polls(void)
{
    return sim.stim_polls;
}

const comb_swo_sim_packet *comb_swo_sim_packets(size_t *n)
{
    *n = sim.npackets;
    return sim.packets;
}

uint32_t comb_swo_sim_overflows(void)
{
    return sim.overflows;
}

uint32_t comb_swo_sim_strex_failures(void)
{
    return sim.strex_failures;
}

void comb_swo_sim_exception(void)
{
    sim.monitor = false;
}
