// maxpool.c — max pooling, one plane (B·C of them) at a time, the planes shared
// out among the threads.
#include "maxpool.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include "conv2d.h"

// The largest value of plane (H,W) in the window whose top left corner is at
// (top,left), clipped to the image; its index y·W + x into *at. Scanned row by
// row, a value replaces the best so far only if larger (ties keep the first)
// or NaN, as torch's CPU kernel.
static float window_max(int *at, const float *plane, int H, int W, int K, int top, int left) {
    int y0 = top < 0 ? 0 : top, y1 = top + K < H ? top + K : H;
    int x0 = left < 0 ? 0 : left, x1 = left + K < W ? left + K : W;
    float best = -INFINITY;
    int best_at = y0 * W + x0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            float v = plane[y * W + x];
            if (v > best || isnan(v)) {
                best = v;
                best_at = y * W + x;
            }
        }
    *at = best_at;
    return best;
}

void maxpool_forward(float *out, int *argmax, const float *in, int B, int C, int H, int W, int K,
                     int stride, int pad) {
    // out (B,C,Ho,Wo), argmax (B,C,Ho,Wo) or NULL, in (B,C,H,W)
    assert(pad <= K / 2);
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
#pragma omp parallel for schedule(static)
    for (int bc = 0; bc < B * C; bc++) {
        const float *plane = in + (size_t)bc * H * W; // (H,W)
        for (int i = 0; i < Ho; i++)
            for (int j = 0; j < Wo; j++) {
                size_t o = ((size_t)bc * Ho + i) * Wo + j;
                int at;
                out[o] = window_max(&at, plane, H, W, K, i * stride - pad, j * stride - pad);
                if (argmax != NULL) argmax[o] = at;
            }
    }
}
