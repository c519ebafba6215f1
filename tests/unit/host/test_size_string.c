/* Drone size strings (drone-compat.md 5.2): parse and format. */
#include <string.h>

#include "check.h"
#include "comb/size_string.h"

static int parse(const char *s, uint32_t *v)
{
    char err[96];
    return comb_size_parse(s, strlen(s), v, err, sizeof err);
}

static void ok(const char *s, uint32_t want)
{
    uint32_t v = 0xDEADBEEF;
    int rc = parse(s, &v);
    CHECK(rc == 0);
    if (rc)
        fprintf(stderr, "  parsing \"%s\" failed\n", s);
    CHECK_EQ_U64(v, want);
}

static void bad(const char *s)
{
    uint32_t v;
    char err[96] = "";
    int rc = comb_size_parse(s, strlen(s), &v, err, sizeof err);
    CHECK(rc == -1);
    if (rc != -1)
        fprintf(stderr, "  \"%s\" was accepted as %u\n", s, (unsigned)v);
    CHECK(err[0] != 0);
}

static void fmt(uint32_t v, const char *want)
{
    char buf[COMB_SIZE_STRING_MAX];
    CHECK(strcmp(comb_size_format(v, buf), want) == 0);
    if (strcmp(buf, want))
        fprintf(stderr, "  format(%u) = \"%s\", want \"%s\"\n", (unsigned)v, buf, want);
}

int main(void)
{
    ok("0", 0);
    ok("4", 4);
    ok("10240", 10240);
    ok("10K", 10240);
    ok("1M", 1048576);
    ok("0x10", 16);
    ok("0X1f", 31);
    ok("0x10K", 16384);
    ok("010", 8);       /* leading zero: octal */
    ok("010K", 8192);
    ok("0K", 0);
    ok("4294967295", 4294967295u);
    ok("4194303K", 4194303u * 1024u);
    ok("4095M", 4095u * 1048576u);
    ok("0xFFFFFFFF", 0xFFFFFFFFu);

    bad("");
    bad("K");
    bad("M");
    bad("0x");
    bad("08");          /* octal has no 8 */
    bad("10k");         /* lower-case suffix */
    bad("10m");
    bad("10KB");
    bad("1.5K");
    bad("-1");
    bad("+1");
    bad(" 1");
    bad("1 ");
    bad("1_000");
    bad("4294967296");
    bad("4194304K");
    bad("4096M");
    bad("0x100000000");
    bad("99999999999999999999999");
    bad("0xG");

    fmt(0, "0");
    fmt(1, "1");
    fmt(4, "4");
    fmt(1000, "1000");
    fmt(1024, "1K");
    fmt(10240, "10K");
    fmt(10236, "10236");
    fmt(1048576, "1M");
    fmt(3 * 1048576 + 1024, "3073K");
    fmt(4294967295u, "4294967295");
    fmt(4095u * 1048576u, "4095M");

    /* round trip for a spread of values */
    for (uint64_t v = 0; v <= 0xFFFFFFFFu; v = v * 3 + 1024) {
        char buf[COMB_SIZE_STRING_MAX];
        uint32_t back = 1;
        CHECK(parse(comb_size_format((uint32_t)v, buf), &back) == 0);
        CHECK_EQ_U64(back, v);
    }
    return check_finish("test_size_string");
}
