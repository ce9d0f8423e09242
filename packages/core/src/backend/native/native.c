// fer's native kernels for the tfjs wasm backend, on tensors in the tfjs heap (the module imports its
// memory; every pointer is a byte offset into it): Winograd convolutions, one-input-channel
// convolutions, matrix products for dense layers, Adam, and a broadcast for mean gradients.
//
// Winograd F(4x4, 3x3): forward (3x3, stride 1, any padding) and the filter gradient, NHWC. A 3x3 convolution costs 36 multiplies per 4x4 output tile
// and channel pair here instead of 144, so the three convolutions of a training step (forward, input
// gradient as a forward convolution, filter gradient) each do about a quarter of the multiplies.
//
//   Y  = A^T [ U (.) V ] A,  U = G g G^T (filter),  V = B^T d B (6x6 input tile)     (Lavin & Gray 2015)
//   dU = V (.) (A dY A^T),   dg = G^T dU G                                         (the adjoints)
//
// The elementwise products summed over channels are matrix products, one per position xi of the 6x6
// tile: M[xi] = V[xi] (tiles x ci) * U[xi] (ci x co), and dU[xi] = V[xi]^T * dM[xi]. Channels are the
// SIMD lanes of the transforms (c % 4 == 0). Built to native_wasm.ts by native.build.mjs (clang).
// No function here uses the C stack (the build checks): the module shares tfjs's memory.

#include <wasm_simd128.h>

typedef float v4 __attribute__((vector_size(16)));
#define EXPORT(name) __attribute__((export_name(name)))
#define LOAD(p) (*(const v4 *)(p))
#define STORE(p, v) (*(v4 *)(p) = (v))
// c += a * b in the matrix products' inner loops. Built twice (native.build.mjs): plain SIMD, a multiply then
// an add; and with FER_RELAXED, relaxed SIMD's f32x4.relaxed_madd, one fused multiply-add where the CPU has
// one (x86 FMA3, ARM NEON): the loops' vector instructions halve. native.ts loads the second where the
// runtime validates it (Node 22+, Chrome 114+; Node 20 behind V8's --experimental-wasm-relaxed-simd).
#ifdef FER_RELAXED
#define MADD(c, a, b) ((c) = __builtin_wasm_relaxed_madd_f32x4((a), (b), (c)))
#else
#define MADD(c, a, b) ((c) += (a) * (b))
#endif

static inline v4 splat(float f) { return (v4){f, f, f, f}; }

// ---- 1-D transforms (6 or 4 or 3 values, each a vector of 4 channels) -----------------------------

// t = B^T d
#define BT6(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5)     \
  do {                                                          \
    v4 a_ = (d4) - 4.0f * (d2), b_ = (d3) - 4.0f * (d1);        \
    v4 c_ = (d4) - (d2), e_ = 2.0f * ((d3) - (d1));             \
    t0 = 4.0f * (d0) - 5.0f * (d2) + (d4);                      \
    t1 = a_ + b_;                                               \
    t2 = a_ - b_;                                               \
    t3 = c_ + e_;                                               \
    t4 = c_ - e_;                                               \
    t5 = 4.0f * (d1) - 5.0f * (d3) + (d5);                      \
  } while (0)

// o = A^T m
#define AT6(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3)             \
  do {                                                          \
    v4 p_ = (m1) + (m2), q_ = (m1) - (m2);                      \
    v4 r_ = (m3) + (m4), s_ = (m3) - (m4);                      \
    o0 = (m0) + p_ + r_;                                        \
    o1 = q_ + 2.0f * s_;                                        \
    o2 = p_ + 4.0f * r_;                                        \
    o3 = q_ + 8.0f * s_ + (m5);                                 \
  } while (0)

