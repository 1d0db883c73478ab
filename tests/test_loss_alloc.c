/* Scratch memory of the loss entry points (the rule of version 1.1): the default call (labels
   or probability targets, beta = 0, grad not in place, THREADS = 1) allocates nothing; any other
   call (beta != 0, in place, THREADS > 1) allocates at most one block, and frees it before it
   returns. The linear head allocates at most one block per call itself; what BLIS allocates
   inside its GEMMs (packing buffers, its thread pool) is outside the bound.

   Every entry point of 1.0 and 1.1 runs in f32 and f64, for both loss kinds, on three shapes:
   many short rows (the tile path; n x C is above the 32768 below which a call stays on one
   thread, so THREADS = 2 really starts a thread), rows of 5000 classes (longer than the 16 KB
   stack cache of exp values, so beta != 0 and in-place calls need the heap block) and rows of
   100, at THREADS = 1 and 2; the suite runs once per dispatch path.

   How calls are counted. This program defines malloc, calloc, realloc, posix_memalign,
   aligned_alloc and free. The executable comes first in the dynamic linker's search order, so
   these definitions serve the whole process: the library, libc, BLIS, libgomp and the dynamic
   loader (glibc's loader switches to the process's malloc once libc is loaded). Each
   forwards to the next definition in that order (libc's, or an allocator preloaded after the
   executable), found with dlsym(RTLD_NEXT, ...); dlsym may allocate too, so calls made while
   it runs are served from a small static buffer.

   Whose calls count. While a measurement is on, each call is attributed to its caller by its
   return address, __builtin_return_address(0), in the interposer. Calls from the object that
   holds logitnorm_loss_create (liblogitnorm.so, or this executable when the library is linked
   statically; its code ranges come from dl_iterate_phdr once, so the interposers take no lock)
   are the library's own. Calls from elsewhere are not: BLIS's packing buffers and libgomp's
   pool inside the linear head's GEMMs, and glibc's pthread_create, which takes each new
   thread's stack from mmap (or from its cache of stacks) and, for a stack not from the cache,
   the thread's vector of thread-local storage (DTV) from a calloc made in the loader, ld.so
   (glibc 2.36: one call of 320 bytes in the first call of a process that starts a thread). So
   the bound is checked on the library's own calls, whatever the threads and BLIS do.
   One case needs no attribution: a logit entry point at THREADS = 1 calls neither BLIS nor
   pthread_create, so for the default call there every allocation in the process counts, also
   one that libc would make on the library's behalf (inside qsort or fopen, say).

   Where counting cannot work. ASan, TSan and MSan replace malloc in the executable themselves:
   under them the interposers are left out and the suite exits 77. valgrind (3.19) redirects
   the executable's malloc to its own as well, so the interposers are never reached: main calls
   them first and exits 77 when none counted. If they are reached but logitnorm_loss_create's
   allocation of its handle is not seen as the library's, the attribution is broken and the
   suite fails. */
#define _GNU_SOURCE

#include <check.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logitnorm.h"
#include "test_util.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LN_SANITIZER_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define LN_SANITIZER_MALLOC 1
#endif
#endif

#if !defined(LN_SANITIZER_MALLOC) && defined(__linux__)
#define LN_COUNTING 1
#endif

#if defined(LN_COUNTING)
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>

/* ---- the interposers ---- */

typedef struct real_alloc {
  void *(*malloc)(size_t);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void (*free)(void *);
} real_alloc;

static real_alloc real;
static atomic_int resolve_state; /* 0: not looked up, 1: dlsym running, 2: done */

/* The bootstrap buffer for calls made inside dlsym: bump allocation, each block after a
   16-byte header holding its size (for realloc); never freed. */
enum { BOOT_BYTES = 1 << 14, BOOT_HEADER = 16 };
static _Alignas(max_align_t) unsigned char boot[BOOT_BYTES];
static size_t boot_used;

