// Row kernels of the fused soft sort (see FusedSortCpu.h). Included once per instruction set with
// NECO_SORT_ISA naming the namespace; everything else here has internal linkage so the copies
// compiled with different -m flags can never be merged by the linker. Uses only C maths functions
// and raw loops for the same reason (no inline library templates).
//
// Maths of one comparator (alpha = f(b - a), "min" keeps a with weight alpha):
//   forward   min = alpha a + (1 - alpha) b = b + alpha (a - b),   max = a + b - min
//             for the values and for the two columns of X^T.
//   backward  dA = Gmax + alpha (Gmin - Gmax),   dB = Gmin + Gmax - dA,
//             dalpha = sum over the values and X entries of (a - b)(Gmin - Gmax),
//             then d(b - a) = dalpha * f'(b - a) flows into the values of a and b.

#ifndef NECO_SORT_ISA
#error "define NECO_SORT_ISA before including FusedSortRows.inl"
#endif

#include "sort/FusedSortCpu.h"

#include <math.h>

#include <cstring>

namespace neco::sort::NECO_SORT_ISA {
namespace {

inline float cAtan(float v) { return ::atanf(v); }
inline double cAtan(double v) { return ::atan(v); }
inline float cExp(float v) { return ::expf(v); }
inline double cExp(double v) { return ::exp(v); }
inline float cErf(float v) { return ::erff(v); }
inline double cErf(double v) { return ::erf(v); }
inline float cPow(float v, float p) { return ::powf(v, p); }
inline double cPow(double v, double p) { return ::pow(v, p); }
inline float cAbs(float v) { return __builtin_fabsf(v); }
inline double cAbs(double v) { return __builtin_fabs(v); }
inline float cLog(float v) { return ::logf(v); }
inline double cLog(double v) { return ::log(v); }

constexpr double kPi = 3.14159265358979323846;

/// alpha as a function of d = b - a, exactly the formulas of Relaxation.cpp (METHOD.md §3.3).
template <Relaxation R, typename T>
inline T alphaOf(T d, T s, T lambda) {
  const T v = d * s;
  if constexpr (R == Relaxation::Cauchy) {
    return cAtan(v) / T(kPi) + T(0.5);
  } else if constexpr (R == Relaxation::Logistic) {
    return T(1) / (T(1) + cExp(-v));
  } else if constexpr (R == Relaxation::LogisticPhi) {
    const T u = v / cPow(cAbs(d) + T(1e-10), lambda);
    return T(1) / (T(1) + cExp(-u));
  } else if constexpr (R == Relaxation::Gaussian) {
    return T(0.5) + T(0.5) * cErf(d * (s / T(1.4142135623730950488)));
  } else if constexpr (R == Relaxation::Reciprocal) {
    return T(0.5) * (v / (T(2) + cAbs(v)) + T(1));
  } else {  // Optimal
    const T clamped = v < T(-0.25) ? T(-0.25) : (v > T(0.25) ? T(0.25) : v);
    const T sign = v > T(0.25) ? T(1) : (v < T(-0.25) ? T(-1) : T(0));
    return clamped + T(0.5) + sign * (T(0.25) - T(1) / (T(16) * (cAbs(v) + T(1e-10))));
  }
}

/// d alpha / d d (the steepness included); `alpha` is alphaOf(d) for the relaxations that reuse it.
template <Relaxation R, typename T>
inline T alphaSlope(T d, T alpha, T s, T lambda) {
  const T v = d * s;
  if constexpr (R == Relaxation::Cauchy) {
    return s / (T(kPi) * (T(1) + v * v));
  } else if constexpr (R == Relaxation::Logistic) {
    return s * alpha * (T(1) - alpha);
  } else if constexpr (R == Relaxation::LogisticPhi) {
    const T ad = cAbs(d) + T(1e-10);
    const T du = s / cPow(ad, lambda) * (T(1) - lambda * cAbs(d) / ad);
    return alpha * (T(1) - alpha) * du;
  } else if constexpr (R == Relaxation::Gaussian) {
    return s * T(0.39894228040143267794) * cExp(T(-0.5) * v * v);  // the Gaussian pdf (diffsort's backward)
  } else if constexpr (R == Relaxation::Reciprocal) {
    const T den = T(2) + cAbs(v);
    return s / (den * den);
  } else {  // Optimal
    const T av = cAbs(v);
    if (av <= T(0.25)) return s;
    return s / (T(16) * (av + T(1e-10)) * (av + T(1e-10)));
  }
}

/// Blends columns A and B in place: min = B + alpha (A - B), max = A + B - min.
template <typename T, bool MinToA>
inline void blend(T* __restrict A, T* __restrict B, T alpha, int n) {
#pragma omp simd
  for (int e = 0; e < n; ++e) {
    const T u = A[e], v = B[e];
    const T lo = v + alpha * (u - v);
    const T hi = u + v - lo;
    if constexpr (MinToA) {
      A[e] = lo;
      B[e] = hi;
    } else {
      A[e] = hi;
      B[e] = lo;
    }
  }
}

/// Backward of blend on the X columns: returns sum_e (PA - PB)(Gmin - Gmax) and overwrites the
/// gradient columns of the min / max outputs with those of inputs A and B.
template <typename T, bool MinToA>
inline T blendBackward(const T* __restrict PA, const T* __restrict PB, T* __restrict GA, T* __restrict GB, T alpha,
                       int n) {
  T dalpha = 0;
#pragma omp simd reduction(+ : dalpha)
  for (int e = 0; e < n; ++e) {
    const T gMin = MinToA ? GA[e] : GB[e];
    const T gMax = MinToA ? GB[e] : GA[e];
    const T dm = gMin - gMax;
    dalpha += (PA[e] - PB[e]) * dm;
    const T dA = gMax + alpha * dm;
    GA[e] = dA;
    GB[e] = gMin + gMax - dA;
  }
  return dalpha;
}

template <typename T>
inline void setIdentity(T* Xt, int n) {
  std::memset(Xt, 0, sizeof(T) * static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) Xt[i * n + i] = T(1);
}

/// One layer on the float64 values: computes the swap weights (stored as T when `alphas` is set).
template <Relaxation R, typename T>
inline void valuesLayer(const FlatNetwork& net, int layer, double* x, T* alphas, double s, double lambda) {
  for (int c = net.layerBegin[layer]; c < net.layerBegin[layer + 1]; ++c) {
    const FlatComparator& cmp = net.comparators[static_cast<std::size_t>(c)];
    const double a = x[cmp.a], b = x[cmp.b];
    const double alpha = alphaOf<R>(b - a, s, lambda);
    if (alphas) alphas[c] = static_cast<T>(alpha);
    const double lo = b + alpha * (a - b), hi = a + b - lo;
    x[cmp.a] = cmp.minToA ? lo : hi;
    x[cmp.b] = cmp.minToA ? hi : lo;
  }
}

template <typename T>
inline void matrixLayer(const FlatNetwork& net, int layer, T* Xt, const T* alphas) {
  const int n = net.n;
  for (int c = net.layerBegin[layer]; c < net.layerBegin[layer + 1]; ++c) {
    const FlatComparator& cmp = net.comparators[static_cast<std::size_t>(c)];
    T* A = Xt + static_cast<std::ptrdiff_t>(cmp.a) * n;
    T* B = Xt + static_cast<std::ptrdiff_t>(cmp.b) * n;
    if (cmp.minToA) {
      blend<T, true>(A, B, alphas[c], n);
    } else {
      blend<T, false>(A, B, alphas[c], n);
    }
  }
}

/// Sorts one row: x (float64) and Xt (rank-major) end as the sorted values and X^T; alphas filled.
template <Relaxation R, typename T>
void forwardState(const FlatNetwork& net, const RelaxParams& relax, const T* in, double* x, T* Xt, T* alphas) {
  const int n = net.n;
  for (int i = 0; i < n; ++i) x[i] = static_cast<double>(in[i]);
  setIdentity(Xt, n);
  for (int l = 0; l < net.layers(); ++l) {
    valuesLayer<R>(net, l, x, alphas, relax.steepness, relax.artLambda);
    matrixLayer(net, l, Xt, alphas);
  }
}

template <typename T>
void transposeInto(const T* Xt, T* X, int n) {
  for (int e = 0; e < n; ++e) {
    for (int r = 0; r < n; ++r) X[e * n + r] = Xt[r * n + e];
  }
}

template <Relaxation R, typename T>
void forwardRowR(const FlatNetwork& net, const RelaxParams& relax, const T* in, T* sorted, T* permutation,
                 T* alphas, const Scratch<T>& scratch) {
  const int n = net.n;
  T* Xt = scratch.matrix;
  T* alphaBuffer = alphas ? alphas : Xt + n * n;
  double* x = scratch.values;
  forwardState<R>(net, relax, in, x, Xt, alphaBuffer);
  if (sorted) {
    for (int i = 0; i < n; ++i) sorted[i] = static_cast<T>(x[i]);
  }
  if (permutation) transposeInto(Xt, permutation, n);
}

/// Reverse pass over all layers. On entry gx (n, float64) and GXt (n x n, rank-major) hold the
/// gradients of the outputs; on exit gx holds d loss / d in. `alphas` are the swap weights as the
/// forward applied them to X; the values and their (float64) weights are replayed from `in`.
/// Matrix work area: (segments + seg) n^2; values work area: (L + 1) n.
template <Relaxation R, typename T>
void reverseLayers(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas, double* gx,
                   T* GXt, T* work, double* valueWork) {
  const int n = net.n, L = net.layers();
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * n;
  const double s = relax.steepness, lambda = relax.artLambda;
  const int seg = segmentLength(L, n);
  const int segments = (L + seg - 1) / seg;
  T* checkpoints = work;               // segments x n^2: X^T at each segment start
  T* states = checkpoints + segments * nn;  // seg x n^2 within the current segment
  double* x = valueWork;               // n
  double* xs = x + n;                  // L x n: values at each layer's input

  for (int i = 0; i < n; ++i) x[i] = static_cast<double>(in[i]);
  for (int l = 0; l < L; ++l) {
    std::memcpy(xs + static_cast<std::ptrdiff_t>(l) * n, x, sizeof(double) * static_cast<std::size_t>(n));
    valuesLayer<R>(net, l, x, static_cast<T*>(nullptr), s, lambda);
  }
  setIdentity(checkpoints, n);
  for (int sg = 1; sg < segments; ++sg) {
    T* cp = checkpoints + sg * nn;
    std::memcpy(cp, cp - nn, sizeof(T) * static_cast<std::size_t>(nn));
    for (int l = (sg - 1) * seg; l < sg * seg; ++l) matrixLayer(net, l, cp, alphas);
  }

  for (int sg = segments - 1; sg >= 0; --sg) {
    const int begin = sg * seg, end = begin + seg < L ? begin + seg : L;
    std::memcpy(states, checkpoints + sg * nn, sizeof(T) * static_cast<std::size_t>(nn));
    for (int l = begin; l + 1 < end; ++l) {
      T* next = states + (l - begin + 1) * nn;
      std::memcpy(next, next - nn, sizeof(T) * static_cast<std::size_t>(nn));
      matrixLayer(net, l, next, alphas);
    }
    for (int l = end - 1; l >= begin; --l) {
      const T* P = states + (l - begin) * nn;
      const double* xl = xs + static_cast<std::ptrdiff_t>(l) * n;
      for (int c = net.layerBegin[l]; c < net.layerBegin[l + 1]; ++c) {
        const FlatComparator& cmp = net.comparators[static_cast<std::size_t>(c)];
        const double a = xl[cmp.a], b = xl[cmp.b];
        const double alpha = alphaOf<R>(b - a, s, lambda);  // exactly the forward's value
        const double gMin = cmp.minToA ? gx[cmp.a] : gx[cmp.b];
        const double gMax = cmp.minToA ? gx[cmp.b] : gx[cmp.a];
        const double dm = gMin - gMax;
        const T* PA = P + static_cast<std::ptrdiff_t>(cmp.a) * n;
        const T* PB = P + static_cast<std::ptrdiff_t>(cmp.b) * n;
        T* GA = GXt + static_cast<std::ptrdiff_t>(cmp.a) * n;
        T* GB = GXt + static_cast<std::ptrdiff_t>(cmp.b) * n;
        const T alphaX = alphas[c];
        const double dalphaX = cmp.minToA ? blendBackward<T, true>(PA, PB, GA, GB, alphaX, n)
                                          : blendBackward<T, false>(PA, PB, GA, GB, alphaX, n);
        const double dalpha = dalphaX + (a - b) * dm;
        const double dA = gMax + alpha * dm, dB = gMin + gMax - dA;
        const double dd = dalpha * alphaSlope<R>(b - a, alpha, s, lambda);  // d = b - a
        gx[cmp.a] = dA - dd;
        gx[cmp.b] = dB + dd;
      }
    }
  }
}

template <Relaxation R, typename T>
void backwardRowR(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas, const T* gSorted,
                  const T* gPermutation, T* gIn, const Scratch<T>& scratch) {
  const int n = net.n;
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * n;
  T* GXt = scratch.matrix;
  T* work = GXt + 3 * nn + 2 * net.comparatorCount();
  double* gx = scratch.values;
  double* valueWork = gx + n;
  if (gPermutation) {
    for (int e = 0; e < n; ++e) {
      for (int r = 0; r < n; ++r) GXt[r * n + e] = gPermutation[e * n + r];
    }
  } else {
    std::memset(GXt, 0, sizeof(T) * static_cast<std::size_t>(nn));
  }
  for (int i = 0; i < n; ++i) gx[i] = gSorted ? static_cast<double>(gSorted[i]) : 0.0;
  reverseLayers<R>(net, relax, in, alphas, gx, GXt, work, valueWork);
  for (int i = 0; i < n; ++i) gIn[i] = static_cast<T>(gx[i]);
}

/// Student and teacher forward; matrix scratch from `m`: [P (student X^T) | Q (teacher) | alphas_s |
/// alphas_t]. Optionally writes d loss / d P (rank-major) to gradOut.
template <Relaxation R, typename T>
double crossEntropyR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                     const T* studentIn, const T* teacherIn, double floor, T* m, double* x, T* gradOut) {
  const int n = net.n;
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * n;
  T* P = m;
  T* Q = P + nn;
  T* alphasS = Q + nn;
  T* alphasT = alphasS + net.comparatorCount();
  forwardState<R>(net, teacher, teacherIn, x, Q, alphasT);
  forwardState<R>(net, student, studentIn, x, P, alphasS);
  const T f = static_cast<T>(floor);
  double total = 0;
  for (std::ptrdiff_t i = 0; i < nn; ++i) {
    const T p = P[i] > f ? P[i] : f;
    total -= static_cast<double>(Q[i]) * cLog(static_cast<double>(p));
  }
  if (gradOut) {  // d/dP of the mean over e: -q / (n p) where p > floor (the clamp has zero slope below)
    for (std::ptrdiff_t i = 0; i < nn; ++i) gradOut[i] = P[i] > f ? -Q[i] / (static_cast<T>(n) * P[i]) : T(0);
  }
  return total / n;
}

template <Relaxation R, typename T>
T crossEntropyRowR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher, const T* studentIn,
                   const T* teacherIn, double floor, const Scratch<T>& scratch) {
  return static_cast<T>(crossEntropyR<R>(net, student, teacher, studentIn, teacherIn, floor,
                                         scratch.matrix + net.n * net.n, scratch.values, static_cast<T*>(nullptr)));
}

