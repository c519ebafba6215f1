# ARM MPS2 with the AN385 FPGA image: Cortex-M3 at 25 MHz. Runs in QEMU:
#   qemu-system-arm -M mps2-an385 -display none -monitor none \
#     -semihosting-config enable=on,target=native -serial file:out.bin -kernel hello.elf
comb_add_board(mps2-an385
  CPU_FLAGS -mthumb -mcpu=cortex-m3
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/mps2-an385.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
