/*
 * heapdemo: a firmware-shaped workload on the comb pool allocator, with its
 * heap trace on port 31 (SysTick and the board's example timer, comb/board.h
 * feature "timer"; every QEMU board).
 *
 *   thread mode   builds bursts of messages (24-72 bytes) and hands them to
 *                 the "TX" interrupt through a mailbox; keeps a growing vector of
 *                 readings (comb_realloc, 4 more every round, up to 480
 *                 bytes, then starts again); formats short-lived strings into
 *                 exactly-sized buffers; frees the sensor records it receives
 *   SysTick       "sensor": allocates a 12-byte record per tick and posts it
 *   (lowest)      to the thread; drops it (frees it) when the queue is full
 *   timer IRQ     "TX done": frees the oldest message of the mailbox, and
 *   (higher)      now and then a scratch buffer of its own
 *
 * The layout is Drone.toml (or -DHEAPDEMO_LAYOUT=...). At the end everything
 * is freed, the per-pool statistics go to port 0, SESSION_END is sent, and the
 * exit status is 0 when the host acknowledged it and every block came back.
 *
 *   comb log --db heap.db unix:/tmp/uart.sock   (QEMU: see tests/e2e/test_heap_qemu.py)
 */
#include <string.h>

#include "comb/board.h"
#include "comb/cortex_m.h"
#include "comb/heap.h"
#include "comb/itm_uart.h"
#include "comb/log.h"
#include "comb/session.h"

#define ROUNDS 600u


/* Single-producer single-consumer queue of pointers (one core: the producer
 * and the consumer are different contexts, each index has one writer). */
#define QLEN 16u
struct queue {
    void *volatile slot[QLEN];
    volatile uint32_t head, tail; /* head: producer, tail: consumer */
};

static bool q_put(struct queue *q, void *p)
{
    uint32_t h = q->head;
    if (h - q->tail == QLEN)
        return false;
    q->slot[h % QLEN] = p;
    q->head = h + 1u;
    return true;
}

static void *q_get(struct queue *q)
{
    uint32_t t = q->tail;
    if (t == q->head)
        return NULL;
    void *p = q->slot[t % QLEN];
    q->tail = t + 1u;
    return p;
}

static struct queue mailbox; /* thread -> timer: messages to "send" */
static struct queue samples; /* SysTick -> thread: sensor records */
static volatile uint32_t ticks, sent, dropped_samples, isr_scratch;

struct sample {
    uint32_t seq, value, tick;
};

static uint32_t rng = 0x2545F491u;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

void SysTick_Handler(void)
{
    uint32_t t = ticks + 1u;
    ticks = t;
    struct sample *s = comb_alloc(sizeof *s);
    if (s == NULL)
        return;
    s->seq = t;
    s->value = t * 2654435761u;
    s->tick = t;
    if (!q_put(&samples, s)) {
        comb_free(s);
        dropped_samples++;
    }
}

void COMB_BOARD_TIMER_HANDLER(void)
{
    comb_board_timer_ack();
    void *m = q_get(&mailbox);
    if (m != NULL) {
        comb_free(m);
        sent++;
    }
    if ((sent & 7u) == 3u) { /* a short-lived buffer of the interrupt's own */
        uint8_t *scratch = comb_alloc(40);
        if (scratch != NULL) {
            memset(scratch, 0xA5, 40);
            comb_free(scratch);
            isr_scratch++;
        }
    }
}