template <Relaxation R, typename T>
void crossEntropyBackwardRowR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                              const T* studentIn, const T* teacherIn, double floor, T gLoss, T* gIn,
                              const Scratch<T>& scratch) {
  const int n = net.n;
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * n;
  // Matrix layout: [GX^T | P | Q | alphas_s | alphas_t | reverse work]; values: [gx | x + trajectory]
  T* GXt = scratch.matrix;
  T* ce = GXt + nn;
  double* gx = scratch.values;
  crossEntropyR<R>(net, student, teacher, studentIn, teacherIn, floor, ce, gx + n, GXt);
  const T* alphasS = ce + 2 * nn;
  T* work = ce + 2 * nn + 2 * net.comparatorCount();
  for (std::ptrdiff_t i = 0; i < nn; ++i) GXt[i] *= gLoss;
  for (int i = 0; i < n; ++i) gx[i] = 0.0;
  reverseLayers<R>(net, student, studentIn, alphasS, gx, GXt, work, gx + n);
  for (int i = 0; i < n; ++i) gIn[i] = static_cast<T>(gx[i]);
}

// Relaxation dispatch: one switch per row, the comparator loops are specialised.
template <typename T>
void forwardRow(const FlatNetwork& net, const RelaxParams& relax, const T* in, T* sorted, T* permutation, T* alphas,
                const Scratch<T>& scratch) {
#define NECO_CALL(R) forwardRowR<R, T>(net, relax, in, sorted, permutation, alphas, scratch)
  switch (relax.relaxation) {
    case Relaxation::Cauchy: return NECO_CALL(Relaxation::Cauchy);
    case Relaxation::Logistic: return NECO_CALL(Relaxation::Logistic);
    case Relaxation::LogisticPhi: return NECO_CALL(Relaxation::LogisticPhi);
    case Relaxation::Gaussian: return NECO_CALL(Relaxation::Gaussian);
    case Relaxation::Reciprocal: return NECO_CALL(Relaxation::Reciprocal);
    case Relaxation::Optimal: return NECO_CALL(Relaxation::Optimal);
  }
#undef NECO_CALL
}

