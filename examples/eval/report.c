/* Tables and JSON for logitnorm-eval. Tables print fractions as percentages with two decimals;
   JSON prints every number with %.17g, which reads back as the same double. */
#include "eval/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const eval_convention eval_conventions[EVAL_NUM_CONVENTIONS] = {
    {.name = "paper", .positive = LOGITNORM_POSITIVE_ID, .fpr_rule = LOGITNORM_FPR_RULE_NEAREST,
     .aupr_rule = LOGITNORM_AUPR_AVERAGE_PRECISION, .fpr_rule_name = "nearest",
     .aupr_rule_name = "average-precision", .source = "the LogitNorm paper and its code"},
    {.name = "openood", .positive = LOGITNORM_POSITIVE_OOD, .fpr_rule = LOGITNORM_FPR_RULE_OPENOOD,
     .aupr_rule = LOGITNORM_AUPR_TRAPEZOID, .fpr_rule_name = "openood", .aupr_rule_name = "trapezoid",
     .source = "OpenOOD v1.5"},
    {.name = "pytorch-ood", .positive = LOGITNORM_POSITIVE_OOD, .fpr_rule = LOGITNORM_FPR_RULE_AT_LEAST,
     .aupr_rule = LOGITNORM_AUPR_TRAPEZOID, .fpr_rule_name = "at-least", .aupr_rule_name = "trapezoid",
     .source = "pytorch-ood 0.2.0 and later"},
    {.name = "sklearn", .positive = LOGITNORM_POSITIVE_ID, .fpr_rule = LOGITNORM_FPR_RULE_OPENOOD,
     .aupr_rule = LOGITNORM_AUPR_AVERAGE_PRECISION, .fpr_rule_name = "openood",
     .aupr_rule_name = "average-precision",
     .source = "scikit-learn's defaults with ID as class 1"},
};

const eval_values *eval_report_value(const eval_report *r, int c, int s, int k) {
  return &r->values[((size_t)c * (size_t)r->num_scores + (size_t)s) * (size_t)(r->num_ood + 1) + (size_t)k];
}

/* ---------------------------------------------------------------- aligned tables */

#define CELL 48
#define MAX_COLS 8

/* A table of text cells: the first column left-aligned, the others right-aligned. */
typedef struct table {
  int rows, cols, cap;
  char (*cells)[MAX_COLS][CELL];
} table;

static char *cell(table *t, int row, int col) { return t->cells[row][col]; }

static int add_row(table *t) {
  if (t->rows == t->cap) {
    int cap = t->cap ? 2 * t->cap : 16;
    void *grown = realloc(t->cells, (size_t)cap * sizeof *t->cells);
    if (grown == NULL) return -1;
    t->cells = grown;
    t->cap = cap;
  }
  memset(t->cells[t->rows], 0, sizeof *t->cells);
  return t->rows++;
}

static void print_table(FILE *f, const table *t, const char *indent) {
  int width[MAX_COLS] = {0};
  for (int r = 0; r < t->rows; ++r)
    for (int c = 0; c < t->cols; ++c) {
      int w = (int)strlen(t->cells[r][c]);
      if (w > width[c]) width[c] = w;
    }
  char line[MAX_COLS * (CELL + 2) + 16];
  for (int r = 0; r < t->rows; ++r) {
    int n = snprintf(line, sizeof line, "%s", indent);
    for (int c = 0; c < t->cols && n < (int)sizeof line; ++c)
      n += snprintf(line + n, sizeof line - (size_t)n, c == 0 ? "%-*s" : "  %*s", width[c], t->cells[r][c]);
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    while (n > 0 && line[n - 1] == ' ') --n; /* no trailing blanks */
    fprintf(f, "%.*s\n", n, line);
  }
}

/* v as a percentage, "-" when it is NaN; mark adds '*' (best of its column), others a blank. */
static void percent(char *out, double v, int mark) {
  if (isnan(v))
    snprintf(out, CELL, "- ");
  else
    snprintf(out, CELL, "%.2f%c", 100.0 * v, mark ? '*' : ' ');
}

static void score_units(char *out, double v) {
  if (isnan(v))
    snprintf(out, CELL, "-");
  else
    snprintf(out, CELL, "%.6g", v);
}

static const char *const metric_titles[] = {"AUROC", "AUPR-In", "AUPR-Out", "FPR", "threshold", "det. error"};

static void fpr_title(char *out, double level) { snprintf(out, CELL, "FPR@%g%%TPR", 100.0 * level); }

