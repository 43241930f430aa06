// conv2d_gemm.c — the convolution as matrix products: im2col, which lays the
// windows of an image out as columns, its adjoint col2im, which adds columns
// back into an image (the backward pass needs it), each also for a chunk of
// images side by side; and the forward pass, one product per image or per
// chunk.
#include "conv2d_gemm.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include "conv2d.h"
#include "matmul.h"

// A 1x1 kernel with stride 1 and no padding: the columns are the image itself.
static bool columns_are_the_image(int K, int stride, int pad) {
    return K == 1 && stride == 1 && pad == 0;
}

size_t conv2d_gemm_scratch_floats(int Cin, int H, int W, int K, int stride, int pad) {
    if (columns_are_the_image(K, stride, pad)) return 0;
    size_t Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    return (size_t)Cin * K * K * Ho * Wo;
}

// The outputs o in [*lo, *hi) of a row of n_out whose input o·stride + offset
// falls inside the n inputs; those outside read the zero padding.
static void inside(int *lo, int *hi, int n_out, int n, int offset, int stride) {
    *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    *hi = n - 1 - offset < 0 ? 0 : (n - 1 - offset) / stride + 1;
    if (*hi > n_out) *hi = n_out;
    if (*lo > *hi) *lo = *hi;
}

// One row of the columns, out (Ho,Wo), from one channel's plane (H,W): the
// pixel (i·stride + y0, j·stride + x0) at (i,j) for i in [i0,i1) and j in
// [j0,j1), the rows and columns that fall inside; zero elsewhere. Plain loops,
// no calls: a row may be as short as 2.
static void tap_row(float *restrict out, const float *restrict plane, int W, int Ho, int Wo,
                    int stride, int y0, int x0, int i0, int i1, int j0, int j1) {
    for (int p = 0; p < i0 * Wo; p++) out[p] = 0.0f;
    for (int i = i0; i < i1; i++) {
        float *o = out + (size_t)i * Wo;                              // (Wo)
        const float *in = plane + (size_t)(i * stride + y0) * W + x0; // (W)
        for (int j = 0; j < j0; j++) o[j] = 0.0f;
        for (int j = j0; j < j1; j++) o[j] = in[j * stride];
        for (int j = j1; j < Wo; j++) o[j] = 0.0f;
    }
    for (int p = i1 * Wo; p < Ho * Wo; p++) out[p] = 0.0f;
}

// The rows of conv2d_im2col, each ld floats after the one before: row
// (c,ky,kx), column (i,j) is the pixel (i·stride - pad + ky, j·stride - pad + kx)
// of channel c, zero outside the image. The ranges of i and j that fall inside
// depend on the tap only, so they are found once for every channel.
static void im2col_rows(float *cols, size_t ld, const float *image, int Cin, int H, int W, int K,
                        int stride, int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    if (columns_are_the_image(K, stride, pad)) { // row c is channel c
        for (int c = 0; c < Cin; c++)
            memcpy(cols + c * ld, image + (size_t)c * H * W, (size_t)H * W * sizeof(float));
        return;
    }
    for (int ky = 0; ky < K; ky++) {
        int i0, i1;
        inside(&i0, &i1, Ho, H, ky - pad, stride);
        for (int kx = 0; kx < K; kx++) {
            int j0, j1;
            inside(&j0, &j1, Wo, W, kx - pad, stride);
            for (int c = 0; c < Cin; c++)
                tap_row(cols + ((size_t)c * K * K + ky * K + kx) * ld, image + (size_t)c * H * W, W,
                        Ho, Wo, stride, ky - pad, kx - pad, i0, i1, j0, j1);
        }
    }
}

// tap_row's adjoint: plane (H,W) += the row in (Ho,Wo), each element added to
// the pixel tap_row took it from; what fell on the padding is dropped.
static void tap_row_add(float *restrict plane, const float *restrict in, int W, int Wo, int stride,
                        int y0, int x0, int i0, int i1, int j0, int j1) {
    for (int i = i0; i < i1; i++) {
        const float *r = in + (size_t)i * Wo;                    // (Wo)
        float *out = plane + (size_t)(i * stride + y0) * W + x0; // (W)
        for (int j = j0; j < j1; j++) out[j * stride] += r[j];
    }
}

// image (Cin,H,W) += the rows of columns, ld floats apart, added back where
// im2col_rows took them from.
static void col2im_rows(float *image, const float *cols, size_t ld, int Cin, int H, int W, int K,
                        int stride, int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    if (columns_are_the_image(K, stride, pad)) { // row c is channel c
        for (int c = 0; c < Cin; c++) {
            float *plane = image + (size_t)c * H * W; // (H·W)
            const float *row = cols + c * ld;
            for (int i = 0; i < H * W; i++) plane[i] += row[i];
        }
        return;
    }
    for (int ky = 0; ky < K; ky++) {
        int i0, i1;
        inside(&i0, &i1, Ho, H, ky - pad, stride);
        for (int kx = 0; kx < K; kx++) {
            int j0, j1;
            inside(&j0, &j1, Wo, W, kx - pad, stride);
            for (int c = 0; c < Cin; c++)
                tap_row_add(image + (size_t)c * H * W,
                            cols + ((size_t)c * K * K + ky * K + kx) * ld, W, Wo, stride, ky - pad,
                            kx - pad, i0, i1, j0, j1);
        }
    }
}

void conv2d_im2col(float *cols, const float *image, int Cin, int H, int W, int K, int stride,
                   int pad) {
    // cols (Cin·K·K, Ho·Wo), image (Cin,H,W)
    size_t P = (size_t)conv2d_out_size(H, K, stride, pad) * conv2d_out_size(W, K, stride, pad);
    im2col_rows(cols, P, image, Cin, H, W, K, stride, pad);
}

