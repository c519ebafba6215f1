/*
 * Streaming ARM ITM/DWT packet decoder (ARMv7-M ARM appendix D4).
 *
 * Feed it bytes in chunks of any size; it calls the sink once per packet, in
 * stream order. Any split of the same input into chunks yields exactly the same
 * packets (state lives in the decoder, never in the caller's buffer).
 *
 * Synchronisation: in COMB_ITM_SYNC_WAIT mode (default) the decoder starts
 * unsynchronised, skips bytes until the first sync packet (>= 47 zero bits then
 * a 1, byte-aligned: five or more 0x00 followed by 0x80) and reports them as one
 * COMB_ITM_ERROR packet (error COMB_ITM_ERR_NOSYNC, `skipped` bytes). After a
 * decode error it drops back to unsynchronised and locks on at the next sync, so
 * packets after recovery are exact. COMB_ITM_SYNC_ASSUME starts synchronised
 * (for streams with syncs disabled) and after an error skips only the offending
 * byte(s): the error packet covers the bad packet's bytes (a reserved header is
 * one byte) and decoding resumes right after them; a zero run not completed by
 * 0x80 is a BAD_SYNC error covering the zeros, and the byte that ended the run
 * is decoded as the next header.
 *
 * Every byte fed is covered by exactly one packet (valid or ERROR), in stream
 * order: packets tile the stream, so the sum of packet lengths equals the bytes
 * fed once finish() has run.
 *
 * Never crashes or reads out of bounds on arbitrary input. Not thread-safe: one
 * decoder per stream. No allocation.
 */
#ifndef COMB_ITM_DECODER_H
#define COMB_ITM_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum comb_itm_kind {
    COMB_ITM_SYNC = 0,  /* synchronisation packet                                */
    COMB_ITM_OVERFLOW,  /* 0x70: the target dropped data                          */
    COMB_ITM_SWIT,      /* software source: port = page * 32 + address            */
    COMB_ITM_HWIT,      /* hardware (DWT) source: port = discriminator ID 0-31    */
    COMB_ITM_LTS,       /* local timestamp, format 1 or 2                         */
    COMB_ITM_GTS1,      /* global timestamp, low bits                             */
    COMB_ITM_GTS2,      /* global timestamp, high bits (48- or 64-bit form)       */
    COMB_ITM_EXT,       /* extension (stimulus port page when sh == 0)            */
    COMB_ITM_ERROR,     /* bytes that are not a valid packet; see `error`         */
    COMB_ITM_KIND_COUNT
} comb_itm_kind;

typedef enum comb_itm_error {
    COMB_ITM_ERR_NONE = 0,
    COMB_ITM_ERR_NOSYNC,    /* bytes skipped while not synchronised             */
    COMB_ITM_ERR_BAD_SYNC,  /* a run of 0x00 not completed by 0x80 (< 47 zeros)  */
    COMB_ITM_ERR_RESERVED,  /* reserved header byte                              */
    COMB_ITM_ERR_TOO_LONG,  /* continuation bit still set past the maximum length */
    COMB_ITM_ERR_GTS2_SIZE, /* GTS2 with a payload other than 4 or 6 bytes        */
    COMB_ITM_ERR_TRUNCATED, /* end of stream inside a packet                     */
    COMB_ITM_ERR_COUNT
} comb_itm_error;

