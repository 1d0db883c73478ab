// liblogitnorm in LibTorch: a torch::autograd::Function that computes the loss of a
// logitnorm_loss handle (LogitNorm or cross-entropy) on a CPU float, double, bfloat16 or half
// [N, C] tensor, and a module LogitNormLoss with PyTorch's option names. Header-only (C++17),
// installed beside logitnorm.h. In CMake, link logitnorm::torch (liblogitnorm, LibTorch and
// C++17): the package defines it after find_package(Torch), or with find_package(logitnorm 1
// COMPONENTS torch).
//
// Data movement. Logits whose rows are contiguous (stride(1) == 1, any row stride >= C, e.g. a
// [N, ld] tensor sliced to [:, :C]) are read in place with ld = stride(0); any other layout is
// made contiguous once. int64 labels are converted to int32 (the library's label type). Nothing
// but new tensors is written.
// Half precision (liblogitnorm 1.2). torch::kBFloat16 and torch::kHalf logits (and probability
// targets of the same dtype) go to the library's _bf16 / _f16 entry points as they are, never
// converted to float: the arithmetic is the float kernels' own on the exactly widened values, and
// the gradient, of the logits' dtype, is the float gradient rounded once to nearest-even. The loss
// (and the row losses of NONE) stays float, as the C API returns it, and so does the upstream
// gradient that multiplies the result. With grad_in_forward = true (below) an upstream gradient
// other than 1 (a scaled loss) multiplies the already rounded half gradient in float and rounds
// again; with grad_in_forward = false it goes to the library as alpha or row_scale and the
// gradient is rounded once (the better choice for f16 under loss scaling: f16's range ends at
// 65504 and its subnormals start below 6.1e-5). Half support needs liblogitnorm 1.2's header
// (LOGITNORM_TORCH_HALF is then 1).
// The gradient is
//   reduced loss (MEAN, SUM):  grad = grad_output * dL/dz
//   NONE:                      grad_i = grad_output_i * dL_i/dz_i
// computed in one of two ways (Handle::grad_in_forward):
//   true (default): when the logits require grad, the forward computes dL/dz with the loss in one
//     logitnorm_loss_forward_backward_* call and saves it; the backward returns it as it is when
//     grad_output is 1 (loss.backward() on a reduced loss) and scaled by grad_output otherwise.
//     The fastest recipe: one read of the logits, one write of the gradient, one exp per element.
//   false: the forward saves LOGITNORM_LOSS_ROW_STATS doubles per row and the backward computes
//     the gradient from them (logitnorm_loss_backward_stats_*, grad_output passed as alpha or
//     row_scale). Costs a second read of the logits and a second exp per element, and computes
//     nothing for the gradient until backward runs.
// Both save one [N, C] tensor (the gradient or the logits) between forward and backward.
// Gradient tensors come from the handle's small pool of buffers (GradPool): a freed gradient goes
// back to it instead of to the C library, which returns large blocks to the kernel and faults
// them in again page by page on the next step (at 512 x 32,000 that cost three times the loss
// itself). The pool keeps at most two buffers.
// Targets get no gradient; probability targets that require grad are rejected.
//
// Errors: every bad input (device, dtype, shape, labels, NaN/Inf logits) raises c10::Error via
// TORCH_CHECK; when the library found it, the message carries logitnorm_last_error().
#ifndef LOGITNORM_TORCH_H
#define LOGITNORM_TORCH_H

#include <torch/torch.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include <logitnorm.h>

// Which backward the grad_in_forward = false recipe uses (the default recipe, grad_in_forward =
// true, computes the gradient in the forward and is not affected). 1 (default): the forward
// saves LOGITNORM_LOSS_ROW_STATS doubles per row and the backward uses them
// (logitnorm_loss_{forward,backward}_stats_*, liblogitnorm 1.1). 0: the backward recomputes the
// softmax with logitnorm_loss_backward_*, for a liblogitnorm 1.0. Define it to 0 before
// including this header to get the 1.0 path.
#ifndef LOGITNORM_HAVE_ROW_STATS
#define LOGITNORM_HAVE_ROW_STATS 1
#endif