void conv2d_col2im(float *image, const float *cols, int Cin, int H, int W, int K, int stride,
                   int pad) {
    // image (Cin,H,W) +=, cols (Cin·K·K, Ho·Wo)
    size_t P = (size_t)conv2d_out_size(H, K, stride, pad) * conv2d_out_size(W, K, stride, pad);
    col2im_rows(image, cols, P, Cin, H, W, K, stride, pad);
}

// region: conv2d-gemm-forward
void conv2d_gemm_forward(float *out, float *scratch, const float *in, const float *weight,
                         const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                         int stride, int pad) {
    // out (B,Cout,Ho,Wo), scratch (conv2d_gemm_scratch_floats), in (B,Cin,H,W),
    // weight (Cout,Cin,K,K) seen as (Cout, Cin·K·K), bias (Cout) or NULL
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    int P = Ho * Wo, R = Cin * K * K; // output positions, rows of the columns
    bool direct = columns_are_the_image(K, stride, pad);
    assert(direct || scratch != NULL);
    for (int b = 0; b < B; b++) {
        const float *image = in + (size_t)b * Cin * H * W; // (Cin,H,W)
        float *o = out + (size_t)b * Cout * P;             // (Cout,P)
        const float *cols = image;                         // (R,P)
        if (!direct) {
            conv2d_im2col(scratch, image, Cin, H, W, K, stride, pad);
            cols = scratch;
        }
        if (bias != NULL)
            for (int c = 0; c < Cout; c++)
                for (int p = 0; p < P; p++) o[(size_t)c * P + p] = bias[c];
        matmul(o, weight, cols, Cout, P, R, bias != NULL ? MATMUL_ACCUMULATE : 0); // weight · cols
    }
}
// endregion: conv2d-gemm-forward

// ---- a chunk of images per product ----

int conv2d_gemm_chunk(int Ho, int Wo) {
    int n = 1;
    while ((long)n * Ho * Wo < CONV2D_GEMM_COLUMNS || n * Ho * Wo % 16 != 0) n *= 2;
    return n;
}

size_t conv2d_gemm_chunk_scratch_floats(int Cin, int H, int W, int Cout, int K, int stride,
                                        int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    size_t N = (size_t)conv2d_gemm_chunk(Ho, Wo) * Ho * Wo; // a chunk's columns
    return ((size_t)Cin * K * K + Cout) * N;
}

void conv2d_im2col_chunk(float *cols, const float *images, int m, int n, int Cin, int H, int W,
                         int K, int stride, int pad) {
    // cols (Cin·K·K, n·P), images (m,Cin,H,W), P = Ho·Wo
    size_t P = (size_t)conv2d_out_size(H, K, stride, pad) * conv2d_out_size(W, K, stride, pad);
    size_t ld = (size_t)n * P, R = (size_t)Cin * K * K;
    for (int j = 0; j < m; j++)
        im2col_rows(cols + j * P, ld, images + (size_t)j * Cin * H * W, Cin, H, W, K, stride, pad);
    if (m < n)
        for (size_t r = 0; r < R; r++)
            memset(cols + r * ld + m * P, 0, (n - m) * P * sizeof(float));
}

void conv2d_col2im_chunk(float *images, const float *cols, int m, int n, int Cin, int H, int W,
                         int K, int stride, int pad) {
    // images (m,Cin,H,W) +=, cols (Cin·K·K, n·P)
    size_t P = (size_t)conv2d_out_size(H, K, stride, pad) * conv2d_out_size(W, K, stride, pad);
    for (int j = 0; j < m; j++)
        col2im_rows(images + (size_t)j * Cin * H * W, cols + j * P, (size_t)n * P, Cin, H, W, K,
                    stride, pad);
}

// out (m,Cout,P) = the m images' columns of a chunk's product prod (Cout, n·P),
// plus bias (Cout) when not NULL.
static void chunk_output(float *restrict out, const float *restrict prod, const float *bias, int m,
                         int n, int Cout, int P) {
    size_t N = (size_t)n * P;
    for (int j = 0; j < m; j++)
        for (int c = 0; c < Cout; c++) {
            float *o = out + ((size_t)j * Cout + c) * P;           // (P)
            const float *p = prod + (size_t)c * N + (size_t)j * P; // (P)
            float b = bias != NULL ? bias[c] : 0.0f; // an add: not a memcpy call per P floats
            for (int i = 0; i < P; i++) o[i] = b + p[i];
        }
}

void conv2d_gemm_chunked_forward(float *out, float *scratch, const float *in, const float *weight,
                                 const float *bias, int B, int Cin, int H, int W, int Cout, int K,
                                 int stride, int pad) {
    // out (B,Cout,Ho,Wo), scratch (conv2d_gemm_chunk_scratch_floats), in (B,Cin,H,W),
    // weight (Cout, Cin·K·K), bias (Cout) or NULL
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    int P = Ho * Wo, R = Cin * K * K, n = conv2d_gemm_chunk(Ho, Wo), N = n * P;
    float *cols = scratch, *prod = scratch + (size_t)R * N; // (R,N), (Cout,N)
    for (int b0 = 0; b0 < B; b0 += n) {
        int m = B - b0 < n ? B - b0 : n; // images in this chunk
        conv2d_im2col_chunk(cols, in + (size_t)b0 * Cin * H * W, m, n, Cin, H, W, K, stride, pad);
        matmul(prod, weight, cols, Cout, N, R, MATMUL_BY_COLUMN); // weight · cols
        chunk_output(out + (size_t)b0 * Cout * P, prod, bias, m, n, Cout, P);
    }
}
