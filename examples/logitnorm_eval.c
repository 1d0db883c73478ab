/* logitnorm-eval: metrics from saved outputs, with liblogitnorm's public API only.

     logitnorm-eval ood --id ID --ood OOD1 [--ood OOD2 ...]             scores -> OOD metrics
     logitnorm-eval scores --id-logits ID --ood-logits OOD1 [...]       logits -> every score -> OOD metrics
     logitnorm-eval selective --confidence C --correct K                risk-coverage metrics
     logitnorm-eval selective --logits Z --labels Y                     (confidence from the logits)
     logitnorm-eval calibration --logits Z --labels Y [--fit-logits ...]  calibration before and after T

   Inputs are .npy, CSV/TSV or raw files (examples/eval/load.h). Every option is one entry of
   option_table, which the parser searches and --help prints, so the two cannot disagree. This
   file parses and dispatches; each command is in examples/eval/cmd_<command>.c.
   Exit status: 0 done, 1 a file or its data was rejected, 2 a usage error. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <logitnorm.h>

#include "eval/cli.h"
#include "eval/report.h"
#include "eval/text.h"

#define PROG EVAL_PROG
#define MAX_SETS EVAL_MAX_SETS
#define EXIT_USAGE EVAL_EXIT_USAGE

typedef enum opt_id {
  OPT_ID, OPT_OOD, OPT_ID_LOGITS, OPT_OOD_LOGITS, OPT_LABEL, OPT_CONFIDENCE, OPT_CORRECT, OPT_LOGITS, OPT_LABELS,
  OPT_SCORE, OPT_FIT_LOGITS, OPT_FIT_LABELS, OPT_BINS, OPT_TPR, OPT_CONVENTION, OPT_ALL_CONVENTIONS, OPT_COVERAGE, OPT_RISK, OPT_RULE, OPT_ODIN_TEMPERATURE,
  OPT_THREADS, OPT_JSON, OPT_SVG, OPT_DTYPE, OPT_SHAPE, OPT_DELIMITER, OPT_HELP, OPT_VERSION
} opt_id;

typedef struct eval_option {
  const char *name;  /* "--id" */
  const char *alias; /* a short form, or NULL */
  opt_id id;
  const char *arg; /* the argument's name in --help, NULL for a flag */
  int commands;    /* EVAL_CMD_ bits */
  const char *help;
} eval_option;

#define CMD_OOD EVAL_CMD_OOD
#define CMD_SCORES EVAL_CMD_SCORES
#define CMD_SELECTIVE EVAL_CMD_SELECTIVE
#define CMD_CALIBRATION EVAL_CMD_CALIBRATION
#define CMD_DETECT EVAL_CMD_DETECT
#define CMD_ANY EVAL_CMD_ANY

