/*
 * Drone.toml reader and writer (analysis/src/drone_toml.c), Drone's TOML
 * rendering of a layout, and the C header of docs/heap-layout-header.md:
 * values read, malformed input rejected with its line number, the section
 * replaced in place with every other byte kept, round trips.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "comb/drone_toml.h"
#include "comb/layout_header.h"

static const char example[] =
    "# project file\n"
    "[memory.flash]             # required\n"
    "size = \"64K\"               # size string\n"
    "origin = 0x08000000        # TOML integer\n"
    "[memory.ram]               # required\n"
    "size = \"20K\"\n"
    "origin = 0x20000000\n"
    "\n"
    "[heap.main]                # required\n"
    "size = \"10K\"\n"
    "pools = [\n"
    "    { block = \"4\", capacity = 201 },   # smallest\n"
    "    { block = \"12\", capacity = 222 },\n"
    "    # a comment inside the array\n"
    "    { block = \"28\", capacity = 115 },\n"
    "    { block = \"32\", capacity = 83 },\n"
    "    { block = \"128\", capacity = 7 }\n"
    "]  # end of pools\n"
    "# kept: after the last key of the section\n"
    "\n"
    "[heap.dma-buffers]\n"
    "origin = 0x2001_0000\n"
    "size = \"4K\"\n"
    "pools = [ { block = \"64\", capacity = 64 } ]\n"
    "\n"
    "[linker]\n"
    "platform = \"arm\"\n"
    "include = ['a.ld', \"\"\"\n"
    "multi \\\n"
    "   line\"\"\", '''raw\\n''']\n"
    "[probe]\n"
    "gdb-client-command = \"gdb-multiarch\"\n"
    "\"quoted key\" = 1.5e3\n"
    "dotted.key = true\n"
    "when = 1979-05-27 07:32:00Z\n"
    "day = 1979-05-27\n"
    "neg = -17\n"
    "bin = 0b1010\n"
    "oct = 0o755\n"
    "inf = -inf\n"
    "nested = [[1, 2], [\"a\", { x = 1 }]]\n"
    "[[probe.list]]\n"
    "a = 1\n"
    "[[probe.list]]\n"
    "a = 2\n";

static int parse(const char *text, comb_drone_toml *t, char *err, size_t cap)
{
    err[0] = 0;
    return comb_drone_toml_parse("Drone.toml", text, strlen(text), t, err, cap);
}

static void test_read_example(void)
{
    comb_drone_toml t;
    char err[300];
    int rc = parse(example, &t, err, sizeof err);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_EQ_U64(t.nheaps, 2);
    const comb_heap_layout *m = comb_drone_toml_heap(&t, "main");
    const comb_heap_layout *d = comb_drone_toml_heap(&t, "dma-buffers");
    CHECK(m && d && !comb_drone_toml_heap(&t, "other"));
    if (!m || !d)
        return;
    CHECK_EQ_U64(m->size, 10240);
    CHECK(!m->has_origin);
    CHECK_EQ_U64(m->npools, 5);
    static const uint32_t blocks[] = {4, 12, 28, 32, 128}, caps[] = {201, 222, 115, 83, 7};
    for (unsigned i = 0; i < 5 && i < m->npools; i++) {
        CHECK_EQ_U64(m->pools[i].block, blocks[i]);
        CHECK_EQ_U64(m->pools[i].capacity, caps[i]);
    }
    CHECK_EQ_U64(m->line, 9);
    CHECK_EQ_U64(m->size_line, 10);
    CHECK_EQ_U64(d->size, 4096);
    CHECK(d->has_origin);
    CHECK_EQ_U64(d->origin, 0x20010000);
    CHECK_EQ_U64(d->npools, 1);
    CHECK(comb_drone_toml_check(&t, err, sizeof err) == 0);
    comb_drone_toml_free(&t);
}

/* A malformed file must be rejected with "Drone.toml:LINE: ..." containing `what`. */
static void reject(const char *text, unsigned line, const char *what)
{
    comb_drone_toml t;
    char err[300], prefix[32];
    int rc = parse(text, &t, err, sizeof err);
    CHECK(rc == -1);
    if (rc == 0) {
        fprintf(stderr, "  accepted: %s\n", text);
        comb_drone_toml_free(&t);
        return;
    }
    snprintf(prefix, sizeof prefix, "Drone.toml:%u: ", line);
    CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
    CHECK(strstr(err, what) != NULL);
    CHECK(strchr(err, '\n') == NULL);
    if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what))
        fprintf(stderr, "  got \"%s\", want line %u and \"%s\"\n", err, line, what);
}

