/* Event blocks: encoding and decoding (event_block.h). */
#include "event_block.h"

#include <string.h>

/* Kind names: the same strings and order as comb_heap_kind_name (heap_trace.h)
 * and comb_sched_kind_name (session_store.h); test_event_block checks that. */
const evb_shape evb_heap = {
    .table = "heap_event",
    .block_table = "heap_block",
    .decl = "CREATE TABLE x(session INTEGER, seq INTEGER, offset INTEGER, kind TEXT, ts INTEGER, ptr INTEGER,"
            " old_ptr INTEGER, size INTEGER, old_size INTEGER, caller INTEGER, depth INTEGER)",
    .ncols = 11,
    .cols = {"session", "seq", "offset", "kind", "ts", "ptr", "old_ptr", "size", "old_size", "caller", "depth"},
    .coding = {EVB_SESSION, EVB_SEQ, EVB_DELTA, EVB_KIND, EVB_DELTA, EVB_DELTA, EVB_DELTA, EVB_PLAIN, EVB_PLAIN,
               EVB_DELTA, EVB_PLAIN},
    .group = {[2] = 0, [4] = 1, [5] = 2, [6] = 2, [9] = 3},
    .nullable = {[4] = true, [5] = true, [6] = true, [7] = true, [8] = true, [9] = true},
    .has_default = {[10] = true},
    .nkinds = 5,
    .kinds = {"alloc", "free", "realloc", "resize", "fail"},
    .kind_len = {5, 4, 7, 6, 4},
};

const evb_shape evb_sched = {
    .table = "sched_event",
    .block_table = "sched_block",
    .decl = "CREATE TABLE x(session INTEGER, seq INTEGER, offset INTEGER, kind TEXT, ts INTEGER, thr INTEGER,"
            " from_thr INTEGER, fiber INTEGER, depth INTEGER)",
    .ncols = 9,
    .cols = {"session", "seq", "offset", "kind", "ts", "thr", "from_thr", "fiber", "depth"},
    .coding = {EVB_SESSION, EVB_SEQ, EVB_DELTA, EVB_KIND, EVB_DELTA, EVB_PLAIN, EVB_PLAIN, EVB_DELTA, EVB_PLAIN},
    .group = {[2] = 0, [4] = 1, [7] = 3},
    .nullable = {[4] = true, [6] = true, [7] = true},
    .has_default = {[8] = true},
    .nkinds = 7,
    .kinds = {"wakeup", "enter", "exit", "fiber_added", "fiber_resumed", "fiber_yielded", "fiber_completed"},
    .kind_len = {6, 5, 4, 11, 13, 13, 15},
};

#define KIND_BITS 3

size_t evb_buffer_size(void)
{
    return (size_t)EVB_MAX_ROWS * EVB_MAX_ROW_BYTES + 1;
}

static inline uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t u)
{
    while (u >= 0x80) { /* at most 10 bytes for 64 bits */
        *p++ = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    *p++ = (uint8_t)u;
    return p;
}

/* false when the varint runs past end or over 10 bytes */
static inline bool get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t u = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) { /* at most 10 bytes */
        if (p == end)
            return false;
        const uint8_t b = *p++;
        u |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = u;
            return true;
        }
    }
    return false;
}

void evb_writer_reset(evb_writer *w, const evb_shape *shape, uint8_t *buf)
{
    memset(w, 0, sizeof *w);
    w->shape = shape;
    w->buf = buf;
    w->buf[0] = EVB_FORMAT;
    w->len = 1;
}

