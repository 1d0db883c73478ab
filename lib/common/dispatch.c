#include "dispatch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ln_avx2_choice;
static char ln_dispatch_reject[160]; /* empty: the variable is acceptable */
static pthread_once_t ln_dispatch_once = PTHREAD_ONCE_INIT;

ln_dispatch_request ln_dispatch_parse(const char *value) {
  if (value == NULL || value[0] == '\0') return LN_DISPATCH_AUTO;
  if (strcmp(value, "generic") == 0) return LN_DISPATCH_GENERIC;
  if (strcmp(value, "avx2") == 0) return LN_DISPATCH_AVX2;
  return LN_DISPATCH_UNKNOWN;
}

int ln_dispatch_decide(ln_dispatch_request request, int cpu_avx2) {
  return (request == LN_DISPATCH_AUTO || request == LN_DISPATCH_AVX2) && cpu_avx2;
}

#if defined(LN_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#define LN_X86_CPUID 1
#endif

static int ln_cpu_avx2(void) {
#if defined(LN_X86_CPUID)
  __builtin_cpu_init();
  /* F16C converts the f16 kernels' loads and stores; every CPU with AVX2 and FMA has it, but it
     is a feature of its own: CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not
     name it) */
  unsigned a = 0, b = 0, c = 0, d = 0;
  int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
  return 0;
#endif
}

static void ln_dispatch_init(void) {
  const char *env = getenv("LOGITNORM_DISPATCH");
  ln_dispatch_request request = ln_dispatch_parse(env);
  if (request == LN_DISPATCH_UNKNOWN)
    snprintf(ln_dispatch_reject, sizeof ln_dispatch_reject,
             "LOGITNORM_DISPATCH=\"%.64s\" is not \"generic\", \"avx2\" or empty", env);
  ln_avx2_choice = ln_dispatch_decide(request, ln_cpu_avx2());
}

int ln_use_avx2(void) {
  pthread_once(&ln_dispatch_once, ln_dispatch_init);
  return ln_avx2_choice;
}

const char *ln_dispatch_error(void) {
  pthread_once(&ln_dispatch_once, ln_dispatch_init);
  return ln_dispatch_reject[0] != '\0' ? ln_dispatch_reject : NULL;
}
