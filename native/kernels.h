// Fused elementwise / row kernels of the Backend interface (see src/kernels/backend.ts for the meaning of each,
// and src/kernels/portable.ts for the reference). Plain pointers and lengths; `out` may alias inputs exactly
// where the TypeScript interface allows it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace engram {

// Codes shared with src/kernels/native.ts.
enum UnaryOp : int { kRelu = 0, kSigmoid, kTanh, kGelu, kExp, kLog, kNeg, kSquare, kSqrt, kUnaryCount };
enum BinaryOp : int { kAdd = 0, kSub, kMul, kDiv, kBinaryCount };

// Kernels taking `nthreads` use up to that many OpenMP threads when the arrays are large enough to profit
// (thresholds in kernels.cc), with a static split: results are bit-identical for any thread count.

// Return false for an unknown op code.
bool unary(int op, const float* x, float* out, std::size_t n, int nthreads);
bool binary(int op, const float* a, const float* b, float* out, std::size_t n, int nthreads);
bool activation_backward(int op, const float* x, const float* y, const float* gy, float* gx, std::size_t n,
                         int nthreads);

void axpby(double alpha, const float* x, double beta, const float* y, float* out, std::size_t n, int nthreads);
void add_row_vector(const float* x, const float* v, std::size_t rows, std::size_t cols, float* out, int nthreads);
// Each column is summed over the rows in order whatever the thread count.
void sum_columns(const float* x, std::size_t rows, std::size_t cols, float* out, int nthreads);
// Single-threaded (a split would change the summation order).
double sum(const float* x, std::size_t n);
void log_softmax(const float* x, std::size_t rows, std::size_t cols, float* out);
// labels must be in [0, cols) (checked by the caller).
double softmax_cross_entropy(const float* x, const int32_t* labels, std::size_t rows, std::size_t cols,
                             double temperature, double scale, float* grad);
double soft_cross_entropy(const float* x, const float* targets, std::size_t rows, std::size_t cols,
                          double temperature, double scale, float* grad);
// Binary cross-entropy of sigmoid(z) against targets x in [0, 1], summed; grad = scale * (sigmoid(z) - x).
double sigmoid_bce(const float* z, const float* x, std::size_t n, double scale, float* grad);
void adam_direction(const float* g, float* m, float* v, double beta1, double beta2, double eps, double step,
                    float* out, std::size_t n, int nthreads);
// Synaptic Intelligence's online path-integral step over n elements, in place (see pathIntegralAdvance in
// src/kernels/backend.ts). grad may be null (prev_grad becomes zeros). The arrays must not overlap, except that
// grad may be prev_grad itself.
void path_integral_advance(const float* theta, float* prev, float* prev_grad, float* omega, float* last_change,
                           const float* grad, std::size_t n, double step, double rtol, double atol, bool pending,
                           int nthreads);
// u[i] /= 1 + c * importance[i] where importance[i] > 0, in place.
void viscous_scale(float* u, const float* importance, double c, std::size_t n, int nthreads);

// The scalars of synapse_adam_step: path_integral_advance's (path_step is the importance source's update count),
// adam_direction's (adam_step is Adam's, 1-based), viscous_scale's c and the learning rate.
struct SynapseAdamScalars {
  double path_step;
  double rtol;
  double atol;
  bool pending;
  double beta1;
  double beta2;
  double eps;
  double adam_step;
  double c;
  double lr;
};

// The sleep optimiser's step in one pass over n elements (see synapseAdamStep in src/kernels/backend.ts),
// bit-identical to the composed kernels
//   path_integral_advance(theta, prev, prev_grad, omega, last_change, grad, ...);
//   adam_direction(grad, m, v, ..., u);
//   viscous_scale(u, importance, c)          (skipped when importance is null);
//   axpby(-lr, u, 0, u, u);  axpby(1, theta, 1, u, theta);
// where u, the applied update, is written to `out` (which may be grad itself) unless out is null.
// The arrays must not overlap, except that out may be grad.
void synapse_adam_step(float* theta, float* prev, float* prev_grad, float* omega, float* last_change,
                       const float* grad, float* m, float* v, const float* importance, float* out, std::size_t n,
                       const SynapseAdamScalars& s, int nthreads);

// Box–Muller normals from a xoshiro128** stream (state: four words, advanced in place): 2·pairs values, the
// same as Rng.fillNormal's (see normalPairs in src/kernels/backend.ts).
void normal_pairs(uint32_t* state, float* out, std::size_t pairs, int nthreads);
void normal_pairs(uint32_t* state, double* out, std::size_t pairs, int nthreads);

// Σ_r log Σ_m w[r,m]·N(z_r; μ_m, diag e^{logvar_m}) over n rows of d dimensions and k modes, writing the
// responsibilities resp (n×k); modes with weight ≤ 0 are absent (see mixtureLogDensity in backend.ts).
double mixture_log_density(const float* z, const float* means, const float* logvars, const float* weights,
                           std::size_t n, std::size_t k, std::size_t d, float* resp);
// Its gradient times g with respect to z, means and logvars, each written (overwritten) where not null.
void mixture_log_density_backward(const float* z, const float* means, const float* logvars, const float* resp,
                                  double g, std::size_t n, std::size_t k, std::size_t d, float* gz, float* gm,
                                  float* gl);

}  // namespace engram
