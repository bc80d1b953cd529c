// Fused kernels: float storage, float math where that is exact or within a few ulp, double accumulators
// (and double scalars) where the reference accumulates. Loops are either written on vector extensions
// (vecmath.h) or left to the compiler's vectoriser (`omp simd`, no -ffast-math: NaN semantics are kept).

#include "kernels.h"

#include <cmath>
#include <cstring>

#include "vecmath.h"

namespace engram {
namespace {

// out[i] = f(x[i]) over vectors; the tail goes through one zero-padded vector.
template <class F>
inline void map1(const float* x, float* out, std::size_t n, F f) {
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) storev(out + i, f(loadv(x + i)));
  if (i < n) store_part(out + i, f(load_part(x + i, n - i, 0.0f)), n - i);
}

template <class F>
inline void map2(const float* a, const float* b, float* out, std::size_t n, F f) {
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) storev(out + i, f(loadv(a + i), loadv(b + i)));
  if (i < n) store_part(out + i, f(load_part(a + i, n - i, 0.0f), load_part(b + i, n - i, 0.0f)), n - i);
}

inline double hsum(const vd& v) {
  double s = 0.0;
  for (int i = 0; i < VW; ++i) s += v[i];
  return s;
}

// max_c x[c] * invT in double; NaN if any element is NaN (the reference's max is sticky on NaN); -Infinity for
// an empty or all -Infinity row.
double row_max(const float* x, std::size_t n, double invT) {
  vd m = splatd(-INFINITY);
  vd nan = splatd(0.0);
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) {
    const vd v = __builtin_convertvector(loadv(x + i), vd) * invT;
    m = v > m ? v : m;
    nan = v != v ? v : nan;
  }
  double mx = -INFINITY;
  bool any_nan = false;
  for (int l = 0; l < VW; ++l) {
    if (m[l] > mx) mx = m[l];
    if (nan[l] != nan[l]) any_nan = true;
  }
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]) * invT;
    if (v > mx) mx = v;
    if (v != v) any_nan = true;
  }
  return any_nan ? NAN : mx;
}

// e[c] = exp(x[c] * invT - shift) (argument formed in double, exponential in float); stores e into dst when
// dst is not null; returns the sum of e in double.
double exp_shift_sum(const float* x, std::size_t n, double invT, double shift, float* dst) {
  vd acc = splatd(0.0);
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) {
    const vd a = __builtin_convertvector(loadv(x + i), vd) * invT - shift;
    const vf e = vexp(__builtin_convertvector(a, vf));
    if (dst != nullptr) storev(dst + i, e);
    acc += __builtin_convertvector(e, vd);
  }
  double s = hsum(acc);
  if (i < n) {
    const std::size_t rem = n - i;
    const vd a = __builtin_convertvector(load_part(x + i, rem, 0.0f), vd) * invT - shift;
    const vf e = vexp(__builtin_convertvector(a, vf));
    if (dst != nullptr) store_part(dst + i, e, rem);
    for (std::size_t l = 0; l < rem; ++l) s += static_cast<double>(e[l]);
  }
  return s;
}

}  // namespace

bool unary(int op, const float* x, float* out, std::size_t n) {
  switch (op) {
    case kRelu:
      // relu(NaN) = NaN: only x <= 0 maps to 0.
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] <= 0.0f ? 0.0f : x[i];
      return true;
    case kSigmoid:
      map1(x, out, n, [](vf v) { return vsigmoid(v); });
      return true;
    case kTanh:
      map1(x, out, n, [](vf v) { return vtanh(v); });
      return true;
    case kGelu:
      map1(x, out, n, [](vf v) { return vgelu(v); });
      return true;
    case kExp:
      map1(x, out, n, [](vf v) { return vexp(v); });
      return true;
    case kLog:
      map1(x, out, n, [](vf v) { return vlog(v); });
      return true;
    case kNeg:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = -x[i];
      return true;
    case kSquare:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * x[i];
      return true;
    case kSqrt:
      map1(x, out, n, [](vf v) { return vsqrt(v); });
      return true;
    default:
      return false;
  }
}

bool binary(int op, const float* a, const float* b, float* out, std::size_t n) {
  switch (op) {
    case kAdd:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
      return true;
    case kSub:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
      return true;
    case kMul:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
      return true;
    case kDiv:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] / b[i];
      return true;
    default:
      return false;
  }
}

bool activation_backward(int op, const float* x, const float* y, const float* gy, float* gx, std::size_t n) {
  switch (op) {
    case kRelu:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
      return true;
    case kSigmoid:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i] * (1.0f - y[i]);
      return true;
    case kTanh:
      // 1 - y^2 as (1 - y)(1 + y): no cancellation for |y| near 1.
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i] * ((1.0f - y[i]) * (1.0f + y[i]));
      return true;
    case kGelu:
      map2(x, gy, gx, n, [](vf xv, vf g) { return g * vgelu_grad(xv); });
      return true;
    default:
      return false;
  }
}

void axpby(double alpha, const float* x, double beta, const float* y, float* out, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(alpha * static_cast<double>(x[i]) + beta * static_cast<double>(y[i]));
  }
}

void add_row_vector(const float* x, const float* v, std::size_t rows, std::size_t cols, float* out) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
#pragma omp simd
    for (std::size_t c = 0; c < cols; ++c) o[c] = xr[c] + v[c];
  }
}

