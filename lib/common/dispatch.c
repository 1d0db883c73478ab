#include "dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int ln_avx2_choice;
static pthread_once_t ln_dispatch_once = PTHREAD_ONCE_INIT;

static void ln_dispatch_init(void) {
  int cpu = 0;
#if defined(LN_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  const char *env = getenv("LOGITNORM_DISPATCH");
  if (env != NULL && strcmp(env, "generic") == 0) cpu = 0;
  ln_avx2_choice = cpu;
}

int ln_use_avx2(void) {
  pthread_once(&ln_dispatch_once, ln_dispatch_init);
  return ln_avx2_choice;
}
