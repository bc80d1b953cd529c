// Fused kernels: float storage, float math where that is exact or within a few ulp, double accumulators
// (and double scalars) where the reference accumulates. Loops are either written on vector extensions
// (vecmath.h) or left to the compiler's vectoriser (`omp simd`, no -ffast-math: NaN semantics are kept).

#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "denormals.h"
#include "vecmath.h"

// Threading of the elementwise kernels. A kernel uses several OpenMP threads (up to setThreads' count) only
// when every thread gets at least ENGRAM_EW_MIN_PER_THREAD_* elements; below that the call stays on the caller's
// thread and costs one comparison more. A libgomp fork/join costs ~2 us with the pool warm, and every parallel
// region waits for its slowest thread: on a busy machine a descheduled pool thread stalls the call for a
// scheduler tick. So a kernel is split only where one thread would take >= ~10-30 us, 5-15 fork/joins.
// Measured on a 2-core Sapphire Rapids VM (AVX-512), best of 15, 1 vs 2 threads, us per call:
//   relu      16384: 2.7 / 3.6    32768: 5.9 / 5.1     65536: 10.1 / 7.2    131072: 19.0 / 11.8
//   axpby     16384: 7.3 / 5.7    32768: 11.5 / 8.5    65536: 24.7 / 14.8   313600: 169 / 72
//   sumColumns (400 columns)      32768: 5.0 / 4.2     65536: 8.1 / 5.9     131072: 19.7 / 11.4
//   adam       8192: 9.8 / 8.0    16384: 18.4 / 12.4   32768: 34.5 / 21.2   313600: 352 / 187
//   tanh       4096: 4.2 / 4.1     8192: 8.3 / 6.2     16384: 18.0 / 11.4
//   pathIntegralAdvance (pending, with g)   16384: 12.3 / 12.3   32768: 23.6 / 29.9   313600: 314 / 328
//   viscousScale                            16384: 12.8 / 12.4   32768: 24.2 / 29.7   313600: 233 / 243
//   synapseAdamStep (pending, viscous)      16384: 55.7 / 61.4   65536: 221 / 234     313600: 1088 / 1093
// (The synapse rows were measured while other runs kept both cores busy, so a second thread could not gain
// there; their minimum follows the rule above: one thread takes ~12 us on 16384 elements, the fused step
// ~25 us on 8192. viscousScale is bound by its double division, ~0.75 ns per element; pathIntegralAdvance by
// memory; synapseAdamStep by its three divisions and one square root per element.)
// Inside a training step (MLP 784-400-400-10, batch 128, 2 threads) the light kernels on 128x400 = 51200
// elements got slower when split (sumColumns 14 -> 28 us per step, relu 16 -> 24: their inputs sit in the
// caller's core's cache), hence 32768 per thread; gelu and its derivative on 128x400 gained ~60 us per step.
#ifndef ENGRAM_EW_MIN_PER_THREAD_LIGHT
#define ENGRAM_EW_MIN_PER_THREAD_LIGHT 32768  // a few float ops per element: relu, add, axpby, sumColumns, ...
#endif
#ifndef ENGRAM_EW_MIN_PER_THREAD_ADAM
#define ENGRAM_EW_MIN_PER_THREAD_ADAM 16384  // adamDirection: 3 reads, 3 writes, a division and a square root
#endif
#ifndef ENGRAM_EW_MIN_PER_THREAD_PATH
#define ENGRAM_EW_MIN_PER_THREAD_PATH 16384  // pathIntegralAdvance: up to 6 reads and 4 writes, in double
#endif
#ifndef ENGRAM_EW_MIN_PER_THREAD_VISCOUS
#define ENGRAM_EW_MIN_PER_THREAD_VISCOUS 16384  // viscousScale: 2 reads, 1 write, a double division
#endif
#ifndef ENGRAM_EW_MIN_PER_THREAD_SYNAPSE_STEP
#define ENGRAM_EW_MIN_PER_THREAD_SYNAPSE_STEP 8192  // synapseAdamStep: path, Adam, viscous, 2 axpby in one pass
#endif
#ifndef ENGRAM_EW_MIN_PER_THREAD_HEAVY
#define ENGRAM_EW_MIN_PER_THREAD_HEAVY 8192  // exp, log, tanh, sigmoid, gelu and gelu's derivative
#endif

