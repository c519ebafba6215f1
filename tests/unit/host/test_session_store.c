/*
 * Session store (docs/schema.md, version 4): schema creation and versioning,
 * refusal of newer and non-SQLite files, the columns each call writes (each
 * event in its typed table, all of them in the trace_event view), migration of
 * real version-1 and version-3 files, the write queue (many chunks, checkpoints
 * in between, backpressure), and durability (WAL, checkpoints, a crash between
 * checkpoints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"

#include "check.h"
#include "test_tmp.h"
#include "comb/session_store.h"
#include "schema_downgrade.h"

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK || comb_sqlite_register(db) != SQLITE_OK) {
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
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), 5);
    CHECK_STR(q_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
    CHECK_EQ_U64(q_int(db, "PRAGMA page_size", NULL), 16384); /* a new file */
    CHECK_EQ_U64(q_int(db,
                       "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                       "('session','log_line','decode_error','heap_event','sched_event','other_event',"
                       "'heap_block','sched_block')",
                       NULL),
                 8);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type='view' AND name='trace_event'", NULL), 1);
    /* during a capture no index but the primary keys, log_line_port and the blocks' (one entry per block) is written */
    CHECK_STR(q_text(db,
                     "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT"
                     " NULL ORDER BY name)",
                     buf, sizeof buf),
              "heap_block_seq,log_line_port,sched_block_seq");
    /* the documented columns exist */
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('session') WHERE name IN ('id','started_at','ended_at',"
                "'source','settings','protocol_version','core_hz','ts_hz','build_id','start_ts','end_reason',"
                "'bytes','packets','events','log_lines','overflows','decode_errors','bytes_skipped',"
                "'trace_errors','dropped','acks','link_overruns','link_line_errors','link_host_dropped',"
                "'tpiu_frames','tpiu_bytes_other','tpiu_realigns','tpiu_bytes_dropped')",
                NULL) == 28);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('log_line') WHERE name IN ('session','seq','port',"
                "'host_ns','itm_ts','text')",
                NULL) == 6);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('trace_event') WHERE name IN ('session','seq','offset',"
                "'port','type','name','ts','depth','fields')",
                NULL) == 9);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('other_event') WHERE name IN ('session','seq','offset',"
                "'port','type','name','ts','depth','fields')",
                NULL) == 9);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('heap_event') WHERE name IN ('session','seq','offset',"
                "'kind','ts','ptr','old_ptr','size','old_size','caller','depth')",
                NULL) == 11);
    CHECK(q_int(db,
                "SELECT count(*) FROM pragma_table_info('sched_event') WHERE name IN ('session','seq','offset',"
                "'kind','ts','thr','from_thr','fiber','depth')",
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
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), COMB_SCHEMA_VERSION);
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
                                .acks = 0, .link_known = true, .link_overruns = 11, .link_line_errors = 12,
                                .link_host_dropped = 13, .tpiu_frames = 99};
    CHECK(comb_store_checkpoint(s, &c1) == 0);

    /* committed: visible to another connection while the store is still open */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), 4);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM decode_error", NULL), 2);
    CHECK_EQ_U64(q_int(db, "SELECT bytes FROM session WHERE id=1", NULL), 1000);
    CHECK_EQ_U64(q_int(db, "SELECT dropped FROM session WHERE id=1", NULL), 3);
    CHECK_STR(q_text(db, "SELECT ended_at FROM session WHERE id=1", buf, sizeof buf), "<NULL>");
    /* link counters as given; the TPIU ones NULL (not known), whatever the struct held */
    CHECK_STR(q_text(db,
                     "SELECT printf('%d,%d,%d,%s,%s,%s,%s', link_overruns, link_line_errors, link_host_dropped,"
                     " ifnull(tpiu_frames, 'NULL'), ifnull(tpiu_bytes_other, 'NULL'), ifnull(tpiu_realigns, 'NULL'),"
                     " ifnull(tpiu_bytes_dropped, 'NULL')) FROM session WHERE id=1",
                     buf, sizeof buf),
              "11,12,13,NULL,NULL,NULL,NULL");

    /* each event once, in the table of its kind; the view shows them all */
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event", NULL), 2);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event", NULL), 0);
    CHECK_STR(q_text(db, "SELECT group_concat(seq) FROM (SELECT seq FROM other_event ORDER BY seq)", buf, sizeof buf),
              "0,3,4");
    CHECK_STR(q_text(db,
                     "SELECT group_concat(seq || ':' || kind || ':' || ts || ':' || ptr || ':' || ifnull(size, '-')"
                     " || ':' || ifnull(caller, '-') || ':' || depth || ':' || offset, ' ')"
                     " FROM (SELECT * FROM heap_event ORDER BY seq)",
                     buf, sizeof buf),
              "1:alloc:74565:536875008:12:-:1:100 2:free:4294967312:4294967295:-:134218227:0:200");

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
                                .acks = 1, .link_overruns = 5, .tpiu_known = true, .tpiu_frames = 18,
                                .tpiu_bytes_other = 0, .tpiu_realigns = 2, .tpiu_bytes_dropped = 30};
    CHECK(comb_store_session_end(s, &c2, "end_of_input") == 0);
    CHECK_STR(q_text(db,
                     "SELECT printf('%s,%s,%s,%d,%d,%d,%d', ifnull(link_overruns, 'NULL'),"
                     " ifnull(link_line_errors, 'NULL'), ifnull(link_host_dropped, 'NULL'), tpiu_frames,"
                     " tpiu_bytes_other, tpiu_realigns, tpiu_bytes_dropped) FROM session WHERE id=1",
                     buf, sizeof buf),
              "NULL,NULL,NULL,18,0,2,30");

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
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), COMB_SCHEMA_VERSION);
    sqlite3_close(db);
    test_remove_db(path);
}