static const eval_option option_table[] = {
    {.name = "--id", .id = OPT_ID, .arg = "FILE", .commands = CMD_OOD,
     .help = "the ID set's scores, 1-D (higher = more in-distribution)"},
    {.name = "--ood", .id = OPT_OOD, .arg = "FILE", .commands = CMD_OOD,
     .help = "an OOD set's scores, 1-D; repeat for more sets"},
    {.name = "--id-logits", .id = OPT_ID_LOGITS, .arg = "FILE", .commands = CMD_SCORES,
     .help = "the ID set's logits, 2-D (one row per sample)"},
    {.name = "--ood-logits", .id = OPT_OOD_LOGITS, .arg = "FILE", .commands = CMD_SCORES,
     .help = "an OOD set's logits, with the ID file's columns; repeat for more sets"},
    {.name = "--label", .id = OPT_LABEL, .arg = "NAME", .commands = CMD_DETECT,
     .help = "the name of the next OOD set (default: its file name, without folder and extension)"},
    {.name = "--confidence", .id = OPT_CONFIDENCE, .arg = "FILE", .commands = CMD_SELECTIVE,
     .help = "each sample's confidence in its prediction, 1-D (higher = more confident)"},
    {.name = "--correct", .id = OPT_CORRECT, .arg = "FILE", .commands = CMD_SELECTIVE,
     .help = "1 where the prediction was right and 0 where it was wrong, 1-D, with --confidence"},
    {.name = "--logits", .id = OPT_LOGITS, .arg = "FILE", .commands = CMD_SELECTIVE | CMD_CALIBRATION,
     .help = "logits, 2-D (one row per sample): the prediction is the argmax of a row; selective: the "
             "confidence is its --score"},
    {.name = "--labels", .id = OPT_LABELS, .arg = "FILE", .commands = CMD_SELECTIVE | CMD_CALIBRATION,
     .help = "the true class of each row of --logits, 1-D integers in [0, columns)"},
    {.name = "--score", .id = OPT_SCORE, .arg = "NAME", .commands = CMD_SELECTIVE,
     .help = "the confidence taken from --logits: msp (default), max_logit, energy, entropy, gen, max_cosine "
             "or odin"},
    {.name = "--fit-logits", .id = OPT_FIT_LOGITS, .arg = "FILE", .commands = CMD_CALIBRATION,
     .help = "held-out logits to fit the temperature on, with --logits' columns (default: fit on --logits "
             "itself, which flatters the values after scaling)"},
    {.name = "--fit-labels", .id = OPT_FIT_LABELS, .arg = "FILE", .commands = CMD_CALIBRATION,
     .help = "the labels of --fit-logits"},
    {.name = "--bins", .id = OPT_BINS, .arg = "N", .commands = CMD_CALIBRATION,
     .help = "bins of ECE, MCE, RMSCE and the reliability diagram, in [1, 10000] (default 15)"},
    {.name = "--tpr", .id = OPT_TPR, .arg = "LEVEL", .commands = CMD_DETECT,
     .help = "the TPR level of the FPR and its threshold, in (0, 1] (default 0.95)"},
    {.name = "--convention", .id = OPT_CONVENTION, .arg = "NAME", .commands = CMD_DETECT,
     .help = "paper (default), openood, pytorch-ood or sklearn: the positive class, FPR rule and AUPR rule"},
    {.name = "--all-conventions", .id = OPT_ALL_CONVENTIONS, .commands = CMD_DETECT,
     .help = "every convention, side by side"},
    {.name = "--coverage", .id = OPT_COVERAGE, .arg = "LEVEL", .commands = CMD_SELECTIVE,
     .help = "the coverage of the risk at a coverage, in (0, 1] (default 0.8)"},
    {.name = "--risk", .id = OPT_RISK, .arg = "LEVEL", .commands = CMD_SELECTIVE,
     .help = "the risk of the coverage at a risk, in [0, 1] (default 0.05)"},
    {.name = "--rule", .id = OPT_RULE, .arg = "NAME", .commands = CMD_SELECTIVE,
     .help = "trapezoid (default; fd-shifts), geifman (the E-AURC paper's code) or per-sample "
             "(torch-uncertainty): how AURC, E-AURC and AUGRC are computed"},
    {.name = "--odin-temperature", .id = OPT_ODIN_TEMPERATURE, .arg = "T", .commands = CMD_SCORES | CMD_SELECTIVE,
     .help = "ODIN's temperature (default 1000); ODIN is scored without input perturbation"},
    {.name = "--threads", .id = OPT_THREADS, .arg = "N", .commands = CMD_SCORES | CMD_SELECTIVE,
     .help = "threads of each scorer, in [1, 1024] (default 1)"},
    {.name = "--json", .id = OPT_JSON, .commands = CMD_ANY,
     .help = "JSON on standard output instead of the tables (numbers round-trip as doubles)"},
    {.name = "--svg", .id = OPT_SVG, .arg = "FILE", .commands = CMD_ANY,
     .help = "also write the figures as an SVG file: score histograms and ROC curves (ood, scores), the "
             "risk-coverage curve (selective), reliability diagrams (calibration)"},
    {.name = "--dtype", .id = OPT_DTYPE, .arg = "TYPE", .commands = CMD_ANY,
     .help = "read files that are neither .npy nor .csv/.tsv/.txt as raw little-endian f16, f32, f64, i32 or i64"},
    {.name = "--shape", .id = OPT_SHAPE, .arg = "N|NxC", .commands = CMD_ANY,
     .help = "raw files: N values, or N rows of C values; N = -1 (the default) takes N from the file size"},
    {.name = "--delimiter", .id = OPT_DELIMITER, .arg = "D", .commands = CMD_ANY,
     .help = "text files: ',' ';' tab or space (default: the first of tab, ',' and ';' on the first line, else "
             "blanks)"},
    {.name = "--help", .alias = "-h", .id = OPT_HELP, .commands = CMD_ANY, .help = "this help"},
    {.name = "--version", .id = OPT_VERSION, .commands = CMD_ANY, .help = "the version of the library in use"},
};
#define NUM_OPTIONS (int)(sizeof option_table / sizeof *option_table)

