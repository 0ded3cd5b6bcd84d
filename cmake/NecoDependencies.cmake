# Finds every third-party dependency once and exposes project-local targets:
#   neco::spdlog, neco::cli11, neco::json — system packages, or header-only copies from NECO_BUNDLED_DEPS;
#   Torch (TORCH_LIBRARIES), optional OpenCV (core codecs), Qt 6 + VTK (GUI only).

find_package(Torch REQUIRED)
# TorchConfig adds its flags (the C++11 ABI define) to CMAKE_CXX_FLAGS only through TORCH_CXX_FLAGS.
set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${TORCH_CXX_FLAGS}")
if(TORCH_CUDA_LIBRARIES)
  set(NECO_TORCH_HAS_CUDA ON)
else()
  set(NECO_TORCH_HAS_CUDA OFF)
endif()

add_library(neco_spdlog INTERFACE)
add_library(neco_cli11 INTERFACE)
add_library(neco::spdlog ALIAS neco_spdlog)
add_library(neco::cli11 ALIAS neco_cli11)
add_library(neco_json INTERFACE)
add_library(neco::json ALIAS neco_json)
if(NECO_BUNDLED_DEPS)
  if(NOT EXISTS "${NECO_BUNDLED_DEPS}/include/spdlog/spdlog.h")
    message(FATAL_ERROR "NECO_BUNDLED_DEPS=${NECO_BUNDLED_DEPS} has no include/spdlog; run scripts/bundle-deps.sh")
  endif()
  target_include_directories(neco_spdlog SYSTEM INTERFACE "${NECO_BUNDLED_DEPS}/include")
  target_compile_definitions(neco_spdlog INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
  target_include_directories(neco_cli11 SYSTEM INTERFACE "${NECO_BUNDLED_DEPS}/include")
  target_include_directories(neco_json SYSTEM INTERFACE "${NECO_BUNDLED_DEPS}/include")
else()
  find_package(spdlog REQUIRED)
  find_package(CLI11 REQUIRED)
  target_link_libraries(neco_spdlog INTERFACE spdlog::spdlog)
  target_link_libraries(neco_cli11 INTERFACE CLI11::CLI11)
  find_package(nlohmann_json 3 REQUIRED)
  target_link_libraries(neco_json INTERFACE nlohmann_json::nlohmann_json)
endif()

set(NECO_HAVE_OPENCV OFF)
if(NOT NECO_OPENCV STREQUAL "OFF")
  if(NECO_OPENCV STREQUAL "ON")
    find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
  else()
    find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
  endif()
  if(OpenCV_FOUND)
    set(NECO_HAVE_OPENCV ON)
  endif()
endif()

if(NECO_BUILD_GUI)
  if(NOT NECO_HAVE_OPENCV)
    message(FATAL_ERROR "The studio needs OpenCV image codecs; configure with -DNECO_BUILD_GUI=OFF for a LibTorch-only build")
  endif()
  find_package(OpenCV REQUIRED COMPONENTS core videoio)  # File ▸ Record writes videos with VideoWriter
  find_package(Qt6 6.4 REQUIRED COMPONENTS Core Gui Widgets OpenGL OpenGLWidgets Test)
  # NOTE: never VTK::GUISupportQt — Debian builds it against Qt 5. ui/ carries its own Qt 6 bridge.
  find_package(VTK 9 REQUIRED COMPONENTS
    CommonCore CommonDataModel FiltersSources InteractionStyle RenderingCore RenderingOpenGL2 RenderingUI)
endif()
