/*
 * heapstress: the pool allocator under real nested interrupts (SysTick and the
 * board's example timer and software interrupt, comb/board.h features "timer"
 * and "swi"; every QEMU board). Four contexts allocate, reallocate and free at
 * random on one small heap (Drone.toml), with the heap trace on port 31:
 *
 *   thread mode   the bulk of the operations, and pends the swi now and then
 *   SysTick       lowest interrupt priority, every 998 cycles, 2 ops
 *   timer         higher, every 614 cycles, 2 ops, pends the swi half the time
 *   swi           highest, software-pended (NVIC ISPR), 1-2 ops
 *
 * The timer interrupts land at arbitrary instructions, inside the allocator's
 * LDREX/STREX windows too (or right before and after its PRIMASK sections on
 * ARMv6-M). Every context keeps its blocks in its own slots and
 * checks, on its own:
 *   - no block is ever handed out twice: an ownership table indexed by block
 *     address is claimed with a CAS at every allocation and released at every
 *     free (a claim that finds an owner counts a double hand-out); each block
 *     carries its owner's tag in its first and last word, verified at free;
 *   - realloc keeps the contents.
 * After OPS operations the interrupts stop, every slot is freed, and the
 * thread checks that every block came back: in_use 0 in every pool, peaks
 * within capacity, and draining the heap yields exactly its capacity, each
 * block once.
 *
 * Port 1: "heapstress: ops=N thread=T systick=S timer=I pended=P fails=F
 * double=D badtag=B badcopy=C inuse=U drained=K/K dropped=X". Exit status 0
 * when D, B, C, U and X are 0 and K is the capacity.
 *
 *   qemu-system-arm -M mps2-an385 -display none -monitor none -icount shift=0 \
 *     -semihosting-config enable=on,target=native -serial file:hs.bin -kernel heapstress.elf
 *   comb log --db hs.db file:hs.bin :1
 */
#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/heap.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/port.h"
#include "comb/session.h"
#include "heap_layout.h" /* this image's layout: COMB_HEAP_FOOTPRINT(MAIN) */

#define OPS 100000u
#define MAX_REQ 128u

enum { CTX_THREAD, CTX_SYSTICK, CTX_TIMER, CTX_PENDED, CTX_COUNT };

#define SLOTS 24u
struct slot {
    uint32_t *p;
    uint32_t size, tag;
};

struct context {
    struct slot slot[SLOTS];
    uint32_t rng, seq, ops, fails;
};

static struct context ctx[CTX_COUNT];
static volatile uint32_t double_owner, bad_tag, bad_copy;
static volatile bool stop;

/* Owner of each 8-byte granule of the heap (every block starts on one). */
#define GRANULES (COMB_HEAP_FOOTPRINT(MAIN) / 8u)
static volatile uint32_t owner[GRANULES];

static uint32_t rnd(struct context *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 17;
    c->rng ^= c->rng << 5;
    return c->rng;
}

static volatile uint32_t *owner_of(const void *p)
{
    return &owner[((uintptr_t)p - (uintptr_t)comb_heap_main.base) / 8u];
}

static void tag_block(uint32_t *p, uint32_t size, uint32_t tag)
{
    p[0] = tag;
    p[(size - 1u) / 4u] = tag; /* last word that is wholly inside the request */
}

static bool tag_ok(const uint32_t *p, uint32_t size, uint32_t tag)
{
    return p[0] == tag && p[(size - 1u) / 4u] == tag;
}

static void claim(uint32_t id, struct slot *s, uint32_t *p, uint32_t size)
{
    if (!comb_port_cas32(owner_of(p), 0u, id + 1u))
        double_owner++;
    s->p = p;
    s->size = size;
    s->tag = 0xC0DE0000u ^ id << 28 ^ ++ctx[id].seq;
    tag_block(p, size, s->tag);
}

static void unclaim(uint32_t id, struct slot *s)
{
    if (!tag_ok(s->p, s->size, s->tag))
        bad_tag++;
    if (!comb_port_cas32(owner_of(s->p), id + 1u, 0u))
        double_owner++;
}

/* One random operation of context `id`. */
static void op(uint32_t id)
{
    struct context *c = &ctx[id];
    uint32_t r = rnd(c);
    struct slot *s = &c->slot[r % SLOTS];
    r >>= 8;
    if (s->p == NULL) {
        /* 4..128 bytes (a tag fits), three in four at most 60 */
        uint32_t size = 4u + (r >> 16) % ((r & 3u) == 0u ? MAX_REQ - 3u : 57u);
        uint32_t *p = (r >> 8) % 8u == 0u ? comb_calloc(1, size) : comb_alloc(size);
        if (p == NULL)
            c->fails++;
        else
            claim(id, s, p, size);
    } else if (r % 4u == 0u) {
        uint32_t size = 4u + (r >> 16) % ((r & 4u) == 0u ? MAX_REQ - 3u : 57u);
        uint32_t old_tag = s->tag, old_size = s->size;
        unclaim(id, s);
        uint32_t *p = comb_realloc(s->p, size);
        if (p == NULL) {
            c->fails++;
            claim(id, s, s->p, s->size); /* still ours */
        } else {
            /* kept or moved, the old contents are there (it only moves to grow) */
            if (p[0] != old_tag || (size >= old_size && !tag_ok(p, old_size, old_tag)))
                bad_copy++;
            claim(id, s, p, size);
        }
    } else {
        unclaim(id, s);
        comb_free(s->p);
        s->p = NULL;
    }
    c->ops++;
}