// m = A o (adjoint of AT6)
#define A6(o0, o1, o2, o3, m0, m1, m2, m3, m4, m5)              \
  do {                                                          \
    v4 e_ = (o0) + (o2), f_ = (o1) + (o3);                      \
    v4 g_ = (o0) + 4.0f * (o2), h_ = 2.0f * (o1) + 8.0f * (o3); \
    m0 = (o0);                                                  \
    m1 = e_ + f_;                                               \
    m2 = e_ - f_;                                               \
    m3 = g_ + h_;                                               \
    m4 = g_ - h_;                                               \
    m5 = (o3);                                                  \
  } while (0)

// u = G g
#define G6(g0, g1, g2, u0, u1, u2, u3, u4, u5)                  \
  do {                                                          \
    v4 s_ = (g0) + (g2);                                        \
    v4 t_ = (1.0f / 24.0f) * (g0) + (1.0f / 6.0f) * (g2);       \
    u0 = 0.25f * (g0);                                          \
    u1 = (-1.0f / 6.0f) * (s_ + (g1));                          \
    u2 = (-1.0f / 6.0f) * (s_ - (g1));                          \
    u3 = t_ + (1.0f / 12.0f) * (g1);                            \
    u4 = t_ - (1.0f / 12.0f) * (g1);                            \
    u5 = (g2);                                                  \
  } while (0)

// g = G^T u (adjoint of G6)
#define GT6(u0, u1, u2, u3, u4, u5, g0, g1, g2)                                          \
  do {                                                                                   \
    v4 s_ = (u1) + (u2), d_ = (u2) - (u1), p_ = (u3) + (u4), q_ = (u3) - (u4);           \
    g0 = 0.25f * (u0) - (1.0f / 6.0f) * s_ + (1.0f / 24.0f) * p_;                          \
    g1 = (1.0f / 6.0f) * d_ + (1.0f / 12.0f) * q_;                                        \
    g2 = (-1.0f / 6.0f) * s_ + (1.0f / 6.0f) * p_ + (u5);                                 \
  } while (0)

// ---- filter transforms ---------------------------------------------------------------------------

// g: [3][3][ci][co] (tfjs HWIO) -> U: [36][ci][co]
EXPORT("wino_filter")
void wino_filter(const float *g, float *U, int ci, int co) {
  const int plane = ci * co;
  for (int i = 0; i < ci; i++) {
    for (int o = 0; o < co; o += 4) {
      const float *src = g + i * co + o;
      v4 k[3][3];
      _Pragma("clang loop unroll(full)") for (int a = 0; a < 3; a++)
        _Pragma("clang loop unroll(full)") for (int b = 0; b < 3; b++) k[a][b] = LOAD(src + (a * 3 + b) * plane);
      v4 t[6][3];
      _Pragma("clang loop unroll(full)") for (int b = 0; b < 3; b++) G6(k[0][b], k[1][b], k[2][b], t[0][b], t[1][b], t[2][b], t[3][b], t[4][b], t[5][b]);
      float *dst = U + i * co + o;
      _Pragma("clang loop unroll(full)") for (int a = 0; a < 6; a++) {
        v4 u0, u1, u2, u3, u4, u5;
        G6(t[a][0], t[a][1], t[a][2], u0, u1, u2, u3, u4, u5);
        STORE(dst + (a * 6 + 0) * plane, u0);
        STORE(dst + (a * 6 + 1) * plane, u1);
        STORE(dst + (a * 6 + 2) * plane, u2);
        STORE(dst + (a * 6 + 3) * plane, u3);
        STORE(dst + (a * 6 + 4) * plane, u4);
        STORE(dst + (a * 6 + 5) * plane, u5);
      }
    }
  }
}