static void test_malformed(void)
{
    const char *heap = "[heap.main]\nsize = \"8\"\npools = [{ block = \"4\", capacity = 2 }]\n";
    comb_drone_toml t;
    char err[300];
    CHECK(parse(heap, &t, err, sizeof err) == 0);
    comb_drone_toml_free(&t);

    /* TOML syntax */
    reject("a = 1\nb = \n", 2, "expected a value");
    reject("a = 1\n[heap.main\n", 2, "expected ']'");
    reject("x = \"open\n", 1, "unterminated string");
    reject("\n\nx = [1, 2\n", 4, "unterminated array");
    reject("x = 1 2\n", 1, "expected end of line");
    reject("x = { a = 1\n", 1, "inline table");
    reject("x = 1\nx = 2\n", 2, "duplicate key 'x'");
    reject("[a]\n[b]\n[a]\n", 3, "table [a] defined twice");
    reject("x = \"bad \\q escape\"\n", 1, "invalid escape");
    reject("x = 012\n", 1, "invalid value");
    reject("x = abc\n", 1, "strings need quotes");
    reject("x = 1__0\n", 1, "invalid value");
    reject("= 3\n", 1, "invalid character");
    reject("x = 1.\n", 1, "invalid number");
    reject("a = 1\n\n\nb = \"\"\"never closed\n\n", 4, "unterminated string");
    reject("ok = 1\nbad = \"\\uD800\"\n", 2, "invalid Unicode escape");
    /* heap sections */
    reject("[heap.main]\nsize = \"10k\"\npools = []\n", 2, "invalid size string \"10k\"");
    reject("[heap.main]\nsize = 1.5\npools = []\n", 2, "must be a size string");
    reject("[heap.main]\npools = []\n", 1, "[heap.main] has no `size`");
    reject("[heap.main]\nsize = \"8\"\n", 1, "[heap.main] has no `pools`");
    reject("[heap.main]\nsize = \"8\"\npools = { block = \"4\" }\n", 3, "must be an array");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { block = \"4\", capacity = 1 },\n  { block = \"4\" },\n]\n", 5,
           "item 2 has no `capacity`");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { capacity = 2 },\n]\n", 4, "item 1 has no `block`");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { block = \"4\", capacity = -1 },\n]\n", 4, "out of range");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { block = \"4\", capacity = \"2\" },\n]\n", 4,
           "must be an integer");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { block = \"0\", capacity = 2 },\n]\n", 4, "must not be 0");
    reject("[heap.main]\nsize = \"8\"\npools = [\n  { block = \"4\", capacity = 2, extra = 1 },\n]\n", 4,
           "unknown key 'extra'");
    reject("[heap.main]\nsize = \"8\"\npools = [ 4 ]\n", 3, "must be a table");
    reject("[heap.main]\nsize = \"8\"\norigin = true\npools = []\n", 3, "must be an integer");
    reject("[heap]\nsize = \"8\"\n", 2, "Drone v0.11 format");
    reject("heap.main.size = \"8\"\n", 1, "[heap.NAME] tables");
    reject("[heap.main.extra]\nx = 1\n", 1, "unsupported table");
    reject("a = 1\n[heap.main]\nsize = \"8\"\npools = []\n[heap.main]\n", 5, "defined twice");
}

