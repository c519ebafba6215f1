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
#                [INCLUDE_DIRS <dirs>...] [DEFINITIONS <defs>...] [FEATURES <features>...]
#                [TRANSPORT uart|swo])
# Creates the object library comb_board_<name>: portable sources + Cortex-M
# port + board sources, compiled for that CPU. Examples link it.
# TRANSPORT: the trace transport of the board's images (default uart): uart =
# src/itm_uart.c over the board's comb_port_uart_tx; swo = the ITM stimulus
# ports, set up by the board with comb_swo_init (Mainline cores only,
# comb/swo.h). Kept in the target property COMB_TRANSPORT.
# INCLUDE_DIRS: the board's public headers (default: the include/ directory
# beside the linker script); a family of boards may share one.
# FEATURES: what the board offers beyond comb/board.h, for comb_add_example
# REQUIRES (docs/firmware.md, "Boards"):
#   semihosting  comb_port_exit ends the run with its status (QEMU, debugger)
#   timer        periodic interrupt: comb_board_timer_*, COMB_BOARD_TIMER_HANDLER
#   swi          a free interrupt line to pend in software: comb_board_swi_*
#   mps2         the CMSDK peripherals of MPS2 (comb/mps2.h)
#   ram-64k      at least 64 KiB of RAM
function(comb_add_board name)
  cmake_parse_arguments(B "" "LINKER_SCRIPT;TRANSPORT" "CPU_FLAGS;SOURCES;INCLUDE_DIRS;DEFINITIONS;FEATURES" ${ARGN})
  set(t comb_board_${name})
  set(srcs ${COMB_FW_PORTABLE_SOURCES})
  if(NOT B_TRANSPORT)
    set(B_TRANSPORT uart)
  endif()
  if(B_TRANSPORT STREQUAL "swo")
    list(REMOVE_ITEM srcs ${COMB_FW_UART_SOURCES})
    list(APPEND srcs ${COMB_FW_SWO_SOURCES})
  elseif(NOT B_TRANSPORT STREQUAL "uart")
    message(FATAL_ERROR "comb_add_board(${name}): TRANSPORT is uart or swo, not '${B_TRANSPORT}'")
  endif()
  add_library(${t} OBJECT ${srcs} ${COMB_CORTEX_M_SOURCES} ${B_SOURCES})
  set_property(TARGET ${t} PROPERTY COMB_TRANSPORT ${B_TRANSPORT})
  if(NOT B_INCLUDE_DIRS)
    get_filename_component(board_dir ${B_LINKER_SCRIPT} DIRECTORY)
    set(B_INCLUDE_DIRS ${board_dir}/include)
  endif()
  target_include_directories(${t} PUBLIC ${COMB_FW_DIR}/include ${COMB_FW_DIR}/port/cortex-m/include
                             ${B_INCLUDE_DIRS})
  target_link_libraries(${t} PUBLIC comb_protocol)
  # Fat LTO objects: ordinary code for ordinary links, plus the compiler's IR
  # for images linked with LTO (comb_add_example LTO).
  target_compile_options(${t} PUBLIC ${B_CPU_FLAGS} ${COMB_FW_WARNINGS} -flto -ffat-lto-objects)
  target_compile_definitions(${t} PUBLIC ${B_DEFINITIONS})
  set_property(TARGET ${t} PROPERTY COMB_CPU_FLAGS ${B_CPU_FLAGS})
  set_property(TARGET ${t} PROPERTY COMB_BOARD_FEATURES ${B_FEATURES})
  # No C library, no crt0: the port provides startup and the few mem* calls.
  # boards/common: comb_sections.ld, which the boards' scripts INCLUDE.
  target_link_options(${t} INTERFACE ${B_CPU_FLAGS} -nostartfiles -nostdlib -Wl,--gc-sections
                      -Wl,--build-id=sha1 -L${COMB_FW_DIR}/boards/common -T${B_LINKER_SCRIPT})
  set_property(TARGET ${t} PROPERTY COMB_LINKER_SCRIPT ${B_LINKER_SCRIPT})
endfunction()

