/*
 * Session store (docs/schema.md, version 3): schema creation and versioning,
 * refusal of newer and non-SQLite files, the columns each call writes, and
 * durability (WAL, checkpoints, a crash between checkpoints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "test_tmp.h"
#include "comb/session_store.h"

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
        check_failures++;
    }
    return db;
}

/* First column of the first row as an integer; `*is_null` tells NULL apart. -999 on no row. */
static long long q_int(sqlite3 *db, const char *sql, int *is_null)
{
    sqlite3_stmt *st;
    long long v = -999;
    if (is_null)
        *is_null = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
        check_failures++;
        return v;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (is_null)
            *is_null = sqlite3_column_type(st, 0) == SQLITE_NULL;
        v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
}

/* First column of the first row as text ("<NULL>" / "<none>"), copied into buf. */
static const char *q_text(sqlite3 *db, const char *sql, char *buf, size_t cap)
{
    sqlite3_stmt *st;
    snprintf(buf, cap, "<none>");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
        check_failures++;
        return buf;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            snprintf(buf, cap, "<NULL>");
        else
            snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    return buf;
}

#define CHECK_STR(actual, expected)                                                                     \
    do {                                                                                                \
        const char *a_ = (actual), *e_ = (expected);                                                    \
        check_count++;                                                                                  \
        if (strcmp(a_, e_) != 0) {                                                                      \
            check_failures++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: '%s' != '%s'\n", __FILE__, __LINE__, a_, e_);        \
        }                                                                                               \
    } while (0)

static void check_iso_time(const char *t)
{
    /* 2024-01-02T03:04:05.678Z */
    CHECK_EQ_U64(strlen(t), 24);
    if (strlen(t) != 24)
        return;
    CHECK(t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' && t[16] == ':' && t[19] == '.' &&
          t[23] == 'Z');
    CHECK(t[0] == '2');
}

static comb_trace_event make_event(unsigned port, unsigned type, unsigned n, const uint8_t *sizes,
                                   const uint32_t *values, uint64_t offset, unsigned depth)
{
    comb_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.port = (uint8_t)port;
    ev.type = (uint8_t)type;
    ev.schema = comb_evt_schema_of(type);
    ev.nfields = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        ev.sizes[i] = sizes[i];
        ev.values[i] = values[i];
    }
    ev.has_caller = ev.schema && n > ev.schema->nfields;
    ev.offset = offset;
    ev.depth = (uint8_t)depth;
    return ev;
}

static void test_fresh_file(void)
{
    char path[300];
    test_tmp_path(path, sizeof path, "fresh.db");
    comb_store *s = NULL;
    char err[512] = "";
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(s != NULL);
    comb_store_close(s);

    sqlite3 *db = db_open(path);
    char buf[256];
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), COMB_SCHEMA_VERSION);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 3);
    CHECK_STR(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_EQ_U64(q_int(db,
                       "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                       "('session','log_line','trace_event','decode_error')",
                       NULL),
                 4);
    /* the documented columns exist */
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('session') WHERE name IN ('id','started_at','ended_at',"
                "'source','settings','protocol_version','core_hz','ts_hz','build_id','start_ts','end_reason',"
                "'bytes','packets','events','log_lines','overflows','decode_errors','bytes_skipped',"
                "'trace_errors','dropped','acks')",
                NULL) == 21);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('log_line') WHERE name IN ('session','seq','port',"
                "'host_ns','itm_ts','text')",
                NULL) == 6);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('trace_event') WHERE name IN ('session','seq','offset',"
                "'port','type','name','ts','depth','fields')",
                NULL) == 9);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('decode_error') WHERE name IN ('session','seq','offset',"
                "'layer','kind','port','length')",
                NULL) == 7);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM session", NULL), 0);
    sqlite3_close(db);

    /* opening it again is fine and changes nothing */
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    comb_store_close(s);
    db = db_open(path);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 3);
    sqlite3_close(db);
    test_remove_db(path);
}

