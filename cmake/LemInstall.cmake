# Install rules: headers, libLEM (shared + static), the lem tool, a CMake package
# (find_package(LEM) -> LEM::lem, LEM::lem_static) and a pkg-config file (lem.pc).
include(CMakePackageConfigHelpers)

install(TARGETS lem_shared lem_static EXPORT LEMTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/lem/lem.h include/lem/lem_export.h ${PROJECT_BINARY_DIR}/include/lem/lem_version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lem)
install(EXPORT LEMTargets NAMESPACE LEM:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/LEM)

configure_package_config_file(cmake/LEMConfig.cmake.in ${PROJECT_BINARY_DIR}/LEMConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/LEM)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/LEMConfigVersion.cmake COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/LEMConfig.cmake ${PROJECT_BINARY_DIR}/LEMConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/LEM)

file(RELATIVE_PATH LEM_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/lem.pc.in ${PROJECT_BINARY_DIR}/lem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/lem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