template <typename T>
void backwardRow(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas, const T* gSorted,
                 const T* gPermutation, T* gIn, const Scratch<T>& scratch) {
#define NECO_CALL(R) backwardRowR<R, T>(net, relax, in, alphas, gSorted, gPermutation, gIn, scratch)
  switch (relax.relaxation) {
    case Relaxation::Cauchy: return NECO_CALL(Relaxation::Cauchy);
    case Relaxation::Logistic: return NECO_CALL(Relaxation::Logistic);
    case Relaxation::LogisticPhi: return NECO_CALL(Relaxation::LogisticPhi);
    case Relaxation::Gaussian: return NECO_CALL(Relaxation::Gaussian);
    case Relaxation::Reciprocal: return NECO_CALL(Relaxation::Reciprocal);
    case Relaxation::Optimal: return NECO_CALL(Relaxation::Optimal);
  }
#undef NECO_CALL
}

// Student and teacher share the network; the relaxation is the student's (NeCo uses one for both).
template <typename T>
T crossEntropyRow(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher, const T* studentIn,
                  const T* teacherIn, double floor, const Scratch<T>& scratch) {
#define NECO_CALL(R) crossEntropyRowR<R, T>(net, student, teacher, studentIn, teacherIn, floor, scratch)
  switch (student.relaxation) {
    case Relaxation::Cauchy: return NECO_CALL(Relaxation::Cauchy);
    case Relaxation::Logistic: return NECO_CALL(Relaxation::Logistic);
    case Relaxation::LogisticPhi: return NECO_CALL(Relaxation::LogisticPhi);
    case Relaxation::Gaussian: return NECO_CALL(Relaxation::Gaussian);
    case Relaxation::Reciprocal: return NECO_CALL(Relaxation::Reciprocal);
    case Relaxation::Optimal: return NECO_CALL(Relaxation::Optimal);
  }
#undef NECO_CALL
  return T(0);
}

