/*
 * The capture pipeline (capture.h): bytes -> ITM decoder -> log lines and
 * outputs / trace events -> session store, with the ACK of SESSION_END.
 * Results must not depend on how the input is chunked.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sqlite3.h>

#include "comb/sqlite_module.h"

#include "check.h"
#include "test_tmp.h"
#include "comb/capture.h"
#include "vector_file.h"

static char dbpath[320];

#define CHECK_STR(actual, expected)                                                                     \
    do {                                                                                                \
        const char *a_ = (actual), *e_ = (expected);                                                    \
        check_count++;                                                                                  \
        if (strcmp(a_, e_) != 0) {                                                                      \
            check_failures++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: '%s' != '%s'\n", __FILE__, __LINE__, a_, e_);        \
        }                                                                                               \
    } while (0)

/* ---- stream builder ------------------------------------------------------ */

typedef struct stream {
    uint8_t b[16384];
    size_t n;
} stream;

static void put(stream *s, const void *p, size_t n)
{
    if (s->n + n > sizeof s->b) {
        fprintf(stderr, "stream buffer too small\n");
        exit(2);
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void put1(stream *s, uint8_t b)
{
    put(s, &b, 1);
}

static void sync_pkt(stream *s)
{
    static const uint8_t sync[6] = {0, 0, 0, 0, 0, 0x80};
    put(s, sync, 6);
}

static void swit(stream *s, unsigned port, unsigned size, uint32_t v)
{
    put1(s, COMB_ITM_SWIT_HEADER(port, size));
    for (unsigned i = 0; i < size; i++)
        put1(s, (uint8_t)(v >> (8 * i)));
}

/* text as 1-byte packets */
static void text(stream *s, unsigned port, const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        swit(s, port, 1, (uint8_t)t[i]);
}

static void texts(stream *s, unsigned port, const char *t)
{
    text(s, port, t, strlen(t));
}

/* an event with u32 fields only */
static void event32(stream *s, unsigned port, unsigned type, unsigned n, const uint32_t *v)
{
    swit(s, port, 1, COMB_EVT_HEADER(type, n));
    for (unsigned i = 0; i < n; i++)
        swit(s, port, 4, v[i]);
}

static void heap_free(stream *s, uint32_t ptr, uint32_t ts)
{
    const uint32_t v[2] = {ptr, ts};
    event32(s, 31, COMB_EVT_HEAP_FREE, 2, v);
}

/* ---- running a capture ------------------------------------------------- */

typedef struct run_opts {
    comb_itm_sync_mode mode;
    comb_outputs *outputs;
    comb_source *ack_to;
    size_t chunk; /* 0: everything at once */
    int64_t host_ns;
    int no_store;
} run_opts;

/* Runs one whole session into dbpath (a new session row each time); returns its id. */
static int64_t run(const uint8_t *bytes, size_t n, const run_opts *o, comb_session_counters *counters)
{
    comb_store *st = NULL;
    int64_t id = -1;
    char err[512];
    if (!o->no_store) {
        if (comb_store_open(dbpath, &st, err, sizeof err)) {
            fprintf(stderr, "store: %s\n", err);
            check_failures++;
            return -1;
        }
        CHECK(comb_store_session_begin(st, "test", "{}", &id) == 0);
    }
    comb_capture *c = malloc(sizeof *c);
    comb_capture_config cfg = {.sync_mode = o->mode, .outputs = o->outputs, .store = st, .ack_to = o->ack_to};
    comb_capture_init(c, &cfg);
    size_t chunk = o->chunk ? o->chunk : (n ? n : 1);
    for (size_t off = 0; off < n; off += chunk)
        comb_capture_feed(c, bytes + off, n - off < chunk ? n - off : chunk, o->host_ns);
    comb_capture_finish(c);

    /* the counters agree with the ITM decoder's own statistics */
    const comb_itm_stats *is = comb_itm_decoder_stats(&c->itm);
    uint64_t pk = 0, errs = 0;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        pk += is->packets[k];
    for (int e = 1; e < COMB_ITM_ERR_COUNT; e++)
        errs += is->errors[e];
    CHECK_EQ_U64(c->counters.bytes, n);
    CHECK_EQ_U64(c->counters.packets, pk);
    CHECK_EQ_U64(c->counters.overflows, is->packets[COMB_ITM_OVERFLOW]);
    CHECK_EQ_U64(c->counters.decode_errors, errs);
    CHECK_EQ_U64(c->counters.decode_errors, is->packets[COMB_ITM_ERROR]);
    CHECK_EQ_U64(c->counters.bytes_skipped, is->bytes_skipped);
    CHECK_EQ_U64(c->counters.events, c->trace.stats.events);
    uint64_t terr = 0;
    for (int e = 0; e < COMB_TRACE_ERR_COUNT; e++)
        terr += c->trace.stats.errors[e];
    CHECK_EQ_U64(c->counters.trace_errors, terr);
    CHECK(!c->store_failed);

    if (st) {
        CHECK(comb_store_session_end(st, &c->counters, "end_of_input") == 0);
        comb_store_close(st);
    }
    if (counters)
        *counters = c->counters;
    free(c);
    return id;
}

/* ---- reading back -------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t l = strlen(s);
    if (b->n + l + 1 > b->cap) {
        b->cap = (b->n + l + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, l + 1);
    b->n += l;
}

static void dump_query(sqlite3 *db, sbuf *b, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
        check_failures++;
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            sb_add(b, t ? (const char *)t : "NULL");
            sb_add(b, "|");
        }
        sb_add(b, "\n");
    }
    sqlite3_finalize(st);
}

/* Everything the store holds about session `id`, as text (caller frees). */
static char *dump(int64_t id)
{
    sqlite3 *db;
    sbuf b = {0};
    sb_add(&b, "");
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK || comb_sqlite_register(db) != SQLITE_OK) {
        check_failures++;
        sqlite3_close(db);
        return b.p;
    }
    static const char *const q[] = {
        "SELECT 'L', port, host_ns, itm_ts, hex(text) FROM log_line WHERE session=%lld ORDER BY seq",
        "SELECT 'E', offset, port, type, name, ts, depth, fields FROM trace_event WHERE session=%lld ORDER BY seq",
        "SELECT 'D', offset, layer, kind, port, length FROM decode_error WHERE session=%lld ORDER BY seq",
        "SELECT 'S', protocol_version, core_hz, ts_hz, build_id, start_ts, end_reason, bytes, packets, events,"
        " log_lines, overflows, decode_errors, bytes_skipped, trace_errors, dropped, acks FROM session WHERE id=%lld",
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql, q[i], (long long)id);
        dump_query(db, &b, sql);
    }
    sqlite3_close(db);
    return b.p;
}

