/*
 * libFuzzer target: the Drone.toml reader and section writer (analysis/,
 * drone_toml.h). Oracles: a rejected file gets a "PATH:LINE: problem" message;
 * an accepted one has heaps whose section ranges lie inside the text, in
 * order, and that the lookup finds; validation and rewriting every section (with
 * its own rendering) never crash, and the rewritten text parses again or is
 * rejected with a message (never a crash or a leak).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comb/drone_toml.h"

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_drone_toml: oracle violated: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    comb_drone_toml t;
    char err[1024] = "";
    if (comb_drone_toml_parse("fuzz.toml", (const char *)data, size, &t, err, sizeof err) != 0) {
        check(strncmp(err, "fuzz.toml", 9) == 0, "message names the file");
        comb_drone_toml_free(&t);
        return 0;
    }
    size_t prev_end = 0;
    for (unsigned i = 0; i < t.nheaps; i++) {
        const comb_drone_heap_section *s = &t.sections[i];
        check(s->start <= s->end && s->end <= t.len, "section inside the text");
        check(s->start >= prev_end, "sections in file order, not overlapping");
        prev_end = s->end;
        check(strlen(t.heaps[i].name) < sizeof t.heaps[i].name, "heap name terminated");
        check(t.heaps[i].npools == 0 || t.heaps[i].pools != NULL, "pools present");
        const comb_heap_layout *found = comb_drone_toml_heap(&t, t.heaps[i].name);
        check(found != NULL, "lookup finds the heap");
        (void)comb_layout_bytes(&t.heaps[i]);
    }
    comb_drone_toml_check(&t, err, sizeof err);
    for (unsigned i = 0; i < t.nheaps && i < 4; i++) {
        comb_strbuf section = {0}, file = {0};
        comb_layout_render_toml(&t.heaps[i], &section);
        comb_drone_toml_replace(&t, t.heaps[i].name, comb_sb_str(&section), &file);
        comb_drone_toml again;
        if (comb_drone_toml_parse("again.toml", comb_sb_str(&file), file.len, &again, err, sizeof err) == 0)
            comb_drone_toml_free(&again);
        else
            check(err[0] != 0, "rewritten file rejected without a message");
        comb_sb_free(&section);
        comb_sb_free(&file);
    }
    comb_drone_toml_free(&t);
    return 0;
}
