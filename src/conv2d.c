// conv2d.c — 2D convolution as PyTorch computes it (cross-correlation: the
// kernel is not flipped), with stride and zero padding, in direct loops.
#include "conv2d.h"

#include <assert.h>
#include <stddef.h>

int conv2d_out_size(int H, int K, int stride, int pad) {
    assert(K > 0 && stride > 0 && pad >= 0 && H + 2 * pad >= K);
    return (H + 2 * pad - K) / stride + 1;
}

// region: conv2d-pixel
// One output value: the kernel of output channel o laid over the input
// (Cin,H,W) with its top left corner at (top,left); outside the image is 0.
static float conv2d_at(const float *in, const float *weight, int Cin, int H, int W, int K, int o,
                       int top, int left) {
    float sum = 0.0f;
    for (int c = 0; c < Cin; c++)
        for (int ky = 0; ky < K; ky++) {
            int y = top + ky;
            if (y < 0 || y >= H) continue;
            const float *image_row = in + ((size_t)c * H + y) * W;                   // (W)
            const float *kernel_row = weight + (((size_t)o * Cin + c) * K + ky) * K; // (K)
            for (int kx = 0; kx < K; kx++) {
                int x = left + kx;
                if (x >= 0 && x < W) sum += image_row[x] * kernel_row[kx];
            }
        }
    return sum;
}
// endregion: conv2d-pixel

// region: conv2d-forward
void conv2d_forward(float *out, const float *in, const float *weight, const float *bias, int B,
                    int Cin, int H, int W, int Cout, int K, int stride, int pad) {
    // out (B,Cout,Ho,Wo), in (B,Cin,H,W), weight (Cout,Cin,K,K), bias (Cout) or NULL
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    for (int b = 0; b < B; b++) {
        const float *image = in + (size_t)b * Cin * H * W; // (Cin,H,W)
        for (int o = 0; o < Cout; o++) {
            float *plane = out + ((size_t)b * Cout + o) * Ho * Wo; // (Ho,Wo)
            for (int i = 0; i < Ho; i++)
                for (int j = 0; j < Wo; j++)
                    plane[i * Wo + j] = conv2d_at(image, weight, Cin, H, W, K, o, i * stride - pad,
                                                  j * stride - pad) +
                                        (bias ? bias[o] : 0.0f);
        }
    }
}
// endregion: conv2d-forward
