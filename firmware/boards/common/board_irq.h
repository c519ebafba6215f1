/*
 * NVIC helpers for the boards' interrupt sources (comb/board.h features
 * "timer" and "swi"). Internal to firmware/boards: compiled into every board
 * that lists board_irq.c in its SOURCES.
 */
#ifndef COMB_BOARD_IRQ_H
#define COMB_BOARD_IRQ_H

#include <stdint.h>

/* Set the priority of external interrupt `irq` (0-31) with a word
 * read-modify-write of its NVIC_IPR register (ARMv6-M allows no byte access
 * there), clear a stale pending bit, enable it. Thread mode. */
void comb_board_irq_enable(unsigned irq, uint8_t priority);

/* Disable external interrupt `irq` (0-31) and clear its pending bit (stop
 * its source first: a peripheral still requesting pends it again). */
void comb_board_irq_disable(unsigned irq);

#endif