/* Scheduler events go to sched_event (version 3) only; the trace_event view
 * shows them with their version-3 name and fields. A real version-2 file gets
 * them from its trace_event rows. */
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
    for (unsigned i = 0; i < sizeof evs / sizeof evs[0]; i++)
        CHECK(comb_store_event(s, &evs[i], ts[i]) == 0);
    /* a heap event and a scheduler type on the heap port get no sched row */
    static const uint8_t al_sizes[3] = {4, 2, 4};
    const uint32_t al_vals[3] = {0x20001000u, 12, 74565};
    comb_trace_event al = make_event(31, COMB_EVT_HEAP_ALLOC, 3, al_sizes, al_vals, 100, 0);
    CHECK(comb_store_event(s, &al, 74565) == 0);
    comb_trace_event en31 = make_event(31, COMB_EVT_THREAD_ENTER, 2, sz2, en, 110, 0);
    CHECK(comb_store_event(s, &en31, 1010) == 0);
    comb_session_counters c = {.events = 10};
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
    static const char *const q_view =
        "SELECT group_concat(seq || ':' || port || ':' || type || ':' || name || ':' || fields, ' ')"
        " FROM (SELECT * FROM trace_event WHERE port = 30 ORDER BY seq)";
    static const char *const want_view =
        "0:30:19:fiber_added:{\"thr\":3,\"fiber\":536871168,\"ts\":990} "
        "1:30:16:thread_wakeup:{\"ids\":65283,\"ts\":1000} 2:30:17:thread_enter:{\"thr\":3,\"ts\":1010} "
        "3:30:20:fiber_resumed:{\"thr\":3,\"fiber\":536871168,\"ts\":1020} "
        "4:30:16:thread_wakeup:{\"ids\":769,\"ts\":1050} "
        "5:30:21:fiber_yielded:{\"thr\":1,\"fiber\":536871424,\"ts\":1060} "
        "6:30:22:fiber_completed:{\"thr\":3,\"fiber\":536871168,\"ts\":1090} "
        "7:30:18:thread_exit:{\"thr\":3,\"ts\":1100}";
    char buf[2048];
    sqlite3 *db = db_open(path);
    CHECK_STR(q_text(db, q_rows, buf, sizeof buf), want);
    CHECK_STR(q_text(db, q_view, buf, sizeof buf), want_view);
    CHECK_STR(q_text(db, "SELECT group_concat(seq || name || port) FROM other_event", buf, sizeof buf),
              "9thread_enter31");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 10);
    sqlite3_close(db);

    /* a real version-2 file (trace_event a table, no sched_event): migrations 2 -> 3 -> 4 give the same rows */
    CHECK(schema_downgrade(path, 2) == 0);
    db = db_open(path);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'sched_event'", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'trace_event'", NULL), 1);
    sqlite3_close(db);
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    comb_store_close(s);
    db = db_open(path);
    CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), COMB_SCHEMA_VERSION);
    CHECK_STR(q_text(db, q_rows, buf, sizeof buf), want);
    CHECK_STR(q_text(db, q_view, buf, sizeof buf), want_view);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM other_event", NULL), 1);
    sqlite3_close(db);
    test_remove_db(path);
}

