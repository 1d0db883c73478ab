/* logitnorm-eval ood: saved scores of an ID set and of OOD sets -> OOD detection metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/cli.h"
#include "eval/detect.h"

int eval_run_ood(const eval_settings *s) {
  int nk = s->num_ood, status = EVAL_EXIT_DATA;
  eval_array arrays[EVAL_MAX_SETS + 1];
  memset(arrays, 0, sizeof arrays);
  eval_view views[EVAL_MAX_SETS + 1];
  eval_set sets[EVAL_MAX_SETS];
  char id_name[128];
  eval_default_name(s->id_path, id_name, sizeof id_name);
  int loaded = 0;
  for (; loaded <= nk; ++loaded) {
    const char *path = loaded == 0 ? s->id_path : s->ood[loaded - 1].path;
    if (eval_read_vector(path, &s->read, "scores", &arrays[loaded]) != 0) break;
    views[loaded] = (eval_view){.f32 = arrays[loaded].f32, .f64 = arrays[loaded].f64, .n = arrays[loaded].rows,
                                .file = path};
    if (loaded > 0)
      sets[loaded - 1] = (eval_set){.name = s->ood[loaded - 1].name, .file = path, .count = views[loaded].n};
  }
  if (loaded == nk + 1) {
    static const char *const keys[] = {"score"}, *const titles[] = {"score"};
    eval_report r = {.command = "ood",
                     .id = {.name = id_name, .file = s->id_path, .count = views[0].n},
                     .ood = sets,
                     .num_ood = nk,
                     .score_keys = keys,
                     .score_titles = titles,
                     .num_scores = 1};
    status = eval_detect_report(s, &r, views);
  }
  for (int i = 0; i < loaded && i <= nk; ++i) eval_array_free(&arrays[i]);
  return status;
}
