/*
 * The scheduler reconstruction and report (sched_model.h, sched_stats.h,
 * sched_report.h) on hand-made event sequences whose numbers are computed by
 * hand in the comments: one thread; preemption three levels deep (self time
 * excludes the preempting threads); coalesced wakeups and a wakeup while
 * running; hardware entries without a wakeup; fibers that yield, complete and
 * are preempted; a truncated and damaged trace; nearest-rank percentiles;
 * the JSON and text renderings and their units.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/sched_model.h"
#include "comb/sched_outliers.h"
#include "comb/sched_report.h"

#define T 0xFF /* from_thr: thread mode */

enum { W = COMB_SCHED_WAKEUP, EN = COMB_SCHED_ENTER, EX = COMB_SCHED_EXIT, FA = COMB_SCHED_FIBER_ADDED,
       FR = COMB_SCHED_FIBER_RESUMED, FY = COMB_SCHED_FIBER_YIELDED, FC = COMB_SCHED_FIBER_COMPLETED };

/* one event; kind < 0 marks a loss point */
typedef struct ev {
    int kind;
    uint64_t ts;
    uint16_t thr;
    uint32_t fiber;
} ev;

#define LOSS {-1, 0, 0, 0}

static comb_sched_result run(const ev *v, size_t n)
{
    comb_sched_model *m = comb_sched_model_new();
    CHECK(m != NULL);
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind < 0) {
            comb_sched_model_loss(m);
            continue;
        }
        comb_sched_event e = {.ts = v[i].ts, .fiber = v[i].fiber, .thr = v[i].thr, .kind = (uint8_t)v[i].kind,
                              .from_thr = T};
        CHECK(comb_sched_model_event(m, &e) == 0);
    }
    comb_sched_result r;
    CHECK(comb_sched_model_finish(m, &r) == 0);
    return r;
}

static const comb_sched_thread *thread(const comb_sched_result *r, uint16_t thr)
{
    for (size_t i = 0; i < r->nthreads; i++)
        if (r->threads[i].thr == thr)
            return &r->threads[i];
    CHECK(!"thread missing");
    static const comb_sched_thread none;
    return &none;
}

static const comb_sched_fiber *fiber(const comb_sched_result *r, uint16_t thr, uint32_t addr)
{
    for (size_t i = 0; i < r->nfibers; i++)
        if (r->fibers[i].thr == thr && r->fibers[i].fiber == addr)
            return &r->fibers[i];
    CHECK(!"fiber missing");
    static const comb_sched_fiber none;
    return &none;
}

static void check_stats(const comb_sched_stats *s, uint64_t count, uint64_t min, uint64_t p50, uint64_t p90,
                        uint64_t p99, uint64_t max)
{
    CHECK_EQ_U64(s->count, count);
    CHECK_EQ_U64(s->min, min);
    CHECK_EQ_U64(s->p50, p50);
    CHECK_EQ_U64(s->p90, p90);
    CHECK_EQ_U64(s->p99, p99);
    CHECK_EQ_U64(s->max, max);
}

/* The widest line of a text report, in columns ("µs" is 3 bytes, 2 columns). */
static size_t max_columns(const char *text)
{
    size_t widest = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *mu = strstr(line, "µs");
        size_t cols = len - (mu && mu < line + len ? 1 : 0);
        widest = cols > widest ? cols : widest;
        line += len + (nl ? 1 : 0);
    }
    return widest;
}

static void check_clean(const comb_sched_result *r)
{
    CHECK_EQ_U64(comb_sched_problem_total(&r->problems), 0);
    CHECK_EQ_U64(r->problems.runs_cut + r->problems.wakeups_cut, 0);
}

/* One thread, three wakeup -> enter -> exit cycles. Latencies 50, 10, 100
 * (sorted 10 50 100: p50 = rank ceil(1.5) = 2 -> 50, p90 = rank 3 -> 100); run
 * times 250, 100, 500; span 2600 - 100 = 2500, self 850 -> share 0.34. */
