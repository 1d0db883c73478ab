/* Pinned results of the loss kernels. The outputs of a fixed list of loss calls (tests/pin/
   pin_cases.c: both kinds, hard labels and probability targets, label smoothing, class weights,
   ignored rows, MEAN, SUM and NONE, beta = 0 and beta != 0, in place, forward_stats with
   backward_stats, probs, with and without row losses; float and double; shapes on the tile path
   and on the row path) must equal bit for bit those recorded in tests/data/loss_pin_<path>.txt,
   for the dispatch path this process runs (generic or avx2). Every output is compared: loss_out,
   row_loss, grad (or probs) and row_stats, each by the hash of all its values' bits and a few
   sampled values.

   Unlike the other suites this one checks no formula: it holds the kernels to the results they
   gave when the files were written, so that a change meant to move no bit (a restructure of the
   kernels) is seen to move none. A change meant to change results writes the files again with
   pin_gen (the loss_pin_data target) and says why. Rows hold no -inf: masked rows may change.

   Where it runs: x86-64 with glibc, on a CPU with AVX2 and FMA; elsewhere it skips. The bits
   depend on more than the kernels: on the libm's exp and expf (the generic path) and log (both
   paths, each row's log of its sum), and on the compiler not fusing a * b + c into an FMA
   (GCC's ISO C modes, such as the project's -std=c11, fuse nothing: this matters in the AVX2
   objects, built with FMA; the generic ones are built for baseline x86-64, which has none). The
   optimisation level changes nothing (no -ffast-math, and SSE arithmetic has no excess
   precision): Debug and sanitizer builds compare with the same files. The files are recorded
   with GCC and glibc on a CPU with AVX2 and FMA, where glibc takes its FMA variants of exp, expf
   and log. Other libms and architectures
   (aarch64, s390x, i386) may round an exp differently, which is no change of the kernels, and
   the restructure this guards is of the x86 kernels. The files name the compiler and glibc they
   were recorded with; a mismatch message gives them next to this build's when they differ, so
   that a toolchain difference can be told from a change of the kernels. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin_cases.h"
#include "test_util.h"

#ifndef LN_PIN_DATA_DIR
#error "LN_PIN_DATA_DIR (the directory of the data files) is set by tests/pin.cmake"
#endif

/* The data file of this process's dispatch path, read once before the tests run. */
typedef struct pin_data {
  char file[4096];
  char toolchain[256]; /* as the file's header gives it */
  char error[4608];    /* why the file could not be read, or "" */
  pin_record *rec;
  int count;
} pin_data;

static pin_data data;

static void load_data(const char *path) {
  snprintf(data.file, sizeof data.file, "%s/loss_pin_%s.txt", LN_PIN_DATA_DIR, path);
  FILE *f = fopen(data.file, "r");
  if (f == NULL) {
    snprintf(data.error, sizeof data.error, "cannot open %s", data.file);
    return;
  }
  char line[1024];
  int cap = 0, lineno = 0;
  const char *tag = "# toolchain: ";
  while (fgets(line, sizeof line, f) != NULL) {
    ++lineno;
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, tag, strlen(tag)) == 0)
      snprintf(data.toolchain, sizeof data.toolchain, "%.200s", line + strlen(tag));
    if (line[0] == '#' || line[0] == '\0') continue;
    if (data.count == cap) {
      cap = cap ? 2 * cap : 1024;
      pin_record *grown = realloc(data.rec, (size_t)cap * sizeof *grown);
      if (grown == NULL) {
        snprintf(data.error, sizeof data.error, "out of memory reading %s", data.file);
        break;
      }
      data.rec = grown;
    }
    if (!pin_parse(line, &data.rec[data.count])) {
      snprintf(data.error, sizeof data.error, "%s:%d is not a record: %.200s", data.file, lineno, line);
      break;
    }
    ++data.count;
  }
  fclose(f);
}

/* The first record of case `name` in the file, or -1. */
static int find_case(const char *name) {
  for (int k = 0; k < data.count; ++k)
    if (strcmp(data.rec[k].case_name, name) == 0) return k;
  return -1;
}