static void make_db_with_version(const char *path, int version, int with_table)
{
    sqlite3 *db = NULL;
    sqlite3_open(path, &db);
    char sql[128];
    if (with_table)
        sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
}

static void test_refusals(void)
{
    char path[300];
    char err[512];
    comb_store *s = (comb_store *)0;

    /* a newer schema */
    test_tmp_path(path, sizeof path, "newer.db");
    make_db_with_version(path, 99, 1);
    err[0] = 0;
    s = NULL;
    CHECK(comb_store_open(path, &s, err, sizeof err) == -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "newer") != NULL);
    CHECK(strstr(err, "database schema version 99 is newer than this comb understands") != NULL);
    CHECK(strstr(err, "newer.db") != NULL);
    CHECK(strchr(err, '\n') == NULL);
    {
        sqlite3 *db = db_open(path);
        char jm[32];
        CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 99); /* untouched */
        CHECK_STR(q_text(db, "PRAGMA journal_mode", jm, sizeof jm), "delete");
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name='session'", NULL), 0);
        sqlite3_close(db);
    }
    test_remove_db(path);

    /* one above this build: also newer */
    test_tmp_path(path, sizeof path, "v2.db");
    make_db_with_version(path, COMB_SCHEMA_VERSION + 1, 1);
    err[0] = 0;
    CHECK(comb_store_open(path, &s, err, sizeof err) == -1);
    CHECK(strstr(err, "newer") != NULL);
    test_remove_db(path);

    /* a nonsensical (negative) version is refused, not migrated */
    test_tmp_path(path, sizeof path, "negative.db");
    make_db_with_version(path, -1, 1);
    err[0] = 0;
    s = NULL;
    CHECK(comb_store_open(path, &s, err, sizeof err) == -1);
    CHECK(s == NULL);
    CHECK(err[0] != 0);
    CHECK(strchr(err, '\n') == NULL);
    test_remove_db(path);

    /* not SQLite at all */
    test_tmp_path(path, sizeof path, "text.db");
    {
        FILE *f = fopen(path, "wb");
        for (int i = 0; i < 64; i++)
            fputs("this is a text file, certainly not a database.\n", f);
        fclose(f);
    }
    err[0] = 0;
    s = NULL;
    CHECK(comb_store_open(path, &s, err, sizeof err) == -1);
    CHECK(s == NULL);
    CHECK(strstr(err, "not a database") != NULL);
    CHECK(strstr(err, "text.db") != NULL);
    CHECK(strchr(err, '\n') == NULL);
    {
        /* the file was not modified */
        FILE *f = fopen(path, "rb");
        char line[64] = "";
        CHECK(f && fgets(line, sizeof line, f) && strcmp(line, "this is a text file, certainly not a database.\n") == 0);
        if (f)
            fclose(f);
    }
    test_remove_db(path);

    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/no/such/dir/x.db", test_tmp_dir());
    err[0] = 0;
    CHECK(comb_store_open(path, &s, err, sizeof err) == -1);
    CHECK(strstr(err, "no/such/dir/x.db") != NULL);
}