static uint32_t total_ops(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < CTX_COUNT; i++)
        n += ctx[i].ops;
    return n;
}

void SysTick_Handler(void)
{
    if (stop)
        return;
    op(CTX_SYSTICK);
    op(CTX_SYSTICK);
}

void COMB_BOARD_TIMER_HANDLER(void)
{
    comb_board_timer_ack();
    if (stop)
        return;
    op(CTX_TIMER);
    if (rnd(&ctx[CTX_TIMER]) & 1u)
        comb_board_swi_pend(); /* runs right here: it is higher */
    op(CTX_TIMER);
}

void COMB_BOARD_SWI_HANDLER(void)
{
    if (stop)
        return;
    op(CTX_PENDED);
    if (rnd(&ctx[CTX_PENDED]) & 1u)
        op(CTX_PENDED);
}

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    for (uint32_t i = 0; i < CTX_COUNT; i++)
        ctx[i].rng = 0x9E3779B9u * (i + 1u);

    COMB_SCB_SHPR3 = (COMB_SCB_SHPR3 & 0x00FFFFFFu) | (0xC0u << 24); /* SysTick: lowest */
    COMB_SYST_RVR = 997u;
    COMB_SYST_CVR = 0u;
    COMB_SYST_CSR = 7u;
    comb_board_swi_enable(0x40u); /* highest */
    comb_board_timer_start(614u, 0x80u);

    while (total_ops() < OPS) {
        op(CTX_THREAD);
        if (rnd(&ctx[CTX_THREAD]) % 16u == 0u)
            comb_board_swi_pend();
    }

    stop = true;
    COMB_SYST_CSR = 0u;
    comb_board_timer_stop();
    comb_board_swi_disable();

    uint32_t fails = 0;
    for (uint32_t id = 0; id < CTX_COUNT; id++) {
        fails += ctx[id].fails;
        for (uint32_t k = 0; k < SLOTS; k++)
            if (ctx[id].slot[k].p != NULL) {
                unclaim(id, &ctx[id].slot[k]);
                comb_free(ctx[id].slot[k].p);
                ctx[id].slot[k].p = NULL;
            }
    }
    uint32_t in_use = comb_heap_in_use(&comb_heap_main), capacity = 0, peaks_ok = 1;
    for (unsigned i = 0; i < comb_heap_pool_count(&comb_heap_main); i++) {
        comb_pool_stats_t st;
        comb_heap_pool_stats(&comb_heap_main, i, &st);
        capacity += st.capacity;
        if (st.peak > st.capacity || st.in_use != 0u)
            peaks_ok = 0;
        comb_printf("pool %3lu x %2lu: peak %lu, failures %lu, touched %lu\n", (unsigned long)st.block,
                    (unsigned long)st.capacity, (unsigned long)st.peak, (unsigned long)st.failures,
                    (unsigned long)st.touched);
    }
    /* every block comes back, each exactly once */
    comb_transport_init(~(1u << COMB_PORT_HEAP), COMB_TRANSPORT_SYNC_DEFAULT); /* not traced */
    uint32_t drained = 0;
    void *first = NULL, *p;
    while (drained <= capacity && (p = comb_alloc(1)) != NULL) {
        if (!comb_port_cas32(owner_of(p), 0u, 0xFFu))
            double_owner++;
        *(void **)p = first;
        first = p;
        drained++;
    }
    while (first != NULL) {
        void *next = *(void **)first;
        *owner_of(first) = 0u;
        comb_free(first);
        first = next;
    }
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);

    uint32_t dropped = comb_transport_dropped();
    comb_eprintf("heapstress: ops=%lu thread=%lu systick=%lu timer=%lu pended=%lu fails=%lu double=%lu "
                 "badtag=%lu badcopy=%lu inuse=%lu drained=%lu/%lu peaks=%s dropped=%lu\n",
                 (unsigned long)total_ops(), (unsigned long)ctx[CTX_THREAD].ops,
                 (unsigned long)ctx[CTX_SYSTICK].ops, (unsigned long)ctx[CTX_TIMER].ops,
                 (unsigned long)ctx[CTX_PENDED].ops, (unsigned long)fails, (unsigned long)double_owner,
                 (unsigned long)bad_tag, (unsigned long)bad_copy, (unsigned long)in_use,
                 (unsigned long)drained, (unsigned long)capacity, peaks_ok ? "ok" : "BAD",
                 (unsigned long)dropped);
    (void)comb_session_end(1u); /* SESSION_END and flush; nobody acks a file capture */
    bool ok = double_owner == 0u && bad_tag == 0u && bad_copy == 0u && in_use == 0u && peaks_ok &&
              drained == capacity && dropped == 0u;
    return ok ? 0 : 1;
}