static void test_check(void)
{
    comb_drone_toml t;
    char err[300];
    /* line 3 holds `size` */
    const char *text = "# x\n[heap.main]\nsize = \"10K\"\npools = [\n  { block = \"4\", capacity = 2559 },\n]\n";
    CHECK(parse(text, &t, err, sizeof err) == 0);
    CHECK(comb_drone_toml_check(&t, err, sizeof err) == -1);
    CHECK(strcmp(err, "Drone.toml:3: `heap.main` pools add up to 10236, but `heap.main.size` is 10240") == 0);
    comb_drone_toml_free(&t);

    CHECK(parse("[heap.other]\nsize = \"4\"\npools = [{ block = \"4\", capacity = 1 }]\n", &t, err, sizeof err) == 0);
    CHECK(comb_drone_toml_check(&t, err, sizeof err) == -1);
    CHECK(strstr(err, "no [heap.main]") != NULL);
    comb_drone_toml_free(&t);

    /* pools that overflow 32 bits are a mismatch, not a wrap-around */
    CHECK(parse("[heap.main]\nsize = \"0\"\npools = [{ block = \"0x10000\", capacity = 65536 }]\n", &t, err,
                sizeof err) == 0);
    CHECK(comb_drone_toml_check(&t, err, sizeof err) == -1);
    CHECK(strstr(err, "add up to 4294967296") != NULL);
    comb_drone_toml_free(&t);
}

static void test_render(void)
{
    comb_pool pools[] = {{128, 7}, {4, 201}, {12, 222}, {28, 115}, {32, 83}, {64, 0}};
    comb_heap_layout l = {.name = "main", .npools = 6, .pools = pools};
    comb_strbuf sb = {0};
    comb_layout_render_toml(&l, &sb);
    CHECK(strcmp(comb_sb_str(&sb), "[heap.main]\n"
                                   "size = \"10K\"\n"
                                   "pools = [\n"
                                   "    { block = \"4\", capacity = 201 },\n"
                                   "    { block = \"12\", capacity = 222 },\n"
                                   "    { block = \"28\", capacity = 115 },\n"
                                   "    { block = \"32\", capacity = 83 },\n"
                                   "    { block = \"128\", capacity = 7 },\n"
                                   "]\n") == 0);
    comb_sb_free(&sb);
    /* sizes are formatted as size strings */
    comb_pool big[] = {{2048, 3}, {1048576, 1}};
    comb_heap_layout b = {.name = "x", .npools = 2, .pools = big};
    comb_layout_render_toml(&b, &sb);
    CHECK(strstr(comb_sb_str(&sb), "size = \"1030K\"\n") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "{ block = \"2K\", capacity = 3 },\n    { block = \"1M\", capacity = 1 },") != NULL);
    comb_sb_free(&sb);
}