template <typename T>
void crossEntropyBackwardRow(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                             const T* studentIn, const T* teacherIn, double floor, T gLoss, T* gIn,
                             const Scratch<T>& scratch) {
#define NECO_CALL(R) \
  crossEntropyBackwardRowR<R, T>(net, student, teacher, studentIn, teacherIn, floor, gLoss, gIn, scratch)
  switch (student.relaxation) {
    case Relaxation::Cauchy: return NECO_CALL(Relaxation::Cauchy);
    case Relaxation::Logistic: return NECO_CALL(Relaxation::Logistic);
    case Relaxation::LogisticPhi: return NECO_CALL(Relaxation::LogisticPhi);
    case Relaxation::Gaussian: return NECO_CALL(Relaxation::Gaussian);
    case Relaxation::Reciprocal: return NECO_CALL(Relaxation::Reciprocal);
    case Relaxation::Optimal: return NECO_CALL(Relaxation::Optimal);
  }
#undef NECO_CALL
}

}  // namespace

KernelSet makeKernelSet(const char* isa) {
  KernelSet set;
  set.isa = isa;
  set.f32 = {&forwardRow<float>, &backwardRow<float>, &crossEntropyRow<float>, &crossEntropyBackwardRow<float>};
  set.f64 = {&forwardRow<double>, &backwardRow<double>, &crossEntropyRow<double>, &crossEntropyBackwardRow<double>};
  return set;
}

}  // namespace neco::sort::NECO_SORT_ISA