// bfloat16 and half tensors need the _bf16 / _f16 entry points of liblogitnorm 1.2: with an older
// logitnorm.h the adapter takes float and double only.
#if defined(LOGITNORM_VERSION_NUMBER) && LOGITNORM_VERSION_NUMBER >= 10200
#define LOGITNORM_TORCH_HALF 1
#define LOGITNORM_TORCH_DISPATCH_(type, name, ...) \
  AT_DISPATCH_FLOATING_TYPES_AND2(at::ScalarType::BFloat16, at::ScalarType::Half, type, name, __VA_ARGS__)
#else
#define LOGITNORM_TORCH_HALF 0
#define LOGITNORM_TORCH_DISPATCH_(type, name, ...) AT_DISPATCH_FLOATING_TYPES(type, name, __VA_ARGS__)
#endif

namespace logitnorm_torch {

// Buffers for gradient tensors, reused across steps (see the top of this file). Every tensor made
// here holds a reference to the pool, so the pool outlives the handle while a gradient is alive.
// Thread-safe: a handle may serve several threads.
class GradPool : public c10::intrusive_ptr_target {
 public:
  ~GradPool() override {
    for (auto &b : free_) std::free(b.second);
  }

  // An uninitialised [n, c] tensor of `options`' dtype.
  static torch::Tensor empty(const c10::intrusive_ptr<GradPool> &pool, int64_t n, int64_t c,
                             const torch::TensorOptions &options) {
    const size_t bytes = static_cast<size_t>(n) * static_cast<size_t>(c) * options.dtype().itemsize();
    if (bytes == 0) return torch::empty({n, c}, options);
    void *p = pool->take(bytes);
    if (p == nullptr) p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    TORCH_CHECK(p != nullptr, "logitnorm_torch: out of memory for a [", n, ", ", c, "] gradient");
    return torch::from_blob(p, {n, c}, [pool, bytes](void *q) { pool->give(q, bytes); }, options);
  }

 private:
  void *take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < free_.size(); i++)
      if (free_[i].first == bytes) {
        void *p = free_[i].second;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
        return p;
      }
    return nullptr;
  }
  void give(void *p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() == kKeep) {  // the oldest goes
      std::free(free_.front().second);
      free_.erase(free_.begin());
    }
    free_.emplace_back(bytes, p);
  }

  static constexpr size_t kKeep = 2;
  std::mutex mutex_;
  std::vector<std::pair<size_t, void *>> free_;  // (size in bytes, buffer), oldest first
};

// A loss handle owned by reference count: the module holds one reference and every graph node
// that still has to run its backward holds another, so the handle outlives both.
struct Handle : torch::CustomClassHolder {
  logitnorm_loss *loss = nullptr;
  int64_t num_classes = 0;
  bool grad_in_forward = true;  // see the top of this file
  c10::intrusive_ptr<GradPool> grads = c10::make_intrusive<GradPool>();
  Handle() = default;
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() override { logitnorm_loss_free(loss); }
};
using HandlePtr = c10::intrusive_ptr<Handle>;

