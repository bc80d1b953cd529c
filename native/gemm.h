// Engram's builtin single-precision GEMM: packed, cache-blocked, register-blocked FMA micro-kernel,
// threaded with OpenMP. Row-major throughout.
#pragma once

namespace engram {

// C = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n, all row-major with leading dimensions
// lda / ldb / ldc (A is m x k, or k x m when transA; B is k x n, or n x k when transB).
// beta == 0 overwrites C without reading it (NaN in C is ignored). bias, when not null (n floats), is then added
// to every row of C, rounded separately as an add after the product would be. nthreads <= 1 runs on the
// calling thread.
void sgemm_builtin(bool transA, bool transB, long m, long n, long k, float alpha, const float* A, long lda,
                   const float* B, long ldb, float beta, float* C, long ldc, const float* bias, int nthreads);

// Human-readable description of the compiled micro-kernel, e.g. "avx512 8x48".
const char* sgemm_builtin_kernel();

}  // namespace engram