/* Query over dbpath with %lld = session id; all rows, '|'-separated columns, ';'-separated rows. */
static char *query(int64_t id, const char *fmt)
{
    sqlite3 *db;
    sbuf b = {0};
    sb_add(&b, "");
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK || comb_sqlite_register(db) != SQLITE_OK) {
        check_failures++;
        sqlite3_close(db);
        return b.p;
    }
    char sql[1024];
    snprintf(sql, sizeof sql, fmt, (long long)id);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "SQL error in '%s': %s\n", sql, sqlite3_errmsg(db));
        check_failures++;
    } else {
        int row = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (row++)
                sb_add(&b, ";");
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const unsigned char *t = sqlite3_column_text(st, i);
                if (i)
                    sb_add(&b, "|");
                sb_add(&b, t ? (const char *)t : "NULL");
            }
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return b.p;
}

#define CHECK_Q(id, sql, expected)                                                                      \
    do {                                                                                                \
        char *r_ = query((id), (sql));                                                                  \
        CHECK_STR(r_, (expected));                                                                      \
        free(r_);                                                                                       \
    } while (0)

static const size_t chunkings[] = {1, 2, 3, 7, 0};
#define NCHUNKINGS (sizeof chunkings / sizeof chunkings[0])

static const struct vector *find_vector(const struct vector *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    fprintf(stderr, "vector %s not found\n", name);
    check_failures++;
    return NULL;
}

/* ---- tests --------------------------------------------------------------- */

static void test_hello_session(const struct vector *hello)
{
    if (!hello)
        return;
    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k], .host_ns = 1000};
        comb_session_counters cn;
        int64_t id = run(hello->bytes, hello->nbytes, &o, &cn);
        CHECK_EQ_U64(cn.bytes, 62);
        CHECK_EQ_U64(cn.packets, 15);
        CHECK_EQ_U64(cn.events, 2);
        CHECK_EQ_U64(cn.log_lines, 1);
        CHECK_EQ_U64(cn.overflows + cn.decode_errors + cn.bytes_skipped + cn.trace_errors + cn.dropped + cn.acks, 0);
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id, "SELECT port, host_ns, itm_ts, CAST(text AS TEXT) FROM log_line WHERE session=%lld",
                    "0|1000|NULL|Hello, world!");
            CHECK_Q(id, "SELECT offset, port, type, name, ts, depth, fields FROM trace_event WHERE session=%lld "
                        "ORDER BY seq",
                    "6|30|1|session_start|42|0|{\"version\":1,\"core_hz\":25000000,\"ts_hz\":25000000,"
                    "\"build_id_lo\":2309737967,\"build_id_hi\":19088743,\"ts\":42};"
                    "55|30|2|session_end|1048576|0|{\"ts\":1048576}");
            CHECK_Q(id, "SELECT count(*) FROM decode_error WHERE session=%lld", "0");
            CHECK_Q(id,
                    "SELECT protocol_version, core_hz, ts_hz, build_id, start_ts, end_reason, bytes, packets, events,"
                    " log_lines, overflows, decode_errors, bytes_skipped, trace_errors, dropped, acks FROM session"
                    " WHERE id=%lld",
                    "1|25000000|25000000|0123456789abcdef|42|end_of_input|62|15|2|1|0|0|0|0|0|0");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);

    /* without a store the counters are the same */
    run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .no_store = 1};
    comb_session_counters cn;
    run(hello->bytes, hello->nbytes, &o, &cn);
    CHECK_EQ_U64(cn.bytes, 62);
    CHECK_EQ_U64(cn.packets, 15);
    CHECK_EQ_U64(cn.events, 2);
    CHECK_EQ_U64(cn.log_lines, 1);
}