namespace detail {

// Raises c10::Error naming the call, the status and the library's detail text.
inline void check(logitnorm_status s, const char *call) {
  TORCH_CHECK(s == LOGITNORM_OK, "liblogitnorm: ", call, " failed: ", logitnorm_status_string(s), ": ",
              logitnorm_last_error());
}

// The typed entry points, so that one template serves every dtype. S is the tensors' ATen scalar
// type; elem is the library's element type for it (the pointer the data is passed as, with no
// copy), wide the type of its row losses, row scales and alpha (float for the half types).
template <typename S> struct api;
template <> struct api<float> {
  using elem = float;
  using wide = float;
  static constexpr auto forward = logitnorm_loss_forward_f32;
  static constexpr auto backward = logitnorm_loss_backward_f32;
  static constexpr auto forward_soft = logitnorm_loss_forward_soft_f32;
  static constexpr auto backward_soft = logitnorm_loss_backward_soft_f32;
  static constexpr auto forward_backward = logitnorm_loss_forward_backward_f32;
  static constexpr auto forward_backward_soft = logitnorm_loss_forward_backward_soft_f32;
#if LOGITNORM_HAVE_ROW_STATS
  static constexpr auto forward_stats = logitnorm_loss_forward_stats_f32;
  static constexpr auto backward_stats = logitnorm_loss_backward_stats_f32;
  static constexpr auto forward_stats_soft = logitnorm_loss_forward_stats_soft_f32;
  static constexpr auto backward_stats_soft = logitnorm_loss_backward_stats_soft_f32;
#endif
};
template <> struct api<double> {
  using elem = double;
  using wide = double;
  static constexpr auto forward = logitnorm_loss_forward_f64;
  static constexpr auto backward = logitnorm_loss_backward_f64;
  static constexpr auto forward_soft = logitnorm_loss_forward_soft_f64;
  static constexpr auto backward_soft = logitnorm_loss_backward_soft_f64;
  static constexpr auto forward_backward = logitnorm_loss_forward_backward_f64;
  static constexpr auto forward_backward_soft = logitnorm_loss_forward_backward_soft_f64;
#if LOGITNORM_HAVE_ROW_STATS
  static constexpr auto forward_stats = logitnorm_loss_forward_stats_f64;
  static constexpr auto backward_stats = logitnorm_loss_backward_stats_f64;
  static constexpr auto forward_stats_soft = logitnorm_loss_forward_stats_soft_f64;
  static constexpr auto backward_stats_soft = logitnorm_loss_backward_stats_soft_f64;
#endif
};
#if LOGITNORM_TORCH_HALF
// at::BFloat16 and at::Half hold exactly the 16-bit patterns that logitnorm_bf16 and
// logitnorm_f16 name (bfloat16: the top half of a float; IEEE binary16), so their data is passed
// as it is.
static_assert(sizeof(at::BFloat16) == sizeof(logitnorm_bf16) && alignof(at::BFloat16) >= alignof(logitnorm_bf16),
              "at::BFloat16 is not 16-bit bfloat16 storage");
static_assert(sizeof(at::Half) == sizeof(logitnorm_f16) && alignof(at::Half) >= alignof(logitnorm_f16),
              "at::Half is not 16-bit binary16 storage");
template <> struct api<at::BFloat16> {
  using elem = logitnorm_bf16;
  using wide = float;
  static constexpr auto forward = logitnorm_loss_forward_bf16;
  static constexpr auto backward = logitnorm_loss_backward_bf16;
  static constexpr auto forward_soft = logitnorm_loss_forward_soft_bf16;
  static constexpr auto backward_soft = logitnorm_loss_backward_soft_bf16;
  static constexpr auto forward_backward = logitnorm_loss_forward_backward_bf16;
  static constexpr auto forward_backward_soft = logitnorm_loss_forward_backward_soft_bf16;
  static constexpr auto forward_stats = logitnorm_loss_forward_stats_bf16;
  static constexpr auto backward_stats = logitnorm_loss_backward_stats_bf16;
  static constexpr auto forward_stats_soft = logitnorm_loss_forward_stats_soft_bf16;
  static constexpr auto backward_stats_soft = logitnorm_loss_backward_stats_soft_bf16;
};
template <> struct api<at::Half> {
  using elem = logitnorm_f16;
  using wide = float;
  static constexpr auto forward = logitnorm_loss_forward_f16;
  static constexpr auto backward = logitnorm_loss_backward_f16;
  static constexpr auto forward_soft = logitnorm_loss_forward_soft_f16;
  static constexpr auto backward_soft = logitnorm_loss_backward_soft_f16;
  static constexpr auto forward_backward = logitnorm_loss_forward_backward_f16;
  static constexpr auto forward_backward_soft = logitnorm_loss_forward_backward_soft_f16;
  static constexpr auto forward_stats = logitnorm_loss_forward_stats_f16;
  static constexpr auto backward_stats = logitnorm_loss_backward_stats_f16;
  static constexpr auto forward_stats_soft = logitnorm_loss_forward_stats_soft_f16;
  static constexpr auto backward_stats_soft = logitnorm_loss_backward_stats_soft_f16;
};
#endif

// A tensor's data as the library's element type for S (a no-op cast for float and double).
template <typename S> typename api<S>::elem *data(const torch::Tensor &t) {
  return reinterpret_cast<typename api<S>::elem *>(t.data_ptr<S>());
}

// The dtype of the loss, the row losses and the upstream gradient for logits of `dtype`: the
// library's wide type (float for bfloat16 and half, else the logits' own).
inline torch::ScalarType wide_dtype(torch::ScalarType dtype) {
  return dtype == torch::kBFloat16 || dtype == torch::kHalf ? torch::kFloat : dtype;
}

// A [n, c] matrix as the library reads it: rows of c contiguous values, ld apart.
struct rows {
  torch::Tensor t;  // the input itself, or its contiguous copy
  int64_t ld;
};

// No copy when stride(1) == 1 and the rows do not overlap (stride(0) >= c); one copy otherwise.
inline rows row_major(const torch::Tensor &t, int64_t c) {
  const int64_t n = t.size(0);
  if (t.stride(1) == 1 || c <= 1) {
    if (n <= 1) return {t, c};
    if (t.stride(0) >= c) return {t, t.stride(0)};
  }
  return {t.contiguous(), c};
}

inline void check_cpu_strided(const torch::Tensor &t, const char *what) {
  TORCH_CHECK(t.defined(), "logitnorm_torch: ", what, " is an undefined tensor");
  TORCH_CHECK(t.device().is_cpu() && t.layout() == torch::kStrided, "logitnorm_torch: ", what,
              " must be a dense CPU tensor, got device ", t.device(), " and layout ", t.layout());
}

// Hard labels as the library's int32: int32 used as they are, other integer types converted
// after a range check (a value outside int32 cannot be a class index or an ignore_index).
inline torch::Tensor labels_int32(const torch::Tensor &y, int64_t n) {
  TORCH_CHECK(y.dim() == 1 && y.size(0) == n, "logitnorm_torch: labels must have shape [", n, "], got ",
              y.sizes());
  TORCH_CHECK(!c10::isFloatingType(y.scalar_type()) && y.scalar_type() != torch::kBool &&
                  !c10::isComplexType(y.scalar_type()),
              "logitnorm_torch: labels must be an integer tensor, got ", y.scalar_type());
  if (y.scalar_type() == torch::kInt) return y.contiguous();
  if (y.scalar_type() != torch::kLong) return y.to(torch::kInt).contiguous();  // narrower types always fit
  // int64: conversion and range check in one branch-free (vectorised) pass; the first label
  // that does not fit is looked for only when there is one.
  const torch::Tensor src = y.contiguous();
  torch::Tensor out = torch::empty({n}, torch::kInt);
  const int64_t *p = src.data_ptr<int64_t>();
  int32_t *q = out.data_ptr<int32_t>();
  bool fits = true;
  for (int64_t i = 0; i < n; i++) {
    q[i] = static_cast<int32_t>(p[i]);
    fits &= q[i] == p[i];
  }
  for (int64_t i = 0; !fits && i < n; i++)
    TORCH_CHECK(q[i] == p[i], "logitnorm_torch: label ", p[i], " at row ", i, " does not fit int32");
  return out;
}

inline logitnorm_reduction reduction_of(const Handle &h) {
  double r = 0.0;
  check(logitnorm_loss_get(h.loss, LOGITNORM_LOSS_REDUCTION, &r), "logitnorm_loss_get(REDUCTION)");
  return static_cast<logitnorm_reduction>(static_cast<int>(r));
}

}  // namespace detail

