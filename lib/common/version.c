#include "logitnorm.h"

LOGITNORM_API unsigned logitnorm_version_number(void) { return LOGITNORM_VERSION_NUMBER; }
LOGITNORM_API const char *logitnorm_version_string(void) { return LOGITNORM_VERSION_STRING; }
