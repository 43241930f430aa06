// vecmath.h — arithmetic written for the CPU's vector units (4 or 8 floats at
// once), for the loops where the time goes:
//
//     VEC_CLONES        compile a function for plain x86-64 and for AVX2, pick at start
//     float8            eight floats as one value
//     vec_expf(x)       e^x, within 2 ulp; 0 below -87, e^88 above 88
//     vec_erff(x)       erf(x), |error| < 2e-7 (vec_erff_given_exp: with e^(-x^2) given)
//     small_matmul(...) C = A B for products too small for BLAS, in registers
//
// libm's expf and erff are exact to about an ulp but are calls the compiler cannot
// vectorise; vec_expf and vec_erff are straight-line arithmetic without calls or
// branches (the clamps become min/max), so a loop of them runs 4 or 8 at a time.
// tests/test_vecmath.c holds them to double precision, and small_matmul to matmul_reference.
#ifndef VECMATH_H
#define VECMATH_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// VEC_CLONES before a function has the compiler build it twice, for any x86-64
// (SSE2, 4 floats a vector) and for CPUs with AVX2 (8 floats), and the program
// picks the version for its CPU when it starts (target_clones): one binary that
// runs everywhere and uses the wider vectors where they exist.
// (gcc only: clang 14 emits the clones but no symbol under the plain name.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VEC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VEC_CLONES
#endif

// VEC_INLINE: always inlined, so that it runs with the vectors of the (VEC_CLONES)
// function that calls it rather than as a separate plain x86-64 function.
#define VEC_INLINE __attribute__((always_inline)) static inline

// Eight floats as one value, GCC's and Clang's vector extension: + - * work lane
// by lane, a float mixed in stands for eight copies of itself, v[u] is lane u.
// *(float8 *)p reads or writes p[0..7] of any float array (may_alias, aligned(4)).
typedef float float8 __attribute__((vector_size(32), aligned(4), may_alias));

// e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2)/2, where a degree-6
// polynomial is accurate to float precision (Cephes' expf coefficients).
VEC_INLINE float vec_expf(float x) {
    float tiny = x < -87.0f ? 0.0f : 1.0f; // e^x is below the normal floats: 0
    x = x < -87.0f ? -87.0f : x;           // keeps 2^n a normal float
    x = x > 88.0f ? 88.0f : x;
    // n = round(x / ln 2): adding 1.5 * 2^23 drops the fraction bits and leaves n, as an
    // integer, in the low bits of the sum; subtracting it again gives n as a float
    float shifted = x * 1.44269504088896341f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f; // x - n ln2, ln2 split in two parts
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f; // e^r
    // 2^n built from its bits: exponent field n + 127, fraction 0
    uint32_t bits;
    memcpy(&bits, &shifted, sizeof bits); // 0x4B400000 + n
    bits = (bits - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale * tiny;
}

// erf(x), odd. For |x| < 1, x P(x^2) with P of degree 5 fitted to erf(x)/x on [0, 1]
// (weighted least squares, largest error 2e-8). Beyond, Abramowitz and Stegun 7.1.26
// (the approximation PyTorch's vectorised erf uses, |error| <= 1.5e-7):
//     erf(x) = 1 - t (a1 + a2 t + ... + a5 t^4) e^(-x^2),  t = 1 / (1 + 0.3275911 x).
// Near 0 that form subtracts two numbers close to 1, which costs float precision; the
// polynomial does not. Both are computed and one is kept, so the loop has no branch.
// vec_erff_given_exp takes e^(-x^2) from the caller (GELU's derivative needs it too).
VEC_INLINE float vec_erff_given_exp(float x, float exp_minus_x2) {
    float ax = fabsf(x), s = x * x;
    float p = -5.462928093e-04f;
    p = p * s + 4.870703444e-03f;
    p = p * s - 2.666381001e-02f;
    p = p * s + 1.127806455e-01f;
    p = p * s - 3.761194050e-01f;
    p = p * s + 1.128378868e+00f;
    float t = 1.0f / (1.0f + 0.3275911f * ax);
    float y = 1.061405429f;
    y = y * t - 1.453152027f;
    y = y * t + 1.421413741f;
    y = y * t - 0.284496736f;
    y = y * t + 0.254829592f;
    float tail = copysignf(1.0f - y * t * exp_minus_x2, x);
    return ax < 1.0f ? x * p : tail;
}

VEC_INLINE float vec_erff(float x) {
    return vec_erff_given_exp(x, vec_expf(-x * x));
}

// ---- small matrix products in registers ------------------------------------------

// Products too small for BLAS (attention's 17x17x16: a BLAS call costs more in setup
// than in arithmetic) are done as BLAS does them: C in strips of 8 columns, 4 rows
// at a time, the 4x8 sums held in registers (float8) while k runs.
//     C[i][j] = C[i * ldc + j]       (M,N)
//     A[i][k] = A[i * ai + k * ak]   (M,K): ai = K, ak = 1 for a row-major A; ai = 1,
//                                    ak = M for one stored transposed
//     B[k][j] = B[k * ldb + j]       (K,N), each row readable up to N rounded up to 8
// small_pack_b makes such a B from one stored (N,K), or with N not a multiple of 8.
enum { SMALL_PACKED = 4096 }; // floats of a packed B at most: K * (N rounded up to 8)

VEC_INLINE int round_up8(int n) {
    return (n + 7) / 8 * 8;
}

// Whether one attention head, T tokens of width hs, suits small_matmul: hs a multiple
// of 8 (q, k, v rows read in place) and its T keys, packed, within SMALL_PACKED.
VEC_INLINE bool small_head_fits(int T, int hs) {
    return hs % 8 == 0 && hs * round_up8(T) <= SMALL_PACKED;
}

// bp (K, round_up8(N)) = scale * B (K,N), or scale * B^T for B stored (N,K) (bt), rows
// of B ld apart; columns N.. zero.
VEC_INLINE void small_pack_b(float *restrict bp, const float *restrict B, int ld, int N, int K,
                             bool bt, float scale) {
    int ldb = round_up8(N);
    size_t sj = bt ? (size_t)ld : 1, sk = bt ? 1 : (size_t)ld; // B[k][j] is B[j * sj + k * sk]
    for (int k = 0; k < K; k++) {
        float *row = bp + (size_t)k * ldb; // (ldb)
        for (int j = 0; j < N; j++) row[j] = scale * B[j * sj + k * sk];
        for (int j = N; j < ldb; j++) row[j] = 0.0f;
    }
}

// c (w <= 8) = v, or += v
VEC_INLINE void small_store(float *c, int w, const float8 *v, bool accumulate) {
    if (w < 8)
        for (int u = 0; u < w; u++) c[u] = accumulate ? c[u] + (*v)[u] : (*v)[u];
    else if (accumulate)
        *(float8 *)c += *v;
    else
        *(float8 *)c = *v;
}

// Rows i..i+3 of a strip: a = &A[i][0], b = &B[0][j], c = &C[i][j]; w columns kept.
VEC_INLINE void small_strip_4x8(float *c, int ldc, int w, const float *a, int ai, int ak,
                                const float *b, int ldb, int K, bool accumulate) {
    float8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
    for (int k = 0; k < K; k++) {
        float8 bk = *(const float8 *)(b + (size_t)k * ldb); // B[k][j..j+7]
        const float *ak0 = a + (size_t)k * ak;              // A[i][k]; A[i+1][k] is ai on
        c0 += ak0[0] * bk;
        c1 += ak0[ai] * bk;
        c2 += ak0[2 * ai] * bk;
        c3 += ak0[3 * ai] * bk;
    }
    small_store(c, w, &c0, accumulate);
    small_store(c + ldc, w, &c1, accumulate);
    small_store(c + 2 * ldc, w, &c2, accumulate);
    small_store(c + 3 * ldc, w, &c3, accumulate);
}

// Two strips side by side (16 columns, all kept): eight sums in flight instead of
// four, enough to keep the multiply-add units busy while each sum waits for its last.
// Every element is summed as in small_strip_4x8, so the bits are the same.
VEC_INLINE void small_strip_4x16(float *c, int ldc, const float *a, int ai, int ak, const float *b,
                                 int ldb, int K, bool accumulate) {
    float8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0}, d0 = {0}, d1 = {0}, d2 = {0}, d3 = {0};
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb; // B[k][j..j+15]
        float8 b0 = *(const float8 *)bk, b1 = *(const float8 *)(bk + 8);
        const float *ak0 = a + (size_t)k * ak;
        float a0 = ak0[0], a1 = ak0[ai], a2 = ak0[2 * ai], a3 = ak0[3 * ai];
        c0 += a0 * b0, d0 += a0 * b1;
        c1 += a1 * b0, d1 += a1 * b1;
        c2 += a2 * b0, d2 += a2 * b1;
        c3 += a3 * b0, d3 += a3 * b1;
    }
    float8 *sums[4][2] = {{&c0, &d0}, {&c1, &d1}, {&c2, &d2}, {&c3, &d3}};
    for (int r = 0; r < 4; r++) {
        small_store(c + (size_t)r * ldc, 8, sums[r][0], accumulate);
        small_store(c + (size_t)r * ldc + 8, 8, sums[r][1], accumulate);
    }
}

