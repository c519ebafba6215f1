/*
 * Fiber chains (comb/fiber.h, comb/mpsc_list.h) on the host port: LIFO order,
 * yield versus complete, drop callbacks, pool fibers returning to the heap,
 * unlinking at the head, in the middle and at the tail, double adds, the
 * protothread helpers, the port-30 fiber events, and a simulated interrupt
 * adding fibers at every preemption point of a chain walk (one level and
 * nested), checking that no fiber is lost, run twice or left dangling.
 */
#include <string.h>

#include "check.h"
#include "comb/heap.h"
#include "comb/host_port.h"
#include "comb/itm_uart.h"
#include "comb/thread.h"
#include "sched_events.h"

#define THREADS(T) T(worker, 10, 0x80) T(other, 11, 0x40)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)

/* A small heap for pool fibers: 8 blocks of 64 bytes. */
#define COMB_HEAPS(H) H(main, MAIN)
#define COMB_HEAP_MAIN_SIZE 512u
#define COMB_HEAP_MAIN_ORIGIN 0u
#define COMB_HEAP_MAIN_POOL_COUNT 1u
#define COMB_HEAP_MAIN_POOLS(P) P(64u, 8u)
COMB_HEAP_DEFINE_ALL();

/* ---- a scripted fiber: yields `yields` times, then completes -------------- */

struct probe {
    comb_fib_t fib;
    char name;
    unsigned yields, resumes, drops;
};

static char order[512];
static unsigned order_len;

static void log_char(char c)
{
    if (order_len + 1 < sizeof order) {
        order[order_len++] = c;
        order[order_len] = '\0';
    }
}

static comb_fib_state_t probe_step(comb_fib_t *f)
{
    struct probe *p = COMB_FIB_CONTAINER(f, struct probe, fib);
    log_char(p->name);
    p->resumes++;
    return p->resumes > p->yields ? COMB_FIB_COMPLETE : COMB_FIB_YIELDED;
}

static void probe_drop(comb_fib_t *f)
{
    struct probe *p = COMB_FIB_CONTAINER(f, struct probe, fib);
    CHECK(f->thr != NULL);
    p->drops++;
}

static void probe_init(struct probe *p, char name, unsigned yields)
{
    memset(p, 0, sizeof *p);
    comb_fib_init(&p->fib, probe_step, probe_drop);
    p->name = name;
    p->yields = yields;
}

static void setup(uint32_t mask)
{
    comb_host_reset();
    comb_transport_init(mask, 0u);
    comb_heap_reset(&comb_heap_main);
    for (unsigned i = 0; i < COMB_THR_COUNT; i++) {
        comb_thr_table[i].chain.head = NULL;
        comb_host_nvic_set_handler(comb_thr_table[i].irq, comb_thr_handlers[i]);
    }
    comb_threads_init();
    order_len = 0;
    order[0] = '\0';
}

static unsigned chain_length(comb_thr_t *t)
{
    unsigned n = 0;
    for (comb_mpsc_node_t *x = t->chain.head; x != NULL && n < 1000; x = x->next)
        n++;
    return n;
}

static void run(comb_thr_t *t)
{
    comb_thr_wakeup(t);
}

/* ---- order, yield, complete, drop ----------------------------------------- */

static void test_lifo(void)
{
    setup(0u);
    comb_thr_t *w = COMB_THR(worker);
    struct probe a, b, c;
    probe_init(&a, 'A', 0);
    probe_init(&b, 'B', 0);
    probe_init(&c, 'C', 0);
    CHECK(comb_fib_add(w, &a.fib) && comb_fib_add(w, &b.fib) && comb_fib_add(w, &c.fib));
    CHECK_EQ_U64(chain_length(w), 3);
    CHECK_EQ_U64(comb_host_nvic_taken(10), 0); /* adding does not wake */
    run(w);
    CHECK(strcmp(order, "CBA") == 0);
    CHECK(a.drops == 1 && b.drops == 1 && c.drops == 1);
    CHECK(w->chain.head == NULL);
    CHECK(!comb_fib_linked(&a.fib) && !comb_fib_linked(&b.fib) && !comb_fib_linked(&c.fib));
    run(w); /* empty chain: nothing */
    CHECK(strcmp(order, "CBA") == 0);
}