static void *boot_alloc(size_t size) {
  size_t need = BOOT_HEADER + (size + 15) / 16 * 16;
  if (size > BOOT_BYTES || need > BOOT_BYTES - boot_used) return NULL;
  unsigned char *p = boot + boot_used;
  boot_used += need;
  memcpy(p, &size, sizeof size);
  return p + BOOT_HEADER;
}

static int in_boot(const void *p) {
  return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + BOOT_BYTES;
}

/* The first call comes from libc's or the loader's start-up, before any thread exists. */
static int resolve(void) {
  int s = atomic_load_explicit(&resolve_state, memory_order_acquire);
  if (s != 0) return s == 2;
  atomic_store(&resolve_state, 1);
  real.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  real.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  real.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  real.posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  real.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  real.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  if (!real.malloc || !real.calloc || !real.realloc || !real.posix_memalign || !real.aligned_alloc || !real.free) {
    static const char msg[] = "test_loss_alloc: dlsym(RTLD_NEXT) found no allocator\n";
    fwrite(msg, 1, sizeof msg - 1, stderr);
    abort();
  }
  atomic_store_explicit(&resolve_state, 2, memory_order_release);
  return 1;
}

/* The library's code: the executable PT_LOAD segments of its object. */
enum { MAX_RANGES = 8 };
typedef struct code_ranges {
  uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
  int count;
} code_ranges;
static code_ranges lib_code;
static atomic_int lib_code_ready;

static int from_library(const void *ret) {
  if (!atomic_load_explicit(&lib_code_ready, memory_order_acquire)) return 0;
  uintptr_t a = (uintptr_t)ret;
  for (int i = 0; i < lib_code.count; ++i)
    if (a >= lib_code.lo[i] && a < lib_code.hi[i]) return 1;
  return 0;
}

typedef struct counts {
  long lib_allocs;   /* allocation calls made by the library's own code */
  long lib_frees;    /* free of a non-NULL pointer by the library's own code */
  long other_allocs; /* allocation calls made by anyone else */
  long lib_bytes;    /* bytes the library asked for */
} counts;

static atomic_int counting;
static atomic_long c_lib_allocs, c_lib_frees, c_other_allocs, c_lib_bytes;

static void note_alloc(const void *ret, size_t bytes) {
  if (!atomic_load_explicit(&counting, memory_order_relaxed)) return;
  if (from_library(ret)) {
    atomic_fetch_add(&c_lib_allocs, 1);
    atomic_fetch_add(&c_lib_bytes, (long)bytes);
  } else {
    atomic_fetch_add(&c_other_allocs, 1);
  }
}

__attribute__((noinline)) void *malloc(size_t size) {
  if (!resolve()) return boot_alloc(size);
  void *p = real.malloc(size);
  note_alloc(__builtin_return_address(0), size);
  return p;
}

__attribute__((noinline)) void *calloc(size_t count, size_t size) {
  if (!resolve()) {
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    return boot_alloc(count * size); /* static storage: already zero */
  }
  void *p = real.calloc(count, size);
  note_alloc(__builtin_return_address(0), count * size);
  return p;
}

__attribute__((noinline)) void *realloc(void *old, size_t size) {
  if (!resolve()) return NULL;
  void *p;
  if (old != NULL && in_boot(old)) {
    size_t had;
    memcpy(&had, (unsigned char *)old - BOOT_HEADER, sizeof had);
    p = real.malloc(size);
    if (p) memcpy(p, old, had < size ? had : size);
  } else {
    p = real.realloc(old, size);
  }
  note_alloc(__builtin_return_address(0), size);
  return p;
}

__attribute__((noinline)) int posix_memalign(void **out, size_t align, size_t size) {
  if (!resolve()) return ENOMEM;
  int r = real.posix_memalign(out, align, size);
  note_alloc(__builtin_return_address(0), size);
  return r;
}

__attribute__((noinline)) void *aligned_alloc(size_t align, size_t size) {
  if (!resolve()) return NULL;
  void *p = real.aligned_alloc(align, size);
  note_alloc(__builtin_return_address(0), size);
  return p;
}

