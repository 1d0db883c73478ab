/* Extreme values of the loss: rows at the edges of the float and double ranges, zero and
   denormal rows, extreme temperatures and epsilon = 0, each against an independent double
   reference. One test case per file of tests/loss_extremes/ (parts.h says what each holds). */
#include "parts.h"
#include "test_util.h"

int main(void) {
  Suite *s = suite_create("loss_extremes");
  suite_add_tcase(s, loss_extremes_ranges_tcase());
  suite_add_tcase(s, loss_extremes_numerics_tcase());
  suite_add_tcase(s, loss_extremes_stress_tcase());
  return tu_run_suite(s);
}
