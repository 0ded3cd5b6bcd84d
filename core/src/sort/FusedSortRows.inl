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
  if constexpr (R == Relaxation::Cauchy) {  // the kernels use fastAtan4 (below), four lanes at a time
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

// ---- layout ---------------------------------------------------------------------------------------
// X^T is stored rank-major with a padded stride ld = roundup(n, 8): every column (rank) starts on a
// 32-byte boundary and holds a whole number of 32-byte vectors, so the blends below run on full
// vectors only (GCC / Clang vector extensions: 8 floats or 4 doubles per 256-bit vector; on the
// baseline target the compiler splits them into SSE halves). Padding entries stay zero.

inline int strideOf(int n) { return (n + 7) & ~7; }

template <typename T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32)));
};
template <typename T>
using Vec = typename VecOf<T>::type;
template <typename T>
constexpr int kLanes = static_cast<int>(32 / sizeof(T));

template <typename T>
inline Vec<T> load(const T* p) {
  return *reinterpret_cast<const Vec<T>*>(__builtin_assume_aligned(p, 32));
}
template <typename T>
inline void store(T* p, Vec<T> v) {
  *reinterpret_cast<Vec<T>*>(__builtin_assume_aligned(p, 32)) = v;
}

/// atan in float64 to 1 ulp on four lanes at once, branch-free (vector selects): reduction to
/// |r| <= 0.66 around 0, pi/4 or pi/2 and a rational minimax approximation in r^2 (the classic
/// Cephes scheme); about 2x faster than libm's scalar call.
inline Vec<double> fastAtan4(Vec<double> v) {
  typedef long long Mask __attribute__((vector_size(32)));
  const Vec<double> zero = {}, one = zero + 1.0;
  const Vec<double> x = v < zero ? -v : v;
  const Mask big = x > 2.41421356237309504880;
  const Mask mid = (x > 0.66) & ~big;
  const Vec<double> num = big ? -one : (mid ? x - 1.0 : x);
  const Vec<double> den = big ? x : (mid ? x + 1.0 : one);
  const Vec<double> r = num / den;
  const Vec<double> base = big ? zero + 1.57079632679489661923 : (mid ? zero + 0.78539816339744830962 : zero);
  const Vec<double> tail = big ? zero + 6.123233995736765886130e-17 : (mid ? zero + 3.061616997868382943065e-17 : zero);
  const Vec<double> z = r * r;
  const Vec<double> p = (((-8.750608600031904122785e-1 * z - 1.615753718733365076637e1) * z - 7.500855792314704667340e1) *
                             z - 1.228866684490136173410e2) * z - 6.485021904942025371773e1;
  const Vec<double> q = ((((z + 2.485846490142306297962e1) * z + 1.650270098316988542046e2) * z +
                          4.328810604912902668951e2) * z + 4.853903996359136964868e2) * z + 1.945506571482613964425e2;
  const Vec<double> y = base + (r * (z * p / q) + r + tail);
  return v < zero ? -y : y;
}

/// Blends columns A and B in place over `len` entries (a multiple of 8):
/// min = B + alpha (A - B), max = A + B - min.
template <typename T, bool MinToA>
inline void blend(T* A, T* B, T alpha, int len) {
  for (int e = 0; e < len; e += kLanes<T>) {
    const Vec<T> u = load(A + e), v = load(B + e);
    const Vec<T> lo = v + alpha * (u - v);
    const Vec<T> hi = u + v - lo;
    store(A + e, MinToA ? lo : hi);
    store(B + e, MinToA ? hi : lo);
  }
}