/* Every row of a query, columns joined by '|', rows by '\n' (malloc'd). */
static char *q_all(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    out[0] = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
        check_failures++;
        return out;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = sqlite3_column_type(st, i) == SQLITE_NULL ? "NULL" : (const char *)sqlite3_column_text(st, i);
            size_t len = strlen(t) + 2;
            if (n + len + 1 > cap) {
                cap = 2 * (n + len + 1);
                out = realloc(out, cap);
            }
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", t);
        }
        out[n++] = '\n';
        out[n] = 0;
    }
    sqlite3_finalize(st);
    return out;
}

/* A capture session with every kind of row: each event type, with and without caller, typed
 * events on the other port, unknown types, errors, lines. */
static void store_mixed_session(comb_store *s)
{
    int64_t id;
    CHECK(comb_store_session_begin(s, "unix:/x", "{\"tpiu\":1}", &id) == 0);
    static const uint8_t ss_sizes[6] = {2, 4, 4, 4, 4, 4};
    const uint32_t ss_vals[6] = {1, 180000000, 25000000, 0x89abcdefu, 0x01234567u, 42};
    comb_trace_event ss = make_event(30, COMB_EVT_SESSION_START, 6, ss_sizes, ss_vals, 6, 0);
    CHECK(comb_store_session_start_event(s, &ss) == 0);
    CHECK(comb_store_event(s, &ss, 42) == 0);
    static const uint8_t s4[5] = {4, 4, 4, 4, 4}, s2[3] = {2, 4, 4};
    const struct {
        unsigned port, type, n;
        const uint8_t *sizes;
        uint32_t v[5];
        int64_t ts64;
    } evs[] = {
        {31, COMB_EVT_HEAP_ALLOC, 3, s4, {0x20000100u, 16, 100}, 100},
        {31, COMB_EVT_HEAP_ALLOC, 4, s4, {0x20000200u, 70000, 110, 0x08000101u}, 110},
        {31, COMB_EVT_HEAP_REALLOC, 5, s4, {0x20000100u, 0x20000300u, 40, 120, 0x08000201u}, 120},
        {31, COMB_EVT_HEAP_RESIZE, 3, s4, {0x20000300u, 24, 130}, 130},
        {31, COMB_EVT_HEAP_FREE, 2, s4, {0x20000300u, 5}, (int64_t)0x100000005LL},
        {31, COMB_EVT_HEAP_FAIL, 3, s4, {5000, 6, 0x08000301u}, (int64_t)0x100000006LL},
        {31, COMB_EVT_HEAP_FREE, 3, s4, {0x20000200u, 7, 0x08000401u}, (int64_t)0x100000007LL},
        {30, COMB_EVT_THREAD_WAKEUP, 2, s2, {0x0102u, 8}, (int64_t)0x100000008LL},
        {30, COMB_EVT_THREAD_ENTER, 2, s2, {2, 9}, (int64_t)0x100000009LL},
        {30, COMB_EVT_FIBER_ADDED, 3, s2, {2, 0x20000400u, 10}, (int64_t)0x10000000aLL},
        {30, COMB_EVT_THREAD_EXIT, 2, s2, {2, 11}, (int64_t)0x10000000bLL},
        {30, COMB_EVT_CLOCK, 2, s4, {12, 1}, (int64_t)0x10000000cLL},
        {31, COMB_EVT_DROPPED, 2, s4, {3, 13}, (int64_t)0x10000000dLL},
        {30, COMB_EVT_HEAP_ALLOC, 3, s4, {0x20000500u, 8, 14}, (int64_t)0x10000000eLL}, /* wrong port */
        {31, 0x1d, 2, s4, {1, 2}, -1},                                                   /* unknown type */
        {30, COMB_EVT_SESSION_END, 1, s4, {15}, (int64_t)0x10000000fLL},
    };
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
        comb_trace_event ev = make_event(evs[i].port, evs[i].type, evs[i].n, evs[i].sizes, evs[i].v, 10 * i + 20, i % 3);
        CHECK(comb_store_event(s, &ev, evs[i].ts64) == 0);
        if (i % 4 == 0)
            CHECK(comb_store_log_line(s, (unsigned)i % 3, (int64_t)i, (int64_t)i - 2, (const uint8_t *)"line", 4) == 0);
    }
    CHECK(comb_store_decode_error(s, 3, "itm", "bad_sync", -1, 2) == 0);
    CHECK(comb_store_decode_error(s, 90, "trace", "truncated", 31, 0) == 0);
    comb_session_counters c = {.bytes = 500, .events = 17, .log_lines = 4, .decode_errors = 1, .trace_errors = 1};
    CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
}

