// Standard normals by Box–Muller from a xoshiro128** stream: the same values as Rng.fillNormal in
// src/core/rng.ts (and the portable backend's normalPairs), computed in double with the C library's log, cos
// and sin. V8's Math.log/cos/sin and glibc's agree to the last bit of a double almost always; stored as float,
// a difference in the last bit of a double changes a value only when it sits on a rounding boundary.

#include <cmath>
#include <cstddef>
#include <cstdint>

#include <vector>

#include "kernels.h"

namespace engram {

namespace {

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

inline uint32_t next(uint32_t* s) {
  const uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  const uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

inline double uniform(uint32_t* s) { return static_cast<double>(next(s)) / 4294967296.0; }

// Below this many pairs per thread a second thread costs more than it saves.
constexpr std::size_t kMinPairsPerThread = 2048;


template <class T>
void normal_pairs_into(uint32_t* state, T* out, std::size_t pairs, int nthreads) {
  // The stream is sequential, the transcendentals are not: draw every (u1, u2) first, then transform them on
  // up to nthreads threads (each pair on its own, so the values do not depend on the split).
  std::vector<double> u(2 * pairs);
  uint32_t s[4] = {state[0], state[1], state[2], state[3]};
  for (std::size_t i = 0; i < pairs; ++i) {
    double u1 = uniform(s);
    while (u1 == 0.0) u1 = uniform(s);
    u[2 * i] = u1;
    u[2 * i + 1] = uniform(s);
  }
  for (int i = 0; i < 4; ++i) state[i] = s[i];
  // The reference's expression order: r = sqrt((-2)·log u1), θ = (2π)·u2, then r·cos θ and r·sin θ (single
  // products, so no contraction into fused multiply-adds can change them).
  constexpr double kTwoPi = 2.0 * 3.141592653589793;
  const long long count = static_cast<long long>(pairs);
  const int nt = pairs >= kMinPairsPerThread * 2 ? nthreads : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
  for (long long i = 0; i < count; ++i) {
    const double r = std::sqrt(-2.0 * std::log(u[2 * i]));
    const double th = kTwoPi * u[2 * i + 1];
    out[2 * i] = static_cast<T>(r * std::cos(th));
    out[2 * i + 1] = static_cast<T>(r * std::sin(th));
  }
}

}  // namespace

void normal_pairs(uint32_t* state, float* out, std::size_t pairs, int nthreads) {
  normal_pairs_into(state, out, pairs, nthreads);
}

void normal_pairs(uint32_t* state, double* out, std::size_t pairs, int nthreads) {
  normal_pairs_into(state, out, pairs, nthreads);
}

}  // namespace engram
