/*
 * ITM/SWO setup (firmware/src/swo_setup.c) against the simulated trace
 * registers (comb/swo_sim.h): the prescaler and its errors, the exact ordered
 * register writes of comb_swo_init (built with COMB_SWO_STM32=1; the ITM and
 * Cortex-M7 DWT unlocks), the bounded ITM_TCR.BUSY wait and its error,
 * re-programming after a clock change (flush first, then set_clock), the port
 * mask and sync settings before and after init, and panic.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "comb/host_port.h"
#include "comb/log.h"
#include "comb/swo.h"
#include "comb/swo_sim.h"

static void fresh(void)
{
    comb_host_reset(); /* also comb_transport_reset: the SWO transport's */
    comb_swo_sim_reset();
}

/* ---- prescaler ---------------------------------------------------------- */

static void test_prescaler(void)
{
    static const struct {
        uint32_t clk, baud;
        comb_swo_status want;
        uint32_t acpr;
    } cases[] = {
        {72000000u, 2000000u, COMB_SWO_OK, 35u},      /* blue pill default */
        {72000000u, 2250000u, COMB_SWO_OK, 31u},      /* BMP's rate (itm-protocol.md 12) */
        {168000000u, 2000000u, COMB_SWO_OK, 83u},     /* NUCLEO-F429ZI */
        {32000000u, 2000000u, COMB_SWO_OK, 15u},      /* nRF52 trace clock */
        {72000000u, 115200u, COMB_SWO_OK, 624u},      /* exact */
        {72000000u, 2100000u, COMB_SWO_OK, 33u},      /* 34.29 rounds to 34: 2.12 Mbaud, 0.8 % */
        {8000000u, 9600u, COMB_SWO_OK, 832u},         /* 833.3 rounds down */
        {72000000u, 2117647u, COMB_SWO_OK, 33u},      /* 34.0000x */
        {72000000u, 2181818u, COMB_SWO_OK, 32u},      /* 33.0000x */
        {72000000u, 72000000u, COMB_SWO_OK, 0u},      /* divide by 1 */
        {72000000u, 74000000u, COMB_SWO_OK, 0u},      /* 2.7 % fast: still capturable */
        {72000000u, 75000000u, COMB_SWO_ERR_TOO_FAST, 0u},  /* 4 % */
        {72000000u, 200000000u, COMB_SWO_ERR_TOO_FAST, 0u}, /* rounds to 0 */
        {72000000u, 50000000u, COMB_SWO_ERR_INEXACT, 0u},   /* best is 72/2 = 36 M, 28 % off */
        {72000000u, 30000000u, COMB_SWO_ERR_INEXACT, 0u},   /* 36 M or 24 M, 20 % off */
        {72000000u, 2450000u, COMB_SWO_OK, 28u},      /* 29.39: 72/29 = 2.483 M beats 72/30 = 2.4 M */
        {20490000u, 1000000u, COMB_SWO_OK, 20u},      /* 20.49: /21 is 2.43 % off, /20 2.45 %: not round() */
        {8192000u, 1000u, COMB_SWO_OK, 8191u},        /* the largest prescaler */
        {72000000u, 8700u, COMB_SWO_OK, 8191u},       /* 8275.9 clamps to 8192: 1 % fast */
        {72000000u, 8500u, COMB_SWO_ERR_TOO_SLOW, 0u},  /* 8470.6 clamps to 8192: 3.4 % fast */
        {0xFFFFFFFFu, 1u, COMB_SWO_ERR_TOO_SLOW, 0u},
        {0xFFFFFFFFu, 0xFFFFFFFFu, COMB_SWO_OK, 0u},  /* no overflow in the arithmetic */
        {0u, 2000000u, COMB_SWO_ERR_ZERO, 0u},
        {72000000u, 0u, COMB_SWO_ERR_ZERO, 0u},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t acpr = 0xDEADu;
        comb_swo_status st = comb_swo_prescaler(cases[i].clk, cases[i].baud, &acpr);
        CHECK_EQ_U64(st, cases[i].want);
        CHECK_EQ_U64(acpr, cases[i].want == COMB_SWO_OK ? cases[i].acpr : 0xDEADu); /* untouched on error */
        if (st != cases[i].want)
            fprintf(stderr, "  case %u: %u Hz, %u baud\n", i, cases[i].clk, cases[i].baud);
    }
    /* Every accepted rate is within 3 % of the request, and no other
     * divisor's rate is closer to it: the neighbours of the chosen one are
     * no better (the rate error is unimodal in the divisor). */
    unsigned accepted = 0;
    for (uint32_t baud = 9600u; baud <= 80000000u; baud += baud / 7u + 1u) {
        uint32_t acpr;
        if (comb_swo_prescaler(72000000u, baud, &acpr) != COMB_SWO_OK)
            continue;
        accepted++;
        double d = acpr + 1.0, err = fabs(72e6 / d - baud);
        CHECK(err <= 0.03 * baud + 1e-6);
        if (d > 1.0)
            CHECK(err <= fabs(72e6 / (d - 1.0) - baud) + 1e-6);
        if (d < 8192.0)
            CHECK(err <= fabs(72e6 / (d + 1.0) - baud) + 1e-6);
    }
    CHECK(accepted > 30u);
}

