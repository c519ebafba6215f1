/*
 * comb heap trace | import: heap sessions into the database.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_run.h"
#include "comb/drone_heaptrace.h"
#include "comb/heap_trace.h"
#include "comb/session_store.h"
#include "comb/tpiu_deformatter.h"
#include "heap_cli.h"
#include "json_text.h"

/* ---- trace ----------------------------------------------------------------------- */

int heap_cmd_trace(int argc, char **argv)
{
    const char *db = NULL, *tpiu = NULL;
    bool assume_sync = false, no_ack = false, quiet = false;
    const cli_opt opts[] = {{"--db", "a database file", &db, NULL},
                             {"--assume-sync", NULL, NULL, &assume_sync},
                             {"--no-ack", NULL, NULL, &no_ack},
                             {"--tpiu", "a trace ID (ITM: usually 1)", &tpiu, NULL},
                             {"--quiet", NULL, NULL, &quiet}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap trace", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 1, &npos);
    if (rc == 3) {
        printf("usage: comb heap trace --db FILE [--assume-sync] [--no-ack] [--tpiu ID] [--quiet] SOURCE\n"
               "\n"
               "Captures a heap trace alone: port 31's events (and the session events) into a new\n"
               "session of FILE; log ports are neither printed nor stored. SOURCE and the options\n"
               "as for comb log (serial:DEV[@BAUD], file:PATH, -, tcp:HOST:PORT, unix:PATH; --tpiu:\n"
               "TPIU formatter frames, keep trace ID). A heap trace is also part of every\n"
               "`comb log --db` session.\n");
        return 0;
    }
    if (rc)
        return rc;
    if (!db) {
        fprintf(stderr, "comb heap trace: --db FILE is required\n");
        return 2;
    }
    uint8_t tpiu_id = 0;
    char err[200];
    if (tpiu && comb_tpiu_parse_id(tpiu, &tpiu_id, err, sizeof err)) {
        fprintf(stderr, "comb heap trace: %s\n", err);
        return 2;
    }
    if (npos != 1) {
        fprintf(stderr, "comb heap trace: no SOURCE given (try comb heap trace --help)\n");
        return 2;
    }
    char settings[256];
    int n = snprintf(settings, sizeof settings, "{\"mode\":\"heap_trace\",\"ports\":[31],\"sync\":\"%s\",\"ack\":%s",
                     assume_sync ? "assume" : "wait", no_ack ? "false" : "true");
    if (tpiu)
        n += snprintf(settings + n, sizeof settings - (size_t)n, ",\"tpiu\":%u", (unsigned)tpiu_id);
    snprintf(settings + n, sizeof settings - (size_t)n, "}");
    capture_run_args a = {.cmd = "comb heap trace",
                          .spec = pos[0],
                          .db_path = db,
                          .settings = settings,
                          .assume_sync = assume_sync,
                          .ack = !no_ack,
                          .quiet = quiet,
                          .tpiu_id = tpiu ? tpiu_id : -1,
                          .store_ports = 1u << 31};
    return capture_run(&a);
}

/* ---- import ---------------------------------------------------------------------- */

static int read_all(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *d = malloc(cap);
    while (d) {
        size_t r = fread(d + n, 1, cap - n, f);
        n += r;
        if (n < cap) {
            if (ferror(f)) {
                free(d);
                d = NULL;
            }
            break;
        }
        uint8_t *nd = realloc(d, cap * 2);
        if (!nd) {
            free(d);
            d = NULL;
            break;
        }
        d = nd;
        cap *= 2;
    }
    int e = errno;
    fclose(f);
    errno = e;
    if (!d)
        return -1;
    *data = d;
    *len = n;
    return 0;
}

int heap_cmd_import(int argc, char **argv)
{
    const char *drone = NULL, *db = NULL;
    bool quiet = false;
    const cli_opt opts[] = {{"--drone", "a Drone heaptrace file", &drone, NULL},
                             {"--db", "a database file", &db, NULL},
                             {"--quiet", NULL, NULL, &quiet}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap import", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc == 3) {
        printf("usage: comb heap import --drone FILE --db FILE [--quiet]\n"
               "\n"
               "Imports a Drone OS v0.12-v0.14 heaptrace file (port 31's payload, as written by\n"
               "`drone log ... heaptrace:31`) as a new session. The file's known device defects are\n"
               "detected and reported with counts (sizes of 256 or more recorded modulo 256, resizes\n"
               "traced twice); broken words are skipped and counted, never fatal.\n");
        return 0;
    }
    if (rc)
        return rc;
    if (!drone || !db) {
        fprintf(stderr, "comb heap import: --drone FILE and --db FILE are required\n");
        return 2;
    }
    uint8_t *data;
    size_t len;
    if (read_all(drone, &data, &len)) {
        fprintf(stderr, "comb heap import: %s: %s\n", drone, strerror(errno));
        return 1;
    }
    comb_heap_raw *raw;
    size_t n;
    comb_drone_import_stats st;
    if (comb_drone_heaptrace_parse(data, len, &raw, &n, &st)) {
        fprintf(stderr, "comb heap import: out of memory\n");
        free(data);
        return 1;
    }
    free(data);
    if (len == 0) {
        fprintf(stderr, "comb heap import: %s is empty: nothing to import\n", drone);
        return 1;
    }
    if (n == 0) {
        fprintf(stderr,
                "comb heap import: %s: no heap event in %zu bytes (%" PRIu64
                " invalid words): not a Drone heaptrace file\n",
                drone, len, st.invalid_words);
        free(raw);
        return 1;
    }
    /* the normaliser pairs frees with allocations: its counts complete the picture */
    comb_heap_trace t;
    comb_heap_trace_init(&t);
    comb_heap_raw *copy = malloc(n * sizeof *copy);
    if (!copy || (memcpy(copy, raw, n * sizeof *copy), comb_heap_trace_from_raw(copy, n, &t))) {
        fprintf(stderr, "comb heap import: out of memory\n");
        free(copy);
        free(raw);
        comb_heap_trace_free(&t);
        return 1;
    }
    free(copy);
    const comb_heap_anomalies an = t.anomalies;
    comb_heap_trace_free(&t);

    const char *w = "comb heap import: warning";
    if (st.invalid_words || st.broken_frames)
        fprintf(stderr, "%s: %s: %" PRIu64 " words with an unknown header and %" PRIu64
                        " broken frames skipped (the first at byte %" PRIu64 ")\n",
                w, drone, st.invalid_words, st.broken_frames, st.first_problem_offset);
    if (st.trailing_bytes)
        fprintf(stderr, "%s: %s: %" PRIu64 " bytes of an incomplete last word ignored\n", w, drone,
                st.trailing_bytes);
    bool truncated = comb_drone_truncation_suspected(&st);
    if (truncated)
        fprintf(stderr,
                "%s: %s: all %" PRIu64 " size words have a zero high part: unless every request was under 256 "
                "bytes, this trace comes from drone-core v0.12-v0.14, which records sizes of 256 bytes or more "
                "modulo 256 (300 as 44, 1024 as 0); evidence: %" PRIu64 " zero-size allocations, %" PRIu64
                " resizes to 256 bytes or more, %" PRIu64 " duplicate allocations showing the size modulo 256, %" PRIu64
                " frees matched only modulo 256\n",
                w, drone, st.size_words, st.zero_size_allocs, st.resizes_to_256, st.truncated_confirmed,
                an.repaired_mod256);
    if (st.double_traced)
        fprintf(stderr,
                "%s: %s: %" PRIu64 " resizes were traced twice (GROW/SHRINK followed by their own ALLOC and "
                "DEALLOC, drone-core v0.14): the duplicates were dropped\n",
                w, drone, st.double_traced);
    if (an.free_unmatched)
        fprintf(stderr, "%s: %s: %" PRIu64 " deallocations of a size with no live allocation were ignored\n", w,
                drone, an.free_unmatched);

    char err[600], settings[2048], path_json[1024] = "";
    json_append_string(path_json, sizeof path_json, drone);
    snprintf(settings, sizeof settings,
             "{\"import\":\"drone-heaptrace\",\"file\":%s,\"words\":%" PRIu64 ",\"invalid_words\":%" PRIu64
             ",\"broken_frames\":%" PRIu64 ",\"trailing_bytes\":%" PRIu64 ",\"size_truncation_suspected\":%s"
             ",\"zero_size_allocs\":%" PRIu64 ",\"resizes_to_256\":%" PRIu64 ",\"truncated_confirmed\":%" PRIu64
             ",\"repaired_mod256\":%" PRIu64 ",\"double_traced\":%" PRIu64 ",\"free_unmatched\":%" PRIu64 "}",
             path_json, st.words, st.invalid_words, st.broken_frames, st.trailing_bytes, truncated ? "true" : "false",
             st.zero_size_allocs, st.resizes_to_256, st.truncated_confirmed, an.repaired_mod256, st.double_traced,
             an.free_unmatched);
    char source[1100];
    snprintf(source, sizeof source, "drone:%s", drone);
    comb_store *store = NULL;
    int64_t session = 0;
    if (comb_store_open(db, &store, err, sizeof err) || comb_store_session_begin(store, source, settings, &session)) {
        fprintf(stderr, "comb heap import: %s\n", store ? comb_store_errmsg(store) : err);
        comb_store_close(store);
        free(raw);
        return 1;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = comb_store_heap_event(store, &raw[i]);
    comb_session_counters c = {.bytes = len, .events = n, .decode_errors = st.invalid_words + st.broken_frames};
    if (rc || comb_store_session_end(store, &c, "end_of_input")) {
        fprintf(stderr, "comb heap import: %s\n", comb_store_errmsg(store));
        rc = 1;
    }
    comb_store_close(store);
    free(raw);
    if (rc == 0 && !quiet)
        fprintf(stderr,
                "comb heap import: session %lld: %zu events (%" PRIu64 " allocs, %" PRIu64 " deallocs, %" PRIu64
                " grows, %" PRIu64 " shrinks) from %s\n",
                (long long)session, n, st.allocs - st.double_traced, st.deallocs - st.double_traced, st.grows,
                st.shrinks, drone);
    return rc;
}