static void test_replace(void)
{
    comb_drone_toml t;
    char err[300];
    CHECK(parse(example, &t, err, sizeof err) == 0);
    comb_pool pools[] = {{16, 10}, {8, 4}};
    comb_heap_layout l = {.name = "main", .npools = 2, .pools = pools};
    comb_strbuf sec = {0}, out = {0};
    comb_layout_render_toml(&l, &sec);
    comb_drone_toml_replace(&t, "main", comb_sb_str(&sec), &out);
    const char *o = comb_sb_str(&out);
    const char *start = strstr(example, "[heap.main]");
    const char *after = strstr(example, "# kept: after the last key");
    size_t head = (size_t)(start - example);
    /* everything before and after the section is byte for byte the same */
    CHECK(out.len == head + sec.len + strlen(after));
    CHECK(memcmp(o, example, head) == 0);
    CHECK(memcmp(o + head, comb_sb_str(&sec), sec.len) == 0);
    CHECK(strcmp(o + head + sec.len, after) == 0);

    /* the result parses to the new layout, and the other heap is untouched */
    comb_drone_toml t2;
    CHECK(comb_drone_toml_parse("Drone.toml", o, out.len, &t2, err, sizeof err) == 0);
    const comb_heap_layout *m = comb_drone_toml_heap(&t2, "main");
    CHECK(m && m->size == 192 && m->npools == 2 && m->pools[0].block == 8 && m->pools[0].capacity == 4 &&
          m->pools[1].block == 16 && m->pools[1].capacity == 10);
    CHECK(comb_drone_toml_check(&t2, err, sizeof err) == 0);
    const comb_heap_layout *d = comb_drone_toml_heap(&t2, "dma-buffers");
    CHECK(d && d->origin == 0x20010000 && d->size == 4096);

    /* replacing with the rendering of what it already holds is a fixed point */
    comb_strbuf sec2 = {0}, out2 = {0};
    comb_layout_render_toml(m, &sec2);
    comb_drone_toml_replace(&t2, "main", comb_sb_str(&sec2), &out2);
    CHECK(out2.len == out.len && memcmp(comb_sb_str(&out2), o, out.len) == 0);
    comb_sb_free(&sec2);
    comb_sb_free(&out2);
    comb_drone_toml_free(&t2);

    /* the other heap replaced: main keeps its comments */
    comb_sb_free(&out);
    comb_heap_layout l2 = {.name = "dma-buffers", .npools = 2, .pools = pools};
    comb_sb_free(&sec);
    comb_layout_render_toml(&l2, &sec);
    comb_drone_toml_replace(&t, "dma-buffers", comb_sb_str(&sec), &out);
    CHECK(strstr(comb_sb_str(&out), "{ block = \"4\", capacity = 201 },   # smallest\n") != NULL);
    CHECK(strstr(comb_sb_str(&out), "[heap.dma-buffers]\nsize = \"192\"\n") != NULL);
    CHECK(strstr(comb_sb_str(&out), "origin = 0x2001_0000") == NULL); /* part of the replaced section */
    CHECK(strstr(comb_sb_str(&out), "\n\n[linker]\n") != NULL);
    comb_sb_free(&out);

    /* a missing section is appended after a blank line */
    comb_heap_layout l3 = {.name = "extra", .npools = 2, .pools = pools};
    comb_sb_free(&sec);
    comb_layout_render_toml(&l3, &sec);
    comb_drone_toml_replace(&t, "extra", comb_sb_str(&sec), &out);
    CHECK(out.len == strlen(example) + 1 + sec.len);
    CHECK(memcmp(comb_sb_str(&out), example, strlen(example)) == 0);
    CHECK(strcmp(comb_sb_str(&out) + strlen(example), "\n[heap.extra]\nsize = \"192\"\npools = [\n"
                                                      "    { block = \"8\", capacity = 4 },\n"
                                                      "    { block = \"16\", capacity = 10 },\n]\n") == 0);
    comb_sb_free(&out);
    comb_sb_free(&sec);
    comb_drone_toml_free(&t);

    /* a section at the end of a file without a final newline; CRLF files keep their CRLFs elsewhere */
    const char *crlf = "[a]\r\nx = 1\r\n\r\n[heap.main]\r\nsize = \"8\"\r\npools = [{ block = \"8\", capacity = 1 }]";
    CHECK(parse(crlf, &t, err, sizeof err) == 0);
    comb_layout_render_toml(&l, &sec);
    comb_drone_toml_replace(&t, "main", comb_sb_str(&sec), &out);
    CHECK(strncmp(comb_sb_str(&out), "[a]\r\nx = 1\r\n\r\n[heap.main]\nsize = \"192\"\n", 39) == 0);
    CHECK(out.len == 14 + sec.len);
    comb_sb_free(&out);
    comb_sb_free(&sec);
    comb_drone_toml_free(&t);
}

