/* Status helpers: every failing path goes through ln_fail so that the thread's
   last-error text is always set together with the status it explains. */
#ifndef LN_COMMON_ERROR_H
#define LN_COMMON_ERROR_H

#include "logitnorm.h"

#if defined(__GNUC__)
#  define LN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define LN_PRINTF(a, b)
#endif

/* Records the detail text for this thread and returns `status` unchanged. */
logitnorm_status ln_fail(logitnorm_status status, const char *fmt, ...) LN_PRINTF(2, 3);

#endif