static const char *const snapshot_queries[] = {
    "SELECT * FROM trace_event ORDER BY session, seq",
    "SELECT * FROM heap_event ORDER BY session, seq",
    "SELECT * FROM sched_event ORDER BY session, seq",
    "SELECT * FROM log_line ORDER BY session, seq",
    "SELECT * FROM decode_error ORDER BY session, seq",
    "SELECT id, started_at, ended_at, source, settings, protocol_version, core_hz, ts_hz, build_id, start_ts,"
    " end_reason, bytes, packets, events, log_lines, overflows, decode_errors, bytes_skipped, trace_errors,"
    " dropped, acks FROM session ORDER BY id",
};
#define NSNAP (sizeof snapshot_queries / sizeof snapshot_queries[0])

static void snapshot(const char *path, char *out[NSNAP])
{
    sqlite3 *db = db_open(path);
    for (size_t i = 0; i < NSNAP; i++)
        out[i] = q_all(db, snapshot_queries[i]);
    sqlite3_close(db);
}

/* Real version-3 and version-1 files (the shapes those versions wrote, rows included) migrate
 * to version 4 with every row as it was: the trace_event view gives exactly the old table's
 * rows, the typed tables keep theirs, the new session columns are NULL (not measured then). */
static void test_migration_from_old_files(void)
{
    char path[300], buf[256], err[512] = "";
    comb_store *s = NULL;
    for (int from = 4; from >= 1; from = from == 4 ? 3 : from - 2) { /* 4, 3, 1 */
        test_tmp_path(path, sizeof path, from == 4 ? "old4.db" : from == 3 ? "old3.db" : "old1.db");
        CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
        store_mixed_session(s);
        if (from >= 3) { /* an import session: heap rows without ts, no trace_event rows */
            int64_t id;
            CHECK(comb_store_session_begin(s, "drone:x.bin", "{\"import\":\"drone-heaptrace\"}", &id) == 0);
            const comb_heap_raw raws[] = {
                {.seq = 0, .offset = 4, .kind = COMB_HEAP_ALLOC, .size = 32, .has = COMB_HR_SIZE},
                {.seq = 1, .offset = 12, .kind = COMB_HEAP_FREE, .old_size = 32, .has = COMB_HR_OLD_SIZE},
            };
            for (size_t i = 0; i < 2; i++)
                CHECK(comb_store_heap_event(s, &raws[i]) == 0);
            comb_session_counters c = {.events = 2};
            CHECK(comb_store_session_end(s, &c, "end_of_input") == 0);
        }
        comb_store_close(s);
        char *before[NSNAP], *after[NSNAP];
        snapshot(path, before);
        sqlite3 *db = db_open(path);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 17);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM other_event", NULL), 6);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event", NULL), from >= 3 ? 9 : 7);
        sqlite3_close(db);

        CHECK(schema_downgrade(path, from) == 0);
        db = db_open(path);
        CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), from);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'trace_event'", NULL),
                     from <= 3);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'heap_block'", NULL), 0);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), 17);
        sqlite3_close(db);

        CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
        comb_store_close(s);
        snapshot(path, after);
        for (size_t i = 0; i < NSNAP; i++) {
            CHECK(strlen(before[i]) > 0);
            if (strcmp(before[i], after[i]) != 0) {
                check_failures++;
                fprintf(stderr, "migration from v%d changed '%s':\n--- before\n%s--- after\n%s", from,
                        snapshot_queries[i], before[i], after[i]);
            }
            free(before[i]);
            free(after[i]);
        }
        db = db_open(path);
        CHECK_EQ_U64(q_int(db, "PRAGMA user_version", NULL), COMB_SCHEMA_VERSION);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'trace_event'", NULL), 1);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'", NULL), 2);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'trace_event_name'", NULL), 0);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM other_event", NULL), 6);
        CHECK_EQ_U64(q_int(db,
                           "SELECT count(*) FROM session WHERE coalesce(link_overruns, link_line_errors,"
                           " link_host_dropped, tpiu_frames, tpiu_bytes_other, tpiu_realigns, tpiu_bytes_dropped)"
                           " IS NOT NULL",
                           NULL),
                     0);
        CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
        sqlite3_close(db);
        /* and the migrated file takes new sessions */
        CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
        store_mixed_session(s);
        comb_store_close(s);
        db = db_open(path);
        CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE session = (SELECT max(id) FROM session)", NULL),
                     17);
        sqlite3_close(db);
        test_remove_db(path);
    }
}

