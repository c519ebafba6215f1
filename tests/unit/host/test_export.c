/*
 * comb export: CSV fields (RFC 4180 quoting, raw bytes kept), the three
 * tables, and the Perfetto trace of a session with every kind of damage a
 * capture can have (an exit before any enter, a lost exit, a fiber end
 * without its resume, a run still open at the end, a nested heap event
 * stamped before the one it interrupted): every B has its E on its track,
 * timestamps never go back along a track, every flow has both ends.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/csv_text.h"
#include "comb/session_export.h"
#include "dashboard_db.h"
#include "test_tmp.h"

static char *slurp(FILE *f)
{
    long n = ftell(f);
    rewind(f);
    char *buf = calloc((size_t)n + 1, 1);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    return buf;
}

static void test_csv_fields(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"plain", 5, "plain"},
        {"a,b", 3, "\"a,b\""},
        {"say \"hi\"", 8, "\"say \"\"hi\"\"\""},
        {"two\nlines", 9, "\"two\nlines\""},
        {"cr\r", 3, "\"cr\r\""},
        {" padded", 7, "\" padded\""},
        {"\xff\x01raw", 5, "\xff\x01raw"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = tmpfile();
        comb_csv_field(f, cases[i].in, cases[i].len);
        char *s = slurp(f);
        CHECK(!strcmp(s, cases[i].out));
        free(s);
        fclose(f);
    }
    FILE *f = tmpfile();
    comb_csv_double(f, 0.5);
    fputc(',', f);
    comb_csv_double(f, 1.0 / 0.0);
    fputc(',', f);
    comb_csv_double(f, 123456789012.0);
    char *s = slurp(f);
    CHECK(!strcmp(s, "0.5,,123456789012"));
    free(s);
    fclose(f);
}

static void make_session(const char *path)
{
    test_db db;
    test_db_open(&db, path, 1000000, 1000);
    test_db_sched(&db, "exit", 1005, 0, -1, -1);  /* the capture started inside a run */
    test_db_sched(&db, "wakeup", 1010, 0, 255, -1);
    test_db_sched(&db, "enter", 1020, 0, -1, -1);
    test_db_sched(&db, "fiber_resumed", 1021, 0, -1, 0x20001000);
    test_db_sched(&db, "wakeup", 1022, 1, 0, -1);  /* thread 0 wakes thread 1 */
    test_db_sched(&db, "enter", 1023, 1, -1, -1);
    test_db_sched(&db, "exit", 1030, 1, -1, -1);
    test_db_sched(&db, "fiber_yielded", 1031, 0, -1, 0x20001000);
    test_db_sched(&db, "fiber_completed", 1032, 0, -1, 0x20002000); /* never resumed */
    /* thread 0's exit was lost: the next enter closes the run */
    test_db_sched(&db, "enter", 1040, 0, -1, -1);
    test_db_sched(&db, "fiber_added", 1041, 0, -1, 0x20003000);
    test_db_sched(&db, "exit", 1045, 0, -1, -1);
    test_db_sched(&db, "wakeup", 1050, 2, 255, -1);
    test_db_sched(&db, "enter", 1060, 2, -1, -1);  /* still running at the end */
    test_db_heap(&db, "alloc", 1011, 0x100, -1, 40, 0x8001);
    test_db_heap(&db, "alloc", 1015, 0x200, -1, 24, -1);
    test_db_heap(&db, "alloc", 1013, 0x300, -1, 8, -1); /* nested: stamped before the one above */
    test_db_heap(&db, "free", 1016, 0x100, -1, -1, -1);
    test_db_heap(&db, "realloc", 1017, 0x400, 0x200, 100, -1);
    test_db_log(&db, 0, 5000000000LL, "hello, \"world\"", 14);
    test_db_log(&db, 2, 5000001000LL, "bad \xff utf-8\n", 12);
    test_db_close(&db);
}

