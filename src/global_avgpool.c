// global_avgpool.c — the mean of each plane, the planes shared out among the threads.
#include "global_avgpool.h"

#include <stddef.h>

void global_avgpool_forward(float *out, const float *in, int B, int C, int H, int W) {
    // out (B,C), in (B,C,H,W)
    int HW = H * W;
#pragma omp parallel for schedule(static)
    for (int bc = 0; bc < B * C; bc++) {
        const float *plane = in + (size_t)bc * HW; // (H,W)
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < HW; i++) sum += plane[i];
        out[bc] = sum / HW;
    }
}