/* Many chunks, checkpoints between them, a producer far ahead of the writer: every row arrives,
 * in order, with contiguous seqs; rows of the next transaction are not visible before its commit. */
static void test_write_queue(void)
{
    char path[300], err[512] = "", buf[256];
    test_tmp_path(path, sizeof path, "queue.db");
    comb_store *s = NULL;
    int64_t id;
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(s, "-", "{}", &id) == 0);
    sqlite3 *db = db_open(path);
    static const uint8_t sz[3] = {4, 4, 4};
    const unsigned n = 100000;
    uint64_t expect_lines = 0;
    char line[1100];
    memset(line, 'x', sizeof line);
    for (unsigned i = 0; i < n; i++) {
        uint32_t v[3] = {0x20000000u + i, i % 1000, i};
        comb_trace_event ev;
        switch (i % 5) {
        case 0: ev = make_event(31, COMB_EVT_HEAP_ALLOC, 3, sz, v, i, 0); break;
        case 1: ev = make_event(31, COMB_EVT_HEAP_FREE, 2, sz, (uint32_t[]){v[0], i}, i, 0); break;
        case 2: ev = make_event(30, COMB_EVT_THREAD_ENTER, 2, (uint8_t[]){2, 4}, (uint32_t[]){i % 7, i}, i, 0); break;
        case 3: ev = make_event(30, COMB_EVT_FIBER_RESUMED, 3, (uint8_t[]){2, 4, 4}, (uint32_t[]){1, v[0], i}, i, 0); break;
        default: ev = make_event(30, COMB_EVT_CLOCK, 2, sz, (uint32_t[]){i, 0}, i, 0); break;
        }
        CHECK(comb_store_event(s, &ev, i) == 0);
        if (i % 3 == 0) { /* lines of every length up to the longest a capture makes */
            CHECK(comb_store_log_line(s, 0, i, -1, (const uint8_t *)line, i % 1025) == 0);
            expect_lines++;
        }
        if (i % 7 == 0)
            CHECK(comb_store_decode_error(s, i, "trace", "orphan_field", 31, 0) == 0);
        if (i == n / 2) {
            comb_session_counters c = {.events = i + 1};
            CHECK(comb_store_checkpoint(s, &c) == 0);
            /* committed: exactly the first half */
            CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), i + 1);
            CHECK_EQ_U64(q_int(db, "SELECT max(seq) FROM trace_event", NULL), i);
        }
    }
    /* a line longer than a chunk's text buffer (256 KiB) still goes in whole */
    const size_t big = 300000;
    uint8_t *huge = malloc(big);
    memset(huge, 'y', big);
    CHECK(comb_store_log_line(s, 5, 0, -1, huge, big) == 0);
    free(huge);
    expect_lines++;
    comb_store_close(s); /* commits what came after the checkpoint */

    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event", NULL), n);
    CHECK_EQ_U64(q_int(db, "SELECT count(DISTINCT seq) FROM trace_event", NULL), n);
    CHECK_EQ_U64(q_int(db, "SELECT max(seq) FROM trace_event", NULL), n - 1);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM trace_event WHERE offset != seq OR ts != seq", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM heap_event", NULL), 2 * n / 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM sched_event", NULL), 2 * n / 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM other_event", NULL), n / 5);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), expect_lines);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE port = 0 AND length(text) != (seq * 3) % 1025",
                       NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line WHERE port = 0 AND"
                           " length(replace(CAST(text AS TEXT), 'x', '')) != 0", NULL), 0);
    CHECK_EQ_U64(q_int(db, "SELECT length(text) FROM log_line WHERE port = 5 AND"
                           " length(replace(CAST(text AS TEXT), 'y', '')) = 0", NULL), 300000);
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM decode_error", NULL), (n + 6) / 7);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    sqlite3_close(db);
    test_remove_db(path);
}

