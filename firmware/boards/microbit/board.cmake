# BBC micro:bit v1: nRF51822, Cortex-M0 (ARMv6-M: the PRIMASK CAS and
# allocator paths) at 16 MHz, 256 KiB flash, 16 KiB RAM. Runs in QEMU:
#   qemu-system-arm -M microbit -display none -monitor none \
#     -semihosting-config enable=on,target=native -serial file:out.bin -kernel hello.elf
comb_add_board(microbit
  CPU_FLAGS -mthumb -mcpu=cortex-m0
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/microbit.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_BOARD_TIMER_IRQ=9 COMB_BOARD_SWI_IRQ=20
  FEATURES semihosting timer swi)