namespace engram {
namespace {

constexpr std::size_t kMinLight = ENGRAM_EW_MIN_PER_THREAD_LIGHT;
constexpr std::size_t kMinAdam = ENGRAM_EW_MIN_PER_THREAD_ADAM;
constexpr std::size_t kMinHeavy = ENGRAM_EW_MIN_PER_THREAD_HEAVY;
constexpr std::size_t kMinPath = ENGRAM_EW_MIN_PER_THREAD_PATH;
constexpr std::size_t kMinViscous = ENGRAM_EW_MIN_PER_THREAD_VISCOUS;
constexpr std::size_t kMinSynapseStep = ENGRAM_EW_MIN_PER_THREAD_SYNAPSE_STEP;

// Ranges handed to threads start at multiples of this many elements: a multiple of the vector width (every
// element but the global tail goes through the same full-vector code whatever the split, so results do not
// depend on the thread count) and of a 64-byte cache line (no false sharing on the outputs when the arrays are
// aligned).
constexpr std::size_t kSplitGrain = 64;
static_assert(kSplitGrain % VW == 0, "split points must fall on vector boundaries");

// How many threads a kernel over `work` elements uses: at most `nthreads`, each with >= min_per_thread.
inline int threads_for(std::size_t work, std::size_t min_per_thread, int nthreads) {
  if (nthreads <= 1 || work < 2 * min_per_thread) return 1;
  const std::size_t cap = work / min_per_thread;
  return cap < static_cast<std::size_t>(nthreads) ? static_cast<int>(cap) : nthreads;
}

// Calls body(lo, hi) on disjoint ranges covering [0, n): one call with the whole range when nt <= 1, else a
// static split over nt OpenMP threads with the split points at multiples of `grain`. Every element is computed
// by the same code whatever the split, so results are bit-identical for any thread count. Pool threads set
// FTZ/DAZ first (the caller's thread already runs under the Call guard in addon.cc).
template <class F>
inline void parallel_ranges(std::size_t n, std::size_t grain, int nt, F&& body) {
#ifdef _OPENMP
  const std::size_t units = (n + grain - 1) / grain;
  if (static_cast<std::size_t>(nt) > units) nt = static_cast<int>(units);
  if (nt > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(nt)
    {
      set_flush_denormals();
      const std::size_t t = static_cast<std::size_t>(omp_get_thread_num());
      const std::size_t T = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t lo = std::min(n, units * t / T * grain);
      const std::size_t hi = std::min(n, units * (t + 1) / T * grain);
      if (lo < hi) body(lo, hi);
    }
    return;
  }
#else
  (void)grain;
  (void)nt;
#endif
  body(std::size_t{0}, n);
}

// An elementwise kernel over [0, n) split by parallel_ranges.
template <class F>
inline void parallel_elements(std::size_t n, std::size_t min_per_thread, int nthreads, F&& body) {
  parallel_ranges(n, kSplitGrain, threads_for(n, min_per_thread, nthreads), body);
}

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

// Per-range bodies of the threaded kernels (op codes already checked).

void unary_range(int op, const float* x, float* out, std::size_t n) {
  switch (op) {
    case kRelu:
      // relu(NaN) = NaN: only x <= 0 maps to 0.
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] <= 0.0f ? 0.0f : x[i];
      break;
    case kSigmoid:
      map1(x, out, n, [](vf v) { return vsigmoid(v); });
      break;
    case kTanh:
      map1(x, out, n, [](vf v) { return vtanh(v); });
      break;
    case kGelu:
      map1(x, out, n, [](vf v) { return vgelu(v); });
      break;
    case kExp:
      map1(x, out, n, [](vf v) { return vexp(v); });
      break;
    case kLog:
      map1(x, out, n, [](vf v) { return vlog(v); });
      break;
    case kNeg:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = -x[i];
      break;
    case kSquare:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = x[i] * x[i];
      break;
    case kSqrt:
      map1(x, out, n, [](vf v) { return vsqrt(v); });
      break;
    default:
      break;
  }
}

void binary_range(int op, const float* a, const float* b, float* out, std::size_t n) {
  switch (op) {
    case kAdd:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
      break;
    case kSub:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] - b[i];
      break;
    case kMul:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
      break;
    case kDiv:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) out[i] = a[i] / b[i];
      break;
    default:
      break;
  }
}