/* The six metric cells of one row, from column `first`; best[6] marks cells. */
static void metric_cells(table *t, int row, int first, const eval_values *v, const int best[6]) {
  percent(cell(t, row, first), v->auroc, best[0]);
  percent(cell(t, row, first + 1), v->aupr_in, best[1]);
  percent(cell(t, row, first + 2), v->aupr_out, best[2]);
  percent(cell(t, row, first + 3), v->fpr, best[3]);
  score_units(cell(t, row, first + 4), v->threshold);
  percent(cell(t, row, first + 5), v->detection_error, best[5]);
}

static void convention_line(FILE *f, const eval_convention *c, double level) {
  fprintf(f, "Convention %s: %s positive, FPR at %g%% TPR by the %s rule, AUPR by %s; as in %s.\n", c->name,
          c->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD", 100.0 * level, c->fpr_rule_name, c->aupr_rule_name,
          c->source);
}

static void threshold_note(FILE *f, const eval_report *r) {
  int id_pos = 0, ood_pos = 0;
  for (int c = 0; c < r->num_conventions; ++c) {
    if (eval_conventions[r->conventions[c]].positive == LOGITNORM_POSITIVE_ID) id_pos = 1;
    else ood_pos = 1;
  }
  fprintf(f, "Values in %%. threshold: in score units");
  if (id_pos) fprintf(f, "; ID positive: a sample is called ID when its score >= threshold");
  if (ood_pos) fprintf(f, "; OOD positive: a sample is called OOD when its score <= threshold");
  fprintf(f, ".\n");
}

/* ood, one convention: a row per OOD set and the average. */
static void ood_table(FILE *f, const eval_report *r, int c) {
  table t = {.cols = 8};
  static const int none[6] = {0};
  int h = add_row(&t);
  if (h < 0) return;
  snprintf(cell(&t, h, 0), CELL, "OOD set");
  snprintf(cell(&t, h, 1), CELL, "count");
  for (int m = 0; m < 6; ++m) snprintf(cell(&t, h, 2 + m), CELL, "%s ", metric_titles[m]);
  fpr_title(cell(&t, h, 5), r->tpr_level);
  strcat(cell(&t, h, 5), " ");
  snprintf(cell(&t, h, 6), CELL, "threshold");
  for (int k = 0; k <= r->num_ood; ++k) {
    if (k == r->num_ood && r->num_ood < 2) break;
    int row = add_row(&t);
    if (row < 0) break;
    if (k < r->num_ood) {
      snprintf(cell(&t, row, 0), CELL, "%s", r->ood[k].name);
      snprintf(cell(&t, row, 1), CELL, "%lld", (long long)r->ood[k].count);
    } else {
      snprintf(cell(&t, row, 0), CELL, "average (%d sets)", r->num_ood);
      snprintf(cell(&t, row, 1), CELL, "-");
    }
    metric_cells(&t, row, 2, eval_report_value(r, c, 0, k), none);
  }
  print_table(f, &t, "");
  free(t.cells);
}