// One row of a strip.
VEC_INLINE void small_strip_1x8(float *c, int w, const float *a, int ak, const float *b, int ldb,
                                int K, bool accumulate) {
    float8 c0 = {0};
    for (int k = 0; k < K; k++) c0 += a[(size_t)k * ak] * *(const float8 *)(b + (size_t)k * ldb);
    small_store(c, w, &c0, accumulate);
}

// One row of two strips.
VEC_INLINE void small_strip_1x16(float *c, const float *a, int ak, const float *b, int ldb, int K,
                                 bool accumulate) {
    float8 c0 = {0}, d0 = {0};
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb;
        float ak0 = a[(size_t)k * ak];
        c0 += ak0 * *(const float8 *)bk, d0 += ak0 * *(const float8 *)(bk + 8);
    }
    small_store(c, 8, &c0, accumulate);
    small_store(c + 8, 8, &d0, accumulate);
}

// C in strips of 16 columns while they last, then of 8 (the last one maybe partial).
VEC_INLINE void small_matmul(float *C, int ldc, const float *A, int ai, int ak, const float *B,
                             int ldb, int M, int N, int K, bool accumulate) {
    for (int j = 0; j < N;) {
        int w = N - j < 8 ? N - j : 8, i = 0;
        bool wide = N - j >= 16; // two full strips at once
        for (; i + 4 <= M; i += 4)
            if (wide)
                small_strip_4x16(C + (size_t)i * ldc + j, ldc, A + (size_t)i * ai, ai, ak, B + j,
                                 ldb, K, accumulate);
            else
                small_strip_4x8(C + (size_t)i * ldc + j, ldc, w, A + (size_t)i * ai, ai, ak, B + j,
                                ldb, K, accumulate);
        for (; i < M; i++)
            if (wide)
                small_strip_1x16(C + (size_t)i * ldc + j, A + (size_t)i * ai, ak, B + j, ldb, K,
                                 accumulate);
            else
                small_strip_1x8(C + (size_t)i * ldc + j, w, A + (size_t)i * ai, ak, B + j, ldb, K,
                                accumulate);
        j += wide ? 16 : 8;
    }
}

#endif
