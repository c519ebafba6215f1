/*
 * The dashboard's scheduler and log data on a hand-made session whose every
 * number is worked out below: wakeup-to-enter latencies (coalesced wakeups, a
 * wakeup while running, hardware entries without one, nested preemption),
 * run times, the CDF and histogram files, the same latencies as
 * `comb fibers report`'s reconstruction, timeline windows (clipping, fibers,
 * wakeups, the default window), log rates, and session-time parsing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/dashboard_data.h"
#include "comb/sched_session.h"
#include "dashboard_db.h"
#include "test_tmp.h"

/* ts_hz 1 MHz: one tick is one µs; time 0 at tick 0. */
static void fill_sched(test_db *db)
{
    /* thread 1: woken by thread mode at 100, runs 110-150: latency 10, run 40 */
    test_db_sched(db, "wakeup", 100, 1, 255, -1);
    test_db_sched(db, "enter", 110, 1, -1, -1);
    test_db_sched(db, "exit", 150, 1, -1, -1);
    /* woken at 200 and again at 205 (coalesced), runs 230-260: latency 30, run 30 */
    test_db_sched(db, "wakeup", 200, 1, 2, -1);
    test_db_sched(db, "wakeup", 205, 1, 2, -1);
    test_db_sched(db, "enter", 230, 1, -1, -1);
    test_db_sched(db, "exit", 260, 1, -1, -1);
    /* thread 2 woken at 300, runs 301-340 (latency 1, run 39); it wakes thread 1
     * at 310, which preempts it 312-320 (latency 2, run 8) */
    test_db_sched(db, "wakeup", 300, 2, 255, -1);
    test_db_sched(db, "enter", 301, 2, -1, -1);
    test_db_sched(db, "wakeup", 310, 1, 2, -1);
    test_db_sched(db, "enter", 312, 1, -1, -1);
    test_db_sched(db, "exit", 320, 1, -1, -1);
    test_db_sched(db, "exit", 340, 2, -1, -1);
    /* thread 1 entered by its hardware interrupt: no latency; run 10 */
    test_db_sched(db, "enter", 400, 1, -1, -1);
    test_db_sched(db, "exit", 410, 1, -1, -1);
    /* thread 2 (hardware) runs two fibers 500-540 */
    test_db_sched(db, "fiber_added", 490, 2, -1, 0x2000);
    test_db_sched(db, "enter", 500, 2, -1, -1);
    test_db_sched(db, "fiber_resumed", 505, 2, -1, 0x2000);
    test_db_sched(db, "fiber_yielded", 520, 2, -1, 0x2000);
    test_db_sched(db, "fiber_resumed", 525, 2, -1, 0x3000);
    test_db_sched(db, "fiber_completed", 530, 2, -1, 0x3000);
    test_db_sched(db, "exit", 540, 2, -1, -1);
    /* thread 1 runs 590-610 and is woken during it at 600: served by the next
     * entry, 620 (latency 20); runs 20 and 10 */
    test_db_sched(db, "enter", 590, 1, -1, -1);
    test_db_sched(db, "wakeup", 600, 1, 255, -1);
    test_db_sched(db, "exit", 610, 1, -1, -1);
    test_db_sched(db, "enter", 620, 1, -1, -1);
    test_db_sched(db, "exit", 630, 1, -1, -1);
}

static char *slurp(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *buf = calloc((size_t)n + 1, 1);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    return buf;
}

/* The value of column col (0-based) of the CSV line that starts with `key,`. */
static double cell(const char *csv, const char *key, int col)
{
    size_t kl = strlen(key);
    for (const char *p = csv; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) || p[kl] != ',')
            continue;
        const char *q = p;
        for (int c = 0; c < col; c++)
            q = strchr(q, ',') + 1;
        return strtod(q, NULL);
    }
    return NAN;
}

