// Node-API bindings of Engram's native backend. Every function takes typed arrays (views with any byte offset;
// the data pointer Node-API returns already includes it) and numbers, checks shapes, and runs the kernel on the
// caller's memory: no copies and no allocation on the hot path. The TypeScript side (src/kernels/native.ts)
// declares the same shape; bump kAbiVersion when it changes.

#define NAPI_VERSION 8
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <initializer_list>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef ENGRAM_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "denormals.h"
#include "gemm.h"
#include "kernels.h"

namespace {

constexpr int32_t kAbiVersion = 5;
constexpr int kImplBuiltin = 0;
constexpr int kImplOpenblas = 1;

std::atomic<int> g_threads{1};

// The thread count set by setThreads (the elementwise kernels decide themselves whether a call is large enough
// to use it).
int threads() { return g_threads.load(std::memory_order_relaxed); }

// ---------------------------------------------------------------------------------------------------------
// Argument helpers. Each returns false with a pending JS exception on failure.

// The most arguments a binding takes (synapseAdamStep's 20).
constexpr std::size_t kMaxArgs = 20;

struct Call {
  // Every kernel call runs with denormals flushed (see denormals.h); restored when the call returns.
  engram::FlushDenormals ftz;
  napi_env env;
  const char* name;
  std::size_t argc;
  napi_value argv[kMaxArgs];

  bool fail_type(std::size_t i, const char* what) {
    char msg[160];
    std::snprintf(msg, sizeof msg, "engram_native.%s: argument %zu must be %s", name, i, what);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  bool fail_range(const char* detail) {
    char msg[200];
    std::snprintf(msg, sizeof msg, "engram_native.%s: %s", name, detail);
    napi_throw_range_error(env, nullptr, msg);
    return false;
  }

  // Argument i as a typed array of one of the given element types: its data (offset included), length and
  // type. `what` names the accepted types in the error.
  bool typed(std::size_t i, std::initializer_list<napi_typedarray_type> accept, const char* what, void** data,
             std::size_t* len, napi_typedarray_type* type) {
    void* ptr = nullptr;
    napi_value ab;
    std::size_t off;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], type, len, &ptr, &ab, &off) != napi_ok ||
        std::find(accept.begin(), accept.end(), *type) == accept.end()) {
      return fail_type(i, what);
    }
    *data = ptr;
    return true;
  }
  template <class T>
  bool one_typed(std::size_t i, napi_typedarray_type want, const char* what, T** data, std::size_t* len) {
    void* ptr = nullptr;
    napi_typedarray_type type;
    if (!typed(i, {want}, what, &ptr, len, &type)) return false;
    *data = static_cast<T*>(ptr);
    return true;
  }
  bool f32(std::size_t i, float** data, std::size_t* len) {
    return one_typed(i, napi_float32_array, "a Float32Array", data, len);
  }
  // A Float32Array, or null / undefined / absent (*data = nullptr, *len = 0).
  bool f32_or_null(std::size_t i, float** data, std::size_t* len) {
    napi_valuetype t;
    if (i >= argc || (napi_typeof(env, argv[i], &t) == napi_ok && (t == napi_null || t == napi_undefined))) {
      *data = nullptr;
      *len = 0;
      return true;
    }
    if (!f32(i, data, len)) {
      // Replace f32's message: null is allowed here.
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      return fail_type(i, "a Float32Array or null");
    }
    return true;
  }
  bool i32(std::size_t i, int32_t** data, std::size_t* len) {
    return one_typed(i, napi_int32_array, "an Int32Array", data, len);
  }
  bool u32(std::size_t i, uint32_t** data, std::size_t* len) {
    return one_typed(i, napi_uint32_array, "a Uint32Array", data, len);
  }
  bool num(std::size_t i, double* out) {
    if (i >= argc || napi_get_value_double(env, argv[i], out) != napi_ok) return fail_type(i, "a number");
    return true;
  }
  // A non-negative integer below 2^53.
  bool size(std::size_t i, std::size_t* out) {
    double d;
    if (i >= argc || napi_get_value_double(env, argv[i], &d) != napi_ok || !(d >= 0.0) ||
        d > 9007199254740991.0 || d != std::floor(d)) {
      return fail_type(i, "a non-negative integer");
    }
    *out = static_cast<std::size_t>(d);
    return true;
  }
  bool integer(std::size_t i, int* out) {
    double d;
    if (i >= argc || napi_get_value_double(env, argv[i], &d) != napi_ok || d != std::floor(d) ||
        !(std::fabs(d) < 2147483647.0)) {
      return fail_type(i, "an integer");
    }
    *out = static_cast<int>(d);
    return true;
  }
  bool boolean(std::size_t i, bool* out) {
    if (i >= argc || napi_get_value_bool(env, argv[i], out) != napi_ok) return fail_type(i, "a boolean");
    return true;
  }
  // Checks that an array named `what` holds at least `need` elements.
  bool need(const char* what, std::size_t have, std::size_t need_elems) {
    if (have >= need_elems) return true;
    char msg[160];
    std::snprintf(msg, sizeof msg, "%s has %zu elements, needs %zu", what, have, need_elems);
    return fail_range(msg);
  }
};

