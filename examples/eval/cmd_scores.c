/* logitnorm-eval scores: logits of an ID set and of OOD sets -> every logit score that needs no
   fitting (eval_score_kinds) -> OOD detection metrics per score. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/cli.h"
#include "eval/detect.h"

#define NUM_KINDS EVAL_NUM_SCORE_KINDS

int eval_run_scores(const eval_settings *s) {
  int nk = s->num_ood, status = EVAL_EXIT_DATA, loaded = 0;
  eval_array arrays[EVAL_MAX_SETS + 1];
  memset(arrays, 0, sizeof arrays);
  int64_t rows[EVAL_MAX_SETS + 1], classes = 0;
  const char *files[EVAL_MAX_SETS + 1];
  eval_set sets[EVAL_MAX_SETS];
  for (; loaded <= nk; ++loaded) {
    files[loaded] = loaded == 0 ? s->id_path : s->ood[loaded - 1].path;
    if (eval_read_logits(files[loaded], &s->read, &arrays[loaded]) != 0) break;
    rows[loaded] = arrays[loaded].rows;
    int64_t cols = arrays[loaded].cols;
    if (loaded == 0) classes = cols;
    if (cols != classes) {
      fprintf(stderr, EVAL_PROG ": %s: %lld columns, but the ID logits (%s) have %lld\n", files[loaded],
              (long long)cols, files[0], (long long)classes);
      break;
    }
    if (loaded > 0)
      sets[loaded - 1] = (eval_set){.name = s->ood[loaded - 1].name, .file = files[loaded], .count = rows[loaded]};
  }
  /* scores[i * (nk + 1) + k]: kind i of set k (k = 0 the ID set) */
  float **scores = calloc((size_t)NUM_KINDS * (size_t)(nk + 1), sizeof *scores);
  eval_view *views = calloc((size_t)NUM_KINDS * (size_t)(nk + 1), sizeof *views);
  int ok = loaded == nk + 1 && scores != NULL && views != NULL;
  if (loaded == nk + 1 && !ok) fprintf(stderr, EVAL_PROG ": out of memory for the scores\n");
  for (int i = 0; i < NUM_KINDS && ok; ++i)
    for (int k = 0; k <= nk && ok; ++k) {
      size_t at = (size_t)i * (size_t)(nk + 1) + (size_t)k;
      scores[at] = malloc((size_t)rows[k] * sizeof **scores);
      if (scores[at] == NULL) {
        fprintf(stderr, EVAL_PROG ": %s: out of memory for %lld scores\n", files[k], (long long)rows[k]);
        ok = 0;
        break;
      }
      ok = eval_score_logits(s, &eval_score_kinds[i], classes, rows[k], arrays[k].f32, files[k], scores[at]) == 0;
      views[at] = (eval_view){.f32 = scores[at], .n = rows[k], .file = files[k]};
    }
  if (ok) {
    char id_name[128], odin_title[64];
    const char *keys[NUM_KINDS], *titles[NUM_KINDS];
    eval_default_name(s->id_path, id_name, sizeof id_name);
    snprintf(odin_title, sizeof odin_title, "ODIN (T = %g)", s->odin_temperature);
    for (int i = 0; i < NUM_KINDS; ++i) {
      keys[i] = eval_score_kinds[i].key;
      titles[i] = eval_score_kinds[i].kind == LOGITNORM_SCORE_ODIN ? odin_title : eval_score_kinds[i].title;
    }
    eval_report r = {.command = "scores",
                     .id = {.name = id_name, .file = s->id_path, .count = rows[0]},
                     .ood = sets,
                     .num_ood = nk,
                     .classes = classes,
                     .odin_temperature = s->odin_temperature,
                     .score_keys = keys,
                     .score_titles = titles,
                     .num_scores = NUM_KINDS};
    status = eval_detect_report(s, &r, views);
  }
  for (int i = 0; scores && i < NUM_KINDS * (nk + 1); ++i) free(scores[i]);
  free(scores);
  free(views);
  for (int k = 0; k <= nk; ++k) eval_array_free(&arrays[k]); /* zeroed or loaded */
  return status;
}
