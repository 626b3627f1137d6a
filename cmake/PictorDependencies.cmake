# Finds every third-party dependency. The engine needs only LibTorch, nlohmann-json and ICU;
# the rest (OpenCV, Qt, FAISS, SQLite, exiv2, CLI11) only when the whole product is built.

# OpenMP must be found before FAISS (FAISS's config expects the OpenMP targets). The engine wants it too:
# at::parallel_for (ATen built with OpenMP) runs its loop in the caller's translation unit. An engine build
# without it (clang without libomp: the fuzzers) runs those loops on one thread.
if(PICTOR_ENGINE_ONLY)
  find_package(OpenMP)
else()
  find_package(OpenMP REQUIRED)
endif()

# --- LibTorch: Debian's 1.13 (CPU) by default, another one (PyTorch 2.x with CUDA) on request.
if(PICTOR_TORCH_DIR)
  find_package(Torch REQUIRED PATHS "${PICTOR_TORCH_DIR}" NO_DEFAULT_PATH)
else()
  find_package(Torch REQUIRED)
endif()
message(STATUS "Pictor: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

# One INTERFACE target that carries Torch as a SYSTEM include and, optionally, its precompiled header.
add_library(pictor_torch INTERFACE)
target_link_libraries(pictor_torch INTERFACE ${TORCH_LIBRARIES})
# One code model for every Torch translation unit (executables would otherwise get -fPIE), so they can
# all share the precompiled header.
target_compile_options(pictor_torch INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-fPIC>)
# Torch's CMake may add its CXX flags (e.g. -D_GLIBCXX_USE_CXX11_ABI) through TORCH_CXX_FLAGS.
if(TORCH_CXX_FLAGS)
  separate_arguments(_pictor_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
  target_compile_options(pictor_torch INTERFACE ${_pictor_torch_flags})
endif()

# Targets that include Torch headers call this: links Torch and shares one precompiled header.
function(pictor_use_torch target)
  target_link_libraries(${target} PRIVATE pictor_torch)
  if(PICTOR_TORCH_PCH)
    if(NOT TARGET pictor_torch_pch)
      add_library(pictor_torch_pch STATIC "${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp")
      target_link_libraries(pictor_torch_pch PRIVATE pictor_torch)
      pictor_target_warnings(pictor_torch_pch)
      target_precompile_headers(pictor_torch_pch PRIVATE "${PROJECT_SOURCE_DIR}/core/nn/torch_pch.h")
    endif()
    if(NOT target STREQUAL "pictor_torch_pch")
      target_precompile_headers(${target} REUSE_FROM pictor_torch_pch)
    endif()
  endif()
endfunction()

# --- nlohmann-json (header-only): the Debian package, or a folder given for engine-only machines.
if(PICTOR_JSON_DIR)
  add_library(nlohmann_json INTERFACE)
  target_include_directories(nlohmann_json SYSTEM INTERFACE "${PICTOR_JSON_DIR}")
  add_library(nlohmann_json::nlohmann_json ALIAS nlohmann_json)
else()
  find_package(nlohmann_json 3.10 REQUIRED)
endif()

# --- ICU: Unicode classes, normalisation and case mapping for the tokenizers.
find_package(ICU 70 REQUIRED COMPONENTS uc i18n)

if(NOT PICTOR_ENGINE_ONLY)
  find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
  find_package(exiv2 REQUIRED)
  find_package(PNG REQUIRED) # text chunks of generated pictures
  find_package(JPEG REQUIRED) # JPEG decoding with its warnings and PIL's CMYK conversion
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(libheif REQUIRED IMPORTED_TARGET libheif) # HEIF/HEIC photos
  pkg_check_modules(libwebpdemux REQUIRED IMPORTED_TARGET libwebpdemux) # animated WebP's first frame
  pkg_check_modules(libraw REQUIRED IMPORTED_TARGET libraw_r) # camera RAW (the thread-safe build)
  find_package(CLI11 REQUIRED)
  find_package(SQLite3 REQUIRED)
  find_package(faiss REQUIRED)
  # --- Qt 6 (Debian's qt6-base-dev): the desktop app; Qt Test for its tests.
  find_package(Qt6 6.4 REQUIRED COMPONENTS Widgets Concurrent)
  if(PICTOR_BUILD_TESTS)
    find_package(Qt6 6.4 REQUIRED COMPONENTS Test)
  endif()
endif()

if(PICTOR_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND AND EXISTS /usr/src/googletest)
    # Machines without Debian's libgtest-dev can carry the googletest source tree.
    add_subdirectory(/usr/src/googletest "${CMAKE_BINARY_DIR}/googletest" EXCLUDE_FROM_ALL)
    add_library(GTest::gtest ALIAS gtest)
    add_library(GTest::gtest_main ALIAS gtest_main)
  endif()
endif()
if(PICTOR_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()
