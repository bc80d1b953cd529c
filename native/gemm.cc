// Builtin SGEMM. Layout of the computation (row-major C, the vector dimension is n):
//
//   for ic (blocks of MC rows of C)                 A block, packed into MR-row micro-panels
//     for pc (blocks of KC of the k dimension)
//       pack A[ic.., pc..]
//       for jc (blocks of NC columns of C)          B block, packed into NR-column micro-panels (kept in L2)
//         pack B[pc.., jc..]
//         for each MR x NR tile (ir-major)         A micro-panel stays in L1 while the B panels stream
//           micro-kernel: MR x NR accumulators in registers, kc rank-1 updates with FMA
//
// Transposition of A or B is absorbed by the packing routines, so one micro-kernel serves all four cases.
// Edges use the same kernel instantiated for fewer rows / vectors, with masked stores for the last columns.
// Threads (OpenMP) claim chunks of C dynamically and never wait on each other inside a call (see worker()).
//
// The tunables below (ENGRAM_GEMM_*) can be overridden with -D for experiments.

#include "gemm.h"
#include "denormals.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__AVX__) || defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace engram {
namespace {

// ---------------------------------------------------------------------------------------------------------
// SIMD abstraction for the micro-kernel: V holds W floats.

#if defined(__AVX512F__)
struct Simd {
  using V = __m512;
  static constexpr int W = 16;
  static inline V zero() { return _mm512_setzero_ps(); }
  static inline V load(const float* p) { return _mm512_loadu_ps(p); }
  static inline V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static inline V set1(float x) { return _mm512_set1_ps(x); }
  static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
  static inline void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static inline __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static inline V loadN(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static inline void storeN(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};
#ifndef ENGRAM_GEMM_MR
#define ENGRAM_GEMM_MR 8
#endif
#ifndef ENGRAM_GEMM_NV
#define ENGRAM_GEMM_NV 3
#endif
#define ENGRAM_GEMM_ISA "avx512"
#elif defined(__AVX2__) && defined(__FMA__)
alignas(32) const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
struct Simd {
  using V = __m256;
  static constexpr int W = 8;
  static inline V zero() { return _mm256_setzero_ps(); }
  static inline V load(const float* p) { return _mm256_loadu_ps(p); }
  static inline V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static inline V set1(float x) { return _mm256_set1_ps(x); }
  static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
  static inline void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static inline __m256i mask(int n) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMaskTable + 8 - n));
  }
  static inline V loadN(const float* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
  static inline void storeN(float* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
};
#ifndef ENGRAM_GEMM_MR
#define ENGRAM_GEMM_MR 6
#endif
#ifndef ENGRAM_GEMM_NV
#define ENGRAM_GEMM_NV 2
#endif
#define ENGRAM_GEMM_ISA "avx2"
#else
// Portable fallback: 4-lane GCC/Clang vector extension (SSE / NEON / scalarised elsewhere).
typedef float v4f __attribute__((vector_size(16)));
struct Simd {
  using V = v4f;
  static constexpr int W = 4;
  static inline V zero() { return V{0.f, 0.f, 0.f, 0.f}; }
  static inline V load(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static inline V bcast(const float* p) { return V{*p, *p, *p, *p}; }
  static inline V set1(float x) { return V{x, x, x, x}; }
  static inline V fma(V a, V b, V c) { return a * b + c; }
  static inline V mul(V a, V b) { return a * b; }
  static inline V add(V a, V b) { return a + b; }
  static inline void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
  static inline V loadN(const float* p, int n) {
    V v = zero();
    for (int i = 0; i < n; ++i) v[i] = p[i];
    return v;
  }
  static inline void storeN(float* p, V v, int n) {
    for (int i = 0; i < n; ++i) p[i] = v[i];
  }
};
#ifndef ENGRAM_GEMM_MR
#define ENGRAM_GEMM_MR 4
#endif
#ifndef ENGRAM_GEMM_NV
#define ENGRAM_GEMM_NV 4
#endif
#define ENGRAM_GEMM_ISA "generic"
#endif

constexpr int W = Simd::W;
constexpr int MR = ENGRAM_GEMM_MR;
constexpr int NV = ENGRAM_GEMM_NV;
constexpr int NR = NV * W;

#ifndef ENGRAM_GEMM_KC
#define ENGRAM_GEMM_KC 384
#endif
#ifndef ENGRAM_GEMM_L2_BYTES
#define ENGRAM_GEMM_L2_BYTES (1 << 20)
#endif
#ifndef ENGRAM_GEMM_L3_BYTES
#define ENGRAM_GEMM_L3_BYTES (4 << 20)
#endif
#ifndef ENGRAM_GEMM_MAX_SHARED_FLOATS
#define ENGRAM_GEMM_MAX_SHARED_FLOATS (4L << 20)
#endif
#ifndef ENGRAM_GEMM_MIN_PARALLEL_FLOPS
#define ENGRAM_GEMM_MIN_PARALLEL_FLOPS 1.25e6
#endif
constexpr long KC_MAX = ENGRAM_GEMM_KC;          // depth of one rank-kc update
constexpr long L2_BYTES = ENGRAM_GEMM_L2_BYTES;  // budget for one packed B block (sequential path)
constexpr long L3_BYTES = ENGRAM_GEMM_L3_BYTES;  // budget for one packed A block (sequential path)
// Threaded path: each thread packs the whole shared operand when it has at most this many floats, else the
// threads take static bands. Below MIN_PARALLEL_FLOPS one thread is faster than waking another.

// ---------------------------------------------------------------------------------------------------------
// Stores a micro-tile: C = alpha * acc + beta * C, then + bias when kBias (a separate rounding, as an add after
// the GEMM would do).
template <int MRU, int NVU, bool kBias>
inline void epilogue(const Simd::V (&acc)[MRU][NVU], float* __restrict c, long ldc, Simd::V va, float beta,
                     int lastw, const Simd::V (&vbias)[NVU]) {
  using V = Simd::V;
  const V vb = Simd::set1(beta);
#pragma GCC unroll 16
  for (int r = 0; r < MRU; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NVU; ++v) {
      float* cv = cr + v * W;
      const bool full = v < NVU - 1 || lastw == W;
      V out;
      if (beta == 0.0f) {
        out = Simd::mul(va, acc[r][v]);
      } else {
        out = Simd::fma(va, acc[r][v], Simd::mul(vb, full ? Simd::load(cv) : Simd::loadN(cv, lastw)));
      }
      if (kBias) out = Simd::add(out, vbias[v]);
      if (full) {
        Simd::store(cv, out);
      } else {
        Simd::storeN(cv, out, lastw);
      }
    }
  }
}

// Micro-kernel: C[0:MRU, 0:w] = alpha * Ap^T Bp + beta * C (+ bias[0:w] on every row, added last, when bias
// is not null), where w = (NVU-1)*W + lastw. Ap: kc steps of MR floats; Bp: kc steps of NR floats (both
// packed, zero padded).

template <int MRU, int NVU>
__attribute__((noinline)) void micro_kernel(long kc, const float* __restrict a, const float* __restrict b,
                                            float* __restrict c, long ldc, float alpha, float beta,
                                            int lastw, const float* __restrict bias) {
  using V = Simd::V;
  V acc[MRU][NVU];
#pragma GCC unroll 16
  for (int r = 0; r < MRU; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NVU; ++v) acc[r][v] = Simd::zero();

  for (int r = 0; r < MRU; ++r) __builtin_prefetch(c + r * ldc, 1, 3);

  long p = 0;
  for (; p + 4 <= kc; p += 4) {
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) {
      V bv[NVU];
#pragma GCC unroll 4
      for (int v = 0; v < NVU; ++v) bv[v] = Simd::load(b + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < MRU; ++r) {
        const V av = Simd::bcast(a + r);
#pragma GCC unroll 4
        for (int v = 0; v < NVU; ++v) acc[r][v] = Simd::fma(av, bv[v], acc[r][v]);
      }
      a += MR;
      b += NR;
    }
  }
  for (; p < kc; ++p) {
    V bv[NVU];
#pragma GCC unroll 4
    for (int v = 0; v < NVU; ++v) bv[v] = Simd::load(b + v * W);
#pragma GCC unroll 16
    for (int r = 0; r < MRU; ++r) {
      const V av = Simd::bcast(a + r);
#pragma GCC unroll 4
      for (int v = 0; v < NVU; ++v) acc[r][v] = Simd::fma(av, bv[v], acc[r][v]);
    }
    a += MR;
    b += NR;
  }

  const V va = Simd::set1(alpha);
  // The bias, one vector per column group (zeros when there is none: x + 0 = x for every float but -0).
  V vbias[NVU];
#pragma GCC unroll 4
  for (int v = 0; v < NVU; ++v) {
    vbias[v] = bias == nullptr ? Simd::zero() : v < NVU - 1 || lastw == W ? Simd::load(bias + v * W)
                                                                         : Simd::loadN(bias + v * W, lastw);
  }
  if (bias == nullptr) {
    epilogue<MRU, NVU, false>(acc, c, ldc, va, beta, lastw, vbias);
  } else {
    epilogue<MRU, NVU, true>(acc, c, ldc, va, beta, lastw, vbias);
  }
}

using KernelFn = void (*)(long, const float*, const float*, float*, long, float, float, int, const float*);

template <int R, int... Vs>
constexpr std::array<KernelFn, NV> kernel_row(std::integer_sequence<int, Vs...>) {
  return {{&micro_kernel<R, Vs + 1>...}};
}
template <int... Rs>
constexpr std::array<std::array<KernelFn, NV>, MR> kernel_table(std::integer_sequence<int, Rs...>) {
  return {{kernel_row<Rs + 1>(std::make_integer_sequence<int, NV>{})...}};
}
constexpr std::array<std::array<KernelFn, NV>, MR> kKernels = kernel_table(std::make_integer_sequence<int, MR>{});

// ---------------------------------------------------------------------------------------------------------
// Packing.

// dst[p * ds + r] = (r < nr ? src[r * ld + p] : 0) for p < kc and r < lanes (lanes <= 8, nr <= lanes).
// A transposing copy of up to 8 rows, used for A (not transposed) and B (transposed).
void transpose_pack8(const float* src, long ld, int nr, int lanes, long kc, float* dst, long ds) {
  long p = 0;
#if defined(__AVX__)
  if (nr > 0) {
    const __m256i lane_mask = _mm256_setr_epi32(lanes > 0 ? -1 : 0, lanes > 1 ? -1 : 0, lanes > 2 ? -1 : 0,
                                                lanes > 3 ? -1 : 0, lanes > 4 ? -1 : 0, lanes > 5 ? -1 : 0,
                                                lanes > 6 ? -1 : 0, lanes > 7 ? -1 : 0);
    for (; p + 8 <= kc; p += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = i < nr ? _mm256_loadu_ps(src + i * ld + p) : _mm256_setzero_ps();
      const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]);
      const __m256 t1 = _mm256_unpackhi_ps(r[0], r[1]);
      const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]);
      const __m256 t3 = _mm256_unpackhi_ps(r[2], r[3]);
      const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]);
      const __m256 t5 = _mm256_unpackhi_ps(r[4], r[5]);
      const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]);
      const __m256 t7 = _mm256_unpackhi_ps(r[6], r[7]);
      const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44);
      const __m256 s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44);
      const __m256 s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44);
      const __m256 s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44);
      const __m256 s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      __m256 o[8];
      o[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
      o[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
      o[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
      o[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
      o[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
      o[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
      o[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
      o[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
      if (lanes == 8) {
        for (int q = 0; q < 8; ++q) _mm256_storeu_ps(dst + (p + q) * ds, o[q]);
      } else {
        for (int q = 0; q < 8; ++q) _mm256_maskstore_ps(dst + (p + q) * ds, lane_mask, o[q]);
      }
    }
  }
#endif
  for (; p < kc; ++p) {
    float* d = dst + p * ds;
    for (int i = 0; i < lanes; ++i) d[i] = i < nr ? src[i * ld + p] : 0.0f;
  }
}

struct Problem {
  bool ta, tb;
  long m, n, k;
  float alpha, beta;
  const float* A;
  long lda;
  const float* B;
  long ldb;
  float* C;
  long ldc;
  const float* bias;  // added to every row of C after the last rank-kc update; null for none
  long mc, kc, nc;  // block sizes (mc multiple of MR, nc multiple of NR)
  float* Ap;
  float* Bp;
};

// Packs rows [i0, i0+mr) x cols [p0, p0+kc) of op(A) into one MR-row micro-panel (zero padded).
void pack_a_panel(const Problem& P, long i0, int mr, long p0, long kc, float* dst) {
  if (!P.ta) {
    // op(A)(i, p) = A[i * lda + p]: transposing copy of mr rows.
    const float* src = P.A + i0 * P.lda + p0;
    for (int g = 0; g < MR; g += 8) {
      const int lanes = std::min(8, MR - g);
      const int nr = std::max(0, std::min(lanes, mr - g));
      if (nr == 0) {
        for (long p = 0; p < kc; ++p)
          for (int i = 0; i < lanes; ++i) dst[p * MR + g + i] = 0.0f;
      } else {
        transpose_pack8(src + g * P.lda, P.lda, nr, lanes, kc, dst + g, MR);
      }
    }
  } else {
    // op(A)(i, p) = A[p * lda + i]: rows of A are already the packed order.
    const float* src = P.A + p0 * P.lda + i0;
    if (mr == MR) {
      for (long p = 0; p < kc; ++p) {
        const float* s = src + p * P.lda;
        float* d = dst + p * MR;
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) d[i] = s[i];
      }
    } else {
      for (long p = 0; p < kc; ++p) {
        const float* s = src + p * P.lda;
        float* d = dst + p * MR;
        for (int i = 0; i < MR; ++i) d[i] = i < mr ? s[i] : 0.0f;
      }
    }
  }
}

// Packs rows [p0, p0+kc) x cols [j0, j0+nr) of op(B) into one NR-column micro-panel (zero padded).
void pack_b_panel(const Problem& P, long p0, long kc, long j0, int nr, float* dst) {
  if (!P.tb) {
    const float* src = P.B + p0 * P.ldb + j0;
    if (nr == NR) {
      for (long p = 0; p < kc; ++p) {
        const float* s = src + p * P.ldb;
        float* d = dst + p * NR;
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) Simd::store(d + v * W, Simd::load(s + v * W));
      }
    } else {
      for (long p = 0; p < kc; ++p) {
        const float* s = src + p * P.ldb;
        float* d = dst + p * NR;
        for (int j = 0; j < NR; ++j) d[j] = j < nr ? s[j] : 0.0f;
      }
    }
  } else {
    // op(B)(p, j) = B[j * ldb + p]: transposing copy, 8 columns at a time.
    const float* src = P.B + j0 * P.ldb + p0;
    for (int g = 0; g < NR; g += 8) {
      const int lanes = std::min(8, NR - g);
      const int cols = std::max(0, std::min(lanes, nr - g));
      if (cols == 0) {
        for (long p = 0; p < kc; ++p)
          for (int i = 0; i < lanes; ++i) dst[p * NR + g + i] = 0.0f;
      } else {
        transpose_pack8(src + g * P.ldb, P.ldb, cols, lanes, kc, dst + g, NR);
      }
    }
  }
}

inline long ceil_div(long a, long b) { return (a + b - 1) / b; }
inline long round_up(long a, long b) { return ceil_div(a, b) * b; }

// The bias for the tile whose columns start at j0, once the rank-kc updates up to depth `done` are in: only
// the last one adds it.
inline const float* bias_at(const Problem& P, long done, long j0) {
  return P.bias != nullptr && done >= P.k ? P.bias + j0 : nullptr;
}

// Sequential blocked GEMM on one thread.
void run(const Problem& P) {
  for (long ic = 0; ic < P.m; ic += P.mc) {
    const long mcur = std::min(P.mc, P.m - ic);
    const long npa = ceil_div(mcur, MR);
    for (long pc = 0; pc < P.k; pc += P.kc) {
      const long kcur = std::min(P.kc, P.k - pc);
      const float beta = pc == 0 ? P.beta : 1.0f;
      for (long ip = 0; ip < npa; ++ip) {
        pack_a_panel(P, ic + ip * MR, static_cast<int>(std::min<long>(MR, mcur - ip * MR)), pc, kcur,
                     P.Ap + ip * MR * kcur);
      }
      for (long jc = 0; jc < P.n; jc += P.nc) {
        const long ncur = std::min(P.nc, P.n - jc);
        const long npb = ceil_div(ncur, NR);
        for (long jp = 0; jp < npb; ++jp) {
          pack_b_panel(P, pc, kcur, jc + jp * NR, static_cast<int>(std::min<long>(NR, ncur - jp * NR)),
                       P.Bp + jp * NR * kcur);
        }
        for (long ip = 0; ip < npa; ++ip) {
          const int mru = static_cast<int>(std::min<long>(MR, mcur - ip * MR));
          const float* ap = P.Ap + ip * MR * kcur;
          float* crow = P.C + (ic + ip * MR) * P.ldc + jc;
          for (long jp = 0; jp < npb; ++jp) {
            const int w = static_cast<int>(std::min<long>(NR, ncur - jp * NR));
            const int nvu = (w + W - 1) / W;
            const int lastw = w - (nvu - 1) * W;
            kKernels[mru - 1][nvu - 1](kcur, ap, P.Bp + jp * NR * kcur, crow + jp * NR, P.ldc, P.alpha, beta,
                                       lastw, bias_at(P, pc + kcur, jc + jp * NR));
          }
        }
      }
    }
  }
}

// Packing buffers, one pair per thread (the caller's and each OpenMP worker's), grown as needed, never shrunk,
// so that steady-state calls do not allocate.
struct Buffer {
  float* p = nullptr;
  std::size_t cap = 0;  // floats
  ~Buffer() { std::free(p); }
  float* get(std::size_t n) {
    if (n > cap) {
      std::free(p);
      const std::size_t bytes = round_up(static_cast<long>(n * sizeof(float)), 64);
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      cap = p == nullptr ? 0 : n;
    }
    return p;
  }
};
thread_local Buffer tlsA;
thread_local Buffer tlsB;

// Unblocked fallback (used only if the packing buffers cannot be allocated).
void gemm_naive(const Problem& P) {
  for (long i = 0; i < P.m; ++i) {
    for (long j = 0; j < P.n; ++j) {
      float s = 0.0f;
      for (long p = 0; p < P.k; ++p) {
        const float a = P.ta ? P.A[p * P.lda + i] : P.A[i * P.lda + p];
        const float b = P.tb ? P.B[j * P.ldb + p] : P.B[p * P.ldb + j];
        s += a * b;
      }
      float* c = P.C + i * P.ldc + j;
      *c = P.beta == 0.0f ? P.alpha * s : P.alpha * s + P.beta * *c;
      if (P.bias != nullptr) *c += P.bias[j];
    }
  }
}

// Block sizes for P (m, n, k set): the fewest blocks that respect the cache budgets, then equal-sized blocks.
// kc depends on k only, so every way of splitting the work sums each element of C in the same order (results
// do not depend on the number of threads).
void plan(Problem& P) {
  const long nkb = ceil_div(P.k, KC_MAX);
  P.kc = ceil_div(P.k, nkb);
  const long nc_max = std::max<long>(NR, (L2_BYTES / (P.kc * static_cast<long>(sizeof(float)))) / NR * NR);
  P.nc = round_up(ceil_div(P.n, ceil_div(P.n, nc_max)), NR);
  const long mc_max = std::max<long>(MR, (L3_BYTES / (P.kc * static_cast<long>(sizeof(float)))) / MR * MR);
  P.mc = round_up(ceil_div(P.m, ceil_div(P.m, mc_max)), MR);
}

// Runs P on the calling thread with its packing buffers.
void solve(Problem P) {
  plan(P);
  P.Ap = tlsA.get(static_cast<std::size_t>(P.mc * P.kc));
  P.Bp = tlsB.get(static_cast<std::size_t>(P.nc * P.kc));
  if (P.Ap == nullptr || P.Bp == nullptr) {
    gemm_naive(P);
  } else {
    run(P);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Threads. The work is cut into chunks, bands of NR-column panels (splitting n) or of MR-row panels (splitting
// m), that threads claim from a shared counter: no barriers, and a thread that the OS delays simply claims
// fewer chunks. Each thread first packs the whole operand that all chunks share (op(A) when splitting n, op(B)
// when splitting m) into its own buffer, so the split that duplicates the smaller operand is chosen.

struct Chunking {
  bool splitM = false;
  long panels_per_chunk = 1;
  long chunks = 0;
  std::atomic<long> next{0};
};

// Packs all of op(A) (every kc block) into Afull: the block at pc starts at mpad * pc.
void pack_all_a(const Problem& P, float* Afull) {
  const long mpad = round_up(P.m, MR);
  for (long pc = 0; pc < P.k; pc += P.kc) {
    const long kcur = std::min(P.kc, P.k - pc);
    float* blk = Afull + mpad * pc;
    for (long ip = 0; ip < mpad / MR; ++ip) {
      pack_a_panel(P, ip * MR, static_cast<int>(std::min<long>(MR, P.m - ip * MR)), pc, kcur, blk + ip * MR * kcur);
    }
  }
}

// Packs all of op(B) into Bfull: the block at pc starts at npad * pc.
void pack_all_b(const Problem& P, float* Bfull) {
  const long npad = round_up(P.n, NR);
  for (long pc = 0; pc < P.k; pc += P.kc) {
    const long kcur = std::min(P.kc, P.k - pc);
    float* blk = Bfull + npad * pc;
    for (long jp = 0; jp < npad / NR; ++jp) {
      pack_b_panel(P, pc, kcur, jp * NR, static_cast<int>(std::min<long>(NR, P.n - jp * NR)), blk + jp * NR * kcur);
    }
  }
}

inline void tile(const Problem& P, const float* ap, const float* bp, long i0, long j0, long kcur, float beta,
                 long pc_end) {
  const int mru = static_cast<int>(std::min<long>(MR, P.m - i0));
  const int w = static_cast<int>(std::min<long>(NR, P.n - j0));
  const int nvu = (w + W - 1) / W;
  const int lastw = w - (nvu - 1) * W;
  kKernels[mru - 1][nvu - 1](kcur, ap, bp, P.C + i0 * P.ldc + j0, P.ldc, P.alpha, beta, lastw,
                             bias_at(P, pc_end, j0));
}

// One thread's share of a dynamically scheduled GEMM (P planned). Returns false if it could not allocate.
bool worker(const Problem& P, Chunking& ch) {
  set_flush_denormals();
  const long mpad = round_up(P.m, MR);
  const long npad = round_up(P.n, NR);
  if (!ch.splitM) {
    float* Afull = tlsA.get(static_cast<std::size_t>(mpad * P.k));
    float* Bp = tlsB.get(static_cast<std::size_t>(ch.panels_per_chunk * NR * P.kc));
    if (Afull == nullptr || Bp == nullptr) return false;
    pack_all_a(P, Afull);
    for (long c = ch.next.fetch_add(1, std::memory_order_relaxed); c < ch.chunks;
         c = ch.next.fetch_add(1, std::memory_order_relaxed)) {
      const long j0 = c * ch.panels_per_chunk * NR;
      const long j1 = std::min(P.n, j0 + ch.panels_per_chunk * NR);
      const long npb = ceil_div(j1 - j0, NR);
      for (long pc = 0; pc < P.k; pc += P.kc) {
        const long kcur = std::min(P.kc, P.k - pc);
        const float beta = pc == 0 ? P.beta : 1.0f;
        for (long jp = 0; jp < npb; ++jp) {
          pack_b_panel(P, pc, kcur, j0 + jp * NR, static_cast<int>(std::min<long>(NR, j1 - j0 - jp * NR)),
                       Bp + jp * NR * kcur);
        }
        const float* ablk = Afull + mpad * pc;
        for (long jp = 0; jp < npb; ++jp) {
          for (long ip = 0; ip < mpad / MR; ++ip) {
            tile(P, ablk + ip * MR * kcur, Bp + jp * NR * kcur, ip * MR, j0 + jp * NR, kcur, beta, pc + kcur);
          }
        }
      }
    }
  } else {
    float* Bfull = tlsB.get(static_cast<std::size_t>(npad * P.k));
    float* Ap = tlsA.get(static_cast<std::size_t>(ch.panels_per_chunk * MR * P.kc));
    if (Bfull == nullptr || Ap == nullptr) return false;
    pack_all_b(P, Bfull);
    for (long c = ch.next.fetch_add(1, std::memory_order_relaxed); c < ch.chunks;
         c = ch.next.fetch_add(1, std::memory_order_relaxed)) {
      const long i0 = c * ch.panels_per_chunk * MR;
      const long i1 = std::min(P.m, i0 + ch.panels_per_chunk * MR);
      const long npa = ceil_div(i1 - i0, MR);
      for (long pc = 0; pc < P.k; pc += P.kc) {
        const long kcur = std::min(P.kc, P.k - pc);
        const float beta = pc == 0 ? P.beta : 1.0f;
        for (long ip = 0; ip < npa; ++ip) {
          pack_a_panel(P, i0 + ip * MR, static_cast<int>(std::min<long>(MR, i1 - i0 - ip * MR)), pc, kcur,
                       Ap + ip * MR * kcur);
        }
        const float* bblk = Bfull + npad * pc;
        for (long ip = 0; ip < npa; ++ip) {
          for (long jp = 0; jp < npad / NR; ++jp) {
            tile(P, Ap + ip * MR * kcur, bblk + jp * NR * kcur, i0 + ip * MR, jp * NR, kcur, beta, pc + kcur);
          }
        }
      }
    }
  }
  return true;
}

// Static split for problems whose shared operand is too large to pack whole per thread: thread `tid` of `nt`
// runs the sequential algorithm on a band of rows (splitM) or columns of C, aligned to MR / NR.
Problem band(const Problem& P, bool splitM, int tid, int nt) {
  Problem Q = P;
  const long unit = splitM ? MR : NR;
  const long total = splitM ? P.m : P.n;
  const long units = ceil_div(total, unit);
  const long lo = std::min(total, units * tid / nt * unit);
  const long hi = std::min(total, units * (tid + 1) / nt * unit);
  if (splitM) {
    Q.m = hi - lo;
    Q.A = P.ta ? P.A + lo : P.A + lo * P.lda;
    Q.C = P.C + lo * P.ldc;
  } else {
    Q.n = hi - lo;
    Q.B = P.tb ? P.B + lo * P.ldb : P.B + lo;
    Q.C = P.C + lo;
    if (P.bias != nullptr) Q.bias = P.bias + lo;
  }
  return Q;
}

}  // namespace

const char* sgemm_builtin_kernel() {
  static const std::array<char, 48> name = [] {
    std::array<char, 48> n{};
    std::snprintf(n.data(), n.size(), "%s %dx%d", ENGRAM_GEMM_ISA, MR, NR);
    return n;
  }();
  return name.data();
}

void sgemm_builtin(bool transA, bool transB, long m, long n, long k, float alpha, const float* A, long lda,
                   const float* B, long ldb, float beta, float* C, long ldc, const float* bias, int nthreads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (long i = 0; i < m; ++i) {
      float* c = C + i * ldc;
      if (beta == 0.0f) {
        for (long j = 0; j < n; ++j) c[j] = 0.0f;
      } else {
        for (long j = 0; j < n; ++j) c[j] = beta * c[j];
      }
      if (bias != nullptr) {
        for (long j = 0; j < n; ++j) c[j] += bias[j];
      }
    }
    return;
  }
  Problem P{transA, transB, m, n, k, alpha, beta, A, lda, B, ldb, C, ldc, bias, 0, 0, 0, nullptr, nullptr};

  int nt = nthreads < 1 ? 1 : nthreads;
  const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (flops < ENGRAM_GEMM_MIN_PARALLEL_FLOPS) nt = 1;
#ifdef _OPENMP
  if (nt > 1 && !omp_in_parallel()) {
    plan(P);
    Chunking ch;
    // Splitting n makes every thread pack all of op(A); splitting m, all of op(B).
    ch.splitM = m * k > k * n;
    if ((ch.splitM ? ceil_div(m, MR) : ceil_div(n, NR)) < 2) ch.splitM = !ch.splitM;
    const long panels = ch.splitM ? ceil_div(m, MR) : ceil_div(n, NR);
    const long shared_floats = ch.splitM ? round_up(n, NR) * k : round_up(m, MR) * k;
    if (panels >= 2 && shared_floats <= ENGRAM_GEMM_MAX_SHARED_FLOATS) {
      ch.panels_per_chunk = std::max<long>(1, panels / (8L * nt));
      ch.chunks = ceil_div(panels, ch.panels_per_chunk);
      nt = static_cast<int>(std::min<long>(nt, ch.chunks));
      int failed = 0;
#pragma omp parallel num_threads(nt) reduction(+ : failed)
      failed += worker(P, ch) ? 0 : 1;
      if (failed != 0) gemm_naive(P);
      return;
    }
    if (panels >= 2) {
      nt = static_cast<int>(std::min<long>(nt, panels));
#pragma omp parallel num_threads(nt)
      {
        set_flush_denormals();
        const Problem Q = band(P, ch.splitM, omp_get_thread_num(), omp_get_num_threads());
        if (Q.m > 0 && Q.n > 0) solve(Q);
      }
      return;
    }
  }
#endif
  solve(P);
}

}  // namespace engram
