// The cnn_ood demo's --json and --report (SVG) writers: a table of the results and, per model,
// the MSP histograms of the ID test set and of every OOD set.
#include "cnn_ood.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

const char *const cnn_score_names[CNN_NUM_SCORES] = {"msp", "energy"};

namespace {

// A JSON number; NaN/Inf (which the metrics never give for valid input) become null.
void num(FILE *f, double v) {
  if (std::isfinite(v))
    std::fprintf(f, "%.6g", v);
  else
    std::fputs("null", f);
}

void set_metrics(FILE *f, const cnn_set_result &s, int k) {
  std::fputs("\"fpr95\": ", f);
  num(f, s.fpr95[k]);
  std::fputs(", \"auroc\": ", f);
  num(f, s.auroc[k]);
  std::fputs(", \"aupr_in\": ", f);
  num(f, s.aupr_in[k]);
  std::fputs(", \"aupr_out\": ", f);
  num(f, s.aupr_out[k]);
}

const char *const colours[] = {"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"};

// Fraction of `v` in each of `bins` equal bins of [lo, hi].
std::vector<double> histogram(const std::vector<float> &v, int bins, double lo, double hi) {
  std::vector<double> h(bins, 0.0);
  for (float x : v) {
    int b = (int)std::floor((x - lo) / (hi - lo) * bins);
    h[std::min(bins - 1, std::max(0, b))] += 1.0;
  }
  for (double &x : h) x /= v.empty() ? 1.0 : (double)v.size();
  return h;
}

}  // namespace

int write_cnn_json(const char *path, const cnn_run_info &run, const std::vector<cnn_model_result> &models) {
  FILE *f = std::fopen(path, "w");
  if (!f) {
    std::perror(path);
    return -1;
  }
  std::fprintf(f, "{\"run\": {\"data\": \"%s\", \"net\": \"%s\", \"train\": %lld, \"test\": %lld, \"epochs\": %d, "
                  "\"batch\": %d, \"lr\": %g, \"threads\": %d, \"seed\": %llu},\n \"models\": [",
               run.data.c_str(), run.net.c_str(), run.train_n, run.test_n, run.epochs, run.batch, run.lr, run.threads,
               run.seed);
  for (size_t i = 0; i < models.size(); i++) {
    const cnn_model_result &m = models[i];
    std::fprintf(f, "%s\n  {\"loss\": \"%s\", \"tau\": ", i ? "," : "", m.loss.c_str());
    if (m.loss == "logitnorm")
      num(f, m.tau);
    else
      std::fputs("null", f);
    std::fputs(", \"accuracy\": ", f);
    num(f, m.accuracy);
    std::fputs(", \"ece\": ", f);
    num(f, m.ece);
    std::fputs(", \"train_seconds\": ", f);
    num(f, m.train_seconds);
    std::fputs(", \"last_epoch_loss\": ", f);
    num(f, m.last_epoch_loss);
    std::fputs(", \"logit_norm\": ", f);
    num(f, m.logit_norm);
    std::fputs(",\n   \"avg_fpr95\": ", f);
    num(f, m.avg_fpr95[CNN_MSP]);
    std::fputs(", \"avg_auroc\": ", f);
    num(f, m.avg_auroc[CNN_MSP]);
    std::fputs(", \"energy\": {\"avg_fpr95\": ", f);
    num(f, m.avg_fpr95[CNN_ENERGY]);
    std::fputs(", \"avg_auroc\": ", f);
    num(f, m.avg_auroc[CNN_ENERGY]);
    std::fputs("},\n   \"ood\": {", f);
    for (size_t k = 0; k < m.ood.size(); k++) {
      std::fprintf(f, "%s\n    \"%s\": {", k ? "," : "", m.ood[k].name.c_str());
      set_metrics(f, m.ood[k], CNN_MSP);
      std::fputs(", \"logit_norm\": ", f);
      num(f, m.ood[k].logit_norm);
      std::fputs(", \"energy\": {", f);
      set_metrics(f, m.ood[k], CNN_ENERGY);
      std::fputs("}}", f);
    }
    std::fputs("}}", f);
  }
  std::fputs("\n ]}\n", f);
  if (std::fclose(f) != 0) {
    std::perror(path);
    return -1;
  }
  return 0;
}

