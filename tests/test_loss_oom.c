/* A failed scratch allocation: a call that needs the exp cache (rows longer than the stack
   cache, in place or beta != 0; a half call writing a gradient, whatever its arguments) in a
   process whose address space cannot hold it returns LOGITNORM_ERR_OUT_OF_MEMORY and writes
   nothing. Run in a forked child under RLIMIT_AS;
   skipped where the limit cannot work (sanitizers and valgrind reserve address space) or does
   not hold (qemu-user accepts the limit for its guest but never applies it). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logitnorm.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LN_NO_RLIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LN_NO_RLIMIT 1
#endif
#endif

#if !defined(LN_NO_RLIMIT)
enum { C = 8 << 20 }; /* 32 MB of float logits: the cache needs as much again */

/* Limits this process's address space to what is mapped now (/proc/self/statm, in pages)
   plus 8 MB. 0 when set, else the child's exit code for the step that failed. */
static int limit_address_space(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long pages = 0;
  if (f == NULL || fscanf(f, "%lu", &pages) != 1) return 12;
  fclose(f);
  rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (8u << 20);
  struct rlimit rl = {limit, limit};
  return setrlimit(RLIMIT_AS, &rl) != 0 ? 13 : 0;
}

/* The child: logits allocated first, then the address space limited to what is mapped now
   plus a margin far below the cache's size. Exit code 0 when the call failed as it must. */
static int child(int beta_one) {
  float *z = malloc((size_t)C * sizeof *z);
  float *g = beta_one ? malloc((size_t)C * sizeof *g) : z;
  int32_t label = 3;
  if (z == NULL || g == NULL) return 10;
  for (int64_t c = 0; c < C; ++c) z[c] = (float)(c % 7) * 0.25f;
  if (beta_one)
    for (int64_t c = 0; c < C; ++c) g[c] = 1.5f;
  logitnorm_loss *L = NULL;
  if (logitnorm_loss_create(&L, LOGITNORM_LOSS_CROSS_ENTROPY, C) != LOGITNORM_OK) return 11;
  double loss = -7.0;
  float row_loss = -7.0f;
  int err = limit_address_space();
  if (err != 0) return err;
  logitnorm_status st = logitnorm_loss_forward_backward_f32(L, 1, z, C, &label, &loss, &row_loss, 1.0f,
                                                            beta_one ? 1.0f : 0.0f, g, C);
  if (st != LOGITNORM_ERR_OUT_OF_MEMORY) return 20 + (int)st;
  if (strstr(logitnorm_last_error(), "memory") == NULL) return 40;
  if (loss != -7.0 || row_loss != -7.0f) return 41;
  for (int64_t c = 0; c < C; ++c)
    if (z[c] != (float)(c % 7) * 0.25f || (beta_one && g[c] != 1.5f)) return 42;
  return 0;
}

/* The same for a bf16 call with a separate gradient and beta = 0: its float exp values cannot
   live in a 16-bit gradient row, so it needs the scratch block (C floats) anyway. */
static int child_half(void) {
  uint16_t *z = malloc((size_t)C * sizeof *z), *g = malloc((size_t)C * sizeof *g);
  int32_t label = 3;
  if (z == NULL || g == NULL) return 10;
  for (int64_t c = 0; c < C; ++c) {
    z[c] = (uint16_t)(0x3e80u + (unsigned)(c % 7)); /* bf16 patterns near 0.25 */
    g[c] = 0x7bcdu;
  }
  logitnorm_loss *L = NULL;
  if (logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, C) != LOGITNORM_OK) return 11;
  double loss = -7.0;
  float row_loss = -7.0f;
  int err = limit_address_space();
  if (err != 0) return err;
  logitnorm_status st = logitnorm_loss_forward_backward_bf16(L, 1, z, C, &label, &loss, &row_loss, 1.0f, 0.0f, g, C);
  if (st != LOGITNORM_ERR_OUT_OF_MEMORY) return 20 + (int)st;
  if (strstr(logitnorm_last_error(), "memory") == NULL) return 40;
  if (loss != -7.0 || row_loss != -7.0f) return 41;
  for (int64_t c = 0; c < C; ++c)
    if (z[c] != (uint16_t)(0x3e80u + (unsigned)(c % 7)) || g[c] != 0x7bcdu) return 42;
  return 0;
}

/* 1 when RLIMIT_AS holds in this process: a forked child limited to what is mapped now plus
   8 MB cannot allocate 64 MB. */
static int address_limit_holds(void) {
  pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    if (limit_address_space() != 0) _exit(2);
    void *volatile p = malloc((size_t)64 << 20); /* volatile: a compiler may not drop the call */
    _exit(p == NULL ? 0 : 1);
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void run_child(int mode) { /* 0: f32 in place, 1: f32 with beta = 1, 2: bf16 */
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) _exit(mode == 2 ? child_half() : child(mode));
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status), "child did not exit");
  ck_assert_msg(WEXITSTATUS(status) == 0, "child exit code %d (20 + status: wrong status; 40-42: message or outputs)",
                WEXITSTATUS(status));
}

START_TEST(cache_allocation_fails_in_place) { run_child(0); }
END_TEST

START_TEST(cache_allocation_fails_beta_one) { run_child(1); }
END_TEST

START_TEST(cache_allocation_fails_half) { run_child(2); }
END_TEST
#endif

int main(void) {
#if defined(LN_NO_RLIMIT)
  puts("SKIP: the address-space limit cannot be used under a sanitizer");
  return 77;
#else
  if (getenv("LN_TEST_QUICK") != NULL) { /* valgrind maps its own heap: the limit means nothing there */
    puts("SKIP: the address-space limit cannot be used under valgrind (LN_TEST_QUICK)");
    return 77;
  }
  if (!address_limit_holds()) {
    puts("SKIP: RLIMIT_AS does not hold here (a 64 MB allocation beyond the limit succeeded; qemu-user ignores it)");
    return 77;
  }
  Suite *s = suite_create("loss_oom");
  TCase *tc = tcase_create("oom");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, cache_allocation_fails_in_place);
  tcase_add_test(tc, cache_allocation_fails_beta_one);
  tcase_add_test(tc, cache_allocation_fails_half);
  suite_add_tcase(s, tc);
  return tu_run_suite(s);
#endif
}