static void test_columns(void)
{
    char path[300], buf[512];
    test_tmp_path(path, sizeof path, "cols.db");
    comb_store *s;
    char err[512] = "";
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    int64_t id = 0;
    const char *settings = "{\"outputs\":[\":0:1\"],\"sync\":\"wait\",\"ack\":true}";
    CHECK(comb_store_session_begin(s, "unix:/tmp/qemu.sock", settings, &id) == 0);
    CHECK_EQ_U64(id, 1);

    /* a second connection (WAL: readers are not blocked) */
    sqlite3 *db = db_open(path);
    int isnull = 0;

    /* the session row is durable at once */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM session", NULL), 1);
    CHECK_STR(q_text(db, "SELECT source FROM session WHERE id=1", buf, sizeof buf), "unix:/tmp/qemu.sock");
    CHECK_STR(q_text(db, "SELECT settings FROM session WHERE id=1", buf, sizeof buf), settings);
    check_iso_time(q_text(db, "SELECT started_at FROM session WHERE id=1", buf, sizeof buf));
    CHECK_STR(q_text(db, "SELECT ended_at FROM session WHERE id=1", buf, sizeof buf), "<NULL>");
    CHECK_STR(q_text(db, "SELECT end_reason FROM session WHERE id=1", buf, sizeof buf), "<NULL>");
    CHECK_STR(q_text(db, "SELECT build_id FROM session WHERE id=1", buf, sizeof buf), "<NULL>");
    CHECK_STR(q_text(db, "SELECT protocol_version FROM session WHERE id=1", buf, sizeof buf), "<NULL>");
    CHECK_EQ_U64(q_int(db, "SELECT bytes + packets + events + log_lines + acks FROM session", NULL), 0);

    /* SESSION_START */
    static const uint8_t ss_sizes[6] = {2, 4, 4, 4, 4, 4};
    const uint32_t ss_vals[6] = {1, 180000000, 25000000, 0x89abcdefu, 0x01234567u, 42};
    comb_trace_event ss = make_event(30, COMB_EVT_SESSION_START, 6, ss_sizes, ss_vals, 6, 0);
    CHECK(comb_store_session_start_event(s, &ss) == 0);
    CHECK(comb_store_event(s, &ss, 42) == 0);

    /* log lines */
    CHECK(comb_store_log_line(s, 0, 1700000000123456789LL, -1, (const uint8_t *)"hello", 5) == 0);
    CHECK(comb_store_log_line(s, 1, 1700000000223456789LL, 12345, (const uint8_t *)"", 0) == 0);
    CHECK(comb_store_log_line(s, 29, 5, 0, (const uint8_t *)"a\0b\xff", 4) == 0);
    CHECK(comb_store_log_line(s, 2, 6, -1, NULL, 0) == 0);

    /* events */
    static const uint8_t al_sizes[3] = {4, 2, 4};
    const uint32_t al_vals[3] = {0x20001000u, 12, 74565};
    comb_trace_event al = make_event(31, COMB_EVT_HEAP_ALLOC, 3, al_sizes, al_vals, 100, 1);
    CHECK(comb_store_event(s, &al, 74565) == 0);
    static const uint8_t fr_sizes[3] = {4, 4, 4};
    const uint32_t fr_vals[3] = {0xFFFFFFFFu, 0x10, 0x080001f3u};
    comb_trace_event fr = make_event(31, COMB_EVT_HEAP_FREE, 3, fr_sizes, fr_vals, 200, 0);
    CHECK(comb_store_event(s, &fr, (int64_t)0x100000010LL) == 0);
    static const uint8_t un_sizes[2] = {4, 2};
    const uint32_t un_vals[2] = {0x12345678u, 7};
    comb_trace_event un = make_event(30, 0x1f, 2, un_sizes, un_vals, 300, 0);
    CHECK(un.schema == NULL);
    CHECK(comb_store_event(s, &un, -1) == 0);
    comb_trace_event en = make_event(30, 0x1e, 0, NULL, NULL, 310, 0);
    CHECK(comb_store_event(s, &en, -1) == 0);

    /* decode errors */
    CHECK(comb_store_decode_error(s, 7, "itm", "nosync", -1, 5) == 0);
    CHECK(comb_store_decode_error(s, 400, "trace", "orphan_field", 31, 0) == 0);

    /* not committed yet: the other connection sees none of it */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 0);

    comb_session_counters c1 = {.bytes = 1000, .packets = 200, .events = 5, .log_lines = 4, .overflows = 1,
                                .decode_errors = 1, .bytes_skipped = 5, .trace_errors = 1, .dropped = 3,
                                .acks = 0};
    CHECK(comb_store_checkpoint(s, &c1) == 0);

    /* committed: visible to another connection while the store is still open */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), 4);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM decode_error", NULL), 2);
    CHECK_EQ_U64(q_int(db, "SELECT bytes FROM session WHERE id=1", NULL), 1000);
    CHECK_EQ_U64(q_int(db, "SELECT dropped FROM session WHERE id=1", NULL), 3);
    CHECK_STR(q_text(db, "SELECT ended_at FROM session WHERE id=1", buf, sizeof buf), "<NULL>");

    /* session columns from SESSION_START */
    CHECK_EQ_U64(q_int(db, "SELECT protocol_version FROM session WHERE id=1", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT core_hz FROM session WHERE id=1", NULL), 180000000);
    CHECK_EQ_U64(q_int(db, "SELECT ts_hz FROM session WHERE id=1", NULL), 25000000);
    CHECK_EQ_U64(q_int(db, "SELECT start_ts FROM session WHERE id=1", NULL), 42);
    CHECK_STR(q_text(db, "SELECT build_id FROM session WHERE id=1", buf, sizeof buf), "0123456789abcdef");
    CHECK_STR(q_text(db, "SELECT typeof(build_id) FROM session WHERE id=1", buf, sizeof buf), "text");

    /* log_line columns */
    CHECK_STR(q_text(db, "SELECT group_concat(seq, ',') FROM (SELECT seq FROM log_line ORDER BY seq)", buf,
                     sizeof buf),
              "0,1,2,3");
    CHECK_EQ_U64(q_int(db, "SELECT session FROM log_line WHERE seq=0", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT port FROM log_line WHERE seq=0", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT host_ns FROM log_line WHERE seq=0", NULL), 1700000000123456789LL);
    q_int(db, "SELECT itm_ts FROM log_line WHERE seq=0", &isnull);
    CHECK(isnull);
    CHECK_STR(q_text(db, "SELECT CAST(text AS TEXT) FROM log_line WHERE seq=0", buf, sizeof buf), "hello");
    CHECK_STR(q_text(db, "SELECT typeof(text) FROM log_line WHERE seq=0", buf, sizeof buf), "blob");
    CHECK_EQ_U64(q_int(db, "SELECT port FROM log_line WHERE seq=1", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT itm_ts FROM log_line WHERE seq=1", &isnull), 12345);
    CHECK(!isnull);
    CHECK_EQ_U64(q_int(db, "SELECT length(text) FROM log_line WHERE seq=1", &isnull), 0);
    CHECK(!isnull); /* empty, not NULL */
    CHECK_STR(q_text(db, "SELECT typeof(text) FROM log_line WHERE seq=1", buf, sizeof buf), "blob");
    CHECK_STR(q_text(db, "SELECT hex(text) FROM log_line WHERE seq=2", buf, sizeof buf), "610062FF");
    CHECK_EQ_U64(q_int(db, "SELECT itm_ts FROM log_line WHERE seq=2", &isnull), 0);
    CHECK(!isnull); /* 0 is a timestamp, only negative means none */
    CHECK_EQ_U64(q_int(db, "SELECT port FROM log_line WHERE seq=2", NULL), 29);
    CHECK_EQ_U64(q_int(db, "SELECT length(text) FROM log_line WHERE seq=3", &isnull), 0);
    CHECK(!isnull);

    /* trace_event columns */
    CHECK_STR(q_text(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM trace_event ORDER BY seq)", buf,
                     sizeof buf),
              "session_start,heap_alloc,heap_free,unknown_31,unknown_30");
    CHECK_STR(q_text(db, "SELECT fields FROM trace_event WHERE seq=0", buf, sizeof buf),
              "{\"version\":1,\"core_hz\":180000000,\"ts_hz\":25000000,\"build_id_lo\":2309737967,"
              "\"build_id_hi\":19088743,\"ts\":42}");
    CHECK_EQ_U64(q_int(db, "SELECT offset FROM trace_event WHERE seq=0", NULL), 6);
    CHECK_EQ_U64(q_int(db, "SELECT port FROM trace_event WHERE seq=0", NULL), 30);
    CHECK_EQ_U64(q_int(db, "SELECT type FROM trace_event WHERE seq=0", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT ts FROM trace_event WHERE seq=0", NULL), 42);

    CHECK_STR(q_text(db, "SELECT fields FROM trace_event WHERE seq=1", buf, sizeof buf),
              "{\"ptr\":536875008,\"size\":12,\"ts\":74565}");
    CHECK_EQ_U64(q_int(db, "SELECT offset FROM trace_event WHERE seq=1", NULL), 100);
    CHECK_EQ_U64(q_int(db, "SELECT port FROM trace_event WHERE seq=1", NULL), 31);
    CHECK_EQ_U64(q_int(db, "SELECT type FROM trace_event WHERE seq=1", NULL), 8);
    CHECK_EQ_U64(q_int(db, "SELECT ts FROM trace_event WHERE seq=1", NULL), 74565);
    CHECK_EQ_U64(q_int(db, "SELECT depth FROM trace_event WHERE seq=1", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT json_extract(fields, '$.ptr') FROM trace_event WHERE seq=1", NULL),
                 0x20001000u);

    CHECK_STR(q_text(db, "SELECT fields FROM trace_event WHERE seq=2", buf, sizeof buf),
              "{\"ptr\":4294967295,\"ts\":16,\"caller\":134218227}");
    CHECK_EQ_U64(q_int(db, "SELECT ts FROM trace_event WHERE seq=2", NULL), 0x100000010ULL);
    CHECK_EQ_U64(q_int(db, "SELECT depth FROM trace_event WHERE seq=2", NULL), 0);

    CHECK_STR(q_text(db, "SELECT fields FROM trace_event WHERE seq=3", buf, sizeof buf),
              "{\"f0\":305419896,\"f1\":7}");
    q_int(db, "SELECT ts FROM trace_event WHERE seq=3", &isnull);
    CHECK(isnull);
    CHECK_EQ_U64(q_int(db, "SELECT type FROM trace_event WHERE seq=3", NULL), 31);
    CHECK_STR(q_text(db, "SELECT fields FROM trace_event WHERE seq=4", buf, sizeof buf), "{}");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE json_valid(fields)", NULL), 5);

    /* decode_error columns */
    CHECK_EQ_U64(q_int(db, "SELECT offset FROM decode_error WHERE seq=0", NULL), 7);
    CHECK_STR(q_text(db, "SELECT layer FROM decode_error WHERE seq=0", buf, sizeof buf), "itm");
    CHECK_STR(q_text(db, "SELECT kind FROM decode_error WHERE seq=0", buf, sizeof buf), "nosync");
    q_int(db, "SELECT port FROM decode_error WHERE seq=0", &isnull);
    CHECK(isnull);
    CHECK_EQ_U64(q_int(db, "SELECT length FROM decode_error WHERE seq=0", NULL), 5);
    CHECK_EQ_U64(q_int(db, "SELECT offset FROM decode_error WHERE seq=1", NULL), 400);
    CHECK_STR(q_text(db, "SELECT layer FROM decode_error WHERE seq=1", buf, sizeof buf), "trace");
    CHECK_STR(q_text(db, "SELECT kind FROM decode_error WHERE seq=1", buf, sizeof buf), "orphan_field");
    CHECK_EQ_U64(q_int(db, "SELECT port FROM decode_error WHERE seq=1", &isnull), 31);
    CHECK(!isnull);
    CHECK_EQ_U64(q_int(db, "SELECT length FROM decode_error WHERE seq=1", NULL), 0);

    /* more after the checkpoint, then the end of the session */
    CHECK(comb_store_log_line(s, 0, 7, -1, (const uint8_t *)"last", 4) == 0);
    comb_session_counters c2 = {.bytes = 1UL << 40, .packets = 2, .events = 3, .log_lines = 5, .overflows = 6,
                                .decode_errors = 7, .bytes_skipped = 8, .trace_errors = 9, .dropped = 10,
                                .acks = 1};
    CHECK(comb_store_session_end(s, &c2, "end_of_input") == 0);

    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), 5);
    CHECK_STR(q_text(db, "SELECT end_reason FROM session WHERE id=1", buf, sizeof buf), "end_of_input");
    check_iso_time(q_text(db, "SELECT ended_at FROM session WHERE id=1", buf, sizeof buf));
    CHECK(q_int(db, "SELECT ended_at >= started_at FROM session WHERE id=1", NULL) == 1);
    CHECK_STR(q_text(db,
                     "SELECT printf('%d,%d,%d,%d,%d,%d,%d,%d,%d,%d', bytes, packets, events, log_lines, "
                     "overflows, decode_errors, bytes_skipped, trace_errors, dropped, acks) FROM session "
                     "WHERE id=1",
                     buf, sizeof buf),
              "1099511627776,2,3,5,6,7,8,9,10,1");
    sqlite3_close(db);
    comb_store_close(s);

    /* reopening keeps the session; a new one gets the next id */
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "file:x.bin", "{}", &id) == 0);
    CHECK_EQ_U64(id, 2);
    CHECK(comb_store_log_line(s, 0, 8, -1, (const uint8_t *)"second", 6) == 0);
    comb_session_counters c3 = {.log_lines = 1};
    CHECK(comb_store_session_end(s, &c3, "interrupted") == 0);
    comb_store_close(s);

    db = db_open(path);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM session", NULL), 2);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE session=1", NULL), 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE session=2", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT min(seq) FROM log_line WHERE session=2", NULL), 0);
    CHECK_STR(q_text(db, "SELECT end_reason FROM session WHERE id=1", buf, sizeof buf), "end_of_input");
    CHECK_STR(q_text(db, "SELECT end_reason FROM session WHERE id=2", buf, sizeof buf), "interrupted");
    CHECK_EQ_U64(q_int(db, "SELECT bytes FROM session WHERE id=1", NULL), 1ULL << 40);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM pragma_foreign_key_check", NULL), 0);
    CHECK_STR(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 3);
    sqlite3_close(db);
    test_remove_db(path);
}