static void wait_for_interrupt(void)
{
    __asm__ volatile("wfi" ::: "memory");
}

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    comb_printf("heapdemo: %u pools, heap %u bytes\n", comb_heap_pool_count(&comb_heap_main),
                (unsigned)comb_heap_main.bytes);

    COMB_SCB_SHPR3 = (COMB_SCB_SHPR3 & 0x00FFFFFFu) | (0xE0u << 24); /* SysTick: lowest */
    COMB_SYST_RVR = comb_board_core_hz() / 1000u - 1u; /* 1 kHz */
    COMB_SYST_CVR = 0u;
    COMB_SYST_CSR = 7u;
    comb_board_timer_start(comb_board_core_hz() / 1562u, 0x40u); /* ~1.6 kHz, above SysTick */

    uint32_t *vec = NULL, vlen = 0, strings = 0, samples_seen = 0, full_waits = 0;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        /* a burst of 1-4 messages for the TX interrupt (it sends ~1.6 per ms) */
        for (uint32_t burst = 1u + rnd() % 4u; burst > 0; burst--) {
            uint32_t len = 24u + rnd() % 49u;
            uint8_t *msg = comb_alloc(len);
            if (msg == NULL)
                break;
            msg[0] = (uint8_t)round;
            memset(msg + 1, (int)len, len - 1u);
            while (!q_put(&mailbox, msg)) { /* TX busy: wait for it */
                full_waits++;
                wait_for_interrupt();
            }
        }
        /* the growing vector: 4 more readings; start over past 120 */
        if (vlen == 120u) {
            comb_free(vec);
            vec = NULL;
            vlen = 0;
        }
        uint32_t *grown = comb_realloc(vec, (vlen + 4u) * sizeof *vec);
        if (grown != NULL) {
            vec = grown;
            for (uint32_t k = 0; k < 4u; k++)
                vec[vlen + k] = round * 4u + k;
            vlen += 4u;
        }
        /* a short name and a longer line: short-lived strings, exactly sized */
        char *name = comb_alloc(8);
        if (name != NULL) {
            comb_snprintf(name, 8, "r%lu", (unsigned long)round);
            comb_free(name);
        }
        char tmp[48];
        int n = comb_snprintf(tmp, sizeof tmp, "round %lu: vec %lu, sent %lu", (unsigned long)round,
                              (unsigned long)vlen, (unsigned long)sent);
        char *str = comb_alloc((size_t)n + 1u);
        if (str != NULL) {
            memcpy(str, tmp, (size_t)n + 1u);
            if (round % 100u == 0u)
                comb_printf("%s\n", str);
            comb_free(str);
            strings++;
        }
        /* the sensor records the interrupt posted */
        for (struct sample *s; (s = q_get(&samples)) != NULL;) {
            samples_seen++;
            comb_free(s);
        }
        /* pace the loop on the sensor tick */
        uint32_t t = ticks;
        while (ticks == t)
            wait_for_interrupt();
    }

    /* wind down: stop the sensor, let TX drain the mailbox, free the rest */
    COMB_SYST_CSR = 0u;
    for (uint32_t spin = 0; mailbox.head != mailbox.tail && spin < 1000u; spin++)
        wait_for_interrupt();
    comb_board_timer_stop();
    for (void *m; (m = q_get(&mailbox)) != NULL;)
        comb_free(m);
    for (struct sample *s; (s = q_get(&samples)) != NULL;) {
        samples_seen++;
        comb_free(s);
    }
    comb_free(vec);

    comb_printf("heapdemo: rounds %lu, messages sent %lu, samples %lu (dropped %lu), strings %lu, "
                "isr buffers %lu, mailbox waits %lu\n",
                (unsigned long)ROUNDS, (unsigned long)sent, (unsigned long)samples_seen,
                (unsigned long)dropped_samples, (unsigned long)strings, (unsigned long)isr_scratch,
                (unsigned long)full_waits);
    for (unsigned i = 0; i < comb_heap_pool_count(&comb_heap_main); i++) {
        comb_pool_stats_t st;
        comb_heap_pool_stats(&comb_heap_main, i, &st);
        comb_printf("pool %4lu x %3lu: in use %lu, peak %lu, failures %lu, touched %lu\n",
                    (unsigned long)st.block, (unsigned long)st.capacity, (unsigned long)st.in_use,
                    (unsigned long)st.peak, (unsigned long)st.failures, (unsigned long)st.touched);
    }
    uint32_t in_use = comb_heap_in_use(&comb_heap_main);
    comb_printf("heapdemo: in use at exit %lu, failures %lu\n", (unsigned long)in_use,
                (unsigned long)comb_heap_failures(&comb_heap_main));
    bool acked = comb_session_end(5u * comb_board_ts_hz());
    return acked && in_use == 0u ? 0 : 1;
}