int write_cnn_svg(const char *path, const cnn_run_info &run, const std::vector<cnn_model_result> &models) {
  if (models.empty()) return -1;
  const size_t sets = models[0].ood.size();
  const int width = 1140, row_h = 22, table_top = 60, panel_w = 460, panel_h = 220, bins = 45;
  const int table_h = row_h * (int)(models.size() + 1);
  const int panels_top = table_top + table_h + 50;
  const int height = panels_top + panel_h + 70;
  FILE *f = std::fopen(path, "w");
  if (!f) {
    std::perror(path);
    return -1;
  }
  std::fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" "
                  "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               width, height);
  std::fprintf(f, "<text x=\"20\" y=\"25\" font-size=\"16\">LibTorch CNN%s on %s: cross-entropy vs LogitNorm</text>\n",
               run.net == "bn" ? " with batch normalisation" : "", run.data.c_str());
  std::fprintf(f, "<text x=\"20\" y=\"43\" fill=\"#555\">%lld training images, %d epoch(s), batch %d, lr %g, seed %llu; "
                  "FPR95 by MSP (ID positive), averages over %zu OOD sets; E. = energy score</text>\n",
               run.train_n, run.epochs, run.batch, run.lr, run.seed, sets);

  // The table: one column per OOD set (FPR95 by MSP), then the averages of both scores.
  std::vector<std::string> head = {"Model", "Accuracy", "ECE"};
  for (const auto &s : models[0].ood) head.push_back(s.name);
  for (const char *h : {"Avg FPR95", "Avg AUROC", "E. FPR95", "E. AUROC"}) head.push_back(h);
  const int col_w = (width - 40 - 150) / (int)(head.size() - 1);
  auto col_x = [&](size_t c) { return c == 0 ? 20 : 170 + col_w * (int)(c - 1); };
  for (size_t c = 0; c < head.size(); c++)
    std::fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">%s</text>\n", col_x(c), table_top + 15,
                 head[c].c_str());
  for (size_t i = 0; i < models.size(); i++) {
    const cnn_model_result &m = models[i];
    int y = table_top + row_h * (int)(i + 1) + 15;
    char name[64];
    if (m.loss == "logitnorm")
      std::snprintf(name, sizeof name, "LogitNorm, tau = %g", m.tau);
    else
      std::snprintf(name, sizeof name, "Cross-entropy");
    std::vector<double> cells = {m.accuracy, m.ece};
    for (const auto &s : m.ood) cells.push_back(s.fpr95[CNN_MSP]);
    for (double v : {m.avg_fpr95[CNN_MSP], m.avg_auroc[CNN_MSP], m.avg_fpr95[CNN_ENERGY], m.avg_auroc[CNN_ENERGY]})
      cells.push_back(v);
    std::fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>\n", col_x(0), y, name);
    for (size_t c = 0; c < cells.size(); c++)
      std::fprintf(f, "<text x=\"%d\" y=\"%d\">%s%.*f%s</text>\n", col_x(c + 1), y, "", c < 2 ? 4 : 1,
                   c < 2 ? cells[c] : 100.0 * cells[c], c < 2 ? "" : "%");
  }

  // MSP histograms, one panel per model (the first two), each over the range of its own scores
  // (a LogitNorm model's MSP stays far below 1 on the raw logits).
  for (size_t i = 0; i < models.size() && i < 2; i++) {
    const cnn_model_result &m = models[i];
    const int x0 = 40 + (int)i * (panel_w + 100), y0 = panels_top;
    float lo_f = 1.0f, hi_f = 0.0f;
    for (float x : m.id_msp) lo_f = std::min(lo_f, x), hi_f = std::max(hi_f, x);
    for (const auto &s : m.ood)
      for (float x : s.msp) lo_f = std::min(lo_f, x), hi_f = std::max(hi_f, x);
    const double lo = std::floor(lo_f * 20.0) / 20.0, hi = std::max(lo + 0.05, std::ceil(hi_f * 20.0) / 20.0);
    std::vector<std::vector<double>> h = {histogram(m.id_msp, bins, lo, hi)};
    for (const auto &s : m.ood) h.push_back(histogram(s.msp, bins, lo, hi));
    double top = 0;
    for (const auto &v : h) top = std::max(top, *std::max_element(v.begin(), v.end()));
    if (top <= 0) top = 1;
    std::fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">MSP, %s</text>\n", x0, y0 - 10,
                 m.loss == "logitnorm" ? "LogitNorm" : "cross-entropy");
    std::fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>\n", x0, y0,
                 panel_w, panel_h);
    for (int t = 0; t <= 4; t++)
      std::fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3g</text>\n", x0 + t * panel_w / 4.0,
                   y0 + panel_h + 15, lo + t * (hi - lo) / 4);
    std::fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"#555\">fraction of each set per bin (max %.2f)</text>\n", x0,
                 y0 + panel_h + 32, top);
    for (size_t k = 0; k < h.size(); k++) {
      const char *colour = k == 0 ? "black" : colours[(k - 1) % 5];
      std::fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" points=\"", colour, k ? "1.2" : "2");
      for (int b = 0; b < bins; b++) {
        double xa = x0 + (double)b / bins * panel_w, xb = x0 + (double)(b + 1) / bins * panel_w;
        double y = y0 + panel_h - h[k][b] / top * (panel_h - 5);
        std::fprintf(f, "%.1f,%.1f %.1f,%.1f ", xa, y, xb, y);
      }
      std::fputs("\"/>\n", f);
      std::fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", x0 + panel_w + 6, y0 + 16 + 14 * (int)k, colour,
                   k == 0 ? "ID test" : m.ood[k - 1].name.c_str());
    }
  }
  std::fputs("</svg>\n", f);
  if (std::fclose(f) != 0) {
    std::perror(path);
    return -1;
  }
  return 0;
}
