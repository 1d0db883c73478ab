/* The parts of the loss_extremes suite (tests/test_loss_extremes.c): each file holds one test
   case of the suite. */
#ifndef LN_TEST_LOSS_EXTREMES_PARTS_H
#define LN_TEST_LOSS_EXTREMES_PARTS_H

#include <check.h>

TCase *loss_extremes_ranges_tcase(void);   /* ranges.c: +-FLT_MAX and DBL_MAX rows on both paths, TEMPERATURE's
                                              range, empty batches, exp's underflow threshold */
TCase *loss_extremes_numerics_tcase(void); /* numerics.c: zero, denormal and all-equal rows, extreme
                                              temperatures, f64 rows whose sum of squares overflows */
TCase *loss_extremes_stress_tcase(void);   /* stress.c: random rows of extreme magnitude against an
                                              overflow-safe reference, epsilon = 0, C = 1 */

#endif
