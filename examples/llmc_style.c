/* llmc_style: liblogitnorm inside a training loop written the way llm.c writes one.

   The model is a character bigram table W (V x V): the logits of position (b, t) are the row
   W[inputs[b, t]]. As in llm.c, the logits of all B*T positions live in one buffer whose rows
   are padded to Vp > V columns; the padding is never read or written (here it holds a NaN
   pattern, so a read would show up as a non-finite loss, and a write as a changed pattern).

   Two ways of calling the loss, used on alternate steps and checked against each other:
   1. per-position losses (REDUCTION_NONE), gradients zeroed once and then accumulated with
      beta = 1 and row_scale = 1/(B*T), the way llm.c's backward pass accumulates;
   2. the gradient written in place over the logits (grad == logits, beta = 0, alpha = 1/(B*T)),
      the way llm.c's fused classifier reuses the logits buffer.
   The program exits non-zero unless the loss falls and the padding is untouched. */
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

  double first = 0.0, last = 0.0, max_grad_diff = 0.0;
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
    if (step % 2 == 1) {
      /* 1. per-position losses; zero the gradient, then accumulate (beta = 1, row_scale = 1/(B*T)) */
      CHECK(logitnorm_loss_forward_f32(loss, BT, logits, Vp, targets, &sum_loss, losses));
      for (int i = 0; i < BT; i++) memset(dlogits + i * Vp, 0, (size_t)V * sizeof(float));
      CHECK(logitnorm_loss_backward_f32(loss, BT, logits, Vp, targets, row_scale, 1.0f, 1.0f, dlogits, Vp));
      if (step == 1) {
        /* Check variant 2 against variant 1 on the same batch, on a copy of the logits. */
        float *copy = malloc((size_t)BT * Vp * sizeof(float));
        memcpy(copy, logits, (size_t)BT * Vp * sizeof(float));
        CHECK(logitnorm_loss_forward_backward_f32(loss, BT, copy, Vp, targets, NULL, NULL, 1.0f / BT, 0.0f, copy, Vp));
        for (int i = 0; i < BT; i++)
          for (int j = 0; j < V; j++)
            max_grad_diff = fmax(max_grad_diff, fabs((double)copy[i * Vp + j] - dlogits[i * Vp + j]));
        if (!padding_untouched(copy, BT, V, Vp)) failures++;
        free(copy);
      }
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
             step % 2 ? "accumulated" : "in place");
    }
  }
  /* Both variants compute (1/(B*T)) dL_i/dz in float from the same row; they may differ only by
     rounding of the scale (one multiply), so 1e-6 absolute is ample for gradients below 1. */
  printf("first %d steps: mean loss %.4f; last %d steps: %.4f; in-place vs accumulated gradient: max |diff| %.2e\n",
         window, first, window, last, max_grad_diff);
  if (!(last < 0.9 * first)) {
    fprintf(stderr, "FAIL: the loss did not fall by 10%%\n");
    failures++;
  }
  if (max_grad_diff > 1e-6) {
    fprintf(stderr, "FAIL: the in-place gradient differs from the accumulated one\n");
    failures++;
  }
  printf("%s\n", failures ? "FAIL" : "OK: the loss fell and the padded columns were never touched");
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
  return failures ? 1 : 0;
}