void sum_columns(const float* x, std::size_t rows, std::size_t cols, float* out) {
  constexpr std::size_t kBlock = 512;
  double acc[kBlock];
  for (std::size_t c0 = 0; c0 < cols; c0 += kBlock) {
    const std::size_t w = cols - c0 < kBlock ? cols - c0 : kBlock;
    for (std::size_t c = 0; c < w; ++c) acc[c] = 0.0;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols + c0;
#pragma omp simd
      for (std::size_t c = 0; c < w; ++c) acc[c] += static_cast<double>(xr[c]);
    }
    for (std::size_t c = 0; c < w; ++c) out[c0 + c] = static_cast<float>(acc[c]);
  }
}

double sum(const float* x, std::size_t n) {
  vd a0 = splatd(0.0);
  vd a1 = splatd(0.0);
  std::size_t i = 0;
  for (; i + 2 * VW <= n; i += 2 * VW) {
    a0 += __builtin_convertvector(loadv(x + i), vd);
    a1 += __builtin_convertvector(loadv(x + i + VW), vd);
  }
  double s = hsum(a0 + a1);
  for (; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

void log_softmax(const float* x, std::size_t rows, std::size_t cols, float* out) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    const double mx = row_max(xr, cols, 1.0);
    const double lse = mx + std::log(exp_shift_sum(xr, cols, 1.0, mx, nullptr));
#pragma omp simd
    for (std::size_t c = 0; c < cols; ++c) o[c] = static_cast<float>(static_cast<double>(xr[c]) - lse);
  }
}

double softmax_cross_entropy(const float* x, const int32_t* labels, std::size_t rows, std::size_t cols,
                             double temperature, double scale, float* grad) {
  const double invT = 1.0 / temperature;
  const double factor = scale * invT;
  double loss = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* g = grad + r * cols;
    const double mx = row_max(xr, cols, invT);
    const double s = exp_shift_sum(xr, cols, invT, mx, g);  // g holds exp(x/T - max)
    const double lse = mx + std::log(s);
    const std::size_t y = static_cast<std::size_t>(labels[r]);
    loss += lse - static_cast<double>(xr[y]) * invT;
    const double inv_s = 1.0 / s;
    const double ey = static_cast<double>(g[y]);
#pragma omp simd
    for (std::size_t c = 0; c < cols; ++c) g[c] = static_cast<float>(static_cast<double>(g[c]) * inv_s * factor);
    g[y] = static_cast<float>((ey * inv_s - 1.0) * factor);
  }
  return loss;
}

double soft_cross_entropy(const float* x, const float* targets, std::size_t rows, std::size_t cols,
                          double temperature, double scale, float* grad) {
  const double invT = 1.0 / temperature;
  const double factor = scale * invT;
  double loss = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* p = targets + r * cols;
    float* g = grad + r * cols;
    const double mx = row_max(xr, cols, invT);
    const double s = exp_shift_sum(xr, cols, invT, mx, g);
    const double lse = mx + std::log(s);
    const double inv_s = 1.0 / s;
    double row_loss = 0.0;
#pragma omp simd reduction(+ : row_loss)
    for (std::size_t c = 0; c < cols; ++c) {
      const double pc = static_cast<double>(p[c]);
      // Entries with p = 0 contribute nothing, even where the logit is masked (0 * Inf would be NaN).
      row_loss += pc != 0.0 ? pc * (lse - static_cast<double>(xr[c]) * invT) : 0.0;
      g[c] = static_cast<float>((static_cast<double>(g[c]) * inv_s - pc) * factor);
    }
    loss += row_loss;
  }
  return loss;
}

void adam_direction(const float* g, float* m, float* v, double beta1, double beta2, double eps, double step,
                    float* out, std::size_t n) {
  // The moment updates are sums that can cancel, so they run in double like the reference; the direction
  // (a division and a square root) runs in float on the stored moments.
  const double c1 = 1.0 - beta1;
  const double c2 = 1.0 - beta2;
  const float ibc1 = static_cast<float>(1.0 / (1.0 - std::pow(beta1, step)));
  const float ibc2 = static_cast<float>(1.0 / (1.0 - std::pow(beta2, step)));
  const float e = static_cast<float>(eps);
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) {
    const vd gi = __builtin_convertvector(loadv(g + i), vd);
    const vf mi = __builtin_convertvector(beta1 * __builtin_convertvector(loadv(m + i), vd) + c1 * gi, vf);
    const vf vi = __builtin_convertvector(beta2 * __builtin_convertvector(loadv(v + i), vd) + (c2 * gi) * gi, vf);
    storev(m + i, mi);
    storev(v + i, vi);
    storev(out + i, (mi * ibc1) / (vsqrt(vi * ibc2) + e));
  }
  for (; i < n; ++i) {
    const double gi = static_cast<double>(g[i]);
    const float mi = static_cast<float>(beta1 * static_cast<double>(m[i]) + c1 * gi);
    const float vi = static_cast<float>(beta2 * static_cast<double>(v[i]) + (c2 * gi) * gi);
    m[i] = mi;
    v[i] = vi;
    out[i] = (mi * ibc1) / (std::sqrt(vi * ibc2) + e);
  }
}

}  // namespace engram