static void test_header(void)
{
    comb_drone_toml t;
    char err[300];
    CHECK(parse(example, &t, err, sizeof err) == 0);
    comb_strbuf sb = {0};
    CHECK(comb_layout_header(t.heaps, t.nheaps, "Drone.toml", &sb, err, sizeof err) == 0);
    /* docs/heap-layout-header.md, byte for byte */
    const char *want = "/* Generated by comb from Drone.toml; do not edit. */\n"
                       "#ifndef COMB_HEAP_LAYOUT_H\n"
                       "#define COMB_HEAP_LAYOUT_H\n"
                       "\n"
                       "/* H(name, NAME) once per heap. */\n"
                       "#define COMB_HEAPS(H) H(main, MAIN) H(dma_buffers, DMA_BUFFERS)\n"
                       "\n"
                       "#define COMB_HEAP_MAIN_SIZE 10240u\n"
                       "#define COMB_HEAP_MAIN_ORIGIN 0u          /* 0: placed by the linker; else [heap.NAME] origin */\n"
                       "#define COMB_HEAP_MAIN_POOL_COUNT 5u\n"
                       "/* P(block, capacity) per pool, ascending block size. */\n"
                       "#define COMB_HEAP_MAIN_POOLS(P) P(4u, 201u) P(12u, 222u) P(28u, 115u) P(32u, 83u) P(128u, 7u)\n"
                       "\n"
                       "#define COMB_HEAP_DMA_BUFFERS_SIZE 4096u\n"
                       "#define COMB_HEAP_DMA_BUFFERS_ORIGIN 536936448u\n"
                       "#define COMB_HEAP_DMA_BUFFERS_POOL_COUNT 1u\n"
                       "#define COMB_HEAP_DMA_BUFFERS_POOLS(P) P(64u, 64u)\n"
                       "\n"
                       "#endif\n";
    CHECK(strcmp(comb_sb_str(&sb), want) == 0);
    if (strcmp(comb_sb_str(&sb), want))
        fprintf(stderr, "%s", comb_sb_str(&sb));
    comb_sb_free(&sb);
    comb_drone_toml_free(&t);

    /* main first whatever the file order; pools sorted; zero capacity omitted */
    comb_pool a[] = {{32, 1}, {8, 0}, {4, 2}}, b[] = {{16, 1}};
    comb_heap_layout hs[2] = {{.name = "Fast-RAM", .size = 16, .npools = 1, .pools = b},
                              {.name = "main", .size = 40, .npools = 3, .pools = a}};
    CHECK(comb_layout_header(hs, 2, "x.toml", &sb, err, sizeof err) == 0);
    CHECK(strstr(comb_sb_str(&sb), "#define COMB_HEAPS(H) H(main, MAIN) H(fast_ram, FAST_RAM)\n") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "#define COMB_HEAP_MAIN_POOL_COUNT 2u\n") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "#define COMB_HEAP_MAIN_POOLS(P) P(4u, 2u) P(32u, 1u)\n") != NULL);
    CHECK(strstr(comb_sb_str(&sb), "#define COMB_HEAP_FAST_RAM_ORIGIN 0u\n") != NULL);
    comb_sb_free(&sb);

    /* refusals */
    hs[0].size = 17;
    CHECK(comb_layout_header(hs, 2, "x", &sb, err, sizeof err) == -1);
    CHECK(strstr(err, "`heap.Fast-RAM` pools add up to 16, but `heap.Fast-RAM.size` is 17") != NULL);
    hs[0].size = 16;
    snprintf(hs[0].name, sizeof hs[0].name, "9lives");
    CHECK(comb_layout_header(hs, 2, "x", &sb, err, sizeof err) == -1);
    CHECK(strstr(err, "C identifier") != NULL);
    snprintf(hs[0].name, sizeof hs[0].name, "MAIN");
    CHECK(comb_layout_header(hs, 2, "x", &sb, err, sizeof err) == -1);
    CHECK(strstr(err, "same macro name") != NULL);
    snprintf(hs[0].name, sizeof hs[0].name, "b");
    b[0].block = 6;
    hs[0].size = 6;
    CHECK(comb_layout_header(hs, 2, "x", &sb, err, sizeof err) == -1);
    CHECK(strstr(err, "block 6 is not a multiple of 4") != NULL);
    comb_sb_free(&sb);
}

int main(void)
{
    test_read_example();
    test_malformed();
    test_check();
    test_render();
    test_replace();
    test_header();
    return check_finish("test_drone_toml");
}
