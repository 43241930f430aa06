// conv2d_gemm.c — the convolution as matrix products: im2col, which lays the
// windows of an image out as columns, its adjoint col2im, which adds columns
// back into an image (the backward pass needs it), and the forward pass, one
// product per image.
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

// cols (Cin·K·K, Ho·Wo) from image (Cin,H,W): row (c,ky,kx), column (i,j) is
// the input pixel under kernel tap (ky,kx) when the window's top left corner is
// at (i·stride - pad, j·stride - pad); zero outside the image.
void conv2d_im2col(float *cols, const float *image, int Cin, int H, int W, int K, int stride,
                   int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    for (int c = 0; c < Cin; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                float *row = cols + (((size_t)c * K + ky) * K + kx) * Ho * Wo; // (Ho,Wo)
                int j0, j1;
                inside(&j0, &j1, Wo, W, kx - pad, stride);
                for (int i = 0; i < Ho; i++) {
                    float *out = row + (size_t)i * Wo; // (Wo)
                    int y = i * stride - pad + ky;
                    if (y < 0 || y >= H) {
                        memset(out, 0, (size_t)Wo * sizeof(float));
                        continue;
                    }
                    const float *in = image + ((size_t)c * H + y) * W; // (W)
                    for (int j = 0; j < j0; j++) out[j] = 0.0f;
                    for (int j = j0; j < j1; j++) out[j] = in[j * stride + kx - pad];
                    for (int j = j1; j < Wo; j++) out[j] = 0.0f;
                }
            }
}

// image (Cin,H,W) += the columns cols (Cin·K·K, Ho·Wo) added back where
// conv2d_im2col took them from; what fell on the padding is dropped.
void conv2d_col2im(float *image, const float *cols, int Cin, int H, int W, int K, int stride,
                   int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    for (int c = 0; c < Cin; c++)
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
                const float *row = cols + (((size_t)c * K + ky) * K + kx) * Ho * Wo; // (Ho,Wo)
                int j0, j1;
                inside(&j0, &j1, Wo, W, kx - pad, stride);
                for (int i = 0; i < Ho; i++) {
                    int y = i * stride - pad + ky;
                    if (y < 0 || y >= H) continue;
                    float *out = image + ((size_t)c * H + y) * W; // (W)
                    const float *in = row + (size_t)i * Wo;       // (Wo)
                    for (int j = j0; j < j1; j++) out[j * stride + kx - pad] += in[j];
                }
            }
}

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