// dU: [36][ci][co] -> dg: [3][3][ci][co]
EXPORT("wino_filter_back")
void wino_filter_back(const float *dU, float *dg, int ci, int co) {
  const int plane = ci * co;
  for (int i = 0; i < ci; i++) {
    for (int o = 0; o < co; o += 4) {
      const float *src = dU + i * co + o;
      v4 t[3][6];
      _Pragma("clang loop unroll(full)") for (int b = 0; b < 6; b++) {
        v4 u0 = LOAD(src + (0 * 6 + b) * plane), u1 = LOAD(src + (1 * 6 + b) * plane), u2 = LOAD(src + (2 * 6 + b) * plane);
        v4 u3 = LOAD(src + (3 * 6 + b) * plane), u4 = LOAD(src + (4 * 6 + b) * plane), u5 = LOAD(src + (5 * 6 + b) * plane);
        GT6(u0, u1, u2, u3, u4, u5, t[0][b], t[1][b], t[2][b]);
      }
      float *dst = dg + i * co + o;
      _Pragma("clang loop unroll(full)") for (int a = 0; a < 3; a++) {
        v4 g0, g1, g2;
        GT6(t[a][0], t[a][1], t[a][2], t[a][3], t[a][4], t[a][5], g0, g1, g2);
        STORE(dst + (a * 3 + 0) * plane, g0);
        STORE(dst + (a * 3 + 1) * plane, g1);
        STORE(dst + (a * 3 + 2) * plane, g2);
      }
    }
  }
}

// ---- tile transforms -------------------------------------------------------------------------------

typedef struct {
  int h, w, tH, tW, padT, padL, oh, ow;
} Geometry;

// Input tiles t0 .. t0+tb-1 of x [n][h][w][c] -> V: [36][tb][c]. Tile t = (b * tH + ty) * tW + tx
// reads rows 4*ty - padT .. +5 and columns 4*tx - padL .. +5, zero outside the image.
static inline __attribute__((always_inline)) void input_tiles(const float *x, float *V, const Geometry *q, int c, int t0, int tb) {
  const int per = q->tH * q->tW;
  const int stride = tb * c;
  for (int tt = 0; tt < tb; tt++) {
    const int t = t0 + tt, b = t / per, r = t - b * per, ty = r / q->tW, tx = r - ty * q->tW;
    const int y0 = ty * 4 - q->padT, x0 = tx * 4 - q->padL;
    const float *xb = x + (b * q->h * q->w) * c;
    int rowOk = 0, colOk = 0;  // bit i: row (column) y0 + i (x0 + i) is inside the image
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
      rowOk |= (y0 + i >= 0 && y0 + i < q->h) << i;
      colOk |= (x0 + i >= 0 && x0 + i < q->w) << i;
    }
    const int inside = rowOk == 63 && colOk == 63;
    float *dst = V + tt * c;
    for (int ch = 0; ch < c; ch += 4) {
      v4 d[6][6];
      if (inside) {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++)
          _Pragma("clang loop unroll(full)") for (int j = 0; j < 6; j++) d[i][j] = LOAD(xb + ((y0 + i) * q->w + x0 + j) * c + ch);
      } else {
        _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++)
          _Pragma("clang loop unroll(full)") for (int j = 0; j < 6; j++) d[i][j] = (rowOk >> i & 1) && (colOk >> j & 1) ? LOAD(xb + ((y0 + i) * q->w + x0 + j) * c + ch) : splat(0);
      }
      v4 t[6][6];
      _Pragma("clang loop unroll(full)") for (int j = 0; j < 6; j++) BT6(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]);
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
        v4 v0, v1, v2, v3, v4_, v5;
        BT6(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], v0, v1, v2, v3, v4_, v5);
        float *o = dst + ch + (i * 6) * stride;
        STORE(o, v0);
        STORE(o + stride, v1);
        STORE(o + 2 * stride, v2);
        STORE(o + 3 * stride, v3);
        STORE(o + 4 * stride, v4_);
        STORE(o + 5 * stride, v5);
      }
    }
  }
}

