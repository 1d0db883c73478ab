# Tests of the documentation.
#
# docs.api: docs/api.md lists exactly the exported functions, each with its version node
# (tests/docs/check_api.cmake).
add_test(NAME docs.api
         COMMAND ${CMAKE_COMMAND} -DMAP=${PROJECT_SOURCE_DIR}/lib/logitnorm.map
                 -DHEADER=${PROJECT_SOURCE_DIR}/include/logitnorm.h -DDOC=${PROJECT_SOURCE_DIR}/docs/api.md
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/docs/check_api.cmake)
set_tests_properties(docs.api PROPERTIES LABELS "docs")

# The C programs in README.md and docs/*.md (the convention is at the top of
# tests/docs/snippets.cmake): extracted at configure time into the build tree, built by
# docs.snippets.build against the library with the project's warning flags, and each complete
# program run by docs.snippet.<file>_<k>. A change to a Markdown file re-runs the extraction at
# the next build.
include("${CMAKE_CURRENT_SOURCE_DIR}/docs/snippets.cmake")
file(GLOB LN_DOC_FILES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/*.md")
list(PREPEND LN_DOC_FILES "${PROJECT_SOURCE_DIR}/README.md")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${LN_DOC_FILES})
set(LN_DOC_SNIPPET_DIR "${CMAKE_CURRENT_BINARY_DIR}/doc_snippets")
file(MAKE_DIRECTORY "${LN_DOC_SNIPPET_DIR}")
set(LN_DOC_SNIPPETS "")
foreach(md IN LISTS LN_DOC_FILES)
  file(RELATIVE_PATH shown "${PROJECT_SOURCE_DIR}" "${md}")
  ln_doc_snippets("${md}" "${shown}" "${LN_DOC_SNIPPET_DIR}" LN_DOC_SNIPPETS)
endforeach()

# Programs of blocks that are gone or became excerpts.
file(GLOB LN_DOC_STALE "${LN_DOC_SNIPPET_DIR}/*.c")
foreach(entry IN LISTS LN_DOC_SNIPPETS)
  string(REGEX REPLACE "^.*\\|" "" path "${entry}")
  list(REMOVE_ITEM LN_DOC_STALE "${path}")
endforeach()
if(LN_DOC_STALE)
  file(REMOVE ${LN_DOC_STALE})
endif()

add_custom_target(doc_snippets)
foreach(entry IN LISTS LN_DOC_SNIPPETS)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 id)
  list(GET fields 1 mode)
  list(GET fields 2 path)
  add_executable(doc_${id} EXCLUDE_FROM_ALL "${path}")
  target_link_libraries(doc_${id} PRIVATE logitnorm::logitnorm m logitnorm_warnings)
  add_dependencies(doc_snippets doc_${id})
  if(mode STREQUAL "run")
    add_test(NAME docs.snippet.${id} COMMAND doc_${id})
    set_tests_properties(docs.snippet.${id} PROPERTIES LABELS "docs" FIXTURES_REQUIRED ln_doc_snippets TIMEOUT 60)
  endif()
endforeach()
add_test(NAME docs.snippets.build
         COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target doc_snippets --config $<CONFIG>)
set_tests_properties(docs.snippets.build PROPERTIES LABELS "docs" FIXTURES_SETUP ln_doc_snippets TIMEOUT 300)
