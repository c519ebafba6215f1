/*
 * The ITM/SWO transport (src/itm_swo.c, src/swo_setup.c): comb/transport.h on
 * the ITM stimulus ports, and the setup that puts the SWO pin in NRZ (UART)
 * mode from the firmware itself, so a USB-UART adapter on SWO is all the host
 * needs: no debugger script. The log facade, heap and scheduler tracers run on
 * it unchanged; an image links either this transport or the UART one
 * (comb_add_board / comb_firmware TRANSPORT, docs/integration.md).
 *
 * ARMv7-M and ARMv8-M Mainline only (Cortex-M3/M4/M7/M33): ARMv6-M has no ITM,
 * so Cortex-M0/M0+ images use the UART transport.
 *
 * Typical use, once the clocks run (what the hardware boards' comb_board_init
 * does):
 *
 *     if (comb_swo_init(72000000u, 2000000u) != COMB_SWO_OK)   core clock, baud
 *         ... nothing will be traced (every port stays disabled)
 *
 * Beyond comb/transport.h, this transport implements:
 *   comb_transport_init(mask, sync)  ports = ITM_TER and the RAM mirror below;
 *                                    sync 0 = no periodic sync packets, any
 *                                    other value = one every 2^24 core cycles
 *                                    (DWT_CTRL.SYNCTAP = CYCCNT[24]). Callable
 *                                    before comb_swo_init: kept and applied by it.
 *   comb_transport_panic()           port 1 (stderr) enabled; no other state
 *   comb_transport_reset()           power-on state (host tests)
 *   comb_trace_timestamp()           DWT CYCCNT (core cycles), started by
 *                                    comb_swo_init: ts_hz = core clock
 *
 * Port mask: comb_transport_port_mask is a RAM mirror of the ITM_TER bits the
 * firmware set (0 until comb_swo_init succeeds). A disabled port therefore
 * costs one load of RAM and one branch at the call site, and works from
 * unprivileged code and before trace is powered. An enabled packet first reads
 * ITM_TCR.ITMENA and ITM_TER itself (two PPB loads), so a port a debugger has
 * turned off since costs no wait and no drop. Ports a debugger turns on are not
 * seen: the firmware chooses its ports.
 *
 * Waits and drops: a packet polls its stimulus port until the FIFO takes it,
 * at most comb_swo_wait_cycles() core cycles (CYCCNT): the time 16 five-byte
 * packets take on the line, 800 bit times of ceil(core_hz / baud) cycles
 * (28800 cycles = 0.4 ms at 72 MHz and 2 Mbaud), plus one last try. Then it
 * is counted as dropped (comb_transport_dropped) and stored anyway into the
 * full FIFO, so the ITM itself discards it and puts an overflow packet (0x70)
 * on the wire, as the UART transport does after a drop. Should the FIFO free up in the few
 * cycles between the last poll and that store, the packet goes out and the
 * count is one too high. If CYCCNT is stopped, the poll count caps the wait
 * (wait_cycles / 4 polls; each poll takes more than 4 cycles).
 */
#ifndef COMB_SWO_H
#define COMB_SWO_H

#include <stdint.h>

#include "comb/transport.h"

typedef enum {
    COMB_SWO_OK = 0,
    COMB_SWO_ERR_ZERO,      /* trace clock or baud rate is 0 */
    COMB_SWO_ERR_TOO_FAST,  /* > 3 % above the trace clock (the divisor is at least 1) */
    COMB_SWO_ERR_TOO_SLOW,  /* > 3 % below trace clock / 8192 (ACPR has 13 bits) */
    COMB_SWO_ERR_INEXACT,   /* in range, but the closest rate is > 3 % off */
    COMB_SWO_ERR_NO_CYCCNT, /* the DWT has no cycle counter (DWT_CTRL.NOCYCCNT) */
    COMB_SWO_ERR_BUSY,      /* the ITM never went idle (ITM_TCR.BUSY) after being turned off */
    COMB_SWO_ERR_NOT_INIT,  /* comb_swo_set_clock before a successful comb_swo_init */
} comb_swo_status;

/* The TPIU_ACPR value for `baud` from the trace clock `traceclk_hz`: the
 * divisor (1 to 8192) whose rate traceclk_hz / divisor is closest to `baud`,
 * minus 1, written to *acpr when the status is COMB_SWO_OK. NRZ capture needs the two ends within about 3 % (OpenOCD
 * refuses more), hence COMB_SWO_ERR_INEXACT. Pure function, any context. */
comb_swo_status comb_swo_prescaler(uint32_t traceclk_hz, uint32_t baud, uint32_t *acpr);

/* Program the trace hardware for ITM over SWO, NRZ at `baud`:
 *   DEMCR.TRCENA; on STM32 builds (COMB_SWO_STM32=1) DBGMCU_CR trace pins
 *   (TRACE_IOEN, asynchronous mode, kept alive in low-power modes); ITM_LAR
 *   and DWT_LAR unlock (the Cortex-M7 DWT ignores writes while locked; where
 *   there is no lock the write is ignored), ITM off (ITM_TCR = 0) and
 *   ITM_TCR.BUSY drained; TPIU: 1-bit port,
 *   ACPR, SPPR = NRZ, formatter bypassed; DWT: CYCCNT on, sync tap; ITM_TPR = 0
 *   (unprivileged code may write every port); ITM_TER = the port mask;
 *   ITM_TCR = ITMENA | SYNCENA | TraceBusID 1; CYCCNT = 0xFFFFFFFF, whose wrap
 *   a cycle later makes the ITM send a sync packet at once.
 * `core_hz` is the core clock. The TPIU divides its own input clock
 * (TRACECLKIN), which is the core clock on STM32 and most parts; a build for a
 * part where it is fixed defines COMB_SWO_TRACECLK_HZ (nRF52: 32000000, the
 * CLOCK.TRACECONFIG default). The SoC's pin routing other than DBGMCU (GPIO
 * alternate function, nRF TRACECONFIG) is the board's job.
 * Errors: the prescaler ones above, with no register touched; NO_CYCCNT with
 * only TRCENA set; BUSY when ITM_TCR.BUSY is still set after 2^20 polls: the
 * ITM is left off (ITM_TCR = 0; TRCENA, DBGMCU_CR and the unlocks written,
 * TPIU, DWT, ITM_TER/TPR untouched), every port disabled in the mirror, and
 * a later call may try again. After any error nothing is traced. Call from
 * thread mode before tracing starts, with no other context writing. */
comb_swo_status comb_swo_init(uint32_t core_hz, uint32_t baud);

/* Follow a core clock change. The order matters, because the TPIU divides the
 * new clock by the old prescaler from the moment the clock changes:
 *     comb_transport_flush();                  queued bytes go out at the old rate,
 *                                              within the old clock's wait bound
 *     ... change the core clock ...
 *     comb_swo_set_clock(new_core_hz, baud);   TPIU_ACPR and the wait bound for it
 * Bytes written between the clock change and this call (by any context) go
 * out at the wrong rate and are garbled on the wire. Errors: NOT_INIT before a
 * successful comb_swo_init, and those of comb_swo_prescaler; both with nothing
 * written and the old settings kept. Thread mode. CYCCNT, the timestamp,
 * changes rate with the core clock; the trace protocol has no event for that. */
comb_swo_status comb_swo_set_clock(uint32_t core_hz, uint32_t baud);

/* The current wait bound of one packet, in core cycles (0 before comb_swo_init). */
uint32_t comb_swo_wait_cycles(void);

#endif /* COMB_SWO_H */
