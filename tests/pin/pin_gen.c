/* Writes loss_pin_<path>.txt: the outputs of the pinned loss cases (pin_cases.h) on the dispatch
   path this process runs, which test_loss_pinned compares against bit for bit. Run it on
   x86-64, once per path, with the kernels whose results are to be pinned:
     LOGITNORM_DISPATCH=generic pin_gen [directory]
     LOGITNORM_DISPATCH=avx2 pin_gen [directory]
   (cmake --build <build> --target loss_pin_data runs both). The file goes to `directory`, by
   default the source tree's tests/data. LOGITNORM_DISPATCH must name the path, and the library
   must run it: a CPU without AVX2 and FMA cannot write the avx2 file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin_cases.h"
#include "test_util.h"

#ifndef LN_PIN_DATA_DIR
#error "LN_PIN_DATA_DIR (the directory of the data files) is set by tests/pin.cmake"
#endif

int main(int argc, char **argv) {
#if !defined(__x86_64__)
  (void)argc;
  (void)argv;
  fprintf(stderr, "pin_gen: the pinned results are recorded on x86-64 only (see tests/test_loss_pinned.c)\n");
  return EXIT_FAILURE;
#else
  const char *dir = argc > 1 ? argv[1] : LN_PIN_DATA_DIR;
  const char *env = getenv("LOGITNORM_DISPATCH");
  const char *path = tu_dispatch_avx2() ? "avx2" : "generic";
  if (env == NULL || strcmp(env, path) != 0) {
    fprintf(stderr, "pin_gen: LOGITNORM_DISPATCH is %s%s%s, but the library runs the %s path; set it to the path "
            "to record (generic or avx2) on a CPU and build that run it\n",
            env ? "\"" : "", env ? env : "unset", env ? "\"" : "", path);
    return EXIT_FAILURE;
  }
  char file[4096], toolchain[256];
  snprintf(file, sizeof file, "%s/loss_pin_%s.txt", dir, path);
  pin_toolchain(toolchain, sizeof toolchain);
  FILE *f = fopen(file, "w");
  if (f == NULL) {
    perror(file);
    return EXIT_FAILURE;
  }
  fprintf(f, "# liblogitnorm: outputs of the pinned loss cases (tests/pin/pin_cases.c) on the %s dispatch path,\n"
             "# written by pin_gen and compared bit for bit by test_loss_pinned.\n"
             "# toolchain: %s\n"
             "# <case> <array> <values> <FNV-1a 64 of the values' little-endian bytes> <index>:<bits> ...\n",
          path, toolchain);
  int records = 0;
  for (int i = 0; i < pin_case_count(); ++i) {
    const pin_case c = pin_case_at(i);
    pin_record r[PIN_MAX_RECORDS];
    char err[512];
    const int got = pin_run(&c, r, err, sizeof err);
    if (got < 0) {
      fprintf(stderr, "pin_gen: %s\n", err);
      fclose(f);
      remove(file); /* no partial file */
      return EXIT_FAILURE;
    }
    for (int k = 0; k < got; ++k) pin_write(f, &r[k]);
    records += got;
  }
  if (fclose(f) != 0) {
    perror(file);
    return EXIT_FAILURE;
  }
  printf("pin_gen: %d cases, %d records on the %s path -> %s\n", pin_case_count(), records, path, file);
  return EXIT_SUCCESS;
#endif
}