static void test_latency_and_runs(const char *path)
{
    char err[700];
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *hist = tmpfile(), *cdf = tmpfile();
    comb_dash_sched s;
    CHECK(comb_dash_sched_run(d, hist, cdf, &s, err, sizeof err) == 0);
    CHECK_EQ_U64(s.nthreads, 2);
    CHECK_EQ_U64(s.fibers, 2);
    CHECK_EQ_U64(s.fiber_runs, 2);
    CHECK_EQ_U64(s.span_ticks, 630 - 100);
    const comb_dash_thread *t1 = &s.threads[0], *t2 = &s.threads[1];
    CHECK_EQ_U64(t1->thr, 1);
    CHECK_EQ_U64(t1->wakeups, 5);
    CHECK_EQ_U64(t1->runs, 6);
    /* latencies 10, 30, 2, 20: nearest rank of 4 samples */
    CHECK_EQ_U64(t1->latency.count, 4);
    CHECK_EQ_U64(t1->latency.min, 2);
    CHECK_EQ_U64(t1->latency.p50, 10);
    CHECK_EQ_U64(t1->latency.p90, 30);
    CHECK_EQ_U64(t1->latency.p99, 30);
    CHECK_EQ_U64(t1->latency.max, 30);
    /* runs 40, 30, 8, 10, 20, 10 */
    CHECK_EQ_U64(t1->run_time.count, 6);
    CHECK_EQ_U64(t1->run_time.min, 8);
    CHECK_EQ_U64(t1->run_time.p50, 10);
    CHECK_EQ_U64(t1->run_time.p90, 40);
    CHECK_EQ_U64(t1->run_ticks, 118);
    CHECK(fabs(t1->cpu_share - 118.0 / 530) < 1e-12);
    CHECK_EQ_U64(t2->thr, 2);
    CHECK_EQ_U64(t2->latency.count, 1);
    CHECK_EQ_U64(t2->latency.p50, 1);
    CHECK_EQ_U64(t2->run_time.count, 2);
    CHECK_EQ_U64(t2->run_time.max, 40);

    /* the same latencies as comb fibers report's reconstruction */
    comb_sched_session info;
    comb_sched_result r;
    CHECK(comb_sched_session_report(path, 0, &info, &r, err, sizeof err) == 0);
    for (size_t i = 0; i < r.nthreads; i++) {
        const comb_dash_thread *mine = r.threads[i].thr == 1 ? t1 : t2;
        CHECK_EQ_U64(r.threads[i].latency.count, mine->latency.count);
        CHECK_EQ_U64(r.threads[i].latency.min, mine->latency.min);
        CHECK_EQ_U64(r.threads[i].latency.p50, mine->latency.p50);
        CHECK_EQ_U64(r.threads[i].latency.p90, mine->latency.p90);
        CHECK_EQ_U64(r.threads[i].latency.max, mine->latency.max);
        CHECK_EQ_U64(r.threads[i].wakeups, mine->wakeups);
        CHECK_EQ_U64(r.threads[i].runs, mine->runs);
    }
    comb_sched_result_free(&r);

    /* CDF: fraction j/200 -> the sample of rank ceil(4 j / 200) */
    char *c = slurp(cdf);
    CHECK(!strncmp(c, "fraction,thread 1,thread 2\n", 27));
    CHECK(cell(c, "0", 1) == 2 && cell(c, "0.25", 1) == 2 && cell(c, "0.255", 1) == 10);
    CHECK(cell(c, "0.5", 1) == 10 && cell(c, "0.75", 1) == 20 && cell(c, "0.755", 1) == 30);
    CHECK(cell(c, "1", 1) == 30 && cell(c, "1", 2) == 1 && cell(c, "0.5", 2) == 1);
    int lines = 0;
    for (const char *p = c; *p; p++)
        lines += *p == '\n';
    CHECK_EQ_U64(lines, 202);
    free(c);
    /* histogram: p99 30 µs over 40 bins -> 1 µs wide; one sample each in bins 2, 10, 20, 30 */
    char *h = slurp(hist);
    CHECK(!strncmp(h, "lo_us,hi_us,thread 1,thread 2\n", 30));
    CHECK(cell(h, "2", 1) == 3 && cell(h, "2", 2) == 1 && cell(h, "2", 3) == 0);
    CHECK(cell(h, "10", 2) == 1 && cell(h, "20", 2) == 1 && cell(h, "30", 2) == 1 && cell(h, "1", 3) == 1);
    CHECK(cell(h, "3", 2) == 0 && cell(h, "40", 2) == 0);
    double total = 0;
    for (int b = 0; b <= 40; b++) {
        char key[8];
        snprintf(key, sizeof key, "%d", b);
        total += cell(h, key, 2) + cell(h, key, 3);
    }
    CHECK(total == 5);
    free(h);
    fclose(hist);
    fclose(cdf);
    comb_dash_sched_free(&s);
    comb_dash_close(d);
}