__attribute__((noinline)) void free(void *p) {
  if (p == NULL || in_boot(p)) return;
  if (atomic_load_explicit(&counting, memory_order_relaxed) && from_library(__builtin_return_address(0)))
    atomic_fetch_add(&c_lib_frees, 1);
  if (resolve()) real.free(p);
}

static void count_start(void) {
  atomic_store(&c_lib_allocs, 0);
  atomic_store(&c_lib_frees, 0);
  atomic_store(&c_other_allocs, 0);
  atomic_store(&c_lib_bytes, 0);
  atomic_store(&counting, 1);
}

static counts count_stop(void) {
  atomic_store(&counting, 0);
  return (counts){.lib_allocs = atomic_load(&c_lib_allocs),
                  .lib_frees = atomic_load(&c_lib_frees),
                  .other_allocs = atomic_load(&c_other_allocs),
                  .lib_bytes = atomic_load(&c_lib_bytes)};
}

/* dl_iterate_phdr callback: when the object holds *probe, keep its executable segments. */
static int find_code(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  uintptr_t probe = *(const uintptr_t *)data;
  int holds = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
    if (ph->p_type == PT_LOAD && probe >= lo && probe < lo + (uintptr_t)ph->p_memsz) holds = 1;
  }
  if (!holds) return 0;
  for (int i = 0; i < info->dlpi_phnum && lib_code.count < MAX_RANGES; ++i) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
    lib_code.lo[lib_code.count] = lo;
    lib_code.hi[lib_code.count] = lo + (uintptr_t)ph->p_memsz;
    ++lib_code.count;
  }
  return 1;
}

/* Run from main, before any test or thread. A position-independent executable takes the
   function's address from the GOT, so it is the library's own, not a PLT stub's. */
static void find_library_code(void) {
  logitnorm_status (*create)(logitnorm_loss **, logitnorm_loss_kind, int64_t) = logitnorm_loss_create;
  uintptr_t probe = (uintptr_t)create;
  dl_iterate_phdr(find_code, &probe);
  atomic_store_explicit(&lib_code_ready, 1, memory_order_release);
}

/* Whether the interposers are the ones the process calls: each function called once by this
   program (through volatile pointers, so the compiler keeps the calls). */
static long interposers_reached(void) {
  void *(*volatile m)(size_t) = malloc;
  void *(*volatile c)(size_t, size_t) = calloc;
  void *(*volatile r)(void *, size_t) = realloc;
  int (*volatile pm)(void **, size_t, size_t) = posix_memalign;
  void *(*volatile aa)(size_t, size_t) = aligned_alloc;
  void (*volatile f)(void *) = free;
  count_start();
  void *a = m(24), *b = c(3, 8), *d = r(NULL, 40), *e = NULL, *g = aa(64, 128);
  int pm_status = pm(&e, 64, 100);
  counts n = count_stop();
  f(a);
  f(b);
  f(d);
  if (pm_status == 0) f(e);
  f(g);
  return n.lib_allocs + n.other_allocs;
}

/* ---- the loss entry points ---- */

typedef enum entry {
  E_FORWARD,
  E_BACKWARD,
  E_FORWARD_BACKWARD,
  E_FORWARD_SOFT,
  E_BACKWARD_SOFT,
  E_FORWARD_BACKWARD_SOFT,
  E_FORWARD_STATS,
  E_BACKWARD_STATS,
  E_FORWARD_STATS_SOFT,
  E_BACKWARD_STATS_SOFT,
  E_PROBS,
  E_COUNT
} entry;

typedef struct entry_info {
  const char *name;
  int grad;      /* writes grad (or probs): may run in place */
  int beta;      /* takes beta */
  int stats_in;  /* reads row_stats from forward_stats (the entry before it) */
} entry_info;

