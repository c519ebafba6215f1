/*
 * Cortex-M port: system registers, handler names, helpers shared by boards.
 * ARMv6-M (M0/M0+), ARMv7-M (M3/M4/M7), ARMv8-M Baseline and Mainline (M23/M33).
 */
#ifndef COMB_CORTEX_M_H
#define COMB_CORTEX_M_H

#include <stdint.h>

/* Mainline = has CFSR/HFSR/MMFAR/BFAR, configurable fault handlers, LDREX/STREX. */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__) || \
    defined(__ARM_ARCH_8_1M_MAIN__)
#define COMB_ARM_MAINLINE 1
#else
#define COMB_ARM_MAINLINE 0
#endif

/* System Control Block */
#define COMB_SCB_ICSR  (*(volatile uint32_t *)0xE000ED04u)
#define COMB_SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define COMB_SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u) /* Mainline only */
#define COMB_SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu) /* Mainline only */
#define COMB_SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u) /* Mainline only */
#define COMB_SCB_BFAR  (*(volatile uint32_t *)0xE000ED38u) /* Mainline only */
#define COMB_SHCSR_FAULTS_ENA (7u << 16) /* MEMFAULTENA | BUSFAULTENA | USGFAULTENA */

/* SysTick, system handler priorities, NVIC (first 32 IRQs). NVIC_IPR is
 * byte-addressed here: fine on Mainline and on QEMU; real ARMv6-M cores need
 * word access to the priority registers. */
#define COMB_SYST_CSR    (*(volatile uint32_t *)0xE000E010u)
#define COMB_SYST_RVR    (*(volatile uint32_t *)0xE000E014u)
#define COMB_SYST_CVR    (*(volatile uint32_t *)0xE000E018u)
#define COMB_SCB_SHPR3   (*(volatile uint32_t *)0xE000ED20u)
#define COMB_NVIC_ISER0  (*(volatile uint32_t *)0xE000E100u)
#define COMB_NVIC_ICER0  (*(volatile uint32_t *)0xE000E180u)
#define COMB_NVIC_ISPR0  (*(volatile uint32_t *)0xE000E200u)
#define COMB_NVIC_IPR(n) (*(volatile uint8_t *)(0xE000E400u + (n)))

/* NVIC registers of any IRQ n (0-479): the word holding its bit, and that
 * bit; the priority word (byte n % 4 of it) for cores whose NVIC_IPR is
 * word-access only (ARMv6-M, ARMv8-M Baseline). STIR (Mainline only): writing
 * n pends IRQ n, with no read-modify-write. */
#define COMB_NVIC_ISER(n)     (*(volatile uint32_t *)(0xE000E100u + 4u * ((n) >> 5)))
#define COMB_NVIC_ICER(n)     (*(volatile uint32_t *)(0xE000E180u + 4u * ((n) >> 5)))
#define COMB_NVIC_ISPR(n)     (*(volatile uint32_t *)(0xE000E200u + 4u * ((n) >> 5)))
#define COMB_NVIC_ICPR(n)     (*(volatile uint32_t *)(0xE000E280u + 4u * ((n) >> 5)))
#define COMB_NVIC_BIT(n)      (1u << ((n) & 31u))
#define COMB_NVIC_IPR_WORD(n) (*(volatile uint32_t *)(0xE000E400u + ((n) & ~3u)))
#define COMB_NVIC_STIR        (*(volatile uint32_t *)0xE000EF00u)
/* SysTick control bits and the SysTick priority byte of SHPR3 (bits 31:24). */
#define COMB_SYST_CSR_ENABLE    1u
#define COMB_SYST_CSR_TICKINT   2u
#define COMB_SYST_CSR_CLKSOURCE 4u /* 1: the processor clock */
#define COMB_SHPR3_SYSTICK_SHIFT 24u

/* Semihosting SYS_EXIT (needs a debugger or QEMU -semihosting-config enable=on;
 * on a bare board without one the BKPT faults): status 0 ->
 * ADP_Stopped_ApplicationExit (QEMU exits 0), else ADP_Stopped_RunTimeErrorUnknown
 * (QEMU exits 1). */
_Noreturn void comb_semihost_exit(int status);

/* Exception handlers (port/cortex-m/exceptions.c). The fault handlers print
 * the fault on port 1 (stderr), flush, and call comb_port_exit(1). All others
 * are weak aliases of Default_Handler (reported as "unexpected exception"):
 * define a function of the same name to handle one. */
