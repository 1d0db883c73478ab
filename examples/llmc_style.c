/* llmc_style: liblogitnorm inside a training loop written the way llm.c writes one.

   The model is a character bigram table W (V x V): the logits of position (b, t) are the row
   W[inputs[b, t]]. As in llm.c, the logits of all B*T positions live in one buffer whose rows
   are padded to Vp > V columns; the padding is never read or written (here it holds a NaN
   pattern, so a read would show up as a non-finite loss, and a write as a changed pattern).

   Three ways of calling the loss, used in turn, and on the first batch checked against a plain
   double-precision softmax cross-entropy written below (plain_loss_grad):
   1. per-position losses (REDUCTION_NONE), gradients zeroed once and then accumulated with
      beta = 1 and row_scale = 1/(B*T), the way llm.c's backward pass accumulates;
   2. the gradient written in place over the logits (grad == logits, beta = 0, alpha = 1/(B*T)),
      the way llm.c's fused classifier reuses the logits buffer;
   3. the saved-statistics recipe at llm.c's own call sites: the forward pass returns the losses
      and saves LOGITNORM_LOSS_ROW_STATS doubles per position (forward_stats), the backward pass
      uses them (backward_stats) -- no probs buffer, one read of the logits and one write of
      dlogits, the fastest recipe for a trainer whose forward and backward are separate calls.
   A fourth check replaces a real head -- matmul, softmax and loss -- by the fused linear head
   (logitnorm_loss_linear_forward_backward_f32) and compares loss, dx, dW and dbias with the plain
   path (check_linear_head). The program exits non-zero unless the loss falls, every check is
   within its tolerance and the padding is untouched. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

static const char text[] =
    "the quick brown fox jumps over the lazy dog. a bird in the hand is worth two in the bush. "
    "the rain in spain stays mainly in the plain. all that glitters is not gold. "
    "she sells sea shells by the sea shore, and the shells she sells are sea shells for sure. "
    "to be or not to be, that is the question. the early bird catches the worm, and the second "
    "mouse gets the cheese. a stitch in time saves nine. practice makes perfect. "
    "when in rome, do as the romans do. the pen is mightier than the sword. ";

#define B 8
#define T 32
#define BT (B * T)

static uint64_t rng_state = 0x853c49e6748fea9bull;
static uint32_t random_u32(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}
static float random_normal(void) {
  float u1 = ((float)random_u32() + 1.0f) / 4294967296.0f, u2 = (float)random_u32() / 4294967296.0f;
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

#define CHECK(call)                                                                                \
  do {                                                                                             \
    logitnorm_status st_ = (call);                                                                 \
    if (st_ != LOGITNORM_OK) {                                                                     \
      fprintf(stderr, "%s: %s (%s)\n", #call, logitnorm_status_string(st_), logitnorm_last_error()); \
      exit(1);                                                                                     \
    }                                                                                              \
  } while (0)

/* The plain path in double: per-row loss and (1/scale_n) dL/dz, for CROSS_ENTROPY (tau = 0) or
   LogitNorm with temperature tau and eps = 1e-7. With u = k z, k = 1/(tau (||z|| + eps)) and
   g = softmax(u) - onehot(y): dL/dz = k g - (g . u) k tau z / ||z||. */
static void plain_loss_grad(const float *z, int64_t C, int32_t y, double tau, double scale_n, double *row_loss,
                            double *grad) {
  double norm = 0.0, k = 1.0, m = -INFINITY, s = 0.0, gu = 0.0;
  for (int64_t c = 0; c < C; c++) norm += (double)z[c] * z[c];
  norm = sqrt(norm);
  if (tau > 0.0) k = 1.0 / (tau * (norm + 1e-7));
  for (int64_t c = 0; c < C; c++) m = fmax(m, k * z[c]);
  for (int64_t c = 0; c < C; c++) s += exp(k * z[c] - m);
  *row_loss = m + log(s) - k * z[y];
  for (int64_t c = 0; c < C; c++) gu += (exp(k * z[c] - m) / s - (c == y)) * k * z[c];
  for (int64_t c = 0; c < C; c++) {
    double g = exp(k * z[c] - m) / s - (c == y), d = k * g;
    if (tau > 0.0 && norm > 0.0) d -= gu * k * tau * z[c] / norm;
    grad[c] = d / scale_n;
  }
}

