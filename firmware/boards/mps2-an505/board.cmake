# ARM MPS2 with the AN505 FPGA image: Cortex-M33 (ARMv8-M Mainline, TrustZone,
# single-precision FPU, hard-float ABI) at 20 MHz. QEMU boots it in Secure
# state and comb stays there: its own linker script (Secure aliases of the
# SSRAMs), the Secure aliases of UART0 and the IoTKit timers (comb/mps2.h,
# COMB_MPS2_AN505), 32 + 92 IRQs (timer 1 is IRQ 4; 27 is a reserved line).
#   qemu-system-arm -M mps2-an505 ... (as mps2-an385)
set(mps2 ${CMAKE_CURRENT_LIST_DIR}/../mps2)
comb_add_board(mps2-an505
  CPU_FLAGS -mthumb -mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/mps2-an505.ld
  INCLUDE_DIRS ${mps2}/include
  SOURCES ${mps2}/mps2_board.c ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_MPS2_AN505=1 COMB_MPS2_IRQ_BLOCKS=8 COMB_BOARD_TIMER_IRQ=4 COMB_BOARD_SWI_IRQ=27
  FEATURES semihosting timer swi mps2 ram-64k)
