// maxpool_backward.c — max pooling's gradient goes to the one input each
// window chose, the planes shared out among the threads.
#include "maxpool.h"

#include <stddef.h>
#include "conv2d.h"

void maxpool_backward(float *din, const float *dout, const int *argmax, int B, int C, int H, int W,
                      int K, int stride, int pad) {
    // din (B,C,H,W) +=, dout (B,C,Ho,Wo), argmax (B,C,Ho,Wo)
    // forward: out = in[argmax], the largest value of the window
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
#pragma omp parallel for schedule(static)
    for (int bc = 0; bc < B * C; bc++) {
        float *plane = din + (size_t)bc * H * W; // (H,W)
        for (int o = bc * Ho * Wo; o < (bc + 1) * Ho * Wo; o++) plane[argmax[o]] += dout[o];
    }
}