/* Appends to msg (of size `size`, holding `len` characters). */
static size_t append(char *msg, size_t size, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static size_t append(char *msg, size_t size, size_t len, const char *fmt, ...) {
  if (len >= size) return len;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(msg + len, size - len, fmt, ap);
  va_end(ap);
  return w < 0 ? len : len + (size_t)w;
}

/* Appends what differs between an output and its recorded form (nothing when they agree). */
static size_t compare_record(const pin_record *got, const pin_record *want, char *msg, size_t size, size_t len) {
  if (strcmp(got->array, want->array) != 0)
    return append(msg, size, len, "\n  output %s, where the file has %s", got->array, want->array);
  if (got->count != want->count || got->width != want->width)
    return append(msg, size, len, "\n  %s: %lld values of %d bytes, the file has %lld of %d", got->array,
                  (long long)got->count, got->width, (long long)want->count, want->width);
  int same = got->hash == want->hash && got->samples == want->samples;
  for (int k = 0; same && k < got->samples; ++k)
    same = got->index[k] == want->index[k] && got->bits[k] == want->bits[k];
  if (same) return len;
  len = append(msg, size, len, "\n  %s (%lld values): hash %016llx, the file has %016llx; sampled [index] got/want:",
               got->array, (long long)got->count, (unsigned long long)got->hash, (unsigned long long)want->hash);
  for (int k = 0; k < got->samples && k < want->samples; ++k)
    len = append(msg, size, len, " [%lld] %0*llx/%0*llx%s", (long long)got->index[k], 2 * got->width,
                 (unsigned long long)got->bits[k], 2 * want->width, (unsigned long long)want->bits[k],
                 got->bits[k] == want->bits[k] ? "" : " (differs)");
  return len;
}

/* What differs in case c, appended to diff (nothing when the case matches the file). */
static size_t check_case(const pin_case *c, char *diff, size_t size) {
  pin_record got[PIN_MAX_RECORDS];
  char err[512];
  const int n = pin_run(c, got, err, sizeof err);
  if (n < 0) return append(diff, size, 0, " %s", err);
  const int first = find_case(c->name);
  if (first < 0) return append(diff, size, 0, " not in the file: write it again with pin_gen");
  int recorded = 0;
  while (first + recorded < data.count && strcmp(data.rec[first + recorded].case_name, c->name) == 0) ++recorded;
  size_t len = 0;
  if (recorded != n) len = append(diff, size, len, "\n  %d output arrays, the file has %d", n, recorded);
  for (int k = 0; k < n && k < recorded; ++k) len = compare_record(&got[k], &data.rec[first + k], diff, size, len);
  return len;
}

/* The cases run in groups of PIN_GROUP, a forked test each (a fork per case would add seconds). A
   failure details the first PIN_DETAILED cases of its group that differ and names the others
   (Check bounds the length of a message). */
#define PIN_GROUP 32
#define PIN_DETAILED 3

START_TEST(pinned_cases) {
  ck_assert_msg(data.error[0] == '\0', "%s", data.error);
  char msg[3500], diff[2048];
  size_t len = 0;
  int failed = 0;
  for (int i = _i * PIN_GROUP; i < (_i + 1) * PIN_GROUP && i < pin_case_count(); ++i) {
    const pin_case c = pin_case_at(i);
    if (check_case(&c, diff, sizeof diff) == 0) continue;
    if (failed < PIN_DETAILED)
      len = append(msg, sizeof msg, len, "\ncase %s:%s", c.name, diff);
    else
      len = append(msg, sizeof msg, len, "%s %s", failed == PIN_DETAILED ? "\nalso cases" : ",", c.name);
    ++failed;
  }
  if (failed == 0) return;
  if (len >= sizeof msg) strcpy(msg + sizeof msg - 5, " ...");
  char here[256], note[600] = "";
  pin_toolchain(here, sizeof here);
  if (strcmp(here, data.toolchain) != 0)
    snprintf(note, sizeof note, "\n(the file was recorded with %s; this suite is built with %s)", data.toolchain,
             here);
  ck_abort_msg("%d cases differ from %s:%s%s", failed, data.file, msg, note);
}
END_TEST

/* Every record of the file belongs to a case of the list (a case left out of the list would
   otherwise go unnoticed), and every case has records (checked per case above). */
START_TEST(file_holds_only_listed_cases) {
  ck_assert_msg(data.error[0] == '\0', "%s", data.error);
  ck_assert_msg(data.count > 0, "%s holds no records", data.file);
  for (int k = 0; k < data.count; ++k) {
    int listed = 0;
    for (int i = 0; !listed && i < pin_case_count(); ++i)
      listed = strcmp(pin_case_at(i).name, data.rec[k].case_name) == 0;
    ck_assert_msg(listed, "%s has records of case %s, which the case list does not hold", data.file,
                  data.rec[k].case_name);
  }
}
END_TEST

/* The files were recorded on x86-64 with glibc (see the top of this file). */
static int on_recorded_platform(void) {
#if defined(__x86_64__) && defined(__GLIBC__)
  return 1;
#else
  return 0;
#endif
}

int main(void) {
  if (!on_recorded_platform()) {
    printf("SKIP: loss_pinned compares with results recorded on x86-64 with glibc; other architectures and libms "
           "may round exp and log differently\n");
    return TU_SKIP;
  }
  if (!tu_cpu_has_avx2()) {
    printf("SKIP: loss_pinned compares with results recorded on a CPU with AVX2 and FMA, where glibc's libm takes "
           "its FMA variants of exp and log; this CPU lacks them\n");
    return TU_SKIP;
  }
  load_data(tu_dispatch_avx2() ? "avx2" : "generic");
  Suite *s = suite_create("loss_pinned");
  TCase *tc = tcase_create("pinned");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, file_holds_only_listed_cases);
  tcase_add_loop_test(tc, pinned_cases, 0, (pin_case_count() + PIN_GROUP - 1) / PIN_GROUP);
  suite_add_tcase(s, tc);
  const int rc = tu_run_suite(s);
  free(data.rec);
  return rc;
}