bool begin(napi_env env, napi_callback_info info, const char* name, Call* c) {
  c->env = env;
  c->name = name;
  c->argc = kMaxArgs;
  return napi_get_cb_info(env, info, &c->argc, c->argv, nullptr, nullptr) == napi_ok;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

// Multiplies two sizes, failing on overflow.
bool mul(std::size_t a, std::size_t b, std::size_t* out) { return !__builtin_mul_overflow(a, b, out); }

// ---------------------------------------------------------------------------------------------------------
// GEMM

// gemm(impl, transA, transB, m, n, k, alpha, a, b, beta, c)
napi_value Gemm(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "gemm", &c)) return nullptr;
  int impl;
  bool ta, tb;
  std::size_t m, n, k, la, lb, lc;
  double alpha, beta;
  float *a, *b, *out, *bias;
  std::size_t lbias;
  if (!c.integer(0, &impl) || !c.boolean(1, &ta) || !c.boolean(2, &tb) || !c.size(3, &m) || !c.size(4, &n) ||
      !c.size(5, &k) || !c.num(6, &alpha) || !c.f32(7, &a, &la) || !c.f32(8, &b, &lb) || !c.num(9, &beta) ||
      !c.f32(10, &out, &lc) || !c.f32_or_null(11, &bias, &lbias)) {
    return nullptr;
  }
  std::size_t mk, kn, mn;
  if (!mul(m, k, &mk) || !mul(k, n, &kn) || !mul(m, n, &mn) || m > 2147483647u || n > 2147483647u ||
      k > 2147483647u) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("a", la, mk) || !c.need("b", lb, kn) || !c.need("c", lc, mn) ||
      (bias != nullptr && !c.need("bias", lbias, n))) {
    return nullptr;
  }
  const long lda = static_cast<long>(ta ? m : k);
  const long ldb = static_cast<long>(tb ? k : n);
  const int threads = g_threads.load(std::memory_order_relaxed);
  if (impl == kImplBuiltin) {
    engram::sgemm_builtin(ta, tb, static_cast<long>(m), static_cast<long>(n), static_cast<long>(k),
                          static_cast<float>(alpha), a, lda, b, ldb, static_cast<float>(beta), out,
                          static_cast<long>(n), bias, threads);
    return undefined(env);
  }
#ifdef ENGRAM_HAVE_OPENBLAS
  if (impl == kImplOpenblas) {
    if (m == 0 || n == 0) return undefined(env);
    if (k == 0) {
      // Not every BLAS accepts k = 0; the result is beta * C (zeros when beta = 0, whatever C held).
      for (std::size_t i = 0; i < mn; ++i) out[i] = beta == 0.0 ? 0.0f : static_cast<float>(beta) * out[i];
      if (bias != nullptr) engram::add_row_vector(out, bias, m, n, out, threads);
      return undefined(env);
    }
    // OpenBLAS's beta = 0 path stores zeros without reading C (NaN in C is ignored), as the interface requires;
    // the test-suite checks it with NaN-filled outputs.
#ifdef _OPENMP
    // OpenBLAS's OpenMP threads are libgomp's pool: make sure they flush denormals too.
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
      engram::set_flush_denormals();
    }