/* Every golden vector, in every chunking: same rows; events/errors/logs as the vector says. */
static void test_all_vectors(const struct vector *v, size_t nv)
{
    for (size_t i = 0; i < nv; i++) {
        char *first = NULL;
        for (size_t k = 0; k < NCHUNKINGS; k++) {
            /* one output per log port, to compare with the vector's log lines */
            char paths[30][320], sels[30][340];
            char *argv[30];
            for (int p = 0; p < 30; p++) {
                char name[32];
                snprintf(name, sizeof name, "port%d.bin", p);
                test_tmp_path(paths[p], sizeof paths[p], name);
                snprintf(sels[p], sizeof sels[p], "%s:%d", paths[p], p);
                argv[p] = sels[p];
            }
            comb_outputs outs;
            char err[600];
            CHECK(comb_outputs_open(&outs, 30, argv, err, sizeof err) == 0);
            run_opts o = {.mode = COMB_ITM_SYNC_ASSUME, .outputs = &outs, .chunk = chunkings[k], .host_ns = 5};
            comb_session_counters cn;
            int64_t id = run(v[i].bytes, v[i].nbytes, &o, &cn);
            comb_outputs_close(&outs);

            CHECK_EQ_U64(cn.events, v[i].nevents);
            CHECK_EQ_U64(cn.trace_errors, v[i].nerrors);
            for (int p = 0; p < 30; p++) {
                uint8_t want[4096], got[4096];
                size_t nw = 0;
                for (unsigned l = 0; l < v[i].nlogs; l++)
                    if (v[i].logs[l].port == (unsigned)p) {
                        memcpy(want + nw, v[i].logs[l].text, v[i].logs[l].len);
                        nw += v[i].logs[l].len;
                    }
                FILE *f = fopen(paths[p], "rb");
                size_t ng = f ? fread(got, 1, sizeof got, f) : 0;
                if (f)
                    fclose(f);
                unlink(paths[p]);
                check_count++;
                if (ng != nw || memcmp(got, want, nw) != 0) {
                    check_failures++;
                    fprintf(stderr, "vector %s, chunk %zu: port %d output differs\n", v[i].name, chunkings[k], p);
                }
            }
            char *d = dump(id);
            if (!first) {
                first = d;
                /* event names in order */
                char *names = query(id, "SELECT name FROM trace_event WHERE session=%lld ORDER BY seq");
                sbuf want = {0};
                sb_add(&want, "");
                for (unsigned e = 0; e < v[i].nevents; e++) {
                    if (e)
                        sb_add(&want, ";");
                    sb_add(&want, v[i].events[e].name);
                }
                check_count++;
                if (strcmp(names, want.p) != 0) {
                    check_failures++;
                    fprintf(stderr, "vector %s: events '%s', expected '%s'\n", v[i].name, names, want.p);
                }
                free(names);
                free(want.p);
                char *kinds = query(id, "SELECT kind FROM decode_error WHERE session=%lld AND layer='trace' "
                                        "ORDER BY seq");
                sbuf wk = {0};
                sb_add(&wk, "");
                for (unsigned e = 0; e < v[i].nerrors; e++) {
                    if (e)
                        sb_add(&wk, ";");
                    sb_add(&wk, v[i].errors[e].name);
                }
                check_count++;
                if (strcmp(kinds, wk.p) != 0) {
                    check_failures++;
                    fprintf(stderr, "vector %s: errors '%s', expected '%s'\n", v[i].name, kinds, wk.p);
                }
                free(kinds);
                free(wk.p);
            } else {
                check_count++;
                if (strcmp(d, first) != 0) {
                    check_failures++;
                    fprintf(stderr, "vector %s: chunk %zu gives\n%s\ninstead of\n%s\n", v[i].name, chunkings[k], d,
                            first);
                }
                free(d);
            }
        }
        free(first);
    }
}

