/*
 * What the SWO setup (swo_setup.c) computes and the SWO write path
 * (itm_swo.c) reads. Written only by comb_swo_init / comb_swo_set_clock /
 * comb_transport_reset, from thread mode.
 */
#ifndef COMB_SWO_STATE_H
#define COMB_SWO_STATE_H

#include <stdint.h>

struct comb_swo_limits {
    uint32_t wait_cycles;  /* one packet's wait for the FIFO, core cycles (0: not set up) */
    uint32_t drain_cycles; /* flush: the TPIU's own buffer after ITM_TCR.BUSY clears */
};

extern struct comb_swo_limits comb_swo_limits;

/* Setup state back to power-on (for comb_transport_reset). */
void comb_swo_setup_reset(void);

#endif /* COMB_SWO_STATE_H */
