/*
 * comb heap report | generate | verify: the analyses of a stored heap session
 * (docs/heap-analysis.md).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "comb/drone_layout.h"
#include "comb/drone_toml.h"
#include "comb/elf_symbols.h"
#include "comb/heap_replay.h"
#include "comb/heap_report.h"
#include "comb/heap_session.h"
#include "comb/layout_header.h"
#include "comb/pool_layout.h"
#include "comb/size_string.h"
#include "heap_cli.h"

/* ---- shared ----------------------------------------------------------------------- */

typedef struct loaded {
    comb_heap_session s;
    comb_heap_trace t;
    comb_replay_policy policy;
} loaded;

static int heap_load(const char *cmd, const char *db, const char *session, loaded *l)
{
    char err[700];
    memset(l, 0, sizeof *l);
    if (!db) {
        fprintf(stderr, "comb heap %s: --db FILE is required\n", cmd);
        return 2;
    }
    int64_t id = 0;
    if (session && comb_heap_session_parse_id(session, &id)) {
        fprintf(stderr, "comb heap %s: --session needs a session number, not '%s'\n", cmd, session);
        return 2;
    }
    if (comb_heap_session_load(db, id, &l->s, err, sizeof err)) {
        fprintf(stderr, "comb heap %s: %s\n", cmd, err);
        return 1;
    }
    comb_heap_trace_init(&l->t);
    if (comb_heap_trace_from_raw(l->s.raw, l->s.n, &l->t)) {
        fprintf(stderr, "comb heap %s: out of memory\n", cmd);
        comb_heap_session_free(&l->s);
        return 1;
    }
    /* Drone's allocator always moves on grow/shrink; comb's keeps a block in place when it fits */
    l->policy.realloc_in_place = strstr(l->s.settings, "\"import\":\"drone-heaptrace\"") == NULL;
    return 0;
}

static void heap_unload(loaded *l)
{
    comb_heap_trace_free(&l->t);
    comb_heap_session_free(&l->s);
}

static int parse_size_arg(const char *cmd, const char *opt, const char *arg, uint32_t *v)
{
    char why[96];
    if (comb_size_parse(arg, strlen(arg), v, why, sizeof why)) {
        fprintf(stderr, "comb heap %s: %s '%s': %s (sizes: 10240, 10K, 1M, 0x2800)\n", cmd, opt, arg, why);
        return 2;
    }
    return 0;
}

/* ---- report -------------------------------------------------------------------- */

static const char *symbolize_cb(void *ctx, uint32_t addr, char *buf, size_t cap)
{
    return comb_elf_symbolize(ctx, addr, buf, cap);
}

