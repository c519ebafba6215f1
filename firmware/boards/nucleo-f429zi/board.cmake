# NUCLEO-F429ZI: STM32F429ZI (Cortex-M4F, hard-float ABI) at 168 MHz from the
# ST-LINK's 8 MHz clock, 2 MiB flash, 192 KiB RAM; trace over SWO (PB3) in NRZ
# mode at COMB_SWO_BAUD. A hardware board: built, never run in CI (README.md
# here for wiring and use).
set(COMB_SWO_BAUD 2000000 CACHE STRING "SWO bit rate of the hardware boards (NRZ, 8N1)")
comb_add_board(nucleo-f429zi
  CPU_FLAGS -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
  LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/nucleo-f429zi.ld
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c ${CMAKE_CURRENT_LIST_DIR}/../common/swo_board.c
          ${CMAKE_CURRENT_LIST_DIR}/../common/board_irq.c
  DEFINITIONS COMB_SWO_STM32=1 COMB_SWO_BAUD=${COMB_SWO_BAUD} COMB_BOARD_SWI_IRQ=22
  FEATURES swi ram-64k
  TRANSPORT swo)
