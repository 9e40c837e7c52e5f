# SPDX-License-Identifier: Apache-2.0
# The CUDA backend (docs/cuda.md). libsonar never links CUDA: every GPU-side program is a child
# compiled by nvcc at run time. SONAR_WITH_CUDA records the nvcc found here and the default -arch
# in one source file (measure/cuda/cuda_config.cc) and enables the tests that call nvcc. The
# CUDA harness main and the device-query program are embedded as strings (the generated header
# measure/cuda/cuda_sources.h in the build tree), as measure/harness/harness.cmake embeds the CPU
# harness.
find_program(SONAR_NVCC nvcc HINTS ENV CUDA_PATH ENV CUDA_HOME PATH_SUFFIXES bin
             PATHS /usr/local/cuda/bin /usr/local/cuda)
if(SONAR_NVCC)
  set(_sonar_cuda_default ON)
else()
  set(_sonar_cuda_default OFF)
endif()
option(SONAR_WITH_CUDA "CUDA measurement backend: record nvcc's path and run the nvcc tests"
       ${_sonar_cuda_default})
set(SONAR_CUDA_ARCH "" CACHE STRING
    "Default nvcc -arch of the CUDA measurer, e.g. sm_90 (empty: the measured device's own)")
if(SONAR_WITH_CUDA AND NOT SONAR_NVCC)
  message(FATAL_ERROR "SONAR_WITH_CUDA is ON but nvcc was not found; set SONAR_NVCC=/path/to/nvcc "
                      "or configure with -DSONAR_WITH_CUDA=OFF")
endif()
if(SONAR_WITH_CUDA)
  message(STATUS "Sonar: CUDA backend with ${SONAR_NVCC} (default arch: "
                 "${SONAR_CUDA_ARCH})")
  set(SONAR_CUDA_DEFINITIONS SONAR_WITH_CUDA=1 SONAR_NVCC_DEFAULT="${SONAR_NVCC}"
      SONAR_CUDA_ARCH_DEFAULT="${SONAR_CUDA_ARCH}")
else()
  message(STATUS "Sonar: CUDA backend off (nvcc looked up in PATH at run time; nvcc tests skip)")
  set(SONAR_CUDA_DEFINITIONS SONAR_WITH_CUDA=0 SONAR_NVCC_DEFAULT="nvcc"
      SONAR_CUDA_ARCH_DEFAULT="${SONAR_CUDA_ARCH}")
endif()
set(SONAR_CUDA_HARNESS_MAIN ${PROJECT_SOURCE_DIR}/measure/cuda/cuda_harness_main.cu)
set(SONAR_CUDA_DEVICE_QUERY ${PROJECT_SOURCE_DIR}/measure/cuda/device_query.cu)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${SONAR_CUDA_HARNESS_MAIN}
             ${SONAR_CUDA_DEVICE_QUERY})
file(READ ${SONAR_CUDA_HARNESS_MAIN} SONAR_CUDA_HARNESS_SOURCE)
file(READ ${SONAR_CUDA_DEVICE_QUERY} SONAR_CUDA_DEVICE_QUERY_SOURCE)
configure_file(${PROJECT_SOURCE_DIR}/measure/cuda/cuda_sources.h.in
               ${PROJECT_BINARY_DIR}/measure/cuda/cuda_sources.h @ONLY)