/* Checkpoint, then close without session_end: everything stays. */
/* Scheduler events get a typed sched_event row (version 3) sharing their
 * trace_event seq; a version-2 file gets them from its trace_event rows. */
static void test_sched_events(void)
{
    char path[300];
    test_tmp_path(path, sizeof path, "sched.db");
    comb_store *s = NULL;
    char err[512] = "";
    int64_t id = 0;
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "file:x", "{}", &id) == 0);
    static const uint8_t sz2[2] = {2, 4}, sz3[3] = {2, 4, 4};
    const uint32_t wk[2] = {0xFF03u, 1000}, en[2] = {3, 1010}, ex[2] = {3, 1100};
    const uint32_t fa[3] = {3, 0x20000100u, 990}, fr[3] = {3, 0x20000100u, 1020}, fc[3] = {3, 0x20000100u, 1090};
    const uint32_t wk2[2] = {0x0301u, 1050}, fy[3] = {1, 0x20000200u, 1060};
    comb_trace_event evs[] = {
        make_event(30, COMB_EVT_FIBER_ADDED, 3, sz3, fa, 10, 0),     make_event(30, COMB_EVT_THREAD_WAKEUP, 2, sz2, wk, 25, 0),
        make_event(30, COMB_EVT_THREAD_ENTER, 2, sz2, en, 35, 0),    make_event(30, COMB_EVT_FIBER_RESUMED, 3, sz3, fr, 45, 0),
        make_event(30, COMB_EVT_THREAD_WAKEUP, 2, sz2, wk2, 60, 1),  make_event(30, COMB_EVT_FIBER_YIELDED, 3, sz3, fy, 70, 2),
        make_event(30, COMB_EVT_FIBER_COMPLETED, 3, sz3, fc, 80, 0), make_event(30, COMB_EVT_THREAD_EXIT, 2, sz2, ex, 95, 0),
    };
    const uint32_t ts[] = {990, 1000, 1010, 1020, 1050, 1060, 1090, 1100};
    for (unsigned i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        CHECK(comb_store_event(s, &evs[i], ts[i]) == 0);
        CHECK(comb_store_sched_event(s, &evs[i], ts[i]) == 0);
    }
    /* a heap event and an unknown port-30 type get no sched row */
    static const uint8_t al_sizes[3] = {4, 2, 4};
    const uint32_t al_vals[3] = {0x20001000u, 12, 74565};
    comb_trace_event al = make_event(31, COMB_EVT_HEAP_ALLOC, 3, al_sizes, al_vals, 100, 0);
    CHECK(comb_store_event(s, &al, 74565) == 0);
    CHECK(comb_store_sched_event(s, &al, 74565) == 0);
    comb_session_counters c = {.events = 9};
    CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
    comb_store_close(s);

    CHECK_STR(comb_sched_kind_name(COMB_EVT_THREAD_WAKEUP), "wakeup");
    CHECK_STR(comb_sched_kind_name(COMB_EVT_FIBER_COMPLETED), "fiber_completed");
    CHECK(comb_sched_kind_name(COMB_EVT_HEAP_ALLOC) == NULL);

    static const char *const q_rows =
        "SELECT group_concat(seq || ':' || kind || ':' || ts || ':' || thr || ':' || ifnull(from_thr, '-') || ':' ||"
        " ifnull(fiber, '-') || ':' || depth || ':' || offset, ' ') FROM (SELECT * FROM sched_event ORDER BY seq)";
    static const char *const want =
        "0:fiber_added:990:3:-:536871168:0:10 1:wakeup:1000:3:255:-:0:25 2:enter:1010:3:-:-:0:35 "
        "3:fiber_resumed:1020:3:-:536871168:0:45 4:wakeup:1050:1:3:-:1:60 5:fiber_yielded:1060:1:-:536871424:2:70 "
        "6:fiber_completed:1090:3:-:536871168:0:80 7:exit:1100:3:-:-:0:95";
    char buf[1024];
    sqlite3 *db = db_open(path);
    CHECK_STR(q_text(db, q_rows, buf, sizeof buf), want);
    /* every sched row is the typed copy of the trace_event row with its seq */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event s JOIN trace_event e USING (session, seq)"
                           " WHERE e.port = 30 AND e.ts = s.ts AND e.offset = s.offset", NULL),
                 8);
    /* migration 2 -> 3 rebuilds the same rows from trace_event */
    CHECK(sqlite3_exec(db, "DROP TABLE sched_event; PRAGMA user_version = 2;", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    comb_store_close(s);
    db = db_open(path);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 3);
    CHECK_STR(q_text(db, q_rows, buf, sizeof buf), want);
    sqlite3_close(db);
    test_remove_db(path);
}