int evb_append(evb_writer *w, const evb_row *r)
{
    const evb_shape *sh = w->shape;
    if (w->rows == EVB_MAX_ROWS)
        return 1;
    if (w->rows && r->v[1] <= w->last_seq)
        return -1;
    uint64_t head = 0;
    unsigned bit = 0;
    for (unsigned c = 2; c < sh->ncols; c++) {
        const bool has = r->present >> c & 1u;
        if (sh->coding[c] == EVB_KIND) {
            if (!has || r->v[c] < 0 || (uint64_t)r->v[c] >= sh->nkinds)
                return -2;
            head |= (uint64_t)r->v[c];
        } else if (sh->nullable[c]) {
            if (has)
                head |= 1ull << (KIND_BITS + bit);
            bit++;
        } else if (!has) {
            return -2;
        }
    }
    uint8_t *p = put_varint(w->buf + w->len, head);
    /* seq: the first row's as is, then the step from the previous row (>= 1, and
     * unsigned: a step can exceed INT64_MAX) */
    p = put_varint(p, w->rows ? (uint64_t)r->v[1] - (uint64_t)w->last_seq : zigzag(r->v[1]));
    for (unsigned c = 2; c < sh->ncols; c++) {
        if (sh->coding[c] == EVB_KIND || !(r->present >> c & 1u))
            continue;
        if (sh->coding[c] == EVB_DELTA) {
            int64_t *prev = &w->prev[sh->group[c]];
            p = put_varint(p, zigzag((int64_t)((uint64_t)r->v[c] - (uint64_t)*prev))); /* wraps, and back */
            *prev = r->v[c];
        } else {
            p = put_varint(p, zigzag(r->v[c]));
        }
    }
    if (!w->rows)
        w->first_seq = r->v[1];
    w->last_seq = r->v[1];
    w->rows++;
    w->len = (size_t)(p - w->buf);
    return 0;
}

bool evb_reader_init(evb_reader *rd, const evb_shape *shape, const uint8_t *data, size_t len)
{
    memset(rd, 0, sizeof *rd);
    rd->shape = shape;
    if (!data || len < 1 || data[0] != EVB_FORMAT)
        return false;
    rd->p = data + 1;
    rd->end = data + len;
    return true;
}

int evb_next(evb_reader *rd, evb_row *r)
{
    const evb_shape *sh = rd->shape;
    if (rd->p == rd->end)
        return 0;
    uint64_t head, u;
    if (!get_varint(&rd->p, rd->end, &head) || !get_varint(&rd->p, rd->end, &u))
        return -1;
    int64_t seq;
    if (rd->rows == 0) {
        seq = unzigzag(u);
    } else {
        seq = (int64_t)((uint64_t)rd->seq + u);
        if (u == 0 || seq <= rd->seq)
            return -1; /* seq must increase within a block: readers rely on the order */
    }
    if (rd->rows == EVB_MAX_ROWS)
        return -1; /* no writer makes longer blocks; row indexes (the rowid) have 12 bits */
    r->present = (r->present & 1u) | 2u;
    r->v[1] = seq;
    unsigned bit = 0;
    for (unsigned c = 2; c < sh->ncols; c++) {
        if (sh->coding[c] == EVB_KIND) {
            const uint64_t k = head & ((1u << KIND_BITS) - 1);
            if (k >= sh->nkinds)
                return -1;
            r->v[c] = (int64_t)k;
            r->present |= 1u << c;
            continue;
        }
        if (sh->nullable[c] && !(head >> (KIND_BITS + bit++) & 1u))
            continue;
        if (!get_varint(&rd->p, rd->end, &u))
            return -1;
        if (sh->coding[c] == EVB_DELTA) {
            int64_t *prev = &rd->prev[sh->group[c]];
            *prev = (int64_t)((uint64_t)*prev + (uint64_t)unzigzag(u));
            r->v[c] = *prev;
        } else {
            r->v[c] = unzigzag(u);
        }
        r->present |= 1u << c;
    }
    rd->seq = seq;
    rd->rows++;
    return 1;
}

int evb_kind_index(const evb_shape *shape, const char *name, size_t len)
{
    for (unsigned k = 0; k < shape->nkinds; k++)
        if ((size_t)shape->kind_len[k] == len && memcmp(shape->kinds[k], name, len) == 0)
            return (int)k;
    return -1;
}