/* ---- comb_swo_init ------------------------------------------------------ */

static bool writes_equal(const comb_swo_sim_write *want, size_t n)
{
    size_t got_n;
    const comb_swo_sim_write *got = comb_swo_sim_writes(&got_n);
    bool same = got_n == n;
    for (size_t i = 0; same && i < n; i++)
        same = got[i].addr == want[i].addr && got[i].value == want[i].value;
    if (!same) {
        fprintf(stderr, "  writes (%zu):\n", got_n);
        for (size_t i = 0; i < got_n; i++)
            fprintf(stderr, "    %08x <- %08x\n", got[i].addr, got[i].value);
        fprintf(stderr, "  want (%zu):\n", n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "    %08x <- %08x\n", want[i].addr, want[i].value);
    }
    return same;
}

/* Index of the first write to `addr`, or -1. */
static int first_write(uint32_t addr)
{
    size_t n;
    const comb_swo_sim_write *w = comb_swo_sim_writes(&n);
    for (size_t i = 0; i < n; i++)
        if (w[i].addr == addr)
            return (int)i;
    return -1;
}

static void test_init_sequence(void)
{
    fresh();
    /* What a debugger or a previous run may have left: vector catch on hard
     * faults, a synchronous 4-bit trace mode, DWT's comparator count and a
     * CYCCNT[28] tap. */
    comb_swo_sim_set(COMB_REG_DEMCR, 0x00000400u);
    comb_swo_sim_set(COMB_REG_DBGMCU_CR, 0x000000C0u);
    comb_swo_sim_set(COMB_REG_DWT_CTRL, 0x40000C00u);

    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);

    static const comb_swo_sim_write want[] = {
        {COMB_REG_DEMCR, 0x01000400u},       /* TRCENA, VC_HARDERR kept */
        {COMB_REG_DBGMCU_CR, 0x00000027u},   /* TRACE_IOEN, async, sleep/stop/standby */
        {COMB_REG_ITM_LAR, 0xC5ACCE55u},
        {COMB_REG_DWT_LAR, 0xC5ACCE55u},     /* Cortex-M7: DWT writes ignored until unlocked */
        {COMB_REG_ITM_TCR, 0u},              /* ITM off while the port changes */
        {COMB_REG_TPIU_CSPSR, 1u},
        {COMB_REG_TPIU_ACPR, 35u},           /* 72 MHz / 36 = 2 Mbaud */
        {COMB_REG_TPIU_SPPR, 2u},            /* NRZ */
        {COMB_REG_TPIU_FFCR, 0x100u},        /* formatter bypassed */
        {COMB_REG_DWT_CTRL, 0x40000401u},    /* CYCCNTENA, SYNCTAP = CYCCNT[24] */
        {COMB_REG_ITM_TPR, 0u},
        {COMB_REG_ITM_TER, 0xFFFFFFFFu},
        {COMB_REG_ITM_TCR, 0x00010005u},     /* TraceBusID 1, SYNCENA, ITMENA */
        {COMB_REG_DWT_CYCCNT, 0xFFFFFFFFu},  /* wraps at once: a sync packet */
    };
    CHECK(writes_equal(want, sizeof want / sizeof want[0]));

    /* The order rules by themselves (what the exact list above implies). */
    int trcena = first_write(COMB_REG_DEMCR), lar = first_write(COMB_REG_ITM_LAR);
    int dwt_lar = first_write(COMB_REG_DWT_LAR);
    CHECK(trcena == 0);
    CHECK(lar >= 0 && lar < first_write(COMB_REG_ITM_TCR));
    CHECK(dwt_lar > trcena && dwt_lar < first_write(COMB_REG_DWT_CTRL) && dwt_lar < first_write(COMB_REG_DWT_CYCCNT));
    CHECK(first_write(COMB_REG_TPIU_ACPR) > trcena && first_write(COMB_REG_DWT_CTRL) > trcena);

    /* ...and they took effect: the simulation ignores writes that come
     * before TRCENA or, for ITM_TCR/TER/TPR and the DWT, before the unlock. */
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_DWT_CTRL), 0x40000401u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TCR), 0x00010005u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TER), 0xFFFFFFFFu);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_TPIU_ACPR), 35u);
    CHECK_EQ_U64(comb_transport_port_mask, 0xFFFFFFFFu);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 800u * 36u); /* 800 bit times of 36 cycles */
}