#endif
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), static_cast<float>(alpha),
                a, static_cast<blasint>(lda), b, static_cast<blasint>(ldb), static_cast<float>(beta), out,
                static_cast<blasint>(n));
    if (bias != nullptr) engram::add_row_vector(out, bias, m, n, out, threads);
    return undefined(env);
  }
#endif
  c.fail_range("unknown or unavailable GEMM implementation");
  return nullptr;
}

napi_value HasOpenblas(napi_env env, napi_callback_info) {
  napi_value r;
#ifdef ENGRAM_HAVE_OPENBLAS
  napi_get_boolean(env, true, &r);
#else
  napi_get_boolean(env, false, &r);
#endif
  return r;
}

void apply_threads(int n) {
  g_threads.store(n, std::memory_order_relaxed);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
#ifdef ENGRAM_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "setThreads", &c)) return nullptr;
  int n;
  if (!c.integer(0, &n)) return nullptr;
  if (n < 1 || n > 1024) {
    c.fail_range("threads must be between 1 and 1024");
    return nullptr;
  }
  apply_threads(n);
  return undefined(env);
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  return number(env, g_threads.load(std::memory_order_relaxed));
}

void set_string(napi_env env, napi_value obj, const char* key, const char* value) {
  napi_value v;
  if (value == nullptr) {
    napi_get_null(env, &v);
  } else {
    napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  }
  napi_set_named_property(env, obj, key, v);
}

// The compiler that built the addon, e.g. "gcc 12.2.0" (whether the synapse kernels avoid fused multiply-adds
// depends on it: see kernels.cc).
#if defined(__clang__)
constexpr const char* kCompiler = "clang " __clang_version__;
#elif defined(__GNUC__)
constexpr const char* kCompiler = "gcc " __VERSION__;
#else
constexpr const char* kCompiler = "unknown";
#endif

// info(): { builtinKernel, compiler, openmp, processors, openblasCore, openblasConfig }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj;
  napi_create_object(env, &obj);
  set_string(env, obj, "builtinKernel", engram::sgemm_builtin_kernel());
  set_string(env, obj, "compiler", kCompiler);
  napi_value b;
#ifdef _OPENMP
  napi_get_boolean(env, true, &b);
  napi_set_named_property(env, obj, "processors", number(env, omp_get_num_procs()));
#else
  napi_get_boolean(env, false, &b);
  napi_set_named_property(env, obj, "processors", number(env, 1));
#endif
  napi_set_named_property(env, obj, "openmp", b);
#ifdef ENGRAM_HAVE_OPENBLAS
  set_string(env, obj, "openblasCore", openblas_get_corename());
  set_string(env, obj, "openblasConfig", openblas_get_config());
#else
  set_string(env, obj, "openblasCore", nullptr);
  set_string(env, obj, "openblasConfig", nullptr);
#endif
  return obj;
}

// ---------------------------------------------------------------------------------------------------------
// Elementwise and row kernels

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "unary", &c)) return nullptr;
  int op;
  float *x, *out;
  std::size_t nx, no;
  if (!c.integer(0, &op) || !c.f32(1, &x, &nx) || !c.f32(2, &out, &no) || !c.need("out", no, nx)) return nullptr;
  if (!engram::unary(op, x, out, nx, threads())) c.fail_range("unknown unary op");
  return nullptr;
}

// binary(op, a, b, out)
napi_value Binary(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "binary", &c)) return nullptr;
  int op;
  float *a, *b, *out;
  std::size_t na, nb, no;
  if (!c.integer(0, &op) || !c.f32(1, &a, &na) || !c.f32(2, &b, &nb) || !c.f32(3, &out, &no) ||
      !c.need("b", nb, na) || !c.need("out", no, na)) {
    return nullptr;
  }
  if (!engram::binary(op, a, b, out, na, threads())) c.fail_range("unknown binary op");
  return nullptr;
}