static void test_close_without_end(void)
{
    char path[300], buf[256];
    test_tmp_path(path, sizeof path, "noend.db");
    comb_store *s;
    char err[512] = "";
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    int64_t id;
    CHECK(comb_store_session_begin(s, "-", "{}", &id) == 0);
    CHECK(comb_store_log_line(s, 0, 1, -1, (const uint8_t *)"one", 3) == 0);
    comb_session_counters c = {.bytes = 10, .log_lines = 1};
    CHECK(comb_store_checkpoint(s, &c) == 0);
    CHECK(comb_store_log_line(s, 0, 2, -1, (const uint8_t *)"two", 3) == 0);
    comb_store_close(s);

    sqlite3 *db = db_open(path);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE CAST(text AS TEXT)='one'", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT bytes FROM session", NULL), 10);
    CHECK_STR(q_text(db, "SELECT ended_at FROM session", buf, sizeof buf), "<NULL>");
    CHECK_STR(q_text(db, "SELECT end_reason FROM session", buf, sizeof buf), "<NULL>");
    sqlite3_close(db);
    test_remove_db(path);
}

/* A real crash: the process dies between two checkpoints without closing anything. */
static void test_crash(void)
{
    char path[300], buf[256];
    test_tmp_path(path, sizeof path, "crash.db");
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        comb_store *s;
        char err[512];
        int64_t id;
        if (comb_store_open(path, &s, err, sizeof err) || comb_store_session_begin(s, "-", "{}", &id))
            _exit(3);
        for (int i = 0; i < 100; i++)
            comb_store_log_line(s, 0, i, i, (const uint8_t *)"before", 6);
        static const uint8_t sz[2] = {4, 4};
        const uint32_t v[2] = {0x20001000u, 99};
        comb_trace_event ev = make_event(31, COMB_EVT_HEAP_FREE, 2, sz, v, 0, 0);
        comb_store_event(s, &ev, 99);
        comb_session_counters c = {.bytes = 777, .log_lines = 100, .events = 1};
        if (comb_store_checkpoint(s, &c))
            _exit(4);
        for (int i = 0; i < 50; i++)
            comb_store_log_line(s, 0, i, -1, (const uint8_t *)"after", 5);
        _exit(0); /* no close, no commit */
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    sqlite3 *db = db_open(path);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE CAST(text AS TEXT)='before'", NULL), 100);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE CAST(text AS TEXT)='after'", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 1);
    CHECK_EQ_U64(q_int(db, "SELECT bytes FROM session", NULL), 777);
    CHECK_STR(q_text(db, "SELECT ended_at FROM session", buf, sizeof buf), "<NULL>");
    sqlite3_close(db);

    /* the store opens it again and adds a session */
    comb_store *s;
    char err[512] = "";
    int64_t id = 0;
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "-", "{}", &id) == 0);
    CHECK_EQ_U64(id, 2);
    comb_session_counters c = {0};
    CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
    comb_store_close(s);
    test_remove_db(path);
}