/* Largest |a - ref| over the first v columns of rows of stride lda, relative to the largest |ref|. */
static double rel_diff(const float *a, int64_t lda, const double *ref, int64_t rows, int64_t v) {
  double diff = 0.0, top = 0.0;
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < v; j++) {
      diff = fmax(diff, fabs((double)a[i * lda + j] - ref[i * v + j]));
      top = fmax(top, fabs(ref[i * v + j]));
    }
  return top > 0.0 ? diff / top : diff;
}

/* Every float gradient here is a few roundings of float sums over at most V terms away from the
   double one; 1e-5 of the largest gradient (and of each loss) leaves room for that and still fails
   on any wrong term (a missing 1/(B*T), the norm's correction, a shifted column). */
#define TOLERANCE 1e-5

/* The fused linear head against the plain path: a hidden state x (n x d) and an nn.Linear head
   (W: C x d, bias) whose logits, softmax and loss a trainer would compute with a matmul and the
   code above; the one call gives the loss and adds dx = G W, dW = G^T x, dbias = column sums of
   G. Returns the number of failed comparisons. */
static int check_linear_head(int64_t n, int64_t C, double tau) {
  const int64_t d = 24;
  float *x = malloc((size_t)(n * d) * sizeof(float)), *w = malloc((size_t)(C * d) * sizeof(float));
  float *bias = malloc((size_t)C * sizeof(float)), *z = malloc((size_t)C * sizeof(float));
  float *dx = calloc((size_t)(n * d), sizeof(float)), *dw = calloc((size_t)(C * d), sizeof(float));
  float *db = calloc((size_t)C, sizeof(float));
  double *g = malloc((size_t)(n * C) * sizeof(double)), *rdx = calloc((size_t)(n * d), sizeof(double));
  double *rdw = calloc((size_t)(C * d), sizeof(double)), *rdb = calloc((size_t)C, sizeof(double));
  int32_t *labels = malloc((size_t)n * sizeof(int32_t));
  for (int64_t i = 0; i < n * d; i++) x[i] = random_normal();
  for (int64_t i = 0; i < C * d; i++) w[i] = 0.2f * random_normal();
  for (int64_t c = 0; c < C; c++) bias[c] = 0.1f * random_normal();
  for (int64_t i = 0; i < n; i++) labels[i] = (int32_t)(random_u32() % (uint32_t)C);

  /* plain path: z = x W^T + b (float, as a trainer's matmul stores it), loss and G in double */
  double ref_loss = 0.0, row_loss;
  for (int64_t i = 0; i < n; i++) {
    for (int64_t c = 0; c < C; c++) {
      double acc = bias[c];
      for (int64_t j = 0; j < d; j++) acc += (double)x[i * d + j] * w[c * d + j];
      z[c] = (float)acc;
    }
    plain_loss_grad(z, C, labels[i], tau, (double)n, &row_loss, g + i * C);
    ref_loss += row_loss / (double)n;
  }
  for (int64_t i = 0; i < n; i++)
    for (int64_t c = 0; c < C; c++) {
      double gc = g[i * C + c];
      rdb[c] += gc;
      for (int64_t j = 0; j < d; j++) {
        rdx[i * d + j] += gc * w[c * d + j];
        rdw[c * d + j] += gc * x[i * d + j];
      }
    }

  /* the fused head: one call in place of the matmul, the softmax, the loss and the two backward
     matmuls (MEAN over the n rows, as the plain path) */
  logitnorm_loss *head = NULL;
  double loss_value = 0.0;
  CHECK(logitnorm_loss_create(&head, tau > 0.0 ? LOGITNORM_LOSS_LOGITNORM : LOGITNORM_LOSS_CROSS_ENTROPY, C));
  if (tau > 0.0) CHECK(logitnorm_loss_set(head, LOGITNORM_LOSS_TEMPERATURE, tau));
  CHECK(logitnorm_loss_linear_forward_backward_f32(head, n, d, x, d, w, d, bias, labels, &loss_value, NULL, dx, d,
                                                   dw, d, db));
  logitnorm_loss_free(head);
  double e_loss = fabs(loss_value - ref_loss) / fabs(ref_loss), e_dx = rel_diff(dx, d, rdx, n, d);
  double e_dw = rel_diff(dw, d, rdw, C, d), e_db = rel_diff(db, C, rdb, 1, C);
  /* The library's GEMM sums z in another order than the loop above (an ulp of z at most), and
     dx, dW sum over n or C float terms: still far inside TOLERANCE. */
  int fail = !(e_loss <= TOLERANCE && e_dx <= TOLERANCE && e_dw <= TOLERANCE && e_db <= TOLERANCE);
  printf("fused linear head (n = %lld, d = %lld, C = %lld) vs matmul + plain loss: loss %.2e, dx %.2e, dW %.2e, "
         "dbias %.2e (relative; tolerance %.0e)%s\n",
         (long long)n, (long long)d, (long long)C, e_loss, e_dx, e_dw, e_db, TOLERANCE, fail ? "  FAIL" : "");
  free(x); free(w); free(bias); free(z); free(dx); free(dw); free(db);
  free(g); free(rdx); free(rdw); free(rdb); free(labels);
  return fail;
}

