/* Saturating pulse streams (comb/pulse.h). */
#include "comb/pulse.h"

#include "comb/port.h"

void comb_pulse_init(comb_pulse_t *p, uint32_t limit, comb_thr_t *thr)
{
    p->count = 0u;
    p->lost = 0u;
    p->limit = limit ? limit : 1u;
    p->thr = thr;
}

void comb_pulse_send(comb_pulse_t *p, uint32_t n)
{
    uint32_t old, sat;
    /* Repeats only when a handler that preempted us changed the count. */
    do {
        old = p->count;
        uint32_t room = p->limit - old;
        sat = n <= room ? old + n : p->limit;
        COMB_PREEMPT_POINT(COMB_PP_PULSE_SEND);
    } while (!comb_port_cas32(&p->count, old, sat));
    uint32_t dropped = n - (sat - old);
    if (dropped != 0u) {
        uint32_t l;
        do { /* same bound */
            l = p->lost;
        } while (!comb_port_cas32(&p->lost, l, l + dropped));
    }
    if (p->thr != NULL)
        comb_thr_wakeup(p->thr);
}

uint32_t comb_pulse_take(comb_pulse_t *p)
{
    uint32_t old;
    /* Repeats only when a sender preempted us. */
    do {
        old = p->count;
        if (old == 0u)
            return 0u;
        COMB_PREEMPT_POINT(COMB_PP_PULSE_TAKE);
    } while (!comb_port_cas32(&p->count, old, 0u));
    return old;
}