/* Checkpoint, then close without session_end: everything stays. */
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

/* After an SQLite error the store refuses further writes and says why. Rows
 * are written on the writer thread, so the failure shows at the commit. */
static void test_failure_is_sticky(void)
{
    char path[300], buf[64];
    test_tmp_path(path, sizeof path, "busy.db");
    comb_store *s;
    char err[512] = "";
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    int64_t id;
    CHECK(comb_store_session_begin(s, "-", "{}", &id) == 0);

    sqlite3 *other = db_open(path);
    CHECK(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK); /* holds the write lock */
    comb_session_counters c = {0};
    CHECK(comb_store_log_line(s, 0, 1, -1, (const uint8_t *)"x", 1) == 0); /* queued */
    CHECK(comb_store_checkpoint(s, &c) == -1);                             /* busy after the timeout */
    CHECK(strstr(comb_store_errmsg(s), "database") != NULL);
    CHECK(strstr(comb_store_errmsg(s), "locked") != NULL || strstr(comb_store_errmsg(s), "busy") != NULL);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);

    static const uint8_t sz[2] = {4, 4};
    const uint32_t v[2] = {1, 2};
    comb_trace_event ev = make_event(31, COMB_EVT_HEAP_FREE, 2, sz, v, 0, 0);
    CHECK(comb_store_log_line(s, 0, 1, -1, (const uint8_t *)"x", 1) == -1);
    CHECK(comb_store_event(s, &ev, 2) == -1);
    CHECK(comb_store_decode_error(s, 0, "itm", "nosync", -1, 1) == -1);
    CHECK(comb_store_checkpoint(s, &c) == -1);
    CHECK(comb_store_session_end(s, &c, "error") == -1);
    comb_store_close(s);
    sqlite3 *db = db_open(path);
    CHECK_STR(q_text(db, "PRAGMA integrity_check", buf, sizeof buf), "ok");
    CHECK_EQ_U64(q_int(db, "SELECT count(*) FROM log_line", NULL), 0);
    sqlite3_close(db);
    test_remove_db(path);

    /* calls outside a session are refused, not crashed on */
    test_tmp_path(path, sizeof path, "nosession.db");
    CHECK(comb_store_open(path, &s, err, sizeof err) == 0);
    CHECK(comb_store_event(s, &ev, 2) == -1);
    CHECK(strstr(comb_store_errmsg(s), "no session") != NULL);
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
    test_migration_from_old_files();
    test_write_queue();
    test_close_without_end();
    test_crash();
    test_failure_is_sticky();
    test_tmp_done();
    return check_finish("test_session_store");
}