/* AdamW as in llm.c: m, v moments, bias correction, decoupled weight decay. */
static void adamw_update(float *params, const float *grads, float *m, float *v, int64_t count, int t, float lr,
                         float beta1, float beta2, float eps, float weight_decay) {
  for (int64_t i = 0; i < count; i++) {
    m[i] = beta1 * m[i] + (1.0f - beta1) * grads[i];
    v[i] = beta2 * v[i] + (1.0f - beta2) * grads[i] * grads[i];
    float m_hat = m[i] / (1.0f - powf(beta1, (float)t)), v_hat = v[i] / (1.0f - powf(beta2, (float)t));
    params[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + weight_decay * params[i]);
  }
}

/* The padding pattern: a NaN with a recognisable payload. */
static float padding_value(void) {
  uint32_t bits = 0x7fc0beefu;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static int padding_untouched(const float *buf, int64_t rows, int64_t v, int64_t vp) {
  float pad = padding_value();
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = v; j < vp; j++)
      if (memcmp(buf + i * vp + j, &pad, sizeof pad) != 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  int steps = 300, use_ce = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--ce")) use_ce = 1;
    else {
      fprintf(stderr, "usage: llmc_style [--steps N] [--ce]\n");
      return 2;
    }
  }
  if (steps < 40) steps = 40;

  /* The vocabulary: the distinct bytes of the text, in byte order. */
  int vocab_of[256], V = 0;
  for (int c = 0; c < 256; c++) vocab_of[c] = -1;
  for (const char *p = text; *p; p++) vocab_of[(unsigned char)*p] = 0;
  for (int c = 0; c < 256; c++)
    if (vocab_of[c] == 0) vocab_of[c] = V++;
  int64_t Vp = (V + 15) / 16 * 16 + 16; /* padded like llm.c's Vp, and always > V */
  int64_t text_len = (int64_t)strlen(text);
  int32_t *tokens = malloc((size_t)text_len * sizeof(int32_t));
  for (int64_t i = 0; i < text_len; i++) tokens[i] = vocab_of[(unsigned char)text[i]];

  float *wte = malloc((size_t)V * V * sizeof(float)); /* W: V rows of V logits */
  float *dwte = calloc((size_t)V * V, sizeof(float));
  float *m = calloc((size_t)V * V, sizeof(float)), *v = calloc((size_t)V * V, sizeof(float));
  float *logits = malloc((size_t)BT * Vp * sizeof(float));
  float *dlogits = malloc((size_t)BT * Vp * sizeof(float));
  float *losses = malloc(BT * sizeof(float)), *row_scale = malloc(BT * sizeof(float));
  double *row_stats = malloc((size_t)BT * LOGITNORM_LOSS_ROW_STATS * sizeof(double));
  int32_t inputs[BT], targets[BT];
  for (int64_t i = 0; i < (int64_t)V * V; i++) wte[i] = 0.02f * random_normal();
  for (int64_t i = 0; i < BT * Vp; i++) logits[i] = dlogits[i] = padding_value();
  for (int i = 0; i < BT; i++) row_scale[i] = 1.0f / BT; /* the mean over B*T positions */

  logitnorm_loss *loss = NULL;
  CHECK(logitnorm_loss_create(&loss, use_ce ? LOGITNORM_LOSS_CROSS_ENTROPY : LOGITNORM_LOSS_LOGITNORM, V));
  if (!use_ce) CHECK(logitnorm_loss_set(loss, LOGITNORM_LOSS_TEMPERATURE, 0.1));
  CHECK(logitnorm_loss_set(loss, LOGITNORM_LOSS_REDUCTION, LOGITNORM_REDUCTION_NONE));
  printf("%s bigram model: V = %d (padded to Vp = %lld), B = %d, T = %d, %d steps\n",
         use_ce ? "cross-entropy" : "LogitNorm (tau = 0.1)", V, (long long)Vp, B, T, steps);

  double first = 0.0, last = 0.0, worst[4] = {0.0, 0.0, 0.0, 0.0}; /* recipes 1-3 and the losses */
  int window = 20, failures = 0;
  for (int step = 1; step <= steps; step++) {
    /* A batch of B random windows: target = the next character. */
    for (int b = 0; b < B; b++) {
      int64_t start = random_u32() % (uint32_t)(text_len - T - 1);
      for (int t = 0; t < T; t++) {
        inputs[b * T + t] = tokens[start + t];
        targets[b * T + t] = tokens[start + t + 1];
      }
    }
    /* forward: only the first V columns of each row are written */
    for (int i = 0; i < BT; i++) memcpy(logits + i * Vp, wte + inputs[i] * V, (size_t)V * sizeof(float));

    double sum_loss = 0.0;
    const float *grad_rows; /* dL/dlogits, rows of Vp */
    if (step % 3 == 1) {
      /* 1. per-position losses; zero the gradient, then accumulate (beta = 1, row_scale = 1/(B*T)) */
      CHECK(logitnorm_loss_forward_f32(loss, BT, logits, Vp, targets, &sum_loss, losses));
      for (int i = 0; i < BT; i++) memset(dlogits + i * Vp, 0, (size_t)V * sizeof(float));
      CHECK(logitnorm_loss_backward_f32(loss, BT, logits, Vp, targets, row_scale, 1.0f, 1.0f, dlogits, Vp));
      if (step == 1) {
        /* The first batch through all three recipes (2 and 3 on copies) and the plain path. */
        double *ref = malloc((size_t)BT * V * sizeof(double)), ref_loss;
        float *copy = malloc((size_t)BT * Vp * sizeof(float)), *sgrad = malloc((size_t)BT * Vp * sizeof(float));
        float *slosses = malloc(BT * sizeof(float));
        for (int64_t i = 0; i < BT * Vp; i++) sgrad[i] = padding_value();
        memcpy(copy, logits, (size_t)BT * Vp * sizeof(float));
        CHECK(logitnorm_loss_forward_backward_f32(loss, BT, copy, Vp, targets, NULL, NULL, 1.0f / BT, 0.0f, copy, Vp));
        CHECK(logitnorm_loss_forward_stats_f32(loss, BT, logits, Vp, targets, NULL, slosses, row_stats));
        CHECK(logitnorm_loss_backward_stats_f32(loss, BT, logits, Vp, targets, row_stats, row_scale, 1.0f, 0.0f,
                                                sgrad, Vp));
        for (int i = 0; i < BT; i++) {
          plain_loss_grad(logits + i * Vp, V, targets[i], use_ce ? 0.0 : 0.1, BT, &ref_loss, ref + i * V);
          worst[3] = fmax(worst[3], fmax(fabs(losses[i] - ref_loss), fabs(slosses[i] - ref_loss)) / ref_loss);
        }
        worst[0] = rel_diff(dlogits, Vp, ref, BT, V);
        worst[1] = rel_diff(copy, Vp, ref, BT, V);
        worst[2] = rel_diff(sgrad, Vp, ref, BT, V);
        if (!padding_untouched(copy, BT, V, Vp) || !padding_untouched(sgrad, BT, V, Vp)) failures++;
        free(ref);
        free(copy);
        free(sgrad);
        free(slosses);
      }
      grad_rows = dlogits;
    } else if (step % 3 == 0) {
      /* 3. saved statistics: the forward returns the losses and keeps 4 doubles per position ... */
      CHECK(logitnorm_loss_forward_stats_f32(loss, BT, logits, Vp, targets, &sum_loss, losses, row_stats));
      /* ... and the backward, a separate call as in llm.c, reads the logits once and writes dlogits */
      CHECK(logitnorm_loss_backward_stats_f32(loss, BT, logits, Vp, targets, row_stats, row_scale, 1.0f, 0.0f,
                                              dlogits, Vp));
      grad_rows = dlogits;
    } else {
      /* 2. in place: the logits buffer becomes dL/dlogits (grad == logits, ldg == ld, beta = 0) */
      CHECK(logitnorm_loss_forward_backward_f32(loss, BT, logits, Vp, targets, &sum_loss, losses, 1.0f / BT, 0.0f,
                                                logits, Vp));
      grad_rows = logits;
    }
    double mean_loss = sum_loss / BT;
    if (!padding_untouched(logits, BT, V, Vp) || !padding_untouched(dlogits, BT, V, Vp)) {
      fprintf(stderr, "step %d: a padded column was written\n", step);
      failures++;
    }
    if (!isfinite(mean_loss)) {
      fprintf(stderr, "step %d: non-finite loss\n", step);
      failures++;
      break;
    }
    /* backward into the table: dW[input] += dlogits row, then AdamW */
    memset(dwte, 0, (size_t)V * V * sizeof(float));
    for (int i = 0; i < BT; i++)
      for (int j = 0; j < V; j++) dwte[inputs[i] * V + j] += grad_rows[i * Vp + j];
    adamw_update(wte, dwte, m, v, (int64_t)V * V, step, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f);

    if (step <= window) first += mean_loss / window;
    if (step > steps - window) last += mean_loss / window;
    if (step == 1 || step % 50 == 0) {
      float lo = losses[0], hi = losses[0];
      for (int i = 1; i < BT; i++) lo = fminf(lo, losses[i]), hi = fmaxf(hi, losses[i]);
      printf("step %4d  mean loss %.4f  (per-position %.3f .. %.3f)  %s\n", step, mean_loss, lo, hi,
             step % 3 == 1 ? "accumulated" : step % 3 == 2 ? "in place" : "saved stats");
    }
  }
  printf("first %d steps: mean loss %.4f; last %d steps: %.4f\n", window, first, window, last);
  printf("first batch vs the plain double path (relative to the largest; tolerance %.0e): row losses %.2e, "
         "gradients: accumulated %.2e, in place %.2e, saved stats %.2e\n",
         TOLERANCE, worst[3], worst[0], worst[1], worst[2]);
  if (!(last < 0.9 * first)) {
    fprintf(stderr, "FAIL: the loss did not fall by 10%%\n");
    failures++;
  }
  if (!(worst[0] <= TOLERANCE && worst[1] <= TOLERANCE && worst[2] <= TOLERANCE && worst[3] <= TOLERANCE)) {
    fprintf(stderr, "FAIL: a recipe's loss or gradient differs from the plain path\n");
    failures++;
  }
  failures += check_linear_head(BT, V, use_ce ? 0.0 : 0.1);
  printf("%s\n", failures ? "FAIL" : "OK: the loss fell, every recipe matched the plain path and the padded columns were never touched");
  logitnorm_loss_free(loss);
  free(tokens);
  free(wte);
  free(dwte);
  free(m);
  free(v);
  free(logits);
  free(dlogits);
  free(losses);
  free(row_scale);
  free(row_stats);
  return failures ? 1 : 0;
}