/// blend() that first records the difference of its inputs, A - B (len entries), at tape[0, len):
/// all the backward needs of them (d alpha = sum_e (A - B)(g_min - g_max)).
template <typename T, bool MinToA>
inline void blendRecord(T* A, T* B, T alpha, int len, T* tape) {
  for (int e = 0; e < len; e += kLanes<T>) {
    const Vec<T> u = load(A + e), v = load(B + e);
    const Vec<T> diff = u - v;
    store(tape + e, diff);
    const Vec<T> lo = v + alpha * diff;
    const Vec<T> hi = u + v - lo;
    store(A + e, MinToA ? lo : hi);
    store(B + e, MinToA ? hi : lo);
  }
}

/// Sum of a vector's lanes as a tree (halves, then pairs): three dependent adds instead of seven.
inline float horizontalSum(Vec<float> v) {
  typedef float Half __attribute__((vector_size(16)));
  Half h = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
  h += __builtin_shufflevector(h, h, 2, 3, 0, 1);
  return h[0] + h[1];
}
inline double horizontalSum(Vec<double> v) {
  typedef double Half __attribute__((vector_size(16)));
  const Half h = __builtin_shufflevector(v, v, 0, 1) + __builtin_shufflevector(v, v, 2, 3);
  return h[0] + h[1];
}

/// Backward of blend over a comparator's recorded range: returns sum_e D (Gmin - Gmax), D = A - B
/// as recorded, and turns the gradients of the min / max outputs into those of inputs A and B (len
/// a multiple of 8). Entries outside the range are never needed: an element that cannot have
/// reached wire a or b by this layer cannot have reached the wires feeding them earlier either, so
/// every earlier product with those gradient entries has a zero factor.
template <typename T, bool MinToA>
inline T blendBackward(const T* D, T* GA, T* GB, T alpha, int len) {
  Vec<T> acc = {};
  for (int e = 0; e < len; e += kLanes<T>) {
    const Vec<T> ga = load(GA + e), gb = load(GB + e);
    const Vec<T> gMin = MinToA ? ga : gb;
    const Vec<T> gMax = MinToA ? gb : ga;
    const Vec<T> dm = gMin - gMax;
    acc += load(D + e) * dm;
    const Vec<T> dA = gMax + alpha * dm;
    store(GA + e, dA);
    store(GB + e, gMin + gMax - dA);
  }
  return horizontalSum(acc);
}

template <typename T>
inline void setIdentity(T* Xt, int n) {
  const int ld = strideOf(n);
  std::memset(Xt, 0, sizeof(T) * static_cast<std::size_t>(n) * static_cast<std::size_t>(ld));
  for (int i = 0; i < n; ++i) Xt[i * ld + i] = T(1);
}

/// The swap weight, in float64 for every row type: in fp32 its rounding, like that of the values,
/// would be amplified by later comparators (up to steepness / pi each).
template <Relaxation R, typename T>
inline double swapWeight(double d, double s, double lambda) {
  return alphaOf<R, double>(d, s, lambda);
}

/// One layer on the float64 values: computes the swap weights (stored as T when `alphas` is set).
/// A chunk of comparators is gathered into contiguous lanes (the wires of one layer are disjoint),
/// weights and blends evaluate four lanes at a time, and the results scatter back to their wires.
/// What the reverse pass needs of each comparator's values (float64, indexed by comparator): the
/// swap weight exactly as applied, its slope d alpha / d(b - a) and the input difference a - b.
struct ValuesTape {
  double* alpha = nullptr;
  double* slope = nullptr;
  double* diff = nullptr;
};