static void test_init_errors(void)
{
    static const struct {
        uint32_t hz, baud;
        comb_swo_status want;
    } bad[] = {
        {72000000u, 0u, COMB_SWO_ERR_ZERO},
        {0u, 2000000u, COMB_SWO_ERR_ZERO},
        {72000000u, 100000000u, COMB_SWO_ERR_TOO_FAST},
        {72000000u, 1000u, COMB_SWO_ERR_TOO_SLOW},
        {72000000u, 30000000u, COMB_SWO_ERR_INEXACT},
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fresh();
        CHECK_EQ_U64(comb_swo_init(bad[i].hz, bad[i].baud), bad[i].want);
        CHECK_EQ_U64(comb_swo_sim_accesses(), 0u); /* not one register touched */
        CHECK_EQ_U64(comb_transport_port_mask, 0u);
        CHECK_EQ_U64(comb_swo_wait_cycles(), 0u);
    }

    /* No cycle counter: only TRCENA was written, nothing is enabled. */
    fresh();
    comb_swo_sim_set(COMB_REG_DWT_CTRL, 1u << 25);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_ERR_NO_CYCCNT);
    static const comb_swo_sim_write only_trcena[] = {{COMB_REG_DEMCR, 0x01000000u}};
    CHECK(writes_equal(only_trcena, 1));
    CHECK_EQ_U64(comb_transport_port_mask, 0u);
}

/* A previous run still sending: the ITM is turned off and drained before the
 * TPIU changes; an ITM that never goes idle costs a bounded number of polls
 * and is an error that leaves the ITM off. */
static void test_init_busy(void)
{
    fresh();
    comb_swo_sim_tcr_busy(5u);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);
    size_t n;
    const comb_swo_sim_write *w = comb_swo_sim_writes(&n);
    CHECK(n == 14u && w[4].addr == COMB_REG_ITM_TCR && w[5].addr == COMB_REG_TPIU_CSPSR);
    /* 8 accesses up to ITM_TCR = 0 (DEMCR, DWT_CTRL and DBGMCU reads and
     * writes, the two LARs), 6 TCR reads (5 busy, 1 idle), then the 9 other
     * writes */
    CHECK_EQ_U64(comb_swo_sim_accesses(), 8u + 6u + 9u);

    /* Busy for exactly the bound: the last poll finds it idle. */
    fresh();
    comb_swo_sim_tcr_busy((1u << 20) - 1u);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);

    fresh();
    comb_swo_sim_tcr_busy(COMB_SWO_SIM_FOREVER);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_ERR_BUSY);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 8u + (1u << 20)); /* BUSY_POLLS reads, then nothing */
    w = comb_swo_sim_writes(&n);
    CHECK(n == 5u && w[4].addr == COMB_REG_ITM_TCR && w[4].value == 0u); /* the last write: ITM off */
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TCR), 0u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_TPIU_SPPR), 0u); /* TPIU untouched */
    CHECK_EQ_U64(comb_transport_port_mask, 0u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 0u);
    CHECK_EQ_U64(comb_swo_set_clock(72000000u, 2000000u), COMB_SWO_ERR_NOT_INIT);
    /* once the ITM drains, a second call succeeds */
    comb_swo_sim_tcr_busy(0u);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TCR), 0x00010005u);
    CHECK_EQ_U64(comb_transport_port_mask, 0xFFFFFFFFu);

    /* Up, then a second init that times out: the ITM is off and so is the
     * mirror, so a packet costs nothing. */
    comb_swo_sim_tcr_busy(COMB_SWO_SIM_FOREVER);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_ERR_BUSY);
    CHECK_EQ_U64(comb_transport_port_mask, 0u);
    comb_swo_sim_log_clear();
    CHECK(!comb_transport_enabled(0));
    comb_log_u8(0, 0x41);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
}

/* ---- after a clock change ------------------------------------------------ */

/* The documented order (comb/swo.h): flush at the old clock, change the
 * clock, then comb_swo_set_clock. */
