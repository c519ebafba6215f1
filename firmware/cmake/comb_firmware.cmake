# Helpers for the cross build of comb firmware images (firmware/CMakeLists.txt,
# cross mode). A board is a directory firmware/boards/<name>/ with board.cmake
# (calls comb_add_board), board.c and a linker script; an example is a
# directory firmware/examples/<name>/ with main.c and a CMakeLists.txt that
# calls comb_add_example.

set(COMB_FW_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

# Cortex-M port: CAS, startup, exception handlers, semihosting, mem* helpers.
set(COMB_CORTEX_M_SOURCES
  ${COMB_FW_DIR}/port/cortex-m/port.c
  ${COMB_FW_DIR}/port/cortex-m/startup.c
  ${COMB_FW_DIR}/port/cortex-m/exceptions.c
  ${COMB_FW_DIR}/port/cortex-m/semihosting.c
  ${COMB_FW_DIR}/port/cortex-m/mem.c)
# mem.c implements memset/memcpy: GCC must not turn their loops back into calls.
set_source_files_properties(${COMB_FW_DIR}/port/cortex-m/mem.c PROPERTIES
  COMPILE_OPTIONS -fno-tree-loop-distribute-patterns)

set(COMB_FW_WARNINGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes)

# comb_add_board(<name> CPU_FLAGS <flags>... LINKER_SCRIPT <file> SOURCES <files>...
#                [DEFINITIONS <defs>...])
# Creates the object library comb_board_<name>: portable sources + Cortex-M
# port + board sources, compiled for that CPU. Examples link it.
function(comb_add_board name)
  cmake_parse_arguments(B "" "LINKER_SCRIPT" "CPU_FLAGS;SOURCES;DEFINITIONS" ${ARGN})
  set(t comb_board_${name})
  add_library(${t} OBJECT ${COMB_FW_PORTABLE_SOURCES} ${COMB_CORTEX_M_SOURCES} ${B_SOURCES})
  target_include_directories(${t} PUBLIC ${COMB_FW_DIR}/include ${COMB_FW_DIR}/port/cortex-m/include)
  target_link_libraries(${t} PUBLIC comb_protocol)
  target_compile_options(${t} PUBLIC ${B_CPU_FLAGS} ${COMB_FW_WARNINGS})
  target_compile_definitions(${t} PUBLIC ${B_DEFINITIONS})
  # No C library, no crt0: the port provides startup and the few mem* calls.
  target_link_options(${t} INTERFACE ${B_CPU_FLAGS} -nostartfiles -nostdlib -Wl,--gc-sections
                      -Wl,--build-id=sha1 -T${B_LINKER_SCRIPT})
  set_property(TARGET ${t} PROPERTY COMB_LINKER_SCRIPT ${B_LINKER_SCRIPT})
endfunction()

# comb_add_example(<name> SOURCES <files>... [BOARDS <boards>...])
# One image per board (default: all of COMB_BOARDS): the default board's image
# is <bindir>/<name>.elf (target <name>), others <bindir>/<board>/<name>.elf
# (target <name>-<board>). Prints arm-none-eabi-size after linking and writes
# a map file beside the image.
function(comb_add_example name)
  cmake_parse_arguments(E "" "" "SOURCES;BOARDS" ${ARGN})
  if(NOT E_BOARDS)
    set(E_BOARDS ${COMB_BOARDS})
  endif()
  foreach(board IN LISTS E_BOARDS)
    if(NOT TARGET comb_board_${board})
      continue()
    endif()
    if(board STREQUAL COMB_DEFAULT_BOARD)
      set(t ${name})
      set(dir ${CMAKE_CURRENT_BINARY_DIR})
    else()
      set(t ${name}-${board})
      set(dir ${CMAKE_CURRENT_BINARY_DIR}/${board})
    endif()
    get_property(script TARGET comb_board_${board} PROPERTY COMB_LINKER_SCRIPT)
    add_executable(${t} ${E_SOURCES})
    target_link_libraries(${t} PRIVATE comb_board_${board} gcc)
    target_link_options(${t} PRIVATE -Wl,-Map=${dir}/${name}.map)
    set_target_properties(${t} PROPERTIES OUTPUT_NAME ${name} SUFFIX .elf
                          RUNTIME_OUTPUT_DIRECTORY ${dir} LINK_DEPENDS ${script})
    if(CMAKE_SIZE)
      add_custom_command(TARGET ${t} POST_BUILD COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${t}> VERBATIM)
    endif()
  endforeach()
endfunction()
