# cmake -DABIDIFF=<abidiff> -DBASELINE=<.abi> -DLIB=<liblogitnorm.so> -DSUPPRESSIONS=<.suppr>
#       -DHEADER_DIRS=<dir>|<dir>|... -P abidiff.cmake
# abidiff of the library against the committed baseline. Its exit status is a bit set:
# 1 error, 2 usage error, 4 ABI change, 8 incompatible change. A function added since the
# baseline alone gives 4, so 4 passes only when the report holds nothing but added functions,
# each at a version node other than LOGITNORM_1.0 (the functions of 1.0 are fixed; new ones go
# into the node of the version that adds them). Anything else that is reported fails: a
# removed or changed function, any variable change, an added 1.0 symbol.
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" header_dirs "${HEADER_DIRS}")
set(args --drop-private-types --suppressions "${SUPPRESSIONS}")
foreach(dir IN LISTS header_dirs)
  list(APPEND args --headers-dir2 "${dir}")
endforeach()
execute_process(COMMAND "${ABIDIFF}" ${args} "${BASELINE}" "${LIB}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
  return()
endif()
if(NOT rc EQUAL 4)
  message(FATAL_ERROR "abidiff exit status ${rc}: the ABI of 1.0 changed (or abidiff failed)")
endif()

# Exit status 4: read the report line by line, accepting only the lines of added functions,
# those with debug info ("[A] 'function ...'    {name@@node}") and those without, such as
# identical functions the compiler folded into aliases ("[A] name@@node").
string(REPLACE "\n" ";" lines "${out}")
set(added 0)
set(summary_added 0)
foreach(line IN LISTS lines)
  set(node "")
  if(line MATCHES "^ *$")
    continue()
  elseif(line MATCHES "^Functions changes summary: 0 Removed, 0 Changed( \\([0-9]+ filtered out\\))?, ([0-9]+) Added")
    math(EXPR summary_added "${summary_added} + ${CMAKE_MATCH_2}")
  elseif(line MATCHES "^Function symbols changes summary: 0 Removed, ([0-9]+) Added")
    math(EXPR summary_added "${summary_added} + ${CMAKE_MATCH_1}")
  elseif(line MATCHES "^Variables changes summary: 0 Removed, 0 Changed, 0 Added")
  elseif(line MATCHES "^Variable symbols changes summary: 0 Removed, 0 Added")
  elseif(line MATCHES "^[0-9]+ Added function( symbol)?s?( not referenced by debug info)?:$")
  elseif(line MATCHES "^  \\[A\\] '.*'    {logitnorm_[a-z0-9_]+@@(LOGITNORM_[0-9.]+)}$")
    set(node "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  \\[A\\] logitnorm_[a-z0-9_]+@@(LOGITNORM_[0-9.]+)$")
    set(node "${CMAKE_MATCH_1}")
  else()
    message(FATAL_ERROR "abidiff reports more than added functions; first other line:\n${line}")
  endif()
  if(node STREQUAL "LOGITNORM_1.0")
    message(FATAL_ERROR "a function was added to node LOGITNORM_1.0: ${line}")
  elseif(node)
    math(EXPR added "${added} + 1")
  endif()
endforeach()
if(NOT summary_added EQUAL added OR added EQUAL 0)
  message(FATAL_ERROR "abidiff exit status 4 with ${added} added functions read (summaries: ${summary_added})")
endif()
message(STATUS "${added} functions added after LOGITNORM_1.0; nothing of 1.0 changed")