static const entry_info entries[E_COUNT] = {
    [E_FORWARD] = {.name = "forward"},
    [E_BACKWARD] = {.name = "backward", .grad = 1, .beta = 1},
    [E_FORWARD_BACKWARD] = {.name = "forward_backward", .grad = 1, .beta = 1},
    [E_FORWARD_SOFT] = {.name = "forward_soft"},
    [E_BACKWARD_SOFT] = {.name = "backward_soft", .grad = 1, .beta = 1},
    [E_FORWARD_BACKWARD_SOFT] = {.name = "forward_backward_soft", .grad = 1, .beta = 1},
    [E_FORWARD_STATS] = {.name = "forward_stats"},
    [E_BACKWARD_STATS] = {.name = "backward_stats", .grad = 1, .beta = 1, .stats_in = 1},
    [E_FORWARD_STATS_SOFT] = {.name = "forward_stats_soft"},
    [E_BACKWARD_STATS_SOFT] = {.name = "backward_stats_soft", .grad = 1, .beta = 1, .stats_in = 1},
    [E_PROBS] = {.name = "probs", .grad = 1},
};

/* The default call, and the two ways a call leaves it besides THREADS > 1. */
typedef enum variant { V_DEFAULT, V_BETA, V_IN_PLACE, V_COUNT } variant;
static const char *const variant_names[V_COUNT] = {"beta = 0", "beta = 0.5", "in place"};

typedef struct shape {
  int64_t n, C;
} shape;

/* n x C >= 32768 in each, so that THREADS = 2 runs two threads (see the top of the file). */
static const shape loss_shapes[] = {{.n = 4096, .C = 10}, {.n = 8, .C = 5000}, {.n = 512, .C = 100}};

/* The buffers of one shape and element type; the logits are restored from z0 before each call
   (an in-place call overwrites them). */
typedef struct fixture {
  int f64;
  int64_t n, C;
  double *z0;
  void *z, *t, *g, *row_loss;
  double *stats;
  int32_t *labels;
} fixture;

static void *xmalloc(size_t bytes) {
  void *p = malloc(bytes);
  ck_assert_ptr_nonnull(p);
  return p;
}

static void store(int f64, void *p, int64_t i, double v) {
  if (f64)
    ((double *)p)[i] = v;
  else
    ((float *)p)[i] = (float)v;
}

static fixture fixture_new(int f64, shape s, uint64_t seed) {
  fixture f = {.f64 = f64, .n = s.n, .C = s.C};
  size_t count = (size_t)(s.n * s.C), elem = f64 ? sizeof(double) : sizeof(float);
  tu_rng r;
  tu_seed(&r, seed);
  f.z0 = xmalloc(count * sizeof(double));
  f.z = xmalloc(count * elem);
  f.t = xmalloc(count * elem);
  f.g = xmalloc(count * elem);
  f.row_loss = xmalloc((size_t)s.n * elem);
  f.stats = xmalloc((size_t)s.n * LOGITNORM_LOSS_ROW_STATS * sizeof(double));
  f.labels = xmalloc((size_t)s.n * sizeof(int32_t));
  for (int64_t i = 0; i < s.n; ++i) {
    f.labels[i] = (int32_t)tu_int(&r, 0, s.C - 1);
    double *t = f.z0 + i * s.C, sum = 0.0; /* z0's row as scratch for the targets */
    for (int64_t c = 0; c < s.C; ++c) {
      t[c] = 0.1 + tu_uniform(&r);
      sum += t[c];
    }
    for (int64_t c = 0; c < s.C; ++c) store(f64, f.t, i * s.C + c, t[c] / sum); /* rows sum to about 1 */
    for (int64_t c = 0; c < s.C; ++c) t[c] = 3.0 * tu_normal(&r);
  }
  return f;
}

static void fixture_free(fixture *f) {
  free(f->z0);
  free(f->z);
  free(f->t);
  free(f->g);
  free(f->row_loss);
  free(f->stats);
  free(f->labels);
}

