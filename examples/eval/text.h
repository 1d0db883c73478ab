/* The CSV/TSV reader: rows of numbers separated by one delimiter, one value per line for scores.
   Blank lines and lines starting with '#' (numpy.savetxt's header) are skipped. The first other
   line is a header, and skipped, when none of its fields is a number. Fields may be quoted
   ("1.5") and padded with blanks. Numbers are C-locale strtod syntax: nan and inf parse (the
   library then rejects them where it does). */
#ifndef EVAL_TEXT_H
#define EVAL_TEXT_H

#include "eval/array.h"

/* Delimiters: ',', ';', '\t', ' ' (any run of blanks) or EVAL_TEXT_AUTO: from the first line
   that is read, the first of tab, comma and semicolon it contains, otherwise blanks. */
#define EVAL_TEXT_AUTO 0

/* Parses buf[0, size) into a 2-D array of doubles (ndim 2, one column for a scores file).
   Returns 0, or -1 with err naming `name` and the line (1-based) of the problem. */
int eval_text_parse(const unsigned char *buf, size_t size, const char *name, char delimiter, eval_array *out,
                    eval_error *err);

#endif