// M: [36][tb][c] -> output tiles of y [n][oh][ow][c] (+ bias[c] when bias != 0), cropped to oh x ow.
static inline __attribute__((always_inline)) void output_tiles(const float *M, float *y, const float *bias, const Geometry *q, int c, int t0, int tb) {
  const int per = q->tH * q->tW;
  const int stride = tb * c;
  for (int tt = 0; tt < tb; tt++) {
    const int t = t0 + tt, b = t / per, r = t - b * per, ty = r / q->tW, tx = r - ty * q->tW;
    const int y0 = ty * 4, x0 = tx * 4;
    const int rows = q->oh - y0 < 4 ? q->oh - y0 : 4, cols = q->ow - x0 < 4 ? q->ow - x0 : 4;
    float *yb = y + (b * q->oh * q->ow) * c;
    const float *src = M + tt * c;
    for (int ch = 0; ch < c; ch += 4) {
      v4 s[4][6];
      _Pragma("clang loop unroll(full)") for (int j = 0; j < 6; j++) {
        const float *p = src + ch + j * stride;
        AT6(LOAD(p), LOAD(p + 6 * stride), LOAD(p + 12 * stride), LOAD(p + 18 * stride), LOAD(p + 24 * stride), LOAD(p + 30 * stride), s[0][j], s[1][j], s[2][j], s[3][j]);
      }
      const v4 bv = bias ? LOAD(bias + ch) : splat(0);
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 4; i++) {
        v4 o0, o1, o2, o3;
        AT6(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], o0, o1, o2, o3);
        float *dst = yb + ((y0 + i) * q->ow + x0) * c + ch;
        if (i < rows) {
          if (cols == 4) {
            STORE(dst, o0 + bv), STORE(dst + c, o1 + bv), STORE(dst + 2 * c, o2 + bv), STORE(dst + 3 * c, o3 + bv);
          } else {
            STORE(dst, o0 + bv);
            if (cols > 1) STORE(dst + c, o1 + bv);
            if (cols > 2) STORE(dst + 2 * c, o2 + bv);
          }
        }
      }
    }
  }
}

// Output-gradient tiles of dy [n][oh][ow][c] (zero beyond oh x ow) -> dM = A dY A^T: [36][tb][c].
static inline __attribute__((always_inline)) void output_grad_tiles(const float *dy, float *dM, const Geometry *q, int c, int t0, int tb) {
  const int per = q->tH * q->tW;
  const int stride = tb * c;
  for (int tt = 0; tt < tb; tt++) {
    const int t = t0 + tt, b = t / per, r = t - b * per, ty = r / q->tW, tx = r - ty * q->tW;
    const int y0 = ty * 4, x0 = tx * 4;
    const int rows = q->oh - y0 < 4 ? q->oh - y0 : 4, cols = q->ow - x0 < 4 ? q->ow - x0 : 4;
    const float *db = dy + (b * q->oh * q->ow) * c;
    float *dst = dM + tt * c;
    for (int ch = 0; ch < c; ch += 4) {
      v4 d[4][4];
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 4; i++)
        _Pragma("clang loop unroll(full)") for (int j = 0; j < 4; j++) d[i][j] = i < rows && j < cols ? LOAD(db + ((y0 + i) * q->ow + x0 + j) * c + ch) : splat(0);
      v4 s[6][4];
      _Pragma("clang loop unroll(full)") for (int j = 0; j < 4; j++) A6(d[0][j], d[1][j], d[2][j], d[3][j], s[0][j], s[1][j], s[2][j], s[3][j], s[4][j], s[5][j]);
      _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
        v4 m0, m1, m2, m3, m4, m5;
        A6(s[i][0], s[i][1], s[i][2], s[i][3], m0, m1, m2, m3, m4, m5);
        float *o = dst + ch + (i * 6) * stride;
        STORE(o, m0);
        STORE(o + stride, m1);
        STORE(o + 2 * stride, m2);
        STORE(o + 3 * stride, m3);
        STORE(o + 4 * stride, m4);
        STORE(o + 5 * stride, m5);
      }
    }
  }
}