static void test_set_clock(void)
{
    fresh();
    /* before init: an error, even for a valid rate, and nothing touched */
    CHECK_EQ_U64(comb_swo_set_clock(8000000u, 2000000u), COMB_SWO_ERR_NOT_INIT);
    CHECK_EQ_U64(comb_swo_set_clock(8000000u, 0u), COMB_SWO_ERR_NOT_INIT);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 0u);

    CHECK_EQ_U64(comb_swo_init(8000000u, 2000000u), COMB_SWO_OK); /* e.g. HSI at reset */
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_TPIU_ACPR), 3u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 800u * 4u);

    /* 1. flush before the change: the old clock's bound (800 bit times of 4
     * cycles; CYCCNT advances 10 per read, one CYCCNT read per TCR poll) */
    comb_swo_sim_log_clear();
    comb_swo_sim_tcr_busy(COMB_SWO_SIM_FOREVER);
    CHECK(!comb_transport_flush());
    uint64_t a = comb_swo_sim_accesses();
    CHECK(a >= 2u * (800u * 4u / 10u) && a <= 2u * (800u * 4u / 10u) + 4u);
    comb_swo_sim_tcr_busy(3u);
    CHECK(comb_transport_flush());

    /* 2. the clock changes (PLL on), 3. set_clock: TPIU_ACPR and nothing
     * else, no flush of its own (not one ITM_TCR read) */
    comb_swo_sim_log_clear();
    comb_swo_sim_tcr_busy(COMB_SWO_SIM_FOREVER);
    CHECK_EQ_U64(comb_swo_set_clock(72000000u, 2000000u), COMB_SWO_OK);
    static const comb_swo_sim_write want[] = {{COMB_REG_TPIU_ACPR, 35u}};
    CHECK(writes_equal(want, 1));
    CHECK_EQ_U64(comb_swo_sim_accesses(), 1u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_TPIU_ACPR), 35u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 800u * 36u);
    /* the next flush waits the new clock's bound */
    comb_swo_sim_log_clear();
    CHECK(!comb_transport_flush());
    a = comb_swo_sim_accesses();
    CHECK(a >= 2u * (800u * 36u / 10u) && a <= 2u * (800u * 36u / 10u) + 4u);
    comb_swo_sim_tcr_busy(0u);

    /* an impossible rate for the new clock: error, nothing written, old
     * settings kept */
    comb_swo_sim_log_clear();
    CHECK_EQ_U64(comb_swo_set_clock(72000000u, 40000000u), COMB_SWO_ERR_INEXACT);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_TPIU_ACPR), 35u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 800u * 36u);
}

/* ---- ports and sync -------------------------------------------------------- */

static void test_ports_and_sync(void)
{
    /* before init: remembered, applied by init */
    fresh();
    comb_transport_init(0x80000003u, 0u);
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
    CHECK_EQ_U64(comb_transport_port_mask, 0u); /* nothing can be sent yet */
    comb_swo_sim_set(COMB_REG_DWT_CTRL, 0x40000000u);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TER), 0x80000003u);
    CHECK_EQ_U64(comb_transport_port_mask, 0x80000003u);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_DWT_CTRL), 0x40000001u); /* CYCCNT on, no sync tap */

    /* after init: TER, the mirror and the tap at once */
    comb_swo_sim_log_clear();
    comb_transport_init(0x0000FFFFu, COMB_TRANSPORT_SYNC_DEFAULT);
    static const comb_swo_sim_write want[] = {{COMB_REG_DWT_CTRL, 0x40000401u}, {COMB_REG_ITM_TER, 0x0000FFFFu}};
    CHECK(writes_equal(want, 2));
    CHECK_EQ_U64(comb_transport_port_mask, 0x0000FFFFu);
    CHECK(comb_transport_enabled(15) && !comb_transport_enabled(16));
}

static void test_panic_and_reset(void)
{
    fresh();
    comb_transport_init(1u << 31, 1u);
    comb_transport_panic(); /* before init: remembered */
    CHECK_EQ_U64(comb_swo_sim_accesses(), 0u);
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TER), 0x80000002u);

    comb_transport_init(1u << 31, 1u);
    comb_transport_panic(); /* after init: TER and mirror */
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TER), 0x80000002u);
    CHECK_EQ_U64(comb_transport_port_mask, 0x80000002u);

    comb_transport_reset();
    CHECK_EQ_U64(comb_transport_port_mask, 0u);
    CHECK_EQ_U64(comb_swo_wait_cycles(), 0u);
    CHECK_EQ_U64(comb_transport_dropped(), 0u);
    comb_swo_sim_reset();
    CHECK_EQ_U64(comb_swo_init(72000000u, 2000000u), COMB_SWO_OK);
    CHECK_EQ_U64(comb_swo_sim_get(COMB_REG_ITM_TER), 0xFFFFFFFFu); /* defaults again */
}

int main(void)
{
    test_prescaler();
    test_init_sequence();
    test_init_errors();
    test_init_busy();
    test_set_clock();
    test_ports_and_sync();
    test_panic_and_reset();
    return check_finish("test_swo_setup");
}