template <Relaxation R, typename T>
inline void valuesLayer(const FlatNetwork& net, int layer, double* x, T* alphas, double s, double lambda,
                        const ValuesTape* tape = nullptr) {
  constexpr int kChunk = 64;
  alignas(32) double xa[kChunk], xb[kChunk], lo[kChunk], hi[kChunk], w[kChunk];
  const std::int32_t* wireA = net.wireA.data();
  const std::int32_t* wireB = net.wireB.data();
  const std::int32_t* wireMin = net.wireMin.data();
  const std::int32_t* wireMax = net.wireMax.data();
  for (int c0 = net.layerBegin[layer]; c0 < net.layerBegin[layer + 1]; c0 += kChunk) {
    const int count = net.layerBegin[layer + 1] - c0 < kChunk ? net.layerBegin[layer + 1] - c0 : kChunk;
    for (int i = 0; i < count; ++i) {
      xa[i] = x[wireA[c0 + i]];
      xb[i] = x[wireB[c0 + i]];
    }
    const int lanes = (count + 3) & ~3;
    for (int i = count; i < lanes; ++i) xa[i] = xb[i] = 0.0;
    for (int i = 0; i < lanes; i += 4) {
      const Vec<double> va = load(xa + i), vb = load(xb + i);
      Vec<double> alpha;
      if constexpr (R == Relaxation::Cauchy) {  // the NeCo default: four lanes of atan at a time
        alpha = fastAtan4((vb - va) * s) / kPi + 0.5;
      } else {
        for (int k = 0; k < 4; ++k) alpha[k] = swapWeight<R, T>(vb[k] - va[k], s, lambda);
      }
      const Vec<double> low = vb + alpha * (va - vb);
      store(w + i, alpha);
      store(lo + i, low);
      store(hi + i, va + vb - low);
      if (tape) {  // (the gathered inputs are free now: they keep the slope and a - b)
        Vec<double> slope;
        if constexpr (R == Relaxation::Cauchy) {
          const Vec<double> v = (vb - va) * s;
          slope = s / (kPi * (1.0 + v * v));
        } else {
          for (int k = 0; k < 4; ++k) slope[k] = alphaSlope<R, double>(vb[k] - va[k], alpha[k], s, lambda);
        }
        store(xb + i, slope);
        store(xa + i, va - vb);
      }
    }
    for (int i = 0; i < count; ++i) {
      x[wireMin[c0 + i]] = lo[i];
      x[wireMax[c0 + i]] = hi[i];
    }
    if (alphas) {
      for (int i = 0; i < count; ++i) alphas[c0 + i] = static_cast<T>(w[i]);
    }
    if (tape) {
      const auto bytes = sizeof(double) * static_cast<std::size_t>(count);
      std::memcpy(tape->alpha + c0, w, bytes);
      std::memcpy(tape->slope + c0, xb, bytes);
      std::memcpy(tape->diff + c0, xa, bytes);
    }
  }
}

template <typename T>
inline void matrixLayer(const FlatNetwork& net, int layer, T* Xt, const T* alphas) {
  const int ld = strideOf(net.n);
  const FlatComparator* cmps = net.comparators.data();
  for (int c = net.layerBegin[layer]; c < net.layerBegin[layer + 1]; ++c) {
    const FlatComparator& cmp = cmps[c];
    // Only the elements that can have reached wire a or b so far (cmp.lo, cmp.len; 8-aligned) are non-zero.
    T* A = Xt + static_cast<std::ptrdiff_t>(cmp.a) * ld + cmp.lo;
    T* B = Xt + static_cast<std::ptrdiff_t>(cmp.b) * ld + cmp.lo;
    if (cmp.minToA) {
      blend<T, true>(A, B, alphas[c], cmp.len);
    } else {
      blend<T, false>(A, B, alphas[c], cmp.len);
    }
  }
}

/// matrixLayer that records every comparator's input difference on the tape (offsets relative to tapeBase).
template <typename T>
inline void matrixLayerRecord(const FlatNetwork& net, int layer, T* Xt, const T* alphas, T* tape,
                              std::int64_t tapeBase, bool apply) {
  const int ld = strideOf(net.n);
  const FlatComparator* cmps = net.comparators.data();
  for (int c = net.layerBegin[layer]; c < net.layerBegin[layer + 1]; ++c) {
    const FlatComparator& cmp = cmps[c];
    T* A = Xt + static_cast<std::ptrdiff_t>(cmp.a) * ld + cmp.lo;
    T* B = Xt + static_cast<std::ptrdiff_t>(cmp.b) * ld + cmp.lo;
    T* rec = tape + (cmp.tape - tapeBase);
    if (!apply) {
      for (int e = 0; e < cmp.len; e += kLanes<T>) store(rec + e, load(A + e) - load(B + e));
    } else if (cmp.minToA) {
      blendRecord<T, true>(A, B, alphas[c], cmp.len, rec);
    } else {
      blendRecord<T, false>(A, B, alphas[c], cmp.len, rec);
    }
  }
}