/* After an SQLite error the store refuses further writes and says why. */
static void test_failure_is_sticky(void)
{
    char path[300];
    test_tmp_path(path, sizeof path, "busy.db");
    comb_store *s;
    char err[512] = "";
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    int64_t id;
    CHECK(comb_store_session_begin(s, "-", "{}", &id) == 0);

    sqlite3 *other = db_open(path);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK); /* holds the write lock */
    CHECK(comb_store_log_line(s, 0, 1, -1, (const uint8_t *)"x", 1) == -1);     /* busy after the timeout */
    CHECK(strstr(comb_store_errmsg(s), "database") != NULL);
    CHECK(strstr(comb_store_errmsg(s), "locked") != NULL || strstr(comb_store_errmsg(s), "busy") != NULL);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    comb_session_counters c = {0};
    CHECK(comb_store_log_line(s, 0, 1, -1, (const uint8_t *)"x", 1) == -1);
    CHECK(comb_store_decode_error(s, 0, "itm", "nosync", -1, 1) == -1);
    CHECK(comb_store_checkpoint(s, &c) == -1);
    CHECK(comb_store_session_end(s, &c, "error") == -1);
    comb_store_close(s);
    test_remove_db(path);
}

int main(void)
{
    test_tmp_init("store");
    test_fresh_file();
    test_refusals();
    test_columns();
    test_sched_events();
    test_close_without_end();
    test_crash();
    test_failure_is_sticky();
    test_tmp_done();
    return check_finish("test_session_store");
}
