# Script mode (cmake -P), run at build time: writes a .cc holding bytes of a file as a const,
# 16-byte aligned array, so that no data from ../shared is ever committed.
#   cmake -DIN=<file> -DOUT=<file.cc> -DSYMBOL=<C++ name> [-DOFFSET=<bytes>] [-DLENGTH=<bytes>]
#         [-DSECTION=<linker section>] -P embed_bin.cmake
# Defines `alignas(16) extern const std::uint8_t SYMBOL[]` and `extern const std::size_t SYMBOL_size`.
foreach(var IN ITEMS IN OUT SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_bin.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "embed_bin.cmake: ${IN} not found (set MICRONET_AD_SHARED)")
endif()
if(NOT DEFINED OFFSET)
  set(OFFSET 0)
endif()
file(SIZE "${IN}" file_size)
if(NOT DEFINED LENGTH OR LENGTH STREQUAL "")
  math(EXPR LENGTH "${file_size} - ${OFFSET}")
endif()
math(EXPR end "${OFFSET} + ${LENGTH}")
if(end GREATER file_size OR LENGTH LESS_EQUAL 0)
  message(FATAL_ERROR "embed_bin.cmake: ${IN} has ${file_size} bytes, asked for ${LENGTH} at ${OFFSET}")
endif()
file(READ "${IN}" hex OFFSET ${OFFSET} LIMIT ${LENGTH} HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
get_filename_component(in_name "${IN}" NAME)
set(placement "")
if(DEFINED SECTION AND NOT SECTION STREQUAL "")
  set(placement "__attribute__((section(\"${SECTION}\"))) ")
endif()
file(WRITE "${OUT}.tmp"
"// Generated at build time by embedded/cmake/embed_bin.cmake from ${in_name}
// (bytes ${OFFSET}..${end} of ${file_size}). Do not edit, do not commit.
#include <cstddef>
#include <cstdint>
${placement}alignas(16) extern const std::uint8_t ${SYMBOL}[] = {
${bytes}};
extern const std::size_t ${SYMBOL}_size = sizeof(${SYMBOL});
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
