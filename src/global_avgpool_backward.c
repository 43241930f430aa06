// global_avgpool_backward.c — the mean's gradient, spread evenly over its plane.
#include "global_avgpool.h"

#include <stddef.h>

void global_avgpool_backward(float *din, const float *dout, int B, int C, int H, int W) {
    // din (B,C,H,W) +=, dout (B,C)
    // forward: out = Σ in / (H·W)   over each plane
    int HW = H * W;
#pragma omp parallel for schedule(static)
    for (int bc = 0; bc < B * C; bc++) {
        float *plane = din + (size_t)bc * HW, share = dout[bc] / HW; // (H,W), one position's part
#pragma omp simd
        for (int i = 0; i < HW; i++) plane[i] += share;
    }
}
