/*
 * Saturating pulse stream: an interrupt (or any context) counts events into
 * it and wakes the consuming thread; a fiber of that thread takes the count
 * accumulated since its last take (Drone OS's saturating pulse stream).
 *
 *   static comb_pulse_t rx = COMB_PULSE_INIT(255, COMB_THR(consumer));
 *   void IRQ9_Handler(void) { clear_source(); comb_pulse_send(&rx, 1); }
 *   ... fiber of consumer:
 *       COMB_FIB_AWAIT_PULSE(f, &rx, c->n);    // c->n = pulses since last time
 *
 * The count stops at `limit` instead of wrapping: pulses beyond it are lost,
 * and counted in comb_pulse_lost(). IRQ SAFETY: send and take from any
 * context, nested (CAS loops, retried only when a handler changed the count
 * in between). No heap, no masking.
 */
#ifndef COMB_PULSE_H
#define COMB_PULSE_H

#include <stdint.h>

#include "comb/fiber.h"
#include "comb/thread.h"

typedef struct comb_pulse {
    volatile uint32_t count; /* pulses not taken yet, <= limit */
    volatile uint32_t lost;  /* pulses dropped at the limit (wraps at 2^32) */
    uint32_t limit;          /* >= 1 */
    comb_thr_t *thr;         /* woken by every send; NULL: nobody */
} comb_pulse_t;

#define COMB_PULSE_INIT(limit, thr) {0u, 0u, (limit), (thr)}

void comb_pulse_init(comb_pulse_t *p, uint32_t limit, comb_thr_t *thr);

/* Add n pulses (saturating at the limit), then wake the consumer thread. */
void comb_pulse_send(comb_pulse_t *p, uint32_t n);

/* The pulses accumulated since the last take (0: none), and reset to 0. */
uint32_t comb_pulse_take(comb_pulse_t *p);

static inline uint32_t comb_pulse_lost(const comb_pulse_t *p)
{
    return p->lost;
}

/* In a fiber: yield until pulses are there, then store their count in `out`. */
#define COMB_FIB_AWAIT_PULSE(f, pulse, out) COMB_FIB_WAIT_UNTIL(f, ((out) = comb_pulse_take(pulse)) != 0u)

#endif /* COMB_PULSE_H */
