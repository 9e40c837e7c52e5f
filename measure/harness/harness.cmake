# SPDX-License-Identifier: Apache-2.0
# Embeds measure/harness/harness_main.cc into the library as a string (the generated header
# measure/harness/harness_source.h in the build tree), so installed binaries need no sources.
set(SONAR_HARNESS_MAIN ${PROJECT_SOURCE_DIR}/measure/harness/harness_main.cc)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${SONAR_HARNESS_MAIN})
file(READ ${SONAR_HARNESS_MAIN} SONAR_HARNESS_SOURCE)
configure_file(${PROJECT_SOURCE_DIR}/measure/harness/harness_source.h.in
               ${PROJECT_BINARY_DIR}/measure/harness/harness_source.h @ONLY)