int heap_cmd_report(int argc, char **argv)
{
    const char *db = NULL, *session = NULL, *elf = NULL, *size_arg = NULL, *layout = NULL, *heap = "main",
               *top_arg = NULL;
    bool json = false;
    const cli_opt opts[] = {{"--db", "a database file", &db, NULL},
                             {"--session", "a session number", &session, NULL},
                             {"--elf", "the firmware ELF file", &elf, NULL},
                             {"--size", "a heap size", &size_arg, NULL},
                             {"--layout", "a Drone.toml file", &layout, NULL},
                             {"--heap", "a heap name", &heap, NULL},
                             {"--top", "a count", &top_arg, NULL},
                             {"--json", NULL, NULL, &json}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap report", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc == 3) {
        printf("usage: comb heap report --db FILE [--session N] [--json] [--elf FIRMWARE.elf]\n"
               "                        [--size SIZE | --layout Drone.toml [--heap NAME]] [--top N]\n"
               "\n"
               "Drone's table (block size | max load | total allocations) and its `Maximum heap load`\n"
               "line, then the concurrent peak, failed allocations, blocks live at the end (possible\n"
               "leaks) and the top allocation sites. The percentage is of --size, of the heap's size in\n"
               "--layout, or of [heap.main] in ./Drone.toml when there is one. --elf names callers.\n");
        return 0;
    }
    if (rc)
        return rc;
    uint32_t heap_size = 0;
    char err[700];
    if (size_arg && (rc = parse_size_arg("report", "--size", size_arg, &heap_size)))
        return rc;
    unsigned top = 10;
    if (top_arg) {
        char *end;
        long v = strtol(top_arg, &end, 10);
        if (*end || v < 1 || v > 100000) {
            fprintf(stderr, "comb heap report: --top needs a count from 1 to 100000\n");
            return 2;
        }
        top = (unsigned)v;
    }
    if (!size_arg) {
        const char *file = layout ? layout : (access("Drone.toml", R_OK) == 0 ? "Drone.toml" : NULL);
        if (file) {
            comb_drone_toml t;
            if (comb_drone_toml_load(file, &t, err, sizeof err)) {
                fprintf(stderr, "comb heap report: %s\n", err);
                return 1;
            }
            const comb_heap_layout *h = comb_drone_toml_heap(&t, heap);
            if (!h) {
                fprintf(stderr, "comb heap report: %s: no [heap.%s] section\n", file, heap);
                comb_drone_toml_free(&t);
                return 1;
            }
            heap_size = h->size;
            comb_drone_toml_free(&t);
        }
    }
    comb_elf_symbols *syms = NULL;
    if (elf && comb_elf_symbols_load(elf, &syms, err, sizeof err)) {
        fprintf(stderr, "comb heap report: %s\n", err);
        return 1;
    }
    loaded l;
    if ((rc = heap_load("report", db, session, &l))) {
        comb_elf_symbols_free(syms);
        return rc;
    }
    comb_heap_report r;
    if (comb_heap_report_build(&l.t, &r)) {
        fprintf(stderr, "comb heap report: out of memory\n");
        heap_unload(&l);
        comb_elf_symbols_free(syms);
        return 1;
    }
    if (syms) { /* one addr2line run for every address the report names */
        size_t n = 0, cap = r.nsites + r.nleaks + r.nfailures + 1;
        uint32_t *a = malloc(cap * sizeof *a);
        if (a) {
            for (size_t i = 0; i < r.nsites; i++)
                a[n++] = r.sites[i].caller;
            for (size_t i = 0; i < r.nleaks; i++)
                if (r.leaks[i].caller)
                    a[n++] = r.leaks[i].caller;
            for (size_t i = 0; i < r.nfailures; i++)
                if (r.failures[i].caller)
                    a[n++] = r.failures[i].caller;
            comb_elf_symbols_lines(syms, a, n);
            free(a);
        }
    }
    comb_report_context c = {.trace = &l.t,
                             .heap_size = heap_size,
                             .ts_hz = l.s.ts_hz,
                             .ts_origin = l.s.has_start_ts ? l.s.start_ts : (l.t.has_ts && l.t.n ? l.t.ts[0] : 0),
                             .symbolize = syms ? symbolize_cb : NULL,
                             .symbolize_ctx = syms,
                             .top = top};
    comb_strbuf sb = {0};
    if (json) {
        comb_sb_printf(&sb, "{\"session\":%lld,\"report\":", (long long)l.s.id);
        comb_heap_report_json(&r, &c, &sb);
        comb_sb_puts(&sb, "}\n");
    } else {
        if (l.t.n == 0)
            fprintf(stderr, "comb heap report: warning: session %lld has no heap events\n", (long long)l.s.id);
        comb_heap_report_text(&r, &c, &sb);
    }
    rc = heap_write_file("report", NULL, comb_sb_str(&sb), sb.len, false);
    comb_sb_free(&sb);
    comb_heap_report_free(&r);
    heap_unload(&l);
    comb_elf_symbols_free(syms);
    return rc;
}

/* ---- generate ------------------------------------------------------------------ */

