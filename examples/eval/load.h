/* Reading one input file of logitnorm-eval: the whole file into memory, then the .npy, text or
   raw reader. Which reader: a name ending in .npy -> .npy; .csv, .tsv or .txt -> text;
   otherwise the .npy magic -> .npy, then raw when a dtype is given (--dtype), else text. */
#ifndef EVAL_LOAD_H
#define EVAL_LOAD_H

#include "eval/array.h"

typedef struct eval_read_options {
  char delimiter;   /* text files: EVAL_TEXT_AUTO or ',', ';', '\t', ' ' */
  int raw;          /* a dtype was given: files that are neither .npy nor text by name are raw */
  eval_dtype dtype; /* raw files: the element type (little-endian) */
  int64_t raw_rows; /* raw files: rows, or -1 for "from the file size" */
  int64_t raw_cols; /* raw files: 0 for 1-D data, else the columns of 2-D data */
} eval_read_options;

/* Raw little-endian elements of o->dtype in o's shape; the file size must match exactly. */
int eval_raw_parse(const unsigned char *buf, size_t size, const char *name, const eval_read_options *o,
                   eval_array *out, eval_error *err);

/* Reads and parses the file at path. Returns 0, or -1 with err naming the file. */
int eval_read_file(const char *path, const eval_read_options *o, eval_array *out, eval_error *err);

#endif