// Creates a handle of `kind` for `num_classes`; other settings through h->loss and logitnorm_loss_set.
inline HandlePtr make_handle(logitnorm_loss_kind kind, int64_t num_classes) {
  auto h = c10::make_intrusive<Handle>();
  detail::check(logitnorm_loss_create(&h->loss, kind, num_classes), "logitnorm_loss_create");
  h->num_classes = num_classes;
  return h;
}

// loss = LossFunction::apply(logits [N, C], target, handle)
//   target: [N] integer class indices (ignore_index allowed) or [N, C] probabilities of the
//   logits' dtype. Returns a 0-dim tensor (MEAN, SUM) or the [N] row losses (NONE).
// The handle's settings must not change between a forward and its backward.
struct LossFunction : public torch::autograd::Function<LossFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &logits,
                               const torch::Tensor &target, const HandlePtr &handle) {
    TORCH_CHECK(handle && handle->loss, "logitnorm_torch: no loss handle");
    detail::check_cpu_strided(logits, "logits");
    detail::check_cpu_strided(target, "target");
    const auto dtype = logits.scalar_type();
    TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble ||
                    (LOGITNORM_TORCH_HALF && (dtype == torch::kBFloat16 || dtype == torch::kHalf)),
                "logitnorm_torch: logits must be ",
                LOGITNORM_TORCH_HALF ? "float, double, bfloat16 or half" : "float or double", ", got ", dtype);
    const int64_t c = handle->num_classes;
    TORCH_CHECK(logits.dim() == 2 && logits.size(1) == c, "logitnorm_torch: logits must have shape [N, ", c,
                "] for this handle, got ", logits.sizes());
    const int64_t n = logits.size(0);
    const bool soft = c10::isFloatingType(target.scalar_type());
    torch::Tensor tgt;
    int64_t ldt = 0;
    if (soft) {
      TORCH_CHECK(target.scalar_type() == dtype, "logitnorm_torch: probability targets must have the logits' dtype ",
                  dtype, ", got ", target.scalar_type());
      TORCH_CHECK(target.dim() == 2 && target.size(0) == n && target.size(1) == c,
                  "logitnorm_torch: probability targets must have shape [", n, ", ", c, "], got ", target.sizes());
      TORCH_CHECK(!target.requires_grad(),
                  "logitnorm_torch: no gradient is computed for probability targets; pass target.detach()");
      auto r = detail::row_major(target, c);
      tgt = r.t;
      ldt = r.ld;
    } else {
      tgt = detail::labels_int32(target, n);
    }
    const detail::rows z = detail::row_major(logits, c);
    const logitnorm_reduction red = detail::reduction_of(*handle);
    const auto loss_options = logits.options().dtype(detail::wide_dtype(dtype)).requires_grad(false);
    torch::Tensor out = torch::empty({red == LOGITNORM_REDUCTION_NONE ? n : 0}, loss_options);
    const bool need_grad = logits.requires_grad(), eager = need_grad && handle->grad_in_forward;
    torch::Tensor grad =
        eager ? GradPool::empty(handle->grads, n, c, logits.options().requires_grad(false)) : torch::Tensor();