typedef struct comb_itm_packet {
    comb_itm_kind kind;
    uint64_t offset;      /* stream offset of the packet's first byte            */
    uint32_t length;      /* bytes on the wire (for errors: bytes skipped)        */
    uint32_t port;        /* SWIT: page*32 + address; HWIT: discriminator         */
    uint8_t size;         /* SWIT/HWIT payload bytes 1, 2, 4; LTS/GTS/EXT payload
                             bytes after the header (0 for LTS2)                 */
    uint64_t value;       /* SWIT/HWIT: payload, little-endian. LTS: delta ticks.
                             GTS1: TS bits carried (without clkch/wrap). GTS2: the
                             high bits TS[47:26] or TS[63:26]. EXT: full EX value. */
    uint8_t tc;           /* LTS: timestamp control 0-3 (0 for LTS2)              */
    bool clkch;           /* GTS1: clock change flag                              */
    bool wrap;            /* GTS1: wrap flag                                      */
    uint8_t sh;           /* EXT: source bit (0 = ITM, 1 = hardware)              */
    comb_itm_error error; /* ERROR packets only                                   */
    uint8_t raw[8];       /* first min(length, 8) bytes as seen on the wire       */
} comb_itm_packet;

typedef void (*comb_itm_sink)(void *ctx, const comb_itm_packet *packet);

typedef enum comb_itm_sync_mode {
    COMB_ITM_SYNC_WAIT = 0,
    COMB_ITM_SYNC_ASSUME = 1
} comb_itm_sync_mode;

typedef struct comb_itm_stats {
    uint64_t bytes;                           /* bytes fed                          */
    uint64_t packets[COMB_ITM_KIND_COUNT];    /* per kind, errors included          */
    uint64_t errors[COMB_ITM_ERR_COUNT];      /* per error class                    */
    uint64_t bytes_skipped;                   /* bytes in ERROR packets             */
} comb_itm_stats;

typedef struct comb_itm_decoder {
    /* private: state machine */
    comb_itm_sync_mode mode;
    int state;
    bool synced;
    uint32_t page;        /* stimulus port page register (reset by sync)            */
    uint64_t offset;      /* stream offset of the next byte                          */
    uint64_t pkt_offset;  /* offset of the packet being assembled                    */
    uint32_t zeros;       /* consecutive 0x00 bytes seen                             */
    uint64_t skip_start;  /* first offset of the current skipped run                 */
    uint32_t skipped;     /* bytes in the current skipped run                        */
    uint8_t skip_raw[8];  /* first bytes of the current skipped run                  */
    uint8_t buf[8];       /* bytes of the packet being assembled                     */
    uint8_t len;          /* bytes in buf                                            */
    uint8_t need;         /* payload bytes still expected (source packets)           */
    comb_itm_stats stats;
} comb_itm_decoder;

void comb_itm_decoder_init(comb_itm_decoder *d, comb_itm_sync_mode mode);

/* Decode `n` bytes; calls `sink(ctx, packet)` for each complete packet. The
 * packet pointer is valid only during the call. */
void comb_itm_decoder_feed(comb_itm_decoder *d, const uint8_t *bytes, size_t n, comb_itm_sink sink,
                           void *ctx);

/* End of stream: reports a packet cut short (COMB_ITM_ERR_TRUNCATED) or bytes
 * still being skipped (COMB_ITM_ERR_NOSYNC). Stats stay readable. Bytes fed
 * afterwards are decoded as a new stream (unsynchronised in WAIT mode) with
 * offsets and stats continuing; init() starts over. A NULL sink is allowed
 * (packets are only counted). */
void comb_itm_decoder_finish(comb_itm_decoder *d, comb_itm_sink sink, void *ctx);

const comb_itm_stats *comb_itm_decoder_stats(const comb_itm_decoder *d);

/* Stable lower-case names: "sync", "overflow", "swit", "hwit", "lts", "gts1",
 * "gts2", "ext", "error"; and "nosync", "bad_sync", "reserved", "too_long",
 * "gts2_size", "truncated" for errors. */
const char *comb_itm_kind_name(comb_itm_kind kind);
const char *comb_itm_error_name(comb_itm_error error);

/* Writes `packet` as one JSON object (no newline) into buf; returns the length
 * it needed (snprintf semantics). Keys: type, offset, and per kind as in
 * docs/decode-json.md. */
int comb_itm_packet_to_json(const comb_itm_packet *packet, char *buf, size_t cap);

#endif /* COMB_ITM_DECODER_H */