// activationBackward(op, x, y, gy, gx)
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "activationBackward", &c)) return nullptr;
  int op;
  float *x, *y, *gy, *gx;
  std::size_t nx, ny, ngy, ngx;
  if (!c.integer(0, &op) || !c.f32(1, &x, &nx) || !c.f32(2, &y, &ny) || !c.f32(3, &gy, &ngy) ||
      !c.f32(4, &gx, &ngx) || !c.need("gy", ngy, nx) || !c.need("gx", ngx, nx)) {
    return nullptr;
  }
  if ((op == engram::kSigmoid || op == engram::kTanh) && !c.need("y", ny, nx)) return nullptr;
  if (!engram::activation_backward(op, x, y, gy, gx, nx, threads())) c.fail_range("unknown activation");
  return nullptr;
}

// axpby(alpha, x, beta, y, out)
napi_value Axpby(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "axpby", &c)) return nullptr;
  double alpha, beta;
  float *x, *y, *out;
  std::size_t nx, ny, no;
  if (!c.num(0, &alpha) || !c.f32(1, &x, &nx) || !c.num(2, &beta) || !c.f32(3, &y, &ny) ||
      !c.f32(4, &out, &no) || !c.need("y", ny, nx) || !c.need("out", no, nx)) {
    return nullptr;
  }
  engram::axpby(alpha, x, beta, y, out, nx, threads());
  return nullptr;
}

// addRowVector(x, v, rows, cols, out)
napi_value AddRowVector(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "addRowVector", &c)) return nullptr;
  float *x, *v, *out;
  std::size_t nx, nv, no, rows, cols, rc;
  if (!c.f32(0, &x, &nx) || !c.f32(1, &v, &nv) || !c.size(2, &rows) || !c.size(3, &cols) ||
      !c.f32(4, &out, &no)) {
    return nullptr;
  }
  if (!mul(rows, cols, &rc)) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("x", nx, rc) || !c.need("v", nv, cols) || !c.need("out", no, rc)) return nullptr;
  engram::add_row_vector(x, v, rows, cols, out, threads());
  return nullptr;
}

// sumColumns(x, rows, cols, out)
napi_value SumColumns(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "sumColumns", &c)) return nullptr;
  float *x, *out;
  std::size_t nx, no, rows, cols, rc;
  if (!c.f32(0, &x, &nx) || !c.size(1, &rows) || !c.size(2, &cols) || !c.f32(3, &out, &no)) return nullptr;
  if (!mul(rows, cols, &rc)) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("x", nx, rc) || !c.need("out", no, cols)) return nullptr;
  engram::sum_columns(x, rows, cols, out, threads());
  return nullptr;
}

// sum(x) -> number
napi_value Sum(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "sum", &c)) return nullptr;
  float* x;
  std::size_t nx;
  if (!c.f32(0, &x, &nx)) return nullptr;
  return number(env, engram::sum(x, nx));
}

// logSoftmax(x, rows, cols, out)
napi_value LogSoftmax(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "logSoftmax", &c)) return nullptr;
  float *x, *out;
  std::size_t nx, no, rows, cols, rc;
  if (!c.f32(0, &x, &nx) || !c.size(1, &rows) || !c.size(2, &cols) || !c.f32(3, &out, &no)) return nullptr;
  if (!mul(rows, cols, &rc)) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("x", nx, rc) || !c.need("out", no, rc)) return nullptr;
  engram::log_softmax(x, rows, cols, out);
  return nullptr;
}

// softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, grad) -> loss
napi_value SoftmaxCrossEntropy(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "softmaxCrossEntropy", &c)) return nullptr;
  float *x, *grad;
  int32_t* labels;
  std::size_t nx, nl, ng, rows, cols, rc;
  double temperature, scale;
  if (!c.f32(0, &x, &nx) || !c.i32(1, &labels, &nl) || !c.size(2, &rows) || !c.size(3, &cols) ||
      !c.num(4, &temperature) || !c.num(5, &scale) || !c.f32(6, &grad, &ng)) {
    return nullptr;
  }
  if (!mul(rows, cols, &rc)) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("x", nx, rc) || !c.need("labels", nl, rows) || !c.need("grad", ng, rc)) return nullptr;
  for (std::size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || static_cast<std::size_t>(labels[r]) >= cols) {
      char msg[120];
      std::snprintf(msg, sizeof msg, "labels[%zu] = %d is outside [0, %zu)", r, static_cast<int>(labels[r]), cols);
      c.fail_range(msg);
      return nullptr;
    }
  }
  return number(env, engram::softmax_cross_entropy(x, labels, rows, cols, temperature, scale, grad));
}

