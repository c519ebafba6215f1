/*
 * fibers: interrupt-driven threads with fiber chains, so that the scheduler
 * trace (port 30) and `comb fibers report` have something real to show.
 *
 *   thread      IRQ  prio  what runs there
 *   sample        9  0x20  the board's timer interrupt as a thread: `sampler`
 *                          acks it, takes a sensor reading and pulses `filter`
 *   control      25  0x40  `producer`, driven by a periodic SysTick timer:
 *                          each period a command fiber from the pool goes to
 *                          `worker`; every 8th period it also asks
 *                          `background` for a checksum (a future)
 *   worker       26  0x60  the commands (two steps each, then back to the
 *                          pool through their drop callback), and `reporter`,
 *                          which waits for each checksum
 *   background   27  0x80  `checksum`: a deliberately slow fiber that hashes
 *                          a 16 KiB buffer 2 KiB per run (about 0.6 ms),
 *                          sleeping a tick between runs
 *   (SysTick)        0xA0  the timers: 1 ms ticks
 *   filter       24  0xC0  `smoother`, the lowest thread, takes the pulses of
 *                          the saturating stream (limit 1) and keeps a moving
 *                          average; every 32nd batch it recalibrates for 2.5
 *                          sampling periods, during which the stream
 *                          saturates and loses a pulse
 *
 * The slow parts are at the bottom on purpose: the UART transport drains
 * from the context that holds its drain flag, so a long run above a thread
 * that was draining would hold up everyone's trace bytes in its 256-byte
 * ring (and drop them). Work that takes long runs in slices or at the
 * lowest priority. The trace comes to about 35 KB/s, a quarter of what the
 * UART carries at 1.5625 Mbaud (little enough for a loaded host to keep up).
 *
 * The root initialises, then sleeps in WFI between interrupts until the
 * producer has issued COMMANDS commands and every fiber is done; it prints
 * a summary on port 0 and ends the session (exit 0 when the host
 * acknowledged it and the counts add up).
 *
 *   qemu-system-arm -M mps2-an385 -display none -serial pty ... -kernel fibers.elf
 *   comb log --db f.db serial:/dev/pts/N@2000000
 *   comb fibers report --db f.db --elf fibers.elf
 */
#include "comb/board.h"
#include "comb/fiber.h"
#include "comb/future.h"
#include "comb/heap.h"
#include "comb/log.h"
#include "comb/pulse.h"
#include "comb/session.h"
#include "comb/thread.h"
#include "comb/timer.h"
#include "comb/trace.h"

#define THREADS(T) T(sample, 9, 0x20) T(filter, 24, 0xC0) T(control, 25, 0x40) T(worker, 26, 0x60) T(background, 27, 0x80)
COMB_THREADS_DECLARE(THREADS)
COMB_THREADS_DEFINE(THREADS)
COMB_TIMER_SYSTICK_HANDLER()

#define TICK_CYCLES 25000u    /* SysTick: 1 ms at 25 MHz */
#define SAMPLE_CYCLES 250000u /* the board timer: 100 samples per second */
#define PERIOD_TICKS 10u      /* the producer's period */
#define COMMANDS 48u
#define CHECKSUM_EVERY 8u
#define BUFFER_BYTES 16384u
#define CHUNK_BYTES 2048u

_Static_assert(COMB_BOARD_TIMER_IRQ == 9, "the sample thread is the board timer's IRQ");

/* ---- sample -> filter: a saturating pulse stream ------------------------------ */

static uint16_t readings[16];
static volatile uint32_t samples_taken;
static comb_pulse_t sample_stream = COMB_PULSE_INIT(1, COMB_THR(filter));

/* A stand-in sensor: a 16-bit LFSR. */
static uint16_t sensor_read(void)
{
    static uint16_t lfsr = 0xACE1u;
    lfsr = (uint16_t)((lfsr >> 1) ^ (-(lfsr & 1u) & 0xB400u));
    return lfsr;
}