void activation_backward_range(int op, const float* x, const float* y, const float* gy, float* gx, std::size_t n) {
  switch (op) {
    case kRelu:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
      break;
    case kSigmoid:
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i] * y[i] * (1.0f - y[i]);
      break;
    case kTanh:
      // 1 - y^2 as (1 - y)(1 + y): no cancellation for |y| near 1.
#pragma omp simd
      for (std::size_t i = 0; i < n; ++i) gx[i] = gy[i] * ((1.0f - y[i]) * (1.0f + y[i]));
      break;
    case kGelu:
      map2(x, gy, gx, n, [](vf xv, vf g) { return g * vgelu_grad(xv); });
      break;
    default:
      break;
  }
}

}  // namespace

bool unary(int op, const float* x, float* out, std::size_t n, int nthreads) {
  if (op < 0 || op >= kUnaryCount) return false;
  const bool light = op == kRelu || op == kNeg || op == kSquare || op == kSqrt;
  parallel_elements(n, light ? kMinLight : kMinHeavy, nthreads,
                    [&](std::size_t lo, std::size_t hi) { unary_range(op, x + lo, out + lo, hi - lo); });
  return true;
}

bool binary(int op, const float* a, const float* b, float* out, std::size_t n, int nthreads) {
  if (op < 0 || op >= kBinaryCount) return false;
  parallel_elements(n, kMinLight, nthreads,
                    [&](std::size_t lo, std::size_t hi) { binary_range(op, a + lo, b + lo, out + lo, hi - lo); });
  return true;
}

bool activation_backward(int op, const float* x, const float* y, const float* gy, float* gx, std::size_t n,
                         int nthreads) {
  if (op < kRelu || op > kGelu) return false;
  // x (relu, gelu) or y (sigmoid, tanh) may be unused and shorter than n: offset only the pointers read.
  const bool uses_x = op == kRelu || op == kGelu;
  parallel_elements(n, op == kGelu ? kMinHeavy : kMinLight, nthreads, [&](std::size_t lo, std::size_t hi) {
    activation_backward_range(op, uses_x ? x + lo : x, uses_x ? y : y + lo, gy + lo, gx + lo, hi - lo);
  });
  return true;
}

void axpby(double alpha, const float* x, double beta, const float* y, float* out, std::size_t n, int nthreads) {
  // Written on vectors, tail included, so that every element goes through the same instructions (the fused
  // multiply-add the compiler forms) wherever a thread's range starts.
  const auto f = [alpha, beta](vf xv, vf yv) {
    return __builtin_convertvector(alpha * __builtin_convertvector(xv, vd) + beta * __builtin_convertvector(yv, vd),
                                   vf);
  };
  parallel_elements(n, kMinLight, nthreads,
                    [&](std::size_t lo, std::size_t hi) { map2(x + lo, y + lo, out + lo, hi - lo, f); });
}

