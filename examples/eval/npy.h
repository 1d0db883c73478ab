/* The .npy reader: versions 1.0, 2.0 and 3.0; dtypes f2, f4, f8, i4 and i8 with byte order '<',
   '>' (converted), or '=' and '|' (this machine's order, as numpy reads them); C order; 1-D or
   2-D shapes. Nothing in the file is trusted: the header length, the shape's product and the
   data size are checked against the file size with overflow-safe arithmetic. */
#ifndef EVAL_NPY_H
#define EVAL_NPY_H

#include "eval/array.h"

/* The 6 bytes every .npy file starts with. */
#define EVAL_NPY_MAGIC "\x93NUMPY"

/* What a .npy header says, checked against the file size: the data are rows * cols elements of
   dtype, in the given byte order, from byte data_start to the end of the file. */
typedef struct eval_npy_info {
  eval_dtype dtype;
  int big_endian;
  int ndim;
  int64_t rows, cols;
  size_t data_start;
} eval_npy_info;

/* Parses and checks the header of the .npy file in buf[0, size). Returns 0, or -1 with err
   naming `name` and the byte offset of the first problem. */
int eval_npy_header(const unsigned char *buf, size_t size, const char *name, eval_npy_info *info, eval_error *err);

/* Parses a whole .npy file held in buf[0, size). Returns 0 with out filled, or -1 with err
   naming `name` and the byte offset of the first problem. */
int eval_npy_parse(const unsigned char *buf, size_t size, const char *name, eval_array *out, eval_error *err);

#endif