static comb_fib_state_t sampler_step(comb_fib_t *f)
{
    (void)f;
    comb_board_timer_ack();
    readings[samples_taken % 16u] = sensor_read();
    samples_taken++;
    comb_pulse_send(&sample_stream, 1);
    return COMB_FIB_YIELDED; /* runs at every timer interrupt until stopped */
}

static comb_fib_t sampler = COMB_FIB_INIT(sampler_step, NULL);

static volatile uint32_t samples_used, average;
static volatile bool filter_stop;

#define RECALIBRATE_EVERY 32u
#define RECALIBRATE_CYCLES (5u * SAMPLE_CYCLES / 2u)

static comb_fib_state_t smoother_step(comb_fib_t *f)
{
    static uint32_t n, batches;
    COMB_FIB_BEGIN(f);
    for (;;) {
        COMB_FIB_WAIT_UNTIL(f, (n = comb_pulse_take(&sample_stream)) != 0u || filter_stop);
        if (n == 0u)
            break; /* stopped, and every pulse taken */
        samples_used += n;
        uint32_t sum = 0;
        for (unsigned i = 0; i < 16u; i++)
            sum += readings[i];
        average = sum / 16u;
        if (++batches % RECALIBRATE_EVERY == 0u) {
            /* Recalibration: 2.5 sampling periods, longer than the stream
             * holds (limit 1), so a pulse is lost. The lowest thread, so it
             * holds up nobody's trace. Bound: RECALIBRATE_CYCLES (timestamp
             * ticks are core cycles on mps2). */
            uint32_t t0 = comb_trace_timestamp();
            while (comb_trace_timestamp() - t0 < RECALIBRATE_CYCLES) {
            }
        }
    }
    COMB_FIB_END(f);
}

static comb_fib_t smoother = COMB_FIB_INIT(smoother_step, NULL);

/* ---- background: the slow checksum, a future ----------------------------------- */

static uint8_t buffer[BUFFER_BYTES];

struct checksum_job {
    comb_future_t fut;
    comb_timer_t pause;
    uint32_t offset, hash;
};

static comb_fib_state_t checksum_body(comb_future_t *fut, uint32_t *out)
{
    struct checksum_job *j = COMB_FIB_CONTAINER(fut, struct checksum_job, fut);
    COMB_FIB_BEGIN(&fut->fib);
    j->hash = 2166136261u; /* FNV-1a */
    for (j->offset = 0; j->offset < BUFFER_BYTES; j->offset += CHUNK_BYTES) {
        for (uint32_t i = 0; i < CHUNK_BYTES; i++)
            j->hash = (j->hash ^ buffer[j->offset + i]) * 16777619u;
        COMB_FIB_SLEEP(&fut->fib, &j->pause, 1u); /* more to do: next tick */
    }
    *out = j->hash;
    COMB_FIB_END(&fut->fib);
}

static struct checksum_job checksum = {.pause = COMB_TIMER_INIT};
static volatile uint32_t checksums_done;

/* In worker: waits for each checksum; the producer starts them. */
static comb_fib_state_t reporter_step(comb_fib_t *f)
{
    static uint32_t value;
    COMB_FIB_BEGIN(f);
    while (checksums_done < COMMANDS / CHECKSUM_EVERY) {
        COMB_FIB_WAIT_UNTIL(f, comb_future_take(&checksum.fut, &value));
        checksums_done++;
        comb_printf("checksum %lu: 0x%08lx\n", (unsigned long)checksums_done, (unsigned long)value);
    }
    COMB_FIB_END(f);
}

static comb_fib_t reporter = COMB_FIB_INIT(reporter_step, NULL);

/* ---- control -> worker: pool fibers ----------------------------------------------- */

struct command {
    comb_fib_t fib;
    uint32_t id, value;
};

static volatile uint32_t commands_done, commands_failed;

