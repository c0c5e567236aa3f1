# The core for a cross build (embedded/ for Cortex-M, tests/aarch64/ for AArch64 Linux), from the
# same src/core/CMakeLists.txt as the host build. flatc runs on the host; the flatbuffers headers
# are header-only and are seen through a directory holding just them, so that no other host
# header can shadow the target's libc. Defines micronet_ad_core.
function(micronet_ad_add_cross_core root)
  set(host_flatbuffers_dir "")
  foreach(dir IN ITEMS /usr/include /usr/local/include)
    if(EXISTS "${dir}/flatbuffers/flatbuffers.h")
      set(host_flatbuffers_dir "${dir}/flatbuffers")
      break()
    endif()
  endforeach()
  if(NOT host_flatbuffers_dir)
    message(FATAL_ERROR "flatbuffers headers not found (apt-get install libflatbuffers-dev)")
  endif()
  set(fb_dir "${CMAKE_BINARY_DIR}/flatbuffers-include")
  file(MAKE_DIRECTORY "${fb_dir}")
  file(CREATE_LINK "${host_flatbuffers_dir}" "${fb_dir}/flatbuffers" SYMBOLIC)
  set(FLATBUFFERS_INCLUDE_DIR "${fb_dir}" CACHE PATH "" FORCE)
  add_subdirectory(${root}/src/core core)
endfunction()