static void test_lines(void)
{
    stream *s = calloc(1, sizeof *s);
    sync_pkt(s);
    texts(s, 0, "a\n\nb\n");
    /* interleaved ports */
    texts(s, 0, "ab");
    texts(s, 1, "XY");
    texts(s, 0, "c\n");
    texts(s, 2, "\n");
    texts(s, 1, "Z\n");
    /* multi-byte packets: a word carrying a newline in the middle */
    swit(s, 3, 4, 'p' | ('q' << 8) | ('\n' << 16) | ('r' << 24));
    swit(s, 3, 2, 's' | ('\n' << 8));
    /* a CR is kept, a NUL is kept */
    texts(s, 4, "x\r\n");
    text(s, 4, "n\0l\n", 4);
    /* unterminated at the end: stored by finish */
    texts(s, 1, "tail");

    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k], .host_ns = 77};
        comb_session_counters cn;
        int64_t id = run(s->b, s->n, &o, &cn);
        CHECK_EQ_U64(cn.log_lines, 11);
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id, "SELECT port, hex(text) FROM log_line WHERE session=%lld ORDER BY seq",
                    "0|61;0|;0|62;0|616263;2|;1|58595A;3|7071;3|7273;4|780D;4|6E006C;1|7461696C");
            CHECK_Q(id, "SELECT count(*) FROM log_line WHERE session=%lld AND (text IS NULL OR itm_ts IS NOT NULL)",
                    "0");
            CHECK_Q(id, "SELECT DISTINCT host_ns FROM log_line WHERE session=%lld", "77");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);
    free(s);
}

/* host_ns is the time of the line's first byte, per port. */
static void test_line_host_time(void)
{
    comb_store *st;
    char err[512];
    int64_t id;
    CHECK(comb_store_open(dbpath, &st, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(st, "t", "{}", &id) == 0);
    comb_capture *c = malloc(sizeof *c);
    comb_capture_config cfg = {.sync_mode = COMB_ITM_SYNC_WAIT, .store = st};
    comb_capture_init(c, &cfg);
    stream *s = calloc(1, sizeof *s);
    sync_pkt(s);
    texts(s, 0, "ab");
    comb_capture_feed(c, s->b, s->n, 100);
    s->n = 0;
    texts(s, 1, "XY");
    comb_capture_feed(c, s->b, s->n, 150);
    s->n = 0;
    texts(s, 0, "c\n\n"); /* the empty line starts (and ends) at 200 */
    comb_capture_feed(c, s->b, s->n, 200);
    s->n = 0;
    texts(s, 1, "Z\nW");
    comb_capture_feed(c, s->b, s->n, 300);
    comb_capture_finish(c);
    CHECK(comb_store_session_end(st, &c->counters, "end_of_input") == 0);
    comb_store_close(st);
    CHECK_Q(id, "SELECT port, host_ns, CAST(text AS TEXT) FROM log_line WHERE session=%lld ORDER BY seq",
            "0|100|abc;0|200|;1|150|XYZ;1|300|W");
    free(c);
    free(s);
}

static void test_long_lines(void)
{
    stream *s = calloc(1, sizeof *s);
    char big[3000];
    sync_pkt(s);
    memset(big, 'x', COMB_CAPTURE_LINE_MAX);
    text(s, 0, big, COMB_CAPTURE_LINE_MAX); /* exactly the maximum: one line */
    texts(s, 0, "\n");
    memset(big, 'y', COMB_CAPTURE_LINE_MAX + 1);
    text(s, 0, big, COMB_CAPTURE_LINE_MAX + 1); /* one more: split 1024 + 1 */
    texts(s, 0, "\n");
    memset(big, 'z', 2 * COMB_CAPTURE_LINE_MAX);
    text(s, 1, big, 2 * COMB_CAPTURE_LINE_MAX); /* twice the maximum: two lines, no empty third */
    texts(s, 1, "\n");
    memset(big, 'w', 3000);
    text(s, 2, big, 3000); /* no newline: 1024 + 1024 + 952 at finish */

    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k], .host_ns = 1};
        comb_session_counters cn;
        int64_t id = run(s->b, s->n, &o, &cn);
        CHECK_EQ_U64(cn.log_lines, 8);
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id,
                    "SELECT port, length(text), substr(CAST(text AS TEXT), 1, 1) FROM log_line WHERE session=%lld "
                    "ORDER BY seq",
                    "0|1024|x;0|1024|y;0|1|y;1|1024|z;1|1024|z;2|1024|w;2|1024|w;2|952|w");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);
    free(s);
}

