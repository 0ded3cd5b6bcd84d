# One INTERFACE target carries the project's warnings and sanitizer flags; every project target links it.
add_library(neco_options INTERFACE)
target_compile_options(neco_options INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>)

if(NECO_SANITIZE)
  string(REPLACE ";" "," _neco_san "${NECO_SANITIZE}")
  target_compile_options(neco_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX,C>:-fsanitize=${_neco_san} -fno-omit-frame-pointer>)
  target_link_options(neco_options INTERFACE -fsanitize=${_neco_san})
endif()

if(NECO_USE_CCACHE)
  find_program(NECO_CCACHE_PROGRAM ccache)
  if(NECO_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${NECO_CCACHE_PROGRAM}")
    set(CMAKE_C_COMPILER_LAUNCHER "${NECO_CCACHE_PROGRAM}")
    set(CMAKE_CUDA_COMPILER_LAUNCHER "${NECO_CCACHE_PROGRAM}")
  endif()
endif()