static bool valid_heap_name(const char *s)
{
    if (!*s || strlen(s) >= 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-'))
            return false;
    return true;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int heap_cmd_generate(int argc, char **argv)
{
    const char *db = NULL, *session = NULL, *pools_arg = NULL, *size_arg = NULL, *heap = "main", *margin_arg = NULL,
               *format = "drone", *write = NULL;
    bool verbose = false;
    const cli_opt opts[] = {{"--db", "a database file", &db, NULL},
                             {"--session", "a session number", &session, NULL},
                             {"--pools", "a pool count", &pools_arg, NULL},
                             {"--size", "a heap size", &size_arg, NULL},
                             {"--heap", "a heap name", &heap, NULL},
                             {"--margin", "a percentage", &margin_arg, NULL},
                             {"--format", "drone or c-header", &format, NULL},
                             {"--write", "a Drone.toml file", &write, NULL},
                             {"--verbose", NULL, NULL, &verbose}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap generate", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc == 3) {
        printf("usage: comb heap generate --db FILE [--session N] --pools N [--size SIZE] [--heap NAME]\n"
               "                          [--margin PCT] [--format drone|c-header] [--write Drone.toml] [--verbose]\n"
               "\n"
               "The smallest pool layout with at most N pools that serves every request of the session:\n"
               "block sizes grouped optimally (exact DP), capacities from the concurrent peak of each pool\n"
               "replayed through the allocator's policy, plus --margin percent. With --size the memory\n"
               "left over is shared out (docs/heap-analysis.md); a --size that is too small is refused\n"
               "with the minimum. stdout: the [heap.NAME] section as Drone writes it (or the C header);\n"
               "stderr: Drone's banner, fragmentation and hint. --write replaces the section in a\n"
               "Drone.toml and keeps every other byte.\n");
        return 0;
    }
    if (rc)
        return rc;
    uint32_t pools = 0, size = 0;
    if (!pools_arg) {
        fprintf(stderr, "comb heap generate: --pools N is required\n");
        return 2;
    }
    if ((rc = parse_size_arg("generate", "--pools", pools_arg, &pools)))
        return rc;
    if (pools < 1 || pools > 1024) {
        fprintf(stderr, "comb heap generate: --pools must be from 1 to 1024, not %u\n", (unsigned)pools);
        return 2;
    }
    if (size_arg && (rc = parse_size_arg("generate", "--size", size_arg, &size)))
        return rc;
    double margin = 0;
    if (margin_arg) {
        char *end;
        margin = strtod(margin_arg, &end);
        if (end == margin_arg || *end || !(margin >= 0 && margin <= 1000)) {
            fprintf(stderr, "comb heap generate: --margin needs a percentage from 0 to 1000, not '%s'\n", margin_arg);
            return 2;
        }
    }
    bool header = false;
    if (!strcmp(format, "c-header"))
        header = true;
    else if (strcmp(format, "drone")) {
        fprintf(stderr, "comb heap generate: --format is drone or c-header, not '%s'\n", format);
        return 2;
    }
    if (!valid_heap_name(heap)) {
        fprintf(stderr, "comb heap generate: --heap '%s' is not a heap name (letters, digits, '_', '-')\n", heap);
        return 2;
    }
    char err[700];
    comb_drone_toml toml = {0};
    if (write && comb_drone_toml_load(write, &toml, err, sizeof err)) { /* before the work: fail early */
        fprintf(stderr, "comb heap generate: %s\n", err);
        return 1;
    }
    loaded l;
    if ((rc = heap_load("generate", db, session, &l))) {
        comb_drone_toml_free(&toml);
        return rc;
    }
    double t0 = now_s();
    /* comb's allocator spaces blocks of more than 4 bytes 8 apart: such blocks cost nothing more */
    comb_layout_options o = {
        .max_pools = pools, .margin_pct = margin, .policy = l.policy, .granule = l.policy.realloc_in_place ? 8 : 4};
    comb_heap_layout lay;
    comb_layout_info info;
    bool empty = false;
    rc = 1;
    if (comb_pool_layout_optimal(&l.t, &o, &lay, &info, err, sizeof err)) {
        fprintf(stderr, "comb heap generate: session %lld: %s\n", (long long)l.s.id, err);
        goto out;
    }
    double t1 = now_s();
    snprintf(lay.name, sizeof lay.name, "%s", heap);
    if (lay.npools == 0) {
        /* no allocations: Drone's layout for an empty trace, which needs a size */
        comb_layout_free(&lay);
        if (!size_arg) {
            fprintf(stderr,
                    "comb heap generate: session %lld has no allocations; give --size for Drone's default "
                    "layout of an empty trace\n",
                    (long long)l.s.id);
            goto out;
        }
        if (comb_drone_layout_empty(size, pools, &lay)) {
            fprintf(stderr, "comb heap generate: out of memory\n");
            goto out;
        }
        snprintf(lay.name, sizeof lay.name, "%s", heap);
        empty = true;
    } else if (size_arg) {
        if (size < lay.size) {
            fprintf(stderr,
                    "comb heap generate: --size %s is too small: session %lld needs at least %u bytes with at most "
                    "%u pools%s; use --size %u or more\n",
                    size_arg, (long long)l.s.id, (unsigned)lay.size, (unsigned)pools,
                    margin > 0 ? " and the margin" : "", (unsigned)lay.size);
            comb_layout_free(&lay);
            goto out;
        }
        comb_layout_share_spare(&lay, size);
    }
    /* fragmentation: what the layout holds beyond the trace's concurrent peak of
     * requested bytes (the least any allocator could do with), spare memory not
     * counted; as a percentage of the heap size, as Drone prints it */
    uint64_t peak = comb_heap_peak_bytes(&l.t);
    uint64_t frag = !empty && info.bytes > peak ? info.bytes - peak : 0;

    comb_strbuf sec = {0}, out = {0};
    comb_layout_render_toml(&lay, &sec);
    if (header) {
        char src[600];
        snprintf(src, sizeof src, "session %lld of %s", (long long)l.s.id, heap_basename(db));
        if (comb_layout_header(&lay, 1, src, &out, err, sizeof err)) {
            fprintf(stderr, "comb heap generate: %s\n", err);
            goto free_out;
        }
    } else {
        comb_sb_puts(&out, comb_sb_str(&sec));
    }
    if (!empty && !header) {
        fputs("\n", stderr);
        fprintf(stderr, "=============================== OPTIMIZED LAYOUT ===============================\n");
        fflush(stderr);
    }
    if (heap_write_file("generate", NULL, comb_sb_str(&out), out.len, false))
        goto free_out;
    if (!empty) {
        fprintf(stderr, "# fragmentation: %llu / %.2f%%\n", (unsigned long long)frag,
                lay.size ? (double)frag / (double)lay.size * 100.0 : 0.0);
        if (!write)
            fprintf(stderr, "# hint: replace the existing [heap.%s] section in Drone.toml\n", heap);
    }
    if (write) {
        comb_strbuf file = {0};
        comb_drone_toml_replace(&toml, heap, comb_sb_str(&sec), &file);
        int wrc = file.oom ? 1 : heap_write_file("generate", write, comb_sb_str(&file), file.len, false);
        comb_sb_free(&file);
        if (wrc)
            goto free_out;
        fprintf(stderr, "# wrote [heap.%s] to %s\n", heap, write);
    }
    if (verbose)
        fprintf(stderr,
                "# comb: %zu events, %u request sizes, %" PRIu64 " peak states (%" PRIu64
                " distinct); optimum %" PRIu64 " bytes, layout %u bytes in %u pools; %.3f s\n",
                l.t.n, info.nsizes, info.states, info.distinct_states, info.bytes, (unsigned)lay.size,
                lay.npools, t1 - t0);
    rc = 0;
free_out:
    comb_sb_free(&sec);
    comb_sb_free(&out);
    comb_layout_free(&lay);
out:
    heap_unload(&l);
    comb_drone_toml_free(&toml);
    return rc;
}

/* ---- verify -------------------------------------------------------------------------- */

int heap_cmd_verify(int argc, char **argv)
{
    const char *db = NULL, *session = NULL, *layout = NULL, *heap = "main";
    const cli_opt opts[] = {{"--db", "a database file", &db, NULL},
                             {"--session", "a session number", &session, NULL},
                             {"--layout", "a Drone.toml file", &layout, NULL},
                             {"--heap", "a heap name", &heap, NULL}};
    const char *pos[1];
    unsigned npos;
    int rc = cli_parse_pos("heap verify", argc, argv, opts, sizeof opts / sizeof opts[0], pos, 0, &npos);
    if (rc == 3) {
        printf("usage: comb heap verify --db FILE [--session N] --layout Drone.toml [--heap NAME]\n"
               "\n"
               "Replays the session through the pool allocator's policy with the pools of [heap.NAME]\n"
               "(default main) and prints per pool the peak use and the smallest headroom, or the first\n"
               "request that would fail. Exit status 0 only if no request fails.\n");
        return 0;
    }
    if (rc)
        return rc;
    if (!layout) {
        fprintf(stderr, "comb heap verify: --layout Drone.toml is required\n");
        return 2;
    }
    char err[700];
    comb_drone_toml toml;
    if (comb_drone_toml_load(layout, &toml, err, sizeof err)) {
        fprintf(stderr, "comb heap verify: %s\n", err);
        return 1;
    }
    const comb_heap_layout *h = comb_drone_toml_heap(&toml, heap);
    if (!h) {
        fprintf(stderr, "comb heap verify: %s: no [heap.%s] section\n", layout, heap);
        comb_drone_toml_free(&toml);
        return 1;
    }
    if (comb_layout_bytes(h) != h->size) {
        fprintf(stderr, "comb heap verify: %s:%u: `heap.%s` pools add up to %llu, but `heap.%s.size` is %u\n", layout,
                h->size_line ? h->size_line : h->line, heap, (unsigned long long)comb_layout_bytes(h), heap,
                (unsigned)h->size);
        comb_drone_toml_free(&toml);
        return 1;
    }
    loaded l;
    if ((rc = heap_load("verify", db, session, &l))) {
        comb_drone_toml_free(&toml);
        return rc;
    }
    comb_replay_pool *st = calloc(h->npools ? h->npools : 1, sizeof *st);
    comb_replay_result res;
    if (!st || comb_heap_replay(&l.t, h->pools, h->npools, &l.policy, false, st, &res)) {
        fprintf(stderr, "comb heap verify: out of memory\n");
        free(st);
        heap_unload(&l);
        comb_drone_toml_free(&toml);
        return 1;
    }
    comb_report_context c = {.trace = &l.t,
                             .ts_hz = l.s.ts_hz,
                             .ts_origin = l.s.has_start_ts ? l.s.start_ts : (l.t.has_ts && l.t.n ? l.t.ts[0] : 0)};
    char when[96];
    printf("[heap.%s] of %s: %u bytes in %u pools; session %lld: %zu events, %" PRIu64 " requests\n", heap,
           heap_basename(layout), (unsigned)h->size, h->npools, (long long)l.s.id, l.t.n, res.requests);
    printf("  %8s %9s %7s %9s %9s  %s\n", "block", "capacity", "peak", "headroom", "borrowed", "peak reached");
    long min_i = -1;
    uint64_t min_room = UINT64_MAX;
    for (unsigned i = 0; i < h->npools; i++) {
        uint64_t room = st[i].capacity - st[i].peak;
        if (st[i].capacity && room < min_room) {
            min_room = room;
            min_i = (long)i;
        }
        if (st[i].peak)
            comb_report_when(&c, st[i].peak_op, when, sizeof when);
        else
            snprintf(when, sizeof when, "never used");
        printf("  %8u %9u %7u %9llu %9llu  %s\n", (unsigned)st[i].block, (unsigned)st[i].capacity,
               (unsigned)st[i].peak, (unsigned long long)room, (unsigned long long)st[i].borrowed, when);
    }
    if (res.fails_now_ok)
        printf("%" PRIu64 " allocations that failed in the session would succeed with this layout\n",
               res.fails_now_ok);
    if (res.failed) {
        comb_report_when(&c, res.first_fail_op, when, sizeof when);
        uint32_t caller = l.t.has_caller ? l.t.caller[res.first_fail_op] : 0;
        printf("FAIL: %" PRIu64 " of %" PRIu64 " requests would fail; the first: %u bytes %s", res.failures,
               res.requests, (unsigned)res.first_fail_size, when);
        if (caller)
            printf(" from 0x%08x", (unsigned)caller);
        uint32_t largest = 0;
        for (unsigned i = 0; i < h->npools; i++)
            if (st[i].capacity && st[i].block > largest)
                largest = st[i].block;
        if (res.first_fail_size > largest)
            printf(" (larger than every block, the largest is %u)\n", (unsigned)largest);
        else
            printf(" (every pool with blocks of %u bytes or more was full)\n", (unsigned)res.first_fail_size);
        rc = 1;
    } else {
        if (min_i >= 0)
            printf("OK: no request fails; smallest headroom: %llu blocks of %u bytes\n", (unsigned long long)min_room,
                   (unsigned)st[min_i].block);
        else
            printf("OK: no request fails\n");
        rc = 0;
    }
    free(st);
    heap_unload(&l);
    comb_drone_toml_free(&toml);
    return rc;
}
