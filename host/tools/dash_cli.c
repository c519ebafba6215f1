#include "dash_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comb/heap_session.h"

static const char *thread_name(void *ctx, uint16_t thr, char *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return comb_elf_absolute_named(ctx, "comb_thr_name_", thr); /* firmware/include/comb/thread.h */
}

static const char *fiber_name(void *ctx, uint32_t addr, char *buf, size_t cap)
{
    return comb_elf_object_at(ctx, addr, buf, cap);
}

int dash_open(const char *cmd, const dash_args *a, dash_opened *o)
{
    char err[1200];
    memset(o, 0, sizeof *o);
    if (!a->db) {
        fprintf(stderr, "comb %s: --db FILE is required\n", cmd);
        return 2;
    }
    int64_t id = 0;
    if (a->session && comb_heap_session_parse_id(a->session, &id)) {
        fprintf(stderr, "comb %s: --session needs a session number, not '%s'\n", cmd, a->session);
        return 2;
    }
    if (a->heap && !a->layout) {
        fprintf(stderr, "comb %s: --heap NAME needs --layout Drone.toml\n", cmd);
        return 2;
    }
    if (a->layout) { /* before the database: a bad file fails early */
        if (comb_drone_toml_load(a->layout, &o->toml, err, sizeof err)) {
            fprintf(stderr, "comb %s: %s\n", cmd, err);
            return 1;
        }
        o->has_toml = true;
        const char *heap = a->heap ? a->heap : "main";
        o->opts.layout = comb_drone_toml_heap(&o->toml, heap);
        if (!o->opts.layout) {
            fprintf(stderr, "comb %s: %s: no [heap.%s] section\n", cmd, a->layout, heap);
            dash_close(o);
            return 1;
        }
        if (o->opts.layout->npools == 0) {
            fprintf(stderr, "comb %s: %s: [heap.%s] has no pools\n", cmd, a->layout, heap);
            dash_close(o);
            return 1;
        }
    }
    if (a->elf && comb_elf_symbols_load(a->elf, &o->syms, err, sizeof err)) {
        fprintf(stderr, "comb %s: %s\n", cmd, err);
        dash_close(o);
        return 1;
    }
    if (comb_dash_open(a->db, id, &o->d, err, sizeof err)) {
        fprintf(stderr, "comb %s: %s\n", cmd, err);
        dash_close(o);
        return 1;
    }
    if (o->syms) {
        o->names = (comb_dash_names){.thread = thread_name, .fiber = fiber_name, .ctx = o->syms};
        comb_dash_set_names(o->d, &o->names);
    }
    const comb_dash_info *i = comb_dash_info_of(o->d);
    const char *ends[2] = {a->from, a->to};
    for (int k = 0; k < 2; k++) {
        if (!ends[k])
            continue;
        int64_t t;
        if (comb_dash_parse_time(i, ends[k], &t)) {
            fprintf(stderr, "comb %s: %s '%s' is not a session time (%s)\n", cmd, k ? "--to" : "--from", ends[k],
                    i->ts_hz ? "seconds, or a number with s, ms, us or ns" : "this session has no ts_hz: ticks");
            dash_close(o);
            return 2;
        }
        if (k)
            o->opts.has_to = true, o->opts.to = t;
        else
            o->opts.has_from = true, o->opts.from = t;
    }
    if (o->opts.has_from && o->opts.has_to && o->opts.to <= o->opts.from) {
        fprintf(stderr, "comb %s: --to %s is not after --from %s\n", cmd, a->to, a->from);
        dash_close(o);
        return 2;
    }
    /* The window stays inside the session: session time runs from 0 (t0) to
     * the last event (t_end); --from/--to are never before 0. */
    if (i->has_ts && (o->opts.has_from || o->opts.has_to)) {
        const char *u = comb_dash_time_unit(i);
        double end = comb_dash_time(i, i->t_end);
        if (o->opts.has_from && o->opts.from >= i->t_end) {
            fprintf(stderr, "comb %s: --from %s is not before the session's end at %.6f %s (its window would be empty)\n",
                    cmd, a->from, end, u);
            dash_close(o);
            return 2;
        }
        if (o->opts.has_to && o->opts.to > i->t_end) {
            fprintf(stderr, "comb %s: --to %s is past the session's end: the timeline ends at %.6f %s\n", cmd, a->to,
                    end, u);
            o->opts.to = i->t_end;
        }
    }
    return 0;
}

void dash_report_window(const char *cmd, const comb_dash *d, const comb_dash_window *w)
{
    if (!w->truncated)
        return;
    char note[400];
    comb_dash_window_note(comb_dash_info_of(d), w, note, sizeof note);
    fprintf(stderr, "comb %s: timeline: %s\n", cmd, note);
}

void dash_close(dash_opened *o)
{
    comb_dash_close(o->d);
    comb_elf_symbols_free(o->syms);
    if (o->has_toml)
        comb_drone_toml_free(&o->toml);
    memset(o, 0, sizeof *o);
}

int out_stream_open(const char *cmd, const char *path, out_stream *s)
{
    memset(s, 0, sizeof *s);
    if (!path || !strcmp(path, "-")) {
        s->f = stdout;
        return 0;
    }
    size_t n = strlen(path) + 32;
    s->path = strdup(path);
    s->tmp = malloc(n);
    if (!s->path || !s->tmp) {
        free(s->path);
        free(s->tmp);
        fprintf(stderr, "comb %s: out of memory\n", cmd);
        return 1;
    }
    snprintf(s->tmp, n, "%s.tmp%ld", path, (long)getpid());
    s->f = fopen(s->tmp, "w");
    if (!s->f) {
        fprintf(stderr, "comb %s: cannot write %s: %s\n", cmd, path, strerror(errno));
        free(s->path);
        free(s->tmp);
        return 1;
    }
    return 0;
}

int out_stream_close(const char *cmd, out_stream *s, bool ok)
{
    int rc = 0;
    if (s->f == stdout) {
        if (fflush(stdout) || ferror(stdout)) {
            if (ok)
                fprintf(stderr, "comb %s: cannot write to standard output\n", cmd);
            rc = 1;
        }
        return rc;
    }
    bool written = !ferror(s->f);
    written = fclose(s->f) == 0 && written;
    if (ok && !written) {
        fprintf(stderr, "comb %s: cannot write %s: %s\n", cmd, s->path, strerror(errno));
        rc = 1;
    } else if (ok && rename(s->tmp, s->path)) {
        fprintf(stderr, "comb %s: cannot write %s: %s\n", cmd, s->path, strerror(errno));
        rc = 1;
    }
    if (!ok || rc)
        unlink(s->tmp);
    free(s->path);
    free(s->tmp);
    memset(s, 0, sizeof *s);
    return rc;
}