/* The commands, in the order --help lists them. */
static const struct {
  const char *name;
  int bit;
} commands[] = {{"ood", CMD_OOD}, {"scores", CMD_SCORES}, {"selective", CMD_SELECTIVE},
                {"calibration", CMD_CALIBRATION}};
#define NUM_COMMANDS (int)(sizeof commands / sizeof *commands)

static const char *const risk_rule_names[] = {"trapezoid", "geifman", "per-sample"}; /* logitnorm_risk_rule */

static void print_help(FILE *f) {
  fprintf(f,
          "Usage: " PROG " ood --id FILE --ood FILE [--ood FILE ...] [options]\n"
          "       " PROG " scores --id-logits FILE --ood-logits FILE [--ood-logits FILE ...] [options]\n"
          "       " PROG " selective (--confidence FILE --correct FILE | --logits FILE --labels FILE) [options]\n"
          "       " PROG " calibration --logits FILE --labels FILE [--fit-logits FILE --fit-labels FILE] [options]\n"
          "\n"
          "Metrics from saved outputs, computed by liblogitnorm.\n"
          "  ood        reads scores (higher = more in-distribution) and prints AUROC, AUPR-In, AUPR-Out,\n"
          "             the FPR and its threshold at a TPR level, and the detection error, per OOD set\n"
          "             and averaged over the sets.\n"
          "  scores     reads logits, scores them with MSP, max-logit, energy, negative entropy, GEN,\n"
          "             max-cosine and ODIN (MSP at its temperature), and prints the same metrics per\n"
          "             score, the best of each column marked with *.\n"
          "  selective  reads confidences and whether each prediction was right (or logits and labels:\n"
          "             right = the argmax is the label) and prints the risk-coverage metrics AURC,\n"
          "             E-AURC, AUGRC, the risk at a coverage and the coverage at a risk, and the accuracy.\n"
          "  calibration  reads logits and labels, fits the temperature T of temperature scaling, and\n"
          "             prints accuracy, NLL, Brier, ECE, MCE, RMSCE and classwise ECE under equal-width\n"
          "             and equal-mass bins, before and after dividing the logits by T.\n"
          "\n"
          "Files: .npy (versions 1.0, 2.0, 3.0; float16, float32, float64, int32, int64; C order);\n"
          "CSV/TSV text (one value per line for scores, one row per sample for logits; blank lines,\n"
          "'#' lines and a first line without numbers are skipped); raw little-endian data with\n"
          "--dtype and --shape. f16 and f32 data are used as float32 and the rest as float64;\n"
          "the scorers read float32 logits.\n"
          "\n"
          "Conventions (docs/metrics.md):\n");
  for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c) {
    const eval_convention *cv = &eval_conventions[c];
    fprintf(f, "  %-12s %s positive, FPR rule %s, AUPR %s: %s\n", cv->name,
            cv->positive == LOGITNORM_POSITIVE_ID ? "ID" : "OOD", cv->fpr_rule_name, cv->aupr_rule_name, cv->source);
  }
  fprintf(f, "\nOptions:\n");
  for (int i = 0; i < NUM_OPTIONS; ++i) {
    const eval_option *o = &option_table[i];
    char head[64];
    snprintf(head, sizeof head, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
             o->arg ? " " : "", o->arg ? o->arg : "");
    /* the commands of an option that not every command has, as " (ood, scores)" */
    char only[64] = "";
    for (int c = 0, n = 0; c < NUM_COMMANDS && o->commands != CMD_ANY; ++c)
      if (o->commands & commands[c].bit) {
        size_t at = strlen(only);
        snprintf(only + at, sizeof only - at, "%s%s", n++ ? ", " : " (", commands[c].name);
      }
    if (only[0] != '\0') strcat(only, ")");
    char text[512];
    snprintf(text, sizeof text, "%s%s", o->help, only);
    /* words wrapped at 100 columns, continuation lines under the first */
    fprintf(f, "  %-26s", head);
    int col = 28;
    for (const char *w = text; *w != '\0';) {
      size_t len = strcspn(w, " ");
      if (col > 28 && col + 1 + (int)len > 100) {
        fprintf(f, "\n%28s", "");
        col = 28;
      }
      fprintf(f, " %.*s", (int)len, w);
      col += 1 + (int)len;
      w += len;
      while (*w == ' ') ++w;
    }
    fputc('\n', f);
  }
  fprintf(f, "\nExit status: 0 done, 1 a file or its data was rejected, 2 a usage error.\n");
}

