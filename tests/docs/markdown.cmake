# Reading Markdown (and other text) line by line in CMake. A CMake list splits at ';' except
# inside square brackets and after a backslash, so the four characters are replaced by
# placeholders before the text is split into lines, and put back line by line.
function(ln_text_lines path out_var)
  file(READ "${path}" text)
  string(REPLACE "\\" "@LN_BACKSLASH@" text "${text}")
  string(REPLACE ";" "@LN_SEMICOLON@" text "${text}")
  string(REPLACE "[" "@LN_OPEN@" text "${text}")
  string(REPLACE "]" "@LN_CLOSE@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

# One element of ln_text_lines' list as the text it was.
function(ln_text_line_restore line out_var)
  string(REPLACE "@LN_CLOSE@" "]" line "${line}")
  string(REPLACE "@LN_OPEN@" "[" line "${line}")
  string(REPLACE "@LN_SEMICOLON@" ";" line "${line}")
  string(REPLACE "@LN_BACKSLASH@" "\\" line "${line}")
  set(${out_var} "${line}" PARENT_SCOPE)
endfunction()
