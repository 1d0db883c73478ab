/* CSV/TSV parsing, line by line over a buffer that need not end in a newline or a NUL. */
#include "eval/text.h"

#include <stdlib.h>
#include <string.h>

/* Longer fields are not numbers this reader takes (a double needs at most about 25 digits of
   mantissa and exponent to round-trip; padding is trimmed first). */
#define FIELD_MAX 128

typedef struct text_state {
  const char *name;
  eval_error *err;
  char delimiter;
  int64_t line;
  int seen_content; /* a non-blank, non-comment line was read (the header candidate) */
  int64_t rows, cols, data_line;
  double *vals;
  int64_t cap;
} text_state;

static int is_blank(unsigned char ch) { return ch == ' ' || ch == '\t'; }

/* Field [b, e) with blanks (and one pair of double quotes) removed. */
static void trim_field(const unsigned char **b, const unsigned char **e, char delimiter) {
  while (*b < *e && is_blank(**b) && !(delimiter == '\t' && **b == '\t')) ++*b;
  while (*e > *b && is_blank((*e)[-1]) && !(delimiter == '\t' && (*e)[-1] == '\t')) --*e;
  if (*e - *b >= 2 && **b == '"' && (*e)[-1] == '"') {
    ++*b;
    --*e;
  }
}

/* The field as a number: returns 0 with *v set, or -1. */
static int parse_number(const unsigned char *b, const unsigned char *e, double *v) {
  size_t len = (size_t)(e - b);
  if (len == 0 || len >= FIELD_MAX) return -1;
  char tmp[FIELD_MAX], *end = NULL;
  memcpy(tmp, b, len);
  tmp[len] = '\0';
  *v = strtod(tmp, &end);
  return end == tmp + len ? 0 : -1;
}

/* Up to 40 characters of a field for a message, non-printable ones as '?'. */
static void field_excerpt(const unsigned char *b, const unsigned char *e, char out[48]) {
  size_t n = 0;
  for (; b < e && n < 40; ++b) out[n++] = (*b >= 0x20 && *b < 0x7f && *b != '\'') ? (char)*b : '?';
  if (b < e) {
    memcpy(out + n, "...", 3);
    n += 3;
  }
  out[n] = '\0';
}

/* The next field of [*p, end) into [*b, *e); returns 0, or -1 when the line has no more fields. */
static int next_field(const unsigned char **p, const unsigned char *end, char delimiter, int *first,
                      const unsigned char **b, const unsigned char **e) {
  if (delimiter == ' ') {
    while (*p < end && is_blank(**p)) ++*p;
    if (*p == end) return -1;
    *b = *p;
    while (*p < end && !is_blank(**p)) ++*p;
    *e = *p;
    return 0;
  }
  if (!*first) {
    if (*p == end) return -1; /* the last field ended at the line's end */
    ++*p;                     /* past the delimiter */
  }
  *first = 0;
  *b = *p;
  while (*p < end && **p != (unsigned char)delimiter) ++*p;
  *e = *p;
  trim_field(b, e, delimiter);
  return 0;
}

/* One line that is neither blank nor a comment. */
static int parse_line(text_state *s, const unsigned char *p, const unsigned char *end) {
  if (s->delimiter == EVAL_TEXT_AUTO) {
    s->delimiter = memchr(p, '\t', (size_t)(end - p))  ? '\t'
                   : memchr(p, ',', (size_t)(end - p)) ? ','
                   : memchr(p, ';', (size_t)(end - p)) ? ';'
                                                       : ' ';
  }
  int header_candidate = !s->seen_content;
  s->seen_content = 1;
  if (header_candidate) {
    /* a header when no field is a number */
    const unsigned char *q = p, *b, *e;
    int first = 1, numbers = 0;
    double v;
    while (next_field(&q, end, s->delimiter, &first, &b, &e) == 0) numbers += parse_number(b, e, &v) == 0;
    if (numbers == 0) return 0;
  }
  int64_t count = 0, at = s->rows * (s->cols > 0 ? s->cols : 0);
  const unsigned char *b, *e;
  int first = 1;
  while (next_field(&p, end, s->delimiter, &first, &b, &e) == 0) {
    double v;
    if (parse_number(b, e, &v) != 0) {
      char excerpt[48];
      field_excerpt(b, e, excerpt);
      if (b == e) return eval_fail(s->err, "%s: line %lld: field %lld is empty", s->name, (long long)s->line,
                                   (long long)count + 1);
      return eval_fail(s->err, "%s: line %lld: field %lld ('%s') is not a number", s->name, (long long)s->line,
                       (long long)count + 1, excerpt);
    }
    if (s->cols > 0 && count >= s->cols)
      return eval_fail(s->err, "%s: line %lld: more than the %lld values of line %lld", s->name, (long long)s->line,
                       (long long)s->cols, (long long)s->data_line);
    if (at + count >= s->cap) {
      int64_t cap = s->cap < 1024 ? 1024 : s->cap + s->cap / 2;
      if ((uint64_t)cap > SIZE_MAX / sizeof(double) / 2)
        return eval_fail(s->err, "%s: line %lld: too many values for memory", s->name, (long long)s->line);
      double *grown = realloc(s->vals, (size_t)cap * sizeof *grown);
      if (grown == NULL) return eval_fail(s->err, "%s: line %lld: out of memory", s->name, (long long)s->line);
      s->vals = grown;
      s->cap = cap;
    }
    s->vals[at + count++] = v;
  }
  if (s->cols == 0) {
    s->cols = count;
    s->data_line = s->line;
  } else if (count != s->cols) {
    return eval_fail(s->err, "%s: line %lld: %lld values, but line %lld has %lld", s->name, (long long)s->line,
                     (long long)count, (long long)s->data_line, (long long)s->cols);
  }
  ++s->rows;
  return 0;
}

int eval_text_parse(const unsigned char *buf, size_t size, const char *name, char delimiter, eval_array *out,
                    eval_error *err) {
  out->f32 = NULL;
  out->f64 = NULL;
  out->storage = NULL;
  if (size == 0) return eval_fail(err, "%s: line 1: empty file", name);
  const unsigned char *nul = memchr(buf, 0, size);
  if (nul != NULL)
    return eval_fail(err,
                     "%s: byte %zu: a NUL byte: this is not a text file (a raw binary file needs --dtype; a .npy "
                     "file, the .npy name or magic)",
                     name, (size_t)(nul - buf));
  text_state s = {.name = name, .err = err, .delimiter = delimiter};
  size_t pos = 0;
  while (pos < size) {
    ++s.line;
    const unsigned char *line = buf + pos, *nl = memchr(line, '\n', size - pos);
    const unsigned char *end = nl != NULL ? nl : buf + size;
    pos = (size_t)(end - buf) + 1;
    if (end > line && end[-1] == '\r') --end;
    const unsigned char *p = line;
    while (p < end && is_blank(*p)) ++p;
    if (p == end || *p == '#') continue;
    if (parse_line(&s, line, end) != 0) {
      free(s.vals);
      return -1;
    }
  }
  if (s.rows == 0) {
    free(s.vals);
    return eval_fail(err, "%s: line %lld: no numbers in the file", name, (long long)s.line);
  }
  out->ndim = 2;
  out->rows = s.rows;
  out->cols = s.cols;
  out->f64 = s.vals;
  out->storage = s.vals;
  return 0;
}
