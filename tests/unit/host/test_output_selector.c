/*
 * Output selectors (Drone's `[path][:port]...` syntax): parsing, error
 * messages, file creation, and routing of payload bytes to the outputs that
 * selected a port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "test_tmp.h"
#include "comb/output_selector.h"

/* Reads a whole file; returns its length, -1 if it does not exist. */
static long slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void parse_ok(const char *arg, const char *path, uint32_t ports)
{
    comb_output o;
    char err[256] = "";
    int rc = comb_output_parse(arg, &o, err, sizeof err);
    CHECK(rc == 0);
    if (rc) {
        fprintf(stderr, "  parse '%s' failed: %s\n", arg, err);
        return;
    }
    CHECK(strcmp(o.path, path) == 0);
    CHECK_EQ_U64(o.ports, ports);
    CHECK(o.fp == NULL);
}

/* Must fail with a one-line message that contains `needle` (and the selector). */
static void parse_bad(const char *arg, const char *needle)
{
    comb_output o;
    char err[256] = "";
    int rc = comb_output_parse(arg, &o, err, sizeof err);
    CHECK(rc == -1);
    CHECK(err[0] != 0);
    CHECK(strchr(err, '\n') == NULL);
    if (needle && !strstr(err, needle)) {
        check_count++;
        check_failures++;
        fprintf(stderr, "  parse '%.60s': message '%s' does not mention '%s'\n", arg, err, needle);
    }
}

static void test_parse(void)
{
    parse_ok(":0:1", "", 0x3u);
    parse_ok("heap.bin:31", "heap.bin", 1u << 31);
    parse_ok("file", "file", 0xFFFFFFFFu);
    parse_ok("", "", 0xFFFFFFFFu); /* stdout, every port */
    parse_ok(":31", "", 1u << 31);
    parse_ok(":0", "", 1u);
    parse_ok("x/y.bin:2:0", "x/y.bin", 0x5u);
    parse_ok("a:7:7", "a", 1u << 7); /* repeating a port is harmless */
    parse_ok(":30:31:29", "", 0xE0000000u);

    parse_bad(":32", "32");
    parse_bad(":32", "out of range");
    parse_bad(":99", "99");
    parse_bad(":x", "'x'");
    parse_bad(":x", "not a port number");
    parse_bad("a::1", "a::1");
    parse_bad("a::1", "'' is not a port number");
    parse_bad(":-1", "-1");
    parse_bad(":0123", "0123");
    parse_bad(":1x", "1x");
    parse_bad(": 1", "port");
    parse_bad(":+1", "+1");
    parse_bad("file:", "port");
    parse_bad(":", "port");
    parse_bad(":1:", "port");
    parse_bad(":4294967297", "port"); /* would wrap to 1 if parsed blindly */

    /* Path length: 511 bytes fit, 512 do not. */
    char longp[700];
    memset(longp, 'p', 511);
    strcpy(longp + 511, ":1");
    {
        comb_output o;
        char err[128];
        CHECK(comb_output_parse(longp, &o, err, sizeof err) == 0);
        CHECK_EQ_U64(strlen(o.path), 511);
        CHECK_EQ_U64(o.ports, 2);
    }
    memset(longp, 'q', 600);
    strcpy(longp + 600, ":1");
    parse_bad(longp, "too long");
    memset(longp, 'r', 512);
    longp[512] = 0;
    parse_bad(longp, "too long");

    /* A tiny message buffer is truncated, never overrun. */
    {
        comb_output o;
        char err[6];
        CHECK(comb_output_parse(":x", &o, err, sizeof err) == -1);
        CHECK(strlen(err) < sizeof err);
    }
}

static void test_open_default(void)
{
    comb_outputs outs;
    char err[256] = "";
    CHECK(comb_outputs_open(&outs, 0, NULL, err, sizeof err) == 0);
    CHECK_EQ_U64(outs.count, 1);
    CHECK(outs.items[0].fp == stdout);
    CHECK(outs.items[0].path[0] == 0);
    CHECK_EQ_U64(outs.items[0].ports, 0x3);
    CHECK_EQ_U64(outs.any, 0x3);
    comb_outputs_close(&outs);
    /* stdout is not closed */
    CHECK(fflush(stdout) == 0);
    CHECK(fileno(stdout) == 1);
}