#if LOGITNORM_HAVE_ROW_STATS
    torch::Tensor stats =
        need_grad && !eager ? torch::empty({n, LOGITNORM_LOSS_ROW_STATS}, torch::kDouble) : torch::Tensor();
#endif
    double total = 0.0;
    LOGITNORM_TORCH_DISPATCH_(dtype, "logitnorm_torch::forward", [&] {
      using A = detail::api<scalar_t>;
      using W = typename A::wide;
      const auto *zp = detail::data<scalar_t>(z.t);
      const auto *tp = soft ? detail::data<scalar_t>(tgt) : nullptr;
      const int32_t *yp = soft ? nullptr : tgt.data_ptr<int32_t>();
      W *row_loss = red == LOGITNORM_REDUCTION_NONE ? out.data_ptr<W>() : nullptr;
      if (eager) {
        auto *gp = detail::data<scalar_t>(grad);
        if (soft)
          detail::check(A::forward_backward_soft(handle->loss, n, zp, z.ld, tp, ldt, &total, row_loss, 1, 0, gp, c),
                        "logitnorm_loss_forward_backward_soft");
        else
          detail::check(A::forward_backward(handle->loss, n, zp, z.ld, yp, &total, row_loss, 1, 0, gp, c),
                        "logitnorm_loss_forward_backward");
        return;
      }
#if LOGITNORM_HAVE_ROW_STATS
      if (need_grad) {
        double *sp = stats.data_ptr<double>();
        if (soft)
          detail::check(A::forward_stats_soft(handle->loss, n, zp, z.ld, tp, ldt, &total, row_loss, sp),
                        "logitnorm_loss_forward_stats_soft");
        else
          detail::check(A::forward_stats(handle->loss, n, zp, z.ld, yp, &total, row_loss, sp),
                        "logitnorm_loss_forward_stats");
        return;
      }
#endif
      if (soft)
        detail::check(A::forward_soft(handle->loss, n, zp, z.ld, tp, ldt, &total, row_loss),
                      "logitnorm_loss_forward_soft");
      else
        detail::check(A::forward(handle->loss, n, zp, z.ld, yp, &total, row_loss), "logitnorm_loss_forward");
    });
    if (red != LOGITNORM_REDUCTION_NONE) out = torch::scalar_tensor(total, loss_options);
    ctx->saved_data["eager"] = eager;
    if (eager) {
      ctx->saved_data["none"] = red == LOGITNORM_REDUCTION_NONE;
      ctx->save_for_backward({grad});  // saved as a variable, so autograd frees it after the backward
    } else if (need_grad) {
      ctx->saved_data["handle"] = c10::IValue::make_capsule(handle);
      ctx->saved_data["ld"] = z.ld;
      ctx->saved_data["ldt"] = ldt;
      ctx->saved_data["soft"] = soft;
#if LOGITNORM_HAVE_ROW_STATS
      ctx->save_for_backward({z.t, tgt, stats});
#else
      ctx->save_for_backward({z.t, tgt});
#endif
    }
    return out;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx,
                                               torch::autograd::tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    if (ctx->saved_data["eager"].toBool()) {
      const torch::Tensor &grad = saved[0];
      const torch::Tensor &g = grad_out[0];
      // grad * g in the wide dtype (float for half gradients), rounded to the gradient's dtype
      // (for float and double both conversions are no-ops)
      const auto scaled = [&](const torch::Tensor &factor) {
        const auto wide = detail::wide_dtype(grad.scalar_type());
        return (grad.to(wide) * factor.to(wide)).to(grad.scalar_type());
      };
      if (ctx->saved_data["none"].toBool()) return {scaled(g.unsqueeze(1)), {}, {}};
      // a reduced loss: grad_output is a scalar, 1 for loss.backward()
      if (g.item<double>() == 1.0) return {grad, torch::Tensor(), torch::Tensor()};
      return {scaled(g), torch::Tensor(), torch::Tensor()};
    }
    const torch::Tensor &z = saved[0], &tgt = saved[1];
    auto holder = ctx->saved_data["handle"].toCapsule();
    const Handle &h = *static_cast<Handle *>(holder.get());
    const int64_t ld = ctx->saved_data["ld"].toInt(), ldt = ctx->saved_data["ldt"].toInt();
    const bool soft = ctx->saved_data["soft"].toBool();
    const int64_t n = z.size(0), c = h.num_classes;
    const logitnorm_reduction red = detail::reduction_of(h);
    const auto dtype = z.scalar_type();
    torch::Tensor g = grad_out[0];
    torch::Tensor row_scale;
    double alpha = 1.0;
    if (red == LOGITNORM_REDUCTION_NONE)
      row_scale = g.to(detail::wide_dtype(dtype)).contiguous();
    else
      alpha = g.item<double>();
    torch::Tensor grad = GradPool::empty(h.grads, n, c, z.options());
    LOGITNORM_TORCH_DISPATCH_(dtype, "logitnorm_torch::backward", [&] {
      using A = detail::api<scalar_t>;
      using W = typename A::wide;
      const W *rs = row_scale.defined() ? row_scale.data_ptr<W>() : nullptr;
      const auto *zp = detail::data<scalar_t>(z);
      auto *gp = detail::data<scalar_t>(grad);
      const auto a = static_cast<W>(alpha);
#if LOGITNORM_HAVE_ROW_STATS
      const double *sp = saved[2].data_ptr<double>();
      if (soft)
        detail::check(A::backward_stats_soft(h.loss, n, zp, ld, detail::data<scalar_t>(tgt), ldt, sp, rs, a, 0, gp, c),
                      "logitnorm_loss_backward_stats_soft");
      else
        detail::check(A::backward_stats(h.loss, n, zp, ld, tgt.data_ptr<int32_t>(), sp, rs, a, 0, gp, c),
                      "logitnorm_loss_backward_stats");
#else
      if (soft)
        detail::check(A::backward_soft(h.loss, n, zp, ld, detail::data<scalar_t>(tgt), ldt, rs, a, 0, gp, c),
                      "logitnorm_loss_backward_soft");
      else
        detail::check(A::backward(h.loss, n, zp, ld, tgt.data_ptr<int32_t>(), rs, a, 0, gp, c),
                      "logitnorm_loss_backward");
#endif
    });
    return {grad, torch::Tensor(), torch::Tensor()};
  }
};

