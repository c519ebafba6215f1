/*
 * Deterministic ITM stream generators for the benchmarks (bench/README in
 * docs/benchmarks.md). Everything is generated in memory from a fixed-seed
 * PRNG, so two runs with the same options decode exactly the same bytes.
 *
 * The writer frames packets the way the firmware's UART transport does
 * (trace-protocol/SPEC.md 1): packets are whole, a sync packet starts the
 * stream and is inserted between two packets whenever the byte count crosses
 * a multiple of the sync interval. It also counts what it wrote per ITM packet
 * kind, so a benchmark can check that the decoder saw exactly that.
 */
#ifndef COMB_BENCH_GEN_H
#define COMB_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "comb/itm_decoder.h"
#include "comb/trace_protocol.h"

/* ---- PRNG: splitmix64 ---------------------------------------------------- */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static inline uint64_t bench_rand(bench_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline uint32_t bench_below(bench_rng *r, uint32_t n)
{
    return (uint32_t)(((bench_rand(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- stream writer --------------------------------------------------------- */
typedef struct bench_stream {
    uint8_t *data;
    size_t len, cap;
    size_t sync_interval;                  /* 0: no automatic syncs */
    size_t next_sync;                      /* byte count at which the next sync goes in */
    uint64_t packets[COMB_ITM_KIND_COUNT]; /* packets written, per decoder kind */
    uint64_t bytes[COMB_ITM_KIND_COUNT];   /* bytes written, per decoder kind */
    uint64_t swit_size[5];                 /* SWIT packets by payload size 1, 2, 4 */
} bench_stream;

/* Reserves `cap` bytes up front (the stream grows beyond it if needed). */
void bench_stream_init(bench_stream *w, size_t cap, size_t sync_interval);
void bench_stream_free(bench_stream *w);

void bench_sync(bench_stream *w);
void bench_overflow(bench_stream *w);
void bench_swit(bench_stream *w, unsigned port, unsigned size, uint32_t value);
/* Local timestamp: LTS2 (one byte) for deltas 1-6, else LTS1 with TC = 0. */
void bench_lts(bench_stream *w, uint32_t delta);
/* Text on a log port: 4-byte words, then a 2-byte and/or 1-byte tail. */
void bench_text(bench_stream *w, unsigned port, const char *s, size_t len);

/* ---- realistic firmware traffic -------------------------------------------- */
typedef struct bench_traffic {
    bench_rng rng;
    uint32_t ts;            /* target timestamp counter (25 MHz, as on QEMU) */
    uint32_t live[4096];    /* addresses of blocks currently allocated */
    unsigned nlive;
    unsigned nest_permille; /* chance that an event is preempted by another (default 20) */
    uint64_t events;        /* complete events written */
    uint64_t nested;        /* of which completed inside another event */
    uint64_t partial;       /* events cut short by a simulated drop (overflow) */
    uint64_t log_lines;
    uint64_t by_type[32];
} bench_traffic;

void bench_traffic_init(bench_traffic *t, uint64_t seed);

/* One heap (port 31, ~55%) or scheduler (port 30, ~45%) event, sometimes with
 * another event nested in it (an interrupt preempting the writer). */
void bench_event(bench_stream *w, bench_traffic *t);
/* A specific event with explicit fields. */
void bench_event_raw(bench_stream *w, unsigned port, unsigned type, unsigned n, const uint8_t *sizes,
                     const uint32_t *values);
/* session_start (protocol 1, 25 MHz timestamps) and session_end. */
void bench_session_start(bench_stream *w, bench_traffic *t);
void bench_session_end(bench_stream *w, bench_traffic *t);
/* One printf-style line on port 0 (stdout) or, 1 time in 8, port 1 (stderr). */
void bench_log_line(bench_stream *w, bench_traffic *t);
/* The target drops data: half an event, the overflow packet, then a
 * `dropped` event reporting the loss. */
void bench_drop(bench_stream *w, bench_traffic *t);

/* The mixed stream of bench_decode: until `bytes` are written. */
void bench_gen_mixed(bench_stream *w, bench_traffic *t, size_t bytes);

/* Worst case: valid packets of every ITM kind (sync, overflow, SWIT, HWIT,
 * LTS1/LTS2, GTS1, GTS2, extension) drawn uniformly at random, random sizes,
 * ports and payloads; no periodic syncs beyond the random ones. */
void bench_gen_random_mix(bench_stream *w, uint64_t seed, size_t bytes);

/* ---- helpers --------------------------------------------------------------- */
double bench_now(void); /* CLOCK_MONOTONIC, seconds */
/* Parses a non-negative number (decimal, or 0x hex); false on junk. */
bool bench_parse_u64(const char *s, uint64_t *out);

#endif
