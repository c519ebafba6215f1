/*
 * libFuzzer target: the TPIU / CoreSight deformatter (tpiu_deformatter.h),
 * chained into the ITM decoder as `comb log --tpiu` does.
 *
 * Input: byte 0 picks the trace ID, byte 1 seeds the chunking, the rest is the
 * formatted stream. Oracles: deformatting whole and in random chunks gives the
 * same bytes and stats; each call stays within the documented output bound;
 * at most 15 data bytes per frame; the sniffer counts what the deformatter saw.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/itm_decoder.h"
#include "comb/tpiu_deformatter.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_tpiu: oracle violated: %s\n", what);
        abort();
    }
}

static void count_packet(void *ctx, const comb_itm_packet *p)
{
    (void)p;
    (*(uint64_t *)ctx)++;
}

static size_t deformat(uint8_t id, const uint8_t *in, size_t n, uint32_t seed, uint8_t *out, comb_tpiu_stats *st)
{
    comb_tpiu t;
    comb_tpiu_init(&t, id);
    static uint8_t tmp[1 << 17];
    size_t o = 0, i = 0;
    while (i < n) {
        size_t k = n - i;
        if (seed) {
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
            k = 1 + seed % 40;
            if (k > n - i)
                k = n - i;
        }
        /* canary after the documented bound */
        memset(tmp + k + COMB_TPIU_FRAME_SIZE, 0xA5, 16);
        size_t got = comb_tpiu_feed(&t, in + i, k, tmp);
        check(got <= k + COMB_TPIU_FRAME_SIZE, "output bound");
        for (int c = 0; c < 16; c++)
            check(tmp[k + COMB_TPIU_FRAME_SIZE + c] == 0xA5, "wrote past the output bound");
        memcpy(out + o, tmp, got);
        o += got;
        i += k;
    }
    comb_tpiu_finish(&t);
    *st = *comb_tpiu_get_stats(&t);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t a[1 << 17], b[1 << 17];
    if (size < 2 || size > (1 << 16))
        return 0;
    uint8_t id = (uint8_t)(COMB_TPIU_ID_MIN + data[0] % (COMB_TPIU_ID_MAX - COMB_TPIU_ID_MIN + 1));
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    comb_tpiu_stats sa, sb;
    size_t na = deformat(id, in, n, 0, a, &sa);
    size_t nb = deformat(id, in, n, 0x2545F491u ^ data[1] ^ (uint32_t)size << 8, b, &sb);
    check(na == nb && memcmp(a, b, na) == 0, "chunking changes the output");
    check(memcmp(&sa, &sb, sizeof sa) == 0, "chunking changes the stats");
    check(sa.bytes_in == n && sa.bytes_out == na, "byte counts");
    check(na <= sa.frames * 15, "more than 15 data bytes per frame");
    check(sa.bytes_out + sa.bytes_other + sa.bytes_null + sa.bytes_noid <= sa.frames * 15, "data bytes per frame");

    comb_tpiu_sniffer sn = {0};
    comb_tpiu_sniff(&sn, in, n);
    check(sn.syncs == sa.full_syncs, "sniffer and deformatter disagree on full syncs");

    /* what comb log does next */
    uint64_t packets = 0;
    comb_itm_decoder d;
    comb_itm_decoder_init(&d, COMB_ITM_SYNC_WAIT);
    comb_itm_decoder_feed(&d, a, na, count_packet, &packets);
    comb_itm_decoder_finish(&d, count_packet, &packets);
    check(comb_itm_decoder_stats(&d)->bytes == na, "decoder byte count");
    return 0;
}
