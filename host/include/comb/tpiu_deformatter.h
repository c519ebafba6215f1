/*
 * TPIU / CoreSight trace formatter: strips 16-byte formatter frames and keeps
 * the bytes of one trace ID (`comb log --tpiu ID`), for probes and targets that
 * cannot bypass the formatter (../shared/reference/itm-protocol.md section 11;
 * ARM CoreSight Components TRM, formatter protocol).
 *
 * A frame is 16 bytes. Bytes 1, 3, ..., 13 are data. Bytes 0, 2, ..., 14 are
 * "mixed": bit 0 = 0 means a data byte whose real bit 0 is bit (i/2) of byte
 * 15 (the auxiliary byte); bit 0 = 1 means an ID change to bits 7:1. The aux
 * bit of an ID change says when it takes effect: 0, the following data byte
 * already belongs to the new ID; 1, it still belongs to the old one (the
 * "delayed" change).
 *
 * - A full sync `FF FF FF 7F` marks a frame boundary: the next frame starts
 *   right after it. Full syncs can never occur inside frames (an `FF` in a
 *   mixed position would be ID 0x7F, which is never used), so the deformatter
 *   looks for them in the raw bytes; one that does not fall on a frame boundary
 *   realigns the frames (the partial frame is dropped and counted). A
 *   misaligned "frame" that happens to complete inside the sync's own bytes is
 *   unpacked before the sync is recognised: garbage, as any misaligned frame.
 * - Half syncs `FF 7F` on a 2-byte boundary of a frame are idle filler: discarded.
 * - Data under ID 0 (null/padding) or under no ID yet (start of capture) is
 *   dropped, as is data of other IDs; each is counted.
 * - Without syncs, frames are assumed to start at the first byte fed (the
 *   frame-aligned layout of a trace-buffer dump).
 *
 * All state lives in the struct, so any split of the input into chunks gives
 * the same output. No allocation. One per stream.
 */
#ifndef COMB_TPIU_DEFORMATTER_H
#define COMB_TPIU_DEFORMATTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMB_TPIU_FRAME_SIZE 16
#define COMB_TPIU_SYNC 0xFFFFFF7Fu /* the full sync as a big-endian shift register of the last 4 bytes */

/* Lowest and highest usable trace IDs (0 is null, 0x70-0x7F are reserved). */
#define COMB_TPIU_ID_MIN 0x01
#define COMB_TPIU_ID_MAX 0x6F

typedef struct comb_tpiu_stats {
    uint64_t bytes_in;      /* bytes fed                                               */
    uint64_t frames;        /* complete frames unpacked                                */
    uint64_t full_syncs;    /* FF FF FF 7F                                             */
    uint64_t half_syncs;    /* FF 7F pairs discarded                                   */
    uint64_t bytes_out;     /* data bytes of the wanted ID (the output)                */
    uint64_t bytes_other;   /* data bytes of other IDs                                 */
    uint64_t bytes_null;    /* data bytes under ID 0 (padding)                         */
    uint64_t bytes_noid;    /* data bytes before any ID was announced                  */
    uint64_t bytes_dropped; /* bytes of partial frames dropped (realignment, finish)   */
    uint64_t realigns;      /* full syncs that did not fall on a frame boundary        */
    uint64_t bad_ids;       /* ID changes to 0x7F (misaligned or corrupt frames)        */
} comb_tpiu_stats;

typedef struct comb_tpiu {
    /* private */
    uint8_t want;                       /* trace ID kept                              */
    int cur;                            /* current ID, -1 before the first one         */
    uint8_t frame[COMB_TPIU_FRAME_SIZE];
    uint8_t len;                        /* bytes in frame                             */
    uint32_t shift;                     /* last 4 bytes fed, for the full sync        */
    comb_tpiu_stats stats;
} comb_tpiu;

void comb_tpiu_init(comb_tpiu *t, uint8_t trace_id);

/* Deformats `n` bytes; writes the wanted ID's data bytes to `out` and returns
 * their count. `out` must have room for n + COMB_TPIU_FRAME_SIZE bytes (a
 * frame begun in an earlier call may complete in this one). `out` may not
 * overlap `in`. */
size_t comb_tpiu_feed(comb_tpiu *t, const uint8_t *in, size_t n, uint8_t *out);

/* End of stream: a partial frame is counted as dropped. */
void comb_tpiu_finish(comb_tpiu *t);

const comb_tpiu_stats *comb_tpiu_get_stats(const comb_tpiu *t);

/* Parses a trace ID: decimal or 0x-prefixed hex, COMB_TPIU_ID_MIN..MAX.
 * 0 on success; -1 with a one-line message otherwise. */
int comb_tpiu_parse_id(const char *s, uint8_t *id, char *err, size_t errlen);

/* Counts TPIU full-sync patterns in a stream that is decoded as raw ITM, to
 * warn about a formatted capture decoded without --tpiu (orbuculum's lesson:
 * such a stream decodes to plausible garbage). */
typedef struct comb_tpiu_sniffer {
    uint32_t shift;
    uint64_t syncs;
} comb_tpiu_sniffer;

/* Syncs to see before warning. One could be an unlucky payload (a 4-byte SWIT
 * of 0x7FFFFFFF); three are a formatter. */
#define COMB_TPIU_SNIFF_THRESHOLD 3

void comb_tpiu_sniff(comb_tpiu_sniffer *s, const uint8_t *in, size_t n);

#endif /* COMB_TPIU_DEFORMATTER_H */