/// Sorts one row: x (float64) and Xt (rank-major, stride ld) end as the sorted values and X^T.
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

/// log on eight positive normal floats (what the cross-entropy feeds it: p clamped at a floor >= 1e-30):
/// exponent and mantissa m in [sqrt(1/2), sqrt(2)), then log m = 2 atanh(s), s = (m - 1) / (m + 1),
/// as an odd series to s^9 (|s| <= 0.172, error below 1 ulp of float).
inline Vec<float> log8(Vec<float> p) {
  typedef int Int8 __attribute__((vector_size(32)));
  Int8 bits;
  std::memcpy(&bits, &p, sizeof bits);  // bit casts (no aliasing through pointers)
  Int8 exponent = (bits >> 23) - 127;
  const Int8 mantissaBits = (bits & 0x007fffff) | 0x3f800000;
  Vec<float> m;
  std::memcpy(&m, &mantissaBits, sizeof m);
  const Int8 high = m > 1.41421356f;
  m = high ? m * 0.5f : m;
  exponent -= high;  // comparison lanes are -1 where true
  const Vec<float> sv = (m - 1.0f) / (m + 1.0f), s2 = sv * sv;
  const Vec<float> series = sv * (2.0f + s2 * (0.666666667f + s2 * (0.4f + s2 * (0.285714286f + s2 * 0.222222222f))));
  return __builtin_convertvector(exponent, Vec<float>) * 0.693147181f + series;
}

/// Unaligned 8-float vector (for rows of the caller's n x n matrices, stride n).
typedef float Vec8u __attribute__((vector_size(32), aligned(4)));