static void test_single_thread(void)
{
    const ev v[] = {{W, 100, 0, 0},  {EN, 150, 0, 0},  {EX, 400, 0, 0},  {W, 1000, 0, 0}, {EN, 1010, 0, 0},
                    {EX, 1110, 0, 0}, {W, 2000, 0, 0}, {EN, 2100, 0, 0}, {EX, 2600, 0, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    CHECK_EQ_U64(r.events, 9);
    CHECK_EQ_U64(r.first_ts, 100);
    CHECK_EQ_U64(r.last_ts, 2600);
    CHECK_EQ_U64(r.nthreads, 1);
    CHECK_EQ_U64(r.nfibers, 0);
    const comb_sched_thread *t = thread(&r, 0);
    CHECK_EQ_U64(t->runs, 3);
    CHECK_EQ_U64(t->wakeups, 3);
    CHECK_EQ_U64(t->coalesced, 0);
    check_stats(&t->latency, 3, 10, 50, 100, 100, 100);
    check_stats(&t->run_time, 3, 100, 250, 500, 500, 500);
    CHECK_EQ_U64(t->self_ticks, 850);
    CHECK(t->longest.valid);
    CHECK_EQ_U64(t->longest.start_ts, 2100);
    CHECK_EQ_U64(t->longest.ticks, 500);

    /* JSON: ts_hz 25 MHz, core 100 MHz: cycles = 4 x ticks, us = ticks / 25 */
    comb_sched_report_context c = {.session = 7, .core_hz = 100000000, .ts_hz = 25000000};
    comb_strbuf sb = {0};
    comb_sched_report_json(&r, &c, &sb);
    const char *j = comb_sb_str(&sb);
    const char *head = "{\"session\":7,\"core_hz\":100000000,\"ts_hz\":25000000,\"events\":9,"
                       "\"span\":{\"ticks\":2500,\"us\":100},\"threads\":[{\"thr\":0,\"name\":null,\"runs\":3,"
                       "\"wakeups\":3,\"coalesced\":0,";
    CHECK(!strncmp(j, head, strlen(head)));
    CHECK(strstr(j, "\"latency\":{\"count\":3,\"ticks\":{\"min\":10,\"p50\":50,\"p90\":100,\"p99\":100,\"max\":100},"
                    "\"cycles\":{\"min\":40,\"p50\":200,\"p90\":400,\"p99\":400,\"max\":400},"
                    "\"us\":{\"min\":0.4,\"p50\":2,\"p90\":4,\"p99\":4,\"max\":4}}") != NULL);
    CHECK(strstr(j, "\"run_time\":{\"count\":3,\"ticks\":{\"min\":100,\"p50\":250,\"p90\":500,\"p99\":500,\"max\":500},"
                    "\"cycles\":{\"min\":400,\"p50\":1000,\"p90\":2000,\"p99\":2000,\"max\":2000},"
                    "\"us\":{\"min\":4,\"p50\":10,\"p90\":20,\"p99\":20,\"max\":20}}") != NULL);
    CHECK(strstr(j, "\"cpu_share\":0.34,\"longest_run\":{\"start_ts\":2100,\"ticks\":500,\"cycles\":2000,\"us\":20}}],"
                    "\"fibers\":[],\"problems\":{\"total\":0,") != NULL);
    CHECK(j[sb.len - 1] == '\n' && j[sb.len - 2] == '}');
    comb_sb_free(&sb);

    /* text: one row per thread, within 100 columns */
    comb_sched_report_text(&r, &c, &sb);
    j = comb_sb_str(&sb);
    CHECK(strstr(j, "Session 7: 9 scheduler events over 0.100 ms (2500 ticks at 25 MHz; core clock 100 MHz)\n") !=
          NULL);
    CHECK(strstr(j, "\n  0 -                      3     2.00     4.00     4.00    10.00    20.00    20.00   34.0%"
                    "    20.00\n") != NULL);
    CHECK(strstr(j, "warning") == NULL);
    CHECK(max_columns(j) <= 100);
    comb_sb_free(&sb);

    /* no clock: ticks only, converted values null */
    comb_sched_report_context nc = {.session = 1};
    comb_sched_report_json(&r, &nc, &sb);
    j = comb_sb_str(&sb);
    CHECK(strstr(j, "\"core_hz\":null,\"ts_hz\":null,") != NULL);
    CHECK(strstr(j, "\"span\":{\"ticks\":2500,\"us\":null}") != NULL);
    CHECK(strstr(j, "\"cycles\":{\"min\":null,\"p50\":null,\"p90\":null,\"p99\":null,\"max\":null}") != NULL);
    comb_sb_free(&sb);
    comb_sched_report_text(&r, &nc, &sb);
    CHECK(strstr(comb_sb_str(&sb), "      250      500      500   34.0%      500\n") != NULL);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);
}

/* Threads 1 < 2 < 3 in priority. 1 runs 10..310 (wall 300); 2 preempts it
 * 104..204 (wall 100) and is itself preempted by 3 at 152..182 (30); 3
 * preempts 1 again 260..270 (10). Self: 3 = 30 and 10; 2 = 100 - 30 = 70;
 * 1 = 300 - 100 - 10 = 190. Latencies: 1: 10; 2: 4; 3: 2 and 5. Span 0..310. */
static void test_preemption(void)
{
    const ev v[] = {{W, 0, 1, 0},    {EN, 10, 1, 0},  {W, 100, 2, 0},  {EN, 104, 2, 0}, {W, 150, 3, 0},
                    {EN, 152, 3, 0}, {EX, 182, 3, 0}, {EX, 204, 2, 0}, {W, 255, 3, 0},  {EN, 260, 3, 0},
                    {EX, 270, 3, 0}, {EX, 310, 1, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    CHECK_EQ_U64(r.nthreads, 3);
    const comb_sched_thread *t1 = thread(&r, 1), *t2 = thread(&r, 2), *t3 = thread(&r, 3);
    check_stats(&t1->run_time, 1, 190, 190, 190, 190, 190);
    check_stats(&t2->run_time, 1, 70, 70, 70, 70, 70);
    check_stats(&t3->run_time, 2, 10, 10, 30, 30, 30);
    check_stats(&t1->latency, 1, 10, 10, 10, 10, 10);
    check_stats(&t2->latency, 1, 4, 4, 4, 4, 4);
    check_stats(&t3->latency, 2, 2, 2, 5, 5, 5);
    CHECK_EQ_U64(t3->longest.start_ts, 152);
    CHECK_EQ_U64(t3->longest.ticks, 30);
    CHECK_EQ_U64(t1->self_ticks + t2->self_ticks + t3->self_ticks, 300); /* 10..310 busy */
    /* shares: 190/310, 70/310, 40/310 */
    comb_sched_report_context c = {.session = 1, .core_hz = 310, .ts_hz = 310};
    comb_strbuf sb = {0};
    comb_sched_report_json(&r, &c, &sb);
    const char *j = comb_sb_str(&sb);
    CHECK(strstr(j, "\"cpu_share\":0.6129032258064516,") != NULL); /* 190 / 310 as a double */
    CHECK(strstr(j, "\"run_time\":{\"count\":1,\"ticks\":{\"min\":70,") != NULL);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);
}

/* Three wakeups before one entry are one pending interrupt: latency from the
 * first (100 -> 200 = 100), 2 coalesced. A wakeup while the thread runs (320)
 * is served by the next entry (360: 40), as the NVIC re-enters a pended
 * handler. Latencies sorted: 10, 40, 100. */
static void test_coalesced_wakeups(void)
{
    const ev v[] = {{W, 100, 0, 0},  {W, 120, 0, 0},  {W, 130, 0, 0},  {EN, 200, 0, 0}, {EX, 250, 0, 0},
                    {W, 300, 0, 0},  {EN, 310, 0, 0}, {W, 320, 0, 0},  {EX, 350, 0, 0}, {EN, 360, 0, 0},
                    {EX, 370, 0, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    const comb_sched_thread *t = thread(&r, 0);
    CHECK_EQ_U64(t->runs, 3);
    CHECK_EQ_U64(t->wakeups, 5);
    CHECK_EQ_U64(t->coalesced, 2);
    check_stats(&t->latency, 3, 10, 40, 100, 100, 100);
    check_stats(&t->run_time, 3, 10, 40, 50, 50, 50);
    comb_sched_result_free(&r);
}

/* A thread entered without a wakeup (its hardware interrupt) has runs and run
 * times but no latency sample; the one woken entry has latency 5. */
static void test_hardware_entries(void)
{
    const ev v[] = {{EN, 0, 5, 0},    {EX, 20, 5, 0},   {EN, 100, 5, 0}, {EX, 130, 5, 0},
                    {W, 200, 5, 0},   {EN, 205, 5, 0},  {EX, 215, 5, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    const comb_sched_thread *t = thread(&r, 5);
    CHECK_EQ_U64(t->runs, 3);
    CHECK_EQ_U64(t->wakeups, 1);
    check_stats(&t->latency, 1, 5, 5, 5, 5, 5);
    check_stats(&t->run_time, 3, 10, 20, 30, 30, 30);
    /* text: the latency columns say "-" for a thread never woken */
    const ev hw[] = {{EN, 0, 2, 0}, {EX, 25, 2, 0}};
    comb_sched_result r2 = run(hw, 2);
    comb_sched_report_context c = {.session = 1, .core_hz = 25000000, .ts_hz = 25000000};
    comb_strbuf sb = {0};
    comb_sched_report_text(&r2, &c, &sb);
    CHECK(strstr(comb_sb_str(&sb), "\n  2 -                      1        -        -        -     1.00     1.00     1.00"
                                   "  100.0%     1.00\n") != NULL);
    comb_sb_free(&sb);
    comb_sched_result_free(&r2);
    comb_sched_result_free(&r);
}

static const char *long_thread_name(void *ctx, uint16_t thr, char *buf, size_t cap)
{
    (void)ctx;
    snprintf(buf, cap, "thread_number_%u_with_a_long_name", (unsigned)thr);
    return buf;
}

static const char *long_fiber_name(void *ctx, uint32_t addr, char *buf, size_t cap)
{
    (void)ctx;
    snprintf(buf, cap, "a_very_long_object_name+0x%x", (unsigned)(addr & 0xFF));
    return buf;
}

/* Thread 1 with fibers A and B, added from thread mode. Run 1 (10..90, 80):
 * A 12..32 yields (20), B 33..83 completes (50). Run 2 (205..255): A 210..250
 * completes, preempted by thread 2 at 216..226 -> A self 30, thread 1 self
 * 50 - 10 = 40. Thread self time includes its fibers'. Span 0..255. */
static void test_fibers(void)
{
    const uint32_t A = 0x20000100, B = 0x20000200;
    const ev v[] = {{FA, 0, 1, A},   {FA, 1, 1, B},   {W, 2, 1, 0},    {EN, 10, 1, 0},  {FR, 12, 1, A},
                    {FY, 32, 1, A},  {FR, 33, 1, B},  {FC, 83, 1, B},  {EX, 90, 1, 0},  {W, 200, 1, 0},
                    {EN, 205, 1, 0}, {FR, 210, 1, A}, {W, 215, 2, 0},  {EN, 216, 2, 0}, {EX, 226, 2, 0},
                    {FC, 250, 1, A}, {EX, 255, 1, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    CHECK_EQ_U64(r.nfibers, 2);
    const comb_sched_fiber *a = fiber(&r, 1, A), *b = fiber(&r, 1, B);
    CHECK(r.fibers[0].fiber == A && r.fibers[1].fiber == B);
    CHECK_EQ_U64(a->added, 1);
    CHECK_EQ_U64(a->resumes, 2);
    CHECK_EQ_U64(a->yields, 1);
    CHECK_EQ_U64(a->completions, 1);
    check_stats(&a->run_time, 2, 20, 20, 30, 30, 30);
    CHECK_EQ_U64(a->longest.start_ts, 210);
    CHECK_EQ_U64(a->longest.ticks, 30);
    CHECK_EQ_U64(b->resumes, 1);
    CHECK_EQ_U64(b->yields, 0);
    CHECK_EQ_U64(b->completions, 1);
    check_stats(&b->run_time, 1, 50, 50, 50, 50, 50);
    const comb_sched_thread *t1 = thread(&r, 1), *t2 = thread(&r, 2);
    check_stats(&t1->run_time, 2, 40, 40, 80, 80, 80);
    check_stats(&t1->latency, 2, 5, 5, 8, 8, 8);
    check_stats(&t2->run_time, 1, 10, 10, 10, 10, 10);
    check_stats(&t2->latency, 1, 1, 1, 1, 1, 1);

    comb_sched_report_context c = {.session = 1, .core_hz = 255, .ts_hz = 255};
    comb_strbuf sb = {0};
    comb_sched_report_json(&r, &c, &sb);
    const char *j = comb_sb_str(&sb);
    /* fiber A: 50 of 255 ticks */
    CHECK(strstr(j, "\"fibers\":[{\"thr\":1,\"fiber\":536871168,\"name\":null,\"added\":1,\"resumes\":2,\"yields\":1,"
                    "\"completions\":1,\"run_time\":{\"count\":2,\"ticks\":{\"min\":20,\"p50\":20,\"p90\":30,\"p99\":30,"
                    "\"max\":30},") != NULL);
    CHECK(strstr(j, "\"cpu_share\":0.19607843137254902,\"longest_run\":{\"start_ts\":210,\"ticks\":30,\"cycles\":30,"
                    "\"us\":117647.05882352941}}") != NULL);
    comb_sb_free(&sb);
    comb_sched_report_text(&r, &c, &sb);
    CHECK(strstr(comb_sb_str(&sb), "\n  1 0x20000200 -                     1       0       1 196078.4 196078.4 196078.4"
                                   "   19.6% 196078.4\n") != NULL);
    /* each row's second line: the same times in core cycles (here 1 per tick) */
    CHECK(strstr(comb_sb_str(&sb), "   19.6% 196078.4\n                 cycles                                      50"
                                   "       50       50               50\n") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "\n      cycles                        5        8        8       40       80       80"
                                   "               80\n") != NULL);
    CHECK(max_columns(comb_sb_str(&sb)) <= 100);
    comb_sb_free(&sb);
    /* names: whole in JSON; cut to 15 columns in tables, one style: the same
     * symbol head with or without an offset, the offset kept */
    c.thread_name = long_thread_name;
    c.fiber_name = long_fiber_name;
    comb_sched_report_text(&r, &c, &sb);
    CHECK(strstr(comb_sb_str(&sb), "\n  1 thread_n~              2 ") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "\n  1 0x20000100 a_very_l~+0x0         2       1       1 ") != NULL);
    comb_sb_free(&sb);
    comb_sched_report_json(&r, &c, &sb);
    CHECK(strstr(comb_sb_str(&sb), "{\"thr\":1,\"name\":\"thread_number_1_with_a_long_name\",") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "\"fiber\":536871168,\"name\":\"a_very_long_object_name+0x0\",") != NULL);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);
}

/* Events stamped at the tick a preempting thread starts, but emitted after
 * its events (the interrupt came between the stamp and the header), are
 * ordered by the tick: no problem, the nesting the firmware had.
 *  1. thread 1 (0..210) resumes fiber F at 100 while thread 2 enters at 100
 *     (runs to 130): F 100..200 self 70, thread 1 self 210 - 30 = 180;
 *  2. thread 1 (250..) exits at 300, thread 2 entered at 300 (to 320):
 *     thread 1 self 50, thread 2 20;
 *  3. thread 1 entered at 400 is preempted by thread 2 at 400 (to 420) before
 *     its enter is emitted: thread 1 400..450 self 30, its fiber 425..435. */
static void test_same_tick(void)
{
    const uint32_t F = 0xF0;
    const ev v[] = {{EN, 0, 1, 0},    {EN, 100, 2, 0},  {FR, 100, 1, F},  {EX, 130, 2, 0},  {FY, 200, 1, F},
                    {EX, 210, 1, 0},  {EN, 250, 1, 0},  {EN, 300, 2, 0},  {EX, 300, 1, 0},  {EX, 320, 2, 0},
                    {EN, 400, 2, 0},  {EN, 400, 1, 0},  {EX, 420, 2, 0},  {FR, 425, 1, F},  {FY, 435, 1, F},
                    {EX, 450, 1, 0}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    check_clean(&r);
    CHECK_EQ_U64(r.same_tick_reorders, 3);
    check_stats(&thread(&r, 1)->run_time, 3, 30, 50, 180, 180, 180);
    check_stats(&thread(&r, 2)->run_time, 3, 20, 20, 30, 30, 30);
    check_stats(&fiber(&r, 1, F)->run_time, 2, 10, 10, 70, 70, 70);
    comb_sched_report_context c = {.session = 1};
    comb_strbuf sb = {0};
    comb_sched_report_text(&r, &c, &sb);
    CHECK(strstr(comb_sb_str(&sb), "\nnote: 3 events were stamped at the tick a preempting thread started") != NULL);
    CHECK(max_columns(comb_sb_str(&sb)) <= 100);
    CHECK(strstr(comb_sb_str(&sb), "warning") == NULL);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);

    /* a thread that started at another tick is nested for real: its exit was lost */
    const ev lost[] = {{EN, 0, 1, 0}, {EN, 10, 2, 0}, {EX, 20, 1, 0}};
    r = run(lost, 3);
    CHECK_EQ_U64(r.same_tick_reorders, 0);
    CHECK_EQ_U64(r.problems.lost_ends, 1);
    CHECK_EQ_U64(thread(&r, 1)->run_time.count, 0);
    comb_sched_result_free(&r);
    /* a fiber of the ending thread, resumed at the same tick, is nested in it: its end was lost */
    const ev fib[] = {{EN, 0, 1, 0}, {FR, 20, 1, F}, {EX, 20, 1, 0}};
    r = run(fib, 3);
    CHECK_EQ_U64(r.same_tick_reorders, 0);
    CHECK_EQ_U64(r.problems.lost_ends, 1);
    comb_sched_result_free(&r);
}

/* Property: for random nested traces on a coarse clock (many events share a
 * tick) where preempting threads often run between an event's stamp and its
 * emission, the report from the (tick, emission order) the database gives
 * equals the report from the true stamp order. */
#define SIM_THREADS 6
#define SIM_MAX 60000

typedef struct sim {
    ev *truth, *emitted; /* stamp order; emission order */
    size_t nt, ne;
    uint64_t t, rng, step; /* ticks between stamps: 0 .. step - 1 */
} sim;

static uint64_t sim_rand(sim *s, uint64_t n)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng % n;
}

static void sim_activation(sim *s, unsigned thr, bool woken);

/* Stamps an event now; a thread above `thr` may preempt before it is emitted. */
static void sim_event(sim *s, int kind, unsigned thr, uint32_t fiber, bool may_be_preempted)
{
    s->t += sim_rand(s, s->step);
    ev e = {kind, s->t, (uint16_t)thr, fiber};
    s->truth[s->nt++] = e;
    if (may_be_preempted && thr + 1 < SIM_THREADS && sim_rand(s, 3) == 0)
        sim_activation(s, thr + 1 + (unsigned)sim_rand(s, SIM_THREADS - 1 - thr), false);
    s->emitted[s->ne++] = e;
}

/* Recursion depth <= SIM_THREADS: every nested activation is of a higher thread. */
static void sim_activation(sim *s, unsigned thr, bool woken)
{
    if (woken)
        sim_event(s, W, thr, 0, false);
    sim_event(s, EN, thr, 0, true);
    if (sim_rand(s, 2)) {
        uint32_t f = 0x1000 + thr * 16 + (uint32_t)sim_rand(s, 2);
        sim_event(s, FR, thr, f, true);
        if (thr + 1 < SIM_THREADS && sim_rand(s, 3) == 0)
            sim_activation(s, thr + 1 + (unsigned)sim_rand(s, SIM_THREADS - 1 - thr), true);
        sim_event(s, sim_rand(s, 8) ? FY : FC, thr, f, true);
    }
    if (thr + 1 < SIM_THREADS && sim_rand(s, 3) == 0)
        sim_activation(s, thr + 1 + (unsigned)sim_rand(s, SIM_THREADS - 1 - thr), true);
    sim_event(s, EX, thr, 0, true);
}

static bool same_stats(const comb_sched_stats *a, const comb_sched_stats *b)
{
    return a->count == b->count && a->min == b->min && a->p50 == b->p50 && a->p90 == b->p90 && a->p99 == b->p99 &&
           a->max == b->max;
}

static void same_tick_random(uint64_t seed, uint64_t step)
{
    sim s = {.truth = malloc(SIM_MAX * sizeof(ev)),
             .emitted = malloc(SIM_MAX * sizeof(ev)),
             .rng = 0x2545F4914F6CDD1Dull * seed,
             .step = step};
    CHECK(s.truth && s.emitted);
    if (!s.truth || !s.emitted)
        return;
    while (s.nt < SIM_MAX - 100) /* an activation emits far fewer than 100 events */
        sim_activation(&s, (unsigned)sim_rand(&s, SIM_THREADS), sim_rand(&s, 4) != 0);
    CHECK_EQ_U64(s.nt, s.ne);
    /* the database order: by tick, then emission (a stable insertion by tick) */
    for (size_t i = 1; i < s.ne; i++) {
        ev e = s.emitted[i];
        size_t j = i;
        while (j > 0 && s.emitted[j - 1].ts > e.ts) /* moves at most the events of one preemption */
            s.emitted[j] = s.emitted[j - 1], j--;
        s.emitted[j] = e;
    }
    size_t moved = 0;
    for (size_t i = 0; i < s.nt; i++)
        moved += memcmp(&s.truth[i], &s.emitted[i], sizeof(ev)) != 0;
    comb_sched_result a = run(s.truth, s.nt), b = run(s.emitted, s.ne);
    check_clean(&a);
    check_clean(&b);
    CHECK_EQ_U64(a.same_tick_reorders, 0);
    CHECK(b.same_tick_reorders > 100); /* the case happens, often */
    CHECK(moved > 100);
    CHECK(a.nthreads == b.nthreads && a.nfibers == b.nfibers);
    bool same = a.nthreads == b.nthreads && a.nfibers == b.nfibers;
    for (size_t i = 0; same && i < a.nthreads; i++)
        same = a.threads[i].thr == b.threads[i].thr && a.threads[i].runs == b.threads[i].runs &&
               a.threads[i].self_ticks == b.threads[i].self_ticks &&
               same_stats(&a.threads[i].latency, &b.threads[i].latency) &&
               same_stats(&a.threads[i].run_time, &b.threads[i].run_time);
    for (size_t i = 0; same && i < a.nfibers; i++)
        same = a.fibers[i].fiber == b.fibers[i].fiber && a.fibers[i].self_ticks == b.fibers[i].self_ticks &&
               same_stats(&a.fibers[i].run_time, &b.fibers[i].run_time);
    CHECK(same);
    comb_sched_result_free(&a);
    comb_sched_result_free(&b);
    free(s.truth);
    free(s.emitted);
}

static void test_same_tick_random(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (uint64_t step = 2; step <= 4; step++)
            same_tick_random(seed, step);
}

/* Garbage in (random kinds, threads, fibers, steps of 0-2 ticks, loss
 * points): no crash or leak (sanitizers), problems counted, and no nonsense
 * out: the threads' self times add up to at most the span, and no sample
 * exceeds it. */
static void test_random_garbage(void)
{
    sim s = {.rng = 99};
    for (int round = 0; round < 20; round++) {
        comb_sched_model *m = comb_sched_model_new();
        CHECK(m != NULL);
        if (!m)
            return;
        uint64_t t = sim_rand(&s, 1000), n = 5000 + sim_rand(&s, 5000);
        for (uint64_t i = 0; i < n; i++) {
            if (sim_rand(&s, 500) == 0) {
                comb_sched_model_loss(m);
                continue;
            }
            t += sim_rand(&s, 3);
            comb_sched_event e = {.ts = t,
                                  .kind = (uint8_t)sim_rand(&s, COMB_SCHED_KIND_COUNT),
                                  .thr = (uint16_t)sim_rand(&s, 4),
                                  .fiber = 0x100 + (uint32_t)sim_rand(&s, 3),
                                  .from_thr = T};
            if (comb_sched_model_event(m, &e))
                CHECK(!"out of memory");
        }
        comb_sched_result r;
        CHECK(comb_sched_model_finish(m, &r) == 0);
        uint64_t span = r.last_ts - r.first_ts, threads = 0;
        bool sane = true;
        for (size_t i = 0; i < r.nthreads; i++) {
            threads += r.threads[i].self_ticks;
            sane = sane && r.threads[i].run_time.max <= span && r.threads[i].latency.max <= span;
        }
        for (size_t j = 0; j < r.nfibers; j++)
            sane = sane && r.fibers[j].run_time.max <= span && r.fibers[j].self_ticks <= span;
        CHECK(sane);
        CHECK(threads <= span);
        CHECK(comb_sched_problem_total(&r.problems) > 0);
        comb_sched_result_free(&r);
    }
}

/* A capture that starts inside a run and stops inside others, with lost
 * events in between:
 *   exit 4 @1        exit without enter (the capture started during its run)
 *   1 runs 10..50; 2 enters at 21, its exit is lost: 2's run never ended, and
 *     1's self time (which would include it) is no sample
 *   fiber C resumed @55 in thread 3, which is not running; completed @57
 *   a loss point while 1 runs (60..) with fiber A open and 2 pending: both runs
 *     and the wakeup are discarded; then 1's exit @80 has no enter
 *   yield of fiber B @90, never resumed
 *   1 enters @100 and resumes A @101: open at the end. */
static void test_truncated_and_damaged(void)
{
    const uint32_t A = 0xA0, B = 0xB0, C = 0xC0;
    const ev v[] = {{EX, 1, 4, 0},  {W, 5, 1, 0},    {EN, 10, 1, 0},  {W, 20, 2, 0},  {EN, 21, 2, 0},
                    {EX, 50, 1, 0}, {FR, 55, 3, C},  {FC, 57, 3, C},  {EN, 60, 1, 0}, {FR, 61, 1, A},
                    {W, 62, 2, 0},  LOSS,            {EX, 80, 1, 0},  {FY, 90, 1, B}, {EN, 100, 1, 0},
                    {FR, 101, 1, A}};
    comb_sched_result r = run(v, sizeof v / sizeof v[0]);
    const comb_sched_problems *p = &r.problems;
    CHECK_EQ_U64(p->exit_without_enter, 2);
    CHECK_EQ_U64(p->lost_ends, 1);
    CHECK_EQ_U64(p->fiber_not_running, 1);
    CHECK_EQ_U64(p->fiber_end_without_resume, 1);
    CHECK_EQ_U64(p->loss_points, 1);
    CHECK_EQ_U64(p->runs_cut, 2);
    CHECK_EQ_U64(p->wakeups_cut, 1);
    CHECK_EQ_U64(p->open_at_end, 2);
    CHECK_EQ_U64(comb_sched_problem_total(p), 2 + 1 + 1 + 1 + 1 + 2);
    const comb_sched_thread *t1 = thread(&r, 1), *t2 = thread(&r, 2);
    CHECK_EQ_U64(t1->runs, 3);
    CHECK_EQ_U64(t1->run_time.count, 0); /* damaged, cut, open */
    CHECK(!t1->longest.valid);
    check_stats(&t1->latency, 1, 5, 5, 5, 5, 5);
    CHECK_EQ_U64(t2->runs, 1);
    CHECK_EQ_U64(t2->run_time.count, 0);
    check_stats(&t2->latency, 1, 1, 1, 1, 1, 1);
    const comb_sched_fiber *c = fiber(&r, 3, C), *a = fiber(&r, 1, A), *b = fiber(&r, 1, B);
    CHECK_EQ_U64(c->resumes, 1);
    CHECK_EQ_U64(c->completions, 1);
    CHECK_EQ_U64(c->run_time.count, 0);
    CHECK_EQ_U64(a->resumes, 2);
    CHECK_EQ_U64(a->run_time.count, 0);
    CHECK_EQ_U64(b->yields, 1);
    CHECK(thread(&r, 3)->runs == 0 && thread(&r, 4)->runs == 0);

    comb_sched_report_context ctx = {.session = 2, .core_hz = 25000000, .ts_hz = 25000000};
    comb_strbuf sb = {0};
    comb_sched_report_json(&r, &ctx, &sb);
    const char *j = comb_sb_str(&sb);
    CHECK(strstr(j, "\"problems\":{\"total\":8,\"open_at_end\":2,\"exit_without_enter\":2,\"lost_ends\":1,"
                    "\"fiber_not_running\":1,\"fiber_end_without_resume\":1,\"out_of_order\":0,\"loss_points\":1,"
                    "\"runs_cut\":2,\"wakeups_cut\":1,") != NULL);
    CHECK(strstr(j, "\"run_time\":{\"count\":0,\"ticks\":{\"min\":null,\"p50\":null,\"p90\":null,\"p99\":null,"
                    "\"max\":null},\"cycles\":{\"min\":null,") != NULL);
    CHECK(strstr(j, "\"longest_run\":{\"start_ts\":null,\"ticks\":null,\"cycles\":null,\"us\":null}") != NULL);
    comb_sb_free(&sb);
    comb_sched_report_text(&r, &ctx, &sb);
    j = comb_sb_str(&sb);
    CHECK(strstr(j, "warning: 2 runs were still open when the capture stopped") != NULL);
    CHECK(strstr(j, "warning: 2 thread_exits of a thread that was not running") != NULL);
    CHECK(strstr(j, "warning: 1 run never ended") != NULL);
    CHECK(strstr(j, "warning: 1 fiber was resumed in a thread that was not running") != NULL);
    CHECK(strstr(j, "warning: 1 fiber yield or completion without a resume") != NULL);
    CHECK(strstr(j, "warning: events may be missing at 1 place (0 dropped events with 0 packets, 0 decode errors);\n"
                    "         discarded there: 2 open runs, 1 pending wakeup\n") != NULL);
    CHECK(max_columns(j) <= 100);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);

    /* empty model, and an event fed out of time order (taken as simultaneous) */
    const ev back[] = {{EN, 100, 0, 0}, {EX, 90, 0, 0}};
    r = run(back, 2);
    CHECK_EQ_U64(r.problems.out_of_order, 1);
    check_stats(&thread(&r, 0)->run_time, 1, 0, 0, 0, 0, 0);
    comb_sched_result_free(&r);
    r = run(NULL, 0);
    CHECK_EQ_U64(r.events + r.nthreads + r.nfibers + r.last_ts - r.first_ts, 0);
    comb_sched_result_free(&r);
}

/* A damaged trace in stream order (offset = 10 x position): thread 1 runs
 * 100 ticks every 1000 from tick 10,000,000, 20 times, with an idle gap of
 * 5,000,000 ticks before run 10 (a step, not an outlier); in run 5 thread 2
 * preempts fiber F between its stamp and its emission (F's resume, stamped
 * at +15, comes after thread 2's events: a reordering, not an outlier). Two
 * stamps are corrupted: run 3's exit reads 1509984623 (the spike that made
 * a 2.4 ms span 60.4 s) and run 14's enter reads 1000 (a high bit cleared).
 * Both are found, nothing else; without them the span and the runs are right. */
static void test_ts_outliers(void)
{
    ev v[80];
    size_t n = 0, spike = 0, dip = 0;
    for (uint64_t k = 0; k < 20; k++) {
        uint64_t base = 10000000 + 1000 * k + (k >= 10 ? 5000000 : 0);
        v[n++] = (ev){W, base, 1, 0};
        if (k == 14)
            dip = n;
        v[n++] = (ev){EN, k == 14 ? 1000 : base + 10, 1, 0};
        if (k == 5) {
            v[n++] = (ev){W, base + 20, 2, 0};
            v[n++] = (ev){EN, base + 21, 2, 0};
            v[n++] = (ev){EX, base + 60, 2, 0};
            v[n++] = (ev){FR, base + 15, 1, 0xF0}; /* stamped before thread 2 came */
            v[n++] = (ev){FY, base + 80, 1, 0xF0};
        }
        if (k == 3)
            spike = n;
        v[n++] = (ev){EX, k == 3 ? 1509984623u : base + 110, 1, 0};
    }
    comb_sched_outliers *o = comb_sched_outliers_new(25000); /* 1 ms at 25 MHz */
    CHECK(o != NULL);
    for (size_t i = 0; i < n; i++)
        CHECK(comb_sched_outliers_feed(o, v[i].ts, 10 * i) == 0);
    uint64_t *bad;
    size_t nbad;
    CHECK(comb_sched_outliers_finish(o, &bad, &nbad) == 0);
    CHECK_EQ_U64(nbad, 2);
    if (nbad == 2) {
        CHECK_EQ_U64(bad[0], 10 * spike);
        CHECK_EQ_U64(bad[1], 10 * dip);
    }
    /* the report's second pass: the rest in time order (ts, then offset) */
    ev kept[80];
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (i != spike && i != dip)
            kept[nk++] = v[i];
    for (size_t i = 1; i < nk; i++) /* insertion sort by ts, stable */
        for (size_t j = i; j > 0 && kept[j - 1].ts > kept[j].ts; j--) {
            ev t = kept[j];
            kept[j] = kept[j - 1];
            kept[j - 1] = t;
        }
    comb_sched_result r = run(kept, nk);
    CHECK_EQ_U64(r.first_ts, 10000000);
    CHECK_EQ_U64(r.last_ts, 10000000 + 19000 + 5000000 + 110);
    const comb_sched_thread *t1 = thread(&r, 1);
    CHECK_EQ_U64(t1->runs, 19);                  /* run 14's enter is gone */
    CHECK_EQ_U64(t1->run_time.max, 110 - 10);    /* no run of a minute */
    CHECK_EQ_U64(r.problems.open_at_end + r.problems.out_of_order, 0);
    check_stats(&thread(&r, 2)->run_time, 1, 39, 39, 39, 39, 39);
    CHECK(fiber(&r, 1, 0xF0)->run_time.count == 1);
    comb_sched_result_free(&r);
    free(bad);

    /* the same stream untouched: no outliers */
    o = comb_sched_outliers_new(25000);
    for (size_t i = 0; i < n; i++)
        CHECK(comb_sched_outliers_feed(o, i == spike ? v[i - 1].ts + 100 : i == dip ? v[i - 1].ts + 10 : v[i].ts,
                                       10 * i) == 0);
    CHECK(comb_sched_outliers_finish(o, &bad, &nbad) == 0);
    CHECK_EQ_U64(nbad, 0);
    CHECK(bad == NULL);
    /* a lone stamp at either end of the stream is never taken for one */
    o = comb_sched_outliers_new(10);
    const uint64_t ends[] = {5, 1000, 1010, 1020, 1030, 900000000};
    for (size_t i = 0; i < 6; i++)
        CHECK(comb_sched_outliers_feed(o, ends[i], i) == 0);
    CHECK(comb_sched_outliers_finish(o, &bad, &nbad) == 0);
    CHECK_EQ_U64(nbad, 0);
    /* the report: counted in the total, JSON and a warning */
    r = run(NULL, 0);
    r.problems.ts_outliers = 2;
    CHECK_EQ_U64(comb_sched_problem_total(&r.problems), 2);
    comb_sched_report_context ctx = {.session = 1, .core_hz = 25000000, .ts_hz = 25000000};
    comb_strbuf sb = {0};
    comb_sched_report_json(&r, &ctx, &sb);
    CHECK(strstr(comb_sb_str(&sb), "\"skipped_rows\":0,\"ts_outliers\":2,") != NULL);
    comb_sb_free(&sb);
    comb_sched_report_text(&r, &ctx, &sb);
    CHECK(strstr(comb_sb_str(&sb), "warning: 2 events with a timestamp far out of line") != NULL);
    CHECK(max_columns(comb_sb_str(&sb)) <= 100);
    comb_sb_free(&sb);
    comb_sched_result_free(&r);
}

/* Nearest rank: rank ceil(P n / 100). */
static void test_percentiles(void)
{
    comb_sched_samples s = {0};
    comb_sched_stats st;
    for (uint64_t v = 100; v >= 1; v--) /* 1..100, descending */
        CHECK(comb_sched_samples_add(&s, v) == 0);
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    check_stats(&st, 100, 1, 50, 90, 99, 100);
    comb_sched_samples_free(&s);
    for (uint64_t v = 1; v <= 10; v++)
        CHECK(comb_sched_samples_add(&s, v * 1000) == 0);
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    check_stats(&st, 10, 1000, 5000, 9000, 10000, 10000);
    comb_sched_samples_free(&s);
    CHECK(comb_sched_samples_add(&s, 42) == 0);
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    check_stats(&st, 1, 42, 42, 42, 42, 42);
    comb_sched_samples_free(&s);
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    check_stats(&st, 0, 0, 0, 0, 0, 0);
    /* values past 32 bits switch the array to 8-byte samples, keeping the rest */
    CHECK(comb_sched_samples_add(&s, 7) == 0);
    CHECK(comb_sched_samples_add(&s, 5) == 0);
    CHECK(comb_sched_samples_bytes(&s) == 16 * 4);
    CHECK(comb_sched_samples_add(&s, (uint64_t)1 << 40) == 0);
    CHECK(comb_sched_samples_add(&s, 6) == 0);
    CHECK(comb_sched_samples_bytes(&s) == 16 * 8);
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    check_stats(&st, 4, 5, 6, (uint64_t)1 << 40, (uint64_t)1 << 40, (uint64_t)1 << 40);
    comb_sched_samples_free(&s);
    /* a radix sort over bytes that differ in every position, against a known order */
    uint64_t x = 88172645463325252ull;
    uint32_t hist[4] = {0};
    for (int i = 0; i < 4000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        CHECK(comb_sched_samples_add(&s, (uint32_t)x) == 0);
        hist[(uint32_t)x >> 30]++;
    }
    CHECK(comb_sched_samples_stats(&s, &st) == 0);
    bool sorted = true;
    for (size_t i = 1; i < s.n; i++)
        sorted = sorted && s.v32[i - 1] <= s.v32[i];
    CHECK(sorted);
    CHECK(s.v32[hist[0]] >> 30 == 1 && s.v32[hist[0] - 1] >> 30 == 0);
    comb_sched_samples_free(&s);
}

static void test_kinds(void)
{
    for (unsigned k = 0; k < COMB_SCHED_KIND_COUNT; k++)
        CHECK(comb_sched_kind_parse(comb_sched_kind_str(k)) == (int)k);
    CHECK(comb_sched_kind_parse("fiber_resumed") == COMB_SCHED_FIBER_RESUMED);
    CHECK(comb_sched_kind_parse("alloc") == -1);
}

int main(void)
{
    test_single_thread();
    test_preemption();
    test_coalesced_wakeups();
    test_hardware_entries();
    test_fibers();
    test_truncated_and_damaged();
    test_ts_outliers();
    test_same_tick();
    test_same_tick_random();
    test_random_garbage();
    test_percentiles();
    test_kinds();
    return check_finish("test_sched_report");
}