static void test_timeline(const char *path)
{
    char err[700];
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    /* the preemption: thread 2 301-340 with thread 1 312-320 inside, wakeups 300 and 310 */
    FILE *f = tmpfile();
    comb_dash_window w;
    CHECK(comb_dash_timeline_csv(d, NULL, true, 300, true, 345, f, &w, err, sizeof err) == 0);
    char *c = slurp(f);
    CHECK(!strcmp(c, "row,label,start_s,end_s,kind\n"
                     "1,thread 2,0.000301,0.00034,run\n"
                     "0,thread 1,0.000312,0.00032,run\n"
                     "1,thread 2,0.0003,0.0003,wakeup\n"
                     "0,thread 1,0.00031,0.00031,wakeup\n"));
    CHECK(w.runs == 2 && w.wakeups == 2 && w.fiber_runs == 0 && !w.truncated);
    free(c);
    fclose(f);
    /* a window that starts inside runs and ends inside another: clipped */
    f = tmpfile();
    CHECK(comb_dash_timeline_csv(d, NULL, true, 505, true, 600, f, &w, err, sizeof err) == 0);
    c = slurp(f);
    CHECK(!strcmp(c, "row,label,start_s,end_s,kind\n"
                     "1,thread 2,0.000505,0.00054,run\n"
                     "0,thread 1,0.00059,0.0006,run\n"
                     "2,fiber 0x00002000 (thread 2),0.000505,0.00052,fiber\n"
                     "3,fiber 0x00003000 (thread 2),0.000525,0.00053,fiber\n"
                     "0,thread 1,0.0006,0.0006,wakeup\n"));
    free(c);
    fclose(f);
    /* the default window: from the first event, the whole session here (fewer runs than the default) */
    f = tmpfile();
    CHECK(comb_dash_timeline_csv(d, NULL, false, 0, false, 0, f, &w, err, sizeof err) == 0);
    CHECK(w.from == 100 && w.to == 630);
    CHECK_EQ_U64(w.runs, 8);
    CHECK_EQ_U64(w.fiber_runs, 2);
    CHECK_EQ_U64(w.wakeups, 6);
    char *by_query = slurp(f);
    fclose(f);
    /* the same defaults from a finished scheduler pass */
    comb_dash_sched s;
    CHECK(comb_dash_sched_run(d, NULL, NULL, &s, err, sizeof err) == 0);
    CHECK(s.first_ts == 100 && s.default_to == 630);
    f = tmpfile();
    CHECK(comb_dash_timeline_csv(d, &s, false, 0, false, 0, f, &w, err, sizeof err) == 0);
    c = slurp(f);
    CHECK(!strcmp(c, by_query));
    free(c);
    free(by_query);
    fclose(f);
    comb_dash_sched_free(&s);
    comb_dash_close(d);
}

static void test_log_rate(const char *path)
{
    char err[700];
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *f = tmpfile();
    comb_dash_log l;
    CHECK(comb_dash_log_run(d, 10, f, &l, err, sizeof err) == 0);
    CHECK_EQ_U64(l.nports, 2);
    CHECK(l.ports[0].port == 0 && l.ports[0].lines == 100 && l.ports[0].bytes == 500);
    CHECK(l.ports[1].port == 3 && l.ports[1].lines == 10 && l.ports[1].bytes == 30);
    CHECK(fabs(l.span_s - 0.099) < 1e-12);
    char *c = slurp(f);
    CHECK(!strncmp(c, "t_s,port 0,port 3\n", 18));
    /* 10 slices of 9.9 ms and a closing row; rate x width gives back every line */
    double width = (99e6 + 1) / 10 / 1e9, sum0 = 0, sum3 = 0;
    int rows = 0;
    const char *p = strchr(c, '\n') + 1;
    for (; *p; p = strchr(p, '\n') + 1, rows++) {
        double t, r0, r3;
        CHECK(sscanf(p, "%lf,%lf,%lf", &t, &r0, &r3) == 3);
        CHECK(fabs(t - rows * width) < 1e-9);
        if (rows < 10) {
            sum0 += r0 * width;
            sum3 += r3 * width;
        }
    }
    CHECK_EQ_U64(rows, 11);
    CHECK(fabs(sum0 - 100) < 1e-6 && fabs(sum3 - 10) < 1e-6);
    free(c);
    fclose(f);
    comb_dash_log_free(&l);
    comb_dash_close(d);
}