void add_row_vector(const float* x, const float* v, std::size_t rows, std::size_t cols, float* out, int nthreads) {
  // Threads take bands of rows.
  const int nt = cols == 0 ? 1 : threads_for(rows * cols, kMinLight, nthreads);
  parallel_ranges(rows, 1, nt, [&](std::size_t r0, std::size_t r1) {
    for (std::size_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* o = out + r * cols;
#pragma omp simd
      for (std::size_t c = 0; c < cols; ++c) o[c] = xr[c] + v[c];
    }
  });
}

void sum_columns(const float* x, std::size_t rows, std::size_t cols, float* out, int nthreads) {
  // Threads take bands of columns; each column is summed over the rows in order, in double, whatever the
  // split, so the result does not depend on the thread count.
  const int nt = threads_for(rows * cols, kMinLight, nthreads);
  parallel_ranges(cols, VW, nt, [&](std::size_t lo, std::size_t hi) {
    constexpr std::size_t kBlock = 512;
    double acc[kBlock];
    for (std::size_t c0 = lo; c0 < hi; c0 += kBlock) {
      const std::size_t w = hi - c0 < kBlock ? hi - c0 : kBlock;
      for (std::size_t c = 0; c < w; ++c) acc[c] = 0.0;
      for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * cols + c0;
#pragma omp simd
        for (std::size_t c = 0; c < w; ++c) acc[c] += static_cast<double>(xr[c]);
      }
      for (std::size_t c = 0; c < w; ++c) out[c0 + c] = static_cast<float>(acc[c]);
    }
  });
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

double sigmoid_bce(const float* z, const float* x, std::size_t n, double scale, float* grad) {
  // softplus(z) - x z = max(z, 0) - x z + log(1 + e^-|z|); the gradient is sigma(z) - x. Accumulated per
  // vector in double, single-threaded so the sum's order never changes.
  vd acc{};
  const vf sc = splat(static_cast<float>(scale));
  const auto step = [&](vf zv, vf xv, vf* g) {
    const vf e = vexp(-vabs(zv));
    const vf loss = (zv > 0.0f ? zv : splat(0.0f)) - xv * zv + vlog(1.0f + e);
    const vf inv = 1.0f / (1.0f + e);
    const vf sig = zv >= 0.0f ? inv : e * inv;
    *g = (sig - xv) * sc;
    return loss;
  };
  std::size_t i = 0;
  for (; i + VW <= n; i += VW) {
    vf g;
    const vf l = step(loadv(z + i), loadv(x + i), &g);
    storev(grad + i, g);
    acc += __builtin_convertvector(l, vd);
  }
  if (i < n) {
    const std::size_t rem = n - i;
    vf g;
    // Padding lanes: z = 0, x = 0 give loss log 2; mask them out of the sum.
    vf l = step(load_part(z + i, rem, 0.0f), load_part(x + i, rem, 0.0f), &g);
    for (std::size_t k = rem; k < VW; ++k) l[k] = 0.0f;
    store_part(grad + i, g, rem);
    acc += __builtin_convertvector(l, vd);
  }
  return hsum(acc);
}

namespace {

// Adam's scalars for one call: the moments' coefficients in double, the bias corrections and eps in float.
struct AdamCoefficients {
  double beta1, beta2, c1, c2;
  float ibc1, ibc2, eps;
};

AdamCoefficients adam_coefficients(double beta1, double beta2, double eps, double step) {
  return {beta1,
          beta2,
          1.0 - beta1,
          1.0 - beta2,
          static_cast<float>(1.0 / (1.0 - std::pow(beta1, step))),
          static_cast<float>(1.0 / (1.0 - std::pow(beta2, step))),
          static_cast<float>(eps)};
}

struct AdamLanes {
  vf m, v, out;
};

// Adam on one vector. The moment updates are sums that can cancel, so they run in double like the reference,
// their multiply-adds spelled out (vmuladd: what -ffp-contract=fast formed here before, so the results are
// unchanged), so that synapse_adam_step can repeat them exactly; the direction (a division and a square root)
// runs in float on the stored moments.
inline AdamLanes adam_lanes(const AdamCoefficients& k, vf gv, vf mv, vf vv) {
  const vd gi = __builtin_convertvector(gv, vd);
  const vf mi = __builtin_convertvector(vmuladd(k.beta1, __builtin_convertvector(mv, vd), k.c1 * gi), vf);
  const vf vi = __builtin_convertvector(vmuladd(k.beta2, __builtin_convertvector(vv, vd), (k.c2 * gi) * gi), vf);
  return AdamLanes{mi, vi, (mi * k.ibc1) / (vsqrt(vi * k.ibc2) + k.eps)};
}

}  // namespace