static void test_tables(const char *path)
{
    char err[700];
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *f = tmpfile();
    CHECK(comb_export_csv(d, COMB_EXPORT_LOG, f, err, sizeof err) == 0);
    char *s = slurp(f);
    CHECK(!strcmp(s, "seq,port,host_ns,host_s,itm_ts,text\n"
                     "19,0,5000000000,0,,\"hello, \"\"world\"\"\"\n"
                     "20,2,5000001000,1e-06,,\"bad \xff utf-8\n\"\n"));
    free(s);
    fclose(f);
    f = tmpfile();
    CHECK(comb_export_csv(d, COMB_EXPORT_HEAP, f, err, sizeof err) == 0);
    s = slurp(f);
    CHECK(!strncmp(s, "seq,offset,t_s,kind,ts,ptr,old_ptr,size,old_size,caller,depth\n"
                      "14,14,1.1e-05,alloc,1011,256,,40,,32769,0\n", 104));
    CHECK(strstr(s, "\n18,18,1.7e-05,realloc,1017,1024,512,100,,,0\n") != NULL);
    free(s);
    fclose(f);
    f = tmpfile();
    CHECK(comb_export_csv(d, COMB_EXPORT_SCHED, f, err, sizeof err) == 0);
    s = slurp(f);
    CHECK(!strncmp(s, "seq,offset,t_s,kind,ts,thr,from_thr,fiber,depth\n"
                      "0,0,5e-06,exit,1005,0,,,0\n"
                      "1,1,1e-05,wakeup,1010,0,255,,0\n", 105));
    int lines = 0;
    for (char *p = s; *p; p++)
        lines += *p == '\n';
    CHECK_EQ_U64(lines, 15);
    free(s);
    fclose(f);
    CHECK(comb_export_table_parse("heap") == COMB_EXPORT_HEAP);
    CHECK(comb_export_table_parse("sched") == COMB_EXPORT_SCHED);
    CHECK(comb_export_table_parse("log") == COMB_EXPORT_LOG);
    CHECK(comb_export_table_parse("trace") == -1);
    comb_dash_close(d);
}

/* One event per line: {"ph":"X","ts":T,"pid":P[,"tid":N]... */
typedef struct track {
    int pid, tid;
    int depth;
    double last;
} track;

static void test_perfetto(const char *path)
{
    char err[700];
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *f = tmpfile();
    comb_perfetto_stats st;
    CHECK(comb_export_perfetto(d, f, &st, err, sizeof err) == 0);
    char *s = slurp(f);
    CHECK(!strncmp(s, "{\"displayTimeUnit\":\"ns\",\"otherData\":{", 37));
    CHECK(strstr(s, "\"traceEvents\":[\n") != NULL);
    CHECK(!strcmp(s + strlen(s) - 4, "\n]}\n"));
    track tracks[16];
    int ntracks = 0, flows_s = 0, flows_f = 0, counters = 0, instants = 0, metas = 0;
    long flow_ids = 0; /* sum of s ids minus sum of f ids */
    double last_counter = -1;
    for (char *line = strstr(s, "[\n") + 2; *line && *line != ']'; line = strchr(line, '\n') + 1) {
        char ph;
        double ts;
        int pid, tid = -1;
        CHECK(sscanf(line, "{\"ph\":\"%c\",\"ts\":%lf,\"pid\":%d,\"tid\":%d", &ph, &ts, &pid, &tid) >= 3);
        if (ph == 'M') {
            metas++;
            continue;
        }
        if (ph == 'C') {
            CHECK(ts >= last_counter);
            last_counter = ts;
            counters++;
            CHECK(strstr(line, "\"name\":\"heap\",\"args\":{\"bytes in use\":") != NULL);
            continue;
        }
        CHECK(tid >= 0);
        track *t = NULL;
        for (int i = 0; i < ntracks; i++)
            if (tracks[i].pid == pid && tracks[i].tid == tid)
                t = &tracks[i];
        if (!t) {
            CHECK(ntracks < 16);
            t = &tracks[ntracks++];
            *t = (track){.pid = pid, .tid = tid, .last = -1};
        }
        CHECK(ts >= t->last); /* never back along a track */
        t->last = ts;
        long id = 0;
        const char *idp = strstr(line, "\"id\":");
        if (idp)
            id = strtol(idp + 5, NULL, 10);
        switch (ph) {
        case 'B': t->depth++; break;
        case 'E': t->depth--; CHECK(t->depth >= 0); break;
        case 's': flows_s++; flow_ids += id; break;
        case 'f': flows_f++; flow_ids -= id; CHECK(strstr(line, "\"bp\":\"e\"") != NULL); break;
        case 'i': instants++; break;
        case 'X': CHECK(strstr(line, "\"dur\":0") != NULL); break;
        default: CHECK(!"unexpected phase"); break;
        }
    }
    for (int i = 0; i < ntracks; i++)
        CHECK(tracks[i].depth == 0);
    /* wakeups: thread mode -> 0, 0 -> 1, thread mode -> 2 */
    CHECK(flows_s == 3 && flows_f == 3 && flow_ids == 0);
    CHECK_EQ_U64(st.flows, 3);
    CHECK_EQ_U64(st.runs, 4);
    CHECK_EQ_U64(st.fiber_runs, 1);
    CHECK_EQ_U64(st.unmatched, 2); /* the first exit, the completion without resume */
    CHECK_EQ_U64(st.counters, 5);
    CHECK(counters == 5 && instants == 3); /* fiber_added and 2 log lines */
    CHECK_EQ_U64(st.log_lines, 2);
    CHECK(metas >= 6);
    /* the heap counter: 40, 64, 72, 32, then the realloc: 24 out, 100 in */
    CHECK(strstr(s, "\"bytes in use\":72}") && strstr(s, "\"bytes in use\":108}"));
    /* the nested heap event at 13 µs is drawn at 15 µs, after the one it interrupted */
    CHECK(strstr(s, "{\"ph\":\"C\",\"ts\":15.000,\"pid\":1,\"name\":\"heap\",\"args\":{\"bytes in use\":72}}") != NULL);
    /* bytes that are not UTF-8 become U+FFFD; quotes and newlines are escaped */
    CHECK(strstr(s, "\"text\":\"bad \\ufffd utf-8\\u000a\"") != NULL);
    CHECK(strstr(s, "\"text\":\"hello, \\\"world\\\"\"") != NULL);
    CHECK(strstr(s, "\"thread_name\",\"args\":{\"name\":\"thread mode / other interrupts\"}") != NULL);
    free(s);
    fclose(f);
    comb_dash_close(d);
}