// ---- matrix products -------------------------------------------------------------------------------

// C[i][j] (+)= sum_k A[i*sai + k*sak] * B[k*ldb + j], i < m, j < n (n % 4 == 0), k < kk. Blocks of
// 2 rows x 16 columns (8 accumulators), then 8 and 4 columns; A is read through two pointers that step
// by sak, so A may be row-major (sai = lda, sak = 1) or transposed (sai = 1, sak = lda).
#define MK_BEGIN                                                                                      \
  const float *p0 = a0, *p1 = a1;                                                                     \
  const float *bp = B + j;
#define MK_STEP_END p0 += sak, p1 += sak, bp += ldb;

static inline __attribute__((always_inline)) void gemm_rows2(const float *a0, const float *a1, int sak, const float *B, int ldb, float *c0, float *c1,
                                                             int n, int kk, int acc) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    MK_BEGIN
    v4 x0 = splat(0), x1 = splat(0), x2 = splat(0), x3 = splat(0), y0 = splat(0), y1 = splat(0), y2 = splat(0), y3 = splat(0);
    for (int k = 0; k < kk; k++) {
      const v4 b0 = LOAD(bp), b1 = LOAD(bp + 4), b2 = LOAD(bp + 8), b3 = LOAD(bp + 12);
      v4 a = splat(*p0);
      MADD(x0, a, b0), MADD(x1, a, b1), MADD(x2, a, b2), MADD(x3, a, b3);
      a = splat(*p1);
      MADD(y0, a, b0), MADD(y1, a, b1), MADD(y2, a, b2), MADD(y3, a, b3);
      MK_STEP_END
    }
    float *d0 = c0 + j, *d1 = c1 + j;
    if (acc) {
      x0 += LOAD(d0), x1 += LOAD(d0 + 4), x2 += LOAD(d0 + 8), x3 += LOAD(d0 + 12);
      y0 += LOAD(d1), y1 += LOAD(d1 + 4), y2 += LOAD(d1 + 8), y3 += LOAD(d1 + 12);
    }
    STORE(d0, x0), STORE(d0 + 4, x1), STORE(d0 + 8, x2), STORE(d0 + 12, x3);
    STORE(d1, y0), STORE(d1 + 4, y1), STORE(d1 + 8, y2), STORE(d1 + 12, y3);
  }
  for (; j + 4 <= n; j += 4) {
    MK_BEGIN
    v4 x0 = splat(0), y0 = splat(0);
    for (int k = 0; k < kk; k++) {
      const v4 b0 = LOAD(bp);
      MADD(x0, splat(*p0), b0), MADD(y0, splat(*p1), b0);
      MK_STEP_END
    }
    float *d0 = c0 + j, *d1 = c1 + j;
    if (acc) x0 += LOAD(d0), y0 += LOAD(d1);
    STORE(d0, x0), STORE(d1, y0);
  }
}

static void gemm(const float *A, int sai, int sak, const float *B, int ldb, float *C, int ldc, int m, int n, int kk, int acc) {
  int i = 0;
  for (; i + 2 <= m; i += 2) gemm_rows2(A + i * sai, A + (i + 1) * sai, sak, B, ldb, C + i * ldc, C + (i + 1) * ldc, n, kk, acc);
  if (i < m) {
    // the last row of an odd count
    const float *a = A + i * sai;
    float *c = C + i * ldc;
    for (int j = 0; j < n; j += 4) {
      v4 x0 = splat(0);
      const float *p0 = a, *bp = B + j;
      for (int k = 0; k < kk; k++) {
        MADD(x0, splat(*p0), LOAD(bp));
        p0 += sak, bp += ldb;
      }
      if (acc) x0 += LOAD(c + j);
      STORE(c + j, x0);
    }
  }
}

// ---- convolutions ----------------------------------------------------------------------------------