static void test_yield_complete(void)
{
    setup(0u);
    comb_thr_t *w = COMB_THR(worker);
    /* chain (newest first): D(complete at once) C(yield 2) B(yield 0) A(yield 1) */
    struct probe a, b, c, d;
    probe_init(&a, 'A', 1);
    probe_init(&b, 'B', 0);
    probe_init(&c, 'C', 2);
    probe_init(&d, 'D', 0);
    CHECK(comb_fib_add(w, &a.fib) && comb_fib_add(w, &b.fib) && comb_fib_add(w, &c.fib) &&
          comb_fib_add(w, &d.fib));
    run(w); /* D completes (head), C yields, B completes (middle), A yields */
    CHECK(strcmp(order, "DCBA") == 0);
    CHECK_EQ_U64(chain_length(w), 2);
    CHECK(d.drops == 1 && b.drops == 1 && c.drops == 0 && a.drops == 0);
    run(w); /* C yields, A completes (tail) */
    CHECK(strcmp(order, "DCBACA") == 0);
    CHECK_EQ_U64(chain_length(w), 1);
    CHECK(a.drops == 1 && c.drops == 0);
    run(w); /* C completes (head, alone) */
    CHECK(strcmp(order, "DCBACAC") == 0);
    CHECK(w->chain.head == NULL && c.drops == 1);
    run(w);
    CHECK_EQ_U64(order_len, 7);
    CHECK(a.resumes == 2 && b.resumes == 1 && c.resumes == 3 && d.resumes == 1);
}

static void test_double_add(void)
{
    setup(0u);
    struct probe a;
    probe_init(&a, 'A', 1);
    CHECK(comb_fib_add(COMB_THR(worker), &a.fib));
    CHECK(!comb_fib_add(COMB_THR(worker), &a.fib)); /* no cycle */
    CHECK(!comb_fib_add(COMB_THR(other), &a.fib));
    CHECK_EQ_U64(chain_length(COMB_THR(worker)), 1);
    CHECK(comb_fib_thread(&a.fib) == COMB_THR(worker));
    run(COMB_THR(worker));
    run(COMB_THR(worker));
    CHECK(a.drops == 1 && !comb_fib_linked(&a.fib));
    /* added again after completing, to the other thread */
    a.resumes = 0;
    CHECK(comb_fib_exec(COMB_THR(other), &a.fib));
    CHECK(strcmp(order, "AAA") == 0);
    CHECK(comb_fib_thread(&a.fib) == COMB_THR(other) && comb_fib_linked(&a.fib));
}

/* A drop callback that adds its fiber again (allowed: it is unlinked). */
static unsigned again_left;

static void readd_drop(comb_fib_t *f)
{
    if (again_left > 0) {
        again_left--;
        CHECK(!comb_fib_linked(f));
        CHECK(comb_fib_add(comb_fib_thread(f), f));
    }
}

static void test_readd_from_drop(void)
{
    setup(0u);
    struct probe a;
    probe_init(&a, 'A', 0);
    a.fib.drop = readd_drop;
    again_left = 2;
    CHECK(comb_fib_add(COMB_THR(worker), &a.fib));
    run(COMB_THR(worker)); /* completes, re-added in front: next run */
    CHECK(strcmp(order, "A") == 0 && comb_fib_linked(&a.fib));
    a.resumes = 0;
    run(COMB_THR(worker));
    a.resumes = 0;
    run(COMB_THR(worker));
    CHECK(strcmp(order, "AAA") == 0 && !comb_fib_linked(&a.fib));
    CHECK(COMB_THR(worker)->chain.head == NULL);
}

/* ---- pool fibers ------------------------------------------------------------- */

struct job {
    comb_fib_t fib;
    uint32_t id, steps;
};

static unsigned job_drops;
static uint32_t job_in_use_at_drop;

static comb_fib_state_t job_step(comb_fib_t *f)
{
    struct job *j = COMB_FIB_CONTAINER(f, struct job, fib);
    log_char((char)('0' + j->id));
    return ++j->steps >= 2 ? COMB_FIB_COMPLETE : COMB_FIB_YIELDED;
}

static void job_drop(comb_fib_t *f)
{
    (void)f;
    job_drops++;
    job_in_use_at_drop = comb_heap_in_use(&comb_heap_main);
}

