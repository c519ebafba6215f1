/* comb decode [--json] [--assume-sync] [--tpiu ID] FILE|- : every ITM packet of a stream. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "comb/itm_decoder.h"
#include "comb/tpiu_deformatter.h"
#include "commands.h"

#define USAGE "usage: comb decode [--json] [--assume-sync] [--tpiu ID] FILE|-"

struct decode_ctx {
    int json;
};

static void print_text(const comb_itm_packet *p)
{
    printf("%10llu  %-8s", (unsigned long long)p->offset, comb_itm_kind_name(p->kind));
    switch (p->kind) {
    case COMB_ITM_SWIT:
    case COMB_ITM_HWIT:
        printf(" %s=%u size=%u value=0x%0*llx", p->kind == COMB_ITM_SWIT ? "port" : "disc", (unsigned)p->port,
               (unsigned)p->size, (int)p->size * 2, (unsigned long long)p->value);
        break;
    case COMB_ITM_LTS:
        printf(" value=%llu tc=%u", (unsigned long long)p->value, (unsigned)p->tc);
        break;
    case COMB_ITM_GTS1:
        printf(" value=0x%llx clkch=%d wrap=%d", (unsigned long long)p->value, p->clkch, p->wrap);
        break;
    case COMB_ITM_GTS2:
        printf(" value=0x%llx size=%u", (unsigned long long)p->value, (unsigned)p->size);
        break;
    case COMB_ITM_EXT:
        printf(" sh=%u value=%llu", (unsigned)p->sh, (unsigned long long)p->value);
        break;
    case COMB_ITM_ERROR:
        printf(" %s length=%u", comb_itm_error_name(p->error), (unsigned)p->length);
        break;
    default:
        break;
    }
    putchar('\n');
}

static void on_packet(void *vctx, const comb_itm_packet *p)
{
    struct decode_ctx *ctx = vctx;
    if (ctx->json) {
        char buf[512];
        int n = comb_itm_packet_to_json(p, buf, sizeof buf);
        if (n > 0 && (size_t)n < sizeof buf)
            puts(buf);
    } else {
        print_text(p);
    }
}

int cmd_decode(int argc, char **argv)
{
    struct decode_ctx ctx = {0};
    comb_itm_sync_mode mode = COMB_ITM_SYNC_WAIT;
    const char *path = NULL;
    int tpiu_id = -1; /* -1: raw ITM */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            ctx.json = 1;
        else if (strcmp(argv[i], "--assume-sync") == 0)
            mode = COMB_ITM_SYNC_ASSUME;
        else if (strcmp(argv[i], "--tpiu") == 0) {
            char err[200];
            uint8_t id;
            if (++i == argc) {
                fprintf(stderr, "comb decode: --tpiu needs a trace ID (ITM: usually 1)\n");
                return 2;
            }
            if (comb_tpiu_parse_id(argv[i], &id, err, sizeof err)) {
                fprintf(stderr, "comb decode: %s\n", err);
                return 2;
            }
            tpiu_id = id;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf(USAGE "\n"
                   "  Prints every ITM packet of a raw ITM/SWO capture, one per line.\n"
                   "  --json         one JSON object per line (format: docs/decode-json.md)\n"
                   "  --assume-sync  decode from the first byte instead of waiting for a sync packet\n"
                   "  --tpiu ID      the input is in TPIU/CoreSight formatter frames: keep trace ID (ITM:\n"
                   "                 usually 1); offsets are then those of the deformatted ITM stream\n");
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "comb decode: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (path) {
            fprintf(stderr, "comb decode: more than one input file ('%s' and '%s')\n", path, argv[i]);
            return 2;
        } else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "comb decode: no input file (" USAGE ")\n");
        return 2;
    }
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "comb decode: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    comb_itm_decoder d;
    comb_itm_decoder_init(&d, mode);
    static comb_tpiu tpiu;
    if (tpiu_id >= 0)
        comb_tpiu_init(&tpiu, (uint8_t)tpiu_id);
    comb_tpiu_sniffer sniffer = {0};
    static unsigned char buf[1 << 16], deformatted[(1 << 16) + COMB_TPIU_FRAME_SIZE];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (tpiu_id >= 0) {
            size_t m = comb_tpiu_feed(&tpiu, buf, n, deformatted);
            comb_itm_decoder_feed(&d, deformatted, m, on_packet, &ctx);
        } else {
            comb_itm_decoder_feed(&d, buf, n, on_packet, &ctx);
            comb_tpiu_sniff(&sniffer, buf, n);
        }
    }
    int rerr = ferror(f);
    if (tpiu_id >= 0)
        comb_tpiu_finish(&tpiu);
    comb_itm_decoder_finish(&d, on_packet, &ctx);
    if (f != stdin)
        fclose(f);
    if (rerr) {
        fprintf(stderr, "comb decode: read error on %s\n", path);
        return 1;
    }
    const comb_itm_stats *st = comb_itm_decoder_stats(&d);
    unsigned long long packets = 0;
    for (int k = 0; k < COMB_ITM_KIND_COUNT; k++)
        packets += st->packets[k];
    char tp[200] = "";
    if (tpiu_id >= 0) { /* as comb log's summary */
        const comb_tpiu_stats *ts = comb_tpiu_get_stats(&tpiu);
        snprintf(tp, sizeof tp, "; tpiu ID %d: %llu frames, %llu bytes of other IDs, %llu realigned", tpiu_id,
                 (unsigned long long)ts->frames, (unsigned long long)ts->bytes_other,
                 (unsigned long long)ts->realigns);
    }
    fprintf(stderr, "comb decode: %llu bytes, %llu packets, %llu errors (%llu bytes skipped)%s\n",
            (unsigned long long)st->bytes, packets, (unsigned long long)st->packets[COMB_ITM_ERROR],
            (unsigned long long)st->bytes_skipped, tp);
    if (sniffer.syncs >= COMB_TPIU_SNIFF_THRESHOLD)
        fprintf(stderr, "comb decode: warning: the input has TPIU formatter syncs (FF FF FF 7F): it is probably "
                        "formatted; decode it with --tpiu ID (ITM: usually 1)\n");
    return 0;
}