// y [n][oh][ow][co] = conv3x3(x [n][h][w][ci], g) (+ bias), U = wino_filter(g). Scratch V: 36*tb*ci
// floats, M: 36*tb*co floats; tiles are processed tb at a time so that V and M stay in cache.
EXPORT("wino_conv")
void wino_conv(const float *x, const float *U, const float *bias, float *y, float *V, float *M, int n, int h, int w, int ci, int oh, int ow, int co,
               int padT, int padL, int tb) {
  Geometry q = {h, w, (oh + 3) / 4, (ow + 3) / 4, padT, padL, oh, ow};
  const int tiles = n * q.tH * q.tW;
  for (int t0 = 0; t0 < tiles; t0 += tb) {
    const int nb = tiles - t0 < tb ? tiles - t0 : tb;
    input_tiles(x, V, &q, ci, t0, nb);
    for (int xi = 0; xi < 36; xi++) gemm(V + xi * nb * ci, ci, 1, U + xi * ci * co, co, M + xi * nb * co, co, nb, co, ci, 0);
    output_tiles(M, y, bias, &q, co, t0, nb);
  }
}

// dU [36][ci][co] = sum over tiles of V^T dM for the filter gradient of y = conv3x3(x, g) given dy;
// wino_filter_back(dU) is then dL/dg. Scratch as for wino_conv.
EXPORT("wino_filter_grad")
void wino_filter_grad(const float *x, const float *dy, float *dU, float *V, float *dM, int n, int h, int w, int ci, int oh, int ow, int co, int padT,
                      int padL, int tb) {
  Geometry q = {h, w, (oh + 3) / 4, (ow + 3) / 4, padT, padL, oh, ow};
  const int tiles = n * q.tH * q.tW;
  for (int t0 = 0; t0 < tiles; t0 += tb) {
    const int nb = tiles - t0 < tb ? tiles - t0 : tb;
    input_tiles(x, V, &q, ci, t0, nb);
    output_grad_tiles(dy, dM, &q, co, t0, nb);
    for (int xi = 0; xi < 36; xi++) gemm(V + xi * nb * ci, 1, ci, dM + xi * nb * co, co, dU + xi * ci * co, co, ci, co, nb, t0 > 0);
  }
}

// ---- one input channel (the first layer of a grey-image net), any kh x kw, stride 1 -------------------

// xp [n][h + kh - 1][w + kw - 1] = x [n][h][w] placed at (top, left) in zeros ('same' or 'valid').
EXPORT("pad_1ch")
void pad_1ch(const float *x, float *xp, int n, int h, int w, int ph, int pw, int top, int left) {
  for (int b = 0; b < n; b++) {
    float *dst = xp + b * ph * pw;
    const float *src = x + b * h * w;
    for (int r = 0; r < ph; r++) {
      const int sr = r - top;
      for (int c = 0; c < pw; c++) {
        const int sc = c - left;
        dst[r * pw + c] = sr >= 0 && sr < h && sc >= 0 && sc < w ? src[sr * w + sc] : 0.0f;
      }
    }
  }
}

