# nRF52840-DK (PCA10056): nRF52840 (Cortex-M4F, hard-float ABI) at 64 MHz,
# 1 MiB flash, 256 KiB RAM; trace over SWO (P1.00) in NRZ mode at
# COMB_SWO_BAUD from the 32 MHz trace clock. A hardware board: built, never
# run in CI (README.md here for wiring and use).
set(COMB_SWO_BAUD 2000000 CACHE STRING "SWO bit rate of the hardware boards (NRZ, 8N1)")
comb_add_board(nrf52840-dk
  CPU_FLAGS -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/nrf52840-dk.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c ${CMAKE_CURRENT_LIST_DIR}/../common/swo_board.c
          ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_SWO_TRACECLK_HZ=32000000 COMB_SWO_BAUD=${COMB_SWO_BAUD} COMB_BOARD_SWI_IRQ=20
  FEATURES swi ram-64k
  TRANSPORT swo)