/* Logits from z0 and the old gradient (read when beta != 0) set to 0.25. */
static void fixture_reset(const fixture *f) {
  for (int64_t i = 0; i < f->n * f->C; ++i) {
    store(f->f64, f->z, i, f->z0[i]);
    store(f->f64, f->g, i, 0.25);
  }
}

static logitnorm_status call_f32(const logitnorm_loss *L, entry e, const fixture *f, float beta, float *grad) {
  const int64_t n = f->n, C = f->C;
  const float *z = f->z, *t = f->t;
  float *rl = f->row_loss;
  double loss = 0.0;
  switch (e) {
    case E_FORWARD: return logitnorm_loss_forward_f32(L, n, z, C, f->labels, &loss, rl);
    case E_BACKWARD: return logitnorm_loss_backward_f32(L, n, z, C, f->labels, NULL, 1.0f, beta, grad, C);
    case E_FORWARD_BACKWARD:
      return logitnorm_loss_forward_backward_f32(L, n, z, C, f->labels, &loss, rl, 1.0f, beta, grad, C);
    case E_FORWARD_SOFT: return logitnorm_loss_forward_soft_f32(L, n, z, C, t, C, &loss, rl);
    case E_BACKWARD_SOFT: return logitnorm_loss_backward_soft_f32(L, n, z, C, t, C, NULL, 1.0f, beta, grad, C);
    case E_FORWARD_BACKWARD_SOFT:
      return logitnorm_loss_forward_backward_soft_f32(L, n, z, C, t, C, &loss, rl, 1.0f, beta, grad, C);
    case E_FORWARD_STATS: return logitnorm_loss_forward_stats_f32(L, n, z, C, f->labels, &loss, rl, f->stats);
    case E_BACKWARD_STATS:
      return logitnorm_loss_backward_stats_f32(L, n, z, C, f->labels, f->stats, NULL, 1.0f, beta, grad, C);
    case E_FORWARD_STATS_SOFT: return logitnorm_loss_forward_stats_soft_f32(L, n, z, C, t, C, &loss, rl, f->stats);
    case E_BACKWARD_STATS_SOFT:
      return logitnorm_loss_backward_stats_soft_f32(L, n, z, C, t, C, f->stats, NULL, 1.0f, beta, grad, C);
    case E_PROBS: return logitnorm_loss_probs_f32(L, n, z, C, grad, C);
    case E_COUNT: break;
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static logitnorm_status call_f64(const logitnorm_loss *L, entry e, const fixture *f, double beta, double *grad) {
  const int64_t n = f->n, C = f->C;
  const double *z = f->z, *t = f->t;
  double *rl = f->row_loss;
  double loss = 0.0;
  switch (e) {
    case E_FORWARD: return logitnorm_loss_forward_f64(L, n, z, C, f->labels, &loss, rl);
    case E_BACKWARD: return logitnorm_loss_backward_f64(L, n, z, C, f->labels, NULL, 1.0, beta, grad, C);
    case E_FORWARD_BACKWARD:
      return logitnorm_loss_forward_backward_f64(L, n, z, C, f->labels, &loss, rl, 1.0, beta, grad, C);
    case E_FORWARD_SOFT: return logitnorm_loss_forward_soft_f64(L, n, z, C, t, C, &loss, rl);
    case E_BACKWARD_SOFT: return logitnorm_loss_backward_soft_f64(L, n, z, C, t, C, NULL, 1.0, beta, grad, C);
    case E_FORWARD_BACKWARD_SOFT:
      return logitnorm_loss_forward_backward_soft_f64(L, n, z, C, t, C, &loss, rl, 1.0, beta, grad, C);
    case E_FORWARD_STATS: return logitnorm_loss_forward_stats_f64(L, n, z, C, f->labels, &loss, rl, f->stats);
    case E_BACKWARD_STATS:
      return logitnorm_loss_backward_stats_f64(L, n, z, C, f->labels, f->stats, NULL, 1.0, beta, grad, C);
    case E_FORWARD_STATS_SOFT: return logitnorm_loss_forward_stats_soft_f64(L, n, z, C, t, C, &loss, rl, f->stats);
    case E_BACKWARD_STATS_SOFT:
      return logitnorm_loss_backward_stats_soft_f64(L, n, z, C, t, C, f->stats, NULL, 1.0, beta, grad, C);
    case E_PROBS: return logitnorm_loss_probs_f64(L, n, z, C, grad, C);
    case E_COUNT: break;
  }
  return LOGITNORM_ERR_INVALID_ARGUMENT;
}

static logitnorm_status call_entry(const logitnorm_loss *L, entry e, const fixture *f, variant v) {
  void *grad = v == V_IN_PLACE ? f->z : f->g;
  double beta = v == V_BETA ? 0.5 : 0.0;
  return f->f64 ? call_f64(L, e, f, beta, grad) : call_f32(L, e, f, (float)beta, grad);
}

static logitnorm_loss *make_loss(int kind, int64_t C, int threads) {
  logitnorm_loss *L = NULL;
  ck_assert_int_eq(logitnorm_loss_create(&L, (logitnorm_loss_kind)kind, C), LOGITNORM_OK);
  ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_THREADS, threads), LOGITNORM_OK);
  return L;
}