// softCrossEntropy(x, targets, rows, cols, temperature, scale, grad) -> loss
napi_value SoftCrossEntropy(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "softCrossEntropy", &c)) return nullptr;
  float *x, *targets, *grad;
  std::size_t nx, nt, ng, rows, cols, rc;
  double temperature, scale;
  if (!c.f32(0, &x, &nx) || !c.f32(1, &targets, &nt) || !c.size(2, &rows) || !c.size(3, &cols) ||
      !c.num(4, &temperature) || !c.num(5, &scale) || !c.f32(6, &grad, &ng)) {
    return nullptr;
  }
  if (!mul(rows, cols, &rc)) {
    c.fail_range("sizes too large");
    return nullptr;
  }
  if (!c.need("x", nx, rc) || !c.need("targets", nt, rc) || !c.need("grad", ng, rc)) return nullptr;
  return number(env, engram::soft_cross_entropy(x, targets, rows, cols, temperature, scale, grad));
}

// sigmoidBce(z, x, scale, grad) -> loss
napi_value SigmoidBce(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "sigmoidBce", &c)) return nullptr;
  float *z, *x, *grad;
  std::size_t nz, nx, ng;
  double scale;
  if (!c.f32(0, &z, &nz) || !c.f32(1, &x, &nx) || !c.num(2, &scale) || !c.f32(3, &grad, &ng) ||
      !c.need("x", nx, nz) || !c.need("grad", ng, nz)) {
    return nullptr;
  }
  return number(env, engram::sigmoid_bce(z, x, nz, scale, grad));
}

// adamDirection(g, m, v, beta1, beta2, eps, step, out)
napi_value AdamDirection(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "adamDirection", &c)) return nullptr;
  float *g, *m, *v, *out;
  std::size_t ng, nm, nv, no;
  double beta1, beta2, eps, step;
  if (!c.f32(0, &g, &ng) || !c.f32(1, &m, &nm) || !c.f32(2, &v, &nv) || !c.num(3, &beta1) || !c.num(4, &beta2) ||
      !c.num(5, &eps) || !c.num(6, &step) || !c.f32(7, &out, &no) || !c.need("m", nm, ng) ||
      !c.need("v", nv, ng) || !c.need("out", no, ng)) {
    return nullptr;
  }
  engram::adam_direction(g, m, v, beta1, beta2, eps, step, out, ng, threads());
  return nullptr;
}

// pathIntegralAdvance(theta, prev, prevGrad, omega, lastChange, grad | null, step, rtol, atol, pending)
napi_value PathIntegralAdvance(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "pathIntegralAdvance", &c)) return nullptr;
  float *theta, *prev, *prev_grad, *omega, *last_change, *grad;
  std::size_t n, np, npg, nw, nlc, ng;
  double step, rtol, atol;
  bool pending;
  if (!c.f32(0, &theta, &n) || !c.f32(1, &prev, &np) || !c.f32(2, &prev_grad, &npg) || !c.f32(3, &omega, &nw) ||
      !c.f32(4, &last_change, &nlc) || !c.f32_or_null(5, &grad, &ng) || !c.num(6, &step) || !c.num(7, &rtol) ||
      !c.num(8, &atol) || !c.boolean(9, &pending) || !c.need("prevParams", np, n) ||
      !c.need("prevGrads", npg, n) || !c.need("pathIntegral", nw, n) || !c.need("lastChange", nlc, n) ||
      (grad != nullptr && !c.need("grad", ng, n))) {
    return nullptr;
  }
  engram::path_integral_advance(theta, prev, prev_grad, omega, last_change, grad, n, step, rtol, atol, pending,
                                threads());
  return nullptr;
}

