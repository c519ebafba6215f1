/*
 * comb trace protocol v1: the single definition of what goes on the wire.
 * Shared by the firmware (encoder) and the host (decoder). SPEC.md beside this
 * folder is the normative text; this header is its machine-readable half.
 *
 * Transport: ARM ITM packets (software source / SWIT packets of 1, 2 or 4
 * payload bytes on ports 0-31, sync, overflow), produced either by the ITM
 * hardware or byte-identically by software over a UART.
 *
 * Trace events (ports 30 and 31) are framed as:
 *   one 1-byte SWIT packet  = event header: bits 4:0 type, bits 7:5 number of
 *                             payload packets that follow (0..7);
 *   N   2- or 4-byte SWIT packets = the event's fields, in order, little-endian.
 * Because ITM keeps each packet whole and tells its size, a header can never be
 * confused with a field. An interrupt that emits a whole event of its own
 * between two packets of a preempted event nests properly (LIFO), so the host
 * decodes with one stack per port and never needs interrupts masked.
 *
 * Plain C11, no dependencies beyond <stdint.h>; safe to include anywhere.
 */
#ifndef COMB_TRACE_PROTOCOL_H
#define COMB_TRACE_PROTOCOL_H

#include <stdint.h>

#define COMB_PROTOCOL_VERSION 1u

/* ---- Port map ---------------------------------------------------------- */
#define COMB_PORT_STDOUT     0u
#define COMB_PORT_STDERR     1u
#define COMB_PORT_USER_FIRST 2u
#define COMB_PORT_USER_LAST  29u
#define COMB_PORT_SCHED      30u /* scheduler trace, and session events      */
#define COMB_PORT_HEAP       31u /* heap trace (session events allowed too)  */
#define COMB_PORT_COUNT      32u

/* ---- ITM packet bytes (ARMv7-M ARM appendix D4) ------------------------ */
#define COMB_ITM_SYNC_LEN    6u     /* 00 00 00 00 00 80                     */
#define COMB_ITM_SYNC_LAST   0x80u
#define COMB_ITM_OVERFLOW_BYTE 0x70u
/* SWIT header for `port` (0-31) and payload `size` (1, 2 or 4 bytes). */
#define COMB_ITM_SWIT_HEADER(port, size) \
    ((uint8_t)(((unsigned)(port) << 3) | ((size) == 4u ? 3u : (unsigned)(size))))
/* Size code (bits 1:0) of a source packet header -> payload bytes (0 = not a source packet). */
#define COMB_ITM_SS_BYTES(hdr) ((unsigned)((0x4210u >> (((hdr) & 3u) * 4u)) & 0xFu))

/* ---- Event header ------------------------------------------------------ */
#define COMB_EVT_MAX_FIELDS      7u
#define COMB_EVT_HEADER(type, nfields) \
    ((uint8_t)(((unsigned)(type) & 0x1Fu) | (((unsigned)(nfields) & 7u) << 5)))
#define COMB_EVT_HEADER_TYPE(h)    ((unsigned)(h) & 0x1Fu)
#define COMB_EVT_HEADER_NFIELDS(h) (((unsigned)(h) >> 5) & 7u)
/* Deepest nesting the host decoder accepts per port (interrupt levels + 1). */
#define COMB_EVT_MAX_NESTING     16u

/* ---- Event types (one numbering space for ports 30 and 31) ------------- */
enum comb_evt_type {
    COMB_EVT_INVALID         = 0x00, /* never emitted: a stray 0x?? header is an error */
    /* session / control, 0x01-0x07: on port 30 or 31                           */
    COMB_EVT_SESSION_START   = 0x01, /* version:u16 core_hz:u32 ts_hz:u32 build_id_lo:u32 build_id_hi:u32 ts:u32 */
    COMB_EVT_SESSION_END     = 0x02, /* ts:u32 -- firmware is about to stop; host answers COMB_HOST_ACK */
    COMB_EVT_CLOCK           = 0x03, /* ts_lo:u32 ts_hi:u32 -- full 64-bit timestamp, for unwrapping */
    COMB_EVT_DROPPED         = 0x04, /* packets:u32 ts:u32 -- packets the transport had to drop */
    /* heap, 0x08-0x0F: port 31. size fields are u16 or u32 (sender's choice).  */
    COMB_EVT_HEAP_ALLOC      = 0x08, /* ptr:u32 size:u16|u32 ts:u32 [caller:u32] */
    COMB_EVT_HEAP_FREE       = 0x09, /* ptr:u32 ts:u32 [caller:u32]               */
    COMB_EVT_HEAP_REALLOC    = 0x0A, /* old:u32 new:u32 size:u16|u32 ts:u32 [caller:u32] (block moved) */
    COMB_EVT_HEAP_RESIZE     = 0x0B, /* ptr:u32 size:u16|u32 ts:u32 [caller:u32] (realloc kept the block) */
    COMB_EVT_HEAP_FAIL       = 0x0C, /* size:u16|u32 ts:u32 [caller:u32] (allocation returned NULL) */
    /* scheduler, 0x10-0x1F: port 30. thr = thread index, 0xFF = no thread (root/other ISR) */
    COMB_EVT_THREAD_WAKEUP   = 0x10, /* ids:u16 (from << 8 | to) ts:u32 */
    COMB_EVT_THREAD_ENTER    = 0x11, /* thr:u16 ts:u32 */
    COMB_EVT_THREAD_EXIT     = 0x12, /* thr:u16 ts:u32 */
    COMB_EVT_FIBER_ADDED     = 0x13, /* thr:u16 fiber:u32 ts:u32 */
    COMB_EVT_FIBER_RESUMED   = 0x14, /* thr:u16 fiber:u32 ts:u32 */
    COMB_EVT_FIBER_YIELDED   = 0x15, /* thr:u16 fiber:u32 ts:u32 */
    COMB_EVT_FIBER_COMPLETED = 0x16  /* thr:u16 fiber:u32 ts:u32 */
};