void adam_direction(const float* g, float* m, float* v, double beta1, double beta2, double eps, double step,
                    float* out, std::size_t n, int nthreads) {
  // The tail goes through one zero-padded vector, so every element runs the same instructions wherever a
  // thread's range starts.
  const AdamCoefficients coefficients = adam_coefficients(beta1, beta2, eps, step);
  parallel_elements(n, kMinAdam, nthreads, [&](std::size_t lo, std::size_t hi) {
    const AdamCoefficients k = coefficients;  // a local copy stays in registers (the stores cannot alias it)
    std::size_t i = lo;
    for (; i + VW <= hi; i += VW) {
      const AdamLanes s = adam_lanes(k, loadv(g + i), loadv(m + i), loadv(v + i));
      storev(m + i, s.m);
      storev(v + i, s.v);
      storev(out + i, s.out);
    }
    if (i < hi) {
      const std::size_t rem = hi - i;
      const AdamLanes s =
          adam_lanes(k, load_part(g + i, rem, 0.0f), load_part(m + i, rem, 0.0f), load_part(v + i, rem, 0.0f));
      store_part(m + i, s.m, rem);
      store_part(v + i, s.v, rem);
      store_part(out + i, s.out, rem);
    }
  });
}

// The synapse kernels promise the reference's exact double arithmetic, where every product is rounded before
// the sum that uses it: they are compiled without contraction into fused multiply-adds, which binding.gyp's
// -ffp-contract=fast would form even inside vectorised loops. GCC honours this; Clang's -ffp-contract=fast
// ignores `#pragma clang fp contract(off)`, so a Clang build may round omega's update and the viscous
// denominator once instead of twice (at most one float ulp from the reference). info().compiler tells the
// tests which to expect. synapse_adam_step repeats these kernels' expressions unchanged, so it rounds like them
// under either compiler (Clang contracts per expression, the same expressions alike).
// no-trapping-math lets GCC compute viscousScale's division in every lane and select, instead of a branch that
// does not vectorise (FP exceptions are masked anyway; no value changes).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#endif

namespace {

// prev <- theta and prev_grad <- grad (zeros when grad is null) on [0, n): the whole step when none is pending.
void record_previous(const float* theta, float* prev, float* prev_grad, const float* grad, std::size_t n) {
  std::memcpy(prev, theta, n * sizeof(float));
  if (grad == nullptr) {
    std::memset(prev_grad, 0, n * sizeof(float));
  } else if (grad != prev_grad) {
    std::memcpy(prev_grad, grad, n * sizeof(float));
  }
}

// The pending step on [0, n), fused with record_previous so that each element is read and written once. The
// reference's double operations in its order, then one rounding to float: the results match it bit for bit
// (FTZ/DAZ aside) and do not depend on where a thread's range starts. |d| > tol is the reference's
// d > tol || d < -tol (the same for any tol; NaN is never significant).
template <bool kHasGrad>
void integrate_and_record(const float* theta, float* prev, float* prev_grad, float* omega, float* last_change,
                          const float* grad, std::size_t n, double rtol, double atol, float step) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    const float t = theta[i];
    const double before = static_cast<double>(prev[i]);
    const double d = static_cast<double>(t) - before;
    omega[i] = static_cast<float>(static_cast<double>(omega[i]) - static_cast<double>(prev_grad[i]) * d);
    const double tol = rtol * std::fabs(before) + atol;
    last_change[i] = std::fabs(d) > tol ? step : last_change[i];
    prev[i] = t;
    prev_grad[i] = kHasGrad ? grad[i] : 0.0f;
  }
}

