/* Runs a fuzz target once on every file named on the command line (or found in a named
   directory): the regression and seed corpora as a plain test, with any compiler. */
/* 64-bit file offsets on 32-bit targets too: readdir's 32-bit d_off cannot hold the 64-bit
   directory cookies of ext4 when the kernel does not know the caller is 32-bit (qemu-i386),
   and readdir then fails at once with EOVERFLOW. */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  size_t cap = 1 << 16, size = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf != NULL && (got = fread(buf + size, 1, cap - size, f)) > 0) {
    size += got;
    if (size == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (buf == NULL) return 1;
  /* an exact-size copy, so an over-read of the input is caught by the sanitizers */
  unsigned char *exact = malloc(size > 0 ? size : 1);
  memcpy(exact, buf, size);
  free(buf);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  return 0;
}

static int replay_path(const char *path, int *count) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "replay: %s does not exist\n", path);
    return 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    ++*count;
    return replay_file(path);
  }
  DIR *d = opendir(path);
  if (d == NULL) return 1;
  int bad = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char child[4096];
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    bad |= replay_path(child, count);
    errno = 0;
  }
  if (errno != 0) { /* readdir's NULL is an error, not the end */
    fprintf(stderr, "replay: reading %s: %s\n", path, strerror(errno));
    bad = 1;
  }
  closedir(d);
  return bad;
}

int main(int argc, char **argv) {
  int bad = 0, count = 0;
  for (int i = 1; i < argc; ++i) bad |= replay_path(argv[i], &count);
  printf("replayed %d inputs\n", count);
  return bad || count == 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
