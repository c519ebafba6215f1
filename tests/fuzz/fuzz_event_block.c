/*
 * libFuzzer target: event blocks (host/src/event_block.h), the encoding of the
 * heap_event and sched_event rows in a session database, i.e. bytes read back
 * from a file that may be corrupt. The first input byte picks the table
 * (bit 0) and the mode (bit 1):
 * - decode: the rest is a block; decoding ends in rows or -1, never reads out
 *   of bounds, and whatever decoded re-encodes and decodes to the same rows;
 * - encode: the rest drives rows (presence, kind, values, seq steps), which
 *   are appended, and must decode to exactly what was appended, with the
 *   refusals evb_append documents (non-increasing seq) and nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_block.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_event_block: oracle violated: %s\n", what);
        abort();
    }
}

static int same(const evb_shape *sh, const evb_row *a, const evb_row *b)
{
    if ((a->present | 1u) != (b->present | 1u))
        return 0;
    for (unsigned c = 1; c < sh->ncols; c++)
        if ((a->present >> c & 1u) && a->v[c] != b->v[c])
            return 0;
    return 1;
}

static evb_row rows[EVB_MAX_ROWS];
static uint8_t *buf;

static unsigned decode_all(const evb_shape *sh, const uint8_t *data, size_t len, int *rc_out)
{
    evb_reader rd;
    *rc_out = -2;
    if (!evb_reader_init(&rd, sh, data, len))
        return 0;
    evb_row r;
    memset(&r, 0, sizeof r);
    unsigned n = 0;
    int rc;
    while ((rc = evb_next(&rd, &r)) == 1) {
        check(n < len, "no more rows than bytes");
        if (n < EVB_MAX_ROWS)
            rows[n] = r;
        n++;
    }
    *rc_out = rc;
    return n;
}

static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && *p < end; i++)
        v = v << 8 | *(*p)++;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!buf)
        buf = malloc(evb_buffer_size());
    if (size < 1)
        return 0;
    const evb_shape *sh = (data[0] & 1) ? &evb_sched : &evb_heap;
    evb_writer w;
    if (!(data[0] & 2)) {
        int rc;
        const unsigned n = decode_all(sh, data + 1, size - 1, &rc);
        if (rc == -2 || n == 0 || n > EVB_MAX_ROWS)
            return 0;
        evb_writer_reset(&w, sh, buf);
        static evb_row first[EVB_MAX_ROWS];
        memcpy(first, rows, sizeof rows[0] * n);
        for (unsigned i = 0; i < n; i++)
            check(evb_append(&w, &first[i]) == 0, "decoded rows re-encode");
        unsigned n2 = decode_all(sh, buf, w.len, &rc);
        check(rc == 0 && n2 == n, "re-encoded block decodes whole");
        for (unsigned i = 0; i < n; i++)
            check(same(sh, &first[i], &rows[i]), "re-encoded rows are the decoded ones");
        return 0;
    }
    const uint8_t *p = data + 1, *end = data + size;
    evb_writer_reset(&w, sh, buf);
    static evb_row want[EVB_MAX_ROWS];
    unsigned n = 0;
    int64_t seq = (int64_t)take(&p, end, 8);
    while (p < end && n < EVB_MAX_ROWS) {
        evb_row r;
        memset(&r, 0, sizeof r);
        const uint8_t ctl = (uint8_t)take(&p, end, 1);
        /* small steps, sometimes backwards, sometimes any 64-bit step (above INT64_MAX, wrapping) */
        const uint64_t step = (ctl & 0x40) ? take(&p, end, 8)
                              : (ctl & 0x80) ? -(uint64_t)(ctl & 3)
                                             : (uint64_t)(ctl & 7) * 1000 + 1;
        seq = (int64_t)((uint64_t)seq + step);
        r.v[1] = seq;
        r.present = 2;
        const uint16_t has = (uint16_t)take(&p, end, 2);
        for (unsigned c = 2; c < sh->ncols; c++) {
            if (sh->nullable[c] && !(has >> c & 1u))
                continue;
            r.v[c] = sh->coding[c] == EVB_KIND ? (int64_t)(take(&p, end, 1) % sh->nkinds)
                                               : (int64_t)take(&p, end, 1 + (has >> 12) % 8);
            r.present |= 1u << c;
        }
        const int rc = evb_append(&w, &r);
        const int increasing = n == 0 || r.v[1] > want[n - 1].v[1];
        check(rc == (increasing ? 0 : -1), "append refuses exactly the non-increasing seqs");
        if (rc == 0)
            want[n++] = r;
        else
            seq = want[n - 1].v[1];
    }
    check(w.rows == n && w.len <= evb_buffer_size(), "writer counts and stays in its buffer");
    int rc;
    const unsigned got = decode_all(sh, buf, w.len, &rc);
    check(rc == 0 && got == n, "an encoded block decodes whole");
    for (unsigned i = 0; i < n; i++)
        check(same(sh, &want[i], &rows[i]), "decoded rows are the appended ones");
    return 0;
}
