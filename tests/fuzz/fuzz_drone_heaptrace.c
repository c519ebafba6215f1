/*
 * libFuzzer target: the Drone heaptrace importer (analysis/, drone_heaptrace.h),
 * then trace normalisation. Oracles: it never fails except out of memory; the
 * word and trailing-byte counts match the input; every event has a known kind,
 * an offset inside the file, increasing seq; at most one event per two words;
 * re-encoding the decoded events gives a file the importer reads without a
 * single invalid word or broken frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/drone_heaptrace.h"
#include "comb/heap_trace.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_drone_heaptrace: oracle violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    comb_heap_raw *ev = NULL;
    size_t n = 0;
    comb_drone_import_stats st;
    memset(&st, 0, sizeof st);
    check(comb_drone_heaptrace_parse(data, size, &ev, &n, &st) == 0, "parse failed");
    check(st.words == size / 4 && st.trailing_bytes == size % 4, "word counts");
    check(n <= st.words / 2, "more events than word pairs");
    for (size_t i = 0; i < n; i++) {
        check(ev[i].kind < COMB_HEAP_KIND_COUNT, "event kind");
        check(ev[i].offset < size, "event offset");
        check(i == 0 || ev[i].seq > ev[i - 1].seq, "seq increases");
    }
    (void)comb_drone_truncation_suspected(&st);

    /* the encoder's output reads back cleanly */
    uint8_t *buf = malloc(n * 12 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t sz = (ev[i].has & COMB_HR_SIZE) ? ev[i].size : ev[i].old_size;
        unsigned kind = ev[i].kind == COMB_HEAP_REALLOC ? COMB_HEAP_REALLOC
                        : ev[i].kind == COMB_HEAP_FREE  ? COMB_HEAP_FREE
                                                        : COMB_HEAP_ALLOC;
        len += comb_drone_heaptrace_encode(buf + len, kind, ev[i].old_size, kind == COMB_HEAP_REALLOC ? ev[i].size : sz,
                                           false);
    }
    comb_heap_raw *ev2 = NULL;
    size_t n2 = 0;
    comb_drone_import_stats st2;
    memset(&st2, 0, sizeof st2);
    check(comb_drone_heaptrace_parse(buf, len, &ev2, &n2, &st2) == 0, "re-parse failed");
    check(st2.invalid_words == 0 && st2.broken_frames == 0, "encoder output does not read back cleanly");
    free(ev2);
    free(buf);

    comb_heap_trace t;
    comb_heap_trace_init(&t);
    comb_heap_trace_from_raw(ev, n, &t);
    comb_heap_trace_free(&t);
    free(ev);
    return 0;
}
