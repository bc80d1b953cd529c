// Flush-to-zero / denormals-are-zero for Engram's kernels.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define ENGRAM_HAVE_MXCSR 1
#endif

namespace engram {

// Denormal floats (|x| < 1.2e-38) cost ~100 cycles per operation on x86. Long runs produce them: softmax
// tails of confident predictions and Adam moments of inputs that are always zero (MNIST's border pixels)
// decay into that range, and a Split MNIST run slowed 10x. Kernels therefore run with FTZ and DAZ set, as
// ML frameworks' thread pools do.
#ifdef ENGRAM_HAVE_MXCSR
constexpr unsigned kFtzDaz = 0x8040;
// For OpenMP pool threads, which only ever run Engram's and OpenBLAS's kernels: set and keep.
inline void set_flush_denormals() { _mm_setcsr(_mm_getcsr() | kFtzDaz); }
// For the caller's (Node's) thread: set for the duration of one kernel call, then restore.
class FlushDenormals {
 public:
  FlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFtzDaz); }
  ~FlushDenormals() { _mm_setcsr(saved_); }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned saved_;
};
#else
inline void set_flush_denormals() {}
class FlushDenormals {};
#endif

}  // namespace engram
