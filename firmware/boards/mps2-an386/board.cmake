# ARM MPS2 with the AN386 FPGA image: Cortex-M4 with single-precision FPU
# (hard-float ABI) at 25 MHz; memory map and peripherals as AN385 (boards/mps2).
#   qemu-system-arm -M mps2-an386 ... (as mps2-an385)
set(mps2 ${CMAKE_CURRENT_LIST_DIR}/../mps2)
comb_add_board(mps2-an386
  CPU_FLAGS -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
  LINKER_SCRIPT ${mps2}/mps2.ld
  INCLUDE_DIRS ${mps2}/include
  SOURCES ${mps2}/mps2_board.c ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_MPS2_IRQ_BLOCKS=2 COMB_BOARD_TIMER_IRQ=9 COMB_BOARD_SWI_IRQ=20
  FEATURES semihosting timer swi mps2 ram-64k)