/* Thread numbers are 16 bits: thread 256 gets its own track, not thread 0's. */
static void test_perfetto_wide_threads(void)
{
    char path[600], err[700];
    test_tmp_path(path, sizeof path, "wide.db");
    test_db db;
    test_db_open(&db, path, 1000000, 0);
    test_db_sched(&db, "enter", 10, 0, -1, -1);
    test_db_sched(&db, "exit", 20, 0, -1, -1);
    test_db_sched(&db, "wakeup", 25, 256, 0, -1);
    test_db_sched(&db, "enter", 30, 256, -1, -1);
    test_db_sched(&db, "exit", 40, 256, -1, -1);
    test_db_sched(&db, "wakeup", 45, 255, 255, -1); /* thread 255 woken from thread mode: two tracks */
    test_db_sched(&db, "enter", 50, 255, -1, -1);
    test_db_sched(&db, "exit", 60, 255, -1, -1);
    test_db_close(&db);
    comb_dash *d;
    CHECK(comb_dash_open(path, 0, &d, err, sizeof err) == 0);
    FILE *f = tmpfile();
    comb_perfetto_stats st;
    CHECK(comb_export_perfetto(d, f, &st, err, sizeof err) == 0);
    CHECK_EQ_U64(st.runs, 3);
    CHECK_EQ_U64(st.unmatched, 0);
    char *s = slurp(f);
    CHECK(strstr(s, "{\"ph\":\"B\",\"ts\":10.000,\"pid\":1,\"tid\":1,") != NULL);
    CHECK(strstr(s, "{\"ph\":\"B\",\"ts\":30.000,\"pid\":1,\"tid\":257,") != NULL);
    CHECK(strstr(s, "{\"ph\":\"B\",\"ts\":50.000,\"pid\":1,\"tid\":256,") != NULL);
    CHECK(strstr(s, "{\"ph\":\"s\",\"ts\":45.000,\"pid\":1,\"tid\":65537,") != NULL);
    CHECK(strstr(s, "\"tid\":257,\"name\":\"thread_name\",\"args\":{\"name\":\"thread 256\"}") != NULL);
    CHECK(strstr(s, "\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"thread 0\"}") != NULL);
    CHECK(strstr(s, "\"tid\":65537,\"name\":\"thread_name\",\"args\":{\"name\":\"thread mode / other interrupts\"}") !=
          NULL);
    /* no slice of thread 256 lands on thread 0's track */
    CHECK(strstr(s, "{\"ph\":\"B\",\"ts\":30.000,\"pid\":1,\"tid\":1,") == NULL);
    free(s);
    fclose(f);
    comb_dash_close(d);
    test_remove_db(path);
}

int main(void)
{
    test_tmp_init("export");
    char path[600];
    test_tmp_path(path, sizeof path, "export.db");
    make_session(path);
    test_csv_fields();
    test_tables(path);
    test_perfetto(path);
    test_perfetto_wide_threads();
    test_remove_db(path);
    test_tmp_done();
    return check_finish("test_export");
}
