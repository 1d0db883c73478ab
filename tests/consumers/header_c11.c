/* The public header under strict C11: every declaration compiles, enum values are the
   contract's, and the library reports the version the header announces. */
#include <logitnorm.h>
#include <stdio.h>
#include <string.h>

_Static_assert(LOGITNORM_VERSION_NUMBER == 10200, "version number");
_Static_assert(LOGITNORM_ERR_UNSUPPORTED == 9, "status values are fixed");
_Static_assert(LOGITNORM_LOSS_THREADS == 106, "loss parameter values are fixed");
_Static_assert(LOGITNORM_SCORE_DICE == 33, "score kinds are fixed");
_Static_assert(LOGITNORM_METRICS_AUPR_RULE == 303, "metrics parameters are fixed");
_Static_assert(LOGITNORM_METRIC_COUNT_OOD == 7, "metric values are fixed");

int main(void) {
  if (logitnorm_version_number() != LOGITNORM_VERSION_NUMBER) return 1;
  if (strcmp(logitnorm_version_string(), LOGITNORM_VERSION_STRING) != 0) return 1;
  for (int s = -1; s <= 10; ++s)
    if (logitnorm_status_string(s) == NULL) return 1;
  puts(logitnorm_version_string());
  return 0;
}
