# ARM MPS2 with the AN500 FPGA image: Cortex-M7 with double-precision FPU
# (hard-float ABI) at 25 MHz; peripherals and code/data RAMs as AN385
# (boards/mps2; only the unused PSRAM moves, to 0x60000000).
#   qemu-system-arm -M mps2-an500 ... (as mps2-an385)
set(mps2 ${CMAKE_CURRENT_LIST_DIR}/../mps2)
comb_add_board(mps2-an500
  CPU_FLAGS -mthumb -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard
  LINKER_SCRIPT ${mps2}/mps2.ld
  INCLUDE_DIRS ${mps2}/include
  SOURCES ${mps2}/mps2_board.c ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_MPS2_IRQ_BLOCKS=2 COMB_BOARD_TIMER_IRQ=9 COMB_BOARD_SWI_IRQ=20
  FEATURES semihosting timer swi mps2 ram-64k)