/* ood, every convention side by side: per OOD set, a row per metric and a column per convention. */
static void ood_side_by_side(FILE *f, const eval_report *r) {
  table t = {.cols = 1 + r->num_conventions};
  int h = add_row(&t);
  if (h < 0) return;
  snprintf(cell(&t, h, 0), CELL, "convention");
  for (int c = 0; c < r->num_conventions; ++c) snprintf(cell(&t, h, 1 + c), CELL, "%s ", eval_conventions[r->conventions[c]].name);
  static const char *const rule_rows[] = {"positive", "FPR rule", "AUPR rule"};
  for (int i = 0; i < 3; ++i) {
    int row = add_row(&t);
    if (row < 0) goto done;
    snprintf(cell(&t, row, 0), CELL, "%s", rule_rows[i]);
    for (int c = 0; c < r->num_conventions; ++c) {
      const eval_convention *cv = &eval_conventions[r->conventions[c]];
      const char *v = i == 0 ? (cv->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD")
                      : i == 1 ? cv->fpr_rule_name
                               : cv->aupr_rule_name;
      snprintf(cell(&t, row, 1 + c), CELL, "%s ", v);
    }
  }
  for (int k = 0; k <= r->num_ood; ++k) {
    if (k == r->num_ood && r->num_ood < 2) break;
    int row = add_row(&t);
    if (row < 0) goto done;
    if (k < r->num_ood)
      snprintf(cell(&t, row, 0), CELL, "%s (%lld)", r->ood[k].name, (long long)r->ood[k].count);
    else
      snprintf(cell(&t, row, 0), CELL, "average (%d sets)", r->num_ood);
    for (int m = 0; m < 6; ++m) {
      if (k == r->num_ood && m == 4) continue; /* no average threshold */
      row = add_row(&t);
      if (row < 0) goto done;
      char title[CELL];
      if (m == 3)
        fpr_title(title, r->tpr_level);
      else
        snprintf(title, CELL, "%s", metric_titles[m]);
      snprintf(cell(&t, row, 0), CELL, "  %.*s", CELL - 3, title);
      for (int c = 0; c < r->num_conventions; ++c) {
        const eval_values *v = eval_report_value(r, c, 0, k);
        const double vals[6] = {v->auroc, v->aupr_in, v->aupr_out, v->fpr, v->threshold, v->detection_error};
        if (m == 4) {
          score_units(cell(&t, row, 1 + c), vals[m]);
          strcat(cell(&t, row, 1 + c), " ");
        } else {
          percent(cell(&t, row, 1 + c), vals[m], 0);
        }
      }
    }
  }
  print_table(f, &t, "");
done:
  free(t.cells);
}

/* Whether higher is better for metric m (AUROC and the AUPRs) or lower (FPR, detection error);
   0 for the threshold, which is not ranked. */
static int direction(int m) { return m <= 2 ? 1 : m == 4 ? 0 : -1; }

/* scores, one convention and one set (or the average): a row per score, the best per column marked. */
static void scores_table(FILE *f, const eval_report *r, int c, int k) {
  table t = {.cols = 7};
  int h = add_row(&t);
  if (h < 0) return;
  snprintf(cell(&t, h, 0), CELL, "score");
  for (int m = 0; m < 6; ++m) snprintf(cell(&t, h, 1 + m), CELL, "%s ", metric_titles[m]);
  fpr_title(cell(&t, h, 4), r->tpr_level);
  strcat(cell(&t, h, 4), " ");
  snprintf(cell(&t, h, 5), CELL, "threshold");
  double best[6];
  for (int m = 0; m < 6; ++m) best[m] = direction(m) > 0 ? -INFINITY : INFINITY;
  for (int s = 0; s < r->num_scores; ++s) {
    const eval_values *v = eval_report_value(r, c, s, k);
    const double vals[6] = {v->auroc, v->aupr_in, v->aupr_out, v->fpr, v->threshold, v->detection_error};
    for (int m = 0; m < 6; ++m) {
      if (direction(m) > 0 && vals[m] > best[m]) best[m] = vals[m];
      if (direction(m) < 0 && vals[m] < best[m]) best[m] = vals[m];
    }
  }
  for (int s = 0; s < r->num_scores; ++s) {
    int row = add_row(&t);
    if (row < 0) break;
    const eval_values *v = eval_report_value(r, c, s, k);
    const double vals[6] = {v->auroc, v->aupr_in, v->aupr_out, v->fpr, v->threshold, v->detection_error};
    int mark[6];
    for (int m = 0; m < 6; ++m) mark[m] = direction(m) != 0 && vals[m] == best[m];
    snprintf(cell(&t, row, 0), CELL, "%s", r->score_titles[s]);
    metric_cells(&t, row, 1, v, mark);
  }
  print_table(f, &t, "  ");
  free(t.cells);
}

void eval_print_tables(FILE *f, const eval_report *r) {
  int scores = strcmp(r->command, "scores") == 0;
  fprintf(f, "ID: %s, %lld %s", r->id.file, (long long)r->id.count, scores ? "rows" : "scores");
  if (scores) fprintf(f, " of %lld logits", (long long)r->classes);
  fprintf(f, ". OOD sets: %d.\n", r->num_ood);
  if (!scores) {
    if (r->num_conventions == 1) {
      convention_line(f, &eval_conventions[r->conventions[0]], r->tpr_level);
      fprintf(f, "\n");
      ood_table(f, r, 0);
    } else {
      for (int c = 0; c < r->num_conventions; ++c) convention_line(f, &eval_conventions[r->conventions[c]], r->tpr_level);
      fprintf(f, "\n");
      ood_side_by_side(f, r);
    }
  } else {
    for (int c = 0; c < r->num_conventions; ++c) {
      fprintf(f, "\n");
      convention_line(f, &eval_conventions[r->conventions[c]], r->tpr_level);
      for (int k = 0; k <= r->num_ood; ++k) {
        if (k == r->num_ood && r->num_ood < 2) break;
        if (k < r->num_ood)
          fprintf(f, "\nOOD set %s (%lld rows):\n", r->ood[k].name, (long long)r->ood[k].count);
        else
          fprintf(f, "\nAverage over the %d OOD sets:\n", r->num_ood);
        scores_table(f, r, c, k);
      }
    }
    fprintf(f, "\n* the best of its column. ODIN: MSP at T = %g, without input perturbation.\n", r->odin_temperature);
  }
  threshold_note(f, r);
}

/* ---------------------------------------------------------------- JSON */

void eval_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

/* A number that reads back as the same double; null for NaN and the infinities, which JSON lacks. */
void eval_json_number(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  else
    fputs("null", f);
}

static void json_values(FILE *f, const eval_values *v, int with_threshold) {
  fputs("{\"auroc\": ", f);
  eval_json_number(f, v->auroc);
  fputs(", \"aupr_in\": ", f);
  eval_json_number(f, v->aupr_in);
  fputs(", \"aupr_out\": ", f);
  eval_json_number(f, v->aupr_out);
  fputs(", \"fpr\": ", f);
  eval_json_number(f, v->fpr);
  if (with_threshold) {
    fputs(", \"threshold\": ", f);
    eval_json_number(f, v->threshold);
  }
  fputs(", \"detection_error\": ", f);
  eval_json_number(f, v->detection_error);
  fputs("}", f);
}

static void json_set(FILE *f, const eval_set *s) {
  fputs("{\"name\": ", f);
  eval_json_string(f, s->name);
  fputs(", \"file\": ", f);
  eval_json_string(f, s->file);
  fprintf(f, ", \"count\": %lld}", (long long)s->count);
}

/* {"sets": [...], "average": {...}} of convention c and score s, without the braces. */
static void json_sets(FILE *f, const eval_report *r, int c, int s, const char *indent) {
  fprintf(f, "%s\"sets\": [", indent);
  for (int k = 0; k < r->num_ood; ++k) {
    fprintf(f, "%s\n%s  {\"name\": ", k ? "," : "", indent);
    eval_json_string(f, r->ood[k].name);
    fputs(", \"values\": ", f);
    json_values(f, eval_report_value(r, c, s, k), 1);
    fputs("}", f);
  }
  fprintf(f, "\n%s],\n%s\"average\": ", indent, indent);
  json_values(f, eval_report_value(r, c, s, r->num_ood), 0);
}

void eval_print_json(FILE *f, const eval_report *r) {
  int scores = strcmp(r->command, "scores") == 0;
  fputs("{\n  \"command\": ", f);
  eval_json_string(f, r->command);
  fputs(",\n  \"library_version\": ", f);
  eval_json_string(f, logitnorm_version_string());
  fputs(",\n  \"tpr_level\": ", f);
  eval_json_number(f, r->tpr_level);
  if (scores) {
    fprintf(f, ",\n  \"classes\": %lld,\n  \"odin_temperature\": ", (long long)r->classes);
    eval_json_number(f, r->odin_temperature);
  }
  fputs(",\n  \"id\": ", f);
  json_set(f, &r->id);
  fputs(",\n  \"ood\": [", f);
  for (int k = 0; k < r->num_ood; ++k) {
    fprintf(f, "%s\n    ", k ? "," : "");
    json_set(f, &r->ood[k]);
  }
  fputs("\n  ],\n  \"results\": [", f);
  for (int c = 0; c < r->num_conventions; ++c) {
    const eval_convention *cv = &eval_conventions[r->conventions[c]];
    fprintf(f, "%s\n    {\"convention\": ", c ? "," : "");
    eval_json_string(f, cv->name);
    fprintf(f, ", \"positive\": \"%s\", \"fpr_rule\": ", cv->positive == LOGITNORM_POSITIVE_ID ? "id" : "ood");
    eval_json_string(f, cv->fpr_rule_name);
    fputs(", \"aupr_rule\": ", f);
    eval_json_string(f, cv->aupr_rule_name);
    if (!scores) {
      fputs(",\n", f);
      json_sets(f, r, c, 0, "     ");
    } else {
      fputs(",\n     \"scores\": [", f);
      for (int s = 0; s < r->num_scores; ++s) {
        fprintf(f, "%s\n      {\"score\": ", s ? "," : "");
        eval_json_string(f, r->score_keys[s]);
        fputs(",\n", f);
        json_sets(f, r, c, s, "       ");
        fputs("}", f);
      }
      fputs("\n     ]", f);
    }
    fputs("}", f);
  }
  fputs("\n  ]\n}\n", f);
}
