/* Drone heaptrace importer (include/comb/drone_heaptrace.h). */
#include "comb/drone_heaptrace.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 64 /* open frames per event type */

typedef struct frame {
    uint8_t b[8];
    uint8_t len;
    uint64_t offset; /* of its first word */
} frame;

typedef struct fstack {
    frame f[MAX_NESTING];
    unsigned n;
} fstack;

typedef struct ev {
    uint8_t kind; /* 0 alloc, 1 dealloc, 2 grow, 3 shrink */
    uint32_t old_size, size;
    uint64_t offset;
} ev;

bool comb_drone_truncation_suspected(const comb_drone_import_stats *s)
{
    return s->size_words > 0 && s->size_words_high == 0;
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void problem(comb_drone_import_stats *st, uint64_t offset)
{
    if (st->invalid_words + st->broken_frames == 0)
        st->first_problem_offset = offset;
}

static void broken(comb_drone_import_stats *st, uint64_t offset)
{
    problem(st, offset);
    st->broken_frames++;
}

static bool push_frame(fstack *s, const uint8_t p[3], uint64_t offset)
{
    if (s->n == MAX_NESTING)
        return false;
    frame *f = &s->f[s->n++];
    memcpy(f->b, p, 3);
    f->len = 3;
    f->offset = offset;
    return true;
}

int comb_drone_heaptrace_parse(const uint8_t *data, size_t len, comb_heap_raw **out, size_t *n,
                               comb_drone_import_stats *st)
{
    memset(st, 0, sizeof *st);
    *out = NULL;
    *n = 0;
    size_t nwords = len / 4;
    st->words = nwords;
    st->trailing_bytes = len % 4;
    /* at most one event per two words */
    ev *evs = malloc((nwords / 2 + 1) * sizeof *evs);
    fstack stacks[4]; /* alloc, dealloc, grow, shrink */
    if (!evs)
        return -1;
    memset(stacks, 0, sizeof stacks);
    size_t nev = 0;
    for (size_t w = 0; w < nwords; w++) {
        const uint8_t *b = data + 4 * w;
        uint64_t off = 4 * (uint64_t)w;
        uint32_t v = ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24) ^
                     COMB_DRONE_HEAPTRACE_KEY;
        uint8_t hdr = (uint8_t)(v >> 24);
        uint8_t p[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
        unsigned type, word;
        switch (hdr) {
        case 0xA1: type = 0; word = 1; break;
        case 0xA2: type = 0; word = 2; break;
        case 0xD1: type = 1; word = 1; break;
        case 0xD2: type = 1; word = 2; break;
        case 0xB1: type = 2; word = 1; break;
        case 0xB2: type = 2; word = 2; break;
        case 0xB3: type = 2; word = 3; break;
        case 0xC1: type = 3; word = 1; break;
        case 0xC2: type = 3; word = 2; break;
        case 0xC3: type = 3; word = 3; break;
        default:
            problem(st, off);
            st->invalid_words++;
            continue;
        }
        fstack *s = &stacks[type];
        if (word == 1) {
            st->size_words++;
            if (p[0] | p[1] | p[2])
                st->size_words_high++;
            if (!push_frame(s, p, off))
                broken(st, off);
            continue;
        }
        if (s->n == 0) { /* continuation without a start */
            broken(st, off);
            continue;
        }
        frame *f = &s->f[s->n - 1];
        bool two_words = type < 2;
        if (word == 2 && !two_words) { /* B2/C2: append, no pop */
            if (f->len != 3) {
                s->n--;
                broken(st, f->offset);
                continue;
            }
            memcpy(f->b + 3, p, 3);
            f->len = 6;
            continue;
        }
        /* A2/D2 (after 3 bytes) or B3/C3 (after 6): pop and finish */
        s->n--;
        if (two_words ? (word != 2 || f->len != 3 || p[0] || p[1]) : (word != 3 || f->len != 6 || p[0])) {
            broken(st, f->offset);
            continue;
        }
        ev *e = &evs[nev++];
        e->kind = (uint8_t)type;
        e->offset = off;
        if (two_words) {
            f->b[3] = p[2];
            e->size = be32(f->b);
            if (type == 0)
                st->allocs++;
            else
                st->deallocs++;
        } else {
            f->b[6] = p[1];
            f->b[7] = p[2];
            e->old_size = be32(f->b);
            e->size = be32(f->b + 4);
            if (type == 2)
                st->grows++;
            else
                st->shrinks++;
            if (e->size >= 256)
                st->resizes_to_256++;
        }
    }
    /* frames still open at the end: leftovers */
    for (unsigned t = 0; t < 4; t++)
        for (unsigned i = 0; i < stacks[t].n; i++)
            broken(st, stacks[t].f[i].offset);

    comb_heap_raw *raw = malloc((nev ? nev : 1) * sizeof *raw);
    if (!raw) {
        free(evs);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nev; i++) {
        const ev *e = &evs[i];
        if ((e->kind == 2 || e->kind == 3) && i + 2 < nev && evs[i + 1].kind == 0 && evs[i + 2].kind == 1 &&
            evs[i + 2].size == e->old_size) {
            /* the duplicate ALLOC carries the new size, modulo 256 on a v0.14 device */
            uint32_t a = evs[i + 1].size;
            bool exact = a == e->size;
            bool mod256 = e->size >= 256 && e->size < (1u << 24) && a == (e->size & 0xFF);
            if (exact || mod256) {
                st->double_traced++;
                if (mod256 && !exact)
                    st->truncated_confirmed++;
                raw[k] = (comb_heap_raw){.seq = (int64_t)k,
                                         .offset = e->offset,
                                         .kind = COMB_HEAP_REALLOC,
                                         .old_size = e->old_size,
                                         .size = e->size,
                                         .has = COMB_HR_OLD_SIZE | COMB_HR_SIZE};
                k++;
                i += 2;
                continue;
            }
        }
        comb_heap_raw r = {.seq = (int64_t)k, .offset = e->offset, .size = e->size, .has = COMB_HR_SIZE};
        switch (e->kind) {
        case 0:
            r.kind = COMB_HEAP_ALLOC;
            if (e->size == 0)
                st->zero_size_allocs++;
            break;
        case 1:
            r.kind = COMB_HEAP_FREE;
            break;
        default:
            r.kind = COMB_HEAP_REALLOC;
            r.old_size = e->old_size;
            r.has |= COMB_HR_OLD_SIZE;
            break;
        }
        raw[k++] = r;
    }
    free(evs);
    if (k == 0) {
        free(raw);
        raw = NULL;
    }
    *out = raw;
    *n = k;
    return 0;
}

static size_t put_word(uint8_t *buf, uint32_t w)
{
    w ^= COMB_DRONE_HEAPTRACE_KEY;
    buf[0] = (uint8_t)w;
    buf[1] = (uint8_t)(w >> 8);
    buf[2] = (uint8_t)(w >> 16);
    buf[3] = (uint8_t)(w >> 24);
    return 4;
}

size_t comb_drone_heaptrace_encode(uint8_t *buf, unsigned kind, uint32_t old_size, uint32_t size, bool v014_bug)
{
    if (kind == COMB_HEAP_ALLOC || kind == COMB_HEAP_FREE) {
        uint32_t h = kind == COMB_HEAP_ALLOC ? 0xA1u : 0xD1u;
        uint32_t hi = v014_bug ? size >> 24 : size >> 8;
        size_t n = put_word(buf, h << 24 | (hi & 0xFFFFFF));
        return n + put_word(buf + n, (h + 1) << 24 | (size & 0xFF));
    }
    uint32_t h = size > old_size ? 0xB1u : 0xC1u;
    uint32_t hi = v014_bug ? old_size >> 24 : old_size >> 8;
    size_t n = put_word(buf, h << 24 | (hi & 0xFFFFFF));
    n += put_word(buf + n, (h + 1) << 24 | (old_size & 0xFF) << 16 | (size >> 16));
    return n + put_word(buf + n, (h + 2) << 24 | (size & 0xFFFF));
}