// The functional form: LossFunction::apply with a handle.
inline torch::Tensor loss(const torch::Tensor &logits, const torch::Tensor &target, const HandlePtr &handle) {
  return LossFunction::apply(logits, target, handle);
}

// Options with torch::nn::CrossEntropyLossOptions' names (weight, ignore_index, label_smoothing,
// reduction), plus the kind, the temperature (LOGITNORM only) and the handle's THREADS.
struct LogitNormLossOptions {
  typedef c10::variant<torch::enumtype::kNone, torch::enumtype::kMean, torch::enumtype::kSum> reduction_t;
  explicit LogitNormLossOptions(int64_t num_classes) : num_classes_(num_classes) {}
  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(logitnorm_loss_kind, kind) = LOGITNORM_LOSS_LOGITNORM;
  // The C handle's default, the paper's value for CIFAR-10 on a WideResNet; for other class
  // counts choose tau with logitnorm_loss_temperature_for_bound (docs/getting-started.md).
  TORCH_ARG(double, temperature) = 0.04;
  TORCH_ARG(torch::Tensor, weight) = {};
  TORCH_ARG(int64_t, ignore_index) = -100;
  TORCH_ARG(double, label_smoothing) = 0.0;
  TORCH_ARG(reduction_t, reduction) = torch::kMean;
  TORCH_ARG(int64_t, threads) = 1;
  TORCH_ARG(bool, grad_in_forward) = true;  // Handle::grad_in_forward
};

