# FindBLIS: locates the BLIS library (Debian's libblis-dev ships no pkg-config file).
#
# Creates the imported target BLIS::BLIS and sets BLIS_FOUND, BLIS_INCLUDE_DIR, BLIS_LIBRARY,
# and, from the configuration blis.h was generated with:
#   BLIS_THREADING           openmp, pthreads or none
#   BLIS_STATIC_LINK_FLAGS   what a static libblis.a needs besides itself and libm: -fopenmp
#                            (the OpenMP runtime, libgomp for a gcc-built BLIS such as
#                            Debian's libblis-openmp-dev), -pthread, or nothing
# Hints: BLIS_ROOT (CMake's <Package>_ROOT), or BLIS_INCLUDE_DIR / BLIS_LIBRARY in the cache.

find_path(BLIS_INCLUDE_DIR NAMES blis.h PATH_SUFFIXES blis)
find_library(BLIS_LIBRARY NAMES blis blis-mt)

# blis.h carries its configure choices as "#if 0|1" / "#define BLIS_ENABLE_<MODEL>" pairs
# near the top (read as text, so this also works where no C compiler is enabled).
set(BLIS_THREADING none)
if(BLIS_INCLUDE_DIR AND EXISTS "${BLIS_INCLUDE_DIR}/blis.h")
  file(STRINGS "${BLIS_INCLUDE_DIR}/blis.h" _blis_lines LIMIT_COUNT 400 REGEX "^#(if|define BLIS_ENABLE_)")
  set(_blis_enabled 0)
  foreach(_blis_line IN LISTS _blis_lines)
    if(_blis_line MATCHES "^#if ([01])[ \t]*$")
      set(_blis_enabled ${CMAKE_MATCH_1})
    elseif(_blis_enabled AND _blis_line MATCHES "^#define BLIS_ENABLE_(OPENMP|PTHREADS)[ \t]*$")
      string(TOLOWER "${CMAKE_MATCH_1}" BLIS_THREADING)
    else()
      set(_blis_enabled 0)
    endif()
  endforeach()
  unset(_blis_lines)
  unset(_blis_line)
  unset(_blis_enabled)
endif()
if(BLIS_THREADING STREQUAL "openmp")
  set(BLIS_STATIC_LINK_FLAGS -fopenmp)
elseif(BLIS_THREADING STREQUAL "pthreads")
  set(BLIS_STATIC_LINK_FLAGS -pthread)
else()
  set(BLIS_STATIC_LINK_FLAGS "")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(BLIS REQUIRED_VARS BLIS_LIBRARY BLIS_INCLUDE_DIR)

if(BLIS_FOUND AND NOT TARGET BLIS::BLIS)
  add_library(BLIS::BLIS UNKNOWN IMPORTED)
  set_target_properties(BLIS::BLIS PROPERTIES
    IMPORTED_LOCATION "${BLIS_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${BLIS_INCLUDE_DIR}")
  # A shared libblis brings its threading runtime along; a static one leaves it to the link.
  if(BLIS_LIBRARY MATCHES "\\.a$")
    set_target_properties(BLIS::BLIS PROPERTIES INTERFACE_LINK_LIBRARIES "${BLIS_STATIC_LINK_FLAGS};m")
  endif()
endif()
mark_as_advanced(BLIS_INCLUDE_DIR BLIS_LIBRARY)
