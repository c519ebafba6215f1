/*
 * Software ITM over a UART (implements comb/transport.h).
 *
 * Every packet is framed exactly as the ITM would frame it (SWIT header
 * port << 3 | SS, then 1/2/4 payload bytes little-endian; sync
 * 00 00 00 00 00 80; overflow 0x70), so the host decoder cannot tell this
 * transport from ITM/SWO.
 *
 * Packets go through a lock-free multi-producer ring buffer built for ONE core
 * with nested interrupts (the only concurrency on a Cortex-M): any writer may
 * be preempted at any instruction by an interrupt that writes too, to any
 * depth. Interrupts are never masked. The full design and correctness argument
 * is in docs/firmware.md ("Transport"); the short version is next to the code.
 *
 * State (all free-running uint32 byte positions; the ring index is pos & MASK):
 *
 *     tail <= commit <= reserve,   reserve - tail <= RING_SIZE
 *
 *   [tail, commit)     published bytes, not yet on the wire
 *   [commit, reserve)  reserved by writers, maybe still being copied
 *
 *   reserve  advanced by CAS by every writer (the only multi-writer variable)
 *   commit   stored only by an "outermost" writer (see publish())
 *   tail     stored only by the holder of the drain flag
 *   nest     number of writers in progress on the interrupt stack
 */
#include <stddef.h>

#include "comb/itm_uart.h"
#include "comb/port.h"
#include "comb/trace_protocol.h"

#ifndef COMB_UART_RING_SIZE
#define COMB_UART_RING_SIZE 256u
#endif
#ifndef COMB_UART_TX_SPIN
#define COMB_UART_TX_SPIN 100000u
#endif

_Static_assert(COMB_UART_RING_SIZE >= 32u && (COMB_UART_RING_SIZE & (COMB_UART_RING_SIZE - 1u)) == 0u,
               "COMB_UART_RING_SIZE must be a power of two >= 32");

#define RING_MASK (COMB_UART_RING_SIZE - 1u)

/* Bounds of one drain() call: at most DRAIN_PASSES acquisitions of the drain
 * flag, each moving at most DRAIN_PASS_BYTES bytes, each byte waiting at most
 * COMB_UART_TX_SPIN polls of the UART. Worst case per call:
 * 4 x 512 bytes x 100000 polls (a dead UART stops the call at the first byte:
 * 100000 polls). Bytes left over when a bound hits stay queued for the next
 * writer or comb_transport_flush(). */
#define DRAIN_PASSES     4u
#define DRAIN_PASS_BYTES (2u * COMB_UART_RING_SIZE)

volatile uint32_t comb_transport_port_mask = 0xFFFFFFFFu;

static volatile uint8_t ring[COMB_UART_RING_SIZE];

static struct {
    volatile uint32_t reserve;  /* next free position; CAS by writers */
    volatile uint32_t commit;   /* end of published bytes */
    volatile uint32_t tail;     /* next byte for the wire; drain-flag holder only */
    volatile uint32_t nest;     /* writers in progress (interrupt nesting depth) */
    volatile uint32_t drain;    /* drain flag: 1 while some context moves bytes to the UART */
    volatile uint32_t dropped;  /* packets dropped so far (CAS increments) */
    volatile uint32_t reported; /* value of `dropped` covered by the last 0x70 sent */
} s;

/* 0 = no sync packets; else a power of two. Outside `s` so that the ring state
 * stays in .bss while this default lives in .data. */
static uint32_t sync_interval = COMB_TRANSPORT_SYNC_DEFAULT;

void comb_transport_init(uint32_t port_mask, uint32_t interval)
{
    if (interval != 0u) {
        if (interval < 32u)
            interval = 32u;
        while (interval & (interval - 1u)) /* round down to a power of two */
            interval &= interval - 1u;
    }
    sync_interval = interval;
    comb_transport_port_mask = port_mask;
}

void comb_transport_reset(void)
{
    s.reserve = s.commit = s.tail = 0u;
    s.nest = s.drain = s.dropped = s.reported = 0u;
    for (uint32_t i = 0; i < COMB_UART_RING_SIZE; i++)
        ring[i] = 0u;
    sync_interval = COMB_TRANSPORT_SYNC_DEFAULT;
    comb_transport_port_mask = 0xFFFFFFFFu;
}