static void test_routing(void)
{
    char a[300], b[300], all[300], c[300], d[300];
    test_tmp_path(a, sizeof a, "a.bin");
    test_tmp_path(b, sizeof b, "b.bin");
    test_tmp_path(all, sizeof all, "all.bin");
    test_tmp_path(c, sizeof c, "c.bin");
    test_tmp_path(d, sizeof d, "d.bin");
    write_file(a, "old contents that must go");
    write_file(all, "old");

    char sa[320], sb[320], sc[320], sd[320];
    snprintf(sa, sizeof sa, "%s:0", a);
    snprintf(sb, sizeof sb, "%s:1:2", b);
    snprintf(sc, sizeof sc, "%s:31", c);
    snprintf(sd, sizeof sd, "%s:0", d);
    char *argv[] = {sa, sb, all, sc, sd};
    comb_outputs outs;
    char err[256] = "";
    CHECK(comb_outputs_open(&outs, 5, argv, err, sizeof err) == 0);
    CHECK_EQ_U64(outs.count, 5);
    CHECK_EQ_U64(outs.any, 0xFFFFFFFFu);

    /* created / truncated at open */
    unsigned char buf[256];
    CHECK(slurp(a, buf, sizeof buf) == 0);
    CHECK(slurp(all, buf, sizeof buf) == 0);
    CHECK(slurp(b, buf, sizeof buf) == 0);
    CHECK(slurp(c, buf, sizeof buf) == 0);
    CHECK(slurp(d, buf, sizeof buf) == 0);

    comb_outputs_write(&outs, 0, (const uint8_t *)"hello", 5);
    comb_outputs_write(&outs, 1, (const uint8_t *)"x", 1);
    comb_outputs_write(&outs, 2, (const uint8_t *)"y\0z\n", 4);
    comb_outputs_write(&outs, 31, (const uint8_t *)"\x01\x02", 2);
    comb_outputs_write(&outs, 5, (const uint8_t *)"p", 1);
    comb_outputs_write(&outs, 32, (const uint8_t *)"BAD", 3);   /* no such port */
    comb_outputs_write(&outs, 1000, (const uint8_t *)"BAD", 3); /* no such port */
    comb_outputs_write(&outs, 0, (const uint8_t *)"", 0);
    comb_outputs_flush(&outs);

    /* flushed: visible before close */
    CHECK(slurp(a, buf, sizeof buf) == 5);

    comb_outputs_close(&outs);
    long n = slurp(a, buf, sizeof buf);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    n = slurp(d, buf, sizeof buf);
    CHECK(n == 5 && memcmp(buf, "hello", 5) == 0);
    n = slurp(b, buf, sizeof buf);
    CHECK(n == 5 && memcmp(buf, "xy\0z\n", 5) == 0);
    n = slurp(c, buf, sizeof buf);
    CHECK(n == 2 && memcmp(buf, "\x01\x02", 2) == 0);
    n = slurp(all, buf, sizeof buf);
    CHECK(n == 13 && memcmp(buf, "helloxy\0z\n\x01\x02p", 13) == 0);
    comb_outputs_close(&outs); /* a second close is harmless */

    unlink(a), unlink(b), unlink(all), unlink(c), unlink(d);
}

static void test_only_selected_ports(void)
{
    /* An output set that does not include port 0 receives nothing for it. */
    char p[300], s[320];
    test_tmp_path(p, sizeof p, "only31.bin");
    snprintf(s, sizeof s, "%s:31", p);
    char *argv[] = {s};
    comb_outputs outs;
    char err[256];
    CHECK(comb_outputs_open(&outs, 1, argv, err, sizeof err) == 0);
    CHECK_EQ_U64(outs.any, 1u << 31);
    for (unsigned port = 0; port < 31; port++)
        comb_outputs_write(&outs, port, (const uint8_t *)"z", 1);
    comb_outputs_write(&outs, 31, (const uint8_t *)"H", 1);
    comb_outputs_close(&outs);
    unsigned char buf[64];
    long n = slurp(p, buf, sizeof buf);
    CHECK(n == 1 && buf[0] == 'H');
    unlink(p);
}

static void test_open_errors(void)
{
    char good[300], sgood[320], bad[320];
    test_tmp_path(good, sizeof good, "keep.bin");
    write_file(good, "keep me");
    snprintf(sgood, sizeof sgood, "%s:0", good);

    /* a bad selector after a good one: error, nothing leaked, nothing clobbered */
    {
        char *argv[] = {sgood, ":x"};
        comb_outputs outs;
        char err[256] = "";
        CHECK(comb_outputs_open(&outs, 2, argv, err, sizeof err) == -1);
        CHECK(strstr(err, "'x' is not a port number") != NULL);
        CHECK(strchr(err, '\n') == NULL);
        unsigned char buf[64];
        long n = slurp(good, buf, sizeof buf);
        CHECK(n == 7 && memcmp(buf, "keep me", 7) == 0);
    }

    /* a file that cannot be created: error naming it, earlier files closed */
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.bin:1", test_tmp_dir());
    {
        char *argv[] = {sgood, bad};
        comb_outputs outs;
        char err[600] = "";
        CHECK(comb_outputs_open(&outs, 2, argv, err, sizeof err) == -1);
        CHECK(strstr(err, "no/such/dir/x.bin") != NULL);
        CHECK(strstr(err, "cannot create") != NULL);
        CHECK(strchr(err, '\n') == NULL);
    }

    /* too many outputs */
    {
        char *argv[COMB_MAX_OUTPUTS + 1];
        for (int i = 0; i <= COMB_MAX_OUTPUTS; i++)
            argv[i] = (char *)":0";
        comb_outputs outs;
        char err[256] = "";
        CHECK(comb_outputs_open(&outs, COMB_MAX_OUTPUTS + 1, argv, err, sizeof err) == -1);
        CHECK(strstr(err, "too many outputs") != NULL);
        /* exactly the maximum is fine */
        CHECK(comb_outputs_open(&outs, COMB_MAX_OUTPUTS, argv, err, sizeof err) == 0);
        CHECK_EQ_U64(outs.count, COMB_MAX_OUTPUTS);
        comb_outputs_close(&outs);
    }
    unlink(good);
}

int main(void)
{
    test_tmp_init("outsel");
    test_parse();
    test_open_default();
    test_routing();
    test_only_selected_ports();
    test_open_errors();
    test_tmp_done();
    return check_finish("test_output_selector");
}
