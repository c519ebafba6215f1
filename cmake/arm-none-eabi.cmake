# CMake toolchain file: bare-metal Arm (Cortex-M) with the GNU Arm Embedded
# toolchain (Debian: gcc-arm-none-eabi, binutils-arm-none-eabi).
#
#   cmake -S firmware -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake \
#         -DCMAKE_BUILD_TYPE=MinSizeRel
#
# CPU flags (-mcpu, -mfloat-abi...) are NOT set here: each board sets its own on
# its targets (firmware/boards/<board>/board.cmake), so one build can hold
# images for several cores.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(COMB_ARM_TOOLCHAIN_PREFIX "arm-none-eabi-" CACHE STRING "Prefix of the cross tools")
set(CMAKE_C_COMPILER   ${COMB_ARM_TOOLCHAIN_PREFIX}gcc)
set(CMAKE_ASM_COMPILER ${COMB_ARM_TOOLCHAIN_PREFIX}gcc)
find_program(CMAKE_OBJCOPY ${COMB_ARM_TOOLCHAIN_PREFIX}objcopy)
find_program(CMAKE_SIZE    ${COMB_ARM_TOOLCHAIN_PREFIX}size)

# No OS to link a test program against: check the compiler with a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# One section per function / object, so --gc-sections drops what is unused.
set(CMAKE_C_FLAGS_INIT   "-mthumb -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "-mthumb")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mthumb -Wl,--gc-sections")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
