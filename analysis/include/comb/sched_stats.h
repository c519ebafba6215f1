/*
 * Exact order statistics of tick durations for `comb fibers report`
 * (docs/scheduler-analysis.md): every sample is kept, in a compact array, so
 * the percentiles are exact rather than estimated.
 *
 * Memory: 4 bytes per sample while every sample of the array fits in 32 bits
 * (171 s at 25 MHz); the array switches to 8 bytes per sample at the first one
 * that does not. Capacity doubles, so an array holds up to twice its samples.
 * comb_sched_samples_stats() sorts in place (radix sort, O(n)) with a
 * temporary buffer of the array's size.
 *
 * Percentiles are nearest-rank: the P-th percentile of n sorted samples is
 * the sample of rank ceil(P * n / 100) (1-based), so it is always one of the
 * recorded values, p100 is the maximum and p0 is not defined.
 *
 * Not thread-safe; one owner per array.
 */
#ifndef COMB_SCHED_STATS_H
#define COMB_SCHED_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct comb_sched_samples {
    uint32_t *v32;  /* the samples while none exceeds UINT32_MAX */
    uint64_t *v64;  /* after the first one that does (v32 is then freed) */
    size_t n, cap;
} comb_sched_samples;

/* count = 0: no samples, every other field 0 (rendered as null). Ticks. */
typedef struct comb_sched_stats {
    uint64_t count;
    uint64_t min, p50, p90, p99, max;
} comb_sched_stats;

/* Appends a sample. 0, or -1 when out of memory (the array is unchanged). */
int comb_sched_samples_add(comb_sched_samples *s, uint64_t ticks);

/* Sorts the samples and fills *out. 0, or -1 when the sort buffer cannot be
 * allocated (*out is then zeroed). The samples stay, sorted. */
int comb_sched_samples_stats(comb_sched_samples *s, comb_sched_stats *out);

/* The nearest-rank P-th percentile (1 <= P <= 100) of n ascending values. */
uint64_t comb_sched_rank(const comb_sched_samples *sorted, unsigned pct);

/* Bytes the array holds (capacity), for the memory figures. */
size_t comb_sched_samples_bytes(const comb_sched_samples *s);

void comb_sched_samples_free(comb_sched_samples *s);

#endif
