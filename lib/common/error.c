#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* One buffer per thread: compute calls on a shared handle never see each other's text. */
static _Thread_local char ln_error_text[256];

logitnorm_status ln_fail(logitnorm_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ln_error_text, sizeof ln_error_text, fmt, ap);
  va_end(ap);
  return status;
}

LOGITNORM_API const char *logitnorm_last_error(void) { return ln_error_text; }

LOGITNORM_API const char *logitnorm_status_string(int status) {
  switch (status) {
    case LOGITNORM_OK: return "ok";
    case LOGITNORM_ERR_NULL_POINTER: return "null pointer";
    case LOGITNORM_ERR_INVALID_ARGUMENT: return "invalid argument";
    case LOGITNORM_ERR_INVALID_LABEL: return "invalid label";
    case LOGITNORM_ERR_NONFINITE: return "non-finite value";
    case LOGITNORM_ERR_OUT_OF_MEMORY: return "out of memory";
    case LOGITNORM_ERR_INVALID_STATE: return "invalid state";
    case LOGITNORM_ERR_CORRUPT_DATA: return "corrupt data";
    case LOGITNORM_ERR_BUFFER_TOO_SMALL: return "buffer too small";
    case LOGITNORM_ERR_UNSUPPORTED: return "unsupported";
    default: return "unknown status";
  }
}