static comb_fib_state_t command_step(comb_fib_t *f)
{
    struct command *c = COMB_FIB_CONTAINER(f, struct command, fib);
    COMB_FIB_BEGIN(f);
    c->value = c->id * 2654435761u; /* step 1 */
    COMB_FIB_YIELD(f);
    buffer[(c->id * 97u) % BUFFER_BYTES] ^= (uint8_t)c->value; /* step 2 */
    COMB_FIB_END(f);
}

static void command_drop(comb_fib_t *f)
{
    (void)f;
    commands_done++;
}

static comb_timer_t producer_timer = COMB_TIMER_INIT;
static volatile uint32_t commands_issued;

static comb_fib_state_t producer_step(comb_fib_t *f)
{
    static uint32_t expiries;
    COMB_FIB_BEGIN(f);
    while (commands_issued < COMMANDS) {
        COMB_FIB_AWAIT_TIMER(f, &producer_timer, expiries);
        struct command *c =
            (struct command *)comb_fib_alloc(&comb_heap_main, sizeof *c, command_step, command_drop);
        if (c == NULL) {
            commands_failed++;
        } else {
            c->id = commands_issued;
            comb_fib_exec(COMB_THR(worker), &c->fib);
        }
        commands_issued++;
        if (commands_issued % CHECKSUM_EVERY == 0u && !comb_future_start(&checksum.fut, COMB_THR(background)))
            commands_failed++; /* the previous checksum is still running */
    }
    comb_timer_cancel(&producer_timer);
    COMB_FIB_END(f);
}

static comb_fib_t producer = COMB_FIB_INIT(producer_step, NULL);

int main(void)
{
    comb_board_init();
    comb_session_begin(comb_board_core_hz(), comb_board_ts_hz());
    comb_threads_init();
    for (uint32_t i = 0; i < BUFFER_BYTES; i++)
        buffer[i] = (uint8_t)(i * 7u);

    comb_future_init(&checksum.fut, checksum_body, COMB_THR(worker));
    comb_fib_add(COMB_THR(sample), &sampler);
    comb_fib_add(COMB_THR(filter), &smoother);
    comb_fib_add(COMB_THR(control), &producer);
    comb_fib_add(COMB_THR(worker), &reporter);
    comb_timer_start(&producer_timer, PERIOD_TICKS, PERIOD_TICKS, COMB_THR(control));
    comb_timer_systick_start(TICK_CYCLES, 0xA0); /* below the threads that use timers */
    comb_board_timer_start(SAMPLE_CYCLES, 0x20);

    /* Sleep between interrupts. Bound: COMMANDS producer periods, then the
     * last checksum (BUFFER_BYTES / CHUNK_BYTES runs of background). */
    while (comb_fib_linked(&producer) || comb_fib_linked(&reporter) || commands_done + commands_failed < COMMANDS)
        comb_thr_idle();

    comb_board_timer_stop();
    comb_timer_systick_stop();
    filter_stop = true;
    comb_thr_wakeup(COMB_THR(filter));

    comb_printf("fibers: commands %lu done %lu failed %lu, checksums %lu, samples %lu used %lu lost %lu, "
                "pool in use %lu\n",
                (unsigned long)commands_issued, (unsigned long)commands_done, (unsigned long)commands_failed,
                (unsigned long)checksums_done, (unsigned long)samples_taken, (unsigned long)samples_used,
                (unsigned long)comb_pulse_lost(&sample_stream), (unsigned long)comb_heap_in_use(&comb_heap_main));
    bool ok = commands_done == COMMANDS && commands_failed == 0 && checksums_done == COMMANDS / CHECKSUM_EVERY &&
              samples_used + comb_pulse_lost(&sample_stream) == samples_taken &&
              comb_heap_in_use(&comb_heap_main) == 0 && !comb_fib_linked(&smoother);
    return comb_session_end(5u * comb_board_ts_hz()) && ok ? 0 : 1;
}