/* Prints the message and a pointer to --help; returns the usage error's exit status. */
static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, PROG ": ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\nTry '" PROG " --help'.\n");
  va_end(ap);
  return EXIT_USAGE;
}

/* ---------------------------------------------------------------- parsing */

static int parse_double(const char *s, double *v) {
  char *end = NULL;
  *v = strtod(s, &end);
  return end != s && *end == '\0' ? 0 : -1;
}

/* N or NxC; N may be -1 ("from the file size"), C >= 1. */
static int parse_shape(const char *s, int64_t *rows, int64_t *cols) {
  char *end = NULL;
  long long n = strtoll(s, &end, 10);
  if (end == s || n < -1) return -1;
  *rows = n;
  *cols = 0;
  if (*end == '\0') return 0;
  if (*end != 'x' && *end != 'X') return -1;
  const char *c = end + 1;
  long long k = strtoll(c, &end, 10);
  if (end == c || *end != '\0' || k < 1) return -1;
  *cols = k;
  return 0;
}

/* A file option that may be given once. */
static int set_path(const char **path, const eval_option *o, const char *v) {
  if (*path != NULL) return usage_error("%s is given twice", o->name);
  *path = v;
  return 0;
}

/* Applies one option; returns 0 or a usage error's exit status. */
static int apply_option(eval_settings *s, const eval_option *o, const char *v) {
  switch (o->id) {
    case OPT_ID:
    case OPT_ID_LOGITS:
      if (s->id_path != NULL) return usage_error("%s is given twice", o->name);
      s->id_path = v;
      return 0;
    case OPT_OOD:
    case OPT_OOD_LOGITS: {
      if (s->num_ood == MAX_SETS) return usage_error("at most %d OOD sets", MAX_SETS);
      eval_input *in = &s->ood[s->num_ood++];
      in->path = v;
      if (s->pending_label != NULL)
        snprintf(in->name, sizeof in->name, "%s", s->pending_label);
      else
        eval_default_name(v, in->name, sizeof in->name);
      s->pending_label = NULL;
      return 0;
    }
    case OPT_CONFIDENCE: return set_path(&s->confidence_path, o, v);
    case OPT_CORRECT: return set_path(&s->correct_path, o, v);
    case OPT_LOGITS: return set_path(&s->logits_path, o, v);
    case OPT_LABELS: return set_path(&s->labels_path, o, v);
    case OPT_FIT_LOGITS: return set_path(&s->fit_logits_path, o, v);
    case OPT_FIT_LABELS: return set_path(&s->fit_labels_path, o, v);
    case OPT_BINS: {
      double b;
      if (parse_double(v, &b) != 0 || b != floor(b) || b < 1 || b > 10000)
        return usage_error("--bins %s is not an integer in [1, 10000]", v);
      s->bins = (int)b;
      return 0;
    }
    case OPT_SCORE:
      for (int k = 0; k < EVAL_NUM_SCORE_KINDS; ++k)
        if (strcmp(v, eval_score_kinds[k].key) == 0) {
          s->score = k;
          s->score_given = 1;
          return 0;
        }
      return usage_error("unknown score '%s' (msp, max_logit, energy, entropy, gen, max_cosine, odin)", v);
    case OPT_COVERAGE:
      if (parse_double(v, &s->coverage) != 0 || !(s->coverage > 0.0 && s->coverage <= 1.0))
        return usage_error("--coverage %s is not a level in (0, 1]", v);
      return 0;
    case OPT_RISK:
      if (parse_double(v, &s->risk) != 0 || !(s->risk >= 0.0 && s->risk <= 1.0))
        return usage_error("--risk %s is not a level in [0, 1]", v);
      return 0;
    case OPT_RULE:
      for (int r = 0; r < 3; ++r)
        if (strcmp(v, risk_rule_names[r]) == 0) {
          s->risk_rule = r;
          return 0;
        }
      return usage_error("unknown risk rule '%s' (trapezoid, geifman, per-sample)", v);
    case OPT_LABEL:
      if (s->pending_label != NULL) return usage_error("two --label options before one OOD set ('%s')", v);
      s->pending_label = v;
      return 0;
    case OPT_TPR:
      if (parse_double(v, &s->tpr) != 0 || !(s->tpr > 0.0 && s->tpr <= 1.0))
        return usage_error("--tpr %s is not a level in (0, 1]", v);
      return 0;
    case OPT_CONVENTION:
      for (int c = 0; c < EVAL_NUM_CONVENTIONS; ++c)
        if (strcmp(v, eval_conventions[c].name) == 0) {
          s->convention = c;
          s->convention_given = 1;
          return 0;
        }
      return usage_error("unknown convention '%s' (paper, openood, pytorch-ood, sklearn)", v);
    case OPT_ALL_CONVENTIONS: s->all_conventions = 1; return 0;
    case OPT_ODIN_TEMPERATURE:
      if (parse_double(v, &s->odin_temperature) != 0 || !(s->odin_temperature > 0.0) || isinf(s->odin_temperature))
        return usage_error("--odin-temperature %s is not a positive number", v);
      return 0;
    case OPT_THREADS: {
      double t;
      if (parse_double(v, &t) != 0 || t != floor(t) || t < 1 || t > 1024)
        return usage_error("--threads %s is not an integer in [1, 1024]", v);
      s->threads = (int)t;
      return 0;
    }
    case OPT_JSON: s->json = 1; return 0;
    case OPT_SVG: s->svg_path = v; return 0;
    case OPT_DTYPE:
      if (eval_dtype_parse(v, &s->read.dtype) != 0)
        return usage_error("--dtype %s is not one of f16, f32, f64, i32, i64", v);
      s->read.raw = 1;
      return 0;
    case OPT_SHAPE:
      if (parse_shape(v, &s->read.raw_rows, &s->read.raw_cols) != 0)
        return usage_error("--shape %s is not N or NxC (N >= 0 or -1, C >= 1)", v);
      return 0;
    case OPT_DELIMITER:
      if (strcmp(v, "tab") == 0 || strcmp(v, "\\t") == 0 || strcmp(v, "\t") == 0)
        s->read.delimiter = '\t';
      else if (strcmp(v, "space") == 0 || strcmp(v, " ") == 0)
        s->read.delimiter = ' ';
      else if (strcmp(v, ",") == 0 || strcmp(v, ";") == 0)
        s->read.delimiter = v[0];
      else
        return usage_error("--delimiter %s is not ',', ';', tab or space", v);
      return 0;
    case OPT_HELP:
    case OPT_VERSION: return 0; /* handled before */
  }
  return 0;
}