// viscousScale(u, importance, c)
napi_value ViscousScale(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "viscousScale", &c)) return nullptr;
  float *u, *importance;
  std::size_t nu, ni;
  double coef;
  if (!c.f32(0, &u, &nu) || !c.f32(1, &importance, &ni) || !c.num(2, &coef) || !c.need("importance", ni, nu)) {
    return nullptr;
  }
  engram::viscous_scale(u, importance, coef, nu, threads());
  return nullptr;
}

// normalPairs(state, out): out.length must be even; state holds four words.
napi_value NormalPairs(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "normalPairs", &c)) return nullptr;
  uint32_t* state;
  std::size_t ns, no;
  void* out = nullptr;
  napi_typedarray_type type;
  if (!c.u32(0, &state, &ns) ||
      !c.typed(1, {napi_float32_array, napi_float64_array}, "a Float32Array or Float64Array", &out, &no, &type)) {
    return nullptr;
  }
  if (ns != 4) {
    c.fail_range("state must hold 4 words");
    return nullptr;
  }
  if (no % 2 != 0) {
    c.fail_range("out must have an even length");
    return nullptr;
  }
  if (type == napi_float32_array) {
    engram::normal_pairs(state, static_cast<float*>(out), no / 2, threads());
  } else {
    engram::normal_pairs(state, static_cast<double*>(out), no / 2, threads());
  }
  return undefined(env);
}

// Checks the shapes shared by the mixture kernels: z n×d, means and logvars k×d, and an n×k array `what`.
bool mixture_shapes(Call& c, std::size_t n, std::size_t k, std::size_t d, std::size_t nz, std::size_t nm,
                    std::size_t nl, std::size_t nk, const char* what) {
  std::size_t nd, kd, nk_need;
  if (!mul(n, d, &nd) || !mul(k, d, &kd) || !mul(n, k, &nk_need)) return c.fail_range("sizes too large");
  return c.need("z", nz, nd) && c.need("means", nm, kd) && c.need("logvars", nl, kd) && c.need(what, nk, nk_need);
}

// mixtureLogDensity(z, means, logvars, weights, n, k, d, resp)
napi_value MixtureLogDensity(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "mixtureLogDensity", &c)) return nullptr;
  float *z, *means, *logvars, *weights, *resp;
  std::size_t nz, nm, nl, nw, nr, n, k, d;
  if (!c.f32(0, &z, &nz) || !c.f32(1, &means, &nm) || !c.f32(2, &logvars, &nl) || !c.f32(3, &weights, &nw) ||
      !c.size(4, &n) || !c.size(5, &k) || !c.size(6, &d) || !c.f32(7, &resp, &nr) ||
      !mixture_shapes(c, n, k, d, nz, nm, nl, nw, "weights") || !c.need("resp", nr, n * k)) {
    return nullptr;
  }
  return number(env, engram::mixture_log_density(z, means, logvars, weights, n, k, d, resp));
}

// mixtureLogDensityBackward(z, means, logvars, resp, g, n, k, d, gz | null, gm | null, gl | null)
napi_value MixtureLogDensityBackward(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "mixtureLogDensityBackward", &c)) return nullptr;
  float *z, *means, *logvars, *resp, *gz, *gm, *gl;
  std::size_t nz, nm, nl, nr, ngz, ngm, ngl, n, k, d;
  double g;
  if (!c.f32(0, &z, &nz) || !c.f32(1, &means, &nm) || !c.f32(2, &logvars, &nl) || !c.f32(3, &resp, &nr) ||
      !c.num(4, &g) || !c.size(5, &n) || !c.size(6, &k) || !c.size(7, &d) || !c.f32_or_null(8, &gz, &ngz) ||
      !c.f32_or_null(9, &gm, &ngm) || !c.f32_or_null(10, &gl, &ngl) ||
      !mixture_shapes(c, n, k, d, nz, nm, nl, nr, "resp") || (gz != nullptr && !c.need("gz", ngz, n * d)) ||
      (gm != nullptr && !c.need("gm", ngm, k * d)) || (gl != nullptr && !c.need("gl", ngl, k * d))) {
    return nullptr;
  }
  engram::mixture_log_density_backward(z, means, logvars, resp, g, n, k, d, gz, gm, gl);
  return undefined(env);
}