// u[i] /= 1 + c * importance[i] where importance[i] > 0; other lanes divide by 1 but keep u as it was.
void viscous_range(float* u, const float* importance, double c, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) {
    const float o = importance[i];
    const bool scale = o > 0.0f;
    const double denominator = scale ? 1.0 + c * static_cast<double>(o) : 1.0;
    const float scaled = static_cast<float>(static_cast<double>(u[i]) / denominator);
    u[i] = scale ? scaled : u[i];
  }
}

// a * b + c exactly as vmuladd (vecmath.h) computes it in adam_lanes: one rounding where ENGRAM_HAVE_FMA, two
// otherwise. (A scalar twin, defined here because GCC does not inline functions from outside this region into
// it: their optimisation options differ.)
inline double muladd(double a, double b, double c) {
#if ENGRAM_HAVE_FMA
  return __builtin_fma(a, b, c);
#else
  return a * b + c;
#endif
}

// The pointers and scalars of one synapse_adam_step call.
struct SynapseStepArgs {
  float* theta;
  float* prev;
  float* prev_grad;
  float* omega;
  float* last_change;
  const float* grad;
  float* m;
  float* v;
  const float* importance;
  float* out;
  double rtol, atol, beta1, beta2, c1, c2, c, neg_lr;
  float step, ibc1, ibc2, eps;
};

// synapse_adam_step on [lo, hi): per element, each stage is the expression of the kernel it replaces
// (integrate_and_record, adam_lanes, viscous_range, axpby twice) in the same types, with the same rounding to
// float where that kernel stores and the next one loads, so the results are theirs bit for bit (and, every
// operation being IEEE's, the same in vector and scalar lanes wherever a thread's range starts). Adam's
// multiply-adds are the explicit ones of adam_lanes; the two axpby stages give the same result with or without
// a fused multiply-add (a product plus an exact ±0 or NaN, and 1·θ + 1·u, round once either way). `omp simd`:
// `out` may be `grad`, which each element reads before it writes.
template <bool kPending, bool kViscous, bool kKeepUpdate>
void synapse_step_range(const SynapseStepArgs& args, std::size_t lo, std::size_t hi) {
  const SynapseStepArgs a = args;  // a local copy stays in registers (the stores cannot alias it)
#pragma omp simd
  for (std::size_t i = lo; i < hi; ++i) {
    const float t = a.theta[i];
    const float g = a.grad[i];
    // pathIntegralAdvance
    if (kPending) {
      const double before = static_cast<double>(a.prev[i]);
      const double d = static_cast<double>(t) - before;
      a.omega[i] = static_cast<float>(static_cast<double>(a.omega[i]) - static_cast<double>(a.prev_grad[i]) * d);
      const double tol = a.rtol * std::fabs(before) + a.atol;
      a.last_change[i] = std::fabs(d) > tol ? a.step : a.last_change[i];
    }
    a.prev[i] = t;
    a.prev_grad[i] = g;
    // adamDirection
    const double gi = static_cast<double>(g);
    const float mi = static_cast<float>(muladd(a.beta1, static_cast<double>(a.m[i]), a.c1 * gi));
    const float vi = static_cast<float>(muladd(a.beta2, static_cast<double>(a.v[i]), (a.c2 * gi) * gi));
    a.m[i] = mi;
    a.v[i] = vi;
    // (__builtin_sqrtf: <cmath>'s std::sqrt(float) wrapper is defined outside this region and would stay a call)
    float u = (mi * a.ibc1) / (__builtin_sqrtf(vi * a.ibc2) + a.eps);
    // viscousScale
    if (kViscous) {
      const float o = a.importance[i];
      const bool scale = o > 0.0f;
      const double denominator = scale ? 1.0 + a.c * static_cast<double>(o) : 1.0;
      const float scaled = static_cast<float>(static_cast<double>(u) / denominator);
      u = scale ? scaled : u;
    }
    // axpby(-lr, u, 0, u, u): the 0·u term stays (it makes ±Infinity NaN and -0 +0, as the chain does)
    const double ud = static_cast<double>(u);
    u = static_cast<float>(a.neg_lr * ud + 0.0 * ud);
    if (kKeepUpdate) a.out[i] = u;
    // axpby(1, theta, 1, u, theta)
    a.theta[i] = static_cast<float>(static_cast<double>(t) + static_cast<double>(u));
  }
}

