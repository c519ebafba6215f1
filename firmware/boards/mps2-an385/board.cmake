# ARM MPS2 with the AN385 FPGA image: Cortex-M3 at 25 MHz. The MPS2 boards
# share their sources (boards/mps2, comb/mps2.h). Runs in QEMU:
#   qemu-system-arm -M mps2-an385 -display none -monitor none \
#     -semihosting-config enable=on,target=native -serial file:out.bin -kernel hello.elf
set(mps2 ${CMAKE_CURRENT_LIST_DIR}/../mps2)
comb_add_board(mps2-an385
  CPU_FLAGS -mthumb -mcpu=cortex-m3
  LINKER_SCRIPT ${mps2}/mps2.ld
  INCLUDE_DIRS ${mps2}/include
  SOURCES ${mps2}/mps2_board.c ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_MPS2_IRQ_BLOCKS=2 COMB_BOARD_TIMER_IRQ=9 COMB_BOARD_SWI_IRQ=20
  FEATURES semihosting timer swi mps2 ram-64k)