// synapseAdamStep(theta, prev, prevGrad, omega, lastChange, grad, m, v, importance | null, out | null,
//                 pathStep, rtol, atol, pending, beta1, beta2, eps, adamStep, c, lr)
napi_value SynapseAdamStep(napi_env env, napi_callback_info info) {
  Call c;
  if (!begin(env, info, "synapseAdamStep", &c)) return nullptr;
  float *theta, *prev, *prev_grad, *omega, *last_change, *grad, *m, *v, *importance, *out;
  std::size_t n, np, npg, nw, nlc, ng, nm, nv, ni, no;
  engram::SynapseAdamScalars s;
  if (!c.f32(0, &theta, &n) || !c.f32(1, &prev, &np) || !c.f32(2, &prev_grad, &npg) || !c.f32(3, &omega, &nw) ||
      !c.f32(4, &last_change, &nlc) || !c.f32(5, &grad, &ng) || !c.f32(6, &m, &nm) || !c.f32(7, &v, &nv) ||
      !c.f32_or_null(8, &importance, &ni) || !c.f32_or_null(9, &out, &no) || !c.num(10, &s.path_step) ||
      !c.num(11, &s.rtol) || !c.num(12, &s.atol) || !c.boolean(13, &s.pending) || !c.num(14, &s.beta1) ||
      !c.num(15, &s.beta2) || !c.num(16, &s.eps) || !c.num(17, &s.adam_step) || !c.num(18, &s.c) ||
      !c.num(19, &s.lr)) {
    return nullptr;
  }
  if (!c.need("prevParams", np, n) || !c.need("prevGrads", npg, n) || !c.need("pathIntegral", nw, n) ||
      !c.need("lastChange", nlc, n) || !c.need("grad", ng, n) || !c.need("m", nm, n) || !c.need("v", nv, n) ||
      (importance != nullptr && !c.need("importance", ni, n)) || (out != nullptr && !c.need("out", no, n))) {
    return nullptr;
  }
  engram::synapse_adam_step(theta, prev, prev_grad, omega, last_change, grad, m, v, importance, out, n, s,
                            threads());
  return nullptr;
}

struct Export {
  const char* name;
  napi_callback fn;
};

}  // namespace

NAPI_MODULE_INIT() {
  static const Export kExports[] = {
      {"gemm", Gemm},
      {"hasOpenblas", HasOpenblas},
      {"setThreads", SetThreads},
      {"getThreads", GetThreads},
      {"info", Info},
      {"unary", Unary},
      {"binary", Binary},
      {"activationBackward", ActivationBackward},
      {"axpby", Axpby},
      {"addRowVector", AddRowVector},
      {"sumColumns", SumColumns},
      {"sum", Sum},
      {"logSoftmax", LogSoftmax},
      {"softmaxCrossEntropy", SoftmaxCrossEntropy},
      {"softCrossEntropy", SoftCrossEntropy},
      {"sigmoidBce", SigmoidBce},
      {"adamDirection", AdamDirection},
      {"pathIntegralAdvance", PathIntegralAdvance},
      {"viscousScale", ViscousScale},
      {"synapseAdamStep", SynapseAdamStep},
      {"normalPairs", NormalPairs},
      {"mixtureLogDensity", MixtureLogDensity},
      {"mixtureLogDensityBackward", MixtureLogDensityBackward},
  };
  for (const Export& e : kExports) {
    napi_value fn;
    if (napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, e.name, fn) != napi_ok) return nullptr;
  }
  napi_value abi;
  napi_create_int32(env, kAbiVersion, &abi);
  napi_set_named_property(env, exports, "abiVersion", abi);

  // The thread count starts at OpenMP's default (OMP_NUM_THREADS or the number of processors).
  static std::atomic<bool> initialised{false};
  if (!initialised.exchange(true)) {
#ifdef _OPENMP
    g_threads.store(omp_get_max_threads(), std::memory_order_relaxed);
#endif
  }
  return exports;
}
