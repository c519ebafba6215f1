# find_package(comb CONFIG): comb's firmware runtime as a source package,
# compiled with the calling project's cross toolchain (docs/integration.md).
# Point CMake here with -Dcomb_DIR=<comb>/firmware/cmake, or put <comb>/firmware
# on CMAKE_PREFIX_PATH. Defines comb_firmware() (comb_package.cmake).
if(COMMAND comb_firmware)
  return() # found before, or added with add_subdirectory
endif()
if(NOT CMAKE_CROSSCOMPILING)
  set(comb_FOUND FALSE)
  set(comb_NOT_FOUND_MESSAGE
      "comb's firmware package needs a cross toolchain: configure with -DCMAKE_TOOLCHAIN_FILE=... (comb has cmake/arm-none-eabi.cmake)")
  return()
endif()
get_filename_component(_comb_firmware_dir "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
add_subdirectory(${_comb_firmware_dir} ${CMAKE_BINARY_DIR}/_comb_firmware)
unset(_comb_firmware_dir)