static void test_parse_time(const char *path, const char *path_no_hz)
{
    char err[700];
    comb_dash *d;
    int64_t t;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    const comb_dash_info *i = comb_dash_info_of(d);
    CHECK(comb_dash_parse_time(i, "1.5ms", &t) == 0 && t == 1500);
    CHECK(comb_dash_parse_time(i, "2", &t) == 0 && t == 2000000);
    CHECK(comb_dash_parse_time(i, "0.25s", &t) == 0 && t == 250000);
    CHECK(comb_dash_parse_time(i, "10us", &t) == 0 && t == 10);
    CHECK(comb_dash_parse_time(i, "3000ns", &t) == 0 && t == 3);
    CHECK(comb_dash_parse_time(i, "abc", &t) == -1);
    CHECK(comb_dash_parse_time(i, "-1", &t) == -1);
    CHECK(comb_dash_parse_time(i, "5 s", &t) == -1);
    CHECK(comb_dash_parse_time(i, "5t", &t) == -1);
    CHECK(!strcmp(comb_dash_time_unit(i), "s"));
    comb_dash_close(d);
    /* no ts_hz: ticks from time 0 (the first event) */
    CHECK(comb_dash_open(path_no_hz, 0, &d, err, sizeof err) == 0);
    i = comb_dash_info_of(d);
    CHECK(!strcmp(comb_dash_time_unit(i), "ticks"));
    CHECK(i->t0 == 100);
    CHECK(comb_dash_parse_time(i, "123", &t) == 0 && t == 223);
    CHECK(comb_dash_parse_time(i, "123t", &t) == 0 && t == 223);
    CHECK(comb_dash_parse_time(i, "1ms", &t) == -1);
    CHECK(comb_dash_time(i, 150) == 50);
    CHECK(comb_dash_duration_us(i, 7) == 7);
    comb_dash_close(d);
    /* session errors */
    CHECK(comb_dash_open(path, 9, &d, err, sizeof err) == -1);
    CHECK(strstr(err, "no session 9 (sessions 1 to 1)") != NULL);
    char missing[600];
    test_tmp_path(missing, sizeof missing, "missing.db");
    CHECK(comb_dash_open(missing, 0, &d, err, sizeof err) == -1);
    CHECK(strstr(err, "No such file") != NULL);
}

/* A `dropped` event (other_event) at the next seq/offset. */
static void add_dropped(test_db *db)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "INSERT INTO other_event(session, seq, offset, port, type, name, ts, depth, fields)"
             " VALUES (%lld, %lld, %lld, 31, 1, 'dropped', NULL, 0, '{\"packets\":3}')",
             (long long)db->session, (long long)db->seq, (long long)db->seq);
    db->seq++;
    CHECK(sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK);
}

/* After a capture loss the plots' pairing forgets what was pending, as the
 * latency table's model does: both count the same samples. */
static void test_loss_agrees_with_report(void)
{
    char path[600], err[700];
    test_tmp_path(path, sizeof path, "loss.db");
    test_db db;
    test_db_open(&db, path, 1000000, 0);
    test_db_sched(&db, "wakeup", 10, 1, 255, -1);
    add_dropped(&db); /* the wakeup at 10 may not be the one served at 50 */
    test_db_sched(&db, "enter", 50, 1, -1, -1);
    test_db_sched(&db, "exit", 60, 1, -1, -1);
    test_db_sched(&db, "wakeup", 100, 1, 255, -1);
    test_db_sched(&db, "enter", 105, 1, -1, -1);
    test_db_sched(&db, "exit", 110, 1, -1, -1);
    test_db_sched(&db, "wakeup", 190, 2, 1, -1);
    test_db_sched(&db, "enter", 200, 2, -1, -1);
    add_dropped(&db); /* the run of thread 2 is cut: its exit may belong to a lost enter */
    test_db_sched(&db, "exit", 230, 2, -1, -1);
    test_db_sched(&db, "wakeup", 240, 2, 255, -1);
    test_db_sched(&db, "enter", 247, 2, -1, -1);
    test_db_sched(&db, "exit", 250, 2, -1, -1);
    test_db_close(&db);

    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    comb_dash_sched s;
    CHECK(comb_dash_sched_run(d, NULL, NULL, &s, err, sizeof err) == 0);
    CHECK_EQ_U64(s.nthreads, 2);
    const comb_dash_thread *t1 = &s.threads[0], *t2 = &s.threads[1];
    CHECK_EQ_U64(t1->latency.count, 1); /* 40 is forgotten, 5 stays */
    CHECK_EQ_U64(t1->latency.max, 5);
    CHECK_EQ_U64(t1->run_time.count, 2);
    CHECK_EQ_U64(t2->latency.count, 2);
    CHECK_EQ_U64(t2->run_time.count, 1); /* 200 -> 230 crosses the loss */
    CHECK_EQ_U64(t2->run_time.max, 3);
    comb_sched_session info;
    comb_sched_result r;
    CHECK(comb_sched_session_report(path, 0, &info, &r, err, sizeof err) == 0);
    CHECK_EQ_U64(r.problems.dropped_events, 2);
    CHECK_EQ_U64(r.nthreads, 2);
    for (size_t i = 0; i < r.nthreads; i++) {
        const comb_dash_thread *mine = r.threads[i].thr == 1 ? t1 : t2;
        CHECK_EQ_U64(r.threads[i].latency.count, mine->latency.count);
        CHECK_EQ_U64(r.threads[i].latency.min, mine->latency.min);
        CHECK_EQ_U64(r.threads[i].latency.p50, mine->latency.p50);
        CHECK_EQ_U64(r.threads[i].latency.max, mine->latency.max);
        CHECK_EQ_U64(r.threads[i].run_time.count, mine->run_time.count);
    }
    comb_sched_result_free(&r);
    comb_dash_sched_free(&s);
    comb_dash_close(d);
    test_remove_db(path);
}