/* One measured call and its bound. */
static void check_loss_call(const logitnorm_loss *L, int kind, int threads, entry e, variant v, const fixture *f) {
  fixture_reset(f);
  if (entries[e].stats_in) /* the statistics of these logits, from the forward before it */
    ck_assert_int_eq(call_entry(L, (entry)(e - 1), f, V_DEFAULT), LOGITNORM_OK);
  count_start();
  logitnorm_status st = call_entry(L, e, f, v);
  counts n = count_stop();
  const char *what = f->f64 ? "f64" : "f32";
  ck_assert_msg(st == LOGITNORM_OK, "%s_%s (%s, kind %d, n %lld, C %lld, THREADS %d): status %d: %s",
                entries[e].name, what, variant_names[v], kind, (long long)f->n, (long long)f->C, threads, (int)st,
                logitnorm_last_error());
  const int default_call = v == V_DEFAULT && threads == 1;
  const long bound = default_call ? 0 : 1;
  ck_assert_msg(n.lib_allocs <= bound,
                "%s_%s (%s, kind %d, n %lld, C %lld, THREADS %d): the library made %ld allocations (%ld bytes), "
                "at most %ld allowed",
                entries[e].name, what, variant_names[v], kind, (long long)f->n, (long long)f->C, threads,
                n.lib_allocs, n.lib_bytes, bound);
  ck_assert_msg(n.lib_frees == n.lib_allocs,
                "%s_%s (%s, kind %d, n %lld, C %lld, THREADS %d): %ld allocations but %ld frees by the library",
                entries[e].name, what, variant_names[v], kind, (long long)f->n, (long long)f->C, threads,
                n.lib_allocs, n.lib_frees);
  /* no BLIS and no thread here: nobody else may allocate either (see the top of the file) */
  if (default_call)
    ck_assert_msg(n.other_allocs == 0,
                  "%s_%s (%s, kind %d, n %lld, C %lld, THREADS 1): %ld allocations outside the library's code "
                  "during the call",
                  entries[e].name, what, variant_names[v], kind, (long long)f->n, (long long)f->C,
                  n.other_allocs);
}

/* _i: element type (bit 0) and shape (the rest). */
START_TEST(loss_entry_points) {
  const int f64 = _i & 1;
  const shape s = loss_shapes[_i >> 1];
  fixture f = fixture_new(f64, s, 100 + (uint64_t)_i);
  for (int kind = 0; kind < 2; ++kind)
    for (int threads = 1; threads <= 2; ++threads) {
      logitnorm_loss *L = make_loss(kind, s.C, threads);
      for (int e = 0; e < E_COUNT; ++e)
        for (int v = 0; v < V_COUNT; ++v) {
          if ((v == V_BETA && !entries[e].beta) || (v == V_IN_PLACE && !entries[e].grad)) continue;
          check_loss_call(L, kind, threads, (entry)e, (variant)v, &f);
        }
      logitnorm_loss_free(L);
    }
  fixture_free(&f);
}
END_TEST

