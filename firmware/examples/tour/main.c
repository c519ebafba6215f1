/*
 * tour: the log facade, the pool allocator and the thread/fiber runtime
 * together, on whichever transport the board links (UART on the QEMU boards,
 * SWO on the hardware ones): the same code either way.
 *
 * One thread, `worker`, on the board's software-interrupt line; one fiber in
 * its chain that, each time the thread runs, takes a block from the heap of
 * ./Drone.toml (16, 32, 64, 128 bytes in turn), logs its size and gives it
 * back, and completes after four runs. main wakes the thread four times.
 * Port 0:
 *
 *   tour: run 0, 16-byte block
 *   tour: run 1, 64-byte block      (32 bytes come from the 64-byte pool)
 *   tour: run 2, 64-byte block
 *   tour: run 3, 256-byte block
 *   tour: fiber done, 0 bytes in use
 *
 * with heap events on port 31 and thread and fiber events on port 30. Exit
 * status 0 when the fiber completed, the heap is empty again and the host
 * acknowledged the end of the session.
 */
#include "comb/board.h"
#include "comb/fiber.h"
#include "comb/heap.h"
#include "comb/log.h"
#include "comb/session.h"
#include "comb/thread.h"
#include "comb/transport.h"

#define THREADS(T) T(worker, COMB_BOARD_SWI_IRQ, 0x80)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)

#define RUNS 4u

struct job {
    comb_fib_t fib;
    unsigned run;
};

static comb_fib_state_t job_step(comb_fib_t *f)
{
    struct job *j = COMB_FIB_CONTAINER(f, struct job, fib);
    void *p = comb_alloc(16u << j->run);
    comb_printf("tour: run %u, %u-byte block\n", j->run,
                p ? (unsigned)comb_heap_usable_size(&comb_heap_main, p) : 0u);
    comb_free(p);
    return ++j->run < RUNS ? COMB_FIB_YIELDED : COMB_FIB_COMPLETE;
}

static struct job job = {COMB_FIB_INIT(job_step, NULL), 0u};

int main(void)
{
    comb_board_init();
    comb_transport_init(0xFFFFFFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    comb_threads_init();
    (void)comb_fib_add(COMB_THR(worker), &job.fib);
    for (unsigned i = 0; i < RUNS; i++) /* thread mode is below every thread: each runs at once */
        comb_thr_wakeup(COMB_THR(worker));
    bool done = !comb_fib_linked(&job.fib);
    uint32_t in_use = comb_heap_in_use(&comb_heap_main);
    comb_printf("tour: fiber %s, %u bytes in use\n", done ? "done" : "still linked", (unsigned)in_use);
    bool acked = comb_session_end(5u * comb_board_ts_hz());
    return done && in_use == 0u && acked ? 0 : 1;
}