#define COMB_THREAD_NONE 0xFFu

/* Byte the host writes back to the target after it has decoded SESSION_END
 * (ASCII ACK). Lets firmware exit only when nothing can be lost in transit. */
#define COMB_HOST_ACK 0x06u

/* ---- Field schema, so encoder and decoder share one table --------------- */
enum comb_field_kind {
    COMB_F_U16  = 1, /* exactly a 2-byte packet */
    COMB_F_U32  = 2, /* exactly a 4-byte packet */
    COMB_F_SIZE = 3  /* 2-byte packet if the value fits, else 4-byte */
};

struct comb_evt_schema {
    uint8_t type;
    uint8_t nfields;           /* required fields */
    uint8_t optional_caller;   /* 1: one more trailing u32 field may follow */
    uint8_t kinds[6];          /* enum comb_field_kind per required field */
    const char *name;          /* stable name used in JSON and the database */
    const char *field_names[7];
};

/* Look up the schema of `type`; NULL when the type is not defined in v1. */
static inline const struct comb_evt_schema *comb_evt_schema_of(unsigned type)
{
    static const struct comb_evt_schema table[] = {
        {COMB_EVT_SESSION_START, 6, 0, {COMB_F_U16, COMB_F_U32, COMB_F_U32, COMB_F_U32, COMB_F_U32, COMB_F_U32},
         "session_start", {"version", "core_hz", "ts_hz", "build_id_lo", "build_id_hi", "ts", 0}},
        {COMB_EVT_SESSION_END, 1, 0, {COMB_F_U32}, "session_end", {"ts", 0}},
        {COMB_EVT_CLOCK, 2, 0, {COMB_F_U32, COMB_F_U32}, "clock", {"ts_lo", "ts_hi", 0}},
        {COMB_EVT_DROPPED, 2, 0, {COMB_F_U32, COMB_F_U32}, "dropped", {"packets", "ts", 0}},
        {COMB_EVT_HEAP_ALLOC, 3, 1, {COMB_F_U32, COMB_F_SIZE, COMB_F_U32}, "heap_alloc",
         {"ptr", "size", "ts", "caller", 0}},
        {COMB_EVT_HEAP_FREE, 2, 1, {COMB_F_U32, COMB_F_U32}, "heap_free", {"ptr", "ts", "caller", 0}},
        {COMB_EVT_HEAP_REALLOC, 4, 1, {COMB_F_U32, COMB_F_U32, COMB_F_SIZE, COMB_F_U32}, "heap_realloc",
         {"old", "new", "size", "ts", "caller", 0}},
        {COMB_EVT_HEAP_RESIZE, 3, 1, {COMB_F_U32, COMB_F_SIZE, COMB_F_U32}, "heap_resize",
         {"ptr", "size", "ts", "caller", 0}},
        {COMB_EVT_HEAP_FAIL, 2, 1, {COMB_F_SIZE, COMB_F_U32}, "heap_fail", {"size", "ts", "caller", 0}},
        {COMB_EVT_THREAD_WAKEUP, 2, 0, {COMB_F_U16, COMB_F_U32}, "thread_wakeup", {"ids", "ts", 0}},
        {COMB_EVT_THREAD_ENTER, 2, 0, {COMB_F_U16, COMB_F_U32}, "thread_enter", {"thr", "ts", 0}},
        {COMB_EVT_THREAD_EXIT, 2, 0, {COMB_F_U16, COMB_F_U32}, "thread_exit", {"thr", "ts", 0}},
        {COMB_EVT_FIBER_ADDED, 3, 0, {COMB_F_U16, COMB_F_U32, COMB_F_U32}, "fiber_added", {"thr", "fiber", "ts", 0}},
        {COMB_EVT_FIBER_RESUMED, 3, 0, {COMB_F_U16, COMB_F_U32, COMB_F_U32}, "fiber_resumed",
         {"thr", "fiber", "ts", 0}},
        {COMB_EVT_FIBER_YIELDED, 3, 0, {COMB_F_U16, COMB_F_U32, COMB_F_U32}, "fiber_yielded",
         {"thr", "fiber", "ts", 0}},
        {COMB_EVT_FIBER_COMPLETED, 3, 0, {COMB_F_U16, COMB_F_U32, COMB_F_U32}, "fiber_completed",
         {"thr", "fiber", "ts", 0}},
    };
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].type == type)
            return &table[i];
    return 0;
}

#endif /* COMB_TRACE_PROTOCOL_H */