/* A window with more rows than the limit is cut where the limit is reached,
 * and says so, instead of thinning the rows it keeps. */
static void test_timeline_cut(void)
{
    char path[600], err[700];
    test_tmp_path(path, sizeof path, "cut.db");
    test_db db;
    test_db_open(&db, path, 1000000, 0);
    int64_t ts = 0;
    for (int i = 0; i < COMB_DASH_TIMELINE_MAX_ROWS / 2 + 100; i++) { /* 3 events, 2 rows each */
        test_db_sched(&db, "wakeup", ts += 2, 1, 255, -1);
        test_db_sched(&db, "enter", ts += 2, 1, -1, -1);
        test_db_sched(&db, "exit", ts += 2, 1, -1, -1);
    }
    test_db_close(&db);
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *f = tmpfile();
    comb_dash_window w;
    CHECK(comb_dash_timeline_csv(d, NULL, true, 0, true, ts, f, &w, err, sizeof err) == 0);
    CHECK(w.truncated);
    CHECK(w.asked_to == ts && w.to < ts && w.to > 0);
    CHECK_EQ_U64(w.runs + w.wakeups, COMB_DASH_TIMELINE_MAX_ROWS);
    /* every row ends inside the window drawn */
    char *c = slurp(f);
    double last = 0;
    for (char *line = strchr(c, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double a, b;
        CHECK(sscanf(strchr(strchr(line, ',') + 1, ',') + 1, "%lf,%lf", &a, &b) == 2);
        if (b > last)
            last = b;
    }
    CHECK(last <= comb_dash_time(comb_dash_info_of(d), w.to) + 1e-12);
    free(c);
    fclose(f);
    char note[400];
    comb_dash_window_note(comb_dash_info_of(d), &w, note, sizeof note);
    CHECK(strstr(note, "holds more than 50000") && strstr(note, "narrow it with --from/--to"));
    /* a narrower window is whole */
    f = tmpfile();
    CHECK(comb_dash_timeline_csv(d, NULL, true, 0, true, 6000, f, &w, err, sizeof err) == 0);
    CHECK(!w.truncated && w.to == 6000 && w.asked_to == 6000);
    comb_dash_window_note(comb_dash_info_of(d), &w, note, sizeof note);
    CHECK(note[0] == 0);
    fclose(f);
    comb_dash_close(d);
    test_remove_db(path);
}

int main(void)
{
    test_tmp_init("dashsched");
    char path[600], path2[600];
    test_tmp_path(path, sizeof path, "sched.db");
    test_tmp_path(path2, sizeof path2, "nohz.db");
    test_db db;
    test_db_open(&db, path, 1000000, 0);
    fill_sched(&db);
    for (int i = 0; i < 100; i++)
        test_db_log(&db, 0, 1000000000LL + i * 1000000LL, "line.", 5);
    for (int i = 0; i < 10; i++)
        test_db_log(&db, 3, 1000000000LL + i * 10000000LL, "abc", 3);
    test_db_close(&db);
    test_db_open(&db, path2, 0, 0);
    fill_sched(&db);
    test_db_close(&db);

    test_latency_and_runs(path);
    test_timeline(path);
    test_log_rate(path);
    test_parse_time(path, path2);
    test_loss_agrees_with_report();
    test_timeline_cut();
    test_remove_db(path);
    test_remove_db(path2);
    test_tmp_done();
    return check_finish("test_dashboard_sched");
}