/* What ood and scores need after parsing; -1 when it is there, else a usage error's status. */
static int check_detect(const eval_settings *s) {
  const char *id_opt = s->command == CMD_OOD ? "--id" : "--id-logits";
  const char *ood_opt = s->command == CMD_OOD ? "--ood" : "--ood-logits";
  if (s->id_path == NULL) return usage_error("missing %s FILE", id_opt);
  if (s->num_ood == 0) return usage_error("missing %s FILE (at least one OOD set)", ood_opt);
  if (s->pending_label != NULL)
    return usage_error("--label %s names no OOD set (put it before %s)", s->pending_label, ood_opt);
  if (s->all_conventions && s->convention_given)
    return usage_error("--convention and --all-conventions exclude each other");
  return -1;
}

/* selective takes one pair of inputs: --confidence with --correct, or --logits with --labels. */
static int check_selective(const eval_settings *s) {
  int scored = s->confidence_path != NULL || s->correct_path != NULL;
  int logits = s->logits_path != NULL || s->labels_path != NULL;
  if (scored && logits) return usage_error("give --confidence and --correct, or --logits and --labels, not both");
  if (!scored && !logits) return usage_error("missing --confidence FILE --correct FILE, or --logits FILE --labels FILE");
  if (scored && s->confidence_path == NULL) return usage_error("missing --confidence FILE (with --correct)");
  if (scored && s->correct_path == NULL) return usage_error("missing --correct FILE (with --confidence)");
  if (logits && s->logits_path == NULL) return usage_error("missing --logits FILE (with --labels)");
  if (logits && s->labels_path == NULL) return usage_error("missing --labels FILE (with --logits)");
  if (scored && s->score_given) return usage_error("--score chooses the confidence of --logits, not of --confidence");
  return -1;
}

