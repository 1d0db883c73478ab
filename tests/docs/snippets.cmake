# The C code blocks of the documentation, written out as programs that CTest compiles and runs
# (tests/docs.cmake). The convention, by the info string after the opening fence:
#
#   ```c               a complete program: compiled against the library with the project's
#                      flags (-Wall -Wextra, -Werror under LOGITNORM_WERROR, C11) and run with no
#                      arguments and no data; it must exit 0
#   ```c compile-only  a complete program that needs arguments or data: compiled, not run
#   ```c excerpt       part of a program: neither compiled nor run
#
# GitHub takes the first word of the info string as the language, so all three are highlighted
# as C. Other languages are not compiled; mark their partial blocks `excerpt` too, for readers.
# A ```c block without main(), or with another word after `c`, is written out with an #error
# naming its file and line, so that the build of the snippets fails and says why. Each program
# starts with a #line directive, so compiler messages point into the Markdown file.
include("${CMAKE_CURRENT_LIST_DIR}/markdown.cmake")

# Writes the programs of one Markdown file into out_dir as <stem>_<k>.c (k counts the compiled
# blocks of the file from 1) and appends "<stem>_<k>|<run or compile-only>|<path>" to the list
# named by result_var. `shown` is the file's name as messages give it (e.g. docs/api.md).
function(ln_doc_snippets md_file shown out_dir result_var)
  get_filename_component(stem "${md_file}" NAME_WE)
  ln_text_lines("${md_file}" lines)
  set(result "${${result_var}}")
  set(lineno 0)
  set(in_block FALSE)
  set(count 0)
  foreach(raw IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    ln_text_line_restore("${raw}" line)
    if(NOT in_block)
      if(line MATCHES "^```c( +(.*))?$")
        set(in_block TRUE)
        set(tags "${CMAKE_MATCH_2}")
        string(STRIP "${tags}" tags)
        math(EXPR first "${lineno} + 1")
        set(body "")
      endif()
      continue()
    endif()
    if(NOT line MATCHES "^```[ ]*$")
      string(APPEND body "${line}\n")
      continue()
    endif()
    set(in_block FALSE)
    if(tags STREQUAL "excerpt")
      continue()
    endif()
    math(EXPR count "${count} + 1")
    set(id "${stem}_${count}")
    set(mode run)
    set(problem "")
    if(tags STREQUAL "compile-only")
      set(mode compile-only)
    elseif(NOT tags STREQUAL "")
      set(problem "${shown}:${first}: unknown code block tag '${tags}' (use excerpt or compile-only)")
    elseif(NOT body MATCHES "main[ ]*\\(")
      set(problem "${shown}:${first}: a c block without main(): mark it ```c excerpt or make it a program")
    endif()
    set(source "#line ${first} \"${shown}\"\n${body}")
    if(problem)
      set(source "#error \"${problem}\"\n${source}")
    endif()
    set(path "${out_dir}/${id}.c")
    # Written only when it changed, so that a configure run does not rebuild every program.
    set(old "")
    if(EXISTS "${path}")
      file(READ "${path}" old)
    endif()
    if(NOT old STREQUAL source)
      file(WRITE "${path}" "${source}")
    endif()
    list(APPEND result "${id}|${mode}|${path}")
  endforeach()
  if(in_block)
    message(SEND_ERROR "${shown}: a code block opened at line ${first} is never closed")
  endif()
  set(${result_var} "${result}" PARENT_SCOPE)
endfunction()