// loss = LogitNormLoss(LogitNormLossOptions(C).temperature(0.5))(logits, target)
// reset() rebuilds the handle from `options`; call it after changing them.
class LogitNormLossImpl : public torch::nn::Cloneable<LogitNormLossImpl> {
 public:
  explicit LogitNormLossImpl(const LogitNormLossOptions &options_) : options(options_) { reset(); }

  void reset() override {
    HandlePtr h = make_handle(options.kind(), options.num_classes());
    h->grad_in_forward = options.grad_in_forward();
    logitnorm_loss *l = h->loss;
    if (options.kind() == LOGITNORM_LOSS_LOGITNORM)
      detail::check(logitnorm_loss_set(l, LOGITNORM_LOSS_TEMPERATURE, options.temperature()), "set(TEMPERATURE)");
    detail::check(logitnorm_loss_set(l, LOGITNORM_LOSS_IGNORE_INDEX, static_cast<double>(options.ignore_index())),
                  "set(IGNORE_INDEX)");
    detail::check(logitnorm_loss_set(l, LOGITNORM_LOSS_LABEL_SMOOTHING, options.label_smoothing()),
                  "set(LABEL_SMOOTHING)");
    const auto &r = options.reduction();
    const logitnorm_reduction red = c10::get_if<torch::enumtype::kNone>(&r)  ? LOGITNORM_REDUCTION_NONE
                                    : c10::get_if<torch::enumtype::kSum>(&r) ? LOGITNORM_REDUCTION_SUM
                                                                             : LOGITNORM_REDUCTION_MEAN;
    detail::check(logitnorm_loss_set(l, LOGITNORM_LOSS_REDUCTION, red), "set(REDUCTION)");
    detail::check(logitnorm_loss_set(l, LOGITNORM_LOSS_THREADS, static_cast<double>(options.threads())),
                  "set(THREADS)");
    weight = options.weight().defined() ? options.weight().detach().to(torch::kFloat).contiguous() : torch::Tensor();
    if (weight.defined()) {
      detail::check_cpu_strided(weight, "weight");
      TORCH_CHECK(weight.dim() == 1 && weight.size(0) == options.num_classes(), "logitnorm_torch: weight must have shape [",
                  options.num_classes(), "], got ", weight.sizes());
      detail::check(logitnorm_loss_set_class_weights(l, weight.data_ptr<float>()), "set_class_weights");
      register_buffer("weight", weight);
    }
    handle = h;
  }

  torch::Tensor forward(const torch::Tensor &input, const torch::Tensor &target) {
    return LossFunction::apply(input, target, handle);
  }

  LogitNormLossOptions options;
  torch::Tensor weight;  // the class weights as float (the library's type), or undefined
  HandlePtr handle;
};
TORCH_MODULE(LogitNormLoss);

}  // namespace logitnorm_torch

#undef LOGITNORM_TORCH_DISPATCH_

#endif