/* calibration takes --logits and --labels, and --fit-logits with --fit-labels or neither. */
static int check_calibration(const eval_settings *s) {
  if (s->logits_path == NULL) return usage_error("missing --logits FILE");
  if (s->labels_path == NULL) return usage_error("missing --labels FILE");
  if ((s->fit_logits_path == NULL) != (s->fit_labels_path == NULL))
    return usage_error("give --fit-logits and --fit-labels together");
  return -1;
}

/* Parses argv into s; returns -1 when done, or an exit status (0 after --help or --version). */
static int parse_args(int argc, char **argv, eval_settings *s) {
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      print_help(stdout);
      return 0;
    } else if (strcmp(argv[i], "--version") == 0) {
      printf(PROG " %s (liblogitnorm %s)\n", LOGITNORM_VERSION_STRING, logitnorm_version_string());
      return 0;
    }
  if (argc < 2) return usage_error("missing the command: ood, scores, selective or calibration");
  const char *cmd = argv[1];
  for (int c = 0; c < NUM_COMMANDS; ++c)
    if (strcmp(cmd, commands[c].name) == 0) s->command = commands[c].bit;
  if (s->command == 0) return usage_error("unknown command '%s' (ood, scores, selective or calibration)", cmd);
  for (int i = 2; i < argc; ++i) {
    const char *arg = argv[i], *value = NULL;
    char name[64];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, arg, len);
    name[len] = '\0';
    const eval_option *o = NULL;
    for (int k = 0; k < NUM_OPTIONS && o == NULL; ++k)
      if (strcmp(name, option_table[k].name) == 0 || (option_table[k].alias && strcmp(name, option_table[k].alias) == 0))
        o = &option_table[k];
    if (o == NULL)
      return arg[0] == '-' ? usage_error("unknown option '%s'", arg) : usage_error("unexpected argument '%s'", arg);
    if (!(o->commands & s->command))
      return usage_error("%s is not an option of '%s'", o->name, cmd);
    if (o->arg != NULL) {
      if (eq != NULL)
        value = eq + 1;
      else if (i + 1 < argc)
        value = argv[++i];
      else
        return usage_error("%s needs an argument %s", o->name, o->arg);
    } else if (eq != NULL) {
      return usage_error("%s takes no argument", o->name);
    }
    int st = apply_option(s, o, value);
    if (st != 0) return st;
  }
  return s->command == CMD_SELECTIVE     ? check_selective(s)
         : s->command == CMD_CALIBRATION ? check_calibration(s)
                                         : check_detect(s);
}

int main(int argc, char **argv) {
  eval_settings s = {.tpr = 0.95,
                     .convention = 0,
                     .odin_temperature = 1000.0,
                     .threads = 1,
                     .coverage = 0.8,
                     .risk = 0.05,
                     .risk_rule = LOGITNORM_RISK_RULE_TRAPEZOID,
                     .bins = 15,
                     .read = {.delimiter = EVAL_TEXT_AUTO, .raw_rows = -1, .raw_cols = 0}};
  int st = parse_args(argc, argv, &s);
  if (st >= 0) return st;
  switch (s.command) {
    case CMD_OOD: return eval_run_ood(&s);
    case CMD_SCORES: return eval_run_scores(&s);
    case CMD_SELECTIVE: return eval_run_selective(&s);
    default: return eval_run_calibration(&s);
  }
}
