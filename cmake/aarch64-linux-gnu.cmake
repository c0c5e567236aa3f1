# CMake toolchain file: Debian's g++-aarch64-linux-gnu (glibc), AArch64 Linux such as an Arm gateway.
#   cmake -S tests/aarch64 -B build-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# scripts/aarch64.sh builds and runs the core's checks this way under qemu-aarch64.
# CMAKE_SYSTEM_PROCESSOR is "aarch64": src/core/kernels adds the NEON levels (kernels/arm_neon).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Plain Armv8-A: the dotprod kernel is compiled for +dotprod on its own and chosen at run time.
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")
set(CMAKE_C_FLAGS_INIT "-march=armv8-a")
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)

# Programs (flatc) from the host, headers and libraries only from the target's sysroot.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
