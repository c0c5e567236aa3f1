# CMake toolchain file: Debian's gcc-arm-none-eabi + newlib, bare-metal Cortex-M.
#   cmake -S embedded -B build-embedded-m4  -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DMICRONET_AD_CPU=cortex-m4
#   cmake -S embedded -B build-embedded-m55 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/arm-none-eabi.cmake -DMICRONET_AD_CPU=cortex-m55
# CMAKE_SYSTEM_PROCESSOR is "arm": src/core/kernels uses it to leave out the x86-only kernels.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(MICRONET_AD_CPU "cortex-m4" CACHE STRING "Target CPU: cortex-m4 (M4F) or cortex-m55")
set_property(CACHE MICRONET_AD_CPU PROPERTY STRINGS cortex-m4 cortex-m55)
# Toolchain files run more than once (try_compile): pass the CPU on to those runs too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MICRONET_AD_CPU)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "")
# No host linking during compiler checks (there is no crt0 until the firmware supplies one).
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(MICRONET_AD_CPU STREQUAL "cortex-m4")
  set(_cpu_flags "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard")
elseif(MICRONET_AD_CPU STREQUAL "cortex-m55")
  set(_cpu_flags "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard")
else()
  message(FATAL_ERROR "MICRONET_AD_CPU must be cortex-m4 or cortex-m55, not '${MICRONET_AD_CPU}'")
endif()
set(_common "${_cpu_flags} -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_common}")
set(CMAKE_CXX_FLAGS_INIT "${_common} -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "${_cpu_flags}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_cpu_flags} -Wl,--gc-sections")

# Find programs (flatc) on the host, headers and libraries only for the target.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