static void test_pool_fibers(void)
{
    setup(0u);
    job_drops = 0;
    struct job *jobs[8];
    for (unsigned i = 0; i < 8; i++) {
        jobs[i] = (struct job *)comb_fib_alloc(&comb_heap_main, sizeof(struct job), job_step, job_drop);
        CHECK(jobs[i] != NULL);
        if (jobs[i] == NULL)
            return;
        CHECK(jobs[i]->steps == 0 && jobs[i]->fib.heap == &comb_heap_main);
        jobs[i]->id = i;
    }
    CHECK(comb_fib_alloc(&comb_heap_main, sizeof(struct job), job_step, NULL) == NULL); /* exhausted */
    CHECK(comb_fib_alloc(&comb_heap_main, 65, job_step, NULL) == NULL);                /* too big */
    for (unsigned i = 0; i < 8; i++)
        CHECK(comb_fib_add(COMB_THR(worker), &jobs[i]->fib));
    CHECK_EQ_U64(comb_heap_in_use(&comb_heap_main), 8);
    run(COMB_THR(worker));
    CHECK_EQ_U64(comb_heap_in_use(&comb_heap_main), 8);
    run(COMB_THR(worker)); /* all complete: dropped, then freed */
    CHECK(strcmp(order, "7654321076543210") == 0);
    CHECK_EQ_U64(job_drops, 8);
    CHECK_EQ_U64(job_in_use_at_drop, 1); /* the drop ran before the last block was freed */
    CHECK_EQ_U64(comb_heap_in_use(&comb_heap_main), 0);
    /* the blocks are reusable */
    comb_fib_t *again = comb_fib_alloc(&comb_heap_main, sizeof(struct job), job_step, NULL);
    CHECK(again != NULL);
    comb_heap_free(&comb_heap_main, again);
}

/* ---- protothread helpers --------------------------------------------------------- */

struct seq {
    comb_fib_t fib;
    unsigned i, gate;
};

static comb_fib_state_t seq_step(comb_fib_t *f)
{
    struct seq *s = COMB_FIB_CONTAINER(f, struct seq, fib);
    COMB_FIB_BEGIN(f);
    log_char('<');
    for (s->i = 0; s->i < 3; s->i++) {
        log_char((char)('a' + s->i));
        COMB_FIB_YIELD(f);
    }
    COMB_FIB_WAIT_UNTIL(f, s->gate != 0);
    log_char('g');
    if (s->gate == 2)
        COMB_FIB_EXIT(f);
    log_char('>');
    COMB_FIB_END(f);
}

static void test_protothread(void)
{
    setup(0u);
    struct seq s;
    memset(&s, 0, sizeof s);
    comb_fib_init(&s.fib, seq_step, NULL);
    CHECK(comb_fib_add(COMB_THR(worker), &s.fib));
    for (unsigned k = 0; k < 6; k++)
        run(COMB_THR(worker));
    CHECK(strcmp(order, "<abc") == 0); /* waiting at the gate */
    CHECK(comb_fib_linked(&s.fib));
    s.gate = 1;
    run(COMB_THR(worker));
    CHECK(strcmp(order, "<abcg>") == 0 && !comb_fib_linked(&s.fib));
    /* from the start again; this time leaves through COMB_FIB_EXIT */
    CHECK(comb_fib_add(COMB_THR(worker), &s.fib));
    s.gate = 2;
    for (unsigned k = 0; k < 4; k++)
        run(COMB_THR(worker));
    CHECK(strcmp(order, "<abcg><abcg") == 0 && !comb_fib_linked(&s.fib));
}

/* ---- the events -------------------------------------------------------------------- */

static void test_trace(void)
{
    setup(1u << COMB_PORT_SCHED);
    comb_host_set_timestamp(5000, 3);
    struct probe a, b;
    probe_init(&a, 'A', 1);
    probe_init(&b, 'B', 0);
    CHECK(comb_fib_add(COMB_THR(other), &a.fib));
    CHECK(comb_fib_add(COMB_THR(other), &b.fib));
    run(COMB_THR(other));
    run(COMB_THR(other));
    static struct sched_event ev[64];
    unsigned n = sched_events(ev, 64);
    const unsigned T = 1, W = COMB_EVT_THREAD_WAKEUP, E = COMB_EVT_THREAD_ENTER, X = COMB_EVT_THREAD_EXIT,
                   AD = COMB_EVT_FIBER_ADDED, R = COMB_EVT_FIBER_RESUMED, Y = COMB_EVT_FIBER_YIELDED,
                   C = COMB_EVT_FIBER_COMPLETED;
    const void *A = &a.fib, *B = &b.fib;
    const struct {
        unsigned type;
        const void *fib;
    } want[] = {{AD, A}, {AD, B}, {W, 0}, {E, 0}, {R, B}, {C, B}, {R, A}, {Y, A}, {X, 0},
                {W, 0},  {E, 0},  {R, A}, {C, A}, {X, 0}};
    unsigned nw = sizeof want / sizeof want[0];
    CHECK_EQ_U64(n, nw);
    for (unsigned i = 0; i < n && i < nw; i++) {
        CHECK_EQ_U64(ev[i].type, want[i].type);
        if (want[i].type == W) {
            CHECK_EQ_U64(ev[i].f[0], COMB_THREAD_NONE << 8 | T);
        } else {
            CHECK_EQ_U64(ev[i].f[0], T);
        }
        if (want[i].fib != NULL)
            CHECK_EQ_U64(ev[i].f[1], sched_lo32(want[i].fib));
        CHECK_EQ_U64(ev[i].f[ev[i].n - 1], 5000 + 3 * i);
    }
}

