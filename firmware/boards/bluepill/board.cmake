# "Blue pill": STM32F103C8 (Cortex-M3) at 72 MHz from its 8 MHz crystal, 64 KiB
# flash, 20 KiB RAM; trace over SWO (PB3) in NRZ mode at COMB_SWO_BAUD. A
# hardware board: built, never run in CI (README.md here for wiring and use).
set(COMB_SWO_BAUD 2000000 CACHE STRING "SWO bit rate of the hardware boards (NRZ, 8N1)")
comb_add_board(bluepill
  CPU_FLAGS -mthumb -mcpu=cortex-m3
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/bluepill.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c ${CMAKE_CURRENT_LIST_DIR}/../common/swo_board.c
          ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_SWO_STM32=1 COMB_SWO_BAUD=${COMB_SWO_BAUD} COMB_BOARD_SWI_IRQ=22
  FEATURES swi
  TRANSPORT swo)
