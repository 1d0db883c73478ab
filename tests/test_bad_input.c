/* Bad input: every public function, one broken argument at a time, gets its distinct status and
   a message of its own, and writes nothing. One test case per file of tests/bad_input/
   (parts.h says what each holds). */
#include "parts.h"
#include "test_util.h"

int main(void) {
  Suite *s = suite_create("bad_input");
  suite_add_tcase(s, bad_input_loss_calls_tcase());
  suite_add_tcase(s, bad_input_matrix_tcase());
  return tu_run_suite(s);
}