static void test_event_timestamps(void)
{
    stream *s = calloc(1, sizeof *s);
    sync_pkt(s);
    heap_free(s, 0x20000000, 0xFFFFFF00u);
    heap_free(s, 0x20000010, 0x00000010u); /* wrapped: 2^32 + 0x10 */
    heap_free(s, 0x20000020, 0x00000005u); /* small step back (nesting): 2^32 + 5 */
    heap_free(s, 0x20000030, 0x7FFFFFF0u); /* forward, < 2^31 */
    heap_free(s, 0x20000040, 0xF0000000u); /* forward again */
    heap_free(s, 0x20000050, 0x00000100u); /* second wrap */
    {
        const uint32_t v[2] = {0x10, 7}; /* clock: re-anchors to 7 * 2^32 + 0x10 */
        event32(s, 30, COMB_EVT_CLOCK, 2, v);
    }
    heap_free(s, 0x20000060, 0x00000020u);
    {
        const uint32_t v[2] = {7, 0x00000030u}; /* dropped: 7 packets */
        event32(s, 30, COMB_EVT_DROPPED, 2, v);
    }
    {
        const uint32_t v[1] = {0xdeadbeef}; /* an unknown type: no ts */
        event32(s, 30, 0x1f, 1, v);
    }
    {
        const uint32_t v[1] = {0x40}; /* session end */
        event32(s, 30, COMB_EVT_SESSION_END, 1, v);
    }

    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k]};
        comb_session_counters cn;
        int64_t id = run(s->b, s->n, &o, &cn);
        CHECK_EQ_U64(cn.events, 11);
        CHECK_EQ_U64(cn.dropped, 7);
        CHECK_EQ_U64(cn.acks, 0); /* no ack_to */
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id, "SELECT name, ifnull(ts, 'NULL') FROM trace_event WHERE session=%lld ORDER BY seq",
                    "heap_free|4294967040;heap_free|4294967312;heap_free|4294967301;heap_free|6442450928;"
                    "heap_free|8321499136;heap_free|8589934848;clock|30064771088;heap_free|30064771104;"
                    "dropped|30064771120;unknown_31|NULL;session_end|30064771136");
            CHECK_Q(id, "SELECT count(*) FROM trace_event WHERE session=%lld AND ts > 4294967296", "9");
            CHECK_Q(id, "SELECT dropped, events, acks FROM session WHERE id=%lld", "7|11|0");
            CHECK_Q(id, "SELECT fields FROM trace_event WHERE session=%lld AND name='unknown_31'",
                    "{\"f0\":3735928559}");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);
    free(s);
}

static void test_errors_and_counters(void)
{
    stream *s = calloc(1, sizeof *s);
    put(s, "\x11\x22\x33", 3); /* before the first sync: skipped (nosync, 3 bytes at offset 0) */
    sync_pkt(s);
    texts(s, 0, "ok\n");
    swit(s, 31, 1, COMB_EVT_HEADER(COMB_EVT_HEAP_ALLOC, 3)); /* offset 15 */
    swit(s, 31, 4, 0x20001000);
    put1(s, COMB_ITM_OVERFLOW_BYTE); /* abandons the alloc: trace truncated */
    swit(s, 31, 4, 0x1234);            /* orphan field, offset 23 */
    heap_free(s, 0x20001000, 0x100);
    swit(s, 30, 1, COMB_EVT_HEADER(0, 0)); /* type 0: bad shape, offset 40 */
    put1(s, 0x04);                           /* reserved header, offset 42 -> resync at the next sync */
    put(s, "\x01\x41", 2);                   /* skipped while unsynchronised */
    sync_pkt(s);
    texts(s, 1, "E\n");
    swit(s, 31, 1, COMB_EVT_HEADER(COMB_EVT_HEAP_FREE, 2)); /* cut by the end of the stream */

    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k]};
        comb_session_counters cn;
        int64_t id = run(s->b, s->n, &o, &cn);
        CHECK_EQ_U64(cn.overflows, 1);
        CHECK_EQ_U64(cn.events, 1);
        CHECK_EQ_U64(cn.log_lines, 2);
        CHECK_EQ_U64(cn.trace_errors, 4); /* truncated, orphan_field, bad_shape, truncated */
        CHECK_EQ_U64(cn.decode_errors, 3);
        CHECK_EQ_U64(cn.bytes_skipped, 6);
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id,
                    "SELECT layer, kind, ifnull(port, 'NULL'), length FROM decode_error WHERE session=%lld "
                    "ORDER BY seq",
                    "itm|nosync|NULL|3;trace|truncated|31|0;trace|orphan_field|31|0;trace|bad_shape|30|0;"
                    "itm|reserved|NULL|1;itm|nosync|NULL|2;trace|truncated|31|0");
            CHECK_Q(id, "SELECT offset FROM decode_error WHERE session=%lld ORDER BY seq", "0;15;23;40;42;43;55");
            CHECK_Q(id, "SELECT CAST(text AS TEXT) FROM log_line WHERE session=%lld ORDER BY seq", "ok;E");
            CHECK_Q(id,
                    "SELECT overflows, decode_errors, bytes_skipped, trace_errors, events, log_lines FROM session "
                    "WHERE id=%lld",
                    "1|3|6|4|1|2");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);
    free(s);
}