# comb_board_has(<out_var> <board> <features>...): TRUE when the board was
# added (it is in COMB_BOARDS) and offers every one of the features.
function(comb_board_has out board)
  set(ok FALSE)
  if(TARGET comb_board_${board})
    set(ok TRUE)
    get_property(have TARGET comb_board_${board} PROPERTY COMB_BOARD_FEATURES)
    foreach(f IN LISTS ARGN)
      if(NOT f IN_LIST have)
        set(ok FALSE)
      endif()
    endforeach()
  endif()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

# The Drone.toml -> C header converter (`comb heap header`), passed by the
# top-level build; empty in a cross build configured by hand.
set(COMB_HOST_TOOL "" CACHE FILEPATH "The host comb tool (converts heap layouts to C headers)")

set(COMB_HEAP_SOURCES
  ${COMB_FW_DIR}/src/heap.c
  ${COMB_FW_DIR}/src/heap_main.c
  ${COMB_FW_DIR}/src/heap_layout.c)

# comb_heap_layout_header(<out_header> LAYOUT <Drone.toml> [FALLBACK <header>])
# Adds the custom command that generates <out_header> from the layout with
# ${COMB_HOST_TOOL} heap header (cmake/heap_layout.cmake: falls back to the
# checked-in header while the tool lacks the command or is not set).
function(comb_heap_layout_header out)
  cmake_parse_arguments(L "" "LAYOUT;FALLBACK" "" ${ARGN})
  set(deps ${L_LAYOUT} ${COMB_FW_DIR}/cmake/heap_layout.cmake)
  if(COMB_HOST_TOOL)
    list(APPEND deps ${COMB_HOST_TOOL})
  endif()
  if(L_FALLBACK)
    list(APPEND deps ${L_FALLBACK})
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DTOOL=${COMB_HOST_TOOL} -DLAYOUT=${L_LAYOUT} -DOUT=${out}
            -DFALLBACK=${L_FALLBACK} -P ${COMB_FW_DIR}/cmake/heap_layout.cmake
    DEPENDS ${deps}
    COMMENT "Heap layout header from ${L_LAYOUT}"
    VERBATIM)
endfunction()

# comb_add_heap(<target> LAYOUT <Drone.toml> [FALLBACK <header>] CPU_FLAGS <flags>...
#               [DEFINITIONS <defs>...] [NEWLIB])
# Object library <target>: the pool allocator (core, main-heap API, the heaps
# of the layout) compiled for CPU_FLAGS with DEFINITIONS (COMB_HEAP_TRACE=0,
# COMB_HEAP_TRACE_CALLER=1, ...); NEWLIB adds the newlib retarget
# (src/heap_newlib.c: malloc & co. on the pools). Its generated heap_layout.h
# sits in <binary dir>/<target>/ (on the include path of what links it).
function(comb_add_heap t)
  cmake_parse_arguments(H "NEWLIB" "LAYOUT;FALLBACK" "CPU_FLAGS;DEFINITIONS" ${ARGN})
  set(gen ${CMAKE_CURRENT_BINARY_DIR}/${t})
  comb_heap_layout_header(${gen}/heap_layout.h LAYOUT ${H_LAYOUT} FALLBACK ${H_FALLBACK})
  set(srcs ${COMB_HEAP_SOURCES})
  if(H_NEWLIB)
    list(APPEND srcs ${COMB_FW_DIR}/src/heap_newlib.c)
  endif()
  add_library(${t} OBJECT ${srcs} ${gen}/heap_layout.h)
  target_include_directories(${t} PUBLIC ${gen} ${COMB_FW_DIR}/include
                             ${COMB_FW_DIR}/port/cortex-m/include)
  target_link_libraries(${t} PUBLIC comb_protocol)
  target_compile_options(${t} PRIVATE ${H_CPU_FLAGS} ${COMB_FW_WARNINGS})
  target_compile_definitions(${t} PUBLIC ${H_DEFINITIONS})
endfunction()