void comb_transport_panic(void)
{
    comb_transport_port_mask |= 1u << COMB_PORT_STDERR;
    s.nest = 0u;
    s.drain = 0u;
    s.commit = s.reserve;
}

uint32_t comb_transport_dropped(void)
{
    return s.dropped;
}

/* A sync goes in front of the first packet of the stream and of every packet
 * whose bytes would start at, or run across, a multiple of the interval. It is
 * part of that packet's own reservation, so a sync always sits between whole
 * packets. */
static bool sync_due(uint32_t pos, uint32_t len)
{
    uint32_t k = sync_interval;
    if (k == 0u)
        return false;
    uint32_t off = pos & (k - 1u);
    return off == 0u || off + len > k;
}

static void count_drop(void)
{
    uint32_t d;
    do /* retried only when a preempting writer dropped a packet in between */
        d = s.dropped;
    while (!comb_port_cas32(&s.dropped, d, d + 1u));
}

/* Move published bytes to the UART; caller holds the drain flag. Returns false
 * when the UART stayed full for COMB_UART_TX_SPIN polls (bytes stay queued). */
static bool move_bytes(uint32_t budget)
{
    uint32_t t = s.tail;
    while (t != s.commit && budget-- != 0u) { /* commit re-read: preempting writers publish */
        uint8_t b = ring[t & RING_MASK];
        uint32_t spin = COMB_UART_TX_SPIN;
        while (!comb_port_uart_tx(b))
            if (--spin == 0u)
                return false;
        s.tail = ++t; /* only now may a writer reuse the slot */
        COMB_PREEMPT_POINT(COMB_PP_DRAIN_BYTE);
    }
    return true;
}

/*
 * Drain: whoever acquires the flag moves bytes; a context that finds the flag
 * held has preempted the holder (one core: the holder is below us on the
 * stack), so it returns at once and the holder, which re-reads `commit` for
 * every byte and re-checks after releasing the flag, sends our bytes too.
 */
static void drain(void)
{
    for (unsigned pass = 0; pass < DRAIN_PASSES && s.tail != s.commit; pass++) {
        if (!comb_port_cas32(&s.drain, 0u, 1u))
            return;
        COMB_PREEMPT_POINT(COMB_PP_DRAIN_LOCKED);
        bool ok = move_bytes(DRAIN_PASS_BYTES);
        COMB_PREEMPT_POINT(COMB_PP_DRAIN_DONE);
        s.drain = 0u;
        COMB_PREEMPT_POINT(COMB_PP_DRAIN_UNLOCKED);
        if (!ok)
            return;
        /* loop condition = re-check for bytes published while we held the flag */
    }
}

/*
 * End of a write. Only the outermost writer (nest 1 -> 0) publishes, and it
 * publishes everything reserved so far:
 *
 *   loop { c = reserve; commit = c; nest = 0; if (reserve == c) break; nest = 1; }
 *
 * Why this is right with an interrupt at any instruction:
 *  - nest: a handler that lands inside a read-modify-write of nest runs to
 *    completion and leaves nest as it found it, so nest always equals the
 *    number of writers in progress on the stack, and "nest == 1" means no
 *    writer below us.
 *  - Nothing unfinished is published: between reading c and storing commit we
 *    have nest == 1, so any handler there is an inner writer that does not
 *    store commit and, being a handler, finishes its copy before we resume.
 *    Every reservation below c was therefore completely copied. The same
 *    window also makes commit monotonic (the last store before ours read a
 *    reserve value <= c).
 *  - Nothing finished is left unpublished: a handler that reserves after we
 *    read c either runs while nest == 1 (inner, does not publish; then
 *    reserve != c and we loop) or while nest == 0 (it is outermost itself and
 *    publishes up to its own reservation). When the check passes, no handler
 *    reserved since our read, so commit == reserve == c at that moment.
 *  - The loop repeats only when a handler reserved inside its 3-statement
 *    window, so it is bounded by the number of preempting writers.
 */
