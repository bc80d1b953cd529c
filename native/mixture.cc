// The mixture prior's log-density and its gradient (see mixtureLogDensity in src/kernels/backend.ts; the
// reference is the portable backend's). Arithmetic in double in the reference's order, so that the results
// match it bit for bit apart from exp/log (the C library's against V8's, which agree almost always): the
// density's sum over dimensions runs in order for each row (vectorised across rows, not along the sum), and
// the gradient's accumulations are elementwise.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "kernels.h"

// No contraction into fused multiply-adds: each product is rounded before the sum that uses it, as in the
// reference (-ffp-contract=fast in binding.gyp would fuse them).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace engram {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // Math.log(2 * Math.PI)
constexpr std::size_t kLanes = 8;

// 1/σ² = e^{−logvar} for each of the k×d mode dimensions, in double.
std::vector<double> inverse_variances(const float* logvars, std::size_t count) {
  std::vector<double> inv(count);
  for (std::size_t i = 0; i < count; ++i) inv[i] = std::exp(-static_cast<double>(logvars[i]));
  return inv;
}

}  // namespace

double mixture_log_density(const float* z, const float* means, const float* logvars, const float* weights,
                           std::size_t n, std::size_t k, std::size_t d, float* resp) {
  const std::vector<double> inv = inverse_variances(logvars, k * d);
  // a[r*k + m]: log w + log N(z_r; μ_m, σ_m²), −∞ for an absent mode. Rows go in blocks of kLanes, each lane
  // summing its row's dimensions in order.
  const double neg_inf = -std::numeric_limits<double>::infinity();
  std::vector<double> a(n * k, neg_inf);
  for (std::size_t m = 0; m < k; ++m) {
    const float* mu = means + m * d;
    const float* lv = logvars + m * d;
    const double* iv = inv.data() + m * d;
    for (std::size_t r0 = 0; r0 < n; r0 += kLanes) {
      const std::size_t lanes = std::min(kLanes, n - r0);
      double s[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
      const float* zr[kLanes];
      for (std::size_t l = 0; l < kLanes; ++l) zr[l] = z + (r0 + (l < lanes ? l : 0)) * d;
      for (std::size_t j = 0; j < d; ++j) {
        const double c = kLog2Pi + static_cast<double>(lv[j]);
        const double mj = static_cast<double>(mu[j]);
        const double ij = iv[j];
#pragma omp simd
        for (std::size_t l = 0; l < kLanes; ++l) {
          const double diff = static_cast<double>(zr[l][j]) - mj;
          s[l] += c + diff * diff * ij;
        }
      }
      for (std::size_t l = 0; l < lanes; ++l) {
        const double w = static_cast<double>(weights[(r0 + l) * k + m]);
        if (!(w <= 0)) a[(r0 + l) * k + m] = std::log(w) - 0.5 * s[l];
      }
    }
  }
  double total = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double* ar = a.data() + r * k;
    double max = neg_inf;
    for (std::size_t m = 0; m < k; ++m) {
      if (ar[m] > max) max = ar[m];
    }
    double sum = 0;
    for (std::size_t m = 0; m < k; ++m) sum += ar[m] == neg_inf ? 0 : std::exp(ar[m] - max);
    total += max + std::log(sum);
    for (std::size_t m = 0; m < k; ++m) {
      resp[r * k + m] = ar[m] == neg_inf ? 0.0f : static_cast<float>(std::exp(ar[m] - max) / sum);
    }
  }
  return total;
}

void mixture_log_density_backward(const float* z, const float* means, const float* logvars, const float* resp,
                                  double g, std::size_t n, std::size_t k, std::size_t d, float* gz, float* gm,
                                  float* gl) {
  const std::vector<double> inv = inverse_variances(logvars, k * d);
  if (gz != nullptr) std::fill(gz, gz + n * d, 0.0f);
  if (gm != nullptr) std::fill(gm, gm + k * d, 0.0f);
  if (gl != nullptr) std::fill(gl, gl + k * d, 0.0f);
  for (std::size_t r = 0; r < n; ++r) {
    const float* zr = z + r * d;
    for (std::size_t m = 0; m < k; ++m) {
      const double p = static_cast<double>(resp[r * k + m]) * g;
      if (p == 0) continue;
      const float* mu = means + m * d;
      const double* iv = inv.data() + m * d;
      // d log N / dz = −(z−μ)/σ², d/dμ = (z−μ)/σ², d/dlogvar = ½((z−μ)²/σ² − 1)
      if (gz != nullptr) {
        float* o = gz + r * d;
#pragma omp simd
        for (std::size_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(zr[j]) - static_cast<double>(mu[j]);
          o[j] = static_cast<float>(static_cast<double>(o[j]) - p * diff * iv[j]);
        }
      }
      if (gm != nullptr) {
        float* o = gm + m * d;
#pragma omp simd
        for (std::size_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(zr[j]) - static_cast<double>(mu[j]);
          o[j] = static_cast<float>(static_cast<double>(o[j]) + p * diff * iv[j]);
        }
      }
      if (gl != nullptr) {
        float* o = gl + m * d;
        const double half_p = 0.5 * p;
#pragma omp simd
        for (std::size_t j = 0; j < d; ++j) {
          const double diff = static_cast<double>(zr[j]) - static_cast<double>(mu[j]);
          o[j] = static_cast<float>(static_cast<double>(o[j]) + half_p * (diff * diff * iv[j] - 1.0));
        }
      }
    }
  }
}

}  // namespace engram
