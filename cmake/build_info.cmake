# What `sigmanet bench` reports about its build: the git commit, captured when CMake configures. A commit
# or a checkout touches these files, which makes the next build reconfigure and so refresh the capture.
set(SIGMANET_GIT_COMMIT "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse HEAD
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} RESULT_VARIABLE git_rc OUTPUT_VARIABLE git_head
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(git_rc EQUAL 0 AND git_head MATCHES "^[0-9a-f]+$")
    set(SIGMANET_GIT_COMMIT "${git_head}")
    # Local edits to tracked files mean the numbers are not exactly that commit's: say so.
    execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} RESULT_VARIABLE git_rc OUTPUT_VARIABLE git_changes ERROR_QUIET)
    if(git_rc EQUAL 0 AND NOT git_changes STREQUAL "")
      string(APPEND SIGMANET_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
set(SIGMANET_BUILD_TYPE_NAME "${CMAKE_BUILD_TYPE}")
if(SIGMANET_BUILD_TYPE_NAME STREQUAL "")
  set(SIGMANET_BUILD_TYPE_NAME "unknown")
endif()
if(SIGMANET_NATIVE AND NOT SIGMANET_PORTABLE)
  set(SIGMANET_BUILD_NATIVE 1)
else()
  set(SIGMANET_BUILD_NATIVE 0)
endif()
foreach(git_file HEAD logs/HEAD)
  if(EXISTS ${PROJECT_SOURCE_DIR}/.git/${git_file})
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/.git/${git_file})
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/build_info.hpp.in ${PROJECT_BINARY_DIR}/generated/sigmanet_build_info.hpp @ONLY)
target_include_directories(sigmanet PRIVATE ${PROJECT_BINARY_DIR}/generated)
message(STATUS "sigmanet: bench reports commit ${SIGMANET_GIT_COMMIT}")