/// In-register transpose of an 8 x 8 float block (unpack pairs, 64-bit pairs, 128-bit halves).
inline void transpose8(Vec<float> (&r)[8]) {
  Vec<float> t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[2 * i + 1] = __builtin_shufflevector(r[2 * i], r[2 * i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 and 4-7
    const Vec<float>* a = t + 4 * h;
    u[4 * h + 0] = __builtin_shufflevector(a[0], a[2], 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * h + 1] = __builtin_shufflevector(a[0], a[2], 2, 3, 10, 11, 6, 7, 14, 15);
    u[4 * h + 2] = __builtin_shufflevector(a[1], a[3], 0, 1, 8, 9, 4, 5, 12, 13);
    u[4 * h + 3] = __builtin_shufflevector(a[1], a[3], 2, 3, 10, 11, 6, 7, 14, 15);
  }
  for (int c = 0; c < 4; ++c) {
    r[c] = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[c + 4] = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

/// X[e * n + r] = Xt[r * ld + e]: 8 x 8 register blocks for float, scalar at the ragged edge.
template <typename T>
void transposeInto(const T* Xt, T* X, int n) {
  const int ld = strideOf(n);
  int full = 0;
  if constexpr (sizeof(T) == sizeof(float)) {
    full = n & ~7;
    for (int r0 = 0; r0 < full; r0 += 8) {
      for (int e0 = 0; e0 < full; e0 += 8) {
        Vec<float> rows[8];
        for (int i = 0; i < 8; ++i) rows[i] = load(Xt + (r0 + i) * ld + e0);
        transpose8(rows);
        for (int i = 0; i < 8; ++i) *reinterpret_cast<Vec8u*>(X + (e0 + i) * n + r0) = rows[i];
      }
    }
  }
  for (int e = 0; e < n; ++e) {
    for (int r = e < full ? full : 0; r < n; ++r) X[e * n + r] = Xt[r * ld + e];
  }
}

/// Xt[r * ld + e] = X[e * n + r] (the incoming gradient of X into the kernels' layout); Xt's padding
/// must already be zero.
template <typename T>
void transposeFrom(const T* X, T* Xt, int n) {
  const int ld = strideOf(n);
  int full = 0;
  if constexpr (sizeof(T) == sizeof(float)) {
    full = n & ~7;
    for (int e0 = 0; e0 < full; e0 += 8) {
      for (int r0 = 0; r0 < full; r0 += 8) {
        Vec<float> rows[8];
        for (int i = 0; i < 8; ++i) rows[i] = *reinterpret_cast<const Vec8u*>(X + (e0 + i) * n + r0);
        transpose8(rows);
        for (int i = 0; i < 8; ++i) store(Xt + (r0 + i) * ld + e0, rows[i]);
      }
    }
  }
  for (int e = 0; e < n; ++e) {
    for (int r = e < full ? full : 0; r < n; ++r) Xt[r * ld + e] = X[e * n + r];
  }
}

/// Matrix scratch regions are whole multiples of 8 scalars so that every region stays 32-byte aligned.
inline std::ptrdiff_t pad8(std::ptrdiff_t count) { return (count + 7) & ~std::ptrdiff_t{7}; }

template <Relaxation R, typename T>
void forwardRowR(const FlatNetwork& net, const RelaxParams& relax, const T* in, T* sorted, T* permutation,
                 T* alphas, const Scratch<T>& scratch) {
  const int n = net.n;
  T* Xt = scratch.matrix;
  T* alphaBuffer = alphas ? alphas : Xt + pad8(static_cast<std::ptrdiff_t>(n) * strideOf(n));
  double* x = scratch.values;
  forwardState<R>(net, relax, in, x, Xt, alphaBuffer);
  if (sorted) {
    for (int i = 0; i < n; ++i) sorted[i] = static_cast<T>(x[i]);
  }
  if (permutation) transposeInto(Xt, permutation, n);
}

/// Reverse pass over all layers. On entry gx (n, float64) and GXt (n x ld, rank-major) hold the
/// gradients of the outputs; on exit gx holds d loss / d in. `alphas` are the swap weights as the
/// forward applied them to X, or null: the values and their weights are replayed from `in` (into
/// alphaWork, comparators entries), bit for bit what the forward computed.
/// Matrix work area: (segments + 1) n ld + the largest segment's tape; values work area: n + 4 comparators
/// (the replay's ValuesTape, so the reverse pass evaluates no transcendental and divides nothing, and
/// the matrix part of each d alpha).
template <Relaxation R, typename T>
void reverseLayers(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas, double* gx,
                   T* GXt, T* work, double* valueWork, T* alphaWork) {
  const int n = net.n, L = net.layers(), ld = strideOf(n);
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * ld;
  const double s = relax.steepness, lambda = relax.artLambda;
  const int seg = segmentLength(L, n);
  const int segments = (L + seg - 1) / seg;
  T* checkpoints = work;                    // segments x n ld: X^T at each segment start
  T* state = checkpoints + segments * nn;   // n ld: running X^T within a segment
  T* tape = state + nn;                     // the segment's recorded input differences
  const int C = net.comparatorCount();
  double* x = valueWork;  // n
  const ValuesTape values{x + n, x + n + C, x + n + 2 * C};
  double* dalphaMatrix = x + n + 3 * C;  // per comparator: sum over its X entries of (A - B)(Gmin - Gmax)
  const std::int32_t* wireA = net.wireA.data();
  const std::int32_t* wireB = net.wireB.data();
  const std::int32_t* wireMin = net.wireMin.data();
  const std::int32_t* wireMax = net.wireMax.data();
  const FlatComparator* cmps = net.comparators.data();
  auto tapeAt = [&](int layer) {
    return layer >= L || net.layerBegin[layer] >= net.comparatorCount() ? net.tapeSize : cmps[net.layerBegin[layer]].tape;
  };

  for (int i = 0; i < n; ++i) x[i] = static_cast<double>(in[i]);
  for (int l = 0; l < L; ++l) valuesLayer<R>(net, l, x, alphas ? static_cast<T*>(nullptr) : alphaWork, s, lambda, &values);
  if (!alphas) alphas = alphaWork;  // the replay reproduced the forward's weights exactly
  setIdentity(checkpoints, n);
  for (int sg = 1; sg < segments; ++sg) {
    T* cp = checkpoints + sg * nn;
    std::memcpy(cp, cp - nn, sizeof(T) * static_cast<std::size_t>(nn));
    for (int l = (sg - 1) * seg; l < sg * seg; ++l) matrixLayer(net, l, cp, alphas);
  }

  for (int sg = segments - 1; sg >= 0; --sg) {
    const int begin = sg * seg, end = begin + seg < L ? begin + seg : L;
    const std::int64_t tapeBase = tapeAt(begin);
    std::memcpy(state, checkpoints + sg * nn, sizeof(T) * static_cast<std::size_t>(nn));
    for (int l = begin; l < end; ++l) matrixLayerRecord(net, l, state, alphas, tape, tapeBase, l + 1 < end);
    // The matrix adjoint never reads the values' gradient: this pass is pure column work, and each
    // comparator leaves only its share of d alpha for the scalar pass below.
    for (int l = end - 1; l >= begin; --l) {
      for (int c = net.layerBegin[l]; c < net.layerBegin[l + 1]; ++c) {
        const FlatComparator& cmp = cmps[c];
        const T* D = tape + (cmp.tape - tapeBase);
        T* GA = GXt + static_cast<std::ptrdiff_t>(cmp.a) * ld + cmp.lo;
        T* GB = GXt + static_cast<std::ptrdiff_t>(cmp.b) * ld + cmp.lo;
        dalphaMatrix[c] = cmp.minToA ? blendBackward<T, true>(D, GA, GB, alphas[c], cmp.len)
                                     : blendBackward<T, false>(D, GA, GB, alphas[c], cmp.len);
      }
    }
  }

  // The values' adjoint, a short scalar chain over the comparators in reverse.
  for (int c = C - 1; c >= 0; --c) {
    const int a = wireA[c], b = wireB[c];
    const double alpha = values.alpha[c];  // exactly the forward's value
    const double gMin = gx[wireMin[c]], gMax = gx[wireMax[c]];
    const double dm = gMin - gMax;
    const double dalpha = dalphaMatrix[c] + values.diff[c] * dm;
    const double dA = gMax + alpha * dm, dB = gMin + gMax - dA;
    const double dd = dalpha * values.slope[c];  // d alpha / d(b - a)
    gx[a] = dA - dd;
    gx[b] = dB + dd;
  }
}

template <Relaxation R, typename T>
void backwardRowR(const FlatNetwork& net, const RelaxParams& relax, const T* in, const T* alphas, const T* gSorted,
                  const T* gPermutation, T* gIn, const Scratch<T>& scratch) {
  const int n = net.n, ld = strideOf(n);
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * ld;
  T* GXt = scratch.matrix;
  T* work = GXt + 3 * nn + pad8(2 * net.comparatorCount());
  double* gx = scratch.values;
  double* valueWork = gx + n;
  std::memset(GXt, 0, sizeof(T) * static_cast<std::size_t>(nn));
  if (gPermutation) transposeFrom(gPermutation, GXt, n);
  for (int i = 0; i < n; ++i) gx[i] = gSorted ? static_cast<double>(gSorted[i]) : 0.0;
  reverseLayers<R>(net, relax, in, alphas, gx, GXt, work, valueWork, GXt + 3 * nn);
  for (int i = 0; i < n; ++i) gIn[i] = static_cast<T>(gx[i]);
}

/// Student and teacher forward; matrix scratch from `m`: [P (student X^T) | Q (teacher) | alphas_s |
/// alphas_t]. Optionally writes d loss / d P (rank-major, stride ld, zero padding) to gradOut.
template <Relaxation R, typename T>
double crossEntropyR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                     const T* studentIn, const T* teacherIn, double floor, T* m, double* x, T* gradOut) {
  const int n = net.n, ld = strideOf(n);
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * ld;
  T* P = m;
  T* Q = P + nn;
  T* alphasS = Q + nn;
  T* alphasT = alphasS + net.comparatorCount();
  forwardState<R>(net, teacher, teacherIn, x, Q, alphasT);
  forwardState<R>(net, student, studentIn, x, P, alphasS);
  const T f = static_cast<T>(floor);
  if (gradOut) {  // d/dP of the mean over e: -q / (n p) where p > floor (the clamp has zero slope below)
    for (std::ptrdiff_t i = 0; i < nn; ++i) gradOut[i] = P[i] > f ? -Q[i] / (static_cast<T>(n) * P[i]) : T(0);
    return 0.0;  // the backward needs only the gradient
  }
  double total = 0;
  if constexpr (sizeof(T) == sizeof(float)) {
    // Whole padded columns: padding entries are 0 in both P and Q and contribute 0 * log(floor).
    for (int r = 0; r < n; ++r) {
      Vec<float> acc = {};
      for (int e = 0; e < ld; e += 8) {
        const Vec<float> p = load(P + r * ld + e), q = load(Q + r * ld + e);
        acc += q * log8(p > f ? p : f);
      }
      double column = 0;
      for (int i = 0; i < 8; ++i) column += static_cast<double>(acc[i]);
      total -= column;
    }
  } else {
    for (int r = 0; r < n; ++r) {
      for (int e = 0; e < n; ++e) {
        const std::ptrdiff_t i = static_cast<std::ptrdiff_t>(r) * ld + e;
        const T p = P[i] > f ? P[i] : f;
        total -= static_cast<double>(Q[i]) * cLog(static_cast<double>(p));
      }
    }
  }
  return total / n;
}

template <Relaxation R, typename T>
T crossEntropyRowR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher, const T* studentIn,
                   const T* teacherIn, double floor, const Scratch<T>& scratch) {
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(net.n) * strideOf(net.n);
  return static_cast<T>(crossEntropyR<R>(net, student, teacher, studentIn, teacherIn, floor, scratch.matrix + nn,
                                         scratch.values, static_cast<T*>(nullptr)));
}

template <Relaxation R, typename T>
void crossEntropyBackwardRowR(const FlatNetwork& net, const RelaxParams& student, const RelaxParams& teacher,
                              const T* studentIn, const T* teacherIn, double floor, T gLoss, T* gIn,
                              const Scratch<T>& scratch) {
  const int n = net.n;
  const std::ptrdiff_t nn = static_cast<std::ptrdiff_t>(n) * strideOf(n);
  // Matrix layout: [GX^T | P | Q | alphas_s | alphas_t (padded) | reverse work]; values: [gx | x + the replay's ValuesTape]
  T* GXt = scratch.matrix;
  T* ce = GXt + nn;
  double* gx = scratch.values;
  crossEntropyR<R>(net, student, teacher, studentIn, teacherIn, floor, ce, gx + n, GXt);
  const T* alphasS = ce + 2 * nn;
  T* work = ce + 2 * nn + pad8(2 * net.comparatorCount());
  for (std::ptrdiff_t i = 0; i < nn; ++i) GXt[i] *= gLoss;
  for (int i = 0; i < n; ++i) gx[i] = 0.0;
  reverseLayers<R>(net, student, studentIn, alphasS, gx, GXt, work, gx + n, static_cast<T*>(nullptr));
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
