# SPDX-License-Identifier: Apache-2.0
# Imported targets for the two libraries Debian ships without a CMake config: xgboost::xgboost
# (when the `xgboost` package's config is absent) and isal::isal. Included by the top-level
# CMakeLists.txt and by the installed SonarConfig.cmake, which needs the same targets to link
# the static library.
if(NOT TARGET xgboost::xgboost)
  find_package(xgboost CONFIG QUIET)
endif()
if(NOT TARGET xgboost::xgboost)
  find_library(SONAR_XGBOOST_LIBRARY NAMES xgboost REQUIRED)
  find_path(SONAR_XGBOOST_INCLUDE_DIR xgboost/c_api.h REQUIRED)
  add_library(xgboost::xgboost UNKNOWN IMPORTED)
  set_target_properties(xgboost::xgboost PROPERTIES
    IMPORTED_LOCATION ${SONAR_XGBOOST_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${SONAR_XGBOOST_INCLUDE_DIR})
endif()
# ISA-L (Intel's storage acceleration library): CRC-32 of record-log frames, the same numbers as
# zlib's crc32 at about 6 times the speed.
if(NOT TARGET isal::isal)
  find_library(SONAR_ISAL_LIBRARY NAMES isal REQUIRED)
  find_path(SONAR_ISAL_INCLUDE_DIR isa-l/crc.h REQUIRED)
  add_library(isal::isal UNKNOWN IMPORTED)
  set_target_properties(isal::isal PROPERTIES
    IMPORTED_LOCATION ${SONAR_ISAL_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${SONAR_ISAL_INCLUDE_DIR})
endif()
