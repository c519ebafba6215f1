/*
 * Timestamps far out of line (docs/scheduler-analysis.md, "Timestamp
 * outliers"): one corrupted stamp (a flipped bit) would otherwise become the
 * session's first or last event and stretch its span from milliseconds to
 * seconds, so that every CPU share reads 0.
 *
 * Fed in stream order (offset order), where stamps rise but for small
 * reorderings (an interrupt between an event's stamp and its emission), an
 * event is an outlier when it lies above everything around it, or below
 * everything around it, by more than that neighbourhood's own time scale:
 * "around" is the last COMB_SCHED_OUTLIER_WINDOW events kept before it and
 * the next 2 events after it; the scale is max(floor, highest - lowest of
 * those). A step (a long idle gap) is not an outlier: the events after it
 * agree with it. An event with nothing kept before it or nothing after it
 * (the first and the last of the stream) is never one.
 *
 * Memory: two deques of the window (a few tens of KiB) and the offsets of
 * the outliers. Not thread-safe: one detector per caller.
 */
#ifndef COMB_SCHED_OUTLIERS_H
#define COMB_SCHED_OUTLIERS_H

#include <stddef.h>
#include <stdint.h>

#define COMB_SCHED_OUTLIER_WINDOW 1024u

typedef struct comb_sched_outliers comb_sched_outliers;

/* floor_ticks: the smallest distance that counts as out of line (the report
 * uses 1 ms of the session's timestamp clock). NULL when out of memory. */
comb_sched_outliers *comb_sched_outliers_new(uint64_t floor_ticks);

/* The next event in stream order: its ts and its stream offset. 0, or -1 when
 * out of memory (then only comb_sched_outliers_free). */
int comb_sched_outliers_feed(comb_sched_outliers *o, uint64_t ts, uint64_t offset);

/* Decides the last events and hands over the outliers' offsets, ascending
 * (*offsets: malloc'd, the caller frees; NULL when none). 0, or -1 when out
 * of memory. Either way the detector is freed. */
int comb_sched_outliers_finish(comb_sched_outliers *o, uint64_t **offsets, size_t *n);

void comb_sched_outliers_free(comb_sched_outliers *o);

#endif
