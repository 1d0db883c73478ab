// Results of the cnn_ood demo and their writers (cnn_report.cpp, which does not include torch).
#ifndef EXAMPLES_LIBTORCH_CNN_OOD_H
#define EXAMPLES_LIBTORCH_CNN_OOD_H

#include <string>
#include <vector>

enum { CNN_MSP = 0, CNN_ENERGY = 1, CNN_NUM_SCORES = 2 };
extern const char *const cnn_score_names[CNN_NUM_SCORES];

struct cnn_set_result {
  std::string name;
  double fpr95[CNN_NUM_SCORES], auroc[CNN_NUM_SCORES], aupr_in[CNN_NUM_SCORES], aupr_out[CNN_NUM_SCORES];
  double logit_norm = 0;   // mean ||z|| over the set
  std::vector<float> msp;  // MSP of every sample of the set
};

struct cnn_model_result {
  std::string loss;  // "ce" or "logitnorm"
  double tau = 0;    // LogitNorm only
  double accuracy = 0, ece = 0, train_seconds = 0, last_epoch_loss = 0;
  double logit_norm = 0;  // mean ||z|| over the ID test set
  std::vector<float> id_msp;
  std::vector<cnn_set_result> ood;
  double avg_fpr95[CNN_NUM_SCORES] = {0, 0}, avg_auroc[CNN_NUM_SCORES] = {0, 0};
};

// What the run was, for both files.
struct cnn_run_info {
  std::string data;  // "Fashion-MNIST" or "synthetic"
  std::string net;   // "plain" or "bn" (batch normalisation)
  long long train_n = 0, test_n = 0;
  int epochs = 0, batch = 0, threads = 0;
  double lr = 0;
  unsigned long long seed = 0;
};

// Both return 0, or -1 after printing why.
int write_cnn_json(const char *path, const cnn_run_info &run, const std::vector<cnn_model_result> &models);
int write_cnn_svg(const char *path, const cnn_run_info &run, const std::vector<cnn_model_result> &models);

#endif