static void test_itm_timestamps(void)
{
    stream *s = calloc(1, sizeof *s);
    sync_pkt(s);
    texts(s, 0, "C\n"); /* before any timestamp: NULL */
    put(s, "\xc0\x64", 2); /* LTS1, 100 ticks */
    texts(s, 0, "A\n");
    put1(s, 0x30);           /* LTS2, 3 ticks */
    texts(s, 0, "\n");       /* empty line: 103 */
    texts(s, 1, "B");        /* first byte at 103 */
    put(s, "\xc0\x8a\x01", 3); /* LTS1, 138 ticks */
    texts(s, 1, "b\n");
    texts(s, 0, "D\n"); /* 241 */

    char *first = NULL;
    for (size_t k = 0; k < NCHUNKINGS; k++) {
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .chunk = chunkings[k]};
        int64_t id = run(s->b, s->n, &o, NULL);
        char *d = dump(id);
        if (!first) {
            first = d;
            CHECK_Q(id,
                    "SELECT port, ifnull(itm_ts, 'NULL'), CAST(text AS TEXT) FROM log_line WHERE session=%lld "
                    "ORDER BY seq",
                    "0|NULL|C;0|100|A;0|103|;1|103|Bb;0|241|D");
        } else {
            CHECK_STR(d, first);
            free(d);
        }
    }
    free(first);
    free(s);
}

/* Trace ports reach the outputs that select them (raw payload), log ports too. */
static void test_outputs(void)
{
    char heap[320], p0[320], all[320], sheap[340], sp0[340];
    test_tmp_path(heap, sizeof heap, "heap.bin");
    test_tmp_path(p0, sizeof p0, "p0.bin");
    test_tmp_path(all, sizeof all, "all.bin");
    snprintf(sheap, sizeof sheap, "%s:31", heap);
    snprintf(sp0, sizeof sp0, "%s:0", p0);
    stream *s = calloc(1, sizeof *s);
    sync_pkt(s);
    texts(s, 0, "hi\n");
    heap_free(s, 0x20001000, 0x01020304);
    swit(s, 2, 4, 0x04030201);
    texts(s, 0, "!");

    for (size_t k = 0; k < NCHUNKINGS; k++) {
        char *argv[] = {sheap, sp0, all};
        comb_outputs outs;
        char err[600];
        CHECK(comb_outputs_open(&outs, 3, argv, err, sizeof err) == 0);
        run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .outputs = &outs, .chunk = chunkings[k], .no_store = 1};
        comb_session_counters cn;
        run(s->b, s->n, &o, &cn);
        CHECK_EQ_U64(cn.events, 1);
        comb_outputs_close(&outs);
        uint8_t buf[256];
        FILE *f = fopen(heap, "rb");
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        static const uint8_t want_heap[9] = {0x49, 0x00, 0x10, 0x00, 0x20, 0x04, 0x03, 0x02, 0x01};
        CHECK(n == 9 && memcmp(buf, want_heap, 9) == 0);
        f = fopen(p0, "rb");
        n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        CHECK(n == 4 && memcmp(buf, "hi\n!", 4) == 0);
        f = fopen(all, "rb");
        n = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        static const uint8_t want_all[17] = {'h', 'i', '\n', 0x49, 0x00, 0x10, 0x00, 0x20, 0x04,
                                             0x03, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04, '!'};
        CHECK(n == 17 && memcmp(buf, want_all, 17) == 0);
    }
    unlink(heap), unlink(p0), unlink(all);
    free(s);
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