/* Rows of 4 MB: the library's exp cache is then a huge-page-aligned block from posix_memalign
   (lib/common/alloc.c), which must count and stay within the bound like any other. */
START_TEST(loss_rows_of_megabytes) {
  const shape s = {.n = 2, .C = 1 << 20};
  fixture f = fixture_new(0, s, 7);
  for (int threads = 1; threads <= 2; ++threads) {
    logitnorm_loss *L = make_loss(LOGITNORM_LOSS_LOGITNORM, s.C, threads);
    check_loss_call(L, LOGITNORM_LOSS_LOGITNORM, threads, E_FORWARD_BACKWARD, V_DEFAULT, &f);
    check_loss_call(L, LOGITNORM_LOSS_LOGITNORM, threads, E_FORWARD_BACKWARD, V_IN_PLACE, &f);
    check_loss_call(L, LOGITNORM_LOSS_LOGITNORM, threads, E_PROBS, V_IN_PLACE, &f);
    logitnorm_loss_free(L);
  }
  fixture_free(&f);
}
END_TEST

/* ---- the linear head ---- */

enum { HEAD_D = 16 };
static const shape head_shapes[] = {{.n = 4096, .C = 10}, {.n = 32, .C = 5000}, {.n = 512, .C = 100}};

/* _i: element type (bit 0) and shape (the rest). Every output, and forward only; the default
   workspace bound (one block of rows) and 256 KB (several blocks, which must share the one
   allocation). */