// synapse_step_range with its template arguments picked at run time.
template <bool kPending, bool kViscous>
void synapse_step_dispatch(const SynapseStepArgs& a, std::size_t lo, std::size_t hi) {
  if (a.out != nullptr) {
    synapse_step_range<kPending, kViscous, true>(a, lo, hi);
  } else {
    synapse_step_range<kPending, kViscous, false>(a, lo, hi);
  }
}

}  // namespace

void path_integral_advance(const float* theta, float* prev, float* prev_grad, float* omega, float* last_change,
                           const float* grad, std::size_t n, double step, double rtol, double atol, bool pending,
                           int nthreads) {
  const float stepf = static_cast<float>(step);  // rounded as the reference's store into a Float32Array does
  parallel_elements(n, kMinPath, nthreads, [&](std::size_t lo, std::size_t hi) {
    const float* g = grad == nullptr ? nullptr : grad + lo;
    if (pending && g != nullptr) {
      integrate_and_record<true>(theta + lo, prev + lo, prev_grad + lo, omega + lo, last_change + lo, g, hi - lo,
                                 rtol, atol, stepf);
    } else if (pending) {
      integrate_and_record<false>(theta + lo, prev + lo, prev_grad + lo, omega + lo, last_change + lo, g, hi - lo,
                                  rtol, atol, stepf);
    } else {
      record_previous(theta + lo, prev + lo, prev_grad + lo, g, hi - lo);
    }
  });
}

void viscous_scale(float* u, const float* importance, double c, std::size_t n, int nthreads) {
  parallel_elements(n, kMinViscous, nthreads,
                    [&](std::size_t lo, std::size_t hi) { viscous_range(u + lo, importance + lo, c, hi - lo); });
}

void synapse_adam_step(float* theta, float* prev, float* prev_grad, float* omega, float* last_change,
                       const float* grad, float* m, float* v, const float* importance, float* out, std::size_t n,
                       const SynapseAdamScalars& s, int nthreads) {
  const AdamCoefficients k = adam_coefficients(s.beta1, s.beta2, s.eps, s.adam_step);
  const SynapseStepArgs a{theta, prev, prev_grad, omega, last_change, grad, m, v, importance, out,
                          s.rtol, s.atol, k.beta1, k.beta2, k.c1, k.c2, s.c, -s.lr,
                          static_cast<float>(s.path_step), k.ibc1, k.ibc2, k.eps};
  const bool viscous = importance != nullptr;
  parallel_elements(n, kMinSynapseStep, nthreads, [&](std::size_t lo, std::size_t hi) {
    if (s.pending && viscous) {
      synapse_step_dispatch<true, true>(a, lo, hi);
    } else if (s.pending) {
      synapse_step_dispatch<true, false>(a, lo, hi);
    } else if (viscous) {
      synapse_step_dispatch<false, true>(a, lo, hi);
    } else {
      synapse_step_dispatch<false, false>(a, lo, hi);
    }
  });
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace engram