// y [n][oh][ow][co] = sum_{i,j} xp[b][oy + i][ox + j] * g[i][j][co] (+ bias), co % 8 == 0.
EXPORT("conv_1ch")
void conv_1ch(const float *xp, const float *g, const float *bias, float *y, int n, int ph, int pw, int oh, int ow, int co, int kh, int kw) {
  for (int b = 0; b < n; b++) {
    const float *xb = xp + b * ph * pw;
    for (int oy = 0; oy < oh; oy++) {
      float *yr = y + ((b * oh + oy) * ow) * co;
      for (int o = 0; o < co; o += 8) {
        const v4 b0 = bias ? LOAD(bias + o) : splat(0), b1 = bias ? LOAD(bias + o + 4) : splat(0);
        int ox = 0;
        for (; ox + 4 <= ow; ox += 4) {
          v4 c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
          for (int i = 0; i < kh; i++) {
            const float *xr = xb + (oy + i) * pw + ox;
            const float *gr = g + (i * kw) * co + o;
            for (int j = 0; j < kw; j++) {
              const v4 w0 = LOAD(gr + j * co), w1 = LOAD(gr + j * co + 4);
              v4 a = splat(xr[j]);
              MADD(c00, a, w0), MADD(c01, a, w1);
              a = splat(xr[j + 1]);
              MADD(c10, a, w0), MADD(c11, a, w1);
              a = splat(xr[j + 2]);
              MADD(c20, a, w0), MADD(c21, a, w1);
              a = splat(xr[j + 3]);
              MADD(c30, a, w0), MADD(c31, a, w1);
            }
          }
          float *d = yr + ox * co + o;
          STORE(d, c00), STORE(d + 4, c01), STORE(d + co, c10), STORE(d + co + 4, c11);
          STORE(d + 2 * co, c20), STORE(d + 2 * co + 4, c21), STORE(d + 3 * co, c30), STORE(d + 3 * co + 4, c31);
        }
        for (; ox < ow; ox++) {
          v4 c00 = b0, c01 = b1;
          for (int i = 0; i < kh; i++) {
            const float *xr = xb + (oy + i) * pw + ox;
            const float *gr = g + (i * kw) * co + o;
            for (int j = 0; j < kw; j++) {
              const v4 a = splat(xr[j]);
              MADD(c00, a, LOAD(gr + j * co)), MADD(c01, a, LOAD(gr + j * co + 4));
            }
          }
          STORE(yr + ox * co + o, c00), STORE(yr + ox * co + o + 4, c01);
        }
      }
    }
  }
}

// dg [kh][kw][co] = sum_{b,oy,ox} xp[b][oy + i][ox + j] * dy[b][oy][ox][co], co % 8 == 0, kw <= 5
// (taps of one filter row are accumulated in registers; kw < 5 reads past the row into padding
// columns whose sums are dropped, so xp needs kw - 1 >= 0 spare columns: xp rows are pw = ow + kw - 1
// wide and the last reads stay inside the image block of the next row or the scratch's slack).
EXPORT("filter_grad_1ch")
void filter_grad_1ch(const float *xp, const float *dy, float *dg, int n, int ph, int pw, int oh, int ow, int co, int kh, int kw) {
  for (int k = 0; k < kh * kw * co; k += 4) STORE(dg + k, splat(0));
  for (int b = 0; b < n; b++) {
    const float *xb = xp + b * ph * pw;
    for (int oy = 0; oy < oh; oy++) {
      const float *dr = dy + ((b * oh + oy) * ow) * co;
      for (int i = 0; i < kh; i++) {
        const float *xr = xb + (oy + i) * pw;
        float *gr = dg + (i * kw) * co;
        for (int o = 0; o < co; o += 8) {
          v4 a00 = splat(0), a01 = splat(0), a10 = splat(0), a11 = splat(0), a20 = splat(0), a21 = splat(0);
          v4 a30 = splat(0), a31 = splat(0), a40 = splat(0), a41 = splat(0);
          for (int ox = 0; ox < ow; ox++) {
            const v4 d0 = LOAD(dr + ox * co + o), d1 = LOAD(dr + ox * co + o + 4);
            const float *xs = xr + ox;
            v4 a = splat(xs[0]);
            MADD(a00, a, d0), MADD(a01, a, d1);
            a = splat(xs[1]);
            MADD(a10, a, d0), MADD(a11, a, d1);
            a = splat(xs[2]);
            MADD(a20, a, d0), MADD(a21, a, d1);
            a = splat(xs[3]);
            a30 += a * d0, a31 += a * d1;
            a = splat(xs[4]);
            a40 += a * d0, a41 += a * d1;
          }
          float *d = gr + o;
          STORE(d, LOAD(d) + a00), STORE(d + 4, LOAD(d + 4) + a01);
          if (kw > 1) STORE(d + co, LOAD(d + co) + a10), STORE(d + co + 4, LOAD(d + co + 4) + a11);
          if (kw > 2) STORE(d + 2 * co, LOAD(d + 2 * co) + a20), STORE(d + 2 * co + 4, LOAD(d + 2 * co + 4) + a21);
          if (kw > 3) STORE(d + 3 * co, LOAD(d + 3 * co) + a30), STORE(d + 3 * co + 4, LOAD(d + 3 * co + 4) + a31);
          if (kw > 4) STORE(d + 4 * co, LOAD(d + 4 * co) + a40), STORE(d + 4 * co + 4, LOAD(d + 4 * co + 4) + a41);
        }
      }
    }
  }
}