/* SESSION_END is acknowledged with exactly one 0x06, after everything before it is committed. */
static void test_ack(const struct vector *hello)
{
    if (!hello)
        return;
    char sock[100], spec[340];
    test_tmp_path(sock, sizeof sock, "ack.sock");
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock, strlen(sock) + 1);
    CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(lfd, 1) == 0);
    snprintf(spec, sizeof spec, "unix:%s", sock);
    comb_source *src = NULL;
    char err[512] = "";
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    int sfd = accept(lfd, NULL, NULL);
    CHECK(sfd >= 0);
    if (!src || sfd < 0) {
        fprintf(stderr, "ack test: %s\n", err);
        return;
    }

    comb_store *st;
    int64_t id;
    CHECK(comb_store_open(dbpath, &st, err, sizeof err) == 0);
    CHECK(comb_store_session_begin(st, spec, "{}", &id) == 0);
    comb_capture *c = malloc(sizeof *c);
    comb_capture_config cfg = {.sync_mode = COMB_ITM_SYNC_WAIT, .store = st, .ack_to = src};
    comb_capture_init(c, &cfg);

    /* everything but the last byte of SESSION_END, byte by byte: no ACK yet */
    int early = 0;
    for (size_t i = 0; i + 1 < hello->nbytes; i++) {
        comb_capture_feed(c, hello->bytes + i, 1, 10);
        early |= readable(sfd, 0);
    }
    early |= readable(sfd, 100);
    CHECK(!early);
    CHECK_EQ_U64(c->counters.acks, 0);

    comb_capture_feed(c, hello->bytes + hello->nbytes - 1, 1, 10);
    CHECK(readable(sfd, 2000));
    uint8_t buf[16];
    ssize_t n = recv(sfd, buf, sizeof buf, MSG_DONTWAIT);
    CHECK(n == 1);
    CHECK(n >= 1 && buf[0] == COMB_HOST_ACK);
    CHECK_EQ_U64(c->counters.acks, 1);
    CHECK(c->session_ended);

    /* by the time the ACK is out, what came before SESSION_END is committed */
    CHECK_Q(id, "SELECT CAST(text AS TEXT) FROM log_line WHERE session=%lld", "Hello, world!");
    CHECK_Q(id, "SELECT name FROM trace_event WHERE session=%lld ORDER BY seq", "session_start;session_end");
    CHECK_Q(id, "SELECT build_id FROM session WHERE id=%lld", "0123456789abcdef");

    /* nothing else follows */
    CHECK(!readable(sfd, 100));

    /* more data without SESSION_END: no ACK; another SESSION_END: another ACK */
    stream *s = calloc(1, sizeof *s);
    texts(s, 0, "more\n");
    comb_capture_feed(c, s->b, s->n, 20);
    CHECK(!readable(sfd, 50));
    s->n = 0;
    const uint32_t v[1] = {0x200000};
    event32(s, 31, COMB_EVT_SESSION_END, 1, v); /* session events may use port 31 */
    comb_capture_feed(c, s->b, s->n, 30);
    CHECK(readable(sfd, 2000));
    n = recv(sfd, buf, sizeof buf, MSG_DONTWAIT);
    CHECK(n == 1 && buf[0] == COMB_HOST_ACK);
    CHECK_EQ_U64(c->counters.acks, 2);

    comb_capture_finish(c);
    CHECK(comb_store_session_end(st, &c->counters, "end_of_input") == 0);
    comb_store_close(st);
    CHECK_Q(id, "SELECT acks, events, log_lines FROM session WHERE id=%lld", "2|3|2");
    CHECK(!readable(sfd, 20));
    free(c);
    free(s);

    /* the source closed: the peer sees the end, and nothing more was sent */
    comb_source_close(src);
    CHECK(recv(sfd, buf, sizeof buf, 0) == 0);
    close(sfd);
    close(lfd);
    unlink(sock);
}

/* A source that cannot be written to: SESSION_END is decoded, no ACK counted, nothing breaks. */
static void test_ack_unwritable(const struct vector *hello)
{
    if (!hello)
        return;
    char path[320], spec[340];
    test_tmp_path(path, sizeof path, "in.bin");
    FILE *f = fopen(path, "wb");
    fclose(f);
    snprintf(spec, sizeof spec, "file:%s", path);
    comb_source *src = NULL;
    char err[512];
    CHECK(comb_source_open(spec, &src, err, sizeof err) == 0);
    run_opts o = {.mode = COMB_ITM_SYNC_WAIT, .ack_to = src, .chunk = 5};
    comb_session_counters cn;
    int64_t id = run(hello->bytes, hello->nbytes, &o, &cn);
    CHECK_EQ_U64(cn.acks, 0);
    CHECK_EQ_U64(cn.events, 2);
    CHECK_Q(id, "SELECT acks, events FROM session WHERE id=%lld", "0|2");
    comb_source_close(src);
    unlink(path);
}

/* The commit schedule (capture.h) keeps the documented bound whatever the
 * input does. A simulated capture loop, using the two functions as
 * capture_run.c does: each read ends anywhere within the timeout it was given
 * (data may come at any time, or none), feeding what came and a commit each
 * take up to the slack the schedule leaves. Every gap between the ends of two
 * commits stays within COMB_CAPTURE_COMMIT_BOUND_NS; with the old fixed
 * 100 ms wait it did not (up to 350 ms). */