/* ---- a simulated interrupt adds fibers at every preemption point ------------------- */

/* Scenario: worker's chain, newest first: P3 (completes), P2 (yields once),
 * P1 (completes), P0 (yields once). One run, and at the k-th preemption point
 * reached an "interrupt" adds the interrupt fibers I0 (completes at once) and
 * I1 (yields once) to worker, and with `nested` set, a second-level interrupt
 * inside the first adds I2 (completes) at that point's first nested point.
 * Then worker runs until its chain is empty. Every fiber must have run
 * exactly (yields + 1) times, completed once, dropped once. */

static struct probe P[4], I[3];
static unsigned hits, target, injected;
static bool nested;

static void inject(unsigned where, unsigned depth, void *ctx)
{
    (void)ctx;
    if (where < COMB_PP_LIST_PUSH)
        return; /* transport / allocator points: not under test here */
    if (depth == 0) {
        if (hits++ != target)
            return;
        injected++;
        CHECK(comb_fib_add(COMB_THR(worker), &I[0].fib));
        CHECK(comb_fib_add(COMB_THR(worker), &I[1].fib));
    } else if (depth == 1 && nested && !comb_fib_linked(&I[2].fib) && I[2].resumes == 0) {
        injected++;
        CHECK(comb_fib_add(COMB_THR(worker), &I[2].fib));
    }
}

static bool run_scenario(unsigned k, bool nest)
{
    setup(0u);
    probe_init(&P[0], 'a', 1);
    probe_init(&P[1], 'b', 0);
    probe_init(&P[2], 'c', 1);
    probe_init(&P[3], 'd', 0);
    probe_init(&I[0], 'X', 0);
    probe_init(&I[1], 'Y', 1);
    probe_init(&I[2], 'Z', 0);
    for (unsigned i = 0; i < 4; i++)
        CHECK(comb_fib_add(COMB_THR(worker), &P[i].fib));
    hits = 0;
    target = k;
    injected = 0;
    nested = nest;
    comb_host_set_preempt_hook(inject, NULL);
    run(COMB_THR(worker));
    comb_host_set_preempt_hook(NULL, NULL);
    if (injected == 0)
        return false; /* k is past the last point */
    for (unsigned r = 0; r < 6 && COMB_THR(worker)->chain.head != NULL; r++)
        run(COMB_THR(worker));
    CHECK(COMB_THR(worker)->chain.head == NULL);
    unsigned want_i = nest ? 3 : 2;
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ_U64(P[i].resumes, P[i].yields + 1);
        CHECK_EQ_U64(P[i].drops, 1);
    }
    for (unsigned i = 0; i < want_i; i++) {
        CHECK_EQ_U64(I[i].resumes, I[i].yields + 1);
        CHECK_EQ_U64(I[i].drops, 1);
    }
    if (check_failures)
        fprintf(stderr, "scenario k=%u nested=%d: order %s\n", k, (int)nest, order);
    return true;
}

static void test_add_at_every_preemption_point(void)
{
    unsigned points = 0, points_nested = 0;
    unsigned before = check_failures;
    for (unsigned k = 0; k < 200 && run_scenario(k, false) && check_failures == before; k++)
        points++;
    for (unsigned k = 0; k < 200 && run_scenario(k, true) && check_failures == before; k++)
        points_nested++;
    /* the walk of 4 fibers reaches at least: resumed + returned per fiber,
     * unlinked per completion, and the head CAS */
    CHECK(points >= 4 * 2 + 2 + 1);
    CHECK_EQ_U64(points_nested, points);
}

int main(void)
{
    test_lifo();
    test_yield_complete();
    test_double_add();
    test_readd_from_drop();
    test_pool_fibers();
    test_protothread();
    test_trace();
    test_add_at_every_preemption_point();
    return check_finish("test_fiber");
}