// ---- Adam, one pass over a weight tensor (tfjs's AdamOptimizer, same operation order) --------------

// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w += -lr (m / c1) / (sqrt(v / c2) + eps), with
// c1 = 1 - b1^t and c2 = 1 - b2^t, from (w, m, v) into (wo, mo, vo) (which may be the same buffers).
EXPORT("adam_update")
void adam_update(const float *w, const float *m, const float *v, const float *g, float *wo, float *mo, float *vo, int n, float b1, float b2, float lr,
                 float eps, float c1, float c2) {
  const v4 B1 = splat(b1), B2 = splat(b2), A1 = splat(1.0f - b1), A2 = splat(1.0f - b2), C1 = splat(c1), C2 = splat(c2), E = splat(eps), L = splat(-lr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v4 gi = LOAD(g + i);
    const v4 mi = LOAD(m + i) * B1 + gi * A1;
    const v4 vi = LOAD(v + i) * B2 + (gi * gi) * A2;
    const v4 root = (v4)wasm_f32x4_sqrt((v128_t)(vi / C2));
    STORE(wo + i, (mi / C1) / (root + E) * L + LOAD(w + i));
    STORE(mo + i, mi);
    STORE(vo + i, vi);
  }
  for (; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * (1.0f - b1);
    const float vi = v[i] * b2 + (gi * gi) * (1.0f - b2);
    wo[i] = (mi / c1) / (__builtin_sqrtf(vi / c2) + eps) * -lr + w[i];
    mo[i] = mi;
    vo[i] = vi;
  }
}

// dst [rows][c] = scale * src [c] on every row (the gradient of a mean over all axes but the last).
EXPORT("broadcast_rows")
void broadcast_rows(const float *src, float *dst, int rows, int c, float scale) {
  for (int r = 0; r < rows; r++) {
    float *d = dst + r * c;
    int j = 0;
    for (; j + 4 <= c; j += 4) STORE(d + j, LOAD(src + j) * splat(scale));
    for (; j < c; j++) d[j] = src[j] * scale;
  }
}

// ---- dense layers ---------------------------------------------------------------------------------

// C [m][n] = op(A) B (+ bias [n]), B [k][n], op(A) = A [m][k] or, transposed, A [k][m]; n % 4 == 0.
EXPORT("matmul")
void matmul(const float *A, const float *B, const float *bias, float *C, int m, int n, int k, int transA) {
  if (transA)
    gemm(A, 1, m, B, n, C, n, m, n, k, 0);
  else
    gemm(A, k, 1, B, n, C, n, m, n, k, 0);
  if (bias)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j += 4) STORE(C + i * n + j, LOAD(C + i * n + j) + LOAD(bias + j));
}

// dst [cols][rows] = src [rows][cols]^T, in 8 x 8 blocks.
EXPORT("transpose2d")
void transpose2d(const float *src, float *dst, int rows, int cols) {
  for (int r0 = 0; r0 < rows; r0 += 8)
    for (int c0 = 0; c0 < cols; c0 += 8) {
      const int r1 = r0 + 8 < rows ? r0 + 8 : rows, c1 = c0 + 8 < cols ? c0 + 8 : cols;
      for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c];
    }
}