static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

static int64_t max_commit_gap(bool capped, uint64_t seed)
{
    const int64_t ms = 1000000;
    const int64_t slack = COMB_CAPTURE_COMMIT_BOUND_NS - COMB_CAPTURE_COMMIT_EVERY_NS; /* feed + commit */
    int64_t now = 0, last = 0, worst = 0;
    bool timeouts_ok = true;
    for (int i = 0; i < 200000; i++) {
        int timeout = capped ? comb_capture_read_timeout_ms(now, last, 100) : 100;
        timeouts_ok &= timeout >= 0 && timeout <= 100;
        /* the read returns after 0..timeout ms (+1 ms of scheduling), often at the full timeout */
        int64_t full = (int64_t)timeout * ms;
        int64_t waited = lcg(&seed) % 3 == 0 ? full : (int64_t)(lcg(&seed) % (uint64_t)(full + 1));
        now += waited + (int64_t)(lcg(&seed) % (uint64_t)ms);
        int64_t feed = (int64_t)(lcg(&seed) % (uint64_t)(slack / 2)); /* feeding what came */
        now += feed;
        bool due = capped ? comb_capture_commit_due(now, last) : now - last >= COMB_CAPTURE_COMMIT_BOUND_NS;
        if (due) {
            now += (int64_t)(lcg(&seed) % (uint64_t)(slack / 2 - 2 * ms)); /* the commit */
            if (now - last > worst)
                worst = now - last;
            last = now;
        }
    }
    CHECK(timeouts_ok);
    return worst;
}

static void test_commit_schedule(void)
{
    /* the functions themselves */
    const int64_t ms = 1000000;
    CHECK(!comb_capture_commit_due(0, 0));
    CHECK(!comb_capture_commit_due(COMB_CAPTURE_COMMIT_EVERY_NS - 1, 0));
    CHECK(comb_capture_commit_due(COMB_CAPTURE_COMMIT_EVERY_NS, 0));
    CHECK(comb_capture_read_timeout_ms(0, 0, 100) == 100);
    CHECK(comb_capture_read_timeout_ms(150 * ms, 0, 100) == 50);
    CHECK(comb_capture_read_timeout_ms(150 * ms + 1, 0, 100) == 50); /* rounded up: ends at or after the due point */
    CHECK(comb_capture_read_timeout_ms(199 * ms + 1, 0, 100) == 1);
    CHECK(comb_capture_read_timeout_ms(COMB_CAPTURE_COMMIT_EVERY_NS, 0, 100) == 0);
    CHECK(comb_capture_read_timeout_ms(COMB_CAPTURE_COMMIT_EVERY_NS + 5 * ms, 0, 100) == 0);
    CHECK(comb_capture_read_timeout_ms(10 * ms, 0, 20) == 20);
    CHECK(COMB_CAPTURE_COMMIT_EVERY_NS < COMB_CAPTURE_COMMIT_BOUND_NS);

    /* the loop built from them */
    for (uint64_t seed = 1; seed <= 5; seed++) {
        int64_t gap = max_commit_gap(true, seed);
        CHECK(gap <= COMB_CAPTURE_COMMIT_BOUND_NS);
        CHECK(gap >= COMB_CAPTURE_COMMIT_EVERY_NS); /* commits are not more frequent than planned */
    }
    /* the simulation can tell: a fixed wait before a commit at 250 ms overshoots */
    CHECK(max_commit_gap(false, 1) > COMB_CAPTURE_COMMIT_BOUND_NS);
}

int main(void)
{
    test_tmp_init("capture");
    test_tmp_path(dbpath, sizeof dbpath, "capture.db");
    size_t nv = 0;
    struct vector *v = vectors_load(COMB_VECTORS_DIR, &nv);
    CHECK(nv > 0);
    const struct vector *hello = find_vector(v, nv, "hello_session");

    test_hello_session(hello);
    test_all_vectors(v, nv);
    test_lines();
    test_line_host_time();
    test_long_lines();
    test_event_timestamps();
    test_errors_and_counters();
    test_itm_timestamps();
    test_outputs();
    test_ack(hello);
    test_ack_unwritable(hello);
    test_commit_schedule();

    {
        sqlite3 *db;
        char *msg = NULL;
        CHECK(sqlite3_open(dbpath, &db) == SQLITE_OK);
        CHECK(comb_sqlite_register(db) == SQLITE_OK);
        char *ok = NULL;
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            ok = strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        CHECK(ok && strcmp(ok, "ok") == 0);
        free(ok);
        sqlite3_free(msg);
        sqlite3_close(db);
    }
    free(v);
    test_remove_db(dbpath);
    test_tmp_done();
    return check_finish("test_capture");
}