static void publish(void)
{
    if (s.nest != 1u) {
        s.nest = s.nest - 1u; /* inner writer: the writer we preempted publishes us */
        return;
    }
    for (;;) {
        uint32_t c = s.reserve;
        COMB_PREEMPT_POINT(COMB_PP_COMMIT_READ);
        s.commit = c;
        COMB_PREEMPT_POINT(COMB_PP_COMMIT_STORED);
        s.nest = 0u;
        COMB_PREEMPT_POINT(COMB_PP_COMMIT_NEST0);
        if (s.reserve == c)
            break;
        s.nest = 1u;
    }
    drain();
}

/*
 * Reserve room for one packet (plus a sync and/or an overflow packet in front
 * of it), copy it, publish, drain. The reservation is a CAS on `reserve`: it
 * fails only when a preempting writer reserved in between, and then
 * everything (room, sync, overflow) is recomputed from the new position. Room
 * is computed against `tail` read now; tail only grows, so a stale value only
 * underestimates the room.
 *
 * Full ring: if we can take the drain flag we drain and retry once; otherwise
 * (the flag is held by a context we preempted, or draining did not make room
 * because the ring is full of reservations still being copied below us, or the
 * UART is stuck) the packet is dropped and counted, and the next reservation
 * puts 0x70 in front of its packet. `reported` is set to the drop count the
 * 0x70 covers only after the reservation holding that 0x70 succeeded, so a
 * drop that races with it is reported again by a later packet (at worst a
 * duplicate 0x70, never a missing one).
 */
static void emit(const uint8_t *pkt, uint32_t n)
{
    bool drained = false;
    s.nest = s.nest + 1u;
    for (;;) {
        uint32_t h = s.reserve;
        uint32_t d = s.dropped;
        uint32_t ovf = d != s.reported ? 1u : 0u;
        uint32_t sync = sync_due(h, n + ovf) ? COMB_ITM_SYNC_LEN : 0u;
        uint32_t total = sync + ovf + n;
        COMB_PREEMPT_POINT(COMB_PP_RESERVE_READ);
        if (h - s.tail > COMB_UART_RING_SIZE - total) {
            if (!drained && comb_port_cas32(&s.drain, 0u, 1u)) {
                drained = true;
                COMB_PREEMPT_POINT(COMB_PP_DRAIN_LOCKED);
                (void)move_bytes(COMB_UART_RING_SIZE);
                s.drain = 0u;
                COMB_PREEMPT_POINT(COMB_PP_DRAIN_UNLOCKED);
                continue;
            }
            count_drop();
            break;
        }
        if (!comb_port_cas32(&s.reserve, h, h + total))
            continue;
        COMB_PREEMPT_POINT(COMB_PP_RESERVED);
        if (ovf)
            s.reported = d;
        for (uint32_t i = 0; i < sync; i++)
            ring[h++ & RING_MASK] = i == COMB_ITM_SYNC_LEN - 1u ? COMB_ITM_SYNC_LAST : 0u;
        if (ovf)
            ring[h++ & RING_MASK] = COMB_ITM_OVERFLOW_BYTE;
        for (uint32_t i = 0; i < n; i++) {
            ring[h++ & RING_MASK] = pkt[i];
            if (i == 0u)
                COMB_PREEMPT_POINT(COMB_PP_COPY);
        }
        COMB_PREEMPT_POINT(COMB_PP_COPIED);
        break;
    }
    publish();
}

void comb_transport_swit(unsigned port, unsigned size, uint32_t value)
{
    uint8_t pkt[5];
    if (size == 0u)
        return;
    if (size > 2u)
        size = 4u; /* ITM has 1, 2 and 4-byte packets; 3 is sent as 4 */
    pkt[0] = COMB_ITM_SWIT_HEADER(port & 31u, size);
    for (unsigned i = 1; i <= size; i++) {
        pkt[i] = (uint8_t)value;
        value >>= 8;
    }
    emit(pkt, size + 1u);
}

/* Bounded by the drain() bounds above. False when bytes are still queued:
 * the UART is stuck, or we preempted a writer or a drainer (their bytes can
 * only go out once they resume). */
bool comb_transport_flush(void)
{
    drain();
    return s.tail == s.reserve;
}