void Reset_Handler(void);
void NMI_Handler(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SVC_Handler(void);
void DebugMon_Handler(void);
void PendSV_Handler(void);
void SysTick_Handler(void);
void Default_Handler(void);

/* External interrupt n is IRQn_Handler. Lists in blocks of 16, for vector
 * tables (boards) and declarations: COMB_IRQ_BLOCK_k(X) calls X(n) for
 * n = 16k ... 16k+15. */
#define COMB_IRQ_BLOCK_0(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define COMB_IRQ_BLOCK_1(X) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31)
#define COMB_IRQ_BLOCK_2(X) X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47)
#define COMB_IRQ_BLOCK_3(X) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63)
#define COMB_IRQ_BLOCK_4(X) X(64) X(65) X(66) X(67) X(68) X(69) X(70) X(71) X(72) X(73) X(74) X(75) X(76) X(77) X(78) X(79)
#define COMB_IRQ_BLOCK_5(X) X(80) X(81) X(82) X(83) X(84) X(85) X(86) X(87) X(88) X(89) X(90) X(91) X(92) X(93) X(94) X(95)
#define COMB_IRQ_BLOCK_6(X) X(96) X(97) X(98) X(99) X(100) X(101) X(102) X(103) X(104) X(105) X(106) X(107) X(108) X(109) X(110) X(111)
#define COMB_IRQ_BLOCK_7(X) X(112) X(113) X(114) X(115) X(116) X(117) X(118) X(119) X(120) X(121) X(122) X(123) X(124) X(125) X(126) X(127)
#define COMB_IRQ_BLOCK_8(X) X(128) X(129) X(130) X(131) X(132) X(133) X(134) X(135) X(136) X(137) X(138) X(139) X(140) X(141) X(142) X(143)
#define COMB_IRQ_BLOCK_9(X) X(144) X(145) X(146) X(147) X(148) X(149) X(150) X(151) X(152) X(153) X(154) X(155) X(156) X(157) X(158) X(159)
#define COMB_IRQ_BLOCK_10(X) X(160) X(161) X(162) X(163) X(164) X(165) X(166) X(167) X(168) X(169) X(170) X(171) X(172) X(173) X(174) X(175)
#define COMB_IRQ_BLOCK_11(X) X(176) X(177) X(178) X(179) X(180) X(181) X(182) X(183) X(184) X(185) X(186) X(187) X(188) X(189) X(190) X(191)
#define COMB_IRQ_BLOCK_12(X) X(192) X(193) X(194) X(195) X(196) X(197) X(198) X(199) X(200) X(201) X(202) X(203) X(204) X(205) X(206) X(207)
#define COMB_IRQ_BLOCK_13(X) X(208) X(209) X(210) X(211) X(212) X(213) X(214) X(215) X(216) X(217) X(218) X(219) X(220) X(221) X(222) X(223)
#define COMB_IRQ_BLOCK_14(X) X(224) X(225) X(226) X(227) X(228) X(229) X(230) X(231) X(232) X(233) X(234) X(235) X(236) X(237) X(238) X(239)

#define COMB_IRQ_DECLARE(n) void IRQ##n##_Handler(void);
#define COMB_IRQ_ALL(X)                                                                         \
    COMB_IRQ_BLOCK_0(X) COMB_IRQ_BLOCK_1(X) COMB_IRQ_BLOCK_2(X) COMB_IRQ_BLOCK_3(X)             \
    COMB_IRQ_BLOCK_4(X) COMB_IRQ_BLOCK_5(X) COMB_IRQ_BLOCK_6(X) COMB_IRQ_BLOCK_7(X)             \
    COMB_IRQ_BLOCK_8(X) COMB_IRQ_BLOCK_9(X) COMB_IRQ_BLOCK_10(X) COMB_IRQ_BLOCK_11(X)           \
    COMB_IRQ_BLOCK_12(X) COMB_IRQ_BLOCK_13(X) COMB_IRQ_BLOCK_14(X)
COMB_IRQ_ALL(COMB_IRQ_DECLARE)

/* A vector table entry: the initial stack pointer or a handler. */
typedef union {
    void (*handler)(void);
    const void *stack;
} comb_vector_t;

#endif /* COMB_CORTEX_M_H */
