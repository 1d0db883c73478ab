/* The parts of the bad_input suite (tests/test_bad_input.c): each file holds one test case of
   the suite. */
#ifndef LN_TEST_BAD_INPUT_PARTS_H
#define LN_TEST_BAD_INPUT_PARTS_H

#include <check.h>

TCase *bad_input_loss_calls_tcase(void); /* loss_calls.c: every argument of every loss entry point, one
                                            broken at a time, with the message's content */
TCase *bad_input_matrix_tcase(void);     /* matrix.c: the table of docs/reliability.md, every public
                                            function against every class of bad input */

#endif