START_TEST(linear_head) {
  const int f64 = _i & 1;
  const shape s = head_shapes[_i >> 1];
  const int64_t n = s.n, C = s.C, d = HEAD_D;
  const size_t elem = f64 ? sizeof(double) : sizeof(float);
  tu_rng r;
  tu_seed(&r, 200 + (uint64_t)_i);
  void *x = xmalloc((size_t)(n * d) * elem), *w = xmalloc((size_t)(C * d) * elem), *b = xmalloc((size_t)C * elem);
  void *dx = xmalloc((size_t)(n * d) * elem), *dw = xmalloc((size_t)(C * d) * elem);
  void *db = xmalloc((size_t)C * elem), *rl = xmalloc((size_t)n * elem);
  int32_t *labels = xmalloc((size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n * d; ++i) store(f64, x, i, tu_normal(&r));
  for (int64_t i = 0; i < C * d; ++i) store(f64, w, i, 0.3 * tu_normal(&r));
  for (int64_t i = 0; i < C; ++i) store(f64, b, i, 0.1 * tu_normal(&r));
  for (int64_t i = 0; i < n; ++i) labels[i] = (int32_t)tu_int(&r, 0, C - 1);
  for (int threads = 1; threads <= 2; ++threads)
    for (int small = 0; small < 2; ++small)
      for (int outputs = 0; outputs < 2; ++outputs) {
        logitnorm_loss *L = make_loss(LOGITNORM_LOSS_LOGITNORM, C, threads);
        if (small) ck_assert_int_eq(logitnorm_loss_set(L, LOGITNORM_LOSS_WORKSPACE_BYTES, 256 << 10), LOGITNORM_OK);
        memset(dx, 0, (size_t)(n * d) * elem);
        memset(dw, 0, (size_t)(C * d) * elem);
        memset(db, 0, (size_t)C * elem);
        void *ox = outputs ? dx : NULL, *ow = outputs ? dw : NULL, *ob = outputs ? db : NULL;
        double loss = 0.0;
        count_start();
        logitnorm_status st =
            f64 ? logitnorm_loss_linear_forward_backward_f64(L, n, d, x, d, w, d, b, labels, &loss, rl, ox, d, ow, d,
                                                             ob)
                : logitnorm_loss_linear_forward_backward_f32(L, n, d, x, d, w, d, b, labels, &loss, rl, ox, d, ow, d,
                                                             ob);
        counts k = count_stop();
        const char *what = f64 ? "f64" : "f32";
        ck_assert_msg(st == LOGITNORM_OK, "linear_forward_backward_%s (n %lld, C %lld): status %d: %s", what,
                      (long long)n, (long long)C, (int)st, logitnorm_last_error());
        ck_assert_msg(k.lib_allocs <= 1,
                      "linear_forward_backward_%s (n %lld, C %lld, THREADS %d, %s workspace, %s): the library made "
                      "%ld allocations (%ld bytes), at most 1 allowed",
                      what, (long long)n, (long long)C, threads, small ? "256 KB" : "default",
                      outputs ? "all gradients" : "forward only", k.lib_allocs, k.lib_bytes);
        ck_assert_msg(k.lib_frees == k.lib_allocs,
                      "linear_forward_backward_%s (n %lld, C %lld, THREADS %d): %ld allocations but %ld frees by the "
                      "library",
                      what, (long long)n, (long long)C, threads, k.lib_allocs, k.lib_frees);
        logitnorm_loss_free(L);
      }
  free(x);
  free(w);
  free(b);
  free(dx);
  free(dw);
  free(db);
  free(rl);
  free(labels);
}
END_TEST

/* ---- the counter itself ---- */

/* Each interposer counts, and an allocation of the library's own code is recognised as one:
   logitnorm_loss_create allocates its handle (and frees nothing). */
START_TEST(counter_sees_the_library) {
  ck_assert_msg(lib_code.count > 0, "no code segment holds logitnorm_loss_create");
  ck_assert_int_eq(interposers_reached(), 5);
  count_start();
  logitnorm_loss *L = NULL;
  logitnorm_status st = logitnorm_loss_create(&L, LOGITNORM_LOSS_LOGITNORM, 10);
  counts n = count_stop();
  ck_assert_int_eq(st, LOGITNORM_OK);
  ck_assert_msg(n.lib_allocs >= 1,
                "logitnorm_loss_create made no allocation that the counter took for the library's (%ld others): "
                "the attribution by return address does not work here",
                n.other_allocs);
  count_start();
  logitnorm_loss_free(L);
  n = count_stop();
  ck_assert_msg(n.lib_frees >= 1, "logitnorm_loss_free freed nothing the counter took for the library's");
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("loss_alloc");
  TCase *counter = tcase_create("counter");
  tcase_add_test(counter, counter_sees_the_library);
  suite_add_tcase(s, counter);
  TCase *loss = tcase_create("loss");
  tcase_set_timeout(loss, 300);
  tcase_add_loop_test(loss, loss_entry_points, 0, 2 * (int)(sizeof loss_shapes / sizeof loss_shapes[0]));
  tcase_add_test(loss, loss_rows_of_megabytes);
  suite_add_tcase(s, loss);
  TCase *head = tcase_create("linear_head");
  tcase_set_timeout(head, 300);
  tcase_add_loop_test(head, linear_head, 0, 2 * (int)(sizeof head_shapes / sizeof head_shapes[0]));
  suite_add_tcase(s, head);
  return s;
}

int main(void) {
  find_library_code();
  if (interposers_reached() == 0) {
    printf("SKIP: this program's malloc is not the one called (valgrind replaces it): allocations cannot "
           "be counted\n");
    return TU_SKIP;
  }
  return tu_run_suite(suite());
}

#else /* no counting */

int main(void) {
#if defined(LN_SANITIZER_MALLOC)
  printf("SKIP: the sanitizer replaces malloc; allocation calls are counted in plain builds only\n");
#else
  printf("SKIP: counting allocation calls needs ELF interposition (Linux)\n");
#endif
  return TU_SKIP;
}

#endif
