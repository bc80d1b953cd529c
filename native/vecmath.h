// Branch-free single-precision vector math on GCC/Clang vector extensions (the width follows the ISA the
// addon is compiled for). Accuracy: exp within ~2 ulp, tanh / sigmoid / gelu within a few ulp; NaN and
// +-Infinity behave like the scalar libm functions.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX__) || defined(__SSE2__)
#include <immintrin.h>
#endif

namespace engram {

#if defined(__AVX512F__)
constexpr int VW = 16;
#elif defined(__AVX__)
constexpr int VW = 8;
#else
constexpr int VW = 4;
#endif

typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
typedef uint32_t vu __attribute__((vector_size(VW * 4)));
typedef double vd __attribute__((vector_size(VW * 8)));

inline vf splat(float x) { return vf{} + x; }
inline vd splatd(double x) { return vd{} + x; }

inline vf loadv(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storev(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
// First n (< VW) lanes from p, the rest `fill`; memory past p[n - 1] is neither read nor written (AVX-512's
// masked moves suppress faults on masked-off lanes).
#if defined(__AVX512F__)
inline __mmask16 first_lanes(std::size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
inline vf load_part(const float* p, std::size_t n, float fill) {
  return (vf)_mm512_mask_loadu_ps((__m512)splat(fill), first_lanes(n), p);
}
inline void store_part(float* p, vf v, std::size_t n) { _mm512_mask_storeu_ps(p, first_lanes(n), (__m512)v); }
#else
inline vf load_part(const float* p, std::size_t n, float fill) {
  vf v = splat(fill);
  std::memcpy(&v, p, n * sizeof(float));
  return v;
}
inline void store_part(float* p, vf v, std::size_t n) { std::memcpy(p, &v, n * sizeof(float)); }
#endif

inline vf vabs(vf x) { return (vf)((vu)x & 0x7fffffffu); }
inline vf vcopysign(vf mag, vf sgn) { return (vf)(((vu)mag & 0x7fffffffu) | ((vu)sgn & 0x80000000u)); }

// 1 where the target has fused multiply-add instructions, i.e. where binding.gyp's -ffp-contract=fast lets the
// compiler round a * b + c once instead of twice.
#if defined(__AVX512F__) || defined(__FMA__) || defined(__FP_FAST_FMA) || defined(__aarch64__)
#define ENGRAM_HAVE_FMA 1
#else
#define ENGRAM_HAVE_FMA 0
#endif

// a * b + c as -ffp-contract=fast compiles it when it fuses this product into this sum: one rounding where
// ENGRAM_HAVE_FMA, two otherwise. Spelled out, so that the result depends neither on the contraction setting of
// the code it is inlined into nor on which of two products the compiler would have chosen to fuse.
inline vd vmuladd(double a, vd b, vd c) {
#if ENGRAM_HAVE_FMA && (defined(__AVX512F__) || defined(__FMA__))
#if defined(__AVX512F__)
  typedef __m512d reg;
  const reg ra = _mm512_set1_pd(a);
#else
  typedef __m256d reg;
  const reg ra = _mm256_set1_pd(a);
#endif
  constexpr int kRegs = static_cast<int>(sizeof(vd) / sizeof(reg));
  static_assert(kRegs * sizeof(reg) == sizeof(vd), "vd must be a whole number of registers");
  reg rb[kRegs], rc[kRegs];
  std::memcpy(rb, &b, sizeof b);
  std::memcpy(rc, &c, sizeof c);
  for (int k = 0; k < kRegs; ++k) {
#if defined(__AVX512F__)
    rb[k] = _mm512_fmadd_pd(ra, rb[k], rc[k]);
#else
    rb[k] = _mm256_fmadd_pd(ra, rb[k], rc[k]);
#endif
  }
  vd r;
  std::memcpy(&r, rb, sizeof r);
  return r;
#elif ENGRAM_HAVE_FMA
  vd r;
  for (int i = 0; i < VW; ++i) r[i] = __builtin_fma(a, b[i], c[i]);
  return r;
#else
  return a * b + c;
#endif
}

inline vf vsqrt(vf x) {
#if defined(__AVX512F__)
  return (vf)_mm512_maskz_sqrt_ps(static_cast<__mmask16>(0xFFFF), (__m512)x);
#elif defined(__AVX__)
  return (vf)_mm256_sqrt_ps((__m256)x);
#elif defined(__SSE2__)
  return (vf)_mm_sqrt_ps((__m128)x);
#else
  vf r;
  for (int i = 0; i < VW; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
#endif
}

// e^x. Range reduction x = n ln2 + r, |r| <= ln2/2, degree-7 Taylor polynomial (truncation < 6e-9), and
// 2^n applied as two exact power-of-two factors so that gradual underflow and overflow to +Inf are exact.
inline vf vexp(vf x) {
  const vf hi = splat(100.0f);
  const vf lo = splat(-110.0f);
  vf xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;  // NaN lanes stay NaN here and are fixed at the end
  const vf magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const vf t = xc * 1.44269504088896341f + magic;
  const vf n = t - magic;
  vf r = xc - n * 0.693359375f;   // ln2 split: the high part has few bits, so n * hi is exact
  r = r - n * -2.12194440e-4f;
  vf p = splat(1.0f / 5040.0f);
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const vi ni = __builtin_convertvector(n, vi);
  const vi n1 = ni >> 1;
  const vi n2 = ni - n1;
  const vf s1 = (vf)(((vu)(n1 + 127)) << 23);
  const vf s2 = (vf)(((vu)(n2 + 127)) << 23);
  const vf res = p * s1 * s2;
  return x != x ? x : res;
}

// Natural logarithm: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172,
// by its series to s^9 (truncation < 3e-9). Subnormals are scaled by 2^23 first. log 0 = -Inf, log(x < 0) = NaN,
// log(+Inf) = +Inf, NaN stays NaN.
inline vf vlog(vf x) {
  const vi tiny = x < 1.17549435e-38f;  // subnormal (or zero / negative, fixed at the end)
  const vf xs = tiny ? x * 8388608.0f : x;
  const vi bits = (vi)xs;
  vi e = ((bits >> 23) & 0xff) - 127;
  e = tiny ? e - 23 : e;
  vf m = (vf)((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
  const vi big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const vf f = m - 1.0f;  // exact
  const vf s = f / (m + 1.0f);
  const vf s2 = s * s;
  vf p = splat(2.0f / 9.0f);
  p = p * s2 + 2.0f / 7.0f;
  p = p * s2 + 2.0f / 5.0f;
  p = p * s2 + 2.0f / 3.0f;
  const vf logm = f - s * (f - s2 * p);  // 2s + 2s^3/3 + ... written as f - s (f - s^2 p): 2s = f - s f
  const vf ef = __builtin_convertvector(e, vf);
  vf r = ef * 0.693359375f + (logm + ef * -2.12194440e-4f);
  r = x == 0.0f ? splat(-INFINITY) : r;
  r = x < 0.0f ? splat(NAN) : r;
  r = x == INFINITY ? x : r;
  return x != x ? x : r;
}

// tanh: odd polynomial (own near-minimax fit, < 1e-7 relative) for |x| < 0.625, else (1 - e^-2|x|) / (1 + e^-2|x|).
inline vf vtanh(vf x) {
  const vf ax = vabs(x);
  const vf z = vexp(-2.0f * ax);
  const vf big = vcopysign((1.0f - z) / (1.0f + z), x);
  const vf x2 = x * x;
  vf p = splat(-0.00570507999509573f);
  p = p * x2 + 0.02063918299973011f;
  p = p * x2 + -0.053739748895168304f;
  p = p * x2 + 0.13331443071365356f;
  p = p * x2 + -0.3333328068256378f;
  const vf small = x + (x * x2) * p;
  return ax < 0.625f ? small : big;
}

// 1 / (1 + e^-x), evaluated with e^-|x| so that nothing overflows.
inline vf vsigmoid(vf x) {
  const vf z = vexp(-vabs(x));
  const vf s = 1.0f / (1.0f + z);
  return x >= 0.0f ? s : z * s;
}

constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kGeluC = 0.044715f;

inline bool any(vi m) {
#if defined(__AVX512F__)
  return _mm512_test_epi32_mask((__m512i)m, (__m512i)m) != 0;
#elif defined(__AVX__)
  return _mm256_movemask_ps((__m256)m) != 0;
#else
  int r = 0;
  for (int i = 0; i < VW; ++i) r |= m[i];
  return r != 0;
#endif
}

// u = sqrt(2/pi) (x + 0.044715 x^3) and the argument -2|u| of e^-2|u|. In float, u carries a relative error of
// a few 2^-24, which e^-2|u| turns into |2u| times that: fine while |x| <= 4.5 (|2u| <= 14, error < 3e-6), so
// vectors with a larger |x| form u in double (e^-2|u| then stays within a few ulp up to |2u| ~ 90).
struct GeluArg {
  vf u;    // u rounded to float (its sign selects the branch)
  vf arg;  // -2|u|
};
inline GeluArg gelu_arg(vf x) {
  if (!any(vabs(x) > 4.5f)) {
    const vf u = kSqrt2OverPi * (x + kGeluC * x * x * x);
    return {u, -2.0f * vabs(u)};
  }
  const vd xd = __builtin_convertvector(x, vd);
  const vd ud = 0.7978845608028654 * xd * (1.0 + 0.044715 * xd * xd);
  const vf u = __builtin_convertvector(ud, vf);
  const vf m2 = u < 0.0f ? splat(2.0f) : splat(-2.0f);
  return {u, __builtin_convertvector(ud * __builtin_convertvector(m2, vd), vf)};
}

// GELU (tanh form) as x * sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): the same function as
// 0.5 x (1 + tanh u), without the cancellation of 1 + tanh u for negative x.
inline vf vgelu(vf x) {
  const GeluArg g = gelu_arg(x);
  const vf z = vexp(g.arg);  // e^-2|u|
  const vf opz = 1.0f + z;
  const vf s = g.u < 0.0f ? z / opz : 1.0f / opz;
  return x * s;
}

// d/dx GELU = s + 2x s(1-s) sqrt(2/pi) (1 + 3 * 0.044715 x^2), s = sigmoid(2u); s(1-s) = z / (1+z)^2 with
// z = e^-2|u|. The polynomial uses x clamped to +-20 (beyond it z = 0) so that huge x give 0, not 0 * Inf;
// x = +-Inf still gives NaN like the reference.
inline vf vgelu_grad(vf x) {
  const GeluArg g = gelu_arg(x);
  const vf z = vexp(g.arg);
  const vf opz = 1.0f + z;
  const vf s = g.u < 0.0f ? z / opz : 1.0f / opz;
  const vf q = z / (opz * opz);
  vf xc = x > 20.0f ? splat(20.0f) : x;
  xc = xc < -20.0f ? splat(-20.0f) : xc;
  const vf poly = (2.0f * kSqrt2OverPi) * (1.0f + (3.0f * kGeluC) * xc * xc);
  return s + (x * q) * poly;
}

}  // namespace engram
