/*
 * bench_layout: pool layouts, comb's optimal DP against Drone's rule.
 *
 *   bench_layout [--events N] [--big N] [--db FILE [--session N] [--name NAME]]... [--seed N]
 *
 * For every trace and N = 4 and 8 pools, the smallest heap that passes the
 * trace:
 *   - comb: exact DP over contiguous size classes, capacities = time-aware
 *     peaks (docs/heap-analysis.md);
 *   - Drone's rule: Drone v0.14's grouping search (with its quirks) and
 *     capacity = sum of the per-size peaks of each group (drone-compat.md 4.2),
 *     i.e. Drone's layout before it shares out spare memory.
 * Both layouts are replayed through the allocator's policy; "passes" says
 * whether the replay had no failure. Traces: synthetic ones generated in
 * memory with a fixed seed (N events each, default 1,000,000), and recorded
 * sessions given with --db (e.g. heapdemo's, captured by scripts/bench.sh).
 * Then the time to generate (normalised trace -> optimal layout with
 * capacities, N = 8) for a synthetic trace of --big events (default
 * 10,000,000; target: under 2 s), and the time to normalise its raw events.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comb/drone_layout.h"
#include "comb/heap_replay.h"
#include "comb/heap_session.h"
#include "comb/pool_layout.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64 */
static uint64_t rng_s;
static uint64_t rnd64(void)
{
    uint64_t z = (rng_s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t below(uint32_t n)
{
    return (uint32_t)(((rnd64() >> 32) * (uint64_t)n) >> 32);
}

/* ---- synthetic workloads ------------------------------------------------------- */

typedef struct fifo {
    uint32_t v[64];
    unsigned head, n;
} fifo;

static void fifo_put(fifo *f, uint32_t b)
{
    f->v[(f->head + f->n++) % 64] = b;
}

static uint32_t fifo_get(fifo *f)
{
    uint32_t b = f->v[f->head];
    f->head = (f->head + 1) % 64;
    f->n--;
    return b;
}

/* heapdemo-like firmware: bursts of 24-72-byte messages through a mailbox
 * drained by an interrupt, 12-byte sensor records, a vector grown by realloc
 * up to 480 bytes, short-lived strings, interrupt scratch buffers. */
static void gen_firmware(comb_heap_trace *t, size_t events)
{
    fifo mail = {0}, sensor = {0};
    uint32_t vec = COMB_HEAP_NO_BLOCK, vec_size = 0, b;
    while (t->n < events) {
        unsigned burst = 1 + below(5);
        for (unsigned i = 0; i < burst && mail.n < 16; i++) {
            comb_heap_trace_alloc(t, 24 + below(49), 0, 0, &b);
            fifo_put(&mail, b);
        }
        if (sensor.n < 8 && below(3) == 0) {
            comb_heap_trace_alloc(t, 12, 0, 0, &b);
            fifo_put(&sensor, b);
        }
        while (sensor.n && below(2) == 0)
            comb_heap_trace_free_block(t, fifo_get(&sensor), 0, 0);
        vec_size = vec_size >= 480 ? 4 : vec_size + 4;
        if (vec == COMB_HEAP_NO_BLOCK || vec_size == 4) {
            if (vec != COMB_HEAP_NO_BLOCK)
                comb_heap_trace_free_block(t, vec, 0, 0);
            comb_heap_trace_alloc(t, vec_size, 0, 0, &vec);
        } else if (vec_size % 32 == 0) {
            comb_heap_trace_realloc(t, vec, vec_size, 0, 0, &vec);
        } else {
            comb_heap_trace_resize(t, vec, vec_size, 0, 0);
        }
        comb_heap_trace_alloc(t, 8 + below(57), 0, 0, &b);
        comb_heap_trace_free_block(t, b, 0, 0);
        unsigned drain = below(4);
        for (unsigned i = 0; i < drain && mail.n; i++)
            comb_heap_trace_free_block(t, fifo_get(&mail), 0, 0);
        if (below(10) == 0) {
            comb_heap_trace_alloc(t, 40, 0, 0, &b);
            comb_heap_trace_free_block(t, b, 0, 0);
        }
    }
}

/* Phases: small objects pile up, then medium ones, then a few large ones;
 * each phase frees its objects at its end. Time-aware capacities see that the
 * classes never peak together. */
static void gen_phases(comb_heap_trace *t, size_t events)
{
    static const uint32_t lo[3] = {16, 64, 256}, hi[3] = {32, 128, 512}, cap[3] = {40, 20, 6};
    uint32_t live[64];
    for (unsigned ph = 0; t->n < events; ph = (ph + 1) % 3) {
        unsigned n = 0, steps = 200 + below(200);
        for (unsigned s = 0; s < steps; s++) {
            if (n < cap[ph] && (n == 0 || below(3) != 0)) {
                comb_heap_trace_alloc(t, lo[ph] + below(hi[ph] - lo[ph] + 1), 0, 0, &live[n++]);
            } else if (n) {
                unsigned k = below(n);
                comb_heap_trace_free_block(t, live[k], 0, 0);
                live[k] = live[--n];
            }
        }
        while (n)
            comb_heap_trace_free_block(t, live[--n], 0, 0);
    }
}

/* Random: log-uniform sizes 4-512, random lifetimes, at most 64 live. */
static void gen_random(comb_heap_trace *t, size_t events)
{
    uint32_t live[64];
    unsigned n = 0;
    while (t->n < events) {
        if (n < 64 && (n < 8 || below(2) == 0)) {
            uint32_t size = (uint32_t)(4.0 * pow(128.0, (double)below(1u << 20) / (1u << 20)));
            comb_heap_trace_alloc(t, size, 0, 0, &live[n++]);
        } else {
            unsigned k = below(n);
            comb_heap_trace_free_block(t, live[k], 0, 0);
            live[k] = live[--n];
        }
    }
}

/* ---- comparison ----------------------------------------------------------------- */

static bool passes(const comb_heap_trace *t, const comb_heap_layout *l, const comb_replay_policy *pol)
{
    comb_replay_pool *st = calloc(l->npools ? l->npools : 1, sizeof *st);
    comb_replay_result r;
    bool ok = st && comb_heap_replay(t, l->pools, l->npools, pol, true, st, &r) == 0 && !r.failed;
    free(st);
    return ok;
}

static void compare(const char *name, const comb_heap_trace *t, const comb_replay_policy *pol)
{
    comb_drone_stats st;
    if (comb_drone_stats_of(t, &st)) {
        fprintf(stderr, "bench_layout: out of memory\n");
        exit(1);
    }
    for (unsigned n = 4; n <= 8; n += 4) {
        comb_layout_options o = {.max_pools = n, .policy = *pol};
        comb_heap_layout ours, drone;
        comb_layout_info info;
        char err[200];
        double t0 = now();
        if (comb_pool_layout_optimal(t, &o, &ours, &info, err, sizeof err)) {
            fprintf(stderr, "bench_layout: %s: %s\n", name, err);
            exit(1);
        }
        double t1 = now();
        uint32_t frag;
        /* Drone's own search, given up after 2 x 10^7 nodes (it is exponential) */
        int src = comb_drone_layout_shrink(&st, n, UINT32_MAX, 20000000, &drone, &frag);
        double t2 = now();
        comb_heap_layout best;
        if (src < 0 || comb_drone_rule_optimal(&st, n, &best)) {
            fprintf(stderr, "bench_layout: out of memory\n");
            exit(1);
        }
        /* Drone's best grouping with time-aware capacities: what the capacity rule alone costs */
        comb_heap_layout mixed;
        if (comb_layout_copy(&mixed, &best) ||
            comb_pool_layout_capacities(t, mixed.pools, mixed.npools, 0, pol)) {
            fprintf(stderr, "bench_layout: out of memory\n");
            exit(1);
        }
        uint64_t ob = comb_layout_bytes(&ours), bb = comb_layout_bytes(&best), mb = comb_layout_bytes(&mixed);
        comb_layout_free(&mixed);
        char searched[32];
        if (src == 0)
            snprintf(searched, sizeof searched, "%llu", (unsigned long long)comb_layout_bytes(&drone));
        else
            snprintf(searched, sizeof searched, "gave up");
        printf("%-14s %9zu %6u %2u %10llu %10s %10llu %10llu %7.1f%%   %-4s %-4s %8.3f %8.3f\n", name, t->n,
               info.nsizes, n, (unsigned long long)ob, searched, (unsigned long long)bb, (unsigned long long)mb,
               bb ? 100.0 * (double)ob / (double)bb : 0.0,
               passes(t, &ours, pol) ? "yes" : "NO", passes(t, &best, pol) ? "yes" : "NO", t1 - t0, t2 - t1);
        comb_layout_free(&best);
        comb_layout_free(&ours);
        comb_layout_free(&drone);
    }
    comb_drone_stats_free(&st);
}

int main(int argc, char **argv)
{
    size_t events = 1000000, big = 10000000;
    uint64_t seed = 1;
    const char *dbs[8], *names[8], *sessions[8];
    unsigned ndb = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            events = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--big") && i + 1 < argc)
            big = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--db") && i + 1 < argc && ndb < 8) {
            dbs[ndb] = argv[++i];
            names[ndb] = "recorded";
            sessions[ndb++] = NULL;
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc && ndb)
            names[ndb - 1] = argv[++i];
        else if (!strcmp(argv[i], "--session") && i + 1 < argc && ndb)
            sessions[ndb - 1] = argv[++i];
        else {
            fprintf(stderr, "usage: bench_layout [--events N] [--big N] [--seed N] "
                            "[--db FILE [--session N] [--name NAME]]...\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("smallest heap that passes the trace: comb (optimal DP, time-aware capacities) vs Drone's rule\n"
           "(Drone v0.14 grouping, capacity = sum of per-size peaks); both replayed through the allocator\n");
    printf("comb: optimal layout (bytes). Drone search: Drone v0.14's own search with its quirks (gives up\n"
           "after 2 x 10^7 nodes). Drone best: Drone's capacity rule with the best possible grouping (a lower\n"
           "bound for Drone's search). best+ta: that grouping with time-aware capacities (the capacity\n"
           "rule's share of the difference). comb/bst: comb as a share of Drone best. passes: replay has\n"
           "no failure. Times: comb's generate and Drone's search.\n\n");
    printf("%-14s %9s %6s %2s %10s %10s %10s %10s %8s   %-4s %-4s %8s %8s\n", "trace", "events", "sizes", "N", "comb",
           "Drone srch", "Drone best", "best+ta", "comb/bst", "comb", "best", "comb s", "srch s");
    printf("%-14s %9s %6s %2s %10s %10s %10s %10s %8s   %-9s %8s %8s\n", "", "", "", "", "", "", "", "", "",
           "passes", "", "");
    struct {
        const char *name;
        void (*gen)(comb_heap_trace *, size_t);
    } gens[] = {{"firmware", gen_firmware}, {"phases", gen_phases}, {"random", gen_random}};
    comb_replay_policy comb_policy = {.realloc_in_place = true};
    for (unsigned g = 0; g < 3; g++) {
        comb_heap_trace t;
        comb_heap_trace_init(&t);
        rng_s = seed + g;
        gens[g].gen(&t, events);
        compare(gens[g].name, &t, &comb_policy);
        comb_heap_trace_free(&t);
    }
    for (unsigned d = 0; d < ndb; d++) {
        comb_heap_session s;
        char err[600];
        int64_t id = 0;
        if (sessions[d] && comb_heap_session_parse_id(sessions[d], &id)) {
            fprintf(stderr, "bench_layout: bad --session %s\n", sessions[d]);
            return 2;
        }
        if (comb_heap_session_load(dbs[d], id, &s, err, sizeof err)) {
            fprintf(stderr, "bench_layout: %s\n", err);
            return 1;
        }
        comb_heap_trace t;
        comb_heap_trace_init(&t);
        if (comb_heap_trace_from_raw(s.raw, s.n, &t)) {
            fprintf(stderr, "bench_layout: out of memory\n");
            return 1;
        }
        comb_replay_policy pol = {.realloc_in_place = strstr(s.settings, "drone-heaptrace") == NULL};
        compare(names[d], &t, &pol);
        comb_heap_trace_free(&t);
        comb_heap_session_free(&s);
    }

    /* generate time on a big trace */
    if (big) {
        comb_heap_trace t;
        comb_heap_trace_init(&t);
        rng_s = seed + 100;
        double t0 = now();
        gen_firmware(&t, big);
        double t1 = now();
        /* the same trace as raw rows (as loaded from a database), to time the normalisation */
        comb_heap_raw *raw = malloc(t.n * sizeof *raw);
        if (!raw) {
            fprintf(stderr, "bench_layout: out of memory\n");
            return 1;
        }
        uint32_t *addr = malloc((t.nblocks ? t.nblocks : 1) * sizeof *addr);
        for (uint32_t b = 0; b < t.nblocks; b++)
            addr[b] = 0x20000000u + 16u * (b % 4096u) + 65536u * (b / 4096u % 2048u);
        for (size_t k = 0; k < t.n; k++) {
            const comb_heap_op *o = &t.ops[k];
            comb_heap_raw r = {.seq = (int64_t)k, .offset = 15 * (uint64_t)k, .kind = o->kind, .ts = k,
                               .has = COMB_HR_TS};
            switch (o->kind) {
            case COMB_HEAP_ALLOC:
            case COMB_HEAP_RESIZE:
                r.ptr = addr[o->block];
                r.size = o->size;
                r.has |= COMB_HR_PTR | COMB_HR_SIZE;
                break;
            case COMB_HEAP_FREE:
                r.ptr = addr[o->block];
                r.has |= COMB_HR_PTR;
                break;
            case COMB_HEAP_REALLOC:
                r.ptr = addr[o->block];
                r.old_ptr = addr[o->old];
                r.size = o->size;
                r.has |= COMB_HR_PTR | COMB_HR_OLD_PTR | COMB_HR_SIZE;
                break;
            default:
                r.size = o->size;
                r.has |= COMB_HR_SIZE;
                break;
            }
            raw[k] = r;
        }
        free(addr);
        comb_heap_trace t2;
        comb_heap_trace_init(&t2);
        double t2s = now();
        if (comb_heap_trace_from_raw(raw, t.n, &t2)) {
            fprintf(stderr, "bench_layout: out of memory\n");
            return 1;
        }
        double t2e = now();
        comb_layout_options o = {.max_pools = 8, .policy = comb_policy};
        comb_heap_layout l;
        comb_layout_info info;
        char err[200];
        double t3 = now();
        if (comb_pool_layout_optimal(&t2, &o, &l, &info, err, sizeof err)) {
            fprintf(stderr, "bench_layout: %s\n", err);
            return 1;
        }
        double t4 = now();
        printf("\ngenerate, %zu-event trace (%u sizes, %llu peak states, %llu distinct), 8 pools:\n", t2.n,
               info.nsizes, (unsigned long long)info.states, (unsigned long long)info.distinct_states);
        printf("  optimal layout with capacities: %.3f s  (target < 2 s)  -> %llu bytes in %u pools\n", t4 - t3,
               (unsigned long long)info.bytes, l.npools);
        printf("  normalising the raw events:     %.3f s  (generating the trace took %.3f s)\n", t2e - t2s, t1 - t0);
        comb_layout_free(&l);
        comb_heap_trace_free(&t2);
        comb_heap_trace_free(&t);
        free(raw);
    }
    return 0;
}