# comb_add_example(<name> SOURCES <files>... [BOARDS <boards>...] [REQUIRES <features>...]
#                  [HEAP_LAYOUT <Drone.toml> [HEAP_FALLBACK <header>]
#                   [HEAP_CPU_FLAGS <flags>...] [HEAP_DEFINITIONS <defs>...] [HEAP_NEWLIB]]
#                  [HEAP_WRAP [HEAP_DEFINITIONS <defs>...]] [LTO] [LINK_OPTIONS <options>...])
# One image per board (default: all of COMB_BOARDS; REQUIRES keeps the boards
# that offer every listed feature, see comb_add_board): the default board's image
# is <bindir>/<name>.elf (target <name>), others <bindir>/<board>/<name>.elf
# (target <name>-<board>). Prints arm-none-eabi-size after linking and writes
# a map file beside the image. HEAP_LAYOUT links the pool allocator with the
# heaps of that layout (comb_add_heap; compiled with the board's CPU flags
# unless HEAP_CPU_FLAGS overrides them, e.g. -mcpu=cortex-m0 on a Cortex-M3
# board to run the ARMv6-M code). HEAP_NEWLIB also retargets newlib's malloc
# & co. to the pools and links newlib. HEAP_WRAP keeps newlib's malloc and
# traces it: links newlib, src/heap_wrap.c and
# -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc. Images that
# link newlib provide its system calls (at least _sbrk for newlib's malloc).
# LTO links the image with link-time optimisation (the board's objects are
# fat LTO objects: without LTO an image gets exactly the code of a plain
# build); about 15 % smaller, see docs/size.md.
function(comb_add_example name)
  cmake_parse_arguments(E "HEAP_NEWLIB;HEAP_WRAP;LTO" "HEAP_LAYOUT;HEAP_FALLBACK"
                        "SOURCES;BOARDS;REQUIRES;HEAP_CPU_FLAGS;HEAP_DEFINITIONS;LINK_OPTIONS" ${ARGN})
  if(NOT E_BOARDS)
    set(E_BOARDS ${COMB_BOARDS})
  endif()
  foreach(board IN LISTS E_BOARDS)
    comb_board_has(ok ${board} ${E_REQUIRES})
    if(NOT ok)
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
    target_link_libraries(${t} PRIVATE comb_board_${board})
    if(E_HEAP_LAYOUT)
      set(cpu ${E_HEAP_CPU_FLAGS})
      if(NOT cpu)
        get_property(cpu TARGET comb_board_${board} PROPERTY COMB_CPU_FLAGS)
      endif()
      set(newlib "")
      if(E_HEAP_NEWLIB)
        set(newlib NEWLIB)
      endif()
      comb_add_heap(${t}_heap LAYOUT ${E_HEAP_LAYOUT} FALLBACK ${E_HEAP_FALLBACK}
                    CPU_FLAGS ${cpu} DEFINITIONS ${E_HEAP_DEFINITIONS} ${newlib})
      target_link_libraries(${t} PRIVATE ${t}_heap)
    endif()
    if(E_HEAP_WRAP)
      target_sources(${t} PRIVATE ${COMB_FW_DIR}/src/heap_wrap.c)
      target_compile_definitions(${t} PRIVATE ${E_HEAP_DEFINITIONS})
      target_link_options(${t} PRIVATE -Wl,--wrap=malloc,--wrap=free,--wrap=calloc,--wrap=realloc)
    endif()
    if(E_HEAP_NEWLIB OR E_HEAP_WRAP)
      target_link_libraries(${t} PRIVATE c)
    endif()
    target_link_libraries(${t} PRIVATE gcc)
    # The board's objects carry LTO IR besides their code: say which one to use.
    if(E_LTO)
      target_link_options(${t} PRIVATE -flto)
    else()
      target_link_options(${t} PRIVATE -fno-lto)
    endif()
    target_link_options(${t} PRIVATE -Wl,-Map=${dir}/${name}.map ${E_LINK_OPTIONS})
    set_target_properties(${t} PROPERTIES OUTPUT_NAME ${name} SUFFIX .elf
                          RUNTIME_OUTPUT_DIRECTORY ${dir}
                          LINK_DEPENDS "${script};${COMB_FW_DIR}/boards/common/comb_sections.ld")
    if(CMAKE_SIZE)
      add_custom_command(TARGET ${t} POST_BUILD COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${t}> VERBATIM)
    endif()
  endforeach()
endfunction()
